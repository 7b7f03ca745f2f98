"""Hostile files and faults (issue 10: 1, 3, 4 file/IO, 5, 7, 8 in part): every case exits 2 with a
clear message (or gives the correct result), prints no traceback, changes no file and ends in
bounded time. Device-like cases use FIFOs and symlinks made in tmp_path: `--out` is only ever
given a path in tmp_path (a link to /dev/null, /dev/full or /proc/self/fd/1), so even the old
writer, which renamed a file over the path it was given, could not replace anything in /dev. The
real /dev is only read (/dev/zero) or written as a redirected stdout (/dev/full)."""

from __future__ import annotations

import json
import os
import pathlib
import re
import stat
import subprocess
import sys
import threading
import time

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.builders import project  # noqa: F401  (fixture: the stacks copied to a temporary root)
from tests.paths import ROOT

AS_OF = ["--as-of", "2026-11-24"]
REV_B = "b" * 40
SECRET_VALUE = "sk-plaintext-0123456789abcdef"
runner = CliRunner()


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> pathlib.Path:
    """One inventory cache for the module, warmed once with `estimate dev` (the program runs once)."""
    path = tmp_path_factory.mktemp("cache")
    old = os.environ.get("TRADEOFF_INFRA_CACHE_DIR")
    os.environ["TRADEOFF_INFRA_CACHE_DIR"] = str(path)
    result = runner.invoke(app, ["estimate", "dev", "--format", "json", *AS_OF],
                           env={"TRADEOFF_INFRA_ROOT": str(ROOT)})
    assert result.exit_code == 0, result.output
    yield path
    if old is None:
        del os.environ["TRADEOFF_INFRA_CACHE_DIR"]
    else:
        os.environ["TRADEOFF_INFRA_CACHE_DIR"] = old


def dev_text() -> str:
    return (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()


def invoke(*args: str, expect: int):
    """Run the CLI in-process; assert the exit code and that no exception escaped (no traceback)."""
    started = time.monotonic()
    result = runner.invoke(app, list(args), env={"COLUMNS": "400"})
    assert result.exit_code == expect, f"{' '.join(args)} exited {result.exit_code}, not {expect}:\n{result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert time.monotonic() - started < 60
    return result


def cli(*args: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    """Run the CLI in a fresh process (for real stdout/stderr and hangs), bounded in time."""
    done = subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, **kwargs)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def snapshot(folder: pathlib.Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def expected_total(cache_dir) -> float:
    """dev's expected total, computed with the cache filled; then the cached whole estimate is dropped, so that
    the next run reads the inventory and API price entries a test tampers with (a hit would not read them)."""
    result = invoke("estimate", "dev", "--format", "json", *AS_OF, expect=0)
    forget_estimates(cache_dir)
    return json.loads(result.stdout)["stacks"][0]["selfHosted"]["monthlyUsd"]["expected"]


def forget_estimates(cache_dir) -> None:
    for entry in cache_dir.glob("estimate-*.json"):
        entry.unlink()


# ------------------------------------------------------------------ 1. --out


def test_out_stdout_prints_the_report_and_stays_a_link(cache_dir, tmp_path):
    """`--out /dev/stdout`, replayed with a link of our own to the same place (/proc/self/fd/1), so the
    old writer, which renamed a file over its target, could only ever replace this link."""
    stdout = tmp_path / "stdout"
    stdout.symlink_to("/proc/self/fd/1")
    done = cli("estimate", "dev", "--format", "json", "--out", str(stdout), *AS_OF,
               env={**os.environ, "TRADEOFF_INFRA_CACHE_DIR": str(cache_dir)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["stacks"][0]["stack"] == "dev"
    assert stdout.is_symlink() and os.readlink(stdout) == "/proc/self/fd/1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stdout"]


def test_out_symlink_to_a_character_device_is_written_through(cache_dir, tmp_path):
    link = tmp_path / "sink"
    link.symlink_to("/dev/null")
    for command in (["estimate", "dev", *AS_OF], ["inventory", "dev"]):
        invoke(*command, "--out", str(link), expect=0)
        assert link.is_symlink() and os.readlink(link) == "/dev/null"
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode), "/dev/null must stay a character device"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sink"]


def test_out_fifo_is_written_through_to_its_reader(cache_dir, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    invoke("estimate", "dev", "--format", "json", "--out", str(fifo), *AS_OF, expect=0)
    reader.join(10)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(received[0])["stacks"][0]["stack"] == "dev"


def test_out_fifo_without_a_reader_exits_2_at_once(cache_dir, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = invoke("inventory", "dev", "--out", str(fifo), expect=2)
    assert "--out" in result.output and "FIFO that no process is reading" in result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_out_symlink_to_a_regular_file_replaces_the_target_and_keeps_the_link(cache_dir, tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    invoke("estimate", "dev", "--format", "json", "--out", str(link), *AS_OF, expect=0)
    assert link.is_symlink() and link.resolve() == target
    assert json.loads(target.read_text())["stacks"][0]["stack"] == "dev"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640, "an existing file keeps its mode"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


@pytest.mark.parametrize("via", ["the file", "a folder"])
def test_out_through_a_dangling_symlink_creates_no_folder_and_exits_2(cache_dir, tmp_path, via):
    """`--out link` (or `--out link/report.json`) where link points at a place whose folders do not exist: the
    old writer made every folder of the link's target, wherever it pointed. Now nothing is created through a
    link: exit 2 naming --out and the link; the target's folders stay missing."""
    elsewhere = tmp_path / "elsewhere"
    link = tmp_path / "link"
    if via == "the file":
        link.symlink_to(elsewhere / "new" / "dir" / "file.json")
        out = link
    else:
        link.symlink_to(elsewhere / "new" / "dir")
        out = link / "report.json"
    result = invoke("estimate", "dev", "--out", str(out), *AS_OF, expect=2)
    text = " ".join(result.output.split())
    assert f"--out {out}: cannot write" in text and "symlink" in text and str(link) in text
    assert not elsewhere.exists(), "no folder is created where a dangling link points"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link"] and link.is_symlink()


def test_out_dangling_symlink_into_an_existing_folder_writes_the_target(cache_dir, tmp_path):
    """Like a shell's `>`: a link to a new file in a folder that exists gets that file; the link stays."""
    (tmp_path / "there").mkdir()
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "there" / "file.json")
    invoke("estimate", "dev", "--format", "json", "--out", str(link), *AS_OF, expect=0)
    assert link.is_symlink()
    assert json.loads((tmp_path / "there" / "file.json").read_text())["stacks"][0]["stack"] == "dev"


def test_out_new_file_honours_the_umask(cache_dir, tmp_path):
    out = tmp_path / "new.md"
    old = os.umask(0o077)
    try:
        invoke("estimate", "dev", "--format", "markdown", "--out", str(out), *AS_OF, expect=0)
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


@pytest.mark.parametrize("kind", ["read-only", "directory"])
def test_out_read_only_file_or_directory_is_refused(cache_dir, tmp_path, kind):
    out = tmp_path / "out"
    if kind == "directory":
        out.mkdir()
    else:
        out.write_text("keep me")
        out.chmod(0o444)
    before = snapshot(tmp_path)
    result = invoke("estimate", "dev", "--out", str(out), *AS_OF, expect=2)
    assert f"--out {out}: cannot write" in result.output
    assert ("read-only" if kind == "read-only" else "directory") in result.output
    assert snapshot(tmp_path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_out_dev_full_and_stdout_dev_full_exit_2_with_a_message(cache_dir, tmp_path):
    env = {**os.environ, "TRADEOFF_INFRA_CACHE_DIR": str(cache_dir)}
    full = tmp_path / "full"
    full.symlink_to("/dev/full")  # our own link: the old writer would have replaced it, never /dev/full
    done = cli("estimate", "dev", "--out", str(full), *AS_OF, env=env)
    assert done.returncode == 2 and "No space left on device" in done.stderr
    assert full.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["full"]
    full_fd = os.open("/dev/full", os.O_WRONLY)  # no O_CREAT: never makes a file in /dev
    try:
        done = subprocess.run([sys.executable, "-m", "cli.main", "estimate", "dev", *AS_OF], stdout=full_fd,
                              stderr=subprocess.PIPE, text=True, timeout=60, cwd=ROOT, env=env)
    finally:
        os.close(full_fd)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "cannot write the output: No space left on device" in done.stderr
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_one_writer_for_the_whole_cli():
    """Only cli/output.py renames files into place; every other writer goes through it."""
    renaming = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "cli").rglob("*.py")
                      if re.search(r"os\.replace|os\.rename|mkstemp|NamedTemporaryFile", p.read_text()))
    assert renaming == ["cli/output.py"]


# ------------------------------------------------------------------ 3. secrets


@pytest.mark.parametrize("key", ["vllmApiKey", "huggingfaceToken"])
@pytest.mark.parametrize("command", ["validate", "estimate", "inventory"])
def test_a_secret_in_clear_text_is_refused(tmp_path, key, command):
    path = tmp_path / "Pulumi.leak.yaml"
    path.write_text(dev_text().replace("config:\n", f"config:\n  tradeoff-infra:{key}: {SECRET_VALUE}\n", 1))
    before = snapshot(tmp_path)
    result = invoke(command, str(path), expect=2)
    assert f"tradeoff-infra:{key}" in result.output
    assert f"pulumi config set --secret {key}" in result.output
    assert SECRET_VALUE not in result.output
    assert snapshot(tmp_path) == before


def test_an_encrypted_secret_is_accepted(tmp_path):
    path = tmp_path / "Pulumi.enc.yaml"
    path.write_text(dev_text().replace("config:\n", "config:\n  tradeoff-infra:vllmApiKey:\n    secure: v1:AAAA\n", 1))
    invoke("validate", str(path), expect=0)


def test_no_secret_value_in_inventory_output_or_cache(tmp_path, monkeypatch):
    """The recording mocks see the API key as a Pulumi secret: it is stored and printed as [secret]."""
    from cli.inventory import MOCK_API_KEY

    cache = tmp_path / "cache"
    monkeypatch.setenv("TRADEOFF_INFRA_CACHE_DIR", str(cache))
    old = os.umask(0o077)
    try:
        result = invoke("inventory", "dev", "--format", "json", "--no-cache", expect=0)
    finally:
        os.umask(old)
    assert MOCK_API_KEY not in result.stdout and "[secret]" in result.stdout
    entries = list(cache.iterdir())
    assert entries
    for entry in entries:
        assert MOCK_API_KEY not in entry.read_text()
        assert stat.S_IMODE(entry.stat().st_mode) == 0o600, f"{entry.name} ignores the umask"
    secret = [r for r in json.loads(result.stdout)["resources"] if r["type"] == "kubernetes:core/v1:Secret"]
    assert secret and all(r["inputs"]["stringData"] == "[secret]" or set(r["inputs"]["stringData"].values()) == {"[secret]"}
                          for r in secret)


# ------------------------------------------------------------------ 4. file and IO crashes

FIVE_COMMANDS = [["validate"], ["estimate"], ["inventory"], ["model", "show"], ["model", "pin", "--revision", REV_B]]


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
@pytest.mark.parametrize("command", FIVE_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_stack_file_not_in_utf8_exits_2(tmp_path, encoding, command):
    path = tmp_path / "Pulumi.enc.yaml"
    path.write_bytes(dev_text().replace("dev: one region", "dév: one région").encode(encoding))
    before = path.read_bytes()
    result = invoke(*command, str(path), expect=2)
    assert ("UTF-16" if encoding == "utf-16" else "not UTF-8") in result.output
    assert path.read_bytes() == before


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a scalar\n", "42\n"])
@pytest.mark.parametrize("command", FIVE_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_stack_file_that_is_not_a_mapping_exits_2(tmp_path, text, command):
    path = tmp_path / "Pulumi.list.yaml"
    path.write_text(text)
    result = invoke(*command, str(path), expect=2)
    assert "a stack file is a YAML mapping" in result.output
    assert path.read_text() == text


@pytest.mark.parametrize("command", [["validate"], ["model", "show"], ["model", "pin", "--revision", REV_B], ["estimate"]],
                         ids=lambda c: " ".join(c[:2]))
def test_deeply_nested_brackets_exit_2(tmp_path, command):
    path = tmp_path / "Pulumi.deep.yaml"
    path.write_text("config:\n  tradeoff-infra:x: " + "[" * 20000 + "\n")
    before = path.read_bytes()
    result = invoke(*command, str(path), expect=2)
    assert "(file)" in result.output or "nested" in result.output
    assert path.read_bytes() == before


def test_nesting_libyaml_accepts_still_exits_2_in_model_pin(tmp_path):
    path = tmp_path / "Pulumi.deep.yaml"
    path.write_text(dev_text() + "  tradeoff-infra:x: " + "[" * 900 + "]" * 900 + "\n")
    before = path.read_bytes()
    invoke("model", "pin", str(path), "--revision", REV_B, expect=2)
    assert path.read_bytes() == before


@pytest.mark.parametrize("command", [["validate"], ["estimate"], ["inventory"], ["model", "show"]])
def test_a_stack_name_too_long_for_the_file_system_exits_2(project, command):
    result = invoke(*command, "x" * 300, expect=2)
    assert "File name too long" in result.output


@pytest.mark.parametrize("body", ["{}", "[]", '{"name": "x"}'])
def test_a_wrong_shaped_api_price_cache_is_a_miss(cache_dir, body):
    total = expected_total(cache_dir)
    entries = sorted(cache_dir.glob("api-*.json"))
    assert entries
    for entry in entries:
        header = entry.read_text().split("\n", 1)[0]
        entry.write_text(body)  # no header: a hand-written file
    result = invoke("estimate", "dev", "--format", "json", *AS_OF, expect=0)
    assert json.loads(result.stdout)["stacks"][0]["selfHosted"]["monthlyUsd"]["expected"] == total
    assert "warning: cache file api-" in result.stderr
    for entry in entries:
        assert entry.read_text().split("\n", 1)[0] == header or entry.read_text().startswith("tradeoff-infra-cache")


@pytest.mark.parametrize("value", [".nan", ".inf", "-1"])
def test_usage_file_with_a_number_that_is_not_finite_exits_2(cache_dir, tmp_path, value):
    usage = tmp_path / "usage.yaml"
    usage.write_text(f"otherLogGbPerDay: {value}\n")
    result = invoke("estimate", "dev", "--usage", str(usage), *AS_OF, expect=2)
    assert "--usage" in result.output and "otherLogGbPerDay" in result.output


def test_price_catalog_with_a_number_beyond_a_double_exits_2(cache_dir, tmp_path):
    catalog = tmp_path / "catalog.json"
    text = (ROOT / "infra" / "data" / "aws_prices.json").read_text()
    catalog.write_text(re.sub(r'"usdPerHour": "?[0-9.]+"?', '"usdPerHour": 1e400', text, count=1))
    result = invoke("estimate", "dev", "--price-catalog", str(catalog), *AS_OF, expect=2)
    assert "--price-catalog" in result.output and "1e400 is out of range" in result.output


@pytest.mark.parametrize("text,what", [("[" * 100000 + "]" * 100000, "nested too deeply"),
                                       ('{"stacks": [], "x": NaN}', "NaN is not a JSON number"),
                                       ('{"stacks": [], "x": Infinity}', "Infinity is not a JSON number"),
                                       ('{"stacks": [], "x": 1e999}', "out of range")])
def test_compare_to_that_is_not_standard_json_exits_2(cache_dir, tmp_path, text, what):
    old = tmp_path / "old.json"
    old.write_text(text)
    out = tmp_path / "new.json"
    result = invoke("estimate", "dev", "--format", "json", "--compare-to", str(old), "--out", str(out), *AS_OF, expect=2)
    assert "--compare-to" in result.output and what in result.output
    assert not out.exists()


def test_usage_usage_keys_still_work(cache_dir, tmp_path):
    usage = tmp_path / "usage.yaml"
    usage.write_text("otherLogGbPerDay: 2.5\n")
    invoke("estimate", "dev", "--usage", str(usage), *AS_OF, expect=0)


# ------------------------------------------------------------------ 5. poisoned caches


def test_a_poisoned_inventory_cache_does_not_change_the_estimate(cache_dir):
    total = expected_total(cache_dir)
    entries = sorted(cache_dir.glob("inventory-*.json"))
    assert entries
    for entry in entries:
        entry.write_text('{"stack":"dev","resources":[],"outputs":{}}')
    result = invoke("estimate", "dev", "--format", "json", *AS_OF, expect=0)
    assert json.loads(result.stdout)["stacks"][0]["selfHosted"]["monthlyUsd"]["expected"] == total
    assert "warning: cache file inventory-" in result.stderr


def test_a_cache_entry_edited_under_its_header_fails_its_digest(cache_dir):
    total = expected_total(cache_dir)
    for entry in sorted(cache_dir.glob("api-*.json")):
        header, body = entry.read_text().split("\n", 1)
        data = json.loads(body)
        data.update(input_per_mtok_usd="0", output_per_mtok_usd="0", request_usd="0")
        entry.write_text(header + "\n" + json.dumps(data))
    result = invoke("estimate", "dev", "--format", "json", *AS_OF, expect=0)
    doc = json.loads(result.stdout)["stacks"][0]
    assert doc["selfHosted"]["monthlyUsd"]["expected"] == total
    assert "does not match its digest" in result.stderr
    assert all(o["monthlyUsd"] > 0 for o in doc["api"]), doc["api"]


def test_a_forged_cache_entry_with_a_recomputed_plain_digest_is_a_miss(cache_dir):
    """rev10 review: the entries' digest was a plain SHA-256 that whoever writes the cache can recompute, so a
    forged empty inventory with a fresh digest priced dev at $2,125. The digest is keyed now (HMAC under a
    secret outside the cache): the forgery is a miss and the estimate is unchanged."""
    import hashlib

    total = expected_total(cache_dir)
    entries = sorted(cache_dir.glob("inventory-*.json"))
    assert entries
    for entry in entries:
        header, _ = entry.read_text().split("\n", 1)
        tag, version, key, secret_id, _digest = header.split(" ")
        body = json.dumps({"stack": "dev", "resources": [], "outputs": {}})
        forged = hashlib.sha256(key.encode() + b"\0" + body.encode()).hexdigest()
        entry.write_text(f"{tag} {version} {key} {secret_id} {forged}\n{body}")
    result = invoke("estimate", "dev", "--format", "json", *AS_OF, expect=0)
    assert json.loads(result.stdout)["stacks"][0]["selfHosted"]["monthlyUsd"]["expected"] == total
    assert "does not match its digest" in result.stderr


def test_an_entry_signed_under_another_secret_is_a_silent_miss(cache_dir, monkeypatch):
    """A cache written by the test suite (its own key) and then read with the user's key is no tampering:
    it is computed again without a warning about digests."""
    from cli import cache

    total = expected_total(cache_dir)
    monkeypatch.setenv(cache.CACHE_SECRET_ENV, "another-users-cache-key")
    cache.cache_secret.cache_clear()
    try:
        result = invoke("estimate", "dev", "--format", "json", *AS_OF, expect=0)
    finally:
        cache.cache_secret.cache_clear()
    assert json.loads(result.stdout)["stacks"][0]["selfHosted"]["monthlyUsd"]["expected"] == total
    assert "digest" not in result.stderr and "cache file" not in result.stderr, result.stderr


def test_the_cache_secret_is_made_once_per_user_outside_the_cache(tmp_path, monkeypatch):
    from cli import cache

    monkeypatch.delenv(cache.CACHE_SECRET_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    cache.cache_secret.cache_clear()
    try:
        first = cache.cache_secret()
        path = tmp_path / "config" / "tradeoff-infra" / "cache-key"
        assert len(first) == 64 and path.read_bytes().strip() == first
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        cache.cache_secret.cache_clear()
        assert cache.cache_secret() == first  # read back, not made again
        monkeypatch.setenv(cache.CACHE_SECRET_ENV, "ci-secret")
        cache.cache_secret.cache_clear()
        assert cache.cache_secret() == b"ci-secret"
    finally:
        cache.cache_secret.cache_clear()


# ------------------------------------------------------------------ 7. special files and links


def test_a_fifo_as_stack_file_does_not_hang_validate_all(project):
    fifo = project / "stacks" / "Pulumi.fifo.yaml"
    os.mkfifo(fifo)
    done = cli("validate", "--all", timeout=60, env={**os.environ, "TRADEOFF_INFRA_ROOT": str(project)})
    assert done.returncode == 2
    assert "FIFO" in done.stderr and "✓ dev is valid" in done.stdout


@pytest.mark.parametrize("command", [["estimate"], ["model", "show"]])
def test_a_fifo_as_stack_file_path_exits_2(tmp_path, command):
    fifo = tmp_path / "Pulumi.fifo.yaml"
    os.mkfifo(fifo)
    done = cli(*command, str(fifo), timeout=60)
    assert done.returncode == 2 and "not a regular file" in done.stderr


def test_a_fifo_as_cache_file_is_a_miss_not_a_hang(cache_dir):
    total = expected_total(cache_dir)
    for entry in sorted(cache_dir.glob("inventory-*.json")):
        entry.unlink()
        os.mkfifo(entry)
    done = cli("estimate", "dev", "--format", "json", *AS_OF, timeout=120,
               env={**os.environ, "TRADEOFF_INFRA_CACHE_DIR": str(cache_dir)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["stacks"][0]["selfHosted"]["monthlyUsd"]["expected"] == total
    assert "FIFO" in done.stderr


def test_a_symlink_to_dev_zero_is_refused_at_once(project, tmp_path):
    link = project / "stacks" / "Pulumi.zero.yaml"
    link.symlink_to("/dev/zero")
    result = invoke("validate", "zero", expect=2)
    assert "refusing to read" in result.output
    usage = tmp_path / "usage.yaml"
    usage.symlink_to("/dev/zero")
    result = invoke("estimate", "dev", "--usage", str(usage), *AS_OF, expect=2)
    assert "character device" in result.output


def test_a_symlink_to_a_file_outside_the_stack_folder_is_not_read(project, tmp_path):
    secret = tmp_path / "credentials"
    secret.write_text("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n: oops\n")
    (project / "stacks" / "Pulumi.creds.yaml").symlink_to(secret)
    for command in (["validate"], ["estimate"], ["model", "show"], ["model", "pin", "--revision", REV_B]):
        result = invoke(*command, "creds", expect=2)
        assert "AKIA" not in result.output and "outside" in result.output


def test_a_yaml_error_shows_the_position_not_the_text(tmp_path):
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text("config:\n  key: AKIAIOSFODNN7EXAMPLE\n  other: [unclosed\n")
    for command in (["validate"], ["estimate"], ["model", "show"]):
        result = invoke(*command, str(path), expect=2)
        assert "AKIA" not in result.output and "not valid YAML" in result.output and "line" in result.output


def test_a_large_stack_file_is_refused_quickly(tmp_path):
    path = tmp_path / "Pulumi.big.yaml"
    path.write_text(dev_text() + "".join(f"# padding line {i:08d} " + "x" * 100 + "\n" for i in range(20000)))
    started = time.monotonic()
    result = invoke("validate", str(path), expect=2)
    assert time.monotonic() - started < 5
    assert "larger than the 1.0 MiB" in result.output


def test_model_pin_on_a_symlinked_stack_file_edits_the_target_and_locks_it(project):
    stacks = project / "stacks"
    target = stacks / "Pulumi.prod-us.yaml"
    link = stacks / "Pulumi.alias.yaml"
    link.symlink_to(target.name)
    invoke("model", "pin", "alias", "--revision", REV_B, expect=0)
    assert link.is_symlink() and os.readlink(link) == target.name
    assert REV_B in target.read_text()
    assert not (stacks / ".Pulumi.alias.yaml.lock").exists(), "the lock belongs to the real file"
    assert (stacks / ".Pulumi.prod-us.yaml.lock").exists()


# ------------------------------------------------------------------ 8. duplicate keys, read-only, NaN


@pytest.mark.parametrize("command", [["validate"], ["estimate"], ["inventory"], ["model", "show"],
                                     ["model", "pin", "--revision", REV_B]], ids=lambda c: " ".join(c[:2]))
def test_duplicate_keys_are_refused_everywhere_naming_both_lines(tmp_path, command):
    text = dev_text()
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip().startswith("tensorParallel:")) + 1
    path = tmp_path / "Pulumi.dup.yaml"
    path.write_text(text.replace("    tensorParallel: 1", "    tensorParallel: 1\n    tensorParallel: 2", 1))
    before = path.read_bytes()
    result = invoke(*command, str(path), expect=2)
    assert "'tensorParallel' appears twice" in result.output
    assert f"line {first} and line {first + 1}" in result.output
    assert path.read_bytes() == before


def test_model_pin_refuses_a_read_only_stack_file(project):
    path = project / "stacks" / "Pulumi.prod-us.yaml"
    path.chmod(0o444)
    before = path.read_bytes()
    result = invoke("model", "pin", "prod-us", "--revision", REV_B, expect=2)
    assert "read-only" in result.output and "nothing was changed" in result.output
    assert path.read_bytes() == before and stat.S_IMODE(path.stat().st_mode) == 0o444


def test_model_pin_keeps_a_stack_file_mode(project):
    path = project / "stacks" / "Pulumi.prod-us.yaml"
    path.chmod(0o640)
    invoke("model", "pin", "prod-us", "--revision", REV_B, expect=0)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.parametrize("value,what", [("2026-02-30", "timestamp value cannot be read (day is out of range"),
                                        ("!!int abc", "int value cannot be read"),
                                        ("!!float abc", "float value cannot be read"),
                                        ("1" + "0" * 5000, "int value cannot be read (Exceeds the limit")])
@pytest.mark.parametrize("command", FIVE_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_scalar_yaml_types_but_python_cannot_build_exits_2_naming_its_line(tmp_path, value, what, command):
    """The resolver types `2026-02-30` as a date and `!!int abc` as an int; building them raised a
    ValueError that escaped every command as a traceback."""
    lines = dev_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("dtype:")) + 1
    lines.insert(at, f"    pinnedAt: {value}\n")
    path = tmp_path / "Pulumi.scalar.yaml"
    path.write_text("".join(lines))
    before = path.read_bytes()
    result = invoke(*command, str(path), expect=2)
    assert what in result.output and f"line {at + 1}, column 15" in result.output, result.output
    assert path.read_bytes() == before


CANARY_IMAGE = "vllm/vllm-openai:v0.31.0@sha256:c1c9f6fd5c109ba7f0546a59f5b2f15fb87f64c77782e90a27b648b42a8e67c3"


def _two_region_overrides(project: pathlib.Path, first: str, second: str) -> tuple[pathlib.Path, str]:
    """prod-global with `first` as us-east-1's `model:` line and `second` as eu-central-1's."""
    path = project / "stacks" / "Pulumi.prod-global.yaml"
    lines = path.read_text().splitlines(keepends=True)
    at = [i for i, line in enumerate(lines) if line.startswith("      autoscaling: {")]  # each region's own
    assert len(at) == 3, at  # us-east-1, eu-central-1, ap-northeast-1: the lines hold whatever caps the stack ships
    for i, line in sorted(zip(at[:2], (first, second)), reverse=True):
        lines.insert(i + 1, f"      {line}\n")
    text = "".join(lines)
    path.write_text(text)
    return path, text


@pytest.mark.parametrize("second", ["model: *canary", "model: {<<: *canary}"], ids=["alias", "merge-key"])
@pytest.mark.parametrize("command", [["pin", "--region", "us-east-1", "--revision", REV_B],
                                     ["pin", "--region", "eu-central-1", "--revision", "6f6073b423013f6a7d4d9f39144961bfbfbc386b"],
                                     ["pin", "--revision", REV_B]], ids=["canary", "back-to-stack", "stack-wide"])
def test_model_pin_refuses_a_region_override_shared_through_an_anchor(project, second, command):
    """Two regions sharing one override (`&canary` / `*canary`, or `<<: *canary`): a canary pinned in
    us-east-1 landed in eu-central-1 too while the message said 'other regions are unchanged', and
    sending eu-central-1 back to the stack pin deleted keys the merge still supplied."""
    path, text = _two_region_overrides(project, f"model: &canary {{revision: {'a' * 40}, image: '{CANARY_IMAGE}'}}", second)
    invoke("validate", "prod-global", expect=0)
    result = invoke("model", command[0], "prod-global", *command[1:], expect=2)
    assert "regions[0].model and regions[1].model share YAML nodes" in result.output
    assert path.read_text() == text


def test_model_pin_keeps_a_scalar_alias_meaning(project):
    """A revision written once and aliased (`&r` / `*r`) is only a value: pinning one region leaves the other's."""
    _two_region_overrides(project, f"model: {{revision: &r {'a' * 40}, image: '{CANARY_IMAGE}'}}",
                          f"model: {{revision: *r, image: '{CANARY_IMAGE}'}}")
    invoke("model", "pin", "prod-global", "--region", "us-east-1", "--revision", REV_B, expect=0)
    shown = json.loads(invoke("model", "show", "prod-global", "--json", expect=0).stdout)
    assert [r["revision"] for r in shown["regions"][:2]] == [REV_B, "a" * 40]


@pytest.mark.parametrize("command", [["estimate", *AS_OF], ["inventory"]], ids=["estimate", "inventory"])
@pytest.mark.parametrize("through", ["path", "symlink"])
def test_out_naming_the_stack_file_is_refused(cache_dir, tmp_path, command, through):
    """`estimate STACK --out STACK` replaced the stack file with the report (exit 0, 'wrote ...')."""
    path = tmp_path / "Pulumi.same.yaml"
    path.write_text(dev_text())
    out = path
    if through == "symlink":
        out = tmp_path / "report.txt"
        out.symlink_to(path.name)
    before = snapshot(tmp_path)
    result = invoke(command[0], str(path), *command[1:], "--out", str(out), expect=2)
    assert f"--out {out}: is the stack file {path}" in result.output and "Nothing was written" in result.output
    assert snapshot(tmp_path) == before


def test_out_naming_the_usage_file_or_price_catalog_is_refused(cache_dir, tmp_path):
    usage = tmp_path / "usage.yaml"
    usage.write_text("otherLogGbPerDay: 2.5\n")
    catalog = tmp_path / "catalog.json"
    catalog.write_text((ROOT / "infra" / "data" / "aws_prices.json").read_text())
    before = snapshot(tmp_path)
    result = invoke("estimate", "dev", "--usage", str(usage), "--out", str(usage), *AS_OF, expect=2)
    assert f"--out {usage}: is the --usage file" in result.output
    result = invoke("estimate", "dev", "--price-catalog", str(catalog), "--out", str(catalog), *AS_OF, expect=2)
    assert f"--out {catalog}: is the price catalog" in result.output
    assert snapshot(tmp_path) == before


def _catalog_with(tmp_path, change) -> pathlib.Path:
    data = json.loads((ROOT / "infra" / "data" / "aws_prices.json").read_text())
    change(data)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("value", ["1e999999", 1e300, 1e20])
def test_price_catalog_with_a_price_beyond_any_real_one_exits_2(cache_dir, tmp_path, value):
    """Finite but huge prices passed the catalog check and ended the estimate in decimal.Overflow or
    decimal.InvalidOperation (rounding to cents) tracebacks."""
    catalog = _catalog_with(tmp_path, lambda c: c["instances"]["us-east-1"]["g6.xlarge"].update(usdPerHour=value))
    result = invoke("estimate", "dev", "--price-catalog", str(catalog), *AS_OF, expect=2)
    assert "--price-catalog" in result.output and "instances.us-east-1.g6.xlarge.usdPerHour" in result.output
    assert "from 0 to 1,000,000" in result.output


def test_price_catalog_tier_price_beyond_any_real_one_exits_2(cache_dir, tmp_path):
    catalog = _catalog_with(tmp_path, lambda c: c["platform"]["default"]["internetEgressTiers"].update(
        tiers=[[None, "1e999999"]]))
    result = invoke("estimate", "dev", "--price-catalog", str(catalog), *AS_OF, expect=2)
    assert "platform.default.internetEgressTiers.tiers[0][1]" in result.output


def test_price_catalog_spot_savings_not_per_region_exits_2(cache_dir, tmp_path):
    """`spot.savingsPercent.g6.xlarge: 60` (one number, no regions) passed the check, then spot_savings()
    raised TypeError: argument of type 'int' is not iterable."""
    catalog = _catalog_with(tmp_path, lambda c: c["spot"]["savingsPercent"].update({"g6.xlarge": 60}))
    result = invoke("estimate", "dev", "--price-catalog", str(catalog), *AS_OF, expect=2)
    assert "spot.savingsPercent.g6.xlarge: must be an object of region: percentage" in result.output


@pytest.mark.parametrize("tiers", [[], [["10240", "0.09"]]], ids=["empty", "no-open-tier"])
def test_price_catalog_egress_tiers_must_price_every_gb(cache_dir, tmp_path, tiers):
    """Empty tiers, or tiers whose last upper bound is not null, priced the egress above them at $0."""
    catalog = _catalog_with(tmp_path, lambda c: c["platform"]["default"]["internetEgressTiers"].update(tiers=tiers))
    result = invoke("estimate", "dev", "--price-catalog", str(catalog), *AS_OF, expect=2)
    assert "internetEgressTiers.tiers: the last tier must have the upper bound null" in result.output


@pytest.mark.parametrize("amount", ["1e308", "1" + "0" * 400])
def test_compare_to_amounts_beyond_any_estimate_exit_2(cache_dir, tmp_path, amount):
    """Two saved line items of 1e308 summed to inf and the comparison came out as `Infinity` (not JSON),
    exit 0; a 400-digit integer amount did the same through float arithmetic."""
    item = '{"region": "us-east-1", "resource": "x", "category": "nat", "unit": "h", "monthlyUsd": %s}' % amount
    old = tmp_path / "old.json"
    old.write_text('{"stacks": [{"stack": "dev", "lineItems": [%s, %s]}]}' % (item, item))
    out = tmp_path / "new.json"
    result = invoke("estimate", "dev", "--format", "json", "--compare-to", str(old), "--out", str(out), *AS_OF, expect=2)
    assert "--compare-to" in result.output and "stacks[0].lineItems[0].monthlyUsd" in result.output
    assert not out.exists()


def test_a_symlink_planted_in_the_cache_is_replaced_and_its_target_never_written(cache_dir, tmp_path):
    """A restored CI cache holding `inventory-<key>.json -> ~/.bashrc` made the next estimate overwrite the
    link's target with the cache entry (the writer follows links, as `--out` should, a cache should not)."""
    total = expected_total(cache_dir)
    entries = sorted(cache_dir.glob("inventory-*.json")) + sorted(cache_dir.glob("api-*.json"))
    assert entries
    victims = []
    for i, entry in enumerate(entries):
        victim = tmp_path / f"victim-{i}"
        victim.write_text("precious\n")
        entry.unlink()
        entry.symlink_to(victim)
        victims.append(victim)
    result = invoke("estimate", "dev", "--format", "json", *AS_OF, expect=0)
    assert json.loads(result.stdout)["stacks"][0]["selfHosted"]["monthlyUsd"]["expected"] == total
    assert all(v.read_text() == "precious\n" for v in victims)
    assert all(not e.is_symlink() and e.read_text().startswith("tradeoff-infra-cache") for e in entries)


@pytest.mark.parametrize("secure", ["null", "123", "[v1:AAAA]", "''", "{a: b}"])
def test_a_secure_value_that_is_no_ciphertext_is_refused(tmp_path, secure):
    """`vllmApiKey: {secure: 123}` passed validate; `pulumi up` then fails to decrypt it."""
    path = tmp_path / "Pulumi.enc.yaml"
    path.write_text(dev_text().replace("config:\n", f"config:\n  tradeoff-infra:vllmApiKey:\n    secure: {secure}\n", 1))
    result = invoke("validate", str(path), expect=2)
    assert "tradeoff-infra:vllmApiKey.secure: is not the ciphertext" in result.output


def test_model_pin_keeps_crlf_line_endings(project):
    """A CRLF stack file came back from `model pin` with mixed line endings (CR kept on comment lines only)."""
    path = project / "stacks" / "Pulumi.prod-us.yaml"
    lf = path.read_text()
    path.write_bytes(lf.replace("\n", "\r\n").encode())
    invoke("model", "pin", "prod-us", "--revision", REV_B, expect=0)
    crlf_after = path.read_bytes().decode()
    path.write_text(lf)
    invoke("model", "pin", "prod-us", "--revision", REV_B, expect=0)
    assert crlf_after == path.read_text().replace("\n", "\r\n")
    assert crlf_after.count("\n") == crlf_after.count("\r\n")


def test_a_merge_key_given_twice_is_a_duplicate_key(tmp_path):
    """`<<: *a` then `<<: *b` in one mapping was kept-last (float32 from *b) by every reader here."""
    text = dev_text().replace("  tradeoff-infra:model:\n", "  x-a: &a {dtype: float16}\n  x-b: &b {dtype: float16}\n"
                              "  tradeoff-infra:model:\n    <<: *a\n    <<: *b\n", 1)
    path = tmp_path / "Pulumi.merge.yaml"
    path.write_text(text)
    line = text.splitlines().index("    <<: *a") + 1
    for command in (["validate"], ["model", "pin", "--revision", REV_B]):
        result = invoke(*command[:1 if command[0] == "validate" else 2], str(path), *command[2:], expect=2)
        assert f"key '<<' appears twice, on line {line} and line {line + 1}" in result.output
    assert path.read_text() == text


@pytest.mark.parametrize("command", [["estimate", *AS_OF], ["inventory"], ["validate"]])
def test_a_stack_file_name_that_is_not_utf8_exits_2(tmp_path, command):
    """`Pulumi.\\xff.yaml`: its name (the stack name) could not be encoded for the cache key or the program
    under mocks; estimate and inventory ended in UnicodeEncodeError tracebacks."""
    folder = os.fsencode(tmp_path)
    raw = os.path.join(folder, b"Pulumi.\xff\xfe.yaml")
    with open(raw, "wb") as f:
        f.write(dev_text().encode())
    done = cli(command[0], os.fsdecode(raw), *command[1:], timeout=60)
    assert done.returncode == 2, done.stderr
    assert "the file name is not UTF-8 text; rename the file" in done.stderr


def test_model_pin_never_writes_a_stack_file_too_large_to_read_back(project):
    """Nine pins with 120 KB notes grew the file past the 1 MiB every command reads: from then on validate,
    estimate and even `model rollback` refused the stack ('is 1.0 MiB, larger than the 1.0 MiB')."""
    from infra.spec import MAX_STACK_FILE_BYTES

    path = project / "stacks" / "Pulumi.prod-us.yaml"
    note = "x" * 120_000
    codes = []
    for i in range(1, 11):
        before = path.read_bytes()
        result = runner.invoke(app, ["model", "pin", "prod-us", "--revision", f"{i:040x}", "--note", note])
        codes.append(result.exit_code)
        assert "Traceback" not in result.output
        if result.exit_code:
            assert f"over the {MAX_STACK_FILE_BYTES:,} every command reads" in result.output
            assert path.read_bytes() == before
        assert path.stat().st_size <= MAX_STACK_FILE_BYTES
    assert codes[:8] == [0] * 8 and 2 in codes
    invoke("model", "rollback", "prod-us", expect=0)


@pytest.mark.parametrize("text, what", [("otherLogGbPerDay: 1\notherLogGbPerDay: 2\n",
                                         "key 'otherLogGbPerDay' appears twice, on line 1 and line 2"),
                                        ("otherLogGbPerDay: [1\n", "not valid YAML"),
                                        ("otherLogGbPerDay: 2026-02-30\n", "timestamp value cannot be read")])
def test_usage_file_is_read_like_a_stack_file(cache_dir, tmp_path, text, what):
    """A key written twice in `--usage` was kept-last (yaml.safe_load); duplicates are refused everywhere else."""
    usage = tmp_path / "usage.yaml"
    usage.write_text(text)
    result = invoke("estimate", "dev", "--usage", str(usage), *AS_OF, expect=2)
    assert f"--usage {usage}: " in result.output and what in result.output


@pytest.mark.parametrize("key", ["aws:accessKey", "aws:secretKey", "aws:token"])
def test_aws_credentials_in_clear_are_refused_without_printing_them(tmp_path, key):
    """rev10 review: only the two tradeoff-infra secrets were checked; the AWS provider's credential keys
    written in clear were accepted silently (and would sit in the repository in clear)."""
    from infra.spec import SpecError, project_config

    document = {"config": {key: "AKIAEXAMPLESECRET123", "tradeoff-infra:model": {}}}
    with pytest.raises(SpecError) as err:
        project_config(document)
    text = str(err.value)
    assert key in text and "pulumi config set --secret" in text and "AKIAEXAMPLESECRET123" not in text
    assert project_config({"config": {key: {"secure": "v1:abc"}}}) == {}
