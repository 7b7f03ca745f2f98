"""The stack file writer behind `model pin/rollback`: layout kept, locked, atomic, kill-safe."""

from __future__ import annotations

import difflib
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from typer.testing import CliRunner

from cli.pins import stackfile
from cli.main import app
from infra.spec import load_stack_file
from tests import paths
from tests.paths import ROOT

DATA = paths.DATA / "model_pins"
SHIPPED = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
IMAGE_V0111 = "vllm/vllm-openai:v0.11.1@sha256:" + "a" * 64
# Lines a pin or rollback may add or change: the pin's own keys and history entries.
PIN_LINE = re.compile(r"^\s+(- )?(model|revision|image|source|pinnedAt|pinNote|history|replacedAt|note):")


def cli(*args: str) -> None:
    """The command in-process, with a fixed clock."""
    result = CliRunner().invoke(app, ["model", *args], env={"TRADEOFF_INFRA_NOW": "2026-11-24T03:00:00Z"})
    assert result.exit_code == 0, f"model {' '.join(args)} exited {result.exit_code}:\n{result.output}"


def child(*args: str, fault: str | None = None) -> subprocess.Popen:
    """The real command in a child process: the lock and the kill need separate processes."""
    env = {**os.environ, "TRADEOFF_INFRA_NOW": "2026-11-24T03:00:00Z"}
    env.pop("TRADEOFF_INFRA_FAULT", None)
    if fault:
        env["TRADEOFF_INFRA_FAULT"] = fault
    return subprocess.Popen([sys.executable, "-m", "cli.main", "model", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_round_trip_of_every_shipped_stack_is_byte_identical(path):
    text = path.read_text()
    assert stackfile.dump(stackfile.load(text)) == text, f"{path.name} does not survive a load/dump round trip"


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_pin_then_rollback_diff_holds_only_pin_and_history_lines(path, tmp_path):
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    spec = load_stack_file(copy)
    last_region = spec.regions[-1].region
    cli("pin", str(copy), "--revision", "b" * 40, "--image", IMAGE_V0111, "--note", "try it")
    cli("rollback", str(copy))
    cli("pin", str(copy), "--region", last_region, "--revision", "c" * 40)
    cli("rollback", str(copy), "--region", last_region)
    lines = changed_lines(path.read_text(), copy.read_text())
    assert lines, f"{path.name}: pin + rollback left no record"
    assert not [line for line in lines if line.startswith("-")], f"{path.name}: lines removed or rewritten:\n" + "\n".join(lines)
    stray = [line for line in lines if not PIN_LINE.match(line[1:])]
    assert not stray, f"{path.name}: lines other than pin/history changed:\n" + "\n".join(stray)
    after = load_stack_file(copy)
    assert after.model.revision == spec.model.revision and after.model.image == spec.model.image
    assert not after.regions[-1].has_own_pin


def test_golden_commented_stack_keeps_comments_quotes_and_blank_lines(tmp_path):
    """Pins on a hand-formatted file land next to the pin; every comment stays where it was."""
    copy = tmp_path / "Pulumi.commented.yaml"
    shutil.copy(DATA / "Pulumi.commented.yaml", copy)
    cli("pin", str(copy), "--region", "us-west-2", "--revision", "1" * 40, "--note", "canary")
    cli("pin", str(copy), "--region", "us-east-1", "--revision", "2" * 40)
    cli("pin", str(copy), "--revision", "b" * 40, "--image", IMAGE_V0111, "--note", "new weights")
    golden = DATA / "Pulumi.commented.pinned.yaml"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(copy.read_text())
    expected, actual = golden.read_text(), copy.read_text()
    assert actual == expected, "golden mismatch (UPDATE_GOLDEN=1 regenerates):\n" + "\n".join(
        difflib.unified_diff(expected.splitlines(), actual.splitlines(), "golden", "actual", lineterm=""))
    # Every comment line of the original is still there, in the same order.
    comments = [line for line in (DATA / "Pulumi.commented.yaml").read_text().splitlines() if "#" in line]
    kept = [line for line in actual.splitlines() if "#" in line]
    assert [c.split("#", 1)[1] for c in comments] == [k.split("#", 1)[1] for k in kept]

    cli("rollback", str(copy), "--note", "bad outputs")
    cli("rollback", str(copy), "--region", "us-west-2")
    cli("rollback", str(copy), "--region", "us-east-1")
    lines = changed_lines((DATA / "Pulumi.commented.yaml").read_text(), copy.read_text())
    assert not [line for line in lines if line.startswith("-")], "\n".join(lines)
    assert all(PIN_LINE.match(line[1:]) for line in lines), "\n".join(lines)


def test_two_concurrent_pins_lose_neither(tmp_path):
    copy = tmp_path / "Pulumi.prod-us.yaml"
    shutil.copy(ROOT / "stacks" / "Pulumi.prod-us.yaml", copy)
    original = load_stack_file(copy).model.revision
    revisions = ["d" * 40, "e" * 40]
    started = time.monotonic()
    # The pause holds each writer between read and write: without the lock both would read the old file.
    procs = [child("pin", str(copy), "--revision", rev, fault="pause-after-read=0.6") for rev in revisions]
    outputs = [p.communicate(timeout=60) for p in procs]
    elapsed = time.monotonic() - started
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, out + err
    assert elapsed >= 1.2, f"the two writers overlapped ({elapsed:.2f}s): the lock did not serialise them"
    spec = load_stack_file(copy)
    history = [h.revision for h in spec.model.history]
    assert history[0] == original
    assert sorted([spec.model.revision, history[1]]) == revisions, f"a pin was lost: current {spec.model.revision}, history {history}"
    assert len(history) == 2


@pytest.mark.parametrize("fault", ["mid-temp-write", "after-temp-write"])
def test_killed_writer_leaves_the_old_file_intact(tmp_path, fault):
    copy = tmp_path / "Pulumi.prod-us.yaml"
    shutil.copy(ROOT / "stacks" / "Pulumi.prod-us.yaml", copy)
    before = copy.read_bytes()
    proc = child("pin", str(copy), "--revision", "f" * 40, fault=fault)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"{fault}: the fault point did not fire ({proc.returncode}): {err}"
    assert copy.read_bytes() == before, f"{fault}: the stack file changed although the writer died before the rename"
    leftovers = list(tmp_path.glob(".Pulumi.prod-us.yaml.*.tmp"))
    assert leftovers, f"{fault}: expected the killed writer's temporary file to be left behind"
    # The next writer holds the lock, so the leftover is stale: it is removed and the pin goes through.
    cli("pin", str(copy), "--revision", "f" * 40)
    assert load_stack_file(copy).model.revision == "f" * 40
    assert not list(tmp_path.glob(".Pulumi.prod-us.yaml.*.tmp"))


def test_failed_check_writes_nothing_and_leaves_no_temp(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config:\n  a: 1  # keep\n")
    before = path.read_bytes()

    def change(document):
        document["config"]["a"] = 2

    def check(text):
        raise ValueError("refused")

    with pytest.raises(ValueError):
        stackfile.edit(path, change, check)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".Pulumi.x.yaml.*.tmp"))


def test_write_keeps_the_file_mode_and_skips_unchanged_text(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config:\n  a: 1\n")
    path.chmod(0o640)
    result = stackfile.edit(path, lambda doc: None)
    assert not result.changed
    stackfile.edit(path, lambda doc: doc["config"].__setitem__("a", 2))
    assert path.read_text() == "config:\n  a: 2\n"
    assert path.stat().st_mode & 0o777 == 0o640


def test_set_and_delete_keep_trailing_comments_below_the_block():
    text = "m:\n  a: 1  # eol\n\n  # about n\nn: 2\n"
    doc = stackfile.load(text)
    stackfile.set_key(doc["m"], "b", 3)
    assert stackfile.dump(doc) == "m:\n  a: 1  # eol\n  b: 3\n\n  # about n\nn: 2\n"
    stackfile.delete_key(doc["m"], "b")
    assert stackfile.dump(doc) == text


def test_replacing_a_value_keeps_chosen_quotes_but_drops_forced_ones():
    doc = stackfile.load("a: 'x'  # chosen\nb: '1111'\n")
    stackfile.set_key(doc, "a", "y")
    stackfile.set_key(doc, "b", "0e9e")
    assert stackfile.dump(doc) == "a: 'y'  # chosen\nb: 0e9e\n"
