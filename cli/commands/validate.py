"""`tradeoff-infra validate`: check stack files and show what each would deploy."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.errors import reported
from cli.render.safe import markup, say
from cli.stacks import StackRef, load_stack, select
from infra import hardware
from infra.spec import SpecError, StackSpec, warnings

app = typer.Typer(add_completion=False)


def summary_table(ref: StackRef, spec: StackSpec) -> Table:
    table = Table(title=f"stack {markup(ref.name)} ({markup(ref.path)})", title_justify="left", show_lines=False)
    for column in ("region", "pool", "instance", "capacity", "nodes min/desired/max", "GPUs min/max", "replicas min/max"):
        table.add_column(column)
    for region in spec.regions:
        low, high = spec.replicas_for(region)
        for pool in region.gpu_pools:
            it = hardware.instance_type(pool.instance_type)
            table.add_row(*map(markup, (
                region.region,
                pool.name,
                f"{pool.instance_type} ({it.gpus}x {it.gpu_model.name if it.gpu_model else it.gpu_name})",
                pool.capacity_type,
                f"{pool.min_nodes}/{pool.initial_nodes}/{pool.max_nodes}",
                f"{pool.min_nodes * it.gpus}/{pool.max_nodes * it.gpus}",
                f"{low}/{high}",
            )))
    return table


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


EPILOG = """Examples:

  tradeoff-infra validate dev
  tradeoff-infra validate --all
  tradeoff-infra validate ./my-stack.yaml

Exit codes: 0 every stack valid, 1 an operation failed, 2 a stack invalid or bad input."""


@app.command(epilog=EPILOG)
@reported()
def validate(
    stacks: Annotated[list[str] | None, typer.Argument(help="Stack names in stacks/ or paths to stack files.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Validate every stack in stacks/.")] = False,
) -> None:
    """Validate stack files and print what each would deploy. Exit 0 valid, 2 invalid."""
    console = Console()
    err = Console(stderr=True)
    refs = select(stacks, all_)
    failed = False
    for ref in refs:
        try:
            spec = load_stack(ref).spec
        except SpecError as e:
            failed = True
            say(err, "[red]✗ {}[/red] ({}) is invalid:", ref.name, ref.path)
            for problem in e.problems:
                say(err, "  - {}: {}", problem.path, problem.message, soft_wrap=True)
            continue
        console.print(summary_table(ref, spec))
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
