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
