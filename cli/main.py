"""The root `tradeoff-infra` command: one sub-app per command group, each imported when it runs.

A command's module is imported only when that command (or the root `--help`) needs it: `estimate`
does not load the stack-file editor behind `model` (ruamel.yaml, filelock), `model` does not load the
estimate. That is ~40 ms of the 0.5 s a warm `estimate --all` may take (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from cli import __version__, collector

COMMANDS: dict[str, str] = {
    "validate": "cli.commands.validate",
    "estimate": "cli.commands.estimate",
    "recommend": "cli.commands.recommend",
    "diff": "cli.commands.diff",
    "render": "cli.commands.render",
    "inventory": "cli.commands.inventory",
    "model": "cli.commands.model",
    "status": "cli.commands.status",
    "prices": "cli.commands.prices",
    "actuals": "cli.commands.actuals",
}
"""Command name -> the module whose Typer `app` implements it, in the order `--help` lists them."""


def plain_flags(command: Any, ctx: Any) -> None:
    """Show an on/off option (`--all`, `--no-cache`, `--help`) as a plain flag: typer 0.29 prints its type as
    `<bool>`, read as if the flag took a value. A flag's metavar is shown in place of its type; an empty one, nothing."""
    params = [*command.params, command.get_help_option(ctx)]
    for param in params:
        if param is not None and getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        if sub is not command:
            plain_flags(sub, ctx)


class _Names(dict):
    """The root group's loaded commands, listing every command's name (click suggests from the keys)."""

    def keys(self):  # type: ignore[override]
        return list(dict.fromkeys([*COMMANDS, *super().keys()]))


class LazyCommands(TyperGroup):
    """The root group: knows every command's name; builds a command from its module on first use."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Names(self.commands)
        self._loaded: dict[str, Any] = {}

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _require_chart()  # before any of the help is written: not half a help (no commands) then the error
        plain_flags(self, ctx)
        super().format_help(ctx, formatter)

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        _require_chart()
        if cmd_name not in self._loaded:
            module = importlib.import_module(COMMANDS[cmd_name])
            command = typer.main.get_command(module.app)
            command.name = cmd_name
            plain_flags(command, ctx)
            self._loaded[cmd_name] = command
            self.commands[cmd_name] = command  # for click's own lookups (suggestions for a misspelt command)
        return self._loaded[cmd_name]


app = typer.Typer(
    name="tradeoff-infra",
    cls=LazyCommands,
    help="Self-host an open LLM on EKS + vLLM or pay an API: validate, price and pin your stacks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    epilog="""Examples:

  tradeoff-infra validate --all
  tradeoff-infra estimate --all
  tradeoff-infra estimate prod-us --format json --out prod-us.json
  tradeoff-infra estimate --stack prod-us --stacks-dir ../infra/stacks
  tradeoff-infra model show dev

Exit codes: 0 ok, 1 a gate tripped (over budget, a rise above --fail-on-increase, drift) or an operation failed, 2 bad input (a key, a stack, an option).

`tradeoff-infra COMMAND --help` shows each command's options, examples and exit codes.""",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tradeoff-infra {__version__}")
        raise typer.Exit()


# The commands run the Pulumi program of the checkout they are installed from (infra/ and the vLLM chart beside it):
# a plain `pip install .` copies cli/ and infra/ into site-packages without charts/, and the first command then ended
# in a FileNotFoundError traceback.
CHART_SCHEMA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "charts", "vllm",
                            "values.schema.json")


@app.callback()
def root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """Self-host an open LLM on EKS + vLLM or pay an API: validate, price and pin your stacks."""


def _require_chart() -> None:
    """Before a command's module is imported (infra.spec reads the chart's schema at import)."""
    if not os.path.isfile(CHART_SCHEMA):
        from cli.errors import CliError, print_error

        print_error(CliError(f"this installation has no vLLM chart ({CHART_SCHEMA!r} is missing): tradeoff-infra "
                             "runs from a checkout of its repository; clone it and run ./scripts/setup.sh "
                             "(pip install -e .)"))
        raise typer.Exit(1)


def main() -> None:
    """The `tradeoff-infra` console script (and `python -m cli.main`).

    Standard output that cannot be written (`> /dev/full`, a closed pipe) ends the command with a
    one-line error and exit 2 (exit 1 for a closed pipe, as click does), not a traceback."""
    collector.for_the_command_line()
    try:
        app(standalone_mode=True)
        sys.stdout.flush()
    except SystemExit as done:
        try:
            sys.stdout.flush()
        except OSError as err:
            _stdout_failed(err)
        raise done
    except OSError as err:
        # a failed write names no file; a failed open or read of an input does (and is not ours to explain)
        if err.filename is None and err.errno in _OUTPUT_ERRORS:
            _stdout_failed(err)
        raise


_OUTPUT_ERRORS = {errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _stdout_failed(err: OSError) -> None:
    try:  # nothing more may reach the broken stream, not even at interpreter exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    if err.errno == errno.EPIPE:
        sys.exit(1)
    from cli.errors import CliError, print_error  # only here: `--version` and `--help` stay light

    print_error(CliError(f"cannot write the output: {err.strerror or err}"))
    sys.exit(2)


if __name__ == "__main__":
    main()
