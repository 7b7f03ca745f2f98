"""`tradeoff-infra estimate`: price the resources the program would create, add usage and people
costs, compare with API offers, decide. Exit 0 ok, 1 over budget (with --fail-over-budget) or a cost increase
above --fail-on-increase, 2 bad input."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import sys
from datetime import UTC, date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cli import cache
from cli.errors import CliError, print_warnings, reported
from cli.output import refuse_input_as_out, write_out
from cli.path_options import path_option
from cli.render.safe import paths_shown, say, shown_path
from cli.stacks import LoadedStack, StackOption, StacksDirOption, load_catalog, load_stacks, project_root, select
from infra import files
from infra.price_catalog import CATALOG_PATH

if TYPE_CHECKING:
    from cli.estimate import UsageAssumptions
    from infra.price_catalog import MissingPrice, PriceCatalog
    from infra.spec import StackSpec

app = typer.Typer(add_completion=False)


class Format(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


# Inputs other than stack files: a usage file is a few lines (a saved estimate: cli/commands/diff.py).
MAX_USAGE_BYTES = files.MIB


def _missing_price_key(spec: StackSpec, err: MissingPrice) -> str:
    for r_i, region in enumerate(spec.regions):
        for p_i, pool in enumerate(region.gpu_pools):
            if region.region == err.region and pool.instance_type in err.item:
                return f"regions[{r_i}].gpuPools[{p_i}].instanceType: "
        if region.region == err.region and spec.cluster.system_nodes.instance_type in err.item:
            return f"regions[{r_i}] / cluster.systemNodes.instanceType: "
    return ""


def estimate_stack(stack: LoadedStack, root: pathlib.Path, catalog: PriceCatalog, as_of: date, *, with_chart: bool,
                   usage: UsageAssumptions | None = None, sensitivity: bool = False,
                   growth: tuple[float, int] | None = None) -> dict:
    """The stack's estimate as a contract document; a price or capacity the stack cannot get is bad
    input naming the stack (and the key, where one is to blame). `sensitivity` adds the flip points and the
    volume sweep, `growth` (percent a month, months) the projection (cli/estimate/sensitivity.py)."""
    from cli.capacity import CapacityError  # the estimate's modules load only when a document is computed
    from cli.estimate import EstimateError, UsageAssumptions, estimate
    from cli.render import contract
    from infra.price_catalog import MissingPrice

    ref, spec = stack.ref, stack.spec
    try:
        path = ref.path.resolve()
        shown = str(path.relative_to(root.resolve())) if path.is_relative_to(root.resolve()) else str(ref.path)
        est = estimate(ref.name, shown, spec, stack.inventory.resources, catalog, list(stack.offers), as_of=as_of,
                       api_source=stack.api_source, usage=usage or UsageAssumptions())
    except MissingPrice as err:
        raise CliError(f"{ref.name}: {_missing_price_key(spec, err)}{err}") from None
    except (CapacityError, EstimateError) as err:
        raise CliError(f"{ref.name}: {err}") from None
    chart = contract.chart_points(est, est.total_at) if with_chart else None
    doc = contract.stack_contract(est, chart)
    if sensitivity or growth:  # only then: the module stays off the plain estimate's path
        from cli.estimate import sensitivity as flips

        try:
            probe = flips.probe_of(est, stack.inventory.resources)
            if sensitivity:
                be = {b.offer: b for b in est.break_even}
                offer, _ = flips.cheapest(probe.offers, spec.traffic.requests_per_month)
                doc["sensitivity"] = flips.flip_points(probe, est.verdict.choice, be.get(offer.name) if offer else None,
                                                       est.total_at)
                doc["volumeSweep"] = flips.volume_sweep(probe, est.total_at)
            if growth:
                doc["growth"] = flips.growth(probe, growth[0], growth[1], est.total_at)
        except (CapacityError, EstimateError) as err:
            raise CliError(f"{ref.name}: {err}") from None
    return doc


def _growth_option(growth: float | None, months: int | None) -> tuple[float, int] | None:
    """(percent a month, months) of --growth/--months, or None; bad values are bad input naming the option."""
    if growth is None:
        if months is not None:
            raise CliError("--months needs --growth PCT_PER_MONTH (the growth it projects)")
        return None
    from cli.estimate.sensitivity import MAX_GROWTH_PERCENT, MAX_MONTHS  # only when asked: off the plain path

    if not 0 < growth <= MAX_GROWTH_PERCENT:  # NaN fails too
        raise CliError(f"--growth {growth:g}: must be a percentage a month above 0 and at most {MAX_GROWTH_PERCENT:g} "
                       "(traffic that shrinks or stays flat: estimate the smaller volume directly)")
    months = 12 if months is None else months
    if not 1 <= months <= MAX_MONTHS:
        raise CliError(f"--months {months}: must be from 1 to {MAX_MONTHS}")
    return growth, months


def _parse_date(value: str | None) -> date:
    if value is None:
        return datetime.now(tz=UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(f"--as-of {value!r} is not a date YYYY-MM-DD") from None


def _load_usage(path: pathlib.Path) -> UsageAssumptions:
    from cli.estimate import usage_from

    try:
        text = files.read_text(path, MAX_USAGE_BYTES)
    except files.UnreadableFile as err:
        raise CliError(f"--usage {paths_shown(err, path)}") from None
    from infra.spec.loading import strict_yaml  # the stack files' reader: a key written twice is refused, not kept-last

    try:
        return usage_from(strict_yaml(text) or {})
    except RecursionError:
        raise CliError(f"--usage {shown_path(path)}: nested too deeply") from None
    except ValueError as err:
        raise CliError(f"--usage {shown_path(path)}: {paths_shown(err, path)}") from None


def calibrated(loaded: list[LoadedStack], path: pathlib.Path, err: Console) -> list[LoadedStack]:
    """`--calibration FILE` applied to the stack it names (bad input when none of them is that stack); each pool it
    replaces is named on standard error (the capacity rows then say "(measured)", the JSON its measuredSource)."""
    from dataclasses import replace

    from cli.live.actuals_calibration import CalibrationError, apply, load

    try:
        doc = load(path)
        names = [stack.ref.name for stack in loaded]
        if doc["stack"] not in names:
            raise CalibrationError(f"{path}: stack: the file calibrates stack {doc['stack']!r}, not one of those "
                                   f"estimated ({', '.join(names)})")
        out = [replace(stack, spec=apply(stack.spec, doc, path)) if stack.ref.name == doc["stack"] else stack
               for stack in loaded]
    except CalibrationError as e:
        raise CliError(f"--calibration {paths_shown(e, path)}") from None
    for entry in doc["pools"]:
        say(err, "calibrated: {} {}/{} at {} output tok/s per replica, measured ({})", doc["stack"], entry["region"],
            entry["pool"], entry["outputTokensPerSecondPerReplica"], doc["source"])
    return out


def render(docs: list[dict], fmt: Format, *, terminal: bool = False, fields: tuple[str, ...] | None = None) -> str:
    from cli.render.formats import render_report

    return render_report(docs, fmt.value, terminal=terminal, fields=fields)


def _parse_fields(text: str | None, fmt: Format) -> tuple[str, ...] | None:
    if text is None:
        return None
    if fmt is not Format.table:
        raise CliError(f"--fields chooses the line-item columns of --format table, not of --format {fmt.value}")
    from cli.render.table import FieldsError, parse_fields

    try:
        return parse_fields(text)
    except FieldsError as err:
        raise CliError(str(err)) from None


# Options that never change a stack's contract document: what to print and where, which stacks (their files are
# keyed themselves), the comparison added after the cache, and the inputs keyed by their content. Every other
# option (and any option added later) is part of an estimate's cache key: a new one can never hit a stale entry.
NOT_IN_DOCS_KEY = frozenset({"stacks", "all_", "stack", "stacks_dir", "fmt", "out", "no_cache", "fail_over_budget",
                             "compare_to", "fail_on_increase", "fields", "as_of", "usage_file", "price_catalog"})
MAX_KEYED_INPUT_BYTES = 64 * files.MIB  # the largest input (a price catalog); the readers apply each file's own limit


def docs_key(params: dict, refs: list, root: pathlib.Path, when: date, fmt: Format) -> str | None:
    """The content-addressed key of this run's contract documents (cli/cache.py): the code, the date priced, the
    options that shape a document, and every input file by its bytes; None (no caching) when an input is not a
    regular file this can read without consuming it (the readers then report it), or is a file option the key
    does not read (`--calibration`: it also notes on stderr what it replaced)."""
    keyed = {name: value for name, value in params.items() if name not in NOT_IN_DOCS_KEY}
    if any(isinstance(value, pathlib.PurePath) for value in keyed.values()):
        return None  # a file this key does not read (`--calibration`, or one added later): computed every time
    parts = ["estimate-docs v1", cache.code_digest(), str(root.resolve()), when.isoformat(), f"chart={_with_chart(fmt)}"]
    parts += [f"{name}={value!r}" for name, value in sorted(keyed.items())]
    inputs = [*((f"stack {ref.name}", ref.path) for ref in refs), ("usage", params.get("usage_file")),
              ("catalog", params.get("price_catalog"))]
    try:
        for what, path in inputs:
            if path is None:
                parts.append(f"{what}: none")
                continue
            data = files.read_bytes(files.resolve_within_folder(path), MAX_KEYED_INPUT_BYTES)
            parts += [what, str(path), str(pathlib.Path(path).resolve()), hashlib.sha256(data).hexdigest()]
    except (files.UnreadableFile, OSError, ValueError):
        return None
    return cache.text_key(*parts)


def cached_docs(root: pathlib.Path, key: str, count: int) -> list[dict] | None:
    docs = cache.load_json(root, "estimate", key)
    if isinstance(docs, list) and len(docs) == count and all(isinstance(d, dict) and "stack" in d for d in docs):
        return docs
    return None


def _with_chart(fmt: Format) -> bool:
    """The break-even chart's points go into the HTML and into the JSON, so that `render saved.json --format html`
    draws the same chart (with the marker at the stack's own volume) without pricing anything again."""
    return fmt in (Format.html, Format.json)


def _estimate_docs(refs: list, root: pathlib.Path, when: date, fmt: Format, *, no_cache: bool,
                   price_catalog: pathlib.Path | None, usage_file: pathlib.Path | None, exclude_operations: bool,
                   calibration: pathlib.Path | None, err: Console, sensitivity: bool,
                   growth: tuple[float, int] | None) -> list[dict]:
    """Every stack's contract document: read and check the stacks, price their API offers, run (or read) their
    inventories, apply `--calibration`, price them (with `--sensitivity` / `--growth` if asked)."""
    from cli.estimate import UsageAssumptions

    catalog = load_catalog(price_catalog)
    usage = _load_usage(usage_file) if usage_file else UsageAssumptions()
    include_ops = False if exclude_operations else None
    # every stack checked (spec, prices in this catalog, API offers) before any is priced: all problems at once
    loaded = load_stacks(refs, root, as_of=when, no_cache=no_cache, include_operations=include_ops, catalog=catalog)
    if calibration is not None:  # only then: the warm path stays as light as before
        loaded = calibrated(loaded, calibration, err)
    return [estimate_stack(stack, root, catalog, when, with_chart=_with_chart(fmt), usage=usage,
                           sensitivity=sensitivity, growth=growth) for stack in loaded]


EPILOG = """Examples:

  tradeoff-infra estimate dev
  tradeoff-infra estimate --all --format markdown --out estimate.md
  tradeoff-infra estimate prod-us --format json --out before.json
  tradeoff-infra estimate prod-us --compare-to before.json --fail-on-increase 10
  tradeoff-infra estimate ./my-stack.yaml --fail-over-budget
  tradeoff-infra estimate prod-us --sensitivity --format json
  tradeoff-infra estimate prod-us --growth 15 --months 24

Exit codes: 0 ok, 1 over budget with --fail-over-budget or a rise above --fail-on-increase PCT,
2 bad input (a key, a stack, an option)."""


@app.command("estimate", epilog=EPILOG)
@reported()
def estimate_command(
    stacks: Annotated[list[str] | None, typer.Argument(help="Stack names in stacks/ or paths to stack files.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Estimate every stack in the stacks folder (besides any named).")] = False,
    stack: StackOption = None,
    stacks_dir: StacksDirOption = None,
    fmt: Annotated[Format, typer.Option("--format", help="table (default), json (the contract), markdown (PR comment), "
                                                        "html (one file with a break-even chart).")] = Format.table,
    out: Annotated[pathlib.Path | None, path_option("--out", help="Write to this file instead of stdout.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Run the program again even if nothing changed.")] = False,
    fail_over_budget: Annotated[bool, typer.Option("--fail-over-budget",
                                                   help="Exit 1 when a stack's expected total exceeds budget.monthlyUsd.")] = False,
    compare_to: Annotated[pathlib.Path | None, path_option("--compare-to", help="A saved --format json estimate: show "
                                                                                 "the change as `diff` does.")] = None,
    fail_on_increase: Annotated[float | None, typer.Option("--fail-on-increase", metavar="PCT", help=(
        "With --compare-to: exit 1 when a stack's expected total rose by more than PCT percent."))] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Price as of this date, YYYY-MM-DD (default: today): "
                                                             "catalog age, EKS support, API price dates.")] = None,
    exclude_operations: Annotated[bool, typer.Option("--exclude-operations",
                                                     help="Leave people costs out of the totals (still listed).")] = False,
    price_catalog: Annotated[pathlib.Path | None, path_option("--price-catalog",
                                                               help="Another AWS price catalog file (default: the checked-in one).")] = None,
    usage_file: Annotated[pathlib.Path | None, path_option("--usage", help="YAML with usage assumptions the program "
                                                                            "cannot know (see docs/estimate.md).")] = None,
    sensitivity: Annotated[bool, typer.Option("--sensitivity", help=(
        "Add what flips the verdict: the volume, tokens per request, people (FTE), GPU node price and API price at "
        "which the verdict changes, and a volume sweep from 1% to 100x (docs/estimate.md)."))] = False,
    growth: Annotated[float | None, typer.Option("--growth", metavar="PCT_PER_MONTH", help=(
        "Project traffic growing PCT percent a month (compounded): each month's costs and verdict, the month the "
        "verdict changes and the fleet then."))] = None,
    months: Annotated[int | None, typer.Option("--months", metavar="N", help=(
        "Months --growth projects (1-120, default 12)."))] = None,
    fields: Annotated[str | None, typer.Option("--fields", help="Line-item columns of the table, a comma list: region, "
                                                                "resource, category, description, quantity, price, monthly, "
                                                                "range, source, or all (default: resource,description,"
                                                                "quantity,monthly).")] = None,
    calibration: Annotated[pathlib.Path | None, path_option("--calibration", metavar="FILE", help=(
        "A file `actuals --write-calibration` wrote: its measured output tokens/s per replica replace the capacity "
        "model's prediction for those pools of its stack."))] = None,
) -> None:
    """Price every resource the stack's program would create, plus usage and people; compare with API offers."""
    params = dict(locals())  # every option, for the estimate cache's key (docs_key)
    err = Console(stderr=True)
    try:
        when = _parse_date(as_of)
        columns = _parse_fields(fields, fmt)
        projection = _growth_option(growth, months)
        refs = select(stacks, all_, stack, stacks_dir)
        refuse_input_as_out(out, [*(("stack file", ref.path) for ref in refs), ("--usage file", usage_file),
                                  ("price catalog", price_catalog or CATALOG_PATH), ("--calibration file", calibration)])
        if fail_on_increase is not None and compare_to is None:
            raise CliError("--fail-on-increase needs --compare-to OLD.json (the estimate the increase is measured from)")
        limit, old = fail_on_increase, None
        if compare_to is not None:  # only a comparison loads the diff (the warm path stays as light as before)
            from cli.estimate.diff import compare, match
            from cli.saved_estimate import check_increase, load_saved, percent_option

            limit = percent_option(fail_on_increase)
            old = load_saved(compare_to, "--compare-to")
        root = project_root()
        key = docs_key(params, refs, root, when, fmt)
        docs = None if no_cache or key is None else cached_docs(root, key, len(refs))
        if docs is None:
            docs = _estimate_docs(refs, root, when, fmt, no_cache=no_cache, price_catalog=price_catalog,
                                  usage_file=usage_file, exclude_operations=exclude_operations,
                                  calibration=calibration, err=err, sensitivity=sensitivity, growth=projection)
            if key is not None:
                cache.store_json(root, "estimate", key, docs)
        for doc in docs:
            if old is not None:
                entry, why = match(old, doc)
                if entry is not None:
                    doc["comparison"] = compare(doc, entry, str(compare_to))
                else:
                    doc["warnings"].append(f"--compare-to {compare_to} {why}")
        over = [f"{d['stack']} expected ${d['budget']['expectedUsd']:,.2f} > budget ${d['budget']['monthlyUsd']:,.2f}"
                for d in docs if d["budget"] and d["budget"]["overBudget"]]
        increased = check_increase([d["comparison"] for d in docs if "comparison" in d], limit) if old is not None else []
        if fail_over_budget:
            missing = [d["stack"] for d in docs if d["budget"] is None]
            if missing:
                raise CliError(f"--fail-over-budget: stack(s) {', '.join(missing)} have no budget.monthlyUsd")
        text = render(docs, fmt, terminal=out is None and sys.stdout.isatty(), fields=columns)
    finally:
        print_warnings(cache.take_warnings())
    if out:
        write_out(out, text)
        say(err, "wrote {}", out)
    else:
        typer.echo(text, nl=False)
    failed = False
    if fail_over_budget and over:
        say(err, "[red]over budget:[/red] {} (budget.monthlyUsd)", "; ".join(over))
        failed = True
    if increased:
        say(err, "[red]cost increase above {}%:[/red] {}", limit, "; ".join(increased))
        failed = True
    if failed:
        raise typer.Exit(1)
