"""The one file writer of the CLI: `--out`, the caches, the price catalog and stack-file edits.

`write_text(path, text)`:
- a new file is written to a temporary file in the same folder and renamed into place, so a reader
  sees the old file or the whole new one; it is created with mode 0666 less the umask, like any
  program's output (`umask 077` gives 0600);
- an existing regular file keeps its mode; a symlink to one is followed: the target is replaced, the
  link stays; a dangling symlink (the path or a folder above it) gets its target only where the target's
  folder exists: no folder is created through a link; a read-only file (no write bit) is refused with `ReadOnlyTarget`, never replaced;
- standard output or standard error (`/dev/stdout`, `/dev/fd/2`, or whatever file they point at)
  gets the text on that stream;
- another character device (`/dev/null`, a terminal) or a FIFO is written through, never replaced:
  a FIFO nobody reads is refused at once instead of blocking;
- anything else (a directory, a socket, a block device) is refused.
Errors are OSError with `strerror` saying what happened; nothing is left behind.

`durable=True` also fsyncs the file and its folder (stack-file edits must survive a crash).
`own=True` is for the CLI's own files (cache entries): whatever is at the path (a symlink, a FIFO, a device;
not a directory) is replaced by a new regular file, and a symlink's target is never written.

Fault injection for tests, through the environment variable TRADEOFF_INFRA_FAULT:
  mid-temp-write       SIGKILL this process when half the new text is in the temporary file
  after-temp-write     SIGKILL this process when the temporary file is complete, before the rename
"""

from __future__ import annotations

import errno
import os
import pathlib
import signal
import stat
import sys

from cli.errors import CliError
from cli.render.safe import shown_path

FAULT_ENV = "TRADEOFF_INFRA_FAULT"


class ReadOnlyTarget(PermissionError):
    """The target is a regular file without a write bit: it is not ours to replace."""


def temp_prefix(path: pathlib.Path) -> str:
    return f".{path.name}."


def _fault(point: str) -> bool:
    return os.environ.get(FAULT_ENV, "") == point


def _same_as_stream(st: os.stat_result) -> object | None:
    for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
        try:
            if os.path.samestat(st, os.fstat(fd)):
                return stream
        except OSError:
            continue
    return None


def _write_through(path: pathlib.Path, data: bytes, fifo: bool) -> None:
    flags = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | (os.O_NONBLOCK if fifo else 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        if fifo and err.errno == errno.ENXIO:
            raise OSError(errno.ENXIO, "it is a FIFO that no process is reading") from None
        raise
    try:
        if fifo:
            os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def write_text(path: str | os.PathLike, text: str, *, durable: bool = False, own: bool = False) -> None:
    data = text.encode()
    path = pathlib.Path(path)
    if own:
        _replace_own(path, data)
        return
    try:
        st = os.stat(path)  # follows symlinks
    except FileNotFoundError:
        st = None
    if st is not None:
        stream = _same_as_stream(st)
        if stream is not None:
            stream.write(text)
            stream.flush()
            return
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a directory")
        if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            _write_through(path, data, fifo=stat.S_ISFIFO(st.st_mode))
            return
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file, a character device or a FIFO")
        if not st.st_mode & 0o222:
            raise ReadOnlyTarget(errno.EACCES, f"it is read-only (mode {stat.S_IMODE(st.st_mode):04o}); "
                                               "make it writable (chmod u+w) to let it be replaced")
    target = path.resolve()  # a symlink's target (also a dangling one); the link stays
    if st is None:
        _refuse_folders_through_a_link(path, target)
    _rename_into_place(target, data, st, durable)


def _dangling_link(path: pathlib.Path) -> pathlib.Path | None:
    """The dangling symlink on the way to a new `path` (the path itself or a folder above it), or None: walks up
    past the names that do not exist to the first that does, or that is a link to nothing."""
    for part in (path, *path.parents):
        if part.is_symlink() and not part.exists():
            return part
        if part.exists():
            return None
    return None


def _refuse_folders_through_a_link(path: pathlib.Path, target: pathlib.Path) -> None:
    """A new file reached through a dangling symlink is written only into a folder that exists (as a shell's `>`
    does): the folders a link points at are never created, wherever it points."""
    link = _dangling_link(path)
    if link is not None and not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"{shown_path(link)} is a symlink to {shown_path(os.readlink(link))}, "
                                              "which does not exist; no folder is created through a symlink")


def _replace_own(path: pathlib.Path, data: bytes) -> None:
    """A file of the CLI's own (a cache entry): whatever else is at the path (a symlink planted in a restored
    cache, a FIFO, a device) is replaced by a new regular file; a link's target is never opened or written."""
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a directory")
    except FileNotFoundError:
        pass
    _rename_into_place(path, data, None, durable=False)


def _rename_into_place(target: pathlib.Path, data: bytes, st: os.stat_result | None, durable: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f"{temp_prefix(target)}{os.urandom(4).hex()}.tmp")
    # 0666 less the umask for a new file (the kernel applies it); an existing file's own mode after writing
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666 if st is None else 0o600)
    try:
        try:
            if _fault("mid-temp-write"):
                os.write(fd, data[: len(data) // 2])
                os.fsync(fd)
                os.kill(os.getpid(), signal.SIGKILL)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if st is not None:
                os.fchmod(fd, stat.S_IMODE(st.st_mode))
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        if _fault("after-temp-write"):
            os.kill(os.getpid(), signal.SIGKILL)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if durable:
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def refuse_input_as_out(out: pathlib.Path | None, inputs: list[tuple[str, pathlib.Path | None]]) -> None:
    """`--out` naming a file the command reads (a stack file, `--usage`, the price catalog) would replace that
    input with the report: bad input before anything runs. (`--compare-to` may be the same file: it is read
    first, and refreshing a saved estimate in place is what CI does.)"""
    if out is None:
        return
    for what, path in inputs:
        try:
            same = path is not None and os.path.samefile(out, path)
        except (OSError, ValueError):
            same = False
        if same:
            raise CliError(f"--out {shown_path(out)}: is the {what} {shown_path(path)} this command reads; writing the report there would "
                           "replace it. Nothing was written; give another file")


def write_out(path: pathlib.Path, text: str) -> None:
    """A command's `--out`: through `write_text` (a device or FIFO is written through, never replaced);
    a failure is bad input naming the option, and nothing is written."""
    try:
        write_text(path, text)
    except OSError as err:
        raise CliError(f"--out {shown_path(path)}: cannot write: {err.strerror or err}; nothing was written") from None
