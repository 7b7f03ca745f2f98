"""`tradeoff-infra validate`: check stack files and show what each would deploy."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

import pathlib
import sys
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from cli.errors import reported
from cli.path_options import path_option
from cli.render import grid
from cli.render.safe import clean, say
from cli.render.width import output_width
from cli.stacks import (StackOption, StackRef, StacksDirOption, check_stack, load_catalog, load_stack, project_root,
                        select)
from infra import hardware
from infra.spec import Problem, SpecError, StackSpec, warnings

if TYPE_CHECKING:
    from infra.price_catalog import PriceCatalog

app = typer.Typer(add_completion=False)


def summary_table(ref: StackRef, spec: StackSpec, width: int = 100, styles: bool = False) -> str:
    """What the stack would deploy, a row per GPU pool, as text by the one table rule of every command
    (cli/render/grid.py): the counts never wrap, the names fold."""
    rows = []
    for region in spec.regions:
        low, high = spec.replicas_for(region)
        for pool in region.gpu_pools:
            it = hardware.instance_type(pool.instance_type)
            rows.append([region.region, pool.name,
                         f"{pool.instance_type} ({it.gpus}x {it.gpu_model.name if it.gpu_model else it.gpu_name})",
                         pool.capacity_type, f"{pool.min_nodes}/{pool.initial_nodes}/{pool.max_nodes}",
                         f"{pool.min_nodes * it.gpus}/{pool.max_nodes * it.gpus}", f"{low}/{high}"])
    columns = [grid.Column("region"), grid.Column("pool"), grid.Column("instance"), grid.Column("capacity"),
               grid.Column("nodes min/\ndesired/max", "right", numeric=True), grid.Column("GPUs\nmin/max", "right", numeric=True),
               grid.Column("replicas\nmin/max", "right", numeric=True)]
    return grid.render(f"stack {ref.name} ({ref.path})", columns, rows, width, styles=styles)


def pin_lines(spec: StackSpec) -> list[str]:
    lines = []
    for region in spec.regions:
        source, revision, image = spec.model_for(region)
        canary = " (region override)" if region.has_own_pin else ""
        lines.append(f"pin {region.region}: {source}@{revision} image {image}{canary}")
    return lines


def endpoint_line(spec: StackSpec) -> str:
    scheme = "https" if spec.endpoint.hostname else "http"
    where = spec.endpoint.hostname or "load balancer DNS name"
    if spec.endpoint.mode == "global-accelerator":
        dials = ", ".join(f"{r.region} {r.traffic_dial}%" for r in spec.regions)
        return f"endpoint: {scheme}://{where} via Global Accelerator (traffic dials: {dials})"
    return f"endpoint: {scheme}://{where} (regional load balancer in {spec.regions[0].region})"


def quota_lines(spec: StackSpec) -> list[str]:
    """One line per (region, EC2 vCPU quota) the stack's node groups count against (cli/quotas.py), then how to
    check them: a new account's quotas can be below even the system nodes' few vCPUs."""
    from cli import quotas

    needs = [need for by_region in quotas.needs(quotas.from_spec(spec)).values() for need in by_region]
    return [f"quota: {quotas.line(need)}" for need in needs] + [f"quota: {quotas.HOW_TO_CHECK}"]


def estimate_problems(spec: StackSpec, today: date, catalog: PriceCatalog) -> list[Problem]:
    """What `estimate` refuses of a stack the spec accepts (cli/stacks.py `check_stack`, the checks `estimate` runs
    before it prices): prices the catalog lacks, API offers genai-prices does not know (the cache is read, never
    written)."""
    return check_stack(project_root(), spec, today, catalog, store=False)[0]


def emit(console: Console, text: str, label: str = "", style: str = "") -> None:
    """One line of validate's text (user values made inert, cli/render/safe.py) wrapped to the console's width by
    the one rule for long text (cli/render/grid.py `hang`: a hanging indent, a word, pin or path never split);
    `label`, the line's start, in `style` (on a terminal)."""
    lines = grid.hang(clean(text), console.width)
    label = clean(label)
    for i, line in enumerate(lines):
        if i == 0 and label and style and line.startswith(label):
            say(console, f"[{style}]{{}}[/{style}]{{}}", label, line[len(label):], soft_wrap=True)
        else:
            say(console, "{}", line, soft_wrap=True)


EPILOG = """Examples:

  tradeoff-infra validate dev
  tradeoff-infra validate --all
  tradeoff-infra validate ./my-stack.yaml
  tradeoff-infra validate mx-stack --price-catalog my-prices.json

Exit codes: 0 every stack valid, 1 an operation failed, 2 a stack invalid or bad input."""


@app.command(epilog=EPILOG)
@reported()
def validate(
    stacks: Annotated[list[str] | None, typer.Argument(help="Stack names in stacks/ or paths to stack files.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Validate every stack in the stacks folder (besides any named).")] = False,
    stack: StackOption = None,
    stacks_dir: StacksDirOption = None,
    price_catalog: Annotated[pathlib.Path | None, path_option("--price-catalog", help=(
        "Check prices against another AWS price catalog file, as `estimate --price-catalog` prices with it "
        "(default: the checked-in one)."))] = None,
) -> None:
    """Validate stack files and print what each would deploy. Exit 0 valid, 2 invalid."""
    terminal = sys.stdout.isatty()
    width = output_width(terminal)  # the one width rule (cli/render/width.py), also piped
    console = Console(width=width)
    err = Console(stderr=True, width=output_width(sys.stderr.isatty(), fd=2))  # the terminal stderr is on
    refs = select(stacks, all_, stack, stacks_dir)
    catalog = load_catalog(price_catalog)
    failed = False
    today = datetime.now(tz=UTC).date()
    for ref in refs:
        try:
            spec = load_stack(ref).spec
            problems = estimate_problems(spec, today, catalog)
        except SpecError as e:
            spec, problems = None, e.problems  # with the CLI's suggestions (cli/stacks.py load_stack)
        if problems:
            failed = True
            emit(err, f"✗ {ref.name} ({ref.path}) is invalid:", label=f"✗ {ref.name}", style="red")
            for problem in problems:
                emit(err, f"  - {problem.path}: {problem.message}")
            continue
        typer.echo(summary_table(ref, spec, console.width, styles=terminal), nl=False)
        m = spec.model
        emit(console, f"model: {m.name} = {m.source} tensorParallel {m.tensor_parallel}, maxModelLen {m.max_model_len}, "
                      f"{m.dtype}")
        for line in pin_lines(spec):
            emit(console, line)
        emit(console, endpoint_line(spec))
        for line in quota_lines(spec):
            emit(console, line, label="quota:", style="cyan")
        for warning in warnings(spec):
            emit(console, f"warning: {warning}", label="warning:", style="yellow")
        emit(console, f"✓ {ref.name} is valid", label=f"✓ {ref.name} is valid", style="green")
        console.print()
    if failed:
        raise typer.Exit(2)
