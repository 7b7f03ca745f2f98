"""`tradeoff-infra render ESTIMATE.json ...`: a saved `estimate --format json` document (or several, merged
into one report, like `infracost output`) rendered again as a table, markdown or HTML, without pricing
anything again."""

from __future__ import annotations

import pathlib
import shlex
import sys
from enum import Enum
from typing import Annotated

import typer
from rich.console import Console

from cli.errors import CliError, reported
from cli.output import refuse_input_as_out, write_out
from cli.path_options import path_argument, path_option
from cli.render.safe import say, shown_path

app = typer.Typer(add_completion=False)

EPILOG = """Examples:

  tradeoff-infra estimate prod-us --format json --out prod-us.json
  tradeoff-infra render prod-us.json --format html --out prod-us.html
  tradeoff-infra render dev.json prod-us.json --format markdown --out estimate.md
  tradeoff-infra render a.json b.json --format json --out merged.json

Exit codes: 0 rendered, 2 bad input (a file that is not a saved estimate, one that lacks what the report
shows, a bad option); nothing is written then."""


class Format(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


def _render_errors() -> tuple[type[Exception], ...]:
    """What rendering a document that lacks a key (or holds the wrong type) raises."""
    from jinja2 import UndefinedError

    return (KeyError, TypeError, AttributeError, ValueError, UndefinedError)


def _render_file_by_file(fmt: str, loaded: list[tuple[pathlib.Path, list[dict]]], raised: Exception) -> CliError:
    """The saved file (and stack) whose document the report cannot show, found by rendering each alone."""
    from cli.render.formats import render_report

    for path, docs in loaded:
        for i, doc in enumerate(docs):
            try:
                render_report([doc], fmt)
            except _render_errors() as err:
                key = err.args[0] if isinstance(err, KeyError) and err.args else err
                return CliError(f"{shown_path(path)}: stacks[{i}] ({shown_path(doc.get('stack'))}) lacks what --format {fmt} shows: {key!s}; "
                                "save it again with `tradeoff-infra estimate --format json`")
    return CliError(f"--format {fmt}: cannot render these estimates: {raised}")


def _refuse_a_stack_twice(loaded: list[tuple[pathlib.Path, list[dict]]]) -> None:
    """A stack (the same stack file; the same name when a document lacks its file) saved in two of the files, or
    twice in one: the merged report would list it twice, with two totals, and none would say which is current.
    Bad input naming both files; comparing them is `diff`'s job."""
    by_file: dict[str, tuple[int, pathlib.Path]] = {}
    by_name: dict[object, list[tuple[int, pathlib.Path, bool]]] = {}  # name -> (file index, file, has stackFile)
    for i, (path, docs) in enumerate(loaded):
        for doc in docs:
            name, stack_file = doc.get("stack"), doc.get("stackFile")
            source = f" (from {shown_path(stack_file)})" if stack_file else ""  # saved text: shown escaped, one line
            # a stack without its file (an older save) is the same stack as any of its name, with a file or without
            same_name = [(j, p) for j, p, has_file in by_name.get(name, []) if not (stack_file and has_file)]
            clash = by_file.get(stack_file) if stack_file and stack_file in by_file else next(iter(same_name), None)
            by_name.setdefault(name, []).append((i, path, bool(stack_file)))
            if stack_file:
                by_file.setdefault(stack_file, (i, path))
            if clash is None:
                continue
            j, first = clash
            if j == i:
                raise CliError(f"ESTIMATE {shown_path(path)}: holds stack {doc.get('stack')!r}{source} twice; save it again with "
                               "`tradeoff-infra estimate --format json`")
            hint = ("the same file is named twice: name it once" if first.resolve() == path.resolve()
                    else f"render one of them, or compare them with `tradeoff-infra diff {shlex.quote(str(first))} "
                         f"{shlex.quote(str(path))}`")  # quoted: the command runs as written, a space in a path too
            raise CliError(f"ESTIMATE {shown_path(first)} and {shown_path(path)}: both hold stack {doc.get('stack')!r}{source}; "
                           f"the merged report would list it twice; {shown_path(hint)}")


@app.command("render", epilog=EPILOG)
@reported()
def render_command(
    files: Annotated[list[pathlib.Path], path_argument("ESTIMATE", help="Saved `estimate --format json` documents; several are "
                                                             "merged into one report, in the order given.")],
    fmt: Annotated[Format, typer.Option("--format", help="table (default), json (the merged contract), markdown "
                                                        "(PR comment), html (one file).")] = Format.table,
    out: Annotated[pathlib.Path | None, path_option("--out", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Render saved estimates again without pricing anything: the same report `estimate` prints. A saved JSON
    carries the break-even chart's points (`chart`), so the HTML draws the chart; one saved before it did says so."""
    from cli.render.formats import render_report
    from cli.saved_estimate import load_saved

    refuse_input_as_out(out, [("saved estimate", path) for path in files])
    loaded = [(path, load_saved(path, "ESTIMATE")) for path in files]
    _refuse_a_stack_twice(loaded)
    docs = [doc for _, stacks in loaded for doc in stacks]
    if not docs:
        raise CliError(f"ESTIMATE {', '.join(map(shown_path, files))}: no stack in the saved estimate(s) (`stacks` is empty); "
                       "nothing to render")
    try:
        text = render_report(docs, fmt.value, terminal=out is None and sys.stdout.isatty())
    except _render_errors() as err:
        raise _render_file_by_file(fmt.value, loaded, err) from None
    if out:
        write_out(out, text)
        say(Console(stderr=True), "wrote {}", out)
    else:
        typer.echo(text, nl=False)
