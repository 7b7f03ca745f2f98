"""One cost shown and compared everywhere (issues 11 and 13): every headline, total row, budget line, summary and
`diff` total shows the cost the verdict compares — the fleet grown for the traffic where maxNodes cannot carry it
(prod-global as it shipped with lower caps: $241,777.39 compared, $219,434.19 configured), for a `hybrid` verdict the
split as configured with its API spend — and where the line items (the configured fleet, or the split's self-hosted
side) sum to another amount, that amount is labelled as such, never a competing total. Checked in every format, for a
fresh estimate and for `render` of a saved one, on two stacks whose configured and compared costs differ: the shipped
hybrid stack and a copy of prod-global with its old caps (tests/builders.py: capped_global_root; the shipped
prod-global now carries its own peak); and on two copies of the hybrid stack whose verdict is `self-host` (pure
self-hosted judged) and `api` (the split it deploys judged), budget and --fail-over-budget included."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.builders import cache_dir  # noqa: F401  (autouse: one inventory cache for the module)
from tests.builders import capped_global_root, visible_lines

AS_OF = ["--as-of", "2026-11-24"]
STACKS = ["prod-global", "hybrid"]
GATEWAY_STACKS = {"gw-self-host": "self-host", "gw-api": "api"}
"""Copies of the shipped hybrid stack whose verdict is not `hybrid` (gateway_verdict_root)."""
runner = CliRunner()
ROOT = None  # the capped project root, set by the `docs` fixture before any invoke
TOTAL_LABEL = re.compile(r"(?<![\w-])(?:total|self-hosted total|hybrid total)\b")


def invoke(*args) -> str:
    result = runner.invoke(app, [*args], env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    return result.stdout


def money(value: float) -> str:
    return f"${value:,.2f}"


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    global ROOT
    ROOT = gateway_verdict_root(capped_global_root(tmp_path_factory.mktemp("capped")))
    found = {s: json.loads(invoke("estimate", s, "--format", "json", *AS_OF))["stacks"][0] for s in STACKS}
    for doc in found.values():  # each stack shows an amount besides the cost compared, or the checks prove nothing
        assert other_amounts(doc), doc["stack"]
    return found


def compared(doc: dict) -> float:
    """The cost the verdict compares and the budget judges (the contract's own fields): a gateway stack's split as
    configured unless its verdict is `self-host` (then pure self-hosted, what that verdict compares; an `api` verdict
    runs no fleet of the stack, so the split it deploys), else the compared self-hosted cost."""
    if doc.get("hybrid") and doc["verdict"]["choice"] != "self-host":
        return doc["hybrid"]["monthlyUsd"]["expected"]
    return doc["selfHosted"]["comparedMonthlyUsd"]


def lines_of(text: str, fmt: str) -> list[str]:
    return visible_lines(text) if fmt == "html" else [line for line in text.splitlines() if line.strip()]


def total_rows(lines: list[str]) -> list[str]:
    """Rows of the totals: a table or markdown row, or an HTML row, whose label says total."""
    return [line for line in lines if TOTAL_LABEL.search(line.split("$")[0]) and "$" in line
            and (line.lstrip().startswith(("│", "|")) or not line.lstrip().startswith(("verdict", "-", "*")))]


def other_amounts(doc: dict) -> set[float]:
    """The line items' sum and the self-hosted side, where they differ from the cost compared."""
    line_items = round(sum(li["monthlyUsd"] for li in doc["lineItems"]), 2)
    return {line_items, doc["selfHosted"]["monthlyUsd"]["expected"]} - {compared(doc)}


def check(doc: dict, text: str, fmt: str) -> None:
    lines = lines_of(text, fmt)
    cost = compared(doc)
    totals = [line for line in total_rows(lines) if "configured fleet" not in line and "line items:" not in line]
    assert totals, f"{fmt}: no total row"
    for line in totals:  # every total row shows the one cost compared
        assert money(cost) in line, (fmt, line)
    for amount in other_amounts(doc):  # another amount only where it is labelled for what it is
        for line in lines:
            if money(amount) in line and TOTAL_LABEL.search(line):
                assert re.search(r"configured|capped|split's self-hosted side", line), (fmt, amount, line)
    if doc["budget"]:
        assert doc["budget"]["expectedUsd"] == cost
        budget = [line for line in lines if "budget:" in line.replace("**", "") or line.lstrip().startswith("budget")]
        assert budget and all(money(cost) in line for line in budget if "expected" in line), (fmt, budget)


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
@pytest.mark.parametrize("stack", STACKS)
def test_every_total_row_shows_the_cost_compared(docs, stack, fmt):
    """Before, the HTML line items' total row and the table's bold `self-hosted total` showed the configured fleet
    (prod-global $219,434.19) under a budget row judging the grown one ($241,777.39), the hybrid stack's table a bold
    `self-hosted total` of the capped split's self-hosted side ($108,767.83) beside a headline of $123,926.26, and
    markdown had no total row."""
    check(docs[stack], invoke("estimate", stack, "--format", fmt, *AS_OF), fmt)


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_a_rendered_saved_estimate_shows_the_same_cost(docs, tmp_path, fmt):
    saved = tmp_path / "saved.json"
    invoke("estimate", *STACKS, "--format", "json", "--out", str(saved), *AS_OF)
    text = invoke("render", str(saved), "--format", fmt)
    for stack in STACKS:  # each stack's section
        check(docs[stack], _section(text, stack, fmt), fmt)


def _section(text: str, stack: str, fmt: str) -> str:
    marker = {"html": f"<h2>{stack} (", "markdown": f"### {stack} (", "table": f"stack {stack} ("}[fmt]
    start = text.index(marker)
    end = text.find({"html": "<h2>", "markdown": "\n### ", "table": "\nverdict: "}[fmt], start + 1)
    part = text[start:end] if end > 0 else text[start:]
    return f"<body>{part}</body>" if fmt == "html" else part


def test_the_decision_block_names_the_configured_total_once(docs):
    """The budget line said its basis again, the configured fleet's total with it, under the self-hosted line
    that had just said it."""
    doc = docs["prod-global"]
    configured = money(doc["selfHosted"]["monthlyUsd"]["expected"])
    head = invoke("estimate", "prod-global", *AS_OF).split("priced ")[0]  # the decision block
    assert head.count(configured) == 1, head
    assert "judged on the compared self-hosted cost above" in head


def test_diff_compares_the_cost_the_verdict_compares(docs, tmp_path):
    """`diff` and `--compare-to` compared the configured fleet's total (selfHosted.monthlyUsd.expected,
    $219,434.19 for prod-global), not the grown fleet the verdict and budget compare; now the compared cost, with
    the line items' (configured) sum beside it, labelled."""
    from cli.estimate.diff import compare, headline

    old = json.loads(json.dumps(docs["prod-global"]))
    new = json.loads(json.dumps(docs["prod-global"]))
    new["selfHosted"]["comparedMonthlyUsd"] = round(new["selfHosted"]["comparedMonthlyUsd"] + 1000, 2)
    change = compare(new, old, "old.json")
    assert change["total"]["beforeUsd"] == old["selfHosted"]["comparedMonthlyUsd"]
    assert change["total"]["changeUsd"] == 1000
    lines = headline(change)
    assert lines[0].startswith(f"expected total (self-hosted): {money(old['selfHosted']['comparedMonthlyUsd'])}")
    configured = money(old["selfHosted"]["monthlyUsd"]["expected"])
    assert f"line items as configured (not the cost compared): {configured} -> {configured}" in lines[1]
    # the command, and --fail-on-increase on that cost
    before, after = tmp_path / "old.json", tmp_path / "new.json"
    before.write_text(json.dumps({"version": 1, "currency": "USD", "stacks": [old]}))
    after.write_text(json.dumps({"version": 1, "currency": "USD", "stacks": [new]}))
    result = runner.invoke(app, ["diff", str(before), str(after), "--fail-on-increase", "0.1"])
    assert result.exit_code == 1 and "+$1,000.00" in result.stdout, result.output


def test_the_hybrid_stack_diff_keeps_its_split_total(docs):
    from cli.estimate.diff import compare

    doc = docs["hybrid"]
    total = compare(doc, doc, "x")["total"]
    assert (total["afterUsd"], total["basisAfter"]) == (doc["hybrid"]["monthlyUsd"]["expected"], "hybrid")


def gateway_verdict_root(root):
    """Two copies of stacks/Pulumi.hybrid.yaml in `root`: `gw-self-host`, its traffic scaled to 6.5B requests a month
    (and weeksToShip past the setup) so that pure self-hosted wins ($1,073,909.95 compared; the split as configured
    $1,201,813.69), with a budget between the two; `gw-api`, mlEngineersAvailable false so the constraint gives `api`
    (split as configured $123,198.12, pure self-hosted $123,926.26), with a budget between the two."""
    import yaml

    shipped = yaml.safe_load((root / "stacks" / "Pulumi.hybrid.yaml").read_text())
    for name, change in {"gw-self-host": {"requests": 6_500_000_000, "weeks": 52, "budget": 1_100_000},
                         "gw-api": {"ml": False, "budget": 123_500}}.items():
        doc = json.loads(json.dumps(shipped))
        config = doc["config"]
        config["tradeoff-infra:traffic"]["requestsPerMonth"] = change.get("requests", 650_000_000)
        config["tradeoff-infra:constraints"]["weeksToShip"] = change.get("weeks", 8)
        config["tradeoff-infra:constraints"]["mlEngineersAvailable"] = change.get("ml", True)
        config["tradeoff-infra:budget"]["monthlyUsd"] = change["budget"]
        (root / "stacks" / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


@pytest.fixture(scope="module")
def gateway_docs(docs):
    found = {s: json.loads(invoke("estimate", s, "--format", "json", *AS_OF))["stacks"][0] for s in GATEWAY_STACKS}
    for stack, choice in GATEWAY_STACKS.items():  # the copies still say what they are meant to
        doc = found[stack]
        assert doc["verdict"]["choice"] == choice, (stack, doc["verdict"])
        assert doc["budget"]["monthlyUsd"] > min(compared(doc), doc["hybrid"]["monthlyUsd"]["expected"],
                                                 doc["selfHosted"]["comparedMonthlyUsd"]), stack
    return found


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
@pytest.mark.parametrize("stack", list(GATEWAY_STACKS))
def test_a_gateway_stack_not_judged_hybrid_shows_one_cost(gateway_docs, stack, fmt):
    """A gateway stack whose verdict is `self-host` or `api` had its budget judged on the split as configured
    (`hybrid.monthlyUsd.expected`) while its headline and total rows showed pure self-hosted: gw-self-host was OVER
    its $1,100,000 budget at $1,201,813.69 under a total of $1,073,909.95; gw-api within its $123,500 at $123,198.12
    under a total of $123,926.26. Now one cost: pure self-hosted for `self-host`, the split it deploys for `api`."""
    doc = gateway_docs[stack]
    cost = compared(doc)
    assert doc["budget"]["expectedUsd"] == cost and doc["budget"]["overBudget"] is (cost > doc["budget"]["monthlyUsd"])
    assert doc["budget"]["overBudget"] is False  # each budget lies between the two costs, the one judged below it
    check(doc, invoke("estimate", stack, "--format", fmt, *AS_OF), fmt)


def test_a_gateway_stack_budget_basis_says_which_cost(gateway_docs):
    own = gateway_docs["gw-self-host"]
    assert own["budget"]["basis"] == own["selfHosted"]["comparedBasis"]  # pure self-hosted, said once
    head = invoke("estimate", "gw-self-host", *AS_OF).split("priced ")[0]
    assert "judged on the compared self-hosted cost above" in head, head
    api = gateway_docs["gw-api"]
    assert api["budget"]["basis"].startswith("split as configured: what this stack deploys"), api["budget"]
    table = invoke("estimate", "gw-api", *AS_OF)
    assert "split total as configured (with API spend): what this stack deploys, verdict api" in " ".join(table.split())


@pytest.mark.parametrize("stack", list(GATEWAY_STACKS))
def test_fail_over_budget_judges_the_cost_shown(gateway_docs, stack):
    """--fail-over-budget exited 1 for gw-self-host: the split it judged ($1,201,813.69) is over the $1,100,000 budget,
    the pure self-hosted cost its verdict and headline show ($1,073,909.95) is not."""
    result = runner.invoke(app, ["estimate", stack, "--format", "json", "--fail-over-budget", *AS_OF],
                           env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": "300"})
    assert result.exit_code == 0, result.output


def test_diff_of_a_gateway_stack_not_judged_hybrid_compares_that_cost(gateway_docs):
    from cli.estimate.diff import compare, headline

    for stack, basis in (("gw-self-host", "self-hosted"), ("gw-api", "split as configured")):
        doc = gateway_docs[stack]
        change = compare(doc, doc, "x")
        assert (change["total"]["afterUsd"], change["total"]["basisAfter"]) == (compared(doc), basis)
        assert headline(change)[0].startswith(f"expected total ({basis}"), headline(change)
