"""The command line's shape: one module per command, one error type with one printer, one stack loader."""

from __future__ import annotations

import importlib
import re
from datetime import date

import pytest
from typer.testing import CliRunner

from cli import main
from cli.errors import CliError, failed
from cli.main import app
from cli.stacks import LoadedStack, load_stack, load_stacks, resolve
from tests.paths import ROOT

runner = CliRunner()
LONG = "no-such-stack-" + "x" * 90  # longer than the 80 columns a console without a terminal gets


def test_every_command_is_one_module_under_cli_commands():
    for name, module in main.COMMANDS.items():
        assert module == f"cli.commands.{name}", f"{name}: its module is {module}, not cli/commands/{name}.py"
        assert hasattr(importlib.import_module(module), "app"), f"{module} has no Typer app"


def test_only_the_one_printer_writes_error_lines():
    """No command prints its own `error:` line: each raises CliError and `cli/errors.py` prints it."""
    printers = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "cli").rglob("*.py")
                      if re.search(r"""\[red\]error:|["']error: |style\(["']error:""", p.read_text()))
    assert printers == ["cli/errors.py"]


def test_no_command_module_imports_another():
    for path in sorted((ROOT / "cli" / "commands").glob("*.py")):
        imports = re.findall(r"^from (cli\.commands\.\w+) import|^import (cli\.commands\.\w+)", path.read_text(), re.M)
        assert not [m for pair in imports for m in pair if m], f"{path.name} imports another command module: {imports}"


@pytest.mark.parametrize("args", [
    ["validate", LONG],
    ["estimate", LONG, "--as-of", "2026-11-24"],
    ["inventory", LONG],
    ["model", "show", LONG],
    ["model", "pin", LONG, "--revision", "0" * 40],
    ["prices", "show", "--catalog", f"/nonexistent/{LONG}.json"],
])
def test_a_bad_argument_is_one_unwrapped_error_line_and_exit_2(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and LONG in errors[0], f"{args[0]}: the error is not one line naming {LONG!r}:\n{result.output}"
    assert "Traceback" not in result.output


def test_an_invalid_stack_prints_one_line_per_problem_naming_its_key(tmp_path):
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text((ROOT / "stacks" / "Pulumi.dev.yaml").read_text().replace("maxModelLen: 8192", "maxModelLen: -1"))
    for args in (["inventory", str(path)], ["model", "show", str(path)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert f"error: {path} is invalid:\n  - model.maxModelLen: " in result.output, result.output


WARNING = ("the cached inventory of stack dev was written by another version of the program and is ignored; run "
           "`tradeoff-infra estimate dev --no-cache` to rebuild it, or delete /tmp/tradeoff-infra/cache/dev-0123456789"
           "abcdef.json by hand; prices are read from infra/data/aws_prices.json as of 2026-11-24 (catalog age 6 days)")


def test_a_long_warning_is_wrapped_to_columns_with_a_hanging_indent(monkeypatch, capsys):
    """A 300-character warning was one line whatever the width: now wrapped like validate's standard error
    (grid.hang), `warning:` on the first line, continuations indented, the command, path and numbers whole."""
    from cli.errors import print_warnings

    monkeypatch.setenv("COLUMNS", "60")
    print_warnings([WARNING])
    lines = capsys.readouterr().err.splitlines()
    assert len(WARNING) > 250 and len(lines) > 4, lines
    assert lines[0].startswith("warning: the cached inventory")
    assert all(line.startswith("  ") and not line.startswith("   ") for line in lines[1:]), lines
    assert all(len(line) <= 60 for line in lines if " " in line.strip()), lines  # a lone long path may be wider
    assert " ".join(" ".join(lines).split()) == f"warning: {WARNING}"
    for whole in ("`tradeoff-infra estimate dev --no-cache`", "/tmp/tradeoff-infra/cache/dev-0123456789abcdef.json",
                  "infra/data/aws_prices.json", "2026-11-24"):
        assert any(whole in line for line in lines), (whole, lines)


def test_an_error_and_its_details_are_wrapped_each_under_its_own_start(monkeypatch, capsys):
    from cli.errors import print_error

    monkeypatch.setenv("COLUMNS", "50")
    print_error(CliError("stacks/Pulumi.dev.yaml is invalid: " + "every word of this message " * 4,
                         details=("regions[0].gpuPools[0].instanceType: " + "no price for g5.xlarge here " * 3,)))
    lines = capsys.readouterr().err.splitlines()
    detail = next(i for i, line in enumerate(lines) if line.startswith("  - "))
    assert lines[0].startswith("error: stacks/Pulumi.dev.yaml is invalid:") and detail > 1, lines
    assert all(line.startswith("  ") and not line.startswith("  - ") for line in lines[1:detail]), lines
    assert len(lines) > detail + 1 and all(line.startswith("    ") for line in lines[detail + 1:]), lines
    assert all(len(line) <= 50 for line in lines if " " in line.strip()), lines


def test_without_a_terminal_or_columns_each_message_stays_one_line(monkeypatch, capsys):
    """A log or a pipe (stderr not a terminal, COLUMNS unset): one line per message, as before, for `grep`."""
    from cli.errors import print_warnings

    monkeypatch.delenv("COLUMNS", raising=False)
    print_warnings([WARNING])
    assert capsys.readouterr().err == f"warning: {WARNING}\n"


def test_on_a_terminal_the_error_is_wrapped_to_that_terminals_width(tmp_path):
    """Standard error a 60-column terminal, standard output a pipe, COLUMNS unset: the error is wrapped to the
    terminal standard error is on."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    try:
        try:
            done = subprocess.run([sys.executable, "-m", "cli.main", "estimate", LONG], stdout=subprocess.PIPE,
                                  stderr=follower, cwd=ROOT, env=env, timeout=60)
        finally:
            os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed, everything is read
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    text = re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode()).replace("\r\n", "\n")
    lines = [line for line in text.splitlines() if line]
    assert done.returncode == 2, text
    assert lines[0].startswith("error: ") and len(lines) > 2, lines
    assert all(len(line) <= 60 for line in lines if " " in line.strip()), lines
    assert LONG in " ".join(text.split())


def test_cli_error_carries_its_exit_code():
    assert CliError("x").exit_code == 2 and failed("x").exit_code == 1


def test_the_one_loader_returns_a_typed_stack(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADEOFF_INFRA_CACHE_DIR", str(tmp_path))
    ref = resolve("dev")
    plain = load_stack(ref)
    assert isinstance(plain, LoadedStack) and plain.ref == ref and plain.inventory is None and plain.offers == ()
    assert plain.spec.regions[0].region == plain.config["regions"][0]["region"]
    [full] = load_stacks([ref], ROOT, as_of=date(2026, 11, 24), inventory=False, include_operations=False)
    assert full.spec.operations.include is False, "--exclude-operations must reach the loaded spec"
    assert len(full.offers) == len(full.spec.api_comparison) and full.api_source


@pytest.mark.parametrize("old", ["cli/models", "cli/stackfile", "cli/estimate_cmd", "cli/pricing/mapping"])
def test_no_re_export_shim_outlives_the_merge(old):
    """The restructure kept old import paths alive only while the parallel branches merged; a shim left
    behind is a second name for one module, and new code would import it."""
    assert not (ROOT / f"{old}.py").exists() and not (ROOT / old / "__init__.py").exists(), (
        f"{old} only re-exports a moved module: import the new path instead")


def test_one_error_type_under_one_name():
    """`cli.stacks.UsageError` was an old second name for CliError; one error type has one name."""
    import cli.stacks
    assert not hasattr(cli.stacks, "UsageError")


def test_the_estimate_package_exports_no_private_name():
    """`cli/estimate/__init__.py` orchestrates; private helpers are imported from the module that holds them
    (the `_tiered`, `_alb_lcu_hours`, `_price_note`, `_unset_keys` aliases were leftovers of the split)."""
    import cli.estimate

    assert not [name for name in cli.estimate.__all__ if name.startswith("_")]
    assert not [name for name in vars(cli.estimate) if name.startswith("_") and not name.startswith("__")
                and name not in ("_unique",)]
