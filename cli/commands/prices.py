"""`tradeoff-infra prices`: show the checked-in AWS price catalog, or refresh it from the public AWS Price List bulk
offer files (no credentials) or the Price List API."""

from __future__ import annotations

import json
import pathlib
import sys
from typing import Annotated

import typer
from rich.console import Console

from cli.errors import CliError, failed, reported
from cli.output import write_out
from cli.path_options import not_a_folder, path_option
from cli.pricing import load_catalog
from cli.render.safe import paths_shown, say, shown_path
from infra.price_catalog import CAPACITY_TYPES, CATALOG_PATH, MissingPrice
from infra.price_catalog import validate as validate_catalog

# `\\[`: the help is rich markup, where a bare `[aws]` is read as a tag and dropped (tests/cli/test_help.py)
app = typer.Typer(help="Show or refresh the AWS price catalog (infra/data/aws_prices.json).", no_args_is_help=True,
                  add_completion=False, epilog="""Examples:

  tradeoff-infra prices show --region us-east-1
  tradeoff-infra prices refresh
  tradeoff-infra prices refresh --source api --profile pricing   # needs pip install 'tradeoff-infra\\[aws]'

Exit codes: 0 ok, 1 a download or write failed, 2 bad input.

`tradeoff-infra prices COMMAND --help` shows each command's options.""")


@app.command("show", epilog="""Examples:

  tradeoff-infra prices show --region us-east-1
  tradeoff-infra prices show --instance-type g6e.xlarge --capacity-type spot

Exit codes: 0 ok, 1 an operation failed, 2 bad input (a region, an instance type, an option).""")
@reported()
def show(
    region: Annotated[str | None, typer.Option("--region", help="Only this region.")] = None,
    instance_type: Annotated[str | None, typer.Option("--instance-type", help="Only this instance type.")] = None,
    capacity_type: Annotated[str, typer.Option("--capacity-type", help="on-demand, spot or reserved-1y.")] = "on-demand",
    catalog_path: Annotated[pathlib.Path, path_option("--catalog", help="Catalog file.")] = CATALOG_PATH,
) -> None:
    """Print instance prices with their source, date, confidence and how each was derived."""
    if capacity_type not in CAPACITY_TYPES:
        raise CliError(f"--capacity-type must be one of {', '.join(CAPACITY_TYPES)}")
    catalog = load_catalog(catalog_path, "--catalog")
    if region and region not in catalog.data["instances"]:
        import difflib

        known = ", ".join(sorted(catalog.data["instances"]))
        near = difflib.get_close_matches(region, sorted(catalog.data["instances"]), n=1)
        hint = f"did you mean {near[0]}? " if near else ""
        raise CliError(f"--region {region}: unknown region: the catalog prices no instance there ({hint}regions: {known})")
    rows = []
    for reg, entries in sorted(catalog.data["instances"].items()):
        if region and reg != region:
            continue
        for name in sorted(entries):
            if instance_type and name != instance_type:
                continue
            try:
                p = catalog.instance(reg, name, capacity_type)
            except MissingPrice as e:
                if capacity_type == "reserved-1y" and not instance_type:
                    continue  # listing: a type without a sourced reserved price is left out, not an error
                raise CliError(str(e)) from None
            extra = p.derivation or ""
            if p.spot_savings_percent is not None:
                extra = f"spot -{p.spot_savings_percent}% ({p.spot_savings_basis}) {extra}"
            rows.append([reg, name, f"{p.usd_per_hour:.6g}", p.basis, p.source, p.dated, p.confidence, extra])
    if not rows:
        what = " ".join(x for x in (instance_type, region and f"in {region}") if x)
        raise CliError(f"no price for {what or 'anything'} in the catalog")
    from cli.render import grid
    from cli.render.width import output_width

    terminal = sys.stdout.isatty()
    # the one table and width rule of every command: the price never wraps, the text columns fold
    columns = [grid.Column("region"), grid.Column("instance type"), grid.Column("$/h", "right", numeric=True),
               grid.Column("basis"), grid.Column("source"), grid.Column("date"), grid.Column("conf."),
               grid.Column("derivation / spot")]
    typer.echo(grid.render(f"AWS prices as of {catalog.retrieved_on} ({catalog.data.get('refreshedBy', 'seed')})",
                           columns, rows, output_width(terminal), styles=terminal), nl=False)


@app.command("refresh", epilog="""Examples:

  tradeoff-infra prices refresh
  tradeoff-infra prices refresh --region us-east-1 --out /tmp/prices.json
  tradeoff-infra prices refresh --source api --profile pricing   # needs pip install 'tradeoff-infra\\[aws]'

Exit codes: 0 written, 1 a download or write failed, 2 bad input (an option, a missing boto3 for --source api).""")
@reported()
def refresh_command(
    out: Annotated[pathlib.Path, path_option("--out", help="Where to write the catalog.")] = CATALOG_PATH,
    source: Annotated[str, typer.Option("--source", help="bulk: the public AWS Price List bulk offer files (no "
                                        "credentials); api: the Price List Query API (AWS credentials, boto3).")] = "bulk",
    offers_dir: Annotated[pathlib.Path | None, path_option(
        "--offers-dir", what="directory", help="--source bulk: read offer files from DIR/<service>/<region>/index.json instead of "
        "https://pricing.us-east-1.amazonaws.com.")] = None,
    regions: Annotated[list[str] | None, typer.Option("--region", help="--source bulk: only this region (repeat for "
                                                      "more); default every region the catalog knows.")] = None,
    catalog_path: Annotated[pathlib.Path, path_option("--catalog", help="The catalog to start from.")] = CATALOG_PATH,
    profile: Annotated[str | None, typer.Option("--profile", help="--source api: AWS profile with "
                                                "pricing:GetProducts.")] = None,
) -> None:
    """Rebuild the catalog from AWS's public bulk offer files (default, no credentials) or the Price List API."""
    err = Console(stderr=True)
    if source not in ("bulk", "api"):
        raise CliError(f"--source {source}: must be bulk or api")
    if source == "api" and (offers_dir or regions):
        raise CliError("--offers-dir and --region go with --source bulk")
    if source == "bulk" and profile:
        raise CliError("--profile goes with --source api (the bulk files need no credentials)")
    if offers_dir is not None and (why := not_a_folder(offers_dir)):
        raise CliError(f"--offers-dir {shown_path(offers_dir)}: {why}")
    current = load_catalog(catalog_path, "--catalog").data
    progress = lambda m: say(err, "{}", m)  # noqa: E731
    if source == "bulk":
        catalog, notes = _refresh_bulk(current, offers_dir, regions, progress)
    else:
        catalog, notes = _refresh_api(current, profile, progress)
    try:
        validate_catalog(catalog)  # never write a catalog the estimate would refuse
    except ValueError as e:
        raise failed(f"the refreshed catalog is not valid ({e}); nothing was written") from None
    write_out(out, json.dumps(catalog, indent=1) + "\n")
    for note in notes:
        say(err, "[yellow]note:[/yellow] {}", note, soft_wrap=True)
    say(err, "wrote {} (refreshed {}; oldest instance price {})", out, catalog["refreshedOn"],
        catalog["oldestInstancePriceOn"])


def _refresh_bulk(current: dict, offers_dir: pathlib.Path | None, regions: list[str] | None, progress):
    from cli.pricing import bulk
    from infra import hardware

    known = set(hardware.aws_regions())
    for region in regions or []:
        if region not in known:
            from infra.spec.checks import unknown_region_message  # "did you mean eu-central-1?"

            raise CliError(f"--region {region}: {unknown_region_message(region)}")
    wanted = regions or sorted(set(current["instances"]) | set(current["platform"]["regions"]))
    if offers_dir is not None:
        load, title = bulk.offers_dir_loader(offers_dir), f"AWS Price List bulk offer files read from {offers_dir}"
        url = bulk.OFFER_URL
    else:
        load, title, url = bulk.url_loader(), "AWS Price List bulk offer files (public, no credentials)", bulk.OFFER_URL
    try:
        return bulk.apply(current, load, wanted, source_title=title, source_url=url, progress=progress)
    except bulk.OfferError as e:  # names a file under --offers-dir as typed: shown escaped, like every user path
        raise failed(paths_shown(f"{e}; nothing was written", offers_dir)) from None
    except OSError as e:  # network: unreachable, timeout, HTTP 5xx
        raise failed(f"AWS Price List bulk offer files: {e}; nothing was written") from None


def _refresh_api(current: dict, profile: str | None, progress):
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
    except ImportError:
        raise CliError("--source api needs boto3: pip install 'tradeoff-infra[aws]' (or use --source bulk, "
                       "which needs no credentials)") from None
    from cli.pricing.refresh import refresh

    session = boto3.Session(profile_name=profile) if profile else boto3.Session()
    client = session.client("pricing", region_name="us-east-1")  # the Price List API is served from us-east-1
    try:
        return refresh(current, client, progress=progress)
    except NoCredentialsError:
        raise CliError("no AWS credentials: set AWS_PROFILE or pass --profile (or use --source bulk, which "
                       "needs none)") from None
    except (BotoCoreError, ClientError) as e:
        raise failed(f"AWS Price List API: {e}") from None
