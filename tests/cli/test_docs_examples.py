"""Example outputs quoted in docs/operations.md, docs/estimate.md and docs/stack-file.md hold the figures the
commands print today: each is checked against the shipped stacks' goldens (tests/golden/*.json, what
`estimate --format json` prints for them), or, for the validate error, against a validate run, so a change that
moves a figure moves the page with it (as tests/cli/test_recommend_docs.py does for docs/recommend.md)."""

from __future__ import annotations

import json
import re

import yaml
from typer.testing import CliRunner

from cli.main import app
from tests.paths import ROOT

OPERATIONS = (ROOT / "docs" / "operations.md").read_text()
ESTIMATE = " ".join((ROOT / "docs" / "estimate.md").read_text().split())
VERDICT_SHOWN = {"self-host": "SELF-HOST", "api": "API", "hybrid": "HYBRID"}


def golden(stack: str) -> dict:
    return json.loads((ROOT / "tests" / "golden" / f"{stack}.json").read_text())


def number(text: str) -> int:
    return int(text.replace(",", ""))


QUOTA_LINE = re.compile(
    r"quota: (?P<region>\S+) needs (?P<max>[\d,]+) vCPUs of '(?P<name>[^']+)' \((?P<code>L-[0-9A-F]+)\) at max size "
    r"\((?:(?P<fixed>fixed size)|(?P<min>[\d,]+) at min size and at the first pulumi up), "
    r"up to (?P<update>[\d,]+) during a node update; (?P<types>[^)]+)\)$")


def test_operations_quota_example_is_what_validate_prints_for_its_stack():
    """docs/operations.md "Service quotas": the fenced `validate` example's quota lines, against the golden's
    `quotas` of the stack its `$` line names (validate's lines and the JSON come from the same cli/quotas.py)."""
    block = OPERATIONS.split("## Service quotas", 1)[1].split("```\n", 2)[1]
    command, *lines = block.strip().splitlines()
    stack = re.search(r"tradeoff-infra validate (\S+)", command).group(1)
    quotas = golden(stack)["quotas"]
    assert lines
    for text in lines:
        m = QUOTA_LINE.match(text)
        assert m, text
        need = next(q for q in quotas[m["region"]] if q["quotaName"] == m["name"])
        low = need["vcpusAtMaxSize"] if m["fixed"] else number(m["min"])
        assert (number(m["max"]), low, low, number(m["update"]), m["code"], m["types"].split(", ")) == (
            need["vcpusAtMaxSize"], need["vcpusAtMinSize"], need["vcpusAtFirstUp"], need["vcpusDuringNodeUpdate"],
            need["quotaCode"], need["instanceTypes"]), text


def test_operations_first_pulumi_up_example_is_devs_spot_quota():
    text = " ".join(OPERATIONS.split())
    m = re.search(r"dev reads `needs (\d+) vCPUs of '([^']+)' \((L-[0-9A-F]+)\) at max size \((\d+) at min size, "
                  r"(\d+) at the first pulumi up", text)
    assert m, "the dev example is gone from docs/operations.md"
    need = next(q for q in golden("dev")["quotas"]["us-east-1"] if q["quotaName"] == m[2])
    assert (int(m[1]), m[3], int(m[4]), int(m[5])) == (
        need["vcpusAtMaxSize"], need["quotaCode"], need["vcpusAtMinSize"], need["vcpusAtFirstUp"])


def test_estimate_diff_example_shows_devs_verdict_and_total():
    """docs/estimate.md's `diff` summary line for a stack only in the new file (a copy of dev): its verdict and
    compared expected total are dev's."""
    m = re.search(r"`second only in new: (\S+) \$([\d,.]+) \(stacks/Pulumi\.second\.yaml\)` \(a copy of dev\)", ESTIMATE)
    assert m, "the diff example is gone from docs/estimate.md"
    dev = golden("dev")
    assert (m[1], m[2]) == (VERDICT_SHOWN[dev["verdict"]["choice"]], f"{dev['selfHosted']['comparedMonthlyUsd']:,.2f}")


def test_estimate_price_date_example_is_the_hybrid_stacks():
    """docs/estimate.md "Prices": the example of a platform price older than every instance price."""
    m = re.search(r"`AWS prices as of (\S+) \(\.\.\. oldest price this stack uses: (\S+ \S+); instance prices as of "
                  r"(\S+)\)`", ESTIMATE)
    assert m, "the price date example is gone from docs/estimate.md"
    catalog = golden("hybrid")["priceCatalog"]
    assert (m[1], m[2], m[3]) == (catalog["oldestPriceUsed"], catalog["oldestPriceItem"], catalog["instancePricesAsOf"])


def test_estimate_sensitivity_example_is_prod_us_today():
    """docs/estimate.md "What flips the verdict": the quoted lines are prod-us's; their figures that the golden
    holds (today's volume, the cheapest offer's monthly spend) are prod-us's."""
    prod_us = golden("prod-us")
    cheapest = min(prod_us["api"], key=lambda a: a["monthlyUsd"])
    assert f"(today {prod_us['traffic']['requestsPerMonth']:,} requests/month: api)" in ESTIMATE
    assert f"dearer than the API (together:...: ${cheapest['monthlyUsd']:,.2f})" in ESTIMATE
    assert cheapest["offer"].startswith("together:")


def test_estimate_capped_prod_global_example_compares_the_shipped_total():
    m = re.search(r"\$([\d,.]+) configured, \$([\d,.]+) compared; the shipped stack now carries its peak", ESTIMATE)
    assert m, "the capped prod-global example is gone from docs/estimate.md"
    assert m[2] == f"{golden('prod-global')['selfHosted']['comparedMonthlyUsd']:,.2f}"


def test_stack_file_validate_error_example(tmp_path):
    """docs/stack-file.md's first example: a 70B model on dev's L4 pool, as `validate` words it today."""
    page = (ROOT / "docs" / "stack-file.md").read_text()
    block = page.split("```\n", 2)[1].split("```", 1)[0]
    first, rest = block.split("\n", 1)
    assert first.startswith("✗ bad (")
    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    model = doc["config"]["tradeoff-infra:model"]
    model["source"] = "meta-llama/Llama-3.3-70B-Instruct"
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(app, ["validate", str(path)], env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": "116"})
    assert result.exit_code == 2, result.output
    printed = result.output.split("\n", 1)[1]
    assert " ".join(printed.split()) == " ".join(rest.split())


def test_gateway_rendered_config_example_is_what_the_program_renders(stack_configs):
    """docs/gateway.md "The rendered config": the block (flow style only to keep the page short) is the config
    infra/gateway_config.py renders for stacks/Pulumi.hybrid.yaml's first region today."""
    from infra.gateway_config import render_config
    from infra.spec import parse_stack_config

    page = (ROOT / "docs" / "gateway.md").read_text()
    block = page.split("## The rendered config, for stacks/Pulumi.hybrid.yaml (us-east-1)", 1)[1]
    shown = yaml.safe_load(block.split("```yaml\n", 1)[1].split("```", 1)[0])
    spec = parse_stack_config(stack_configs["hybrid"])
    assert spec.regions[0].region == "us-east-1"
    assert shown == render_config(spec, vllm_base_url="http://<vllm service>/v1", region=spec.regions[0])


def test_readme_names_the_checked_in_catalogs_date():
    """README's "Decide" says when the checked-in catalog was retrieved (why every shipped stack warns stale)."""
    readme = " ".join((ROOT / "README.md").read_text().split())
    catalog = json.loads((ROOT / "infra" / "data" / "aws_prices.json").read_text())
    m = re.search(r"the checked-in catalog was retrieved (\d{4}-\d\d-\d\d)", readme)
    assert m and m[1] == catalog["retrievedOn"]
