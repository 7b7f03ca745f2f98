"""Path options and arguments (`--out`, `--price-catalog`, `--stacks-dir`, diff's OLD ...): an empty value is bad
input named by the option the user typed, and a file name is never printed raw into an error message."""

from __future__ import annotations

import importlib
import pathlib

import pytest
import typer
from typer.testing import CliRunner

from cli.main import COMMANDS, app

runner = CliRunner()

# what a command needs besides the parameter under test for its parsing to reach that parameter
_REQUIRED = {("diff", "old"): ["{}", "b.json"], ("diff", "new"): ["a.json", "{}"], ("render", "files"): ["{}"]}
_ARGUMENT_NAMES = {"files": "ESTIMATE"}  # how render's errors name its FILES
_FILLER = {"diff": ["a.json", "b.json"], "render": ["a.json"]}


def _path_params() -> list[tuple[list[str], str, list[str]]]:
    """(command words, name shown in errors, argv with "" for the parameter) for every path parameter of every
    command: found from the commands themselves, so a path option added later is covered too."""
    found = []
    for name, module in COMMANDS.items():
        command = typer.main.get_command(importlib.import_module(module).app)
        subs = getattr(command, "commands", None) or {name: command}
        for sub, cmd in subs.items():
            words = [name] if sub == name else [name, sub]
            for param in cmd.params:
                annotation = param.type_descriptor.annotation
                if annotation not in (pathlib.Path, list[pathlib.Path]):
                    continue
                if param.opts[0].startswith("-"):
                    found.append((words, param.opts[0], [*words, *_FILLER.get(name, []), param.opts[0], ""]))
                else:
                    args = [("" if a == "{}" else a) for a in _REQUIRED[(name, param.name)]]
                    found.append((words, _ARGUMENT_NAMES.get(param.name, param.name.upper()), [*words, *args]))
    return found


PATH_PARAMS = _path_params()


def test_every_command_path_parameter_is_found():
    """The table below is not empty by accident: the options the issue names are among those checked."""
    names = {(tuple(words), shown) for words, shown, _ in PATH_PARAMS}
    assert {(("estimate",), "--out"), (("estimate",), "--price-catalog"), (("estimate",), "--stacks-dir"),
            (("diff",), "OLD"), (("prices", "refresh"), "--offers-dir")} <= names


@pytest.mark.parametrize("words, shown, argv", PATH_PARAMS, ids=[" ".join(a) for _, _, a in PATH_PARAMS])
def test_an_empty_path_is_bad_input_naming_the_option(tmp_path, monkeypatch, words, shown, argv):
    """`--out ""` reached the command as `.` and the error said ". is a directory": exit 2, the option as typed,
    the value called empty."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, argv, env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert f"error: {shown} '': empty; give a path to a " in result.output, result.output
    assert "is a directory" not in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written
