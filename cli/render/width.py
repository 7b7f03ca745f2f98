"""The one width rule for every command's text output (tables, validate's summary, estimate's details).

`COLUMNS` when it is set to a positive whole number (also in a pipe or a file: `COLUMNS=120
tradeoff-infra estimate dev | less`); else the terminal's own width when the output is a terminal;
else `PIPED_WIDTH` (100) columns. Plain `os` only: the CLI's start-up path imports nothing more for it.
"""

from __future__ import annotations

import os

PIPED_WIDTH = 100
MIN_WIDTH = 20


def output_width(terminal: bool, fd: int = 1) -> int:
    """Columns for text output: `COLUMNS` if set, else the width of the terminal on `fd` (1 stdout, 2 stderr: the
    stream the text goes to, which may be a terminal while the other is a file), else 100."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), MIN_WIDTH)
    if terminal:
        try:
            return max(os.get_terminal_size(fd).columns, MIN_WIDTH)
        except OSError:
            pass
    return PIPED_WIDTH
