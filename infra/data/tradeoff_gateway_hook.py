"""The gateway's request policy, loaded by LiteLLM's proxy from the file next to its config
(`litellm_settings.callbacks: [tradeoff_gateway_hook.policy]`; infra/gateway_config.py renders both).

LiteLLM lets a client name its own fallbacks in the request body (`fallbacks`, `context_window_fallbacks`,
`content_policy_fallbacks`, or a `router_settings_override`), and with the gateway's master key every model
group passes LiteLLM's access check, so a restricted route's request could leave the fleet on the client's
say-so. The stack file is the only routing policy: a request carrying any of these is refused (400) before
LiteLLM routes it. Runs inside the proxy image; it imports nothing but LiteLLM and FastAPI (both in the image).
"""

from fastapi import HTTPException
from litellm.integrations.custom_logger import CustomLogger

CLIENT_ROUTING_FIELDS = ("fallbacks", "context_window_fallbacks", "content_policy_fallbacks",
                         "router_settings_override")


class GatewayPolicy(CustomLogger):
    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        named = [f for f in CLIENT_ROUTING_FIELDS if data.get(f) not in (None, [], {})]
        if named:
            raise HTTPException(status_code=400, detail={
                "error": f"this gateway routes by its stack file: the request may not set {', '.join(named)}"})
        return data


policy = GatewayPolicy()
