"""Pulumi entry point: wiring only. Read the spec from stack config, build the program."""

import pulumi

from infra import program
from infra.spec import AWS_ROLE_KEYS, AWS_ROLE_MESSAGE, SpecError, parse_stack_config
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
aws_config = pulumi.Config("aws")
for key in AWS_ROLE_KEYS:
    if aws_config.get(key.split(":", 1)[1]) is not None:
        raise pulumi.RunError(f"{key} {AWS_ROLE_MESSAGE}")
program.build(spec, api_key=config.require_secret("vllmApiKey"), huggingface_token=huggingface_token,
              aws_profile=aws_config.get("profile"))
