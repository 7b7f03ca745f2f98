"""`tradeoff-infra status STACK`: is each region running what the stack file pins? (`cli/live/status.py`)."""

from __future__ import annotations

import json
import pathlib
from enum import Enum
from typing import Annotated

import typer

from cli.errors import CliError, reported
from cli.live.options import ContextOpt, KubeconfigOpt
from cli.path_options import path_option
from cli.pins.show import echo
from cli.stacks import OneStackArgument, OneStackOption, StacksDirOption, load_catalog, load_stack, one_stack, project_root

app = typer.Typer(add_completion=False)


class StatusFormat(str, Enum):
    table = "table"
    json = "json"


@app.command(epilog="""Examples:

  tradeoff-infra status prod-us
  tradeoff-infra status dev --kubeconfig ~/.kube/config --context dev-admin
  tradeoff-infra status prod-us --kubeconfig kc.yaml --context us-east-1=use1 --context us-west-2=usw2 --format json

Exit codes: 0 every region runs its pin, 1 drift (or a cluster could not be read), 2 bad input.""")
@reported()
def status(
    stack: OneStackArgument = None,
    stack_option: OneStackOption = None,
    fmt: Annotated[StatusFormat, typer.Option("--format", help="table (default) or json.")] = StatusFormat.table,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    price_catalog: Annotated[pathlib.Path | None, path_option(
        "--price-catalog", help="Price the nodes with this catalog instead of the checked-in one.")] = None,
    stacks_dir: StacksDirOption = None,
) -> None:
    """Per region: the vLLM Deployment's replicas, the image digest and weights revision the pods run against
    the pin (canaries included), pending pods and why, nodes per GPU pool, KEDA, and the nodes' $/hour."""
    from cli.estimate.prices import PriceBook
    from cli.live import kube
    from cli.live.status import render_text, stack_report

    ref = one_stack(stack, stack_option, stacks_dir)
    spec = load_stack(ref).spec
    catalog = load_catalog(price_catalog)  # the one loader (cli/stacks.py): bad input names --price-catalog
    clusters = kube.clusters(spec, ref.name, project_root(), kubeconfig, context)
    doc = stack_report(ref.name, spec, clusters, PriceBook(catalog))
    if fmt is StatusFormat.json:
        echo(json.dumps(doc, indent=2))
    else:
        import sys

        from cli.render.width import output_width

        echo(render_text(doc, output_width(sys.stdout.isatty())))  # the one width rule, also piped
    if not doc["inSync"]:
        raise typer.Exit(1)

