"""`validate` refuses every stack `estimate` refuses (issue 13.3): each bad stack below is run through both
commands; validate exits 2 whenever estimate does, names the same key, reports every problem at once and
suggests the near name where one exists."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.builders import cache_dir  # noqa: F401 - autouse: one inventory cache for the module
from tests.paths import ROOT

runner = CliRunner()
DEV = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": "200"})


def edited(*edits: tuple[str, str]) -> str:
    text = DEV
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


POOL = "          instanceType: g6.xlarge            # 1x NVIDIA L4 24 GB\n"
# name: (stack text, keys both commands must name, suggestions validate must make)
BAD = {
    "unknown-key": (edited(("          minNodes: 0 ", "          minNode: 0 ")),
                    ["regions[0].gpuPools[0].minNode"], ["did you mean minNodes?"]),
    "instance-typo": (edited(("instanceType: g6.xlarge ", "instanceType: g5.xlarg ")),
                      ["regions[0].gpuPools[0].instanceType"], ["did you mean g5.xlarge"]),
    "offer-without-provider": (edited(("    - openai:gpt-4o-mini", "    - gpt4o-mini")),
                               ["apiComparison[0]"], ["did you mean openai:gpt-4o-mini"]),
    # genai-prices does not know it: validate passed it, estimate refused it
    "offer-unknown-to-genai-prices": (edited(("    - openai:gpt-4o-mini", "    - openai:gpt4o-mini")),
                                      ["apiComparison[0]"], ["did you mean openai:gpt-4o-mini"]),
    # the catalog prices no system node type in ap-south-2: validate only warned, estimate refused it
    "system-nodes-unpriced": (edited(("    - region: us-east-1", "    - region: ap-south-2"),
                                     ("aws:region: us-east-1", "aws:region: ap-south-2")),
                              ["cluster.systemNodes.instanceType"], []),
    # estimate said only "no price for instance type m6i.larg": no near name
    "system-node-typo": (edited(("instanceType: m6i.large", "instanceType: m6i.larg")),
                         ["cluster.systemNodes.instanceType"], ["did you mean m6i.large?"]),
}
# validate reports everything at once: a bad region no longer hides a bad instance type, nor an unknown key
# the cross-key checks
ALL_AT_ONCE = {
    "region-and-instance": (edited(("    - region: us-east-1", "    - region: eu-westt-1"),
                                   ("instanceType: g6.xlarge ", "instanceType: g5.xlarg ")),
                            ["regions[0].region", "regions[0].gpuPools[0].instanceType"],
                            ["did you mean eu-west-1?", "did you mean g5.xlarge"]),
    "not-offered": (edited(("    - region: us-east-1", "    - region: eu-west-2"), ("instanceType: g6.xlarge ", "instanceType: g6e.xlarge ")),
                    ["regions[0].gpuPools[0].instanceType"],
                    ["g6e.xlarge is not offered in eu-west-2", "eu-west-2 offers no L40S type; its GPU types: ", "g6.xlarge"]),
    # on a one-GPU instance the fix is another instance type, not tensorParallel
    "does-not-fit": (edited(("source: meta-llama/Llama-3.1-8B-Instruct", "source: meta-llama/Llama-3.3-70B-Instruct")),
                     ["regions[0].gpuPools[0].instanceType"], ["use an instance type it fits on in us-east-1: p6-b200.48xlarge"]),
    "five-at-once": (edited(("          minNodes: 0 ", "          minNode: 0 "), ("    - region: us-east-1", "    - region: eu-westt-1"),
                            ("instanceType: g6.xlarge ", "instanceType: g5.xlarg "), ("    - openai:gpt-4o-mini", "    - gpt4o-mini")),
                     ["regions[0].gpuPools[0].minNode", "regions[0].region", "regions[0].gpuPools[0].instanceType",
                      "apiComparison[0]"],
                     ["did you mean minNodes?", "did you mean eu-west-1?", "did you mean g5.xlarge",
                      "did you mean openai:gpt-4o-mini"]),
    "key-and-replicas": (edited(("          minNodes: 0 ", "          minNode: 0 "), ("maxReplicas: 2 ", "maxReplicas: 9 ")),
                         ["regions[0].gpuPools[0].minNode", "autoscaling.maxReplicas"], ["did you mean minNodes?"]),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_validate_exits_2_whenever_estimate_does_and_names_the_same_key(tmp_path, name):
    text, keys, hints = BAD[name]
    stack = tmp_path / f"Pulumi.{name}.yaml"
    stack.write_text(text)
    estimated = invoke("estimate", str(stack), "--format", "json")
    validated = invoke("validate", str(stack))
    assert estimated.exit_code == 2, estimated.output
    assert validated.exit_code == 2, validated.output
    assert "Traceback" not in validated.output
    for key in keys:
        assert key in estimated.output, (key, estimated.output)
        assert key in validated.output, (key, validated.output)
    for hint in hints:  # estimate's own message suggests the fix too (it printed pydantic's pattern for gpt4o-mini)
        assert hint in validated.output, (hint, validated.output)
        assert hint in estimated.output, (hint, estimated.output)
    assert "String should match pattern" not in estimated.output + validated.output


@pytest.mark.parametrize("name", sorted(ALL_AT_ONCE))
def test_validate_reports_every_problem_at_once(tmp_path, name):
    text, keys, hints = ALL_AT_ONCE[name]
    stack = tmp_path / f"Pulumi.{name}.yaml"
    stack.write_text(text)
    validated = invoke("validate", str(stack))
    assert validated.exit_code == 2, validated.output
    for wanted in (*keys, *hints):
        assert wanted in validated.output, (wanted, validated.output)
    assert "raise tensorParallel" not in validated.output and "raise model.tensorParallel" not in validated.output


def test_a_stack_estimate_accepts_validate_accepts(tmp_path):
    stack = tmp_path / "Pulumi.good.yaml"
    stack.write_text(DEV)
    assert invoke("estimate", str(stack), "--format", "json").exit_code == 0
    validated = invoke("validate", str(stack))
    assert validated.exit_code == 0, validated.output
    assert "✓ good is valid" in validated.output


def test_estimate_all_reports_every_bad_stack_at_once_and_prints_nothing(tmp_path):
    """`estimate --all` stopped at the first bad stack (1 error for a folder of 32 invalid ones, where `validate
    --all` listed all 32): every bad stack's every problem now, exit 2, nothing printed on standard output."""
    folder = tmp_path / "stacks"
    folder.mkdir()
    (folder / "Pulumi.good.yaml").write_text(DEV)
    bad = {name: BAD[name] for name in ("unknown-key", "offer-without-provider", "system-node-typo",
                                        "offer-unknown-to-genai-prices")}
    for name, (text, _, _) in bad.items():
        (folder / f"Pulumi.{name}.yaml").write_text(text)
    estimated = runner.invoke(app, ["estimate", "--all", "--stacks-dir", str(folder)],
                              env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": "200"})
    validated = invoke("validate", "--all", "--stacks-dir", str(folder))
    assert estimated.exit_code == validated.exit_code == 2, estimated.output
    assert estimated.stdout == ""
    assert f"{len(bad)} of {len(bad) + 1} stacks are invalid" in estimated.stderr
    problems = " ".join(estimated.stderr.split()).split(" - ")  # one `  - FILE: problem` each, wrapped to COLUMNS
    for name, (_, keys, hints) in bad.items():
        for wanted in (*keys, *hints):
            assert any(f"Pulumi.{name}.yaml: {wanted}" in line or (f"Pulumi.{name}.yaml: " in line and wanted in line)
                       for line in problems), (name, wanted, estimated.stderr)
    assert "Pulumi.good.yaml" not in estimated.stderr


def test_validate_takes_the_price_catalog_estimate_prices_with(tmp_path):
    """A region the checked-in catalog does not price (mx-central-1): validate told the user to give
    `--price-catalog`, an option it lacked, and with a catalog that prices the region estimate exited 0 while
    validate exited 2. Both take it now and agree, with it and without it."""
    import copy
    import json

    catalog = json.loads((ROOT / "infra" / "data" / "aws_prices.json").read_text())
    assert "mx-central-1" not in catalog["instances"]
    catalog["instances"]["mx-central-1"] = copy.deepcopy(catalog["instances"]["us-east-1"])
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps(catalog))
    stack = tmp_path / "Pulumi.mx.yaml"
    stack.write_text(DEV.replace("us-east-1", "mx-central-1"))
    without = invoke("validate", str(stack))
    assert without.exit_code == invoke("estimate", str(stack)).exit_code == 2, without.output
    assert "--price-catalog" in without.output
    validated = invoke("validate", str(stack), "--price-catalog", str(prices))
    assert validated.exit_code == 0, validated.output
    estimated = invoke("estimate", str(stack), "--price-catalog", str(prices), "--format", "json")
    assert estimated.exit_code == 0, estimated.output
    bad = invoke("validate", str(stack), "--price-catalog", str(tmp_path / "none.json"))
    assert bad.exit_code == 2 and "--price-catalog" in bad.output and "Traceback" not in bad.output
