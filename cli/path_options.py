"""The one definition of a command-line option or argument that takes a path (`--out`, `--price-catalog`,
`--stacks-dir`, diff's OLD ...): an empty value is refused by the name the user typed.

typer turns `--out ""` into `Path("")`, which is `.`: the command then says ". is a directory" about a path the
user never gave. Each path parameter is declared through `path_option` / `path_argument`, whose parser sees the
text as typed and ends the command with exit 2 and `error: --out '': empty; give a path to a file`. A value of only
white space (`--out " "`, `--out "$OUT "` with OUT unset) is refused the same way: it would write a file named " ".
A bare `-` (standard input or output in many tools) is refused too, rather than read or written as a file named "-"
(`./-` names that file).
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

import typer

from cli.errors import CliError, print_error


def _nonempty(name: str, what: str) -> Callable[[Any], pathlib.Path]:
    def parse(value: Any) -> pathlib.Path:
        if isinstance(value, pathlib.PurePath):  # a default, not typed
            return pathlib.Path(value)
        if str(value).strip() == "":  # "" or only white space ("$OUT " with OUT unset): no path the user meant
            print_error(CliError(f"{name} {str(value)!r}: empty; give a path to a {what}"))
            raise typer.Exit(2)
        if str(value) == "-":  # stdin/stdout in many tools; here it would be a file named "-" in the working folder
            print_error(CliError(f"{name} '-': not standard input or output here; "
                                 "give a path (./- for a file named -)"))
            raise typer.Exit(2)
        return pathlib.Path(value)

    return parse


def path_option(*names: str, what: str = "file", metavar: str = "<path>", **kwargs: Any) -> Any:
    """`typer.Option(*names, ...)` for a path: `--out ""` is refused as empty, naming `names[0]`."""
    return typer.Option(*names, parser=_nonempty(names[0], what), metavar=metavar, **kwargs)


def path_argument(name: str, *, what: str = "file", **kwargs: Any) -> Any:
    """`typer.Argument(...)` for a path named `name` (OLD, NEW, ESTIMATE) in errors: `""` is refused as empty."""
    return typer.Argument(parser=_nonempty(name, what), **kwargs)


def not_a_folder(path: pathlib.Path) -> str | None:
    """None when `path` is a directory, else why not, for an error naming the option: `not a directory`, with the
    system's reason where it refused the name (too long, a loop of symlinks). `Path.is_dir()` raises for those on
    Python 3.11 (it swallows only a missing path): a traceback where the user gave a bad folder."""
    try:
        return None if path.is_dir() else "not a directory"
    except OSError as err:
        return f"not a directory ({err.strerror or err})"
    except ValueError:  # an embedded NUL byte
        return "not a directory (not a file name)"
