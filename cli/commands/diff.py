"""`tradeoff-infra diff OLD.json NEW.json`: what changed between two saved `estimate --format json` documents,
like `infracost diff` (the change itself is `cli/estimate/diff.py`)."""

from __future__ import annotations

import pathlib
from enum import Enum
from typing import Annotated

import typer
from rich.console import Console

from cli.errors import reported
from cli.path_options import path_argument
from cli.render.safe import say
from cli.saved_estimate import check_increase, load_saved, percent_option

app = typer.Typer(add_completion=False)

EPILOG = """Examples:

  tradeoff-infra estimate dev --format json --out before.json
  # ... edit stacks/Pulumi.dev.yaml ...
  tradeoff-infra estimate dev --format json --out after.json
  tradeoff-infra diff before.json after.json
  tradeoff-infra diff before.json after.json --format markdown --fail-on-increase 10

Exit codes: 0 compared, 1 the expected total rose by more than --fail-on-increase PCT, 2 bad input
(a file that is not a saved estimate, a bad option)."""


class Format(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


@app.command("diff", epilog=EPILOG)
@reported()
def diff_command(
    old: Annotated[pathlib.Path, path_argument("OLD", help="The earlier saved `estimate --format json` document.")],
    new: Annotated[pathlib.Path, path_argument("NEW", help="The later saved `estimate --format json` document.")],
    fmt: Annotated[Format, typer.Option("--format", help="table (default, plain text), json, markdown (PR comment).")]
    = Format.table,
    fail_on_increase: Annotated[float | None, typer.Option("--fail-on-increase", metavar="PCT",
                                                           help="Exit 1 when a stack's expected total rose by more "
                                                                "than PCT percent.")] = None,
) -> None:
    """Show what changed between two saved estimates: + added, - removed, ~ changed line items in $ and %,
    the expected totals, a changed verdict and moved break-evens."""
    from cli.estimate.diff import diff_documents, render

    limit = percent_option(fail_on_increase)
    result = diff_documents(load_saved(old, "OLD"), load_saved(new, "NEW"), str(old))
    import sys

    from cli.render.width import output_width

    typer.echo(render(result, fmt.value, output_width(sys.stdout.isatty())), nl=False)
    over = check_increase(result["stacks"], limit)
    if over:
        say(Console(stderr=True), "[red]cost increase above {}%:[/red] {}", limit, "; ".join(over))
        raise typer.Exit(1)
