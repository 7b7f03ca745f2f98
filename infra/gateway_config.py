"""The hybrid gateway's configuration: LiteLLM's proxy config rendered from the stack spec (pure, no Pulumi).

The program (`infra/components/gateway.py`) mounts `render_config_yaml(...)` from a ConfigMap, runs
`LITELLM_IMAGE` with `GATEWAY_ENV` and passes the provider keys as environment variables named by
`provider_key_env`; the real-proxy tests (`tests/gateway/`) start LiteLLM `LITELLM_VERSION` with the very same
rendered text, service addresses substituted. docs/gateway.md explains every rule below and the LiteLLM
behaviour (at `LITELLM_VERSION`) each relies on.

Rules (one region's gateway):
- a route served self-hosted is one deployment `hosted_vllm/<model.name>` at vLLM's Service, with a `timeout` of
  the time a long request needs (`chart_values.long_request_seconds`): a hung fleet counts as failed;
- with `overflowTo` that deployment has `order: 1` and `max_parallel_requests` (`infra.gateway_overflow`: the
  region's fleet slots less what the routes that cannot leave hold at the peak, shared by the overflow routes and
  divided among the gateway pods), and the overflow offer is a second
  deployment of the same route with `order: 2`: LiteLLM refuses the self-hosted deployment past its limit and
  tries the next order;
- `fallbackTo` offers are model groups `<route>--fallback-<i>` in the route's `fallbacks` chain, in order;
- a route that may not reach an API (restricted, or self-hosted with neither) gets an explicit empty chain, which
  shadows any generic `*` chain; no default, context-window or content-policy fallbacks and no wildcard route
  are rendered, so nothing sends its requests anywhere but vLLM;
- `gateway.apiBudgetMonthlyUsd` becomes LiteLLM provider budgets (`provider_budget_config`, a 30-day window):
  split evenly over the providers the gateway may call and over the stack's gateway pods (each pod counts its own
  spend in memory), so the stack's API spend stays within the budget while pods stay at `gateway.minReplicas`.
"""

from __future__ import annotations

import pathlib
import re
from typing import Any

from infra.chart_values import long_request_seconds
from infra.gateway_overflow import overflow_plan
from infra.spec.models import SELF_HOSTED, RegionSpec, StackSpec, offer_provider

LITELLM_VERSION = "1.103.0"
"""LiteLLM's release the gateway runs: the PyPI version the real-proxy tests install (scripts/setup.sh reads it
here) and the tag of `LITELLM_IMAGE`. Never 1.82.7 or 1.82.8 (BerriAI/litellm#24512); docs/gateway.md "The pin"."""
LITELLM_IMAGE_DIGEST = "sha256:bd089afdcd35b894b14a93f9743cdc8b591f82da1a38dd43a010a7b0c9de5fd7"
"""The multi-architecture index digest of ghcr.io/berriai/litellm:v1.103.0, as public repositories pin it; LiteLLM's
release notes publish no digest. docs/gateway.md "The pin" says where it comes from and how to re-verify it."""
LITELLM_IMAGE = f"ghcr.io/berriai/litellm:v{LITELLM_VERSION}@{LITELLM_IMAGE_DIGEST}"
"""The proxy image the program runs (tag for readers, digest for the runtime)."""

GATEWAY_PORT = 4000
"""The port LiteLLM's proxy listens on (its documented default)."""
VLLM_KEY_ENV = "VLLM_API_KEY"
"""The environment variable holding vLLM's API key, which the gateway sends to the self-hosted fleet."""
MASTER_KEY_ENV = "LITELLM_MASTER_KEY"
"""The environment variable holding the key clients send to the gateway."""
GATEWAY_ENV = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "HF_HUB_OFFLINE": "1", "NUM_WORKERS": "1"}
"""Environment the gateway needs besides the keys. LiteLLM fetches its model cost map from GitHub at start-up
unless LITELLM_LOCAL_MODEL_COST_MAP is True; with it the proxy starts with no network and prices API calls (for the
budget) from the map bundled in the pinned release. HF_HUB_OFFLINE stops its token counter fetching a llama-3
tokenizer from the Hugging Face hub at run time. One worker process per pod (LiteLLM's default, made explicit): the
overflow slots and budget counts are per process, and `overflow_limits` / `provider_budgets` divide by pods."""
GATEWAY_CPU_REQUEST = "500m"
GATEWAY_MEMORY_REQUEST = "1Gi"
GATEWAY_MEMORY_LIMIT = "2Gi"
"""One gateway pod's requests and memory limit (the limit restarts a pod that leaks, as users report of the proxy);
the program sets them and the estimate prices the gateway's share of the system nodes from them."""
METRICS_PATH = "/metrics"
"""Where the proxy serves Prometheus metrics (LiteLLM's `prometheus` callback, on the proxy port)."""
SELF_HOSTED_PROVIDER = "hosted_vllm"
"""LiteLLM's provider for the self-hosted fleet: the `api_provider` label of its series (every other value is an API)."""
METRIC_DEPLOYMENT_SUCCESS = "litellm_deployment_success_responses_total"
"""Answers per deployment (labels `api_provider`, `model_id` = the rendered deployment id, `requested_model` = route):
the API share is the rate with `api_provider != SELF_HOSTED_PROVIDER` over all."""
METRIC_DEPLOYMENT_FAILURE = "litellm_deployment_failure_responses_total"
"""Failed calls per deployment (labels as above plus `exception_status`): provider errors."""
METRIC_DEPLOYMENT_TOTAL = "litellm_deployment_total_requests_total"
"""Calls per deployment, answered or failed (labels as METRIC_DEPLOYMENT_SUCCESS): the provider-error ratio's
denominator (a provider that fails every call still has a total)."""
METRIC_SPEND = "litellm_spend_metric_total"
"""USD spent per deployment (labels `api_provider`, `model_id`, `requested_model`), priced from the bundled cost map."""
METRIC_PROVIDER_REMAINING_BUDGET = "litellm_provider_remaining_budget_metric"
"""USD left of a provider's budget in this pod (label `api_provider`)."""
METRIC_PROXY_FAILED = "litellm_proxy_failed_requests_metric_total"
"""Requests the gateway answered with an error (labels `requested_model` = route, `exception_status`): a restricted
route's count is its fail-closed refusals."""
HEALTH_PATH = "/health/liveliness"
"""LiteLLM's liveness endpoint (no key, no call to a model): the gateway pods' probes."""
READINESS_PATH = "/health/readiness"
"""LiteLLM's readiness endpoint (no key, no call to a model)."""

CONFIG_FILE = "config.yaml"
"""The rendered config's file name in the gateway's config directory (the ConfigMap key)."""
CONFIG_DIR = "/etc/litellm"
"""Where the gateway pods mount the ConfigMap (every file `render_files` returns, side by side)."""
HOOK_MODULE = "tradeoff_gateway_hook"
HOOK_FILE = f"{HOOK_MODULE}.py"
"""The request policy module LiteLLM loads from the config's directory (`litellm_settings.callbacks`): it refuses
client-chosen fallbacks, so only the stack file routes (infra/data/tradeoff_gateway_hook.py)."""
_HOOK_SOURCE = pathlib.Path(__file__).with_name("data") / HOOK_FILE

BUDGET_WINDOW = "30d"
"""LiteLLM's budget window for `apiBudgetMonthlyUsd` (its duration format; the window starts at a pod's first
count and restarts every 30 days)."""

LITELLM_PROVIDERS: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "together": "together_ai",
    "groq": "groq",
    "google": "gemini",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "fireworks": "fireworks_ai",
    "cohere": "cohere_chat",
    "x-ai": "xai",
    "cerebras": "cerebras",
    "perplexity": "perplexity",
    "openrouter": "openrouter",
    "novita": "novita",
    "moonshotai": "moonshot",
}
"""genai-prices provider id (the `provider` of an `apiComparison` offer `provider:model`) -> LiteLLM's provider
prefix at `LITELLM_VERSION` (`<prefix>/<model>`). Providers that need more than a key (Azure and AWS deployments,
Vertex) are not here: a route cannot name them."""


class UnsupportedProvider(ValueError):
    """An offer's provider has no LiteLLM mapping in LITELLM_PROVIDERS."""


PROVIDER_KEY_ENV_PREFIX = "TRADEOFF_GATEWAY_KEY_"
"""Prefix of the provider keys' environment variables. Never LiteLLM's own names (`OPENAI_API_KEY`, ...): its
pass-through routes (`/openai/...`, `/anthropic/...`, `/mistral/...`, `/cohere/...`) and its files, batches and
vector-store endpoints fall back to `<PROVIDER>_API_KEY` from the environment, so a client with the gateway's key
could send anything to a provider with the gateway's key, past the routes, the restricted data class and the
budget. Under these names only the rendered config's `os.environ/` references find the keys (docs/gateway.md)."""


def provider_key_env(provider: str) -> str:
    """The environment variable that carries `provider`'s API key (from `providerApiKeys.<provider>`)."""
    return PROVIDER_KEY_ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", provider.upper())


def litellm_provider(provider: str) -> str:
    """LiteLLM's prefix for genai-prices provider `provider`; UnsupportedProvider names the supported ones."""
    try:
        return LITELLM_PROVIDERS[provider]
    except KeyError:
        raise UnsupportedProvider(f"the gateway cannot call provider {provider!r}: LiteLLM routes need one of "
                                  f"{', '.join(sorted(LITELLM_PROVIDERS))}") from None


def unsupported_providers(spec: StackSpec) -> list[str]:
    """Providers some gateway route may call that LITELLM_PROVIDERS does not map (for a `validate` check)."""
    if spec.gateway is None:
        return []
    return [p for p in spec.gateway.providers() if p not in LITELLM_PROVIDERS]


def litellm_model(offer: str) -> str:
    """`provider:model` (an apiComparison offer) -> LiteLLM's `<prefix>/<model>`."""
    provider, sep, model = offer.partition(":")
    if not sep or not model:
        raise UnsupportedProvider(f"{offer!r} is not a provider:model offer the gateway can call")
    return f"{litellm_provider(provider)}/{model}"


def gateway_pods(spec: StackSpec) -> int:
    """Gateway pods the stack runs at least: `gateway.minReplicas` in every region."""
    assert spec.gateway is not None
    return spec.gateway.min_replicas * len(spec.regions)


def provider_monthly_budgets(spec: StackSpec) -> dict[str, float]:
    """Provider (as `apiComparison` names it) -> USD a month the whole gateway lets it be paid:
    `gateway.providerBudgetsMonthlyUsd` when given, else `apiBudgetMonthlyUsd` split evenly over the providers the
    routes may call. The estimate sets each beside the split's spend with that provider."""
    gw = spec.gateway
    if gw is None or gw.api_budget_monthly_usd is None:
        return {}
    providers = gw.providers()
    if not providers:
        return {}
    if gw.provider_budgets_monthly_usd is not None:
        return {p: float(gw.provider_budgets_monthly_usd.get(p, 0)) for p in providers}
    return {p: gw.api_budget_monthly_usd / len(providers) for p in providers}


def provider_budgets(spec: StackSpec) -> dict[str, float]:
    """USD per 30 days one gateway pod lets each LiteLLM provider spend: `provider_monthly_budgets` divided over
    `gateway_pods` (LiteLLM counts spend per pod, in memory)."""
    monthly = provider_monthly_budgets(spec)
    if not monthly:
        return {}
    pods = gateway_pods(spec)
    return {litellm_provider(p): round(usd / pods, 6) for p, usd in monthly.items()}


def overflow_limits(spec: StackSpec, region: RegionSpec) -> dict[str, int]:
    """Route name -> `max_parallel_requests` of its self-hosted deployment in one gateway pod of `region`, for
    routes with `overflowTo`: the overflow rule of `infra.gateway_overflow` (the routes that cannot leave the fleet
    keep what they hold at the peak; the overflow routes share the rest, divided over `gateway.minReplicas` pods)."""
    return overflow_plan(spec, region).per_pod


def _region(spec: StackSpec, region: RegionSpec | str | None) -> RegionSpec:
    if isinstance(region, RegionSpec):
        return region
    if region is None:
        return spec.regions[0]
    for r in spec.regions:
        if r.region == region:
            return r
    raise ValueError(f"the stack has no region {region!r}")


def render_config(spec: StackSpec, *, vllm_base_url: str, provider_base_urls: dict[str, str] | None = None,
                  region: RegionSpec | str | None = None) -> dict[str, Any]:
    """LiteLLM's proxy config (as a dict) for `region`'s gateway (default: the first region) in front of
    `vllm_base_url` (`http://.../v1`).

    `provider_base_urls` (keyed by the genai-prices provider id, e.g. `together`) replaces a provider's endpoint
    (tests point providers at loopback stubs)."""
    if spec.gateway is None:
        raise ValueError("the stack has no gateway block")
    gw = spec.gateway
    bases = provider_base_urls or {}
    limits = overflow_limits(spec, _region(spec, region))
    model_list: list[dict[str, Any]] = []
    fallbacks: list[dict[str, list[str]]] = []

    def deployment(model_name: str, deployment_id: str, params: dict[str, Any]) -> dict[str, Any]:
        # a stable id: the metrics' model_id label and the logs name the deployment the same on every pod
        return {"model_name": model_name, "litellm_params": params, "model_info": {"id": deployment_id}}

    def api_params(offer: str, order: int | None = None) -> dict[str, Any]:
        provider = offer_provider(offer)
        params: dict[str, Any] = {"model": litellm_model(offer), "api_key": f"os.environ/{provider_key_env(provider)}"}
        if provider in bases:
            params["api_base"] = bases[provider]
        if order is not None:
            params["order"] = order
        return params

    for route in gw.routes:
        if route.served_by != SELF_HOSTED:
            model_list.append(deployment(route.name, f"{route.name}--api", api_params(route.served_by)))
            fallbacks.append({route.name: []})
            continue
        # a hung fleet fails after the time a long request needs (LiteLLM's own default is 6000 s), so the
        # route's overflow / fallback chain answers instead
        params: dict[str, Any] = {"model": f"hosted_vllm/{spec.model.name}", "api_base": vllm_base_url,
                                  "api_key": f"os.environ/{VLLM_KEY_ENV}", "timeout": long_request_seconds(spec)}
        if route.overflow_to:
            params["order"] = 1
            params["max_parallel_requests"] = limits[route.name]
        model_list.append(deployment(route.name, f"{route.name}--self-hosted", params))
        if route.overflow_to:
            model_list.append(deployment(route.name, f"{route.name}--overflow", api_params(route.overflow_to, order=2)))
        names = [f"{route.name}--fallback-{i}" for i in range(1, len(route.fallback_to) + 1)]
        for name, offer in zip(names, route.fallback_to, strict=True):
            model_list.append(deployment(name, name, api_params(offer)))
        # an explicit (maybe empty) chain per route: it shadows any generic "*" chain (docs/gateway.md)
        fallbacks.append({route.name: names})

    router_settings: dict[str, Any] = {
        "routing_strategy": "simple-shuffle",
        "fallbacks": fallbacks,
        "context_window_fallbacks": [],
        "content_policy_fallbacks": [],
        "num_retries": 0,
    }
    budgets = provider_budgets(spec)
    if budgets:
        router_settings["provider_budget_config"] = {
            p: {"budget_limit": usd, "time_period": BUDGET_WINDOW} for p, usd in budgets.items()}
    return {
        "model_list": model_list,
        "router_settings": router_settings,
        "litellm_settings": {"callbacks": ["prometheus", f"{HOOK_MODULE}.policy"], "require_auth_for_metrics_endpoint": False,
                             "drop_params": False},
        "general_settings": {"master_key": f"os.environ/{MASTER_KEY_ENV}"},
    }


def render_config_yaml(spec: StackSpec, *, vllm_base_url: str, provider_base_urls: dict[str, str] | None = None,
                       region: RegionSpec | str | None = None) -> str:
    """`render_config` as the YAML text the ConfigMap holds (stable key order)."""
    import yaml

    return yaml.safe_dump(render_config(spec, vllm_base_url=vllm_base_url, provider_base_urls=provider_base_urls,
                                        region=region), sort_keys=False)


def hook_source() -> str:
    """The text of HOOK_FILE, which the gateway's config directory holds next to CONFIG_FILE."""
    return _HOOK_SOURCE.read_text()


def proxy_args(config_path: str, *, host: str | None = None, port: int = GATEWAY_PORT) -> list[str]:
    """The `litellm` CLI's arguments (the image's entrypoint runs `litellm "$@"`), the same in the pods and in the
    real-proxy tests: the config file (HOOK_FILE is loaded from its directory), the port, one worker (limits and
    budgets are per process), no telemetry. `host` defaults to the CLI's 0.0.0.0 (the pods); tests bind loopback."""
    return [*(["--host", host] if host else []), "--config", config_path, "--port", str(port),
            "--num_workers", GATEWAY_ENV["NUM_WORKERS"], "--telemetry", "False"]


def render_files(spec: StackSpec, *, vllm_base_url: str, provider_base_urls: dict[str, str] | None = None,
                 region: RegionSpec | str | None = None) -> dict[str, str]:
    """Every file of the gateway's config directory (the ConfigMap's data): CONFIG_FILE and HOOK_FILE. LiteLLM
    runs with `--config <dir>/CONFIG_FILE` and finds HOOK_FILE beside it."""
    return {CONFIG_FILE: render_config_yaml(spec, vllm_base_url=vllm_base_url, provider_base_urls=provider_base_urls,
                                            region=region),
            HOOK_FILE: hook_source()}
