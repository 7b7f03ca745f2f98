"""Content-addressed cache of inventories, resolved API prices and whole estimates under `.cache/tradeoff-infra/`.

An inventory depends on the stack file, the program (`infra/`, including the price catalog), the
chart (`charts/`), the recording mocks (`cli/inventory.py`), the stored format (this file and
`cli/planned.py`) and the pinned SDK versions; the key is a SHA-256 over all of them, so any edit
is a miss. Each entry stores its key and an HMAC-SHA-256 of key and content under a secret kept
outside the cache (`cache_secret`); a file that does not match them or does not parse as the stored
format is a miss, with a warning (a poisoned CI cache cannot change an estimate: without the secret
no entry can be forged). Entries are read only from regular files, bounded in size, and written with the
umask. Secret values never reach it: the recording mocks store them as "[secret]". A warm hit never
imports Pulumi.

An estimate (`estimate-<key>.json`: the contract documents of one `estimate` run, before `--compare-to`)
is keyed by `code_digest()` (all of `cli/`, `infra/`, `charts/`, the package versions), the bytes of every
input file (stack files, `--usage`, `--price-catalog`), the date priced and every option that can change
a document (cli/commands/estimate.py `docs_key`); a hit skips reading the specs, pricing and break-even.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pathlib
import secrets
import threading
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import metadata
from typing import Any

from cli import output
from cli.collector import fewer_collections
from cli.planned import PlannedResource
from infra import files

CACHE_VERSION = "4"
ENTRY_HEADER = f"tradeoff-infra-cache v{CACHE_VERSION}"
# A 16-region inventory is ~3 MB; anything far larger is not ours.
MAX_ENTRY_BYTES = 256 * files.MIB
_FIELD_NAMES = tuple(f.name for f in fields(PlannedResource))
SDK_PACKAGES = ("pulumi", "pulumi-aws", "pulumi-kubernetes")


@dataclass
class CachedInventory:
    stack: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]


@lru_cache(maxsize=None)
def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "none"


def cache_dir(root: pathlib.Path) -> pathlib.Path:
    """`$TRADEOFF_INFRA_CACHE_DIR` (tests, CI), else `<project root>/.cache/tradeoff-infra` (gitignored)."""
    if env := os.environ.get("TRADEOFF_INFRA_CACHE_DIR"):
        return pathlib.Path(env)
    return root / ".cache" / "tradeoff-infra"


def _files(folder: pathlib.Path) -> list[pathlib.Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def key_files() -> list[pathlib.Path]:
    """The code an inventory depends on: the imported `infra` package, its charts folder
    (infra/components/vllm.py reads charts/ next to it), the recording mocks and the stored format."""
    here = pathlib.Path(__file__).resolve()
    infra_dir = here.parents[1] / "infra"
    return [here.with_name("inventory.py"), here, here.with_name("planned.py"), *_files(infra_dir),
            *_files(infra_dir.parent / "charts")]


def inventory_key(stack_file: pathlib.Path, stack: str) -> str:
    digest = hashlib.sha256()
    digest.update(f"v{CACHE_VERSION}\0{stack}\0".encode())
    for package in SDK_PACKAGES:
        digest.update(f"{package}={package_version(package)}\0".encode())
    inputs = [stack_file, *key_files()]
    infra_dir = pathlib.Path(__file__).resolve().parents[1] / "infra"
    for path in inputs:
        rel = path.relative_to(infra_dir.parent) if path.is_relative_to(infra_dir.parent) else path.name
        digest.update(str(rel).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
        digest.update(b"\0")
    return digest.hexdigest()


def code_digest() -> str:
    """SHA-256 over everything but its inputs that an estimate may depend on: the code and data of `cli/`,
    `infra/` (the price catalog, instance facts) and `charts/`, the versions of the packages that price or
    run it (the SDKs, genai-prices' bundled prices, pydantic) and Python's. Any edit is a miss."""
    import sys

    top = pathlib.Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"code v{CACHE_VERSION}\0{sys.version}\0".encode())
    for package in (*SDK_PACKAGES, "genai-prices", "pydantic"):
        digest.update(f"{package}={package_version(package)}\0".encode())
    for path in [*_files(top / "cli"), *_files(top / "infra"), *_files(top / "charts")]:
        digest.update(str(path.relative_to(top) if path.is_relative_to(top) else path).encode() + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


warnings: list[str] = []
"""Cache entries ignored because they failed their check, for the command to print (stderr)."""


def warn(message: str) -> None:
    warnings.append(message)


def take_warnings() -> list[str]:
    """The warnings so far, each once, in order; the list is emptied."""
    taken = list(dict.fromkeys(warnings))
    warnings.clear()
    return taken


# The entries' digest is keyed (HMAC-SHA-256) with a secret kept outside the cache, so whoever can write the
# cache (a restored CI cache, a shared folder) cannot forge an entry: a plain hash they can recompute.
CACHE_SECRET_ENV = "TRADEOFF_INFRA_CACHE_KEY"


def _secret_file() -> pathlib.Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return pathlib.Path(base) / "tradeoff-infra" / "cache-key"


@lru_cache(maxsize=1)
def cache_secret() -> bytes:
    """The key of the entries' HMAC: `$TRADEOFF_INFRA_CACHE_KEY` (set it from a CI secret to share a cache
    between CI runs), else a random key made once per user in ~/.config/tradeoff-infra/cache-key (0600).
    Without either (no writable home) the cache is not trusted at all: every read is a miss."""
    given = os.environ.get(CACHE_SECRET_ENV)
    if given:
        return given.encode()
    path = _secret_file()
    try:
        secret = files.read_bytes(path, 1024).strip()
        if len(secret) >= 32:
            return secret
    except files.UnreadableFile:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_hex(32).encode())
        return files.read_bytes(path, 1024).strip()
    except (OSError, files.UnreadableFile):
        return b""


def _entry_digest(key: str, body: bytes) -> str:
    secret = cache_secret()
    if not secret:
        return "untrusted"  # never equal to a stored digest's hex: every entry is a miss
    return hmac.new(secret, key.encode() + b"\0" + body, hashlib.sha256).hexdigest()


def _secret_id() -> str:
    """Which secret signed an entry (a hash of it, not the secret): an entry signed under another secret
    (the test suite's, another user's) is a silent miss, not reported as tampering."""
    return hashlib.sha256(b"tradeoff-infra cache secret id\0" + cache_secret()).hexdigest()[:16]


def _write_entry(path: pathlib.Path, key: str, data: Any) -> None:
    """`HEADER key secret-id hmac(key, body)` on the first line, then the JSON body, through the CLI's one writer
    (a new file honours the umask)."""
    body = json.dumps(data)
    # own=True: a symlink planted in a restored cache is replaced, its target (any file of the user's) never written
    output.write_text(path, f"{ENTRY_HEADER} {key} {_secret_id()} {_entry_digest(key, body.encode())}\n{body}", own=True)


def _read_entry(path: pathlib.Path, key: str) -> Any | None:
    """The JSON body of a cache file whose header names `key` and whose body matches its digest. A missing
    file is a silent miss; any other failure (not a regular file, too large, another format, a body
    changed after it was written) is a miss with a warning: a poisoned cache must not change a result."""
    try:
        raw = files.read_bytes(path, MAX_ENTRY_BYTES)
    except files.UnreadableFile as err:
        if path.exists() or path.is_symlink():
            warn(f"cache file {path.name}: {err.reason}; ignored")
        return None
    header, _, body = raw.partition(b"\n")
    fields_ = header.decode("ascii", "replace").split(" ")
    if len(fields_) != 5 or " ".join(fields_[:2]) != ENTRY_HEADER or fields_[2] != key:
        warn(f"cache file {path.name} is not a cache entry of this version; ignored, computed again")
        return None
    if fields_[3] != _secret_id():
        return None  # written under another cache secret (docs/estimate.md): a miss, computed again
    if fields_[4] != _entry_digest(key, body):
        warn(f"cache file {path.name} does not match its digest (changed after it was written); ignored, computed again")
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        warn(f"cache file {path.name} is not JSON; ignored, computed again")
        return None


def load_inventory(root: pathlib.Path, key: str) -> CachedInventory | None:
    path = cache_dir(root) / f"inventory-{key}.json"
    data = _read_entry(path, key)
    if data is None:
        return None
    try:
        return CachedInventory(data["stack"], [PlannedResource(**r) for r in data["resources"]], data["outputs"])
    except (ValueError, KeyError, TypeError):
        warn(f"cache file {path.name} is not a stored inventory; ignored, computed again")
        return None


def store_inventory(root: pathlib.Path, key: str, stack: str, resources: list, outputs: dict) -> CachedInventory:
    cached = CachedInventory(stack, [to_cached(r) for r in resources], outputs)
    data = {"stack": stack, "resources": [as_record(r) for r in cached.resources], "outputs": outputs}
    try:
        _write_entry(cache_dir(root) / f"inventory-{key}.json", key, data)
    except OSError:
        pass  # a read-only checkout still estimates, only slower next time
    return cached


def as_record(r: PlannedResource) -> dict[str, Any]:
    """The stored form: a shallow dict of the fields (`dataclasses.asdict` deep-copies every input
    and output value first, ~0.4 s for a 16-region stack, only for `json.dumps` to read them once)."""
    return {name: getattr(r, name) for name in _FIELD_NAMES}


def to_cached(r: Any) -> PlannedResource:
    if isinstance(r, PlannedResource):
        return r
    return PlannedResource(**{f.name: getattr(r, f.name) for f in fields(PlannedResource) if hasattr(r, f.name)})


def load_json(root: pathlib.Path, kind: str, key: str) -> Any | None:
    return _read_entry(cache_dir(root) / f"{kind}-{key}.json", key)


def store_json(root: pathlib.Path, kind: str, key: str, data: Any) -> None:
    try:
        _write_entry(cache_dir(root) / f"{kind}-{key}.json", key, data)
    except OSError:
        pass


def text_key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def inventory_for(root: pathlib.Path, stack: str, stack_file: pathlib.Path, config: dict, *,
                  no_cache: bool = False) -> tuple[CachedInventory, bool]:
    """The stack's planned resources: from the cache when every input is unchanged, else by running
    the program under recording mocks (the only path that imports Pulumi). Returns (inventory, hit)."""
    key = inventory_key(stack_file, stack)
    if not no_cache:
        cached = load_inventory(root, key)
        if cached is not None:
            return cached, True
    with fewer_collections():  # from the SDK imports on
        from cli.inventory import run_program  # imports pulumi + pulumi-aws: ~1 s, only on a miss

        inventory = run_program(config, stack)
    return store_inventory(root, key, stack, inventory.resources, inventory.outputs), False


def _run_in_child(job: tuple[str, dict]) -> tuple[str, list[dict], dict]:
    """Pool worker: one stack's program under mocks, returned as plain data."""
    from cli.inventory import run_program

    stack, config = job
    inventory = run_program(config, stack)
    return stack, [as_record(to_cached(r)) for r in inventory.resources], inventory.outputs


def inventories_for(root: pathlib.Path, jobs: list[tuple[str, pathlib.Path, dict]], *,
                    no_cache: bool = False) -> dict[pathlib.Path, tuple[CachedInventory, bool]]:
    """`inventory_for` for several stacks, keyed by the stack file's resolved path (two files may
    share a stack name); misses run in parallel processes (forked after one import of Pulumi) when
    there are two or more and the machine has two or more CPUs."""
    return start_inventories(root, jobs, no_cache=no_cache).wait()


class PendingInventories:
    """`inventories_for` begun by `start_inventories`: `wait()` returns its result (running the programs
    then if nothing runs them yet), `cancel()` stops programs still running. Use it in a `with` block
    (or call `cancel` in a `finally`): leaving it early stops what it started."""

    def __init__(self, root: pathlib.Path, out: dict, misses: list) -> None:
        self.root, self.out, self.misses = root, out, misses
        self._child: tuple[int, int] | None = None  # (pid, read end of its pipe) while a forked process runs them
        self._done = not misses

    def _fork(self) -> None:
        """Run the misses in a forked child, its own process group (its pool workers join it), which sends back
        the records or the exception as one pickle through a pipe. The parent never imports Pulumi."""
        import pickle

        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the caller's code, never runs its atexit handlers
            status = 0
            try:
                os.close(read_end)
                os.setpgid(0, 0)
                try:
                    payload = pickle.dumps(("ok", _run_misses(self.root, self.misses)))
                except BaseException as err:  # noqa: BLE001  (re-raised in the parent, as a pool worker's would be)
                    try:
                        payload = pickle.dumps(("error", err))
                    except Exception:  # noqa: BLE001  (an exception pickle cannot carry: its text)
                        payload = pickle.dumps(("error", RuntimeError(f"{type(err).__name__}: {err}")))
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(payload)
            except BaseException:  # noqa: BLE001
                status = 1
            finally:
                os._exit(status)
        os.close(write_end)
        try:
            os.setpgid(pid, pid)  # also here: a cancel right after the fork must reach the whole group
        except OSError:
            pass  # the child set it already (or has exited)
        self._child = (pid, read_end)

    def wait(self) -> dict[pathlib.Path, tuple[CachedInventory, bool]]:
        if self._done:
            return self.out
        if self._child is None:
            results = _run_misses(self.root, self.misses)
        else:
            import pickle

            pid, read_end = self._child
            with os.fdopen(read_end, "rb", closefd=False) as pipe:  # `cancel` closes it if this is interrupted
                payload = pipe.read()
            self._child = None
            os.close(read_end)
            os.waitpid(pid, 0)
            if not payload:
                raise RuntimeError("the process running the stacks' programs ended without a result")
            kind, value = pickle.loads(payload)
            if kind == "error":
                raise value
            results = value
        for (stack, key, _, where), (resources, outputs) in zip(self.misses, results):
            records = [r if isinstance(r, PlannedResource) else PlannedResource(**r) for r in resources]
            self.out[where] = (store_inventory(self.root, key, stack, records, outputs), False)
        self._done = True
        return self.out

    def cancel(self) -> None:
        if self._child is None:
            return
        import signal

        pid, read_end = self._child
        self._child = None
        for stop in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.close(read_end)):
            try:
                stop()
            except OSError:
                pass  # already gone / already closed (an interrupt while `wait` read the pipe)
        os.waitpid(pid, 0)

    def __enter__(self) -> PendingInventories:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.cancel()


def start_inventories(root: pathlib.Path, jobs: list[tuple[str, pathlib.Path, dict]], *,
                      no_cache: bool = False) -> PendingInventories:
    """Begin `inventories_for`: cached inventories are read now; with two or more misses (run in parallel,
    see `_run_misses`) the programs start now in a forked process, so the SDK's ~1 s of imports and the runs
    overlap whatever the caller does before `wait()`; otherwise they run in `wait()`."""
    out: dict[pathlib.Path, tuple[CachedInventory, bool]] = {}
    misses = []
    for stack, path, config in jobs:
        where = path.resolve()
        if where in out or any(m[3] == where for m in misses):
            continue
        key = inventory_key(path, stack)
        cached = None if no_cache else load_inventory(root, key)
        if cached is not None:
            out[where] = (cached, True)
        else:
            misses.append((stack, key, config, where))
    # biggest first: the pool's workers finish together (the results keep this order)
    misses.sort(key=lambda m: -len(m[2].get("regions") or []))
    pending = PendingInventories(root, out, misses)
    if _parallel_workers(misses) >= 2:
        pending._fork()
    return pending


def _parallel_workers(misses: list) -> int:
    """How many processes run `misses`: one per miss up to the CPUs, or 1 (in this process) where fork is not
    available or threads run (threads do not survive a fork)."""
    import multiprocessing  # only on a miss; the warm path never needs it

    if not misses or "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() != 1:
        return 1
    return min(len(misses), os.cpu_count() or 1)


def _run_misses(root: pathlib.Path, misses: list) -> list[tuple[list, dict]]:
    """(resources, outputs) of each miss's program, in order: in parallel forked workers after one import of the
    SDK modules when `_parallel_workers` allows two or more, else one after another in this process."""
    import multiprocessing

    workers = _parallel_workers(misses)
    with fewer_collections():  # from the SDK imports on; forked workers inherit it
        if workers >= 2:
            _preload_sdk_modules(root)  # once here, shared by the forked workers (no threads started yet)
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                results = pool.map(_run_in_child, [(stack, config) for stack, _, config, _ in misses], chunksize=1)
            return [(resources, outputs) for _, resources, outputs in results]  # map keeps the order
        from cli.inventory import run_program

        out = []
        for stack, _, config, _ in misses:
            inventory = run_program(config, stack)
            out.append((inventory.resources, inventory.outputs))
        return out


def _preload_sdk_modules(root: pathlib.Path) -> None:
    """Load the pulumi-aws / pulumi-kubernetes service modules the program mentions, once, before
    forking: the SDKs load them lazily on first use (~1 s) and every forked worker would otherwise
    pay that again. `import_module` alone is not enough: pulumi-aws registers each service module
    as a lazy stub that loads on its first attribute access, so the attribute is read too. Only
    imports and reads classes; the program never runs before the fork."""
    import importlib
    import re

    import cli.inventory  # noqa: F401
    import infra.program  # noqa: F401  (the program's own modules: infra/__main__.py imports them on every run)

    text = "\n".join(p.read_text() for p in _files(root / "infra") if p.suffix == ".py")
    names = {(f"pulumi_aws.{m}", attr) for m, attr in re.findall(r"\baws\.([a-z0-9_]+)\.([A-Za-z_]\w*)", text)}
    names |= {(f"pulumi_kubernetes.{a}.{b}", attr)
              for a, b, attr in re.findall(r"\bk8s\.([a-z0-9_]+)\.([a-z0-9_]+)\.([A-Za-z_]\w*)", text)}
    for module, attr in sorted(names):
        top, *path = module.split(".")
        try:
            found = importlib.import_module(top)
            for part in [*path, attr]:  # the program's `aws.ec2.Vpc` / `k8s.apps.v1.Deployment`: each lazy stub on the way
                found = getattr(found, part)
        except (ImportError, AttributeError):
            pass  # a heuristic match that is not a module (e.g. "aws.amazon.com" in a string)
