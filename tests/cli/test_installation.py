"""A plain `pip install .` installs cli/ and infra/ without charts/: the first command ended in a FileNotFoundError
traceback for charts/vllm/values.schema.json. It now says what is missing and how to install, exit 1."""

from __future__ import annotations

from typer.testing import CliRunner

from cli import main


def test_an_installation_without_the_chart_says_so_without_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setattr(main, "CHART_SCHEMA", str(tmp_path / "site-packages" / "charts" / "vllm" / "values.schema.json"))
    result = CliRunner().invoke(main.app, ["validate", "dev"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    said = " ".join(result.output.split())
    assert "this installation has no vLLM chart" in said and "./scripts/setup.sh" in said, said


def test_the_checkout_has_the_chart():
    import os

    assert os.path.isfile(main.CHART_SCHEMA), main.CHART_SCHEMA


def test_the_root_help_without_the_chart_is_the_error_alone(tmp_path, monkeypatch):
    """`tradeoff-infra --help` (and a bare `tradeoff-infra`) printed the usage and options, no command, then the
    missing-chart error: half a help. It is now the error alone, exit 1."""
    monkeypatch.setattr(main, "CHART_SCHEMA", str(tmp_path / "site-packages" / "charts" / "vllm" / "values.schema.json"))
    for args in (["--help"], []):
        result = CliRunner().invoke(main.app, args)
        assert result.exit_code == 1, result.output
        assert "Usage" not in result.output and "this installation has no vLLM chart" in result.output, result.output
