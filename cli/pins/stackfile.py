"""Edit a stack file in place: comments, key order and quotes kept; atomic; one writer at a time.

`edit(path, change)` holds the lock file `.<name>.lock` (next to the stack file) across
read -> change -> write, so two concurrent edits serialise instead of one losing the other's.
The new text goes through the CLI's one writer (`cli/output.py`): a temporary file in the same
folder, flushed and fsynced, renamed over the original (atomic on POSIX), the folder fsynced so the
rename survives a crash; the file keeps its mode, a read-only one is refused. A symlinked stack file
is edited at its target, and locked there.
Until the rename the original is untouched; after it, the new file is complete. Any exception
(or a kill) before the rename leaves the file byte-for-byte as it was.

Fault injection for tests, through the environment variable TRADEOFF_INFRA_FAULT (the writer's
own points, mid-temp-write and after-temp-write, are in `cli/output.py`):
  pause-after-read=S   sleep S seconds holding the lock after reading (makes races observable)
"""

from __future__ import annotations

import io
import os
import pathlib
import time
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

from filelock import FileLock
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import PlainScalarString, ScalarString
from ruamel.yaml.tokens import CommentToken

from cli import output
from infra.spec import read_stack_text

FAULT_ENV = output.FAULT_ENV
# A stale lock holder (a hung process) should not block a 3 a.m. rollback forever.
LOCK_TIMEOUT_SECONDS = 60

T = TypeVar("T")


def round_trip_yaml() -> YAML:
    """The YAML dialect of the shipped stack files: 2-space maps, `- ` list items indented by 2."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never re-wrap a long image reference or comment
    return yaml


def load(text: str) -> Any:
    return round_trip_yaml().load(text)


def dump(document: Any) -> str:
    out = io.StringIO()
    round_trip_yaml().dump(document, out)
    return out.getvalue()


def lock_path(path: pathlib.Path) -> pathlib.Path:
    return path.with_name(f".{path.name}.lock")


_temp_prefix = output.temp_prefix


@dataclass(frozen=True)
class EditResult(Generic[T]):
    value: T
    """What the change function returned."""
    changed: bool
    """False when the change left the text as it was (nothing was written)."""
    before: str
    after: str


def _pause_after_read() -> None:
    spec = os.environ.get(FAULT_ENV, "")
    if spec.startswith("pause-after-read="):
        time.sleep(float(spec.split("=", 1)[1]))


def _remove_stale_temps(path: pathlib.Path) -> None:
    # Under the lock no other writer exists, so a leftover temp file is from a killed process.
    for stale in path.parent.glob(f"{_temp_prefix(path)}*.tmp"):
        stale.unlink(missing_ok=True)


def write_atomic(path: pathlib.Path, text: str) -> None:
    """Replace `path` with `text` through the CLI's one writer: temp file, fsync, rename, fsync the folder."""
    output.write_text(path, text, durable=True)


def real_path(path: str | os.PathLike) -> pathlib.Path:
    """The file an edit changes and locks: a symlink's target (two paths to one file share one lock)."""
    return pathlib.Path(path).resolve()


def edit(
    path: str | os.PathLike,
    change: Callable[[Any], T],
    check: Callable[[str], None] | None = None,
    *,
    precheck: Callable[[str], None] | None = None,
) -> EditResult[T]:
    """Read `path`, let `change` mutate the round-trip document, `check` the new text, write it.

    The text is read by the CLI's one stack-file reader (`infra.spec.read_stack_text`: a regular
    UTF-8 file of bounded size; SpecError otherwise). A symlink is followed: its target is edited
    (the link stays) and locked. `precheck` sees the text before the round-trip parser does.
    `change`, `check` and `precheck` raise to abort; the file is then unchanged. Nothing is written
    when the text did not change.
    """
    real = real_path(path)
    with FileLock(lock_path(real), timeout=LOCK_TIMEOUT_SECONDS):
        _remove_stale_temps(real)
        before = read_stack_text(path)
        _pause_after_read()
        if precheck is not None:
            precheck(before)
        # A CRLF file is edited as LF and written back as CRLF: ruamel keeps the CR of comment lines only,
        # so the file came back with mixed line endings, every other line changed.
        crlf = "\r\n" in before
        document = load(before.replace("\r\n", "\n") if crlf else before)
        value = change(document)
        after = dump(document)
        if crlf:
            after = after.replace("\n", "\r\n")
        if after == before:
            return EditResult(value, False, before, after)
        if check is not None:
            check(after)
        write_atomic(real, after)
        return EditResult(value, True, before, after)


# ------------------------------------------------------------------ comment-keeping edits
#
# ruamel keeps the comment lines that follow a block (blank lines, full-line comments before the
# next key) on the deepest last node of that block. Appending or removing the last key would move
# those lines to the wrong place, so every structural edit below lifts them off first and puts
# them back on the new deepest last node.


def _is_block(node: Any) -> bool:
    return isinstance(node, (CommentedMap, CommentedSeq)) and len(node) > 0 and not node.fa.flow_style()


def _last_slot(node: Any) -> tuple[list[Any], Any, int] | None:
    """(block collections down to the last line, key of the last item, index in its ca.items entry)."""
    if not _is_block(node):
        return None
    chain = [node]
    while True:
        if isinstance(node, CommentedMap):
            key, slot = next(reversed(node)), 2
        else:
            key, slot = len(node) - 1, 0
        child = node[key]
        if _is_block(child):
            node = child
            chain.append(node)
            continue
        return chain, key, slot


def _detach_tail(node: Any) -> str:
    """Remove and return the lines after the block's last line (keeping its end-of-line comment).

    They sit on the last item's comment token and in the `end` comments of the collections
    that close there (innermost first, the order the emitter writes them).
    """
    found = _last_slot(node)
    if not found:
        return ""
    chain, key, slot = found
    container = chain[-1]
    tail = ""
    entry = container.ca.items.get(key)
    if entry and len(entry) > slot and entry[slot] is not None:
        value = entry[slot].value
        cut = value.find("\n") + 1 if "\n" in value else len(value)
        head, tail = value[:cut], value[cut:]
        if head.strip():
            entry[slot].value = head
        else:
            entry[slot] = None
    for collection in reversed(chain):
        for token in collection.ca.end or []:
            indent = "" if token.value.startswith("\n") else " " * token.start_mark.column
            tail += indent + token.value
        collection.ca.end = []
    return tail


def _attach_tail(node: Any, tail: str) -> None:
    if not tail:
        return
    found = _last_slot(node)
    if not found:
        return
    chain, key, slot = found
    entry = chain[-1].ca.items.setdefault(key, [None, None, None, None])
    if entry[slot] is not None:
        entry[slot].value += tail
    else:
        entry[slot] = CommentToken("\n" + tail, CommentMark(0), None)


def _needs_quotes(text: str) -> bool:
    return dump({"k": PlainScalarString(text)}) != f"k: {text}\n"


def _styled(old: Any, new: Any) -> Any:
    """Quote `new` like `old` only when the author chose quotes; ruamel alone would copy any quotes."""
    if not isinstance(new, str) or isinstance(new, ScalarString):
        return new
    if isinstance(old, ScalarString) and not isinstance(old, PlainScalarString) and not _needs_quotes(str(old)):
        return type(old)(new)
    return PlainScalarString(new)  # the dumper still quotes it when plain text would not read back as a string


def set_key(mapping: CommentedMap, key: str, value: Any, before: str | None = None) -> None:
    """Set `mapping[key]`; a new key goes before `before` when that key exists, else last."""
    if key in mapping and not _is_block(mapping[key]) and not _is_block(value):
        mapping[key] = _styled(mapping[key], value)  # in place: keeps position and end-of-line comment
        return
    tail = _detach_tail(mapping)
    if key in mapping:
        mapping[key] = value
    elif before is not None and before in mapping:
        mapping.insert(list(mapping).index(before), key, value)
    else:
        mapping[key] = value
    _attach_tail(mapping, tail)


def delete_key(mapping: CommentedMap, key: str) -> None:
    if key not in mapping:
        return
    tail = _detach_tail(mapping)
    del mapping[key]
    _attach_tail(mapping, tail)


def append_item(sequence: CommentedSeq, value: Any) -> None:
    tail = _detach_tail(sequence)
    sequence.append(value)
    _attach_tail(sequence, tail)


def delete_item(sequence: CommentedSeq, index: int) -> None:
    tail = _detach_tail(sequence)
    del sequence[index]
    _attach_tail(sequence, tail)
