"""Pulumi entry point: wiring only. Read the spec from stack config, build the program."""

import pulumi

from infra import program
from infra.spec import SpecError, parse_stack_config

config = pulumi.Config("tradeoff-infra")
raw = {key: config.get_object(key) for key in program.CONFIG_KEYS}
try:
    spec = parse_stack_config({k: v for k, v in raw.items() if v is not None}, f"stack {pulumi.get_stack()}")
except SpecError as err:
    raise pulumi.RunError(str(err)) from None
program.build(
    spec,
    api_key=config.require_secret("vllmApiKey"),
    huggingface_token=config.get_secret("huggingfaceToken"),  # gated repos (meta-llama/*) need it
)
