"""`tradeoff-infra diff OLD.json NEW.json`: what changed between two saved `estimate --format json` documents,
like `infracost diff` (the change itself is `cli/estimate/diff.py`)."""

from __future__ import annotations

import pathlib
from enum import Enum
from typing import Annotated

import typer
from rich.console import Console

from cli.errors import CliError, reported
from cli.render.safe import say
from infra import files

app = typer.Typer(add_completion=False)

MAX_JSON_INPUT_BYTES = 64 * files.MIB

EPILOG = """Examples:

  tradeoff-infra estimate dev --format json --out before.json
  # ... edit stacks/dev.yaml ...
  tradeoff-infra estimate dev --format json --out after.json
  tradeoff-infra diff before.json after.json
  tradeoff-infra diff before.json after.json --format markdown --fail-on-increase 10

Exit codes: 0 compared, 1 the expected total rose by more than --fail-on-increase PCT, 2 bad input
(a file that is not a saved estimate, a bad option)."""


class Format(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


def load_saved(path: pathlib.Path, option: str) -> list[dict]:
    """The stacks of a saved `estimate --format json` document, parsed as the contract; bad input names
    `option` (the argument or option that named the file) and the first wrong key."""
    from cli.estimate.contract import ContractError, parse

    def bad(what: str) -> CliError:
        return CliError(f"{option} {path}: {what} (expected a saved `estimate --format json` document)")

    try:
        data = files.finite_json(files.read_text(path, MAX_JSON_INPUT_BYTES))
    except files.UnreadableFile as err:
        raise CliError(f"{option} {err}") from None
    except ValueError as err:
        raise bad(f"not JSON ({err})") from None
    try:
        document = parse(data)
    except ContractError as err:
        raise bad(str(err)) from None
    return [stack.model_dump() for stack in document.stacks]


def check_increase(changes: list[dict], limit_pct: float | None) -> list[str]:
    """The stacks whose expected total rose by more than `limit_pct` percent, with the amounts."""
    from cli.estimate.diff import increase_over, money, pct_text

    if limit_pct is None:
        return []
    return [f"{c['stack']} {money(c['total']['beforeUsd'])} -> {money(c['total']['afterUsd'])} "
            f"({pct_text(c['total']['changePct'])})" for c in changes if increase_over(c, limit_pct)]


def percent_option(value: float | None, option: str = "--fail-on-increase") -> float | None:
    if value is not None and not 0 <= value <= 1e6:
        raise CliError(f"{option} {value}: a percentage from 0 to 1000000")
    return value


@app.command("diff", epilog=EPILOG)
@reported()
def diff_command(
    old: Annotated[pathlib.Path, typer.Argument(help="The earlier saved `estimate --format json` document.")],
    new: Annotated[pathlib.Path, typer.Argument(help="The later saved `estimate --format json` document.")],
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
    typer.echo(render(result, fmt.value), nl=False)
    over = check_increase(result["stacks"], limit)
    if over:
        say(Console(stderr=True), "[red]cost increase above {}%:[/red] {}", limit, "; ".join(over))
        raise typer.Exit(1)
