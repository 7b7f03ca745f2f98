"""Shared fixtures: every shipped stack's config, and (cached per session) its program run under mocks."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from infra.spec import project_config

ROOT = pathlib.Path(__file__).resolve().parents[1]
STACK_FILES = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
STACK_NAMES = [p.name[len("Pulumi."):-len(".yaml")] for p in STACK_FILES]


@pytest.fixture(scope="session")
def stack_configs() -> dict[str, dict]:
    """`tradeoff-infra:` keys (namespace stripped) of every stack in stacks/, by stack name."""
    return {name: project_config(yaml.safe_load(path.read_text())) for name, path in zip(STACK_NAMES, STACK_FILES)}
