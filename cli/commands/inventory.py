"""`tradeoff-infra inventory STACK`: what the program would create, like a preview, from a run
under recording mocks (cached by content hash). Exit 0 ok, 2 bad input."""

from __future__ import annotations

import io
import json
import pathlib
from collections import Counter
from enum import Enum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli import cache
from cli.errors import CliError, print_warnings, reported
from cli.output import refuse_input_as_out, write_out
from cli.estimate import mapping
from cli.reachability import reachability_lines
from cli.render.safe import markup, say
from cli.stacks import StacksDirOption, load_stacks, project_root, resolve, use_stacks_dir

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
    stack: Annotated[str | None, typer.Argument(help="A stack name in the stacks folder or a path to a stack file.")] = None,
    stack_option: Annotated[str | None, typer.Option("--stack", "-s", help="The stack, as a name or a path (instead of STACK).")] = None,
    stacks_dir: StacksDirOption = None,
    fmt: Annotated[InventoryFormat, typer.Option("--format", help="table (default) or json.")] = InventoryFormat.table,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Run the program again even if nothing changed.")] = False,
    out: Annotated[pathlib.Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
) -> None:
    """List every resource the stack's program would create, with its region and inputs (no cloud calls)."""
    err = Console(stderr=True)
    try:
        if (stack is None) == (stack_option is None):
            raise CliError("name one stack: STACK or --stack NAME")
        use_stacks_dir(stacks_dir)
        ref = resolve(stack or stack_option)
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
        from cli.inventory_tree import STACK_TYPE, stack_urn_of, summary, tree_rows

        table = Table(title=f"stack {markup(ref.name)}: {len(inventory.resources)} resources planned "
                            f"({'from cache' if hit else 'program run under mocks'})", title_justify="left")
        for col in ("", "type", "name", "region", "cost"):
            table.add_column(col, no_wrap=col in ("", "type"))
        stack_urn = stack_urn_of(inventory.resources)
        table.add_row("+", STACK_TYPE, markup(stack_urn.rsplit("::", 1)[-1] if stack_urn else ref.name), "", "")
        for prefix, r in tree_rows(inventory.resources):
            table.add_row("+", markup(prefix + r.type), *map(markup, (r.name, r.region or "-", _cost_kind(mapped[r.urn]))))
        counts = Counter(_cost_kind(m) for m in mapped.values())
        buffer = io.StringIO()
        console = Console(file=buffer, width=200, color_system=None)
        console.print(table)
        console.print(summary(inventory.resources), highlight=False)
        console.print(", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())), highlight=False)
        for line in reachability_lines(inventory.resources):
            console.print(line, highlight=False, markup=False, soft_wrap=True)
        text = buffer.getvalue()
    if out:
        write_out(out, text)
        say(err, "wrote {}", out)
    else:
        typer.echo(text, nl=False)
