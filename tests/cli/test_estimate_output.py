"""What a reader sees first, and tables that fit: the decision block before the details in every format,
a summary across stacks, and money and quantities never split across lines (issue 13 items 1 and 2)."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.render import table, width
from tests.builders import cache_dir  # noqa: F401  (autouse: one inventory cache for the module)
from tests.builders import visible_lines
from tests.paths import ROOT

AS_OF = ["--as-of", "2026-11-24"]
STACKS = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))
runner = CliRunner()


def invoke(*args, columns: str | None = "100"):
    result = runner.invoke(app, [*args, *AS_OF], env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": columns})
    assert result.exit_code == 0, result.output
    return result.stdout


def first_lines(text: str, fmt: str) -> list[str]:
    """The first 5 lines a reader sees: of the text for table and markdown; for html, of the body's
    visible text with one line per block element (heading, paragraph, list item, table row)."""
    lines = visible_lines(text) if fmt == "html" else [line for line in text.splitlines() if line.strip()]
    return lines[:5]


def verdicts(stack: str) -> str:
    doc = json.loads(invoke("estimate", stack, "--format", "json"))["stacks"][0]
    return doc["verdict"]["choice"].upper()


def says_verdict(line: str, verdict: str, fmt: str) -> bool:
    """`verdict: API` in the text formats; `"verdict": "api",` in the pretty-printed JSON."""
    if fmt == "json":
        return re.search(rf'"verdict":\s*"{re.escape(verdict.lower())}"', line) is not None
    return re.search(rf"verdict:\W*{re.escape(verdict)}\b", line) is not None


@pytest.mark.parametrize("fmt", ["table", "markdown", "html", "json"])
@pytest.mark.parametrize("stack", STACKS)
def test_the_verdict_is_in_the_first_five_lines(stack, fmt):
    verdict = verdicts(stack)
    head = first_lines(invoke("estimate", stack, "--format", fmt), fmt)
    assert any(says_verdict(line, verdict, fmt) for line in head), head


def test_several_stacks_in_json_start_with_a_summary_of_every_verdict():
    """`estimate --all --format json`: the first key is `summary`, one entry per stack in order, its verdict on
    line 5; each stack's document starts with its decision; every key of the stacks' documents is kept."""
    text = invoke("estimate", "--all", "--format", "json")
    doc = json.loads(text)
    assert list(doc) == ["summary", "version", "currency", "stacks"]
    assert says_verdict(text.splitlines()[4], doc["stacks"][0]["verdict"]["choice"], "json"), text.splitlines()[:5]
    assert [e["stack"] for e in doc["summary"]] == [s["stack"] for s in doc["stacks"]] == STACKS
    for entry, stack in zip(doc["summary"], doc["stacks"]):
        assert list(stack)[:3] == ["stack", "stackFile", "verdict"]
        cheapest = min(stack["api"], key=lambda o: o["monthlyUsd"])
        assert entry["verdict"] == stack["verdict"]["choice"]
        assert entry["decidedBy"] == stack["verdict"]["decidedBy"]
        assert entry["selfHostedMonthlyUsd"] == stack["selfHosted"]["comparedMonthlyUsd"]
        assert (entry["cheapestApiOffer"], entry["cheapestApiMonthlyUsd"]) == (cheapest["offer"], cheapest["monthlyUsd"])
        assert entry["breakEvenRequestsPerMonth"] == stack["breakEvenRequestsPerMonth"][cheapest["offer"]]["requestsPerMonth"]
        assert entry["budgetStatus"] == ("over" if stack["budget"]["overBudget"] else "within")
        assert entry["hybridMonthlyUsd"] == (stack["hybrid"]["monthlyUsd"]["expected"] if "hybrid" in stack else None)


def test_a_constraint_that_decides_the_verdict_is_said_in_the_decision_block_and_the_summary():
    """prod-global: SELF-HOST because constraints.dataMayLeaveNetwork is false, while the API is cheaper; the
    decision block (every format) and the summary row say the constraint decided, not cost."""
    for fmt in ("table", "markdown", "html"):
        head = first_lines(invoke("estimate", "prod-global", "--format", fmt), fmt)
        said = " ".join(" ".join(head).split())  # the block's lines, the table's hanging indent unwrapped
        assert "decided by" in said and "dataMayLeaveNetwork is false" in said and "not cost" in said, (fmt, head)
        several = invoke("estimate", "prod-global", "dev", "--format", fmt)
        lines = visible_lines(several) if fmt == "html" else several.splitlines()
        row = next(i for i, line in enumerate(lines) if "prod-global" in line)
        assert "SELF-HOST" in lines[row] and "by constraint" in " ".join(lines[row:row + 2]), lines[row:row + 2]
        dev = next(line for line in lines if re.search(r"\bdev\b", line) and "API" in line)
        assert "constraint" not in dev, dev
    doc = json.loads(invoke("estimate", "prod-global", "--format", "json"))
    assert doc["stacks"][0]["verdict"]["decidedBy"] == doc["summary"][0]["decidedBy"] == "constraints.dataMayLeaveNetwork"
    assert doc["stacks"][0]["verdict"]["onCostAlone"] == "api"


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_several_stacks_start_with_one_summary_across_them(fmt):
    text = invoke("estimate", "--all", "--format", fmt)
    docs = json.loads(invoke("estimate", "--all", "--format", "json"))["stacks"]
    lines = visible_lines(text) if fmt == "html" else [line for line in text.splitlines() if line.strip()]
    # the summary: one row per stack, with its verdict and the cost that verdict chose (a hybrid verdict: the
    # split's total with its API spend, not the pure self-hosted cost), before any stack's details
    first_detail = next(i for i, line in enumerate(lines) if "verdict:" in line)  # the first decision block
    hybrid = 0
    for doc in docs:
        row = next(line for line in lines[:first_detail]
                   if re.search(rf"\b{re.escape(doc['stack'])}\b", line) and "cheapest API" not in line)  # not the header
        if doc["verdict"]["choice"] == "hybrid":
            hybrid += 1
            cost = doc["hybrid"]["monthlyUsd"]["expected"]
            assert f"${doc['selfHosted']['comparedMonthlyUsd']:,.2f}" not in row, row
        else:
            cost = doc["selfHosted"]["comparedMonthlyUsd"]
        assert doc["verdict"]["choice"].upper() in row and f"${cost:,.2f}" in row, row
    assert hybrid, "stacks/Pulumi.hybrid.yaml's verdict is hybrid: the summary must show its hybrid total"
    assert docs[0]["verdict"]["choice"].upper() in " ".join(lines[:5])


MONEY = re.compile(r"\$(?!/)[\d,.]*?(?=\.\.\$)|\$(?!/)[\d,.]*")  # "$/1M" is a header; a range "$1.00..$2.00" is checked part by part
# "$7,500." (cut before its cents) or "$19,155.23..$" is split; "$15,000" (text, no cents) and "$3,500.00," are whole
WELL_FORMED_MONEY = re.compile(r"\$\d{1,3}(?:,\d{3})*(?:\.\d{2,6})?")
GROUPED = re.compile(r"(?<![\w.$,])\d+(?:,\d+)+(?:\.\d+)?")
WELL_FORMED_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def money_is_whole(token: str) -> bool:
    """A money token as the line shows it: `$1,234.56` (maybe followed by `..` and the range's upper end on the
    same line, or by `,`/`;`); `$7,500.`, `$19,155.23..` at a line's end, `$` alone are pieces of a split one."""
    return bool(WELL_FORMED_MONEY.fullmatch(token.rstrip(",;:)")))


def assert_numbers_whole(text: str, docs: list[dict], columns: int) -> None:
    for line in text.splitlines():
        for token in MONEY.findall(line):
            assert money_is_whole(token), f"{token!r} split in: {line!r}"
        for token in GROUPED.findall(line):
            assert WELL_FORMED_GROUPED.fullmatch(token), f"{token!r} split in: {line!r}"
    lines = text.splitlines()
    for doc in docs:
        for li in doc["lineItems"]:
            if li["monthlyUsd"] < 0.005:
                continue
            quantity, monthly = f"{li['quantity']:,.2f} {li['unit']}", f"${li['monthlyUsd']:,.2f}"
            assert any(quantity in line and monthly in line for line in lines), (quantity, monthly)
        for v in doc["categories"].values():
            amounts = [f"${v[k]:,.2f}" for k in ("min", "expected", "max")]
            assert any(all(a in line for a in amounts) for line in lines), amounts
        for offer in doc["api"]:
            assert any(offer["offer"][:8] in line and f"${offer['monthlyUsd']:,.2f}" in line for line in lines), offer


@pytest.mark.parametrize("columns", [100, 120])
def test_no_money_or_quantity_is_split_across_lines(columns):
    """Every shipped stack at COLUMNS=100 and 120 (piped): tables fit the width, and every money and
    quantity token is whole on one line (the old tables split `$19,155.23..$` / `191,552.29`)."""
    docs = json.loads(invoke("estimate", "--all", "--format", "json"))["stacks"]
    text = invoke("estimate", "--all", columns=str(columns))
    assert max(len(line.rstrip()) for line in text.splitlines()) <= columns
    assert_numbers_whole(text, docs, columns)
    for doc in docs:  # and each stack alone, laid out as on a terminal of that width
        settings = {**table.console_settings(False), "width": columns}
        one = table.stack_text((doc, settings))
        assert max(len(line.rstrip()) for line in one.splitlines()) <= columns
        assert_numbers_whole(one, [doc], columns)


def test_every_field_at_80_columns_keeps_numbers_whole():
    """`--fields all` at 80 columns cannot fit: the table grows wider instead of cutting a number."""
    docs = json.loads(invoke("estimate", "--all", "--format", "json"))["stacks"]
    text = invoke("estimate", "--all", "--fields", "all", columns="80")
    for line in text.splitlines():
        for token in MONEY.findall(line):
            assert money_is_whole(token), f"{token!r} split in: {line!r}"
    for doc in docs:
        for li in doc["lineItems"]:
            if li["monthlyUsd"] >= 0.005 and li["monthlyUsdMin"] != li["monthlyUsdMax"]:
                span = f"${li['monthlyUsdMin']:,.2f}..${li['monthlyUsdMax']:,.2f}"
                assert span in text, span


def test_piped_output_is_100_columns_without_COLUMNS():
    text = invoke("estimate", "prod-global", columns=None)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= width.PIPED_WIDTH


def test_the_width_rule(monkeypatch):
    monkeypatch.setenv("COLUMNS", "133")
    assert width.output_width(terminal=False) == 133 and width.output_width(terminal=True) == 133
    monkeypatch.delenv("COLUMNS")
    assert width.output_width(terminal=False) == 100
    monkeypatch.setenv("COLUMNS", "wide")
    assert width.output_width(terminal=False) == 100


def test_fields_choose_the_line_item_columns():
    text = invoke("estimate", "dev", "--fields", "region,monthly,range")
    header = next(line for line in text.splitlines() if "monthly" in line and "┃" in line)
    assert "region" in header and "min..max" in header and "what" not in header and "quantity" not in header
    everything = invoke("estimate", "dev", "--fields", "all", columns="300")
    header = next(line for line in everything.splitlines() if "min..max" in line and "┃" in line)
    for name in ("region", "resource", "category", "what", "quantity", "unit price", "monthly", "price source"):
        assert name in header, name


@pytest.mark.parametrize("value, message", [("montly", "did you mean 'monthly'"), (" , ", "empty")])
def test_a_bad_field_is_refused_by_name(value, message):
    result = runner.invoke(app, ["estimate", "dev", "--fields", value, *AS_OF])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output, result.output


def test_fields_only_apply_to_the_table():
    result = runner.invoke(app, ["estimate", "dev", "--fields", "all", "--format", "json", *AS_OF])
    assert result.exit_code == 2 and "--fields" in result.output
