"""The markdown report as a pull-request comment (issue 13 item 6.2): it carries a hidden marker a CI job
finds its previous comment by, and stays under GitHub's 65,536-character comment limit, saying what it
left out."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from cli.main import app
from cli.render.documents import GITHUB_COMMENT_LIMIT, MARKDOWN_MARKER, markdown
from tests.builders import cache_dir  # noqa: F401  (autouse: one inventory cache for the module)
from tests.paths import ROOT

runner = CliRunner()
SHIPPED = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))


def invoke(*args) -> str:
    result = runner.invoke(app, [*args, "--as-of", "2026-11-24"], env={"TRADEOFF_INFRA_ROOT": str(ROOT)})
    assert result.exit_code == 0, result.output
    return result.stdout


def ten_stacks(tmp_path) -> list[str]:
    paths = []
    for i in range(10):
        src = SHIPPED[i % len(SHIPPED)]
        dst = tmp_path / f"Pulumi.copy{i}-{src.name[len('Pulumi.'):]}"
        shutil.copy(src, dst)
        paths.append(str(dst))
    return paths


def test_a_ten_stack_report_fits_a_github_comment_and_carries_the_marker(tmp_path):
    paths = ten_stacks(tmp_path)
    text = invoke("estimate", *paths, "--format", "markdown")
    assert len(text) < GITHUB_COMMENT_LIMIT
    assert text.startswith(MARKDOWN_MARKER + "\n")
    # every stack keeps its decision block; what was left out is said, by stack
    for p in paths:
        stack = p.rsplit("/", 1)[1][len("Pulumi."):-len(".yaml")]
        assert f"### {stack} (" in text
    assert "**Left out** to stay under GitHub's 65,536-character comment limit" in text
    assert text.count("<details>") < 10


def test_a_short_report_is_whole_and_marked():
    text = invoke("estimate", "dev", "--format", "markdown")
    assert text.startswith(MARKDOWN_MARKER) and "<details>" in text and "Left out" not in text


def test_decision_blocks_longer_than_the_limit_are_cut_with_a_note():
    docs = json.loads(invoke("estimate", "--all", "--format", "json"))["stacks"]
    text = markdown(docs, limit=3_000)
    assert len(text) < 3_000 and text.startswith(MARKDOWN_MARKER)
    assert "Cut here: the report is longer than GitHub's 3,000-character comment limit" in text


def test_a_cut_report_keeps_the_summary_the_shared_warnings_and_what_was_left_out():
    """Decision blocks longer than the limit (13 stacks with long paths reach it at 65,536): the cut falls in the
    stacks' blocks, not on the end, so the summary of every verdict, the warnings shared by several stacks (shown
    once per run, nowhere else) and the note naming what was left out all stay."""
    docs = json.loads(invoke("estimate", "--all", "--format", "json"))["stacks"]
    whole = markdown(docs, limit=10**6)
    assert "**Warnings shared by several stacks**" in whole
    text = markdown(docs, limit=12_000)
    assert len(text) < 12_000 and text.startswith(MARKDOWN_MARKER)
    assert "Cut here: the report is longer than GitHub's 12,000-character comment limit" in text
    for doc in docs:
        assert f"| {doc['stack']} | **" in text  # its summary row
    tail = whole[whole.index("**Warnings shared by several stacks**"):].split("\n> **Left out**")[0]
    assert tail in text
    assert "> **Left out** to stay under GitHub's 12,000-character comment limit" in text
    assert text.index("Cut here") < text.index("**Warnings shared by several stacks**")
