"""`tradeoff-infra render`: saved `estimate --format json` documents rendered again, several merged into one
report (issue 13 item 6.4)."""

from __future__ import annotations

import json
import pathlib

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.builders import cache_dir  # noqa: F401  (autouse: one inventory cache for the module)
from tests.paths import ROOT

runner = CliRunner()
AS_OF = ["--as-of", "2026-11-24"]


def run(*args):
    return runner.invoke(app, list(args), env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": "100"})


def saved(tmp_path, stack: str) -> str:
    path = tmp_path / f"{stack}.json"
    result = run("estimate", stack, "--format", "json", "--out", str(path), *AS_OF)
    assert result.exit_code == 0, result.output
    return str(path)


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_merged_saved_estimates_render_as_the_estimate_of_those_stacks(tmp_path, fmt):
    files = [saved(tmp_path, "dev"), saved(tmp_path, "prod-us")]
    rendered = run("render", *files, "--format", fmt)
    assert rendered.exit_code == 0, rendered.output
    direct = run("estimate", "dev", "prod-us", "--format", fmt, *AS_OF)
    assert rendered.stdout == direct.stdout


def test_merged_json_is_one_contract_document_with_every_stack(tmp_path):
    files = [saved(tmp_path, "dev"), saved(tmp_path, "prod-us")]
    result = run("render", *files, "--format", "json")
    assert result.exit_code == 0, result.output
    merged = json.loads(result.stdout)
    parts = [json.loads(open(f).read()) for f in files]
    assert merged == {**parts[0], "summary": parts[0]["summary"] + parts[1]["summary"],
                      "stacks": parts[0]["stacks"] + parts[1]["stacks"]}


def test_a_saved_estimate_from_before_the_summary_renders_with_one(tmp_path):
    """A JSON saved before `summary` and `verdict.decidedBy` existed (keys in the old order) renders in every
    format; as JSON it gains the summary, first, derived from its stacks (what it lacks is null)."""
    doc = json.loads(open(saved(tmp_path, "prod-global")).read())
    stack = {k: v for k, v in sorted(doc["stacks"][0].items()) if k != "verdict"}
    stack["verdict"] = {k: doc["stacks"][0]["verdict"][k] for k in ("choice", "reasons")}
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"version": 1, "currency": "USD", "stacks": [stack]}, indent=2))
    result = run("render", str(old), "--format", "json")
    assert result.exit_code == 0, result.output
    again = json.loads(result.stdout)
    assert list(again) == ["summary", "version", "currency", "stacks"]
    assert list(again["stacks"][0])[:3] == ["stack", "stackFile", "verdict"]
    assert again["summary"] == [{**doc["summary"][0], "decidedBy": None}]
    for fmt in ("table", "markdown", "html"):
        result = run("render", str(old), "--format", fmt)
        assert result.exit_code == 0 and "SELF-HOST" in result.stdout and "by constraint" not in result.stdout, fmt
    # a document saved before the verdict and the budget were part of it: the summary says null, not an error
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"stacks": [{"stack": "dev", "lineItems": [], "selfHosted": {
        "monthlyUsd": {"min": 1.0, "expected": 1.0, "max": 1.0}}}]}))
    result = run("render", str(bare), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"] == [{
        "stack": "dev", "verdict": None, "decidedBy": None, "selfHostedMonthlyUsd": None, "hybridMonthlyUsd": None,
        "cheapestApiOffer": None, "cheapestApiMonthlyUsd": None, "breakEvenRequestsPerMonth": None,
        "budgetMonthlyUsd": None, "budgetStatus": "none"}]


def test_html_from_saved_estimates_is_the_estimates_html_with_its_chart_and_marker(tmp_path):
    files = [saved(tmp_path, "dev"), saved(tmp_path, "prod-us")]
    out = tmp_path / "report.html"
    result = run("render", *files, "--format", "html", "--out", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert html == run("estimate", "dev", "prod-us", "--format", "html", *AS_OF).stdout
    assert 'id="stack-1"' in html and 'id="stack-2"' in html and html.count('class="total"') == 2
    assert html.count('aria-label="monthly cost versus requests per month"') == 2 and "No chart" not in html
    assert html.count('<g class="marker">') == 2 and "this stack: 20M/month" in html  # prod-us at its own volume


def test_html_from_an_estimate_saved_without_chart_points_renders_and_says_why_there_is_no_chart(tmp_path):
    doc = json.loads(open(saved(tmp_path, "dev")).read())
    del doc["stacks"][0]["chart"]  # as saved before the JSON carried the chart
    old = tmp_path / "old.json"
    old.write_text(json.dumps(doc))
    result = run("render", str(old), "--format", "html")
    assert result.exit_code == 0, result.output
    html = result.stdout
    assert html.count("No chart: this saved") == 1 and "<svg" not in html and 'class="total"' in html


def test_a_saved_stack_that_lacks_a_key_the_report_shows_is_named_and_nothing_is_written(tmp_path):
    good = saved(tmp_path, "dev")
    doc = json.loads(open(good).read())
    del doc["stacks"][0]["traffic"]
    doc["stacks"][0]["stackFile"] = "stacks/Pulumi.dev-copy.yaml"  # another stack (the same one twice is refused)
    bad = tmp_path / "old.json"
    bad.write_text(json.dumps(doc))
    out = tmp_path / "report.html"
    result = run("render", good, str(bad), "--format", "html", "--out", str(out))
    assert result.exit_code == 2, result.output
    assert f"{bad}: stacks[0] (dev) lacks what --format html shows: traffic" in " ".join(result.output.split())
    assert "Traceback" not in result.output and not out.exists()


def test_not_a_saved_estimate_and_out_over_the_input_are_bad_input(tmp_path):
    empty = tmp_path / "e.json"
    empty.write_text("{}")
    result = run("render", str(empty))
    assert result.exit_code == 2 and "stacks: missing" in result.output
    good = saved(tmp_path, "dev")
    before = open(good).read()
    result = run("render", good, "--format", "html", "--out", good)
    assert result.exit_code == 2 and "writing the report there would replace it" in result.output
    assert open(good).read() == before


def test_saved_estimates_without_any_stack_are_bad_input(tmp_path):
    empty = tmp_path / "none.json"
    empty.write_text(json.dumps({"version": 1, "currency": "USD", "stacks": []}))
    result = run("render", str(empty), "--format", "table")
    assert result.exit_code == 2 and "no stack in the saved estimate(s)" in result.output, result.output


def test_the_same_stack_from_two_saved_files_is_refused_naming_both(tmp_path):
    """`render old.json new.json` of the same stack listed it twice, two totals and no word of which is current:
    bad input (exit 2) naming both files and pointing to `diff`; nothing is written."""
    first = saved(tmp_path, "dev")
    later = tmp_path / "later" / "dev.json"
    later.parent.mkdir()
    later.write_text(pathlib.Path(first).read_text())
    out = tmp_path / "report.md"
    result = run("render", first, str(later), "--format", "markdown", "--out", str(out))
    assert result.exit_code == 2, result.output
    assert f"ESTIMATE {first} and {later}: both hold stack 'dev'" in " ".join(result.output.split())
    assert "tradeoff-infra diff" in result.output and "Traceback" not in result.output
    assert not out.exists()
    twice = run("render", first, first)
    assert twice.exit_code == 2 and "named twice" in twice.output, twice.output
    doc = json.loads(pathlib.Path(first).read_text())
    doc["stacks"].append(doc["stacks"][0])
    (tmp_path / "dup.json").write_text(json.dumps(doc))
    dup = run("render", str(tmp_path / "dup.json"))
    assert dup.exit_code == 2 and "holds stack 'dev'" in dup.output and "twice" in dup.output, dup.output


def test_the_diff_it_suggests_runs_as_written_for_paths_with_spaces(tmp_path):
    """The refusal's hint `tradeoff-infra diff OLD NEW` wrote the paths bare: with a space in a path, pasted into a
    shell, it named four files. Quoted for the shell, it splits back into the two paths."""
    import re
    import shlex

    first = saved(tmp_path, "dev")
    later = tmp_path / "my estimates" / "dev (later).json"
    later.parent.mkdir()
    later.write_text(pathlib.Path(first).read_text())
    result = run("render", first, str(later))
    assert result.exit_code == 2, result.output
    hint = re.search(r"`(tradeoff-infra diff [^`]*)`", " ".join(result.output.split()))
    assert hint, result.output
    assert shlex.split(hint.group(1)) == ["tradeoff-infra", "diff", first, str(later)], hint.group(1)


def test_the_same_stack_is_refused_when_one_saved_file_lacks_its_stack_file(tmp_path):
    """The contract lets a saved stack leave out `stackFile` (an older save); the refusal keyed such a stack by its
    name and the other by its file, so `render --format json` of `dev` saved with and without `stackFile` merged
    both: `dev` twice, two totals."""
    first = saved(tmp_path, "dev")
    doc = json.loads(pathlib.Path(first).read_text())
    doc["stacks"][0].pop("stackFile")
    older = tmp_path / "older.json"
    older.write_text(json.dumps(doc))
    for files in ((first, str(older)), (str(older), first)):
        result = run("render", *files, "--format", "json")
        assert result.exit_code == 2, result.output
        assert "both hold stack 'dev'" in " ".join(result.output.split()), result.output
