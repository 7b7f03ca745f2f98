"""Stack lookup from any directory (issue 13.4): names are looked up in `--stacks-dir`, else the stackConfigDir
of the nearest Pulumi.yaml above the current directory; paths work from anywhere; `--all` combines with paths;
hints print the argument that works from where the user stands. Every test runs the CLI from a temporary
directory outside the repository."""

from __future__ import annotations

import os
import pathlib
import shutil

import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.pins import edits
from infra.spec import load_stack_file
from tests.builders import cache_dir  # noqa: F401 - autouse: one inventory cache for the module
from tests.paths import ROOT

runner = CliRunner()
REV_B = "b" * 40


@pytest.fixture()
def elsewhere(tmp_path, monkeypatch) -> pathlib.Path:
    """A working directory outside the repository, with no project settings in the environment."""
    monkeypatch.delenv("TRADEOFF_INFRA_ROOT", raising=False)
    monkeypatch.delenv("TRADEOFF_INFRA_STACKS_DIR", raising=False)
    monkeypatch.setenv(edits.NOW_ENV, "2026-11-24T03:00:00Z")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def own_project(where: pathlib.Path, config_dir: str | None = "envs") -> pathlib.Path:
    """A Pulumi project of the user's own: Pulumi.yaml with stackConfigDir, a `mine` stack in it."""
    text = (ROOT / "Pulumi.yaml").read_text().replace("stackConfigDir: stacks", "")
    if config_dir:
        text += f"stackConfigDir: {config_dir}\n"
    (where / "Pulumi.yaml").write_text(text)
    folder = where / (config_dir or ".")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "stacks" / "Pulumi.dev.yaml", folder / "Pulumi.mine.yaml")
    return folder


def test_names_come_from_the_nearest_pulumi_yaml_stack_config_dir(elsewhere):
    own_project(elsewhere)
    inner = elsewhere / "deep" / "er"
    inner.mkdir(parents=True)
    os.chdir(inner)  # the fixture's monkeypatch.chdir restores the cwd
    result = invoke("validate", "mine")
    assert result.exit_code == 0, result.output
    assert "✓ mine is valid" in result.output
    assert invoke("validate", "--all").exit_code == 0


def test_stacks_dir_and_stack_option_work_from_anywhere(elsewhere):
    result = invoke("validate", "--stack", "dev", "--stacks-dir", str(ROOT / "stacks"))
    assert result.exit_code == 0, result.output
    assert "✓ dev is valid" in result.output
    bad = invoke("validate", "--stacks-dir", str(elsewhere / "none"), "dev")
    assert bad.exit_code == 2 and "--stacks-dir" in bad.output


def test_all_combines_with_paths(elsewhere):
    folder = own_project(elsewhere, "envs")
    extra = elsewhere / "Pulumi.extra.yaml"
    shutil.copy(ROOT / "stacks" / "Pulumi.dev.yaml", extra)
    result = invoke("validate", "--all", "Pulumi.extra.yaml", str(folder / "Pulumi.mine.yaml"))
    assert result.exit_code == 0, result.output
    assert result.output.count("✓ mine is valid") == 1  # named and found by --all: once
    assert "✓ extra is valid" in result.output


def test_a_misspelt_name_suggests_the_near_one(elsewhere):
    own_project(elsewhere)
    result = invoke("validate", "mne")
    assert result.exit_code == 2
    assert "did you mean mine?" in result.output


def test_undo_hint_after_pin_of_a_file_names_what_works_from_here(elsewhere):
    """A file outside the stacks folder: the hint prints its path (the name would not resolve), and it works."""
    copy = elsewhere / "sub" / "Pulumi.dev.yaml"
    copy.parent.mkdir()
    shutil.copy(ROOT / "stacks" / "Pulumi.dev.yaml", copy)
    result = invoke("model", "pin", "sub/Pulumi.dev.yaml", "--revision", REV_B)
    assert result.exit_code == 0, result.output
    (hint,) = [line for line in result.output.splitlines() if line.startswith("undo: ")]
    assert hint == "undo: tradeoff-infra model rollback sub/Pulumi.dev.yaml", hint
    undone = invoke(*hint.removeprefix("undo: tradeoff-infra ").split())
    assert undone.exit_code == 0, undone.output
    assert load_stack_file(copy).model.revision == load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml").model.revision


def test_undo_hint_names_the_stack_where_the_name_resolves(elsewhere):
    folder = own_project(elsewhere)
    result = invoke("model", "pin", "mine", "--revision", REV_B)
    assert result.exit_code == 0, result.output
    assert "undo: tradeoff-infra model rollback mine" in result.output
    result = invoke("model", "pin", str(folder / "Pulumi.mine.yaml"), "--revision", "c" * 40)
    assert "undo: tradeoff-infra model rollback mine" in result.output


def test_pin_with_stacks_dir_hints_the_path_since_the_bare_name_would_not_resolve(elsewhere):
    folder = elsewhere / "elsewhere-stacks"
    folder.mkdir()
    shutil.copy(ROOT / "stacks" / "Pulumi.dev.yaml", folder / "Pulumi.far.yaml")
    result = invoke("model", "pin", "far", "--stacks-dir", str(folder), "--revision", REV_B)
    assert result.exit_code == 0, result.output
    assert "undo: tradeoff-infra model rollback elsewhere-stacks/Pulumi.far.yaml" in result.output
    assert invoke("model", "show", "far").exit_code == 2  # without --stacks-dir the name is not found here
    shown = invoke("model", "show", "far", "--stacks-dir", str(folder))
    assert shown.exit_code == 0 and "model rollback elsewhere-stacks/Pulumi.far.yaml --to N" in shown.output


def test_inventory_takes_stack_option_from_anywhere(elsewhere):
    result = invoke("inventory", "--stack", "dev", "--stacks-dir", str(ROOT / "stacks"), "--format", "json")
    assert result.exit_code == 0, result.output
    assert invoke("inventory").exit_code == 2


# Every command that works on one stack takes it as STACK or `--stack NAME`, with `--stacks-dir` (one option
# definition and one loader: cli/stacks.py `OneStackArgument`, `OneStackOption`, `one_stack`).
ONE_STACK_COMMANDS = [["model", "show"], ["model", "pin", "--revision", REV_B], ["model", "rollback"], ["recommend"],
                      ["status"], ["actuals"], ["inventory"]]


def far_stacks(where: pathlib.Path) -> pathlib.Path:
    folder = where / "elsewhere-stacks"
    folder.mkdir(exist_ok=True)
    shutil.copy(ROOT / "stacks" / "Pulumi.dev.yaml", folder / "Pulumi.far.yaml")
    return folder


@pytest.mark.parametrize("line", ONE_STACK_COMMANDS, ids=lambda line: " ".join(line[:2]))
def test_every_one_stack_command_takes_stack_option_and_stacks_dir(elsewhere, line):
    """`model show/pin/rollback`, `recommend`, `status` and `actuals` answered "No such option: --stack"."""
    folder = far_stacks(elsewhere)
    result = invoke(*line, "--stack", "fra", "--stacks-dir", str(folder))
    assert result.exit_code == 2, result.output
    assert "No such option" not in result.output
    assert "no stack file" in result.output and "did you mean far?" in result.output, result.output
    both = invoke(*line, "far", "--stack", "dev", "--stacks-dir", str(folder))
    assert both.exit_code == 2 and "name one stack" in both.output, both.output
    neither = invoke(*line, "--stacks-dir", str(folder))
    assert neither.exit_code == 2 and "STACK or --stack NAME" in neither.output, neither.output


def test_stack_option_finds_the_stack_in_stacks_dir(elsewhere):
    folder = far_stacks(elsewhere)
    shown = invoke("model", "show", "--stack", "far", "--stacks-dir", str(folder), "--format", "json")
    assert shown.exit_code == 0, shown.output
    pinned = invoke("model", "pin", "--stack", "far", "--stacks-dir", str(folder), "--revision", REV_B)
    assert pinned.exit_code == 0, pinned.output
    assert load_stack_file(folder / "Pulumi.far.yaml").model.revision == REV_B
    back = invoke("model", "rollback", "-s", "far", "--stacks-dir", str(folder))
    assert back.exit_code == 0, back.output
    assert load_stack_file(folder / "Pulumi.far.yaml").model.revision != REV_B
    rec = invoke("recommend", "--stack", "far", "--stacks-dir", str(folder), "--top", "1", "--format", "json")
    assert rec.exit_code == 0, rec.output
    # actuals got as far as asking the stack's Prometheus (nothing listens there): the stack was found and read
    actual = invoke("actuals", "--stack", "far", "--stacks-dir", str(folder), "--prometheus-url", "http://127.0.0.1:9")
    assert actual.exit_code == 1 and "no stack file" not in actual.output, actual.output


def test_a_name_without_a_near_one_leaves_no_dangling_hint_and_a_directory_is_not_suggested_as_itself(elsewhere):
    folder = far_stacks(elsewhere)
    (folder / "Pulumi.dir.yaml").mkdir()  # a directory named like a stack file
    unknown = invoke("validate", "--stacks-dir", str(folder), "zzzz")
    assert unknown.exit_code == 2
    assert "; (known" not in unknown.output and "; known stacks in" in unknown.output, unknown.output
    assert f"known stacks in {folder}: far (give a path" in " ".join(unknown.output.split()), unknown.output  # not the directory
    named = invoke("validate", "--stacks-dir", str(folder), "dir")
    assert named.exit_code == 2 and "is a directory, not a stack file" in named.output, named.output
    assert "did you mean dir?" not in named.output
    by_path = invoke("validate", str(folder / "Pulumi.dir.yaml"))
    assert by_path.exit_code == 2 and "a directory, not a stack file" in by_path.output, by_path.output
    assert f"did you mean {folder / 'Pulumi.dir.yaml'}?" not in by_path.output


@pytest.mark.parametrize("args, option", [
    (["validate", "--stack", ""], "--stack"), (["validate", ""], "STACK"), (["estimate", "--stack", " "], "--stack"),
    (["inventory", "--stack", ""], "--stack"), (["model", "show", "--stack", ""], "--stack"),
    (["validate", "dev", "--stack", "missing-one"], "--stack")])
def test_an_empty_stack_name_is_bad_input_naming_the_option_used(elsewhere, args, option):
    """`--stack ""` with no stacks folder here fell back to the installed project's `stacks/` (`Pulumi..yaml`) and
    the error said `STACK`: an empty name is bad input, and every error names the option the user used."""
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert f"error: {option} '" in result.output
    assert "Pulumi..yaml" not in result.output and "Traceback" not in result.output
