"""The one width rule for every command's text output (tables, validate's summary, estimate's details).

`COLUMNS` when it is set to a positive whole number (also in a pipe or a file: `COLUMNS=120
tradeoff-infra estimate dev | less`); else the terminal's own width when the output is a terminal;
else `PIPED_WIDTH` (100) columns. Warnings and errors (`message_width`) are wrapped only on a terminal or with
`COLUMNS` set. Plain `os` only: the CLI's start-up path imports nothing more for it.
"""

from __future__ import annotations

import os

PIPED_WIDTH = 100
MIN_WIDTH = 20


def _columns() -> int | None:
    """`COLUMNS` when it is set to a positive whole number, else None."""
    columns = os.environ.get("COLUMNS", "").strip()
    # ASCII digits only: `str.isdigit` also takes `²`, which `int` refuses (a traceback for COLUMNS=²)
    return int(columns) if columns.isascii() and columns.isdigit() and int(columns) > 0 else None


def output_width(terminal: bool, fd: int = 1) -> int:
    """Columns for text output: `COLUMNS` if set, else the width of the terminal on `fd` (1 stdout, 2 stderr: the
    stream the text goes to, which may be a terminal while the other is a file), else 100."""
    columns = _columns()
    if columns is not None:
        return max(columns, MIN_WIDTH)
    if terminal:
        try:
            return max(os.get_terminal_size(fd).columns, MIN_WIDTH)
        except OSError:
            pass
    return PIPED_WIDTH


def message_width(terminal: bool, fd: int = 2) -> int | None:
    """Columns to wrap warnings and errors at (`output_width` of the stream they go to), or None: not wrapped
    where that stream is not a terminal and `COLUMNS` is unset, so a log or a pipe keeps one line per message
    (one `grep error:` finds it whole)."""
    return output_width(terminal, fd) if terminal or _columns() is not None else None
