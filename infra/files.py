"""Reading input files safely: regular files only, up to a size bound, UTF-8 text.

A FIFO would block a read forever, `/dev/zero` would read until memory runs out, a directory or a
socket is never a stack file, cache or catalog. `read_bytes` refuses anything that is not a regular
file (after following symlinks) and anything larger than its bound, without reading it; `read_text`
also refuses text that is not UTF-8 and says so, instead of a `UnicodeDecodeError`. Both raise
`UnreadableFile`, whose message names the file and the reason and never quotes its content.
"""

from __future__ import annotations

import codecs
import json
import math
import os
import pathlib
import stat

MIB = 1 << 20


class UnreadableFile(Exception):
    """The file is missing, not a regular file, too large or not UTF-8. The message says which."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _size(n: int) -> str:
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{n} bytes"


def read_bytes(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of the regular file at `path` (symlinks followed), at most `limit` of them."""
    try:
        before = os.stat(path)
        if not stat.S_ISREG(before.st_mode):
            raise UnreadableFile(path, f"is {_kind(before.st_mode)}, not a regular file; refusing to read it")
        if before.st_size > limit:
            raise UnreadableFile(path, f"is {before.st_size:,} bytes, larger than the {_size(limit)} this input may be")
        # O_NONBLOCK: if the path was swapped for a FIFO since the stat, opening it must not wait for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except UnreadableFile:
        raise
    except OSError as err:
        raise UnreadableFile(path, f"cannot read: {err.strerror or err}") from None
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode):
            raise UnreadableFile(path, f"is {_kind(now.st_mode)}, not a regular file; refusing to read it")
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, MIB))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as err:
        raise UnreadableFile(path, f"cannot read: {err.strerror or err}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise UnreadableFile(path, f"is larger than the {_size(limit)} this input may be")
    return data


def decode(path: str | os.PathLike, data: bytes) -> str:
    """`data` as UTF-8 text (a UTF-8 byte-order mark is dropped); UnreadableFile says what it is instead."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableFile(path, "is UTF-16 text; save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise UnreadableFile(path, f"is not UTF-8 text (byte 0x{data[err.start]:02x} on line {line}); save it as UTF-8") from None


def read_text(path: str | os.PathLike, limit: int) -> str:
    return decode(path, read_bytes(path, limit))


def resolve_within_folder(path: str | os.PathLike) -> pathlib.Path:
    """`path` itself, unless it is a symlink whose target lies outside the folder holding the link:
    then UnreadableFile (its content would be read and could be echoed in an error message)."""
    path = pathlib.Path(path)
    if not path.is_symlink():
        return path
    try:
        folder = path.absolute().parent.resolve()
        target = path.resolve()
    except (RuntimeError, OSError) as err:  # a loop of symlinks: Path.resolve raises RuntimeError on Python 3.11
        why = getattr(err, "strerror", None) or "Too many levels of symbolic links"
        raise UnreadableFile(path, f"cannot read: {why}") from None
    if not target.is_relative_to(folder):
        raise UnreadableFile(path, f"is a symlink to {target}, outside {folder}; refusing to read a file from "
                                   "elsewhere (copy it into the folder or link to a file inside it)")
    return path


def short_repr(value: object, limit: int = 40) -> str:
    """`repr(value)` cut to `limit` characters for an error message: a 400-digit number or a megabyte string a
    hostile input holds is named, not printed whole."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(f"{literal[:40]} is out of range for a number")
    return value


def finite_json(text: str) -> object:
    """JSON as the standard defines it: NaN, Infinity and numbers beyond a double (1e400) are refused
    (ValueError), and so is nesting deeper than the parser can follow."""
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise ValueError("nested too deeply") from None
