"""`model pin|rollback --apply`: `pulumi up` for the stack through the Automation API, after the edit."""

from __future__ import annotations

import pathlib
import shutil
from dataclasses import dataclass

import typer

from cli.errors import CliError, failed
from cli.pins.show import echo
from cli.render.safe import shown_path
from cli.stacks import StackRef, project_root


@dataclass(frozen=True)
class ApplyTarget:
    stack: str
    work_dir: pathlib.Path


def apply_target(ref: StackRef) -> ApplyTarget:
    """Check before any edit that `--apply` can run, so a refusal changes nothing."""
    if shutil.which("pulumi") is None:
        raise failed(
            "--apply needs the Pulumi CLI (https://www.pulumi.com/docs/iac/download-install/) and it is not on PATH; "
            "nothing was changed. Run without --apply to edit the stack file only, then `pulumi up --stack "
            f"{shown_path(ref.name)}` where the CLI is installed"
        )
    root = project_root()
    expected = (root / "stacks" / f"Pulumi.{ref.name}.yaml").resolve()
    if ref.path.resolve() != expected:
        raise CliError(f"--apply: {shown_path(ref.path)} is not the stack file {shown_path(expected)} that `pulumi up` in {root} would read")
    return ApplyTarget(ref.name, root)


def pulumi_up(target: ApplyTarget, message: str) -> None:
    from pulumi import automation  # only here: `model` without --apply never imports Pulumi

    echo(f"pulumi up --stack {shown_path(target.stack)} (work dir {shown_path(target.work_dir)}) ...")
    try:
        stack = automation.select_stack(stack_name=target.stack, work_dir=str(target.work_dir))
        result = stack.up(on_output=typer.echo, message=message)
    except Exception as err:  # CommandError, StackNotFoundError, a missing backend login ...
        raise failed(f"pulumi up for stack {target.stack} failed: {err}") from None
    echo(f"pulumi up: {result.summary.result}")

