"""`tradeoff-infra model show / pin / rollback`: sequences, regions, bad input, --apply."""

from __future__ import annotations

import json
import pathlib
import shutil

import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.pins import apply, edits
from infra.spec import load_stack_file
from tests.builders import project  # noqa: F401  (fixture: the stacks copied to a temporary root)
from tests.paths import ROOT

# The image the shipped stacks pin (one home: the stack file).
IMAGE_SHIPPED = load_stack_file(ROOT / "stacks" / "Pulumi.prod-us.yaml").model.image
IMAGE_V0111 = "vllm/vllm-openai:v0.11.1@sha256:" + "a" * 64
REV_SHIPPED = "0e9e39f249a16976918f6564b8830bc894c89659"
REV_B = "b" * 40
REV_C = "c0ffee" + "1" * 34

runner = CliRunner()


def stack_path(project: pathlib.Path, name: str = "prod-us") -> pathlib.Path:
    return project / "stacks" / f"Pulumi.{name}.yaml"


def run(*args: str, expect: int = 0):
    result = runner.invoke(app, ["model", *args])
    assert result.exit_code == expect, f"model {' '.join(args)} exited {result.exit_code}, not {expect}:\n{result.output}"
    return result


def pins(project: pathlib.Path, name: str = "prod-us") -> dict[str, str]:
    spec = load_stack_file(stack_path(project, name))
    return {r.region: spec.model_for(r)[1] for r in spec.regions}


def test_help_lists_the_commands():
    result = runner.invoke(app, ["model", "--help"])
    assert result.exit_code == 0, result.output
    for command in ("show", "pin", "rollback"):
        assert command in result.output, f"`model --help` does not list {command}"


def test_show_prints_the_pin_per_region_and_empty_history(project):
    out = run("show", "prod-us").output
    assert REV_SHIPPED in out
    assert "us-east-1" in out and "us-west-2" in out
    assert "(none yet)" in out
    data = json.loads(run("show", "prod-us", "--json").output)
    assert data["pin"]["revision"] == REV_SHIPPED and data["pin"]["image"] == IMAGE_SHIPPED
    assert [r["follows"] for r in data["regions"]] == ["stack-wide pin", "stack-wide pin"]
    assert data["history"] == []


def test_pin_rollback_roll_forward_sequence(project, monkeypatch):
    path = stack_path(project)
    run("pin", "prod-us", "--revision", REV_B, "--image", IMAGE_V0111, "--note", "vLLM 0.11.1")
    assert pins(project) == {"us-east-1": REV_B, "us-west-2": REV_B}
    spec = load_stack_file(path)
    assert spec.model.image == IMAGE_V0111 and spec.model.pin_note == "vLLM 0.11.1"
    assert spec.model.pinned_at == "2026-11-24T03:00:00Z"
    assert [(h.revision, h.image, h.replaced_at) for h in spec.model.history] == [
        (REV_SHIPPED, IMAGE_SHIPPED, "2026-11-24T03:00:00Z")
    ]

    monkeypatch.setenv(edits.NOW_ENV, "2026-11-24T03:10:00Z")
    out = run("rollback", "prod-us", "--note", "TTFT alert").output
    assert "undo: tradeoff-infra model rollback prod-us" in out
    spec = load_stack_file(path)
    assert (spec.model.revision, spec.model.image) == (REV_SHIPPED, IMAGE_SHIPPED)
    assert spec.model.pin_note == f"rolled back from {REV_B[:12]} to entry 1: TTFT alert"
    # The pin rolled back from stays in history as entry 1 (newest last in the file).
    assert [h.revision for h in spec.model.history] == [REV_SHIPPED, REV_B]
    assert spec.model.history[-1].note == "vLLM 0.11.1"
    assert spec.model.history[-1].pinned_at == "2026-11-24T03:00:00Z"
    assert spec.model.history[-1].replaced_at == "2026-11-24T03:10:00Z"

    monkeypatch.setenv(edits.NOW_ENV, "2026-11-24T03:20:00Z")
    run("rollback", "prod-us")  # roll forward: entry 1 is the pin rolled back from
    spec = load_stack_file(path)
    assert (spec.model.revision, spec.model.image) == (REV_B, IMAGE_V0111)
    assert [h.revision for h in spec.model.history] == [REV_SHIPPED, REV_B, REV_SHIPPED]


def test_rollback_steps_and_to(project):
    run("pin", "prod-us", "--revision", REV_B)
    run("pin", "prod-us", "--revision", REV_C)
    # history newest first: 1 = REV_B, 2 = REV_SHIPPED
    run("rollback", "prod-us", "--steps", "2")
    assert pins(project)["us-east-1"] == REV_SHIPPED
    # now: 1 = REV_C, 2 = REV_B, 3 = REV_SHIPPED
    run("rollback", "prod-us", "--to", "2")
    assert pins(project)["us-east-1"] == REV_B
    run("rollback", "prod-us", "--to", REV_C[:8])
    assert pins(project)["us-east-1"] == REV_C
    rows = json.loads(run("show", "prod-us", "--json").output)["history"]
    assert [r["entry"] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0]["revision"] == REV_B, "entry 1 must be the pin just replaced"


def test_rollback_to_an_entry_equal_to_the_pin_in_force_changes_nothing(project):
    path = stack_path(project)
    run("pin", "prod-us", "--revision", REV_B)
    run("rollback", "prod-us")
    before = path.read_bytes()
    out = run("rollback", "prod-us", "--to", "2").output  # entry 2 = REV_SHIPPED, in force already
    assert "nothing changed" in out
    assert path.read_bytes() == before


def test_pin_identical_to_current_is_a_no_op(project):
    path = stack_path(project)
    before = path.read_bytes()
    out = run("pin", "prod-us", "--revision", REV_SHIPPED, "--image", IMAGE_SHIPPED).output
    assert "nothing changed" in out
    assert path.read_bytes() == before


def test_region_canary_pin_rollback_and_roll_forward(project, monkeypatch):
    path = stack_path(project)
    run("pin", "prod-us", "--region", "us-west-2", "--revision", REV_B, "--image", IMAGE_V0111, "--note", "canary")
    assert pins(project) == {"us-east-1": REV_SHIPPED, "us-west-2": REV_B}
    spec = load_stack_file(path)
    west = spec.regions[1]
    assert west.has_own_pin and west.model.pin_note == "canary" and west.model.source is None
    assert [(h.revision, h.note) for h in west.model.history] == [(REV_SHIPPED, "stack-wide pin")]
    assert spec.model.history == [], "a region pin must not touch the stack-wide history"
    assert spec.regions[0].model is None, "us-east-1 must stay untouched"

    monkeypatch.setenv(edits.NOW_ENV, "2026-11-24T03:05:00Z")
    out = run("rollback", "prod-us", "--region", "us-west-2").output
    assert "follows the stack-wide pin again" in out
    spec = load_stack_file(path)
    west = spec.regions[1]
    assert not west.has_own_pin, "rolling a region back to the stack-wide pin removes its override"
    assert (west.model.pinned_at, west.model.pin_note) == ("2026-11-24T03:05:00Z", f"rolled back from {REV_B[:12]} to entry 1"), \
        "when and why the region went back to the stack pin must be recorded"
    assert [h.revision for h in west.model.history] == [REV_SHIPPED, REV_B], "the canary stays in the region's history"
    assert pins(project) == {"us-east-1": REV_SHIPPED, "us-west-2": REV_SHIPPED}

    run("rollback", "prod-us", "--region", "us-west-2")  # roll the canary forward again
    assert pins(project) == {"us-east-1": REV_SHIPPED, "us-west-2": REV_B}
    assert load_stack_file(path).regions[1].model.image == IMAGE_V0111


def test_stack_wide_pin_promotes_a_matching_canary_and_keeps_a_different_one(project):
    path = stack_path(project, "prod-global")
    run("pin", "prod-global", "--region", "eu-central-1", "--revision", REV_B)
    run("pin", "prod-global", "--region", "ap-northeast-1", "--revision", REV_C)
    out = run("pin", "prod-global", "--revision", REV_B, "--note", "promote the canary").output
    assert "eu-central-1 ran this pin as its own" in out
    assert "ap-northeast-1" in out.split("keeping their own pin")[1]
    spec = load_stack_file(path)
    assert not spec.regions[1].has_own_pin, "the promoted canary region must follow the stack again"
    assert spec.regions[2].has_own_pin
    assert pins(project, "prod-global") == {"us-east-1": REV_B, "eu-central-1": REV_B, "ap-northeast-1": REV_C}
    # A stack-wide rollback moves every region that follows the stack, not the one with its own pin.
    run("rollback", "prod-global")
    assert pins(project, "prod-global") == {"us-east-1": REV_SHIPPED_70B, "eu-central-1": REV_SHIPPED_70B,
                                            "ap-northeast-1": REV_C}


REV_SHIPPED_70B = "6f6073b423013f6a7d4d9f39144961bfbfbc386b"


def test_region_pin_with_other_weights_records_its_source(project):
    run("pin", "prod-us", "--region", "us-west-2", "--source", "meta-llama/Llama-3.1-8B",
        "--revision", REV_B)
    spec = load_stack_file(stack_path(project))
    assert spec.model_for(spec.regions[1])[0] == "meta-llama/Llama-3.1-8B"
    assert spec.model_for(spec.regions[0])[0] == "meta-llama/Llama-3.1-8B-Instruct"
    run("rollback", "prod-us", "--region", "us-west-2")
    assert not load_stack_file(stack_path(project)).regions[1].has_own_pin


BAD_INPUTS = [
    (["pin", "prod-us", "--revision", "main"], "--revision 'main' is a branch or tag"),
    (["pin", "prod-us", "--revision", "v1.0"], "--revision 'v1.0' is a branch or tag"),
    (["pin", "prod-us", "--revision", "refs/pr/12"], "--revision"),
    (["pin", "prod-us", "--revision", "0e9e39f"], "--revision '0e9e39f' is a short SHA"),
    (["pin", "prod-us", "--revision", REV_B + "0"], "--revision"),
    (["pin", "prod-us", "--image", "vllm/vllm-openai:v0.11.1"], "--image 'vllm/vllm-openai:v0.11.1' has no digest"),
    (["pin", "prod-us", "--image", "vllm/vllm-openai:latest"], "has no digest"),
    (["pin", "prod-us", "--image", "vllm/vllm-openai@sha256:abc"], "--image"),
    (["pin", "prod-us", "--revision", REV_B, "--source", "not-a-repo"], "--source"),
    (["pin", "prod-us", "--source", "meta-llama/Llama-3.1-8B"], "--revision"),
    (["pin", "prod-us"], "nothing to pin"),
    (["pin", "prod-us", "--revision", REV_B, "--region", "eu-west-9"], "--region 'eu-west-9'"),
    (["pin", "no-such-stack", "--revision", REV_B], "STACK 'no-such-stack'"),
    # Other weights the spec cannot size make the stack invalid: refused before writing.
    (["pin", "prod-us", "--revision", REV_B, "--source", "someone/unknown-model"], "model.source"),
    (["rollback", "prod-us"], "model.history is empty"),
    (["rollback", "prod-us", "--region", "us-west-2"], "regions[1].model.history is empty"),
]


@pytest.mark.parametrize("args, message", BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS])
def test_bad_input_exits_2_names_the_option_and_changes_nothing(project, args, message):
    path = stack_path(project)
    before = path.read_bytes()
    result = run(*args, expect=2)
    assert message in result.output, f"model {' '.join(args)}: message does not contain {message!r}:\n{result.output}"
    assert "Traceback" not in result.output
    assert path.read_bytes() == before, f"model {' '.join(args)} changed the stack file"
    assert not list(path.parent.glob(".*.tmp")), "a temporary file was left behind"


ROLLBACK_BAD = [
    (["--steps", "0"], "--steps 0"),
    (["--steps", "3"], "--steps 3: model.history has entries 1..2"),
    (["--to", "9"], "--to 9"),
    (["--to", "zzz"], "--to 'zzz'"),
    (["--to", "bbbb"], "at least 7 hex characters"),
    (["--to", "deadbeef"], "no entry of model.history"),
    (["--steps", "1", "--to", "1"], "--steps or --to, not both"),
]


@pytest.mark.parametrize("args, message", ROLLBACK_BAD, ids=[" ".join(a) for a, _ in ROLLBACK_BAD])
def test_bad_rollback_selection_exits_2(project, args, message):
    run("pin", "prod-us", "--revision", REV_B)
    run("pin", "prod-us", "--revision", REV_C)
    path = stack_path(project)
    before = path.read_bytes()
    result = run("rollback", "prod-us", *args, expect=2)
    assert message in result.output, result.output
    assert path.read_bytes() == before


def test_ambiguous_revision_prefix_asks_for_the_entry_number(project):
    run("pin", "prod-us", "--revision", REV_B)
    run("pin", "prod-us", "--image", IMAGE_V0111)  # same revision, other image: a different pin
    run("pin", "prod-us", "--revision", REV_C)
    path = stack_path(project)
    before = path.read_bytes()
    result = run("rollback", "prod-us", "--to", REV_B[:10], expect=2)
    assert "matches different pins (entries 1, 2)" in result.output
    assert path.read_bytes() == before


def test_rollback_to_a_hand_edited_floating_entry_is_refused(project):
    path = stack_path(project)
    text = path.read_text().replace(
        "    dtype: bfloat16\n",
        "    dtype: bfloat16\n    history:\n      - revision: main\n        image: vllm/vllm-openai:latest\n", 1)
    path.write_text(text)
    result = run("rollback", "prod-us", expect=2)
    assert "model.history[0].revision 'main'" in result.output
    assert path.read_text() == text


def test_invalid_stack_file_is_reported_and_left_alone(project):
    path = stack_path(project)
    text = path.read_text().replace("maxReplicas: 6", "maxReplicas: 60", 1)
    path.write_text(text)
    result = run("pin", "prod-us", "--revision", REV_B, expect=2)
    assert "fix it first" in result.output and "autoscaling.maxReplicas" in result.output
    assert path.read_text() == text
    assert "autoscaling.maxReplicas" in run("show", "prod-us", expect=2).output


def test_apply_without_pulumi_cli_exits_1_and_changes_nothing(project, monkeypatch):
    monkeypatch.setattr(apply.shutil, "which", lambda name: None)
    path = stack_path(project)
    before = path.read_bytes()
    result = run("pin", "prod-us", "--revision", REV_B, "--apply", expect=1)
    assert "--apply needs the Pulumi CLI" in result.output and "nothing was changed" in result.output
    assert path.read_bytes() == before


class FakeStack:
    def __init__(self, calls: list, fail: bool):
        self.calls, self.fail = calls, fail

    def up(self, on_output=None, message=None):
        self.calls.append(("up", message))
        if self.fail:
            raise RuntimeError("update failed: 1 error")
        on_output("Updating (prod-us) ...")

        class Summary:
            result = "succeeded"

        class Result:
            summary = Summary()

        return Result()


@pytest.mark.parametrize("fail", [False, True], ids=["up-succeeds", "up-fails"])
def test_apply_runs_pulumi_up_through_the_automation_api(project, monkeypatch, fail):
    from pulumi import automation

    calls: list = []

    def select_stack(stack_name, work_dir):
        calls.append(("select", stack_name, work_dir))
        return FakeStack(calls, fail)

    monkeypatch.setattr(apply.shutil, "which", lambda name: "/usr/local/bin/pulumi")
    monkeypatch.setattr(automation, "select_stack", select_stack)
    result = run("rollback", "prod-us", "--region", "us-west-2", expect=2)  # no history yet: never reaches up
    assert calls == []
    result = run("pin", "prod-us", "--revision", REV_B, "--apply", expect=1 if fail else 0)
    assert calls[0] == ("select", "prod-us", str(project))
    assert calls[1] == ("up", f"tradeoff-infra model pinned stack-wide {REV_B[:12]}")
    assert pins(project)["us-east-1"] == REV_B, "the pin is written before pulumi up runs"
    if fail:
        assert "pulumi up for stack prod-us failed" in result.output
    else:
        assert "pulumi up: succeeded" in result.output


def test_apply_refuses_a_stack_file_outside_the_project(project, tmp_path, monkeypatch):
    monkeypatch.setattr(apply.shutil, "which", lambda name: "/usr/local/bin/pulumi")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    copy = elsewhere / "Pulumi.prod-us.yaml"
    shutil.copy(stack_path(project), copy)
    result = run("pin", str(copy), "--revision", REV_B, "--apply", expect=2)
    assert "--apply" in result.output
    assert load_stack_file(copy).model.revision == REV_SHIPPED


def test_secrets_and_encryption_salt_survive_a_pin_untouched(project):
    path = stack_path(project)
    secret_lines = (
        "  tradeoff-infra:vllmApiKey:\n"
        "    secure: v1:Zm9vYmFyYmF6cXV4:c2VjcmV0LWNpcGhlcnRleHQtaGVyZQ==\n"
    )
    text = "encryptionsalt: v1:c2FsdHNhbHQ=:v1:aXZpdml2:ZGF0YQ==\n" + path.read_text() + secret_lines
    path.write_text(text)
    run("pin", "prod-us", "--revision", REV_B)
    after = path.read_text()
    assert after.startswith("encryptionsalt: v1:c2FsdHNhbHQ=:v1:aXZpdml2:ZGF0YQ==\n")
    assert after.endswith(secret_lines), "the secret config key must stay byte-identical"
    assert load_stack_file(path).model.revision == REV_B


def test_stack_wide_move_to_other_weights_keeps_a_canary_on_its_own_repository(project):
    run("pin", "prod-us", "--region", "us-west-2", "--revision", REV_C)
    run("pin", "prod-us", "--source", "meta-llama/Meta-Llama-3-8B-Instruct", "--revision", REV_B)
    spec = load_stack_file(stack_path(project))
    assert spec.model_for(spec.regions[0])[:2] == ("meta-llama/Meta-Llama-3-8B-Instruct", REV_B)
    assert spec.model_for(spec.regions[1])[:2] == ("meta-llama/Llama-3.1-8B-Instruct", REV_C), \
        "the canary's revision must stay paired with the repository it was pinned from"


def test_a_held_lock_makes_the_pin_fail_cleanly(project, monkeypatch):
    from filelock import FileLock

    from cli.pins import stackfile

    monkeypatch.setattr(stackfile, "LOCK_TIMEOUT_SECONDS", 0.2)
    path = stack_path(project)
    before = path.read_bytes()
    with FileLock(stackfile.lock_path(path)):
        result = run("pin", "prod-us", "--revision", REV_B, expect=1)
    assert "has held" in result.output and "nothing was changed" in result.output
    assert path.read_bytes() == before


def test_broken_yaml_exits_2(project):
    path = stack_path(project)
    path.write_text(path.read_text() + "  bad: [unclosed\n")
    result = run("pin", "prod-us", "--revision", REV_B, expect=2)
    assert "not valid YAML" in result.output


@pytest.mark.parametrize("command", [["pin", "prod-us", "--revision", REV_B], ["rollback", "prod-us"]])
def test_a_garbage_fixed_clock_is_refused_not_written(project, monkeypatch, command):
    monkeypatch.setenv(edits.NOW_ENV, "garbage")
    path = stack_path(project)
    before = path.read_bytes()
    result = run(*command, expect=2)
    assert "TRADEOFF_INFRA_NOW" in result.output and "ISO-8601" in result.output, result.output
    assert path.read_bytes() == before


@pytest.mark.parametrize("columns", ["80", "100"])
def test_show_fits_the_width_and_keeps_every_pin_whole(project, columns):
    """`model show` at COLUMNS=80 printed its region lines 85 wide and its history 130 wide (fixed-width columns,
    the terminal wrapped them through a digest): the region lines put the image on a line of its own when they do not
    fit, the history is a table by the one column rule, and every other line wraps with a hanging indent; only a
    single token wider than the width (the full image reference) keeps a line of its own."""
    import re

    run("pin", "prod-global", "--region", "eu-central-1", "--revision", REV_B, "--note", "a canary for one region "
        "with a note long enough to need folding at eighty columns")
    run("pin", "prod-global", "--revision", REV_C, "--image", IMAGE_V0111, "--note", "promote")
    result = runner.invoke(app, ["model", "show", "prod-global"], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    out = result.stdout
    over = [line for line in out.splitlines() if len(line) > int(columns) and len(line.split()) > 1]
    assert over == [], over
    assert "history of eu-central-1" in out and "history, newest first" in out
    for image in ("vllm-openai:v0.11.1@sha256:aaaaaaaaaaaa", IMAGE_SHIPPED.split("/", 1)[1][:39]):
        assert re.search(rf"(│ |^    ){re.escape(image)}", out, re.M), image  # whole, in a cell or its own line
    assert REV_B[:12] in out and REV_C[:12] in out


def test_pin_and_rollback_reports_fit_the_width(project):
    """`model pin` printed `pinned STACK region R: SOURCE@<40-hex revision>` (115 columns) and the rollback hint on
    lines the terminal wrapped: each line wraps with a hanging indent (`grid.hang`), a revision or image whole."""
    for args in (("pin", "prod-global", "--region", "eu-central-1", "--revision", REV_B, "--note", "a canary"),
                 ("rollback", "prod-global", "--region", "eu-central-1")):
        result = runner.invoke(app, ["model", *args], env={"COLUMNS": "80"})
        assert result.exit_code == 0, result.output
        over = [line for line in result.stdout.splitlines() if len(line) > 80 and len(line.split()) > 1]
        assert over == [], over
    assert REV_SHIPPED_70B in result.stdout and "rolled back prod-global" in result.stdout


@pytest.mark.parametrize("columns", ["60", "80"])
def test_show_wraps_a_region_line_whose_own_source_is_long(project, columns):
    """A region pinned to other weights (`--source meta-llama/Meta-Llama-3-70B-Instruct`) shows `SOURCE@revision`
    in its region line: at COLUMNS=80 that line was 83 wide (only the image and date moved to a second line, the
    head never wrapped). The head wraps with a hanging indent too, the `source@revision` whole."""
    import re

    source = "meta-llama/Meta-Llama-3-70B-Instruct"
    run("pin", "prod-global", "--region", "ap-northeast-1", "--source", source, "--revision", REV_B)
    result = runner.invoke(app, ["model", "show", "prod-global"], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    over = [line for line in result.stdout.splitlines() if len(line) > int(columns) and len(line.split()) > 1]
    assert over == [], over
    assert re.search(rf"^ +{re.escape(source)}@{REV_B[:12]}$", result.stdout, re.M) or \
        re.search(rf"ap-northeast-1 .*{re.escape(source)}@{REV_B[:12]}", result.stdout), result.stdout
