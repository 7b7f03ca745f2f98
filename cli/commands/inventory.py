"""`tradeoff-infra inventory STACK`: what the program would create, like a preview, from a run
under recording mocks (cached by content hash). Exit 0 ok, 2 bad input."""

from __future__ import annotations

import json
import pathlib
import sys
from collections import Counter
from enum import Enum
from typing import Annotated

import typer
from rich.console import Console

from cli import cache
from cli.errors import print_warnings, reported
from cli.output import refuse_input_as_out, write_out
from cli.estimate import mapping
from cli.path_options import path_option
from cli.reachability import reachability_lines
from cli.render.safe import clean, clean_text, say
from cli.stacks import OneStackArgument, OneStackOption, StacksDirOption, load_stacks, one_stack, project_root

app = typer.Typer(add_completion=False)


class InventoryFormat(str, Enum):
    table = "table"
    json = "json"


def _cost_kind(m: mapping.Mapped) -> str:
    if m.unknown:
        return "UNKNOWN (not priced)"
    if m.records:
        return "priced"
    return "no cost"


EPILOG = """Examples:

  tradeoff-infra inventory dev
  tradeoff-infra inventory prod-global --format json

Exit codes: 0 ok, 1 an operation failed, 2 bad input (a stack, an option)."""


@app.command("inventory", epilog=EPILOG)
@reported()
def inventory_command(
    stack: OneStackArgument = None,
    stack_option: OneStackOption = None,
    stacks_dir: StacksDirOption = None,
    fmt: Annotated[InventoryFormat, typer.Option("--format", help="table (default) or json.")] = InventoryFormat.table,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Run the program again even if nothing changed.")] = False,
    out: Annotated[pathlib.Path | None, path_option("--out", help="Write to this file instead of stdout.")] = None,
) -> None:
    """List every resource the stack's program would create, with its region and inputs (no cloud calls)."""
    err = Console(stderr=True)
    try:
        ref = one_stack(stack, stack_option, stacks_dir)
        refuse_input_as_out(out, [("stack file", ref.path)])
        [loaded] = load_stacks([ref], project_root(), no_cache=no_cache)
        inventory, hit = loaded.inventory, loaded.from_cache
    finally:
        print_warnings(cache.take_warnings())
    mapped = {m.resource.urn: m for m in mapping.classify(inventory.resources)}
    if fmt is InventoryFormat.json:
        text = json.dumps({
            "stack": ref.name,
            "resources": [{"urn": r.urn, "type": r.type, "name": r.name, "region": r.region, "custom": r.custom,
                           "parent": r.parent, "cost": _cost_kind(mapped[r.urn]), "inputs": r.inputs}
                          for r in inventory.resources],
            "outputs": inventory.outputs,
        }, indent=2) + "\n"
    else:
        from cli.inventory_tree import STACK_TYPE, folded, stack_urn_of, summary, tree_rows
        from cli.render import grid
        from cli.render.width import output_width

        terminal = out is None and sys.stdout.isatty()
        width = output_width(terminal)
        stack_urn = stack_urn_of(inventory.resources)
        tree = tree_rows(inventory.resources)
        cells = [[clean(c) for c in ("+", prefix + r.type, r.name, r.region or "-", _cost_kind(mapped[r.urn]))]
                 for prefix, r in tree]
        cells.insert(0, ["+", STACK_TYPE, clean(stack_urn.rsplit("::", 1)[-1] if stack_urn else ref.name), "", ""])
        columns = [grid.Column("", numeric=True), grid.Column("type"), grid.Column("name"), grid.Column("region"),
                   grid.Column("cost")]
        # the one table rule of every command (cli/render/grid.py); the type column keeps the tree's guides when it folds
        widths = grid.column_widths(columns, cells, width)
        for row, (prefix, r) in zip(cells[1:], tree):
            height = max(len(grid.wrap(cell, w)) for cell, w in zip(row[2:], widths[2:]))
            row[1] = folded(clean(prefix), clean(r.type), widths[1], height)
        counts = Counter(_cost_kind(m) for m in mapped.values())
        table = grid.render(f"stack {ref.name}: {len(inventory.resources)} resources planned "
                            f"({'from cache' if hit else 'program run under mocks'})",
                            columns, cells, width, styles=terminal, widths=widths, cleaned=True)
        lines = [summary(inventory.resources), ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())),
                 *reachability_lines(inventory.resources)]
        # the text under the table by the same width rule: wrapped at spaces, a hanging indent (`grid.hang`)
        text = table + "".join(piece + "\n" for line in lines for part in clean_text(line).split("\n")
                               for piece in grid.hang(part, width))
    if out:
        write_out(out, text)
        say(err, "wrote {}", out)
    else:
        typer.echo(text, nl=False)
