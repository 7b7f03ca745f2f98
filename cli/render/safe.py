"""Make user values inert before they are echoed: to a terminal (rich markup, control characters),
into a markdown pull-request comment or into HTML.

Every value that comes from a stack file, a file name, a command-line argument or a pin note may hold
`[/bold]` (rich markup: a crash, or text silently rewritten by `[link=...]`), an escape sequence
(`ESC ] 0 ; title BEL` retitles the terminal, `ESC [ 2 J` clears it), or markdown/HTML that turns a
PR comment into headings, images and `<details>`. The printers and renderers pass every such value
through one of these functions; the text the program writes itself (its own markup) stays as it is.

Plain functions on `re` only: the CLI's warm path imports nothing more for them.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls (ESC, BEL, CR, backspace, newline ...), DEL, C1 controls (CSI 0x9b, OSC 0x9d ...) and
# the Unicode bidirectional overrides/isolates that reorder what a terminal or a browser shows.
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Markdown (CommonMark/GFM) punctuation that can open a heading, link, image, emphasis, table cell,
# code span or strikethrough; escaped with a backslash (`<`, `>`, `&` become entities instead).
_MARKDOWN_RE = re.compile(r"([\\`*_\[\]#!|~])")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(value: Any) -> str:
    """`str(value)` with every control character shown as its escape (`\\x1b`), never sent raw."""
    return _CONTROL_RE.sub(_visible, str(value))


def shown_path(path: Any) -> str:
    """A file or folder name the user gave, as it goes into a message: one line, control characters shown as escapes
    (`clean`). The one way an error names a user's path: `print_error` keeps a message's own line breaks, so a file
    named `x\nerror: ...` printed raw would forge an extra line of output."""
    return clean(path)


def paths_shown(text: Any, *paths: Any) -> str:
    """`text` (an error raised below the CLI that names these files: a reader's, a catalog's, a spec's) with each of
    the paths in it shown as `shown_path` shows it."""
    text = str(text)
    for path in paths:
        if path is not None and str(path) and str(path) != shown_path(path):
            text = text.replace(str(path), shown_path(path))
    return text


def clean_text(text: Any) -> str:
    """`clean` line by line: a multi-line message keeps its own line breaks, nothing else."""
    return "\n".join(clean(line) for line in str(text).split("\n"))


def markup(value: Any) -> str:
    """A user value as rich markup that prints exactly as the value reads (clean, markup escaped)."""
    from rich.markup import escape  # loaded with rich.console by every caller anyway

    return escape(clean(value))


def say(console, template: str, *values: Any, **print_kwargs: Any) -> None:
    """Print our own rich `template` with each `{}` filled by a user value made inert: the one way the
    CLI prints a message that carries a stack name, a path, a key's value or a problem."""
    print_kwargs.setdefault("highlight", False)
    console.print(template.format(*(markup(v) for v in values)), **print_kwargs)


def markdown(value: Any) -> str:
    """A user value as markdown text that renders as the value reads, on one line: control characters
    shown as escapes, `<`, `>` and `&` as entities (no HTML tag can open), markdown punctuation
    backslash-escaped (no heading, image, link, emphasis or table cell can start)."""
    text = clean(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_RE.sub(r"\\\1", text)
