"""`tradeoff-infra prices`: show the checked-in AWS price catalog, or refresh it from the AWS Price List API."""

from __future__ import annotations

import json
import pathlib
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.output import write_text
from cli.render.safe import markup, say
from infra.price_catalog import CATALOG_PATH, MissingPrice, PriceCatalog

app = typer.Typer(help="Show or refresh the AWS price catalog (infra/data/aws_prices.json).", no_args_is_help=True,
                  add_completion=False)


@app.command("show")
def show(
    region: Annotated[str | None, typer.Option("--region", help="Only this region.")] = None,
    instance_type: Annotated[str | None, typer.Option("--instance-type", help="Only this instance type.")] = None,
    capacity_type: Annotated[str, typer.Option("--capacity-type", help="on-demand or spot.")] = "on-demand",
    catalog_path: Annotated[pathlib.Path, typer.Option("--catalog", help="Catalog file.")] = CATALOG_PATH,
) -> None:
    """Print instance prices with their source, date, confidence and how each was derived."""
    err = Console(stderr=True)
    if capacity_type not in ("on-demand", "spot"):
        err.print("[red]error:[/red] --capacity-type must be on-demand or spot", highlight=False)
        raise typer.Exit(2)
    try:
        catalog = PriceCatalog.load(catalog_path)
    except OSError as e:
        say(err, "[red]error:[/red] --catalog {}: cannot read: {}", catalog_path, e.strerror)
        raise typer.Exit(2)
    except ValueError as e:  # CatalogError names the file and the key
        say(err, "[red]error:[/red] --catalog: {}", e, soft_wrap=True)
        raise typer.Exit(2)
    if region and region not in catalog.data["instances"]:
        known = ", ".join(sorted(catalog.data["instances"]))
        say(err, "[red]error:[/red] --region {}: unknown region: the catalog prices no instance there (regions: {})",
            region, known, soft_wrap=True)
        raise typer.Exit(2)
    table = Table(title=f"AWS prices as of {markup(catalog.retrieved_on)} ({markup(catalog.data.get('refreshedBy', 'seed'))})",
                  title_justify="left")
    for col in ("region", "instance type", "$/h", "basis", "source", "date", "conf.", "derivation / spot"):
        table.add_column(col, overflow="fold")
    rows = 0
    for reg, entries in sorted(catalog.data["instances"].items()):
        if region and reg != region:
            continue
        for name in sorted(entries):
            if instance_type and name != instance_type:
                continue
            try:
                p = catalog.instance(reg, name, capacity_type)
            except MissingPrice as e:
                say(err, "[red]error:[/red] {}", e)
                raise typer.Exit(2)
            extra = p.derivation or ""
            if p.spot_savings_percent is not None:
                extra = f"spot -{p.spot_savings_percent}% ({p.spot_savings_basis}) {extra}"
            table.add_row(*map(markup, (reg, name, f"{p.usd_per_hour:.6g}", p.basis, p.source, p.dated, p.confidence,
                                        extra)))
            rows += 1
    if rows == 0:
        what = " ".join(x for x in (instance_type, region and f"in {region}") if x)
        say(err, "[red]error:[/red] no price for {} in the catalog", what or "anything")
        raise typer.Exit(2)
    Console(width=200).print(table)


@app.command("refresh")
def refresh_command(
    out: Annotated[pathlib.Path, typer.Option("--out", help="Where to write the catalog.")] = CATALOG_PATH,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile with pricing:GetProducts.")] = None,
) -> None:
    """Rebuild the catalog from the AWS Price List API (needs AWS credentials and boto3)."""
    err = Console(stderr=True)
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
    except ImportError:
        err.print("[red]error:[/red] boto3 is not installed: pip install 'tradeoff-infra[aws]'", highlight=False)
        raise typer.Exit(2)
    from cli.pricing.refresh import refresh

    session = boto3.Session(profile_name=profile) if profile else boto3.Session()
    client = session.client("pricing", region_name="us-east-1")  # the Price List API is served from us-east-1
    current = json.loads(CATALOG_PATH.read_text())
    try:
        catalog, notes = refresh(current, client, progress=lambda m: say(err, "{}", m))
    except NoCredentialsError:
        err.print("[red]error:[/red] no AWS credentials: set AWS_PROFILE or pass --profile", highlight=False)
        raise typer.Exit(2)
    except (BotoCoreError, ClientError) as e:
        say(err, "[red]error:[/red] AWS Price List API: {}", e)
        raise typer.Exit(1)
    try:
        write_text(out, json.dumps(catalog, indent=1) + "\n")
    except OSError as e:
        err.print(f"[red]error:[/red] --out {out}: cannot write: {e.strerror or e}; nothing was written", highlight=False)
        raise typer.Exit(2)
    for note in notes:
        say(err, "[yellow]note:[/yellow] {}", note)
    say(err, "wrote {} (prices as of {})", out, catalog["retrievedOn"])
