"""The root `tradeoff-infra` command: one sub-app per command group."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import __version__, collector, estimate_cmd, inventory_cmd, models, validate
from cli.pricing import cmd as prices_cmd

app = typer.Typer(
    name="tradeoff-infra",
    help="Self-host an open LLM on EKS + vLLM or pay an API: validate, price and pin your stacks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.registered_commands += validate.app.registered_commands
app.add_typer(models.app, name="model")
app.registered_commands += estimate_cmd.app.registered_commands + inventory_cmd.app.registered_commands
app.add_typer(prices_cmd.app, name="prices")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tradeoff-infra {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """Self-host an open LLM on EKS + vLLM or pay an API: validate, price and pin your stacks."""


def main() -> None:
    """The `tradeoff-infra` console script (and `python -m cli.main`)."""
    collector.for_the_command_line()
    app()


if __name__ == "__main__":
    main()
