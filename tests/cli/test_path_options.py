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
    if words == ["prices", "refresh"] and shown != "--out":  # a regression writes here, never the checked-in catalog
        argv = [*argv, "--out", str(tmp_path / "out" / "catalog.json")]
    result = runner.invoke(app, argv, env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert f"error: {shown} '': empty; give a path to a " in result.output, result.output
    assert "is a directory" not in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("blank", [" ", "\t", "  \n"], ids=["space", "tab", "newline"])
@pytest.mark.parametrize("words, shown, argv", PATH_PARAMS, ids=[" ".join(a) for _, _, a in PATH_PARAMS])
def test_a_blank_path_is_bad_input_naming_the_option(tmp_path, monkeypatch, words, shown, argv, blank):
    """`--out " "` (an unset variable beside a stray space, `--out "$OUT "`) wrote a file named " " and said
    "wrote  ", while `estimate " "` was already refused as empty: only white space is no path either."""
    monkeypatch.chdir(tmp_path)
    argv = [blank if a == "" else a for a in argv]
    if words == ["prices", "refresh"] and shown != "--out":  # a regression writes here, never the checked-in catalog
        argv = [*argv, "--out", str(tmp_path / "out" / "catalog.json")]
    result = runner.invoke(app, argv, env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert f"error: {shown} {repr(blank)}: empty; give a path to a " in result.output, result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("words, shown, argv", PATH_PARAMS, ids=[" ".join(a) for _, _, a in PATH_PARAMS])
def test_a_dash_is_not_taken_for_a_file_named_dash(tmp_path, monkeypatch, words, shown, argv):
    """`--out -` (standard output in most tools) wrote a file named "-" into the working folder and exited 0; an
    input option read "-" as a file name. No option here means standard input or output by "-": exit 2, saying so,
    and how to name a file "-" if that was meant."""
    monkeypatch.chdir(tmp_path)
    argv = ["-" if a == "" else a for a in argv]
    if words == ["prices", "refresh"] and shown != "--out":  # a regression writes here, never the checked-in catalog
        argv = [*argv, "--out", str(tmp_path / "out" / "catalog.json")]
    result = runner.invoke(app, argv, env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert f"error: {shown} '-': not standard input or output here; give a path (./- for a file named -)" \
        in result.output, result.output
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_file_named_dash_is_still_reachable(tmp_path, monkeypatch):
    """./- names the file "-": the refusal above is of the bare word only."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["estimate", "dev", "--format", "json", "--out", "./-"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "-").read_text().startswith("{")


# ---------------------------------------------------------------- a file name is never printed raw into an error

HOSTILE = "bad\nerror: forged"  # a file name that, printed raw, adds a line of its own to the error output


def _hostile_cases() -> list[tuple[str, list[str]]]:
    """(id, argv with {json}, {yaml}, {dir}, {missing-stack} standing for hostile paths) for each error path that
    names a file the user gave."""
    return [
        ("diff-contract", ["diff", "{json}", "{json}"]),
        ("diff-directory", ["diff", "{dir}", "{json}"]),
        ("render-contract", ["render", "{json}"]),
        ("compare-to", ["estimate", "dev", "--compare-to", "{json}"]),
        ("price-catalog", ["estimate", "dev", "--price-catalog", "{json}"]),
        ("price-catalog-unreadable", ["validate", "dev", "--price-catalog", "{dir}"]),
        ("prices-catalog", ["prices", "show", "--catalog", "{json}"]),
        ("usage", ["estimate", "dev", "--usage", "{yaml}"]),
        ("usage-unreadable", ["estimate", "dev", "--usage", "{dir}"]),
        ("calibration", ["estimate", "dev", "--calibration", "{json}"]),
        ("out-directory", ["estimate", "dev", "--out", "{dir}"]),
        ("inventory-out-directory", ["inventory", "dev", "--out", "{dir}"]),
        ("render-out-is-input", ["render", "{json}", "--out", "{json}"]),
        ("stacks-dir-empty", ["estimate", "--all", "--stacks-dir", "{dir}"]),
        ("stacks-dir-unknown-name", ["validate", "nosuch", "--stacks-dir", "{dir}"]),
        ("offers-dir", ["prices", "refresh", "--offers-dir", "{json}", "--out", "{dir}/catalog.json"]),
        ("invalid-stack", ["model", "show", "{yaml}"]),
        ("invalid-stack-pin", ["model", "pin", "{yaml}", "--revision", "b" * 40]),
        ("two-invalid-stacks", ["estimate", "{yaml}", "{yaml2}"]),
    ]


HOSTILE_CASES = _hostile_cases()


@pytest.mark.parametrize("argv", [argv for _, argv in HOSTILE_CASES], ids=[name for name, _ in HOSTILE_CASES])
def test_a_file_name_with_a_newline_is_shown_escaped_in_errors(tmp_path, monkeypatch, argv):
    """A file named `bad\\nerror: forged.json` was printed as it is: the error output gained a line `error: forged...`
    the program never wrote. Every error that names a user's file shows a newline in it as `\\x0a`."""
    from tests.paths import ROOT

    monkeypatch.setenv("TRADEOFF_INFRA_ROOT", str(ROOT))
    monkeypatch.chdir(tmp_path)
    paths = {"json": tmp_path / f"{HOSTILE}.json", "yaml": tmp_path / f"Pulumi.{HOSTILE}.yaml",
             "yaml2": tmp_path / f"Pulumi.{HOSTILE}2.yaml", "dir": tmp_path / f"{HOSTILE}.d"}
    paths["json"].write_text("{}", encoding="utf-8")
    paths["yaml"].write_text("config: [\n", encoding="utf-8")
    paths["yaml2"].write_text("config: {}\n", encoding="utf-8")
    paths["dir"].mkdir()
    args = [a.format(**{k: str(v) for k, v in paths.items()}) for a in argv]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert not [line for line in lines if line.startswith("error: forged")], result.output
    assert "bad\\x0aerror: forged" in result.output, result.output
    assert "Traceback" not in result.output


def _saved_dev(tmp_path) -> dict:
    """`estimate dev --format json` as saved, parsed (written to tmp_path/good.json)."""
    import json

    good = tmp_path / "good.json"
    made = runner.invoke(app, ["estimate", "dev", "--format", "json", "--out", str(good)])
    assert made.exit_code == 0, made.output
    return json.loads(good.read_text())


def test_a_hostile_name_is_escaped_where_a_saved_estimate_lacks_a_key_or_a_pin_overflows_the_file(tmp_path, monkeypatch):
    """Two more errors that named the file raw: `render` of a saved estimate that lacks what the format shows, and a
    pin that would push the stack file over the size every command reads."""
    import json

    from infra.spec.loading import MAX_STACK_FILE_BYTES
    from tests.paths import ROOT

    monkeypatch.setenv("TRADEOFF_INFRA_ROOT", str(ROOT))
    monkeypatch.chdir(tmp_path)
    doc = _saved_dev(tmp_path)
    del doc["stacks"][0]["traffic"]
    bad = tmp_path / f"{HOSTILE}.json"
    bad.write_text(json.dumps(doc))
    stack = tmp_path / f"Pulumi.{HOSTILE}.yaml"
    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    stack.write_text(text + "# " + "x" * (MAX_STACK_FILE_BYTES - len(text.encode()) - 200) + "\n")
    for argv in (["render", str(bad), "--format", "html"], ["model", "pin", str(stack), "--revision", "b" * 40]):
        result = runner.invoke(app, argv, env={"COLUMNS": "200"})
        assert result.exit_code == 2, result.output
        assert not [line for line in result.output.splitlines() if line.startswith("error: forged")], result.output
        assert "bad\\x0aerror: forged" in result.output, result.output


def test_a_hostile_offers_dir_is_escaped_where_an_offer_file_in_it_is_not_json(tmp_path, monkeypatch):
    """`prices refresh --offers-dir DIR` with a broken `DIR/AmazonEC2/<region>/index.json`: the error named the file
    through DIR as typed, so a DIR named `bad\\nerror: forged` added a line the program never wrote."""
    monkeypatch.chdir(tmp_path)
    offers = tmp_path / f"{HOSTILE}.d"
    (offers / "AmazonEC2" / "us-east-1").mkdir(parents=True)
    (offers / "AmazonEC2" / "us-east-1" / "index.json").write_text("not json")
    out = tmp_path / "out" / "catalog.json"
    result = runner.invoke(app, ["prices", "refresh", "--offers-dir", str(offers), "--region", "us-east-1",
                                 "--out", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert not [line for line in result.output.splitlines() if line.startswith("error: forged")], result.output
    assert "bad\\x0aerror: forged.d/AmazonEC2/us-east-1/index.json: not JSON" in result.output, result.output
    assert not out.exists()


@pytest.mark.parametrize("argv", [["estimate", "dev", "--stacks-dir", "{long}"],
                                  ["validate", "--all", "--stacks-dir", "{long}"],
                                  ["prices", "refresh", "--source", "bulk", "--offers-dir", "{long}", "--out", "{out}"]],
                         ids=["estimate-stacks-dir", "validate-stacks-dir", "offers-dir"])
def test_a_folder_name_longer_than_the_file_system_allows_is_bad_input(tmp_path, monkeypatch, argv):
    """`--stacks-dir` / `--offers-dir` of a name over 255 bytes: `Path.is_dir()` raises ENAMETOOLONG on Python 3.11
    (it swallows only a missing path), and the command ended in an OSError traceback. Exit 2 naming the option."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out" / "catalog.json"
    args = [a.format(long="d" * 300, out=out) for a in argv]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2, (result.output, result.exception)
    option = argv[-2] if argv[-2].endswith("-dir") else "--offers-dir"
    text = " ".join(result.output.split())  # wrapped to COLUMNS: the long name has a line of its own
    assert text.startswith(f"error: {option} "), result.output
    assert "not a directory" in text and "File name too long" in text, result.output
    assert not out.exists()


def test_a_stacks_dir_from_the_environment_the_system_refuses_is_bad_input(tmp_path, monkeypatch):
    """TRADEOFF_INFRA_STACKS_DIR of a name over 255 bytes: `estimate --all` globbed it and ended in an OSError
    traceback (Path.glob -> is_dir on Python 3.11). It finds no stack files there: exit 2, saying where it looked."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["estimate", "--all"], env={"COLUMNS": "200", "TRADEOFF_INFRA_STACKS_DIR": "e" * 300})
    assert result.exit_code == 2, (result.output, result.exception)
    text = " ".join(result.output.split())  # wrapped to COLUMNS: the long name has a line of its own
    assert text.startswith("error: --all: no Pulumi.<stack>.yaml files in eee"), result.output


@pytest.mark.parametrize("argv", [["model", "show", "{stack}"], ["model", "pin", "{stack}", "--revision", "c" * 40],
                                  ["model", "pin", "{stack}", "--revision", "d" * 40, "--region", "us-east-1",
                                   "--note", "canary\nerror: forged note"]],
                         ids=["show", "pin", "pin-region-note"])
def test_model_output_shows_a_hostile_stack_file_name_escaped(tmp_path, monkeypatch, argv):
    """The errors showed a file named `Pulumi.bad\\nerror: forged.yaml` escaped, but `model show` / `model pin` printed
    its stack name, path and rollback hint raw on standard output (and a pin note with a newline): each added a line
    `error: forged ...` the program never wrote."""
    from tests.paths import ROOT

    monkeypatch.setenv("TRADEOFF_INFRA_ROOT", str(ROOT))
    monkeypatch.chdir(tmp_path)
    stack = tmp_path / f"Pulumi.{HOSTILE}.yaml"
    stack.write_text((ROOT / "stacks" / "Pulumi.prod-us.yaml").read_text())
    result = runner.invoke(app, [a.format(stack=stack) for a in argv], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert not [line for line in result.output.splitlines() if line.startswith("error: forged")], result.output
    assert "bad\\x0aerror: forged" in result.output, result.output
    if argv[1] == "pin":
        shown = runner.invoke(app, ["model", "show", str(stack)], env={"COLUMNS": "200"})
        assert shown.exit_code == 0, shown.output
        assert not [line for line in shown.output.splitlines() if line.startswith("error: forged")], shown.output


@pytest.mark.parametrize("command", ["status", "actuals"])
def test_live_commands_name_a_hostile_stack_escaped_where_its_kubeconfigs_cannot_be_read(tmp_path, monkeypatch,
                                                                                       command):
    """`status` / `actuals` of a stack file named `Pulumi.bad\\nerror: forged.yaml` with no --kubeconfig and no Pulumi
    CLI: the error "reading stack <name>'s kubeconfigs needs the Pulumi CLI" printed the name raw, forging a line."""
    from tests.paths import ROOT

    monkeypatch.setenv("TRADEOFF_INFRA_ROOT", str(ROOT))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # no pulumi here
    monkeypatch.chdir(tmp_path)
    stack = tmp_path / f"Pulumi.{HOSTILE}.yaml"
    stack.write_text((ROOT / "stacks" / "Pulumi.prod-us.yaml").read_text())
    result = runner.invoke(app, [command, str(stack)], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert not [line for line in result.output.splitlines() if line.startswith("error: forged")], result.output
    assert "stack bad\\x0aerror: forged's kubeconfigs needs the Pulumi CLI" in result.output, result.output


@pytest.mark.parametrize("argv, shown", [(["estimate", "dev", "--usage", "{loop}"], "--usage"),
                                         (["estimate", "dev", "--format", "json", "--price-catalog", "{loop}"],
                                          "--price-catalog"),
                                         (["estimate", "{loop}"], "error: loop is invalid"),
                                         (["validate", "{loop}"], "✗ loop")],
                         ids=["usage", "price-catalog", "estimate-stack", "validate-stack"])
def test_a_symlink_loop_is_bad_input_not_a_traceback(tmp_path, monkeypatch, argv, shown):
    """`--usage loop` where `loop` is a symlink to itself (or a stack file given as such a path): Path.resolve() raises
    RuntimeError("Symlink loop") on Python 3.11 while keying the cache or telling the stack files apart, and the
    command ended in a traceback. Exit 2, naming the option, saying why."""
    from tests.paths import ROOT

    monkeypatch.setenv("TRADEOFF_INFRA_ROOT", str(ROOT))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    result = runner.invoke(app, [a.format(loop="./loop") for a in argv], env={"COLUMNS": "200"})
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.output.startswith(shown if " " in shown else f"error: {shown}"), result.output
    assert "cannot read: Too many levels of symbolic links" in result.output, result.output


def test_render_names_a_saved_stack_and_its_file_escaped_in_its_errors(tmp_path, monkeypatch):
    """A saved estimate whose `stack` / `stackFile` hold a line break (a stack file named so when it was saved): render's
    "both hold stack ... (from FILE)", "holds stack ... twice" and "stacks[0] (NAME) lacks ..." printed them raw."""
    import json

    from tests.paths import ROOT

    monkeypatch.setenv("TRADEOFF_INFRA_ROOT", str(ROOT))
    monkeypatch.chdir(tmp_path)
    doc = _saved_dev(tmp_path)
    doc["stacks"][0]["stack"] = "dev\nerror: forged name"
    doc["stacks"][0]["stackFile"] = "stacks/Pulumi.dev\nerror: forged file.yaml"
    (tmp_path / "a.json").write_text(json.dumps(doc))
    (tmp_path / "b.json").write_text(json.dumps(doc))
    twice = json.loads(json.dumps(doc))
    twice["stacks"].append(twice["stacks"][0])
    (tmp_path / "twice.json").write_text(json.dumps(twice))
    lacking = json.loads(json.dumps(doc))
    del lacking["stacks"][0]["traffic"]
    (tmp_path / "lacking.json").write_text(json.dumps(lacking))
    for argv in (["render", "a.json", "b.json"], ["render", "twice.json"], ["render", "lacking.json", "--format", "html"]):
        result = runner.invoke(app, argv, env={"COLUMNS": "200"})
        assert result.exit_code == 2, result.output
        assert not [line for line in result.output.splitlines() if line.startswith("error: forged")], result.output
        assert "\\x0aerror: forged" in result.output, result.output
