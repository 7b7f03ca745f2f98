"""Shared fixtures: every shipped stack's config, and (cached per session) its program run under mocks."""

from __future__ import annotations

import functools
import json
import pathlib
import subprocess
import tempfile

import pytest
import yaml

from infra.spec import project_config
from tests.tools import helm_path

ROOT = pathlib.Path(__file__).resolve().parents[1]
STACK_FILES = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
STACK_NAMES = [p.name[len("Pulumi."):-len(".yaml")] for p in STACK_FILES]
DEFAULT_KUBE_VERSION = "1.31"


def helm_template(opts: dict) -> list[dict]:
    """Answer the `kubernetes:helm:template` invoke with the real `helm template` of a local chart.

    `opts` is the invoke's jsonOpts (`LocalChartOpts` fields plus `release_name`). A chart path that
    does not exist yet renders nothing, as `run_program(helm_template=None)` does.
    """
    path = pathlib.Path(opts["path"])
    path = path if path.is_absolute() else ROOT / path
    if not (path / "Chart.yaml").is_file():
        return []
    with tempfile.TemporaryDirectory() as tmp:
        values = pathlib.Path(tmp) / "values.json"
        values.write_text(json.dumps(opts.get("values") or {}))
        command = [
            helm_path(), "template", opts["release_name"], str(path),
            "--namespace", opts.get("namespace") or "default",
            "-f", str(values),
            "--kube-version", opts.get("kube_version") or DEFAULT_KUBE_VERSION,
        ]
        for api_version in opts.get("api_versions") or []:
            command += ["--api-versions", api_version]
        if not opts.get("include_test_hook_resources"):
            command.append("--skip-tests")  # Pulumi's helm v3 Chart leaves test hooks out by default
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if done.returncode:
        raise RuntimeError(f"helm template {path} failed: {done.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


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
