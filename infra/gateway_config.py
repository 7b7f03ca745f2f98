"""The hybrid gateway's configuration: LiteLLM's proxy config rendered from the stack spec (pure, no Pulumi).

The program (`infra/components/gateway.py`) mounts `render_config_yaml(...)` from a ConfigMap and passes
the provider keys as environment variables named by `provider_key_env`; the real-proxy tests
(`tests/gateway/`) start LiteLLM with the very same rendered text, service addresses substituted.

FIRST DRAFT (interface for issue 14's parallel work): the rendering rules are settled by the real-proxy
tests; names here (`render_config`, `render_config_yaml`, `provider_key_env`, the constants) are the
interface the program relies on.
"""

from __future__ import annotations

import re
from typing import Any

from infra.spec.models import SELF_HOSTED, StackSpec

GATEWAY_PORT = 4000
"""The port LiteLLM's proxy listens on (its documented default)."""
VLLM_KEY_ENV = "VLLM_API_KEY"
"""The environment variable holding vLLM's API key, which the gateway sends to the self-hosted fleet."""
MASTER_KEY_ENV = "LITELLM_MASTER_KEY"
"""The environment variable holding the key clients send to the gateway."""
GATEWAY_CPU_REQUEST = "500m"
GATEWAY_MEMORY_REQUEST = "1Gi"
GATEWAY_MEMORY_LIMIT = "2Gi"
"""One gateway pod's requests and memory limit (the limit restarts a pod that leaks, as users report of the proxy);
the program sets them and the estimate prices the gateway's share of the system nodes from them."""


def provider_key_env(provider: str) -> str:
    """The environment variable that carries `provider`'s API key (from `providerApiKeys.<provider>`)."""
    return re.sub(r"[^A-Z0-9]", "_", provider.upper()) + "_API_KEY"


def render_config(spec: StackSpec, *, vllm_base_url: str, provider_base_urls: dict[str, str] | None = None) -> dict[str, Any]:
    """LiteLLM's proxy config (as a dict) for one region's gateway in front of `vllm_base_url` (`http://.../v1`).

    `provider_base_urls` replaces a provider's endpoint (tests point providers at loopback stubs)."""
    if spec.gateway is None:
        raise ValueError("the stack has no gateway block")
    bases = provider_base_urls or {}
    model_list: list[dict[str, Any]] = []
    fallbacks: list[dict[str, list[str]]] = []

    def api_deployment(model_name: str, offer: str, order: int | None = None) -> dict[str, Any]:
        provider, model = offer.split(":", 1)
        params: dict[str, Any] = {"model": f"{provider}/{model}", "api_key": f"os.environ/{provider_key_env(provider)}"}
        if provider in bases:
            params["api_base"] = bases[provider]
        if order is not None:
            params["order"] = order
        return {"model_name": model_name, "litellm_params": params}

    for route in spec.gateway.routes:
        if route.served_by == SELF_HOSTED:
            params = {"model": f"hosted_vllm/{spec.model.name}", "api_base": vllm_base_url,
                      "api_key": f"os.environ/{VLLM_KEY_ENV}"}
            if route.overflow_to:
                params["order"] = 1
            model_list.append({"model_name": route.name, "litellm_params": params})
            if route.overflow_to:
                model_list.append(api_deployment(route.name, route.overflow_to, order=2))
            if route.fallback_to:
                names = [f"{route.name}--fallback-{i}" for i in range(len(route.fallback_to))]
                for name, offer in zip(names, route.fallback_to, strict=True):
                    model_list.append(api_deployment(name, offer))
                fallbacks.append({route.name: names})
        else:
            model_list.append(api_deployment(route.name, route.served_by))
    return {
        "model_list": model_list,
        "router_settings": {"fallbacks": fallbacks},
        "general_settings": {"master_key": f"os.environ/{MASTER_KEY_ENV}"},
    }


def render_config_yaml(spec: StackSpec, *, vllm_base_url: str, provider_base_urls: dict[str, str] | None = None) -> str:
    """`render_config` as the YAML text the ConfigMap holds (stable key order)."""
    import yaml

    return yaml.safe_dump(render_config(spec, vllm_base_url=vllm_base_url, provider_base_urls=provider_base_urls),
                          sort_keys=False)
