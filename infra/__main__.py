"""Pulumi entry point: wiring only. Read the spec from stack config, build the program."""

import pulumi

from infra import program
from infra.spec import (
    AWS_ROLE_KEYS, AWS_ROLE_MESSAGE, PROVIDER_API_KEYS, SpecError, missing_provider_keys, parse_stack_config,
)
from infra.spec.checks import deploy_gate

config = pulumi.Config("tradeoff-infra")
raw = {key: config.get_object(key) for key in program.CONFIG_KEYS}
try:
    # keys only a deployment needs (who reaches and administers the Kubernetes API, checks.DEPLOY_GATE) may be
    # left out of a preview, as the estimate prices it; `pulumi up` stops below, before creating anything
    spec = parse_stack_config({k: v for k, v in raw.items() if v is not None}, f"stack {pulumi.get_stack()}",
                              deploy=False)
except SpecError as err:
    raise pulumi.RunError(str(err)) from None
for problem in deploy_gate(spec):
    if pulumi.runtime.is_dry_run():
        pulumi.log.warn(f"before `pulumi up`: {problem}")
    else:
        raise pulumi.RunError(f"stack {pulumi.get_stack()}: {problem}")
huggingface_token = config.get_secret("huggingfaceToken")
if huggingface_token is None and spec.gated_sources():
    message = (
        f"model.source {', '.join(spec.gated_sources())} is gated on Hugging Face and the secret "
        "tradeoff-infra:huggingfaceToken is not set: vLLM pods would crash-loop on 401. Run "
        "`pulumi config set --secret huggingfaceToken <token>` with a token of an account that accepted the licence."
    )
    # A preview (and the estimate, which runs the program as a preview without secrets) only warns;
    # `pulumi up` stops here, before creating anything.
    if pulumi.runtime.is_dry_run():
        pulumi.log.warn(message)
    else:
        raise pulumi.RunError(message)
# The gateway's keys. Which providers have one is not secret: read the names plainly, to stop `pulumi up` before
# anything is created; the values stay secrets (`get_secret_object`).
provider_keys = config.get_secret_object(PROVIDER_API_KEYS)
provider_names = config.get_object(PROVIDER_API_KEYS)
if provider_names is not None and not isinstance(provider_names, dict):
    raise pulumi.RunError(f"tradeoff-infra:{PROVIDER_API_KEYS} is a mapping of provider to secret key: run "
                          f"`pulumi config set --secret --path {PROVIDER_API_KEYS}.<provider> <key>`")
gateway_problems = [str(p) for p in missing_provider_keys(spec, provider_names or {})]
for problem in gateway_problems:
    # Like the Hugging Face token: a preview (and the estimate, which has no secrets) warns; `pulumi up` stops here.
    if pulumi.runtime.is_dry_run():
        pulumi.log.warn(f"before `pulumi up`: {problem}")
    else:
        raise pulumi.RunError(f"stack {pulumi.get_stack()}: {problem}")
aws_config = pulumi.Config("aws")
for key in AWS_ROLE_KEYS:
    if aws_config.get(key.split(":", 1)[1]) is not None:
        raise pulumi.RunError(f"{key} {AWS_ROLE_MESSAGE}")
# Only a stack with a gateway passes the gateway's keys (one without calls build exactly as before).
gateway_keys = {"provider_api_keys": {name: provider_keys.apply(lambda keys, name=name: keys[name])
                                      for name in sorted(provider_names or {})}} if spec.gateway is not None else {}
program.build(spec, api_key=config.require_secret("vllmApiKey"), huggingface_token=huggingface_token,
              aws_profile=aws_config.get("profile"), **gateway_keys)
