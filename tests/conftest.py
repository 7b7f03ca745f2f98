"""Shared fixtures: every shipped stack's config, and (cached per session) its program run under mocks."""

from __future__ import annotations

import functools
import os

import pytest
import yaml

from infra.spec import project_config
from tests.chart_render import helm_template  # noqa: F401  (the one helm driver; tests import it from here too)
from tests.paths import ROOT

# The cache's HMAC key (cli/cache.py): fixed for the tests, so they never write the user's ~/.config key.
os.environ.setdefault("TRADEOFF_INFRA_CACHE_KEY", "tradeoff-infra-tests-cache-key")
# The CLI's width rule reads COLUMNS (cli/render/width.py): a worker of `pytest -n` starts with COLUMNS=80 that a
# serial run does not have. Every test starts without it, as a user's pipe does; a test that wants a width sets it.
os.environ.pop("COLUMNS", None)

STACK_FILES = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
STACK_NAMES = [p.name[len("Pulumi."):-len(".yaml")] for p in STACK_FILES]


@pytest.fixture(scope="session")
def stack_configs() -> dict[str, dict]:
    """`tradeoff-infra:` keys (namespace stripped) of every stack in stacks/, by stack name."""
    return {name: project_config(yaml.safe_load(path.read_text())) for name, path in zip(STACK_NAMES, STACK_FILES)}


@pytest.fixture(scope="session")
def inventory_of(stack_configs):
    """`inventory_of(stack)`: the shipped stack's program run under recording mocks, with real helm; once per session."""
    from cli.inventory import run_program

    @functools.cache
    def run(stack: str):
        return run_program(stack_configs[stack], stack, helm_template=helm_template)

    return run
