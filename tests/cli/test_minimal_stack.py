"""A minimal stack (no cluster.publicAccessCidrs / privateAccessCidrs / adminPrincipalArns) gets a price with
the left-out keys stated in `defaultsUsed` and a warning, while `validate` (the deploy gate) still refuses it
naming each key (issue 13 item 8)."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app
from infra.spec import SpecError, parse_stack_config
from infra.spec.checks import deploy_gate
from tests.builders import cache_dir  # noqa: F401  (autouse: one inventory cache for the module)
from tests.paths import ROOT

AS_OF = ["--as-of", "2026-11-24"]
GATED = {"cluster.privateAccessCidrs", "cluster.adminPrincipalArns"}
runner = CliRunner()


def minimal(tmp_path, **cluster) -> str:
    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    config = doc["config"]
    for key in ("publicAccessCidrs", "adminPrincipalArns"):
        config["tradeoff-infra:cluster"].pop(key)
    config["tradeoff-infra:cluster"].update(cluster)
    path = tmp_path / "Pulumi.minimal.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_estimate_of_a_minimal_stack_prices_it_and_says_what_deploying_needs(tmp_path):
    result = runner.invoke(app, ["estimate", minimal(tmp_path), "--format", "json", *AS_OF])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)["stacks"][0]
    assert GATED <= {d["key"] for d in doc["defaultsUsed"]}
    assert sum("not deployable as is" in w for w in doc["warnings"]) == 2
    full = json.loads(runner.invoke(app, ["estimate", "dev", "--format", "json", *AS_OF]).stdout)["stacks"][0]
    assert doc["selfHosted"]["monthlyUsd"] == full["selfHosted"]["monthlyUsd"]  # the keys change no cost


def test_validate_still_refuses_it_naming_each_key(tmp_path):
    result = runner.invoke(app, ["validate", minimal(tmp_path)])
    assert result.exit_code == 2
    assert all(key in result.output for key in GATED)


def test_a_set_but_wrong_value_is_refused_even_for_a_price(tmp_path):
    result = runner.invoke(app, ["estimate", minimal(tmp_path, publicAccessCidrs=["10.0.0.0/8"]), *AS_OF])
    assert result.exit_code == 2 and "cluster.publicAccessCidrs" in result.output


def test_the_gate_is_a_plain_function_of_the_spec(tmp_path):
    from infra.spec import read_stack_config

    config = read_stack_config(minimal(tmp_path))
    with pytest.raises(SpecError):
        parse_stack_config(config)
    spec = parse_stack_config(config, deploy=False)
    assert {p.path for p in deploy_gate(spec)} == GATED
    assert deploy_gate(parse_stack_config(read_stack_config(ROOT / "stacks" / "Pulumi.dev.yaml"))) == []
