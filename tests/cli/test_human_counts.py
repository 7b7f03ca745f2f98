"""Issue 13 item 6: every count a user reads is a human number (100B, 10M, 1.5M), never `1e11`, in every
format: the break-even note "self-hosting stays more expensive up to ..." comes from cli/estimate/decision.py
and reaches the table, markdown, HTML (decision list and offers table) and JSON as it is."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.numbers import human
from tests.builders import cache_dir  # noqa: F401  (autouse: one inventory cache for the module)
from tests.paths import ROOT

runner = CliRunner()
SCIENTIFIC = re.compile(r"\b\d+(?:\.\d+)?e[+-]?\d+\b")


@pytest.mark.parametrize("fmt", ["table", "markdown", "html", "json"])
def test_no_count_in_e_notation_in_any_format(fmt):
    result = runner.invoke(app, ["estimate", "dev", "prod-global", "--format", fmt, "--as-of", "2026-11-24"],
                           env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "up to 100B requests/month" in text  # the note of an offer self-hosting never beats
    if fmt == "json":  # a JSON number may be 1e-05; the strings a user reads may not
        import json
        strings = []

        def walk(v):
            if isinstance(v, str):
                strings.append(v)
            elif isinstance(v, dict):
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
        walk(json.loads(text))
        text = "\n".join(strings)
    assert not SCIENTIFIC.findall(text), SCIENTIFIC.findall(text)[:5]


def test_the_break_even_note_takes_its_number_from_the_one_formatter():
    from cli.estimate.decision import BREAK_EVEN_SEARCH_LIMIT
    from cli.render import documents

    assert documents.human is human  # one home: the renderers import it, they do not retype it
    assert human(BREAK_EVEN_SEARCH_LIMIT) == "100B"


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_render_of_a_json_saved_before_human_counts_shows_none_in_e_notation(tmp_path, fmt):
    """A document saved before human counts carries the note "... up to 1e11 requests/month" as a string;
    `render` (and diff, --compare-to: the same loader) shows it as 100B like a fresh estimate."""
    import json

    result = runner.invoke(app, ["estimate", "dev", "--format", "json", "--as-of", "2026-11-24"],
                           env={"TRADEOFF_INFRA_ROOT": str(ROOT)})
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    notes = [b for b in doc["stacks"][0]["breakEvenRequestsPerMonth"].values() if "100B" in (b.get("note") or "")]
    assert notes, "dev has an offer self-hosting never beats: this test needs its note"
    for b in notes:
        b["note"] = b["note"].replace("100B", "1e11")  # as the estimate wrote it before
    saved = tmp_path / "old.json"
    saved.write_text(json.dumps(doc))
    shown = runner.invoke(app, ["render", str(saved), "--format", fmt], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "up to 100B requests/month" in shown.stdout
    assert not SCIENTIFIC.findall(shown.stdout), SCIENTIFIC.findall(shown.stdout)[:5]
