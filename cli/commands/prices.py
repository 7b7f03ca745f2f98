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
  tradeoff-infra prices show --region eu-central-1 --platform
  tradeoff-infra prices refresh
  tradeoff-infra prices refresh --source api --profile pricing   # needs .venv/bin/pip install -e '.\\[aws]'

Exit codes: 0 ok, 1 a download or write failed, 2 bad input.

`tradeoff-infra prices COMMAND --help` shows each command's options.""")


@app.command("show", epilog="""Examples:

  tradeoff-infra prices show --region us-east-1
  tradeoff-infra prices show --instance-type g6e.xlarge --capacity-type spot
  tradeoff-infra prices show --region eu-central-1 --platform   # NAT, ALB, EBS, CloudWatch, S3, transfer ... there
  tradeoff-infra prices show --platform                         # the us-east-1 defaults and every region's own

Exit codes: 0 ok, 1 an operation failed, 2 bad input (a region, an instance type, an option).""")
@reported()
def show(
    region: Annotated[str | None, typer.Option("--region", help="Only this region.")] = None,
    instance_type: Annotated[str | None, typer.Option("--instance-type", help="Only this instance type.")] = None,
    capacity_type: Annotated[str, typer.Option("--capacity-type", help="on-demand, spot or reserved-1y.")] = "on-demand",
    catalog_path: Annotated[pathlib.Path, path_option("--catalog", help="Catalog file.")] = CATALOG_PATH,
    platform: Annotated[bool, typer.Option("--platform", help="The platform prices instead (EKS, NAT, ALB/NLB, LCU, "
                                           "EBS, CloudWatch, S3, IPv4, KMS, data transfer ...): with --region, each "
                                           "as an estimate there uses it, the region's own or the us-east-1 proxy; "
                                           "without, the defaults and every region's own.")] = False,
) -> None:
    """Print instance prices with their source, date, confidence and how each was derived (--platform: the
    platform prices, with their source key, date and whether each is the region's own or the us-east-1 proxy)."""
    if capacity_type not in CAPACITY_TYPES:
        raise CliError(f"--capacity-type must be one of {', '.join(CAPACITY_TYPES)}")
    catalog = load_catalog(catalog_path, "--catalog")
    if platform:
        if instance_type or capacity_type != "on-demand":
            raise CliError("--instance-type and --capacity-type go without --platform (platform prices are per region)")
        _show_platform(catalog, region)
        return
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
                           columns, rows, output_width(terminal), styles=terminal, keys=(0, 1)), nl=False)


def _platform_value(entry: dict) -> str:
    """A platform entry's price as text: $ per unit, its egress tiers, or the support calendar's dates."""
    if "tiers" in entry:
        parts = [f"${usd} to {float(bound):,.0f} GB" if bound is not None else f"${usd} above"
                 for bound, usd in entry["tiers"]]
        return ", ".join(parts)
    if "versions" in entry:
        return ", ".join(f"{version} until {end}" for version, end in entry["versions"].items())
    return f"${entry['usd']}"


def _platform_rows(catalog, region: str | None) -> list[list[str]]:
    """One row per platform item: with a region, as an estimate there prices it (PriceCatalog.platform_item);
    without, the defaults (us-east-1, used as the proxy elsewhere) and then each region's own entries."""
    from infra.price_catalog import entry_date

    default, own = catalog.data["platform"]["default"], catalog.data["platform"]["regions"]

    def row(where: str, key: str, entry: dict, whose: str) -> list[str]:
        dated = entry["date"] or f"undated snapshot, after {entry_date(entry)}"
        return [where, key, _platform_value(entry), entry.get("unit", ""), entry["source"], dated,
                entry["confidence"], whose]

    if region is None:
        rows = [row("default", key, entry, "us-east-1; " + ("every region" if entry["regional"] == "uniform" else
                                                             "the proxy where a region has none"))
                for key, entry in default.items()]
        return rows + [row(reg, key, entry, "the region's own") for reg in sorted(own) for key, entry in own[reg].items()]
    rows = []
    for key in [*default, *(k for k in own.get(region, {}) if k not in default)]:
        entry, regional = catalog.platform_item(region, key)
        if key in own.get(region, {}):
            whose = "the region's own"
        elif default[key]["regional"] == "uniform":
            whose = "uniform: the same in every region"
        elif region == "us-east-1":
            whose = "the region's own (us-east-1)"
        else:
            whose = "us-east-1 proxy (no regional source)"
        rows.append(row(region, key, entry, whose))
    return rows


def _show_platform(catalog, region: str | None) -> None:
    if region is not None:
        from infra import hardware

        known = set(hardware.aws_regions()) | set(catalog.data["instances"]) | set(catalog.data["platform"]["regions"])
        if region not in known:
            from infra.spec.checks import unknown_region_message  # "did you mean eu-central-1?"

            raise CliError(f"--region {region}: {unknown_region_message(region)}")
    rows = _platform_rows(catalog, region)
    from cli.render import grid
    from cli.render.width import output_width

    terminal = sys.stdout.isatty()
    width = output_width(terminal)
    columns = [grid.Column("region"), grid.Column("item"), grid.Column("price"), grid.Column("unit"),
               grid.Column("source"), grid.Column("date"), grid.Column("conf."), grid.Column("whose price")]
    where = f" for {region}" if region else " (defaults, then each region's own)"
    title = (f"AWS platform prices{where}, catalog retrieved {catalog.retrieved_on} "
             f"({catalog.data.get('refreshedBy', 'seed')}); sources: the catalog's `sources`")
    natural = sum(max([grid.cells(c.header), *(grid.cells(r[i]) for r in rows)]) for i, c in enumerate(columns))
    if natural + 3 * len(columns) + 1 <= width:
        typer.echo(grid.render(title, columns, rows, width, styles=terminal), nl=False)
        return
    # Too narrow for one row an item with every name whole (item keys and source keys are single long words):
    # one entry an item, its details wrapped under it.
    lines = list(grid.wrap(grid.clean(title), width))
    for reg, item, price, unit, source, dated, confidence, whose in rows:
        head = item if region else f"{reg} {item}"
        amount = f"{price} per {unit}" if price.startswith("$") and ", " not in price else f"{price}; unit: {unit}"
        lines += grid.hang(grid.clean(f"{head}: {amount}; {whose}; {source}, {dated}, confidence {confidence}"), width)
    typer.echo("\n".join(lines))


@app.command("refresh", epilog="""Examples:

  tradeoff-infra prices refresh
  tradeoff-infra prices refresh --region us-east-1 --out /tmp/prices.json
  tradeoff-infra prices refresh --source api --profile pricing   # needs .venv/bin/pip install -e '.\\[aws]'

Exit codes: 0 written, 1 a download or write failed, 2 bad input (an option, a broken file under --offers-dir, a
missing boto3 for --source api).""")
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
        where = lambda service, region: str(bulk.offer_file(offers_dir, service, region))  # noqa: E731
    else:
        load, title = bulk.url_loader(), "AWS Price List bulk offer files (public, no credentials)"
        where = lambda service, region: bulk.OFFER_URL.format(service=service, region=region)  # noqa: E731
    try:
        return bulk.apply(current, load, wanted, source_title=title, source_url=bulk.OFFER_URL, progress=progress,
                          where=where)
    except bulk.OfferError as e:
        if offers_dir is not None:  # the user's file: bad input, named through --offers-dir as typed (escaped)
            raise CliError(paths_shown(f"--offers-dir: {e}; nothing was written", offers_dir)) from None
        raise failed(f"{e}; nothing was written") from None  # a broken download from AWS: a failure, exit 1
    except OSError as e:  # network: unreachable, timeout, HTTP 5xx
        raise failed(f"AWS Price List bulk offer files: {e}; nothing was written") from None


def _refresh_api(current: dict, profile: str | None, progress):
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
    except ImportError:
        raise CliError("--source api needs boto3: .venv/bin/pip install -e '.[aws]' in the checkout (or use "
                       "--source bulk, which needs no credentials)") from None
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
