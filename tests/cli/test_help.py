"""Every command's `--help` has examples and exit codes, and shows a flag as a flag, not `<bool>`
(issue 13 item 8); `model show --format json` as `--format` everywhere else."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from cli.main import COMMANDS, app

runner = CliRunner()

COMMAND_LINES = [["validate"], ["estimate"], ["recommend"], ["diff"], ["render"], ["inventory"], ["model", "pin"], ["model", "rollback"],
                 ["model", "show"], ["prices", "show"], ["prices", "refresh"], ["status"], ["actuals"]]


def test_every_command_is_listed_here():
    assert {line[0] for line in COMMAND_LINES} == set(COMMANDS)


@pytest.mark.parametrize("line", COMMAND_LINES, ids=" ".join)
def test_help_has_examples_and_exit_codes_and_plain_flags(line):
    result = runner.invoke(app, [*line, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Examples:" in result.output and f"tradeoff-infra {' '.join(line)}" in result.output
    assert "Exit codes: 0" in result.output
    assert "<bool>" not in result.output


GROUP_LINES = [[], ["model"], ["prices"]]


def _help(line: list[str]) -> str:
    result = runner.invoke(app, [*line, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("line", GROUP_LINES, ids=lambda line: " ".join(line) or "root")
def test_group_help_has_examples_and_exit_codes(line):
    """The root's, `model`'s and `prices`' own --help, not only their commands'."""
    text = _help(line)
    assert "Examples:" in text and f"tradeoff-infra {' '.join(line)}".strip() in text
    assert "Exit codes: 0" in text


def _commands(command, path: list[str]):
    """(path, click command) of the root, every group and every command under them."""
    ctx = command.make_context("tradeoff-infra", [], resilient_parsing=True) if not path else None
    yield path, command
    if hasattr(command, "list_commands"):
        for name in command.list_commands(ctx):
            yield from _commands(command.get_command(ctx, name), [*path, name])


RICH_TAG = re.compile(r"\\?\[[a-z#/@][^\[]*?\]")
"""What rich reads as a markup tag (and drops from the text) unless escaped: `[aws]`, `[bold]`; not `[REGION=]URL`."""


def test_no_text_in_square_brackets_is_swallowed_by_the_help():
    """Rich markup read `tradeoff-infra[aws]` as `tradeoff-infra` plus a tag: `prices refresh --help` told the
    user to install the wrong thing. Every `[...]` written in a help text, an epilog or an option's help is
    printed as written."""
    from typer.main import get_command

    checked = 0
    for path, command in _commands(get_command(app), []):
        texts = [command.help or "", command.epilog or "", *(getattr(p, "help", None) or "" for p in command.params)]
        wanted = [m.group(0).replace("\\[", "[") for text in texts for m in RICH_TAG.finditer(text)]
        if not wanted:
            continue
        shown = "".join(c for c in _help(path) if not c.isspace() and c not in "│")
        for tag in wanted:
            checked += 1
            assert "".join(tag.split()) in shown, (path, tag)
    assert checked  # `[aws]` at least
    assert "pip install -e '.[aws]'" in _help(["prices", "refresh"])


def test_the_diff_example_names_the_stack_file_as_it_is_named():
    text = _help(["diff"])
    assert "stacks/Pulumi.dev.yaml" in text and "stacks/dev.yaml" not in text


def test_root_help_shows_flags_plainly():
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "<bool>" not in result.output and "--version" in result.output


def test_model_show_format_json_is_the_json_alias():
    by_format = runner.invoke(app, ["model", "show", "dev", "--format", "json"])
    by_flag = runner.invoke(app, ["model", "show", "dev", "--json"])
    assert by_format.exit_code == 0, by_format.output
    assert json.loads(by_format.stdout) == json.loads(by_flag.stdout)
    assert "--json" not in runner.invoke(app, ["model", "show", "--help"], env={"COLUMNS": "200"}).output


def test_prices_refresh_api_without_boto3_names_the_aws_extra(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "boto3", None)  # `import boto3` raises ImportError
    out = tmp_path / "prices.json"
    result = runner.invoke(app, ["prices", "refresh", "--source", "api", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "pip install -e '.[aws]'" in result.output and not out.exists()
