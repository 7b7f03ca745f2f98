"""Every command's tables as text, laid out here (not by rich): the one width rule of `cli/render/width.py`
and one column rule for `estimate`, `inventory`, `prices show` and `validate`.

A numeric column (money, quantities, counts, dates; `Column(numeric=True)`) keeps its widest cell and never
wraps or truncates; the text columns share what is left, the widest shrinking first, folding their text at
word boundaries (a word wider than its column is folded), none below `MIN_TEXT_COLUMN`. When even that does
not fit, the table is wider than the width asked for: a number is never split.

The text looks as rich draws a table (`box.HEAVY_HEAD`, one space of padding each side, the title above,
left-justified); on a terminal the header is bold, the title italic and a row's style (`bold`, `red`) is
kept. Drawing it here is ~50x faster than rich laying out each cell (a 16-region `inventory` has 1,600
rows: ~2 s with rich), and it needs no rich import at all for piped output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from cli.render.safe import clean, clean_text

MIN_TEXT_COLUMN = 8
MAX_WORD = 20
# A word of a text cell that is an amount, a count or a date ("$736.51", "1,460.00", "(12%)", "2025-06-01"): the
# column stays at least that wide, so wrapping moves it to the next line whole instead of folding it.
_NUMBER_WORD = re.compile(r"[(]?(?:\d{4}-\d{2}-\d{2}|[-+]?\$?\d[\d,]*(?:\.\d+)?(?:%|\.\.\$?\d[\d,]*(?:\.\d+)?)?)[),;:.]?")
_TOKEN = re.compile(r"(\s*)(\S+)")
_WIDE = re.compile(r"[^\x20-\x7e]")  # anything but printable ASCII: measure it as the terminal draws it


class Rendered(str):
    """A table drawn as text. Written as it is (`typer.echo`, a buffer); handed to a rich console's `print` it
    prints the same text too: never read as markup, never re-wrapped (its own escape codes kept as styles)."""

    def __rich__(self) -> _AsDrawn:
        return _AsDrawn(self)


class _AsDrawn:
    """What a rich console prints for a `Rendered` table: its lines as they are."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __rich_console__(self, console, options):
        from rich.segment import Segment
        from rich.text import Text

        for line in self.text.removesuffix("\n").split("\n"):
            yield from (Text.from_ansi(line).render(console) if "\x1b[" in line else (Segment(line),))
            yield Segment.line()


@dataclass(frozen=True)
class Column:
    header: str
    justify: str = "left"
    """left or right (the header follows it)."""
    numeric: bool = False
    """Money, a quantity, a count or a date: never wrapped or truncated."""


def cells(text: str) -> int:
    """Terminal cells `text` takes (a CJK character two, a combining mark none); plain ASCII is its length."""
    if not _WIDE.search(text):
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def _fold(word: str, width: int) -> list[str]:
    """`word` cut into pieces of at most `width` cells."""
    if not _WIDE.search(word):
        return [word[i:i + width] for i in range(0, len(word), width)] or [""]
    pieces, piece = [], ""
    for ch in word:
        if piece and cells(piece + ch) > width:
            pieces.append(piece)
            piece = ""
        piece += ch
    return [*pieces, piece]


@lru_cache(maxsize=4096)
def wrap(text: str, width: int) -> tuple[str, ...]:
    """`text`'s lines wrapped to `width` cells at spaces (the spaces between words on a line kept, a
    paragraph's leading spaces kept), a word wider than `width` folded; its own line breaks kept."""
    out: list[str] = []
    for para in text.split("\n"):
        if cells(para) <= width:
            out.append(para.rstrip())
            continue
        line = ""
        for match in _TOKEN.finditer(para):
            space, word = match.groups()
            if line and cells(line) + cells(space) + cells(word) <= width:
                line += space + word
                continue
            if line:
                out.append(line)
                line, space = "", ""
            piece = space + word
            if cells(piece) > width:
                *full, piece = _fold(piece, width)
                out.extend(full)
            line = piece
        out.append(line)
    return tuple(out)


def hang(line: str, width: int, indent: int = 2) -> list[str]:
    """One line of plain text wrapped to `width` cells at spaces, each continuation under the line's text plus
    `indent` (a hanging indent): the one rule for long lines of text (diff's text, validate's pins and warnings).
    A word is never split: money, a path or a pin wider than the width keeps a line of its own; nor is a command in
    backticks that fits a continuation line (a flag stays with its value for a copy into a shell)."""
    if cells(line) <= width or not line.split():
        return [line]
    lead = line[: len(line) - len(line.lstrip(" "))]
    words = _spans(line.split(), width - cells(lead) - indent)
    lines, current = [], lead + words[0]
    for word in words[1:]:
        if cells(current) + 1 + cells(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = f"{lead}{' ' * indent}{word}"
    lines.append(current)
    return lines


def _spans(words: list[str], room: int) -> list[str]:
    """`words` with each backtick span (from a word with an odd number of backticks to the next such word) joined into
    one word where it fits `room` cells; a wider span stays separate words."""
    out: list[str] = []
    i = 0
    while i < len(words):
        if words[i].count("`") % 2:
            end = next((j for j in range(i + 1, len(words)) if words[j].count("`") % 2), None)
            if end is not None and cells(span := " ".join(words[i:end + 1])) <= room:
                out.append(span)
                i = end + 1
                continue
        out.append(words[i])
        i += 1
    return out


def _longest_number_word(texts: list[str]) -> int:
    return max((len(word) for cell in texts for word in cell.split() if _NUMBER_WORD.fullmatch(word)), default=0)


def _shrink(widths: list[int], text: list[int], floor: dict[int, int], excess: int) -> None:
    """Take `excess` columns from the text columns, the widest of those above their floor first, none below its
    floor (a wide column already at its floor, a name kept whole, does not stop the others from shrinking)."""
    while excess > 0:
        movable = [i for i in text if widths[i] > floor[i]]
        if not movable:
            break
        top = max(widths[i] for i in movable)
        at_top = [i for i in movable if widths[i] == top]
        below = max([widths[i] for i in movable if widths[i] < top] + [max(floor[i] for i in at_top)])
        step = min(top - below, -(-excess // len(at_top))) or 1
        for i in at_top:
            cut = min(step, widths[i] - floor[i], excess)
            widths[i] -= cut
            excess -= cut


def column_widths(columns: list[Column], rows: list[list[str]], width: int) -> list[int]:
    """Each column's width (its content, without padding) for a table `width` cells wide at most (see the
    module's rule); a numeric column's width is always its widest cell."""
    natural = []
    for i, column in enumerate(columns):
        lines = column.header.split("\n") + [line for cells_ in rows for line in cells_[i].split("\n")]
        natural.append(max(cells(line) for line in lines) or 1)
    available = width - (3 * len(columns) + 1)  # a border before each column and after the last, a space each side
    widths = list(natural)
    if sum(widths) <= available:
        return widths
    # a numeric column's header wraps at its spaces first ("self-hosted or hybrid" over "$2,763.49"): the column
    # keeps its widest cell and the header's widest word
    figures = [i for i, column in enumerate(columns) if column.numeric]
    _shrink(widths, figures, {i: max([max((cells(line) for cells_ in rows for line in cells_[i].split("\n")),
                                          default=0), *(cells(w) for w in columns[i].header.split())] or [1])
                              for i in figures}, sum(widths) - available)
    text = [i for i, column in enumerate(columns) if not column.numeric]
    if sum(widths) <= available or not text:
        return widths
    numbers = {i: _longest_number_word([cells_[i] for cells_ in rows]) for i in text}
    longest = {i: max((cells(line) for cells_ in rows for line in cells_[i].split("\n")), default=0) for i in text}
    word = {i: max((cells(w) for cells_ in rows for w in cells_[i].split()), default=0) for i in text}
    head_word = {i: max((cells(w) for w in columns[i].header.split()), default=0) for i in text}
    # first keep every word whole, the header's too (a word at most MAX_WORD wide); then fold the columns of
    # sentences and the empty ones (only a header to fold), keeping columns of single names (a region, an instance
    # type, a source) whole; then fold any column down to MIN_TEXT_COLUMN
    for floor_of in (lambda i: min(max(word[i], head_word[i]), MAX_WORD),
                     lambda i: (min(max(word[i], head_word[i]), MAX_WORD) if word[i] and longest[i] == word[i]
                                else MIN_TEXT_COLUMN),
                     lambda i: MIN_TEXT_COLUMN):
        floor = {i: max(min(natural[i], floor_of(i)), numbers[i]) for i in text}
        _shrink(widths, text, floor, sum(widths) - available)
    return widths


def painter(styles: bool):
    """`paint(text, style)`: `text` in a rich style (`bold`, `red`, `italic`) as terminal escape codes, or as it is."""
    if not styles:
        return lambda text, style: text
    from rich.color import ColorSystem
    from rich.style import Style

    parsed: dict[str, Style] = {}

    def paint(text: str, style: str) -> str:
        if not style or not text:
            return text
        if style not in parsed:
            parsed[style] = Style.parse(style)
        return parsed[style].render(text, color_system=ColorSystem.STANDARD)

    return paint


def render(title: str, columns: list[Column], rows: list[tuple[list[str], str]] | list[list[str]], width: int, *,
           styles: bool = False, widths: list[int] | None = None, cleaned: bool = False,
           keys: tuple[int, ...] = (0,)) -> Rendered:
    """The table as text, a newline after each line. `rows`: cells, or (cells, row style); every cell is
    plain text (no markup), made inert by `clean` (a control character, a line break too, is shown as its
    escape). `cleaned`: the caller has made the cells inert itself and its line breaks are meant (a cell it
    laid out); `widths`: the columns' widths from `column_widths` when it has, else computed here. A table too wide
    even then is drawn as several (`_folded`), the `keys` columns (what names a row) repeated in each."""
    body = [(list(r[0]), r[1]) if isinstance(r, tuple) else (list(r), "") for r in rows]
    if not cleaned:
        body = [([clean(c) for c in cells_], style) for cells_, style in body]
    heads = [clean_text(c.header) for c in columns]
    if widths is None:
        widths = column_widths(columns, [cells_ for cells_, _ in body], width)
        if sum(widths) + 3 * len(columns) + 1 > width and len(columns) > 2:
            return _folded(title, columns, body, width, styles, keys)
    paint = painter(styles)
    total = sum(widths) + 3 * len(columns) + 1
    out: list[str] = []
    if title:
        out += [paint(line, "italic") for line in wrap(clean(title), max(width, total))]
    out.append("┏" + "┳".join("━" * (w + 2) for w in widths) + "┓")
    right = [c.justify == "right" for c in columns]

    def lines_of(cells_: list[str], border: str, style: str, bottom: bool = False) -> None:
        wrapped = [wrap(cell, w) for cell, w in zip(cells_, widths)]
        height = max(len(lines) for lines in wrapped)
        if bottom:  # a header's lines sit on the rule below it, as rich draws them
            wrapped = [("",) * (height - len(lines)) + lines for lines in wrapped]
        for n in range(height):
            parts = []
            for lines, w, r in zip(wrapped, widths, right):
                line = lines[n] if n < len(lines) else ""
                pad = " " * (w - cells(line))
                parts.append(paint(pad + line if r else line + pad, style))
            out.append(border + " " + f" {border} ".join(parts) + " " + border)

    lines_of(heads, "┃", "bold", bottom=True)
    out.append("┡" + "╇".join("━" * (w + 2) for w in widths) + "┩")
    for cells_, style in body:
        lines_of(cells_, "│", style)
    out.append("└" + "┴".join("─" * (w + 2) for w in widths) + "┘")
    return Rendered("\n".join(out) + "\n")


def _fits(columns: list[Column], rows: list[list[str]], width: int) -> bool:
    """Whether the columns fit `width` with every word of their text whole (a table folded into several keeps
    its sentences readable rather than cutting them at MIN_TEXT_COLUMN)."""
    need = 3 * len(columns) + 1
    for i, column in enumerate(columns):
        lines = [line for cells_ in rows for line in cells_[i].split("\n")]
        words = [cells(w) for w in column.header.split()] + [cells(w) for line in lines for w in line.split()]
        natural = max([cells(line) for line in lines + column.header.split("\n")] or [1])
        if column.numeric:
            need += max([cells(line) for line in lines] + words[:len(column.header.split())] or [1])
        else:
            need += min(natural, max(min(max(words or [1]), MAX_WORD), _longest_number_word(lines)))
    return need <= width


def _folded(title: str, columns: list[Column], body: list[tuple[list[str], str]], width: int, styles: bool,
            keys: tuple[int, ...] = (0,)) -> Rendered:
    """A table too wide for `width` even with its text folded, as several tables one under the other: the `keys`
    columns (what names the row: a stack, a pool, a region and resource) in each, the others in order, as many to a
    table as fit with their words whole. A number is never split, and no line is wider than `width` unless the keys
    and one column beside them are."""
    keys = tuple(i for i in keys if i < len(columns)) or (0,)
    groups: list[list[int]] = [list(keys)]
    for i in range(len(columns)):
        if i in keys:
            continue
        trial = [*groups[-1], i]
        if len(groups[-1]) == len(keys) or _fits([columns[j] for j in trial], [[c[j] for j in trial] for c, _ in body],
                                                 width):
            groups[-1] = trial
        else:
            groups.append([*keys, i])
    parts = []
    for n, group in enumerate(groups):
        head = title if n == 0 else (f"{title} (continued)" if title else "")
        cols, rows = [columns[j] for j in group], [([c[j] for j in group], s) for c, s in body]
        # each part laid out here, as narrow as it goes: a part still too wide (the keys and one column beside
        # them) is drawn wider than `width`, never folded again (that folded into the same part, forever)
        parts.append(render(head, cols, rows, width, styles=styles, cleaned=True,
                            widths=column_widths(cols, [c for c, _ in rows], width)))
    return Rendered("".join(parts))
