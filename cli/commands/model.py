"""`tradeoff-infra model`: show, pin and roll back the model version (weights commit + image digest).

The rules, the edits and `--apply` live in `cli/pins/` (its `edits` module states the contract).
"""

from __future__ import annotations

import json
import pathlib
import shlex
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

import typer

from cli.errors import CliError, invalid_stack, reported
from cli.path_options import path_option
from cli.pins.apply import apply_target, pulumi_up
from cli.pins.edits import (
    Outcome,
    Pin,
    Scope,
    check_image,
    check_revision,
    check_source,
    edit_stack,
    now,
    region_index,
    rollback,
    set_pin,
)
from cli.pins.show import echo, show_data, show_text
from cli.render.safe import shown_path
from cli.stacks import OneStackArgument, OneStackOption, StackRef, StacksDirOption, load_stack, one_stack, shown_arg
from infra.spec import SpecError, StackSpec

# `--wait`'s default (seconds); here, not imported from cli.live.rollout, so `model` without --wait stays light.
DEFAULT_TIMEOUT_SECONDS = 1800.0

class ShowFormat(str, Enum):
    text = "text"
    json = "json"


# Exit codes the model commands' help states (show, pin, rollback).
MODEL_EXIT_CODES = ("Exit codes: 0 ok, 1 an operation failed (a busy lock, a failed write or `pulumi up`, a rollout --wait "
                    "saw stall or time out), 2 bad input.")

app = typer.Typer(
    help="Pin the model version (weights commit + image digest), show its history, roll back.",
    no_args_is_help=True,
    add_completion=False,
    epilog="""Examples:

  tradeoff-infra model show dev
  tradeoff-infra model pin dev --revision COMMIT --note "new weights"
  tradeoff-infra model rollback dev

""" + MODEL_EXIT_CODES + "\n\n`tradeoff-infra model COMMAND --help` shows each command's options.",
)


def _say(line: str) -> None:
    """One line of `pin`/`rollback`'s report wrapped to the one width rule's columns (cli/render/width.py) with a
    hanging indent (cli/render/grid.py `hang`): a revision, an image or a path never split."""
    import sys

    from cli.render.grid import hang
    from cli.render.safe import clean_text
    from cli.render.width import output_width

    width = output_width(sys.stdout.isatty())
    for part in clean_text(line).split("\n"):
        for piece in hang(part, width):
            echo(piece)


def _report(ref: StackRef, outcome: Outcome, changed: bool, verb: str) -> None:
    # each echo is one line: a stack name or path with a line break in it shows it as \x0a (`shown_path`)
    if not changed:
        for line in outcome.lines:
            _say(shown_path(line))
        return
    _say(f"{verb} {shown_path(ref.name)} {outcome.scope}: {outcome.after.source}@{outcome.after.revision}")
    _say(f"  image {outcome.after.image}")
    _say(f"  replaced {outcome.before.short}, now history entry 1")
    for line in outcome.lines:
        _say(f"  {shown_path(line)}")
    region = f" --region {outcome.region}" if outcome.region else ""
    _say(f"undo: tradeoff-infra model rollback {shown_path(shlex.quote(shown_arg(ref)))}{region}")


def _run(ref: StackRef, region: str | None, apply: bool, verb: str, operation, live: LiveOptions | None = None) -> None:
    live = live or LiveOptions()
    try:
        if live.wait and not apply:
            raise CliError("--wait follows the rollout `pulumi up` starts: give --apply with it")
        if (live.kubeconfig is not None or live.context) and not live.wait:
            raise CliError("--kubeconfig / --context are for --wait: give --apply --wait with them")
        if live.timeout <= 0:
            raise CliError(f"--timeout {live.timeout:g}: give a number of seconds above 0")
        target = apply_target(ref) if apply else None
        clusters = None
        if live.wait and live.kubeconfig is not None:  # checked before the edit: bad input changes nothing
            from cli.live import kube

            spec = load_stack(ref).spec
            if region is not None:
                region_index(spec, region)
            clusters = kube.clusters_from_file(live.kubeconfig, live.context, spec, [region] if region else None)

        def scoped(document: Any, spec: StackSpec) -> Outcome:
            scope = Scope(spec, region_index(spec, region) if region is not None else None)
            return operation(document, scope)

        outcome, changed = edit_stack(ref, scoped)
    except SpecError as err:
        raise invalid_stack(err, "; fix it first, nothing was changed") from None
    _report(ref, outcome, changed, verb)
    if target is None:
        if changed:
            _say(f"next: `pulumi up --stack {shown_path(ref.name)}` rolls the vLLM Deployment (or rerun with --apply)")
        return
    try:
        pulumi_up(target, f"tradeoff-infra model {verb} {outcome.scope} {outcome.after.revision[:12]}")
    except CliError as err:
        if live.wait:  # pulumi gave up awaiting the Deployment: name the region, the pod and its reason
            err.message += _stalls(ref, target, region, clusters)
        raise
    if live.wait:
        from cli.live import kube
        from cli.live.rollout import wait_for_rollouts

        spec = load_stack(ref).spec
        if clusters is None:
            clusters = kube.clusters(spec, ref.name, target.work_dir, None, None, [region] if region else None)
        wait_for_rollouts(spec, clusters, live.timeout, _say)


def _stalls(ref: StackRef, target: Any, region: str | None, clusters: Any) -> str:
    """After a failed `pulumi up` with --wait: what the clusters say stalled, as text to add to the failure."""
    from cli.live import kube
    from cli.live.rollout import stalls

    spec = load_stack(ref).spec
    try:
        if clusters is None:
            clusters = kube.clusters(spec, ref.name, target.work_dir, None, None, [region] if region else None)
        notes = stalls(spec, clusters)
    except CliError as err:
        return f"; and the rollout could not be looked at: {err.message}"
    return "".join(f"; {note}" for note in notes)


@dataclass(frozen=True)
class LiveOptions:
    """`--wait` and how to reach the clusters (`cli/live/rollout.py`)."""

    wait: bool = False
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    kubeconfig: pathlib.Path | None = None
    context: list[str] | None = None


RegionOpt = Annotated[str | None, typer.Option("--region", help="Act on this AWS region only (a canary).")]
NoteOpt = Annotated[str | None, typer.Option("--note", help="Why: kept with the pin and in its history entry.")]
ApplyOpt = Annotated[bool, typer.Option("--apply", help="Run `pulumi up` for the stack afterwards (needs the Pulumi CLI).")]
WaitOpt = Annotated[bool, typer.Option("--wait", help="With --apply: watch each region's rollout until every pod serves "
                                                      "the pin and vLLM names the model; exit 1 if it stalls.")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", metavar="SECONDS",
                                           help="--wait gives up after this many seconds (all regions together).")]
KubeconfigOpt = Annotated[pathlib.Path | None, path_option(
    "--kubeconfig", metavar="FILE", help="--wait reaches the clusters with this kubeconfig instead of the stack's "
                                         "`kubeconfigs` output.")]
ContextOpt = Annotated[list[str] | None, typer.Option(
    "--context", metavar="[REGION=]CONTEXT", help="With --kubeconfig: CONTEXT (one-region stack) or REGION=CONTEXT, repeated.")]


@app.command(epilog="""Examples:

  tradeoff-infra model pin dev
  tradeoff-infra model pin dev --region us-east-1 --note "canary"
  tradeoff-infra model pin dev --apply
  tradeoff-infra model pin dev --apply --wait --timeout 1200

""" + MODEL_EXIT_CODES)
@reported()
def pin(
    stack: OneStackArgument = None,
    revision: Annotated[str | None, typer.Option("--revision", help="Full 40-hex commit of the weights.")] = None,
    image: Annotated[str | None, typer.Option("--image", help="vLLM image as REPOSITORY[:TAG]@sha256:DIGEST.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Hugging Face repo id, when the weights move to another repo.")] = None,
    note: NoteOpt = None,
    region: RegionOpt = None,
    apply: ApplyOpt = False,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = DEFAULT_TIMEOUT_SECONDS,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    stack_option: OneStackOption = None,
    stacks_dir: StacksDirOption = None,
) -> None:
    """Pin a new model version; the current pin moves onto the history. Exit 2 on a floating reference."""
    ref = one_stack(stack, stack_option, stacks_dir)
    if revision is None and image is None and source is None:
        raise CliError("give --revision (and/or --image, --source): nothing to pin")
    revision = None if revision is None else check_revision(revision)
    image = None if image is None else check_image(image)
    source = None if source is None else check_source(source)
    if source is not None and revision is None:
        raise CliError(f"--source {source}: other weights need their own --revision")
    at = now()

    def operation(document: Any, scope: Scope) -> Outcome:
        old = scope.current
        new = Pin(source or old.source, revision or old.revision, image or old.image)
        return set_pin(document, scope, new, note or None, at)

    _run(ref, region, apply, "pinned", operation, LiveOptions(wait, timeout, kubeconfig, context))


@app.command("rollback", epilog="""Examples:

  tradeoff-infra model rollback dev
  tradeoff-infra model rollback dev --steps 2
  tradeoff-infra model rollback dev --to 3f2a9c
  tradeoff-infra model rollback dev --apply --wait --kubeconfig kc.yaml --context dev-admin

""" + MODEL_EXIT_CODES)
@reported()
def rollback_command(
    stack: OneStackArgument = None,
    steps: Annotated[int | None, typer.Option("--steps", help="Restore history entry N (1 = the pin before the current one).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Restore this entry: its number in `model show` or a unique revision prefix.")] = None,
    note: NoteOpt = None,
    region: RegionOpt = None,
    apply: ApplyOpt = False,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = DEFAULT_TIMEOUT_SECONDS,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    stack_option: OneStackOption = None,
    stacks_dir: StacksDirOption = None,
) -> None:
    """Restore an earlier pin. The pin rolled back from stays in history: roll forward the same way."""
    ref = one_stack(stack, stack_option, stacks_dir)
    at = now()
    _run(ref, region, apply, "rolled back", lambda document, scope: rollback(document, scope, steps, to, note or None, at),
         LiveOptions(wait, timeout, kubeconfig, context))


@app.command(epilog="""Examples:

  tradeoff-infra model show dev
  tradeoff-infra model show dev --format json

""" + MODEL_EXIT_CODES)
@reported()
def show(
    stack: OneStackArgument = None,
    fmt: Annotated[ShowFormat, typer.Option("--format", help="text (default) or json (full revisions and image "
                                                             "references), as --format everywhere else.")] = ShowFormat.text,
    as_json: Annotated[bool, typer.Option("--json", hidden=True, help="Same as --format json (kept for scripts).")] = False,
    stack_option: OneStackOption = None,
    stacks_dir: StacksDirOption = None,
) -> None:
    """Show the pin in force per region and the history, newest first."""
    ref = one_stack(stack, stack_option, stacks_dir)
    data = show_data(ref, load_stack(ref).spec)
    if as_json or fmt is ShowFormat.json:
        echo(json.dumps(data, indent=2))
        return
    import sys

    from cli.render.width import output_width

    echo(show_text(data, shlex.quote(shown_arg(ref)), output_width(sys.stdout.isatty())))
