"""`tradeoff-infra validate` in-process: exit codes, messages naming the key, files untouched."""

from __future__ import annotations


import pytest
from typer.testing import CliRunner

from cli.main import app
from infra.spec import load_stack_file
from tests.paths import ROOT

runner = CliRunner()
# "@sha256:<digest>" of the image the shipped dev stack pins (one home: the stack file).
SHIPPED_DIGEST_SUFFIX = "@" + load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml").model.image.split("@", 1)[1]


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": "200"})


def test_validate_all_shipped_stacks():
    result = invoke("validate", "--all")
    assert result.exit_code == 0, result.output
    for name in ("dev", "prod-us", "prod-global"):
        assert f"✓ {name} is valid" in result.output
    assert "0e9e39f249a16976918f6564b8830bc894c89659" in result.output


def test_validate_by_path(tmp_path):
    target = tmp_path / "Pulumi.copy.yaml"
    target.write_text((ROOT / "stacks/Pulumi.prod-us.yaml").read_text())
    result = invoke("validate", str(target))
    assert result.exit_code == 0, result.output
    assert "✓ copy is valid" in result.output


BAD_EDITS = {
    "revision-main": ("revision: 0e9e39f249a16976918f6564b8830bc894c89659", "revision: main", "model.revision"),
    "seventy-b-on-l4": ("source: meta-llama/Llama-3.1-8B-Instruct", "source: meta-llama/Llama-3.3-70B-Instruct", "regions[0].gpuPools[0].instanceType"),
    "image-tag-only": (SHIPPED_DIGEST_SUFFIX, "", "model.image"),
    "bad-region": ("- region: us-east-1", "- region: mars-north-1", "regions[0].region"),
    "max-replicas-over-pool": ("maxReplicas: 2 ", "maxReplicas: 9 ", "autoscaling.maxReplicas"),
    "not-yaml": ("config:", "config: [", "(file)"),
    "assume-role": ("  aws:region: us-east-1", "  aws:region: us-east-1\n  aws:assumeRoles: [{roleArn: arn:aws:iam::1:role/x}]",
                    "aws:assumeRoles"),
    "profile-not-a-name": ("  aws:region: us-east-1", "  aws:region: us-east-1\n  aws:profile: [a, b]", "aws:profile"),
}


@pytest.mark.parametrize("case", sorted(BAD_EDITS))
def test_bad_stack_file_exits_2_names_the_key_and_is_unchanged(tmp_path, case):
    old, new, key = BAD_EDITS[case]
    text = (ROOT / "stacks/Pulumi.dev.yaml").read_text()
    assert old in text, f"fixture edit for {case} no longer applies"
    target = tmp_path / "Pulumi.bad.yaml"
    target.write_bytes(text.replace(old, new, 1).encode())
    before = target.read_bytes()
    result = invoke("validate", str(target))
    assert result.exit_code == 2, result.output
    assert key in result.output, result.output
    assert "Traceback" not in result.output
    assert target.read_bytes() == before


def test_unknown_stack_name_exits_2():
    result = invoke("validate", "nope")
    assert result.exit_code == 2
    assert "STACK 'nope'" in result.output and "dev" in result.output


def test_no_stack_and_no_all_exits_2():
    result = invoke("validate")
    assert result.exit_code == 2
    assert "--all" in result.output


def test_help_and_version():
    assert invoke("--help").exit_code == 0
    assert invoke("validate", "--help").exit_code == 0
    version = invoke("--version")
    assert version.exit_code == 0 and "tradeoff-infra" in version.output


def test_validate_refuses_a_gateway_provider_litellm_cannot_call(tmp_path):
    """An `apiComparison` offer of a provider the gateway cannot call (no LiteLLM key-only mapping) on a route:
    exit 2, the route's key named, nothing half-done (issue 14)."""
    import yaml

    data = yaml.safe_load((ROOT / "stacks/Pulumi.hybrid.yaml").read_text())
    config = data["config"]
    config["tradeoff-infra:apiComparison"].append("azure:gpt-4o-mini")
    config["tradeoff-infra:gateway"]["routes"][0]["fallbackTo"] = ["azure:gpt-4o-mini"]
    target = tmp_path / "Pulumi.azure.yaml"
    target.write_text(yaml.safe_dump(data))
    result = invoke("validate", str(target))
    assert result.exit_code == 2, result.output
    assert "gateway.routes[0].fallbackTo[0]" in result.output and "'azure'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("key, old, new", [
    ("autoscaling.maxReplicas", "    maxReplicas: 6\n", "    maxReplicas: 500\n"),
    ("autoscaling.minReplicas", "    minReplicas: 2\n", "    minReplicas: 101\n"),
])
def test_validate_refuses_replica_counts_the_charts_schema_refuses(tmp_path, key, old, new):
    """The vLLM chart's values schema caps autoscaling.minReplicas/maxReplicas (helm refuses more at `pulumi up`);
    `validate` reads the same bound from the schema and names the key."""
    import json

    schema = json.loads((ROOT / "charts/vllm/values.schema.json").read_text())["properties"]["autoscaling"]["properties"]
    name = key.split(".")[1]
    text = (ROOT / "stacks/Pulumi.prod-us.yaml").read_text()
    assert old in text
    target = tmp_path / "Pulumi.bad.yaml"
    target.write_text(text.replace(old, new, 1))
    result = invoke("validate", str(target))
    assert result.exit_code == 2, result.output
    assert f"{key}: {name} {new.split(':')[1].strip()} is more than the vLLM chart allows ({schema[name]['maximum']}" \
        in result.output, result.output
    assert "Traceback" not in result.output
