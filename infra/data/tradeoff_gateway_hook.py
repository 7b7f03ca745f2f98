"""The gateway's request policy, loaded by LiteLLM's proxy from the file next to its config
(`litellm_settings.callbacks: [tradeoff_gateway_hook.policy]`; infra/gateway_config.py renders both).

LiteLLM lets a client name its own fallbacks in the request body (`fallbacks`, `context_window_fallbacks`,
`content_policy_fallbacks`, or a `router_settings_override`), and with the gateway's master key every model
group passes LiteLLM's access check, so a restricted request could leave the fleet on the client's say-so. The
stack file is the only routing policy: a request carrying any of these is refused (400) before LiteLLM routes it.

LiteLLM's router also answers a model named by a deployment's id (`premium--api`, `chat--overflow`), by a
deployment's provider model (`together_ai/...`), by a fallback model group (`chat--fallback-1`) or by several
names joined with commas (sent to each at once). Clients call routes: a request whose `model` is not one of the
stack's routes, or that names none (LiteLLM's vector-store, batch and file endpoints call OpenAI without a
route), is refused (400) too. The routes are the keys of the config's `router_settings.fallbacks`
(gateway_config renders one entry per route), read from CONFIG_FILE beside this file at start-up: a config the
hook cannot read stops the proxy from starting. Fallback and overflow hops are the router's own calls and do not
pass here. Runs inside the proxy image; it imports nothing but LiteLLM, FastAPI and PyYAML (all in the image).
"""

import pathlib

import yaml
from fastapi import HTTPException
from litellm.integrations.custom_logger import CustomLogger

CLIENT_ROUTING_FIELDS = ("fallbacks", "context_window_fallbacks", "content_policy_fallbacks",
                         "router_settings_override")
CONFIG_FILE = "config.yaml"
"""gateway_config.CONFIG_FILE (a test keeps them equal; the image cannot import the project)."""


def stack_routes(config_path: pathlib.Path) -> frozenset:
    """The route names of the rendered config at `config_path`: one `router_settings.fallbacks` entry each."""
    config = yaml.safe_load(config_path.read_text())
    return frozenset(name for entry in config["router_settings"]["fallbacks"] for name in entry)


class GatewayPolicy(CustomLogger):
    def __init__(self, routes: frozenset):
        super().__init__()
        self.routes = routes

    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        named = [f for f in CLIENT_ROUTING_FIELDS if data.get(f) not in (None, [], {})]
        if named:
            raise HTTPException(status_code=400, detail={
                "error": f"this gateway routes by its stack file: the request may not set {', '.join(named)}"})
        model = data.get("model")
        if not (isinstance(model, str) and model in self.routes):
            raise HTTPException(status_code=400, detail={
                "error": f"this gateway serves the routes {', '.join(sorted(self.routes))}: not {model!r}"})
        return data


policy = GatewayPolicy(stack_routes(pathlib.Path(__file__).with_name(CONFIG_FILE)))
