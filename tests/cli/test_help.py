"""Every command's `--help` has examples and exit codes, and shows a flag as a flag, not `<bool>`
(issue 13 item 8); `model show --format json` as `--format` everywhere else."""

from __future__ import annotations

import json

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
    assert "pip install 'tradeoff-infra[aws]'" in result.output and not out.exists()
