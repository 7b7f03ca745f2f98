"""Finding stack files: a STACK argument is a stack name in `stacks/` or a path to a file."""

from __future__ import annotations

import os
import pathlib
from dataclasses import dataclass

from infra.spec import StackSpec, load_stack_file, parse_stack_config, read_stack_config, stack_name_from_path


class UsageError(Exception):
    """The command line names something that does not exist; exit code 2."""


@dataclass(frozen=True)
class StackRef:
    name: str
    path: pathlib.Path

    def load(self) -> StackSpec:
        """The spec, read by the CLI's one stack-file reader (`infra.spec.read_stack_config`)."""
        return load_stack_file(self.path)

    def load_with_config(self) -> tuple[StackSpec, dict]:
        config = read_stack_config(self.path)
        return parse_stack_config(config, str(self.path)), config


def project_root(start: pathlib.Path | None = None) -> pathlib.Path:
    """The folder holding Pulumi.yaml: $TRADEOFF_INFRA_ROOT, else upward from cwd, else the checkout."""
    if env := os.environ.get("TRADEOFF_INFRA_ROOT"):
        return pathlib.Path(env)
    here = (start or pathlib.Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file() and (folder / "stacks").is_dir():
            return folder
    return pathlib.Path(__file__).resolve().parents[1]


def stacks_dir() -> pathlib.Path:
    return project_root() / "stacks"


def _utf8_name(path: pathlib.Path | str, shown: str) -> None:
    """A file name whose bytes are not UTF-8 (`Pulumi.\\xff.yaml`) names no Pulumi stack and cannot be sent to
    the program under mocks (it raised UnicodeEncodeError in `estimate` and `inventory`): UsageError."""
    try:
        str(path).encode()
    except UnicodeEncodeError:
        raise UsageError(f"STACK {shown!r}: the file name is not UTF-8 text; rename the file") from None


def all_stacks() -> list[StackRef]:
    paths = sorted(stacks_dir().glob("Pulumi.*.yaml"))
    for p in paths:
        _utf8_name(p.name, str(p))
    return [StackRef(stack_name_from_path(p), p) for p in paths]


def _present(path: pathlib.Path, arg: str) -> bool:
    """Whether a stack file is there to read; a FIFO, a device or a symlink counts (the reader then says
    why it refuses it), a directory does not."""
    try:
        os.lstat(path)
        return not path.is_dir()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as err:  # a name longer than the file system allows, a loop of symlinks ...
        raise UsageError(f"STACK {arg[:80]!r}{'...' if len(arg) > 80 else ''}: {err.strerror or err}") from None
    except ValueError:  # an embedded NUL byte
        raise UsageError(f"STACK {arg[:80]!r}: not a file name") from None


def resolve(arg: str) -> StackRef:
    _utf8_name(pathlib.Path(arg).name, arg)
    candidate = pathlib.Path(arg)
    if candidate.suffix in (".yaml", ".yml") or os.sep in arg:
        if not _present(candidate, arg):
            raise UsageError(f"STACK {arg!r}: no such file")
        return StackRef(stack_name_from_path(candidate), candidate)
    path = stacks_dir() / f"Pulumi.{arg}.yaml"
    if not _present(path, arg):
        known = ", ".join(ref.name for ref in all_stacks()) or "none"
        raise UsageError(f"STACK {arg!r}: no stack file {path} (known stacks: {known})")
    return StackRef(arg, path)


def select(stacks: list[str] | None, all_: bool) -> list[StackRef]:
    if all_ and stacks:
        raise UsageError("give STACK arguments or --all, not both")
    if all_:
        refs = all_stacks()
        if not refs:
            raise UsageError(f"--all: no Pulumi.<stack>.yaml files in {stacks_dir()}")
        return refs
    if not stacks:
        raise UsageError("name at least one STACK (a name in stacks/ or a path), or pass --all")
    return [resolve(s) for s in stacks]
