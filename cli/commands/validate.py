"""`tradeoff-infra validate`: check stack files and show what each would deploy."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

import re
import sys
from datetime import UTC, date, datetime

from cli.errors import CliError, reported
from cli.pricing.api import near_offer_hint
from cli.render import grid
from cli.render.safe import say
from cli.render.width import output_width
from cli.stacks import StackOption, StackRef, StacksDirOption, api_offers, load_stack, project_root, select
from infra import hardware
from infra.spec import Problem, SpecError, StackSpec, price_problems, warnings

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


def suggested(problem: Problem) -> Problem:
    """A spec problem with the CLI's suggestion added where the spec cannot make one (API offer names are
    genai-prices', which the spec does not read)."""
    if re.fullmatch(r"apiComparison\[\d+\]", problem.path) and isinstance(problem.value, str):
        hint = near_offer_hint(problem.value).strip()
        if hint:
            return Problem(problem.path, f"{problem.value!r} is not provider:model; {hint}", problem.value)
    return problem


def estimate_problems(spec: StackSpec, today: date) -> list[Problem]:
    """What `estimate` refuses of a stack the spec accepts: prices the catalog lacks, sizes capacity cannot
    compute, API offers genai-prices does not know (resolved as estimate resolves them; the cache is read,
    never written)."""
    problems = list(price_problems(spec))
    try:
        api_offers(project_root(), spec, today, no_cache=False, store=False)
    except CliError as e:
        for line in (e.message, *e.details):
            path, _, message = line.partition(": ")
            problems.append(Problem(path, message))
    return problems


EPILOG = """Examples:

  tradeoff-infra validate dev
  tradeoff-infra validate --all
  tradeoff-infra validate ./my-stack.yaml

Exit codes: 0 every stack valid, 1 an operation failed, 2 a stack invalid or bad input."""


@app.command(epilog=EPILOG)
@reported()
def validate(
    stacks: Annotated[list[str] | None, typer.Argument(help="Stack names in stacks/ or paths to stack files.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Validate every stack in the stacks folder (besides any named).")] = False,
    stack: StackOption = None,
    stacks_dir: StacksDirOption = None,
) -> None:
    """Validate stack files and print what each would deploy. Exit 0 valid, 2 invalid."""
    terminal = sys.stdout.isatty()
    console = Console(width=output_width(terminal))  # the one width rule (cli/render/width.py), also piped
    err = Console(stderr=True)
    refs = select(stacks, all_, stack, stacks_dir)
    failed = False
    today = datetime.now(tz=UTC).date()
    for ref in refs:
        try:
            spec = load_stack(ref).spec
            problems = estimate_problems(spec, today)
        except SpecError as e:
            spec, problems = None, [suggested(problem) for problem in e.problems]
        if problems:
            failed = True
            say(err, "[red]✗ {}[/red] ({}) is invalid:", ref.name, ref.path)
            for problem in problems:
                say(err, "  - {}: {}", problem.path, problem.message, soft_wrap=True)
            continue
        typer.echo(summary_table(ref, spec, console.width, styles=terminal), nl=False)
        say(console, "model: {} = {} tensorParallel {}, maxModelLen {}, {}", spec.model.name, spec.model.source,
            spec.model.tensor_parallel, spec.model.max_model_len, spec.model.dtype)
        for line in pin_lines(spec):
            say(console, "{}", line, soft_wrap=True)
        say(console, "{}", endpoint_line(spec))
        for warning in warnings(spec):
            say(console, "[yellow]warning:[/yellow] {}", warning, soft_wrap=True)
        say(console, "[green]✓ {} is valid[/green]\n", ref.name)
    if failed:
        raise typer.Exit(2)
