"""The CLI's one error type and its one printer.

A command ends with an error by raising `CliError`: exit code 2 when the input is wrong (the message
names the offending key or argument), 1 when an operation failed (a busy lock, a failed write, a
failed `pulumi up`). Errors raised deeper (`SpecError` from the spec) map to it in `as_cli_error`;
`reported()` wraps a command's work, prints the error through `print_error` and exits with its code.
Warnings that are not errors (a cache entry ignored) print through `print_warnings`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import typer

from cli.render.safe import clean, clean_text, shown_path
from infra.spec import SpecError

BAD_INPUT = 2
FAILED = 1


class CliError(Exception):
    """What a command reports as `error: <message>` (then `  - <detail>` per detail) and its exit code."""

    def __init__(self, message: str, exit_code: int = BAD_INPUT, details: tuple[str, ...] = ()):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.details = tuple(details)


def failed(message: str) -> CliError:
    """An operation that could not run or failed: exit 1."""
    return CliError(message, FAILED)


def invalid_stack(err: SpecError, consequence: str = "") -> CliError:
    """A stack file that is not valid: exit 2, one line per problem, each naming its key."""
    return CliError(f"{shown_path(err.source)} is invalid{consequence}:", BAD_INPUT, tuple(str(p) for p in err.problems))


def invalid_stacks(found: list[tuple[object, list[str]]], total: int) -> CliError:
    """Every invalid stack's every problem in one error (exit 2): `found` holds (StackRef, problems) per invalid
    stack. One stack reads as `invalid_stack`; several name each problem's file."""
    if len(found) == 1:
        ref, problems = found[0]
        return CliError(f"{shown_path(ref.path)} is invalid:", BAD_INPUT, tuple(problems))
    return CliError(f"{len(found)} of {total} stacks are invalid:", BAD_INPUT,
                    tuple(f"{shown_path(ref.path)}: {problem}" for ref, problems in found for problem in problems))


def as_cli_error(err: Exception) -> CliError | None:
    """The one map from errors raised below the commands to `CliError`; None for a bug (it propagates)."""
    if isinstance(err, CliError):
        return err
    if isinstance(err, SpecError):
        return invalid_stack(err)
    return None


def _stderr_lines(label: str, text: str) -> list[str]:
    """`label text` (text of one or more lines, already made inert), each line wrapped to the width of standard
    error's terminal (or `COLUMNS`) by the one rule for long text (cli/render/grid.py `hang`: a hanging indent, a
    number, path or backticked command kept whole where it fits), as `validate` wraps its standard error. Not a
    terminal and no `COLUMNS`: one line per line of the message, as before (a log, `grep error:`)."""
    import sys

    from cli.render.width import message_width

    lines = f"{label} {text}".split("\n")
    width = message_width(sys.stderr.isatty(), fd=2)
    if width is None:
        return lines
    from cli.render import grid

    return [wrapped for line in lines for wrapped in grid.hang(line, width)]


def _echo_labelled(label: str, styled: str, text: str) -> None:
    """`label` (shown as `styled`: its colour on a terminal) then `text`, wrapped, on standard error."""
    lines = _stderr_lines(label, text)
    lines[0] = styled + lines[0][len(label):]
    typer.echo("\n".join(lines), err=True)


def print_error(err: CliError) -> None:
    """The one error printer: standard error, `error:` in red on a terminal, control characters of
    the message shown as escapes, each line wrapped to standard error's terminal (`_stderr_lines`)."""
    text = clean_text("\n".join([err.message, *(f"  - {detail}" for detail in err.details)]))
    _echo_labelled("error:", typer.style("error:", fg="red"), text)


def print_warnings(messages: Iterable[str]) -> None:
    """`warning: <message>` on standard error (yellow on a terminal), control characters shown as escapes,
    wrapped to standard error's terminal (`_stderr_lines`)."""
    for message in messages:
        _echo_labelled("warning:", typer.style("warning:", fg="yellow"), clean(message))


@contextmanager
def reported() -> Iterator[None]:
    """Run a command's work: a `CliError` (or an error that maps to one) is printed and ends the
    command with its exit code; nothing else is caught."""
    try:
        yield
    except Exception as raised:  # noqa: BLE001 - re-raised unless it maps to a CliError
        err = as_cli_error(raised)
        if err is None:
            raise
        print_error(err)
        raise typer.Exit(err.exit_code) from None
