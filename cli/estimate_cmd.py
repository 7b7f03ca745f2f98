"""`tradeoff-infra estimate`: price the resources the program would create, add usage and people
costs, compare with API offers, decide. Exit 0 ok, 1 over budget (with --fail-over-budget), 2 bad input."""

from __future__ import annotations

import json
import pathlib
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.text import Text

from cli import cache, output
from cli.capacity import CapacityError
from cli.estimate import EstimateError, UsageAssumptions, estimate, usage_from
from cli.pricing.api import ApiOffer, UnknownApiOffer, custom_offer, genai_prices_source
from cli.render import contract
from cli.render.safe import say
from cli.stacks import StackRef, UsageError, project_root, select
from infra import files
from infra.price_catalog import MissingPrice, PriceCatalog, default_catalog
from infra.spec import CustomApiOffer, SpecError, StackSpec

app = typer.Typer(add_completion=False)


class Format(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


class BadInput(Exception):
    """Exit code 2 with this message."""


def load_stack(ref: StackRef) -> tuple[StackSpec, dict]:
    """(spec, config) by the CLI's one stack-file reader; SpecError names the file or key."""
    return ref.load_with_config()


# Inputs other than stack files: a usage file is a few lines, a saved estimate or a price catalog a few MB.
MAX_USAGE_BYTES = files.MIB
MAX_JSON_INPUT_BYTES = 64 * files.MIB


def api_cache_entry(hit: object) -> bool:
    """A cached API offer has every field the estimate reads, prices as finite non-negative decimals."""
    if not isinstance(hit, dict) or not all(isinstance(hit.get(k), str) for k in ("name", "provider", "model", "source")):
        return False
    if not isinstance(hit.get("tiers"), (str, list, dict, type(None))):
        return False
    try:
        prices = [Decimal(hit[k]) for k in ("input_per_mtok_usd", "output_per_mtok_usd", "request_usd")]
    except (KeyError, TypeError, ArithmeticError):
        return False
    return all(p.is_finite() and p >= 0 for p in prices)


def api_offers(root: pathlib.Path, spec: StackSpec, as_of: date, no_cache: bool) -> tuple[list[ApiOffer], str]:
    """Offers priced for the stack's request size; genai-prices lookups cached by package version."""
    t = spec.traffic
    offers = []
    version = cache.package_version("genai-prices")
    for i, offer in enumerate(spec.api_comparison):
        if isinstance(offer, CustomApiOffer):
            offers.append(custom_offer(offer, t.input_tokens_per_request, t.output_tokens_per_request))
            continue
        key = cache.text_key("api", version, offer, str(t.input_tokens_per_request), str(t.output_tokens_per_request),
                             as_of.isoformat())
        hit = None if no_cache else cache.load_json(root, "api", key)
        if hit is not None and not api_cache_entry(hit):
            cache.warn(f"cache entry api-{key[:12]} is not a priced API offer; ignored, priced again")
            hit = None
        if hit is None:
            from cli.pricing.api import resolve

            try:
                resolved = resolve(offer, t.input_tokens_per_request, t.output_tokens_per_request,
                                   datetime(as_of.year, as_of.month, as_of.day, 12, tzinfo=UTC))
            except UnknownApiOffer as err:
                raise BadInput(f"apiComparison[{i}]: {err}") from None
            hit = {k: str(v) if v is not None else None for k, v in resolved.__dict__.items()}
            cache.store_json(root, "api", key, hit)
        offers.append(ApiOffer(
            name=hit["name"], provider=hit["provider"], model=hit["model"],
            input_per_mtok_usd=Decimal(hit["input_per_mtok_usd"]), output_per_mtok_usd=Decimal(hit["output_per_mtok_usd"]),
            source=hit["source"], request_usd=Decimal(hit["request_usd"]), tiers=hit["tiers"]))
    return offers, genai_prices_source()


def _missing_price_key(spec: StackSpec, err: MissingPrice) -> str:
    for r_i, region in enumerate(spec.regions):
        for p_i, pool in enumerate(region.gpu_pools):
            if region.region == err.region and pool.instance_type in err.item:
                return f"regions[{r_i}].gpuPools[{p_i}].instanceType: "
        if region.region == err.region and spec.cluster.system_nodes.instance_type in err.item:
            return f"regions[{r_i}] / cluster.systemNodes.instanceType: "
    return ""


def estimate_stack(ref: StackRef, root: pathlib.Path, catalog: PriceCatalog, as_of: date, *, no_cache: bool,
                   with_chart: bool, include_operations: bool | None, prepared: tuple | None = None,
                   usage: UsageAssumptions | None = None) -> dict:
    spec, config, offers, api_source, inventory = prepared or prepare_stack(ref, root, as_of, no_cache=no_cache,
                                                                            include_operations=include_operations)
    try:
        path = ref.path.resolve()
        shown = str(path.relative_to(root.resolve())) if path.is_relative_to(root.resolve()) else str(ref.path)
        est = estimate(ref.name, shown, spec, inventory.resources, catalog, offers, as_of=as_of, api_source=api_source,
                       usage=usage or UsageAssumptions())
    except MissingPrice as err:
        raise BadInput(f"{ref.name}: {_missing_price_key(spec, err)}{err}") from None
    except (CapacityError, EstimateError) as err:
        raise BadInput(f"{ref.name}: {err}") from None
    chart = contract.chart_points(est, est.total_at) if with_chart else None
    return contract.stack_contract(est, chart)


def prepare_stack(ref: StackRef, root: pathlib.Path, as_of: date, *, no_cache: bool, include_operations: bool | None,
                  inventory=None, loaded: tuple | None = None, priced_offers: tuple | None = None) -> tuple:
    """Parse the stack and price its API offers (bad input fails here, before any program run)."""
    spec, config = loaded or load_stack(ref)
    if include_operations is False:
        spec = spec.model_copy(update={"operations": spec.operations.model_copy(update={"include": False})})
    offers, api_source = priced_offers or api_offers(root, spec, as_of, no_cache)
    if inventory is None:
        inventory, _ = cache.inventory_for(root, ref.name, ref.path, config, no_cache=no_cache)
    return spec, config, offers, api_source, inventory


def _parse_date(value: str | None) -> date:
    if value is None:
        return datetime.now(tz=UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"--as-of {value!r} is not a date YYYY-MM-DD") from None


def _load_usage(path: pathlib.Path) -> UsageAssumptions:
    try:
        text = files.read_text(path, MAX_USAGE_BYTES)
    except files.UnreadableFile as err:
        raise BadInput(f"--usage {err}") from None
    try:
        return usage_from(yaml.safe_load(text) or {})
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise BadInput(f"--usage {path}: not valid YAML: {getattr(err, 'problem', None) or 'parse error'}{where}") from None
    except RecursionError:
        raise BadInput(f"--usage {path}: nested too deeply") from None
    except ValueError as err:
        raise BadInput(f"--usage {path}: {err}") from None


def _load_old(path: pathlib.Path) -> list[dict]:
    """The stacks of a saved `estimate --format json` document, parsed as the contract (cli/estimate/contract.py)."""
    from cli.estimate.contract import ContractError, parse

    def bad(what: str) -> BadInput:
        return BadInput(f"--compare-to {path}: {what} (expected a saved `estimate --format json` document)")

    try:
        data = files.finite_json(files.read_text(path, MAX_JSON_INPUT_BYTES))
    except files.UnreadableFile as err:
        raise BadInput(f"--compare-to {err}") from None
    except ValueError as err:
        raise bad(f"not JSON ({err})") from None
    try:
        document = parse(data)
    except ContractError as err:
        raise bad(str(err)) from None
    return [stack.model_dump() for stack in document.stacks]


def _old_entry(old: list[dict], doc: dict) -> tuple[dict | None, str | None]:
    """The saved estimate of this stack: the entry from the same stack file, else the one entry with
    the same stack name; (None, why) when there is none or several from other files."""
    same_name = [s for s in old if s["stack"] == doc["stack"]]
    same_file = [s for s in same_name if s.get("stackFile") == doc["stackFile"]]
    if same_file:
        return same_file[0], None
    if len(same_name) == 1:
        return same_name[0], None
    if not same_name:
        return None, f"has no stack {doc['stack']!r}: nothing to compare"
    files = ", ".join(sorted(str(s.get("stackFile")) for s in same_name))
    return None, (f"has {len(same_name)} stacks named {doc['stack']!r}, none from {doc['stackFile']} "
                  f"(from {files}): nothing to compare")


def render(docs: list[dict], fmt: Format, *, terminal: bool = False) -> str:
    if fmt is Format.json:
        from cli.render.documents import json_document

        return json_document(docs)
    if fmt is Format.markdown:
        from cli.render.documents import markdown

        return markdown(docs)
    if fmt is Format.html:
        from cli.render.documents import html

        return html(docs)
    from cli.render.table import render_tables

    return render_tables(docs, terminal=terminal)


def bad_input(err: Console, e: Exception) -> typer.Exit:
    """Print a bad-input error (naming the key or argument) and return the exit-2 to raise."""
    if isinstance(e, SpecError):
        say(err, "[red]error:[/red] {} is invalid:", e.source)
        for problem in e.problems:
            say(err, "  - {}: {}", problem.path, problem.message, soft_wrap=True)
    else:
        say(err, "[red]error:[/red] {}", e, soft_wrap=True)
    return typer.Exit(2)


def print_cache_warnings(err: Console) -> None:
    for message in dict.fromkeys(cache.warnings):
        err.print(Text.assemble(("warning:", "yellow"), f" {message}"), highlight=False, soft_wrap=True)
    cache.warnings.clear()


def write_out(path: pathlib.Path, text: str) -> None:
    """`--out`: through the CLI's one writer (a device or FIFO is written through, never replaced)."""
    try:
        output.write_text(path, text)
    except OSError as err:
        raise BadInput(f"--out {path}: cannot write: {err.strerror or err}; nothing was written") from None


@app.command("estimate")
def estimate_command(
    stacks: Annotated[list[str] | None, typer.Argument(help="Stack names in stacks/ or paths to stack files.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Estimate every stack in stacks/.")] = False,
    fmt: Annotated[Format, typer.Option("--format", help="table (default), json (the contract), markdown (PR comment), "
                                                        "html (one file with a break-even chart).")] = Format.table,
    out: Annotated[pathlib.Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Run the program again even if nothing changed.")] = False,
    fail_over_budget: Annotated[bool, typer.Option("--fail-over-budget",
                                                   help="Exit 1 when a stack's expected total exceeds budget.monthlyUsd.")] = False,
    compare_to: Annotated[pathlib.Path | None, typer.Option("--compare-to", help="A saved --format json estimate: show "
                                                                                 "the change per line item.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Price as of this date, YYYY-MM-DD (default: today): "
                                                             "catalog age, EKS support, API price dates.")] = None,
    exclude_operations: Annotated[bool, typer.Option("--exclude-operations",
                                                     help="Leave people costs out of the totals (still listed).")] = False,
    price_catalog: Annotated[pathlib.Path | None, typer.Option("--price-catalog",
                                                               help="Another AWS price catalog file (default: the checked-in one).")] = None,
    usage_file: Annotated[pathlib.Path | None, typer.Option("--usage", help="YAML with usage assumptions the program "
                                                                            "cannot know (see docs/estimate.md).")] = None,
) -> None:
    """Price every resource the stack's program would create, plus usage and people; compare with API offers."""
    err = Console(stderr=True)
    try:
        when = _parse_date(as_of)
        refs = select(stacks, all_)
        old = _load_old(compare_to) if compare_to else None
        try:
            catalog = PriceCatalog.load(price_catalog) if price_catalog else default_catalog()
        except OSError as e:
            raise BadInput(f"--price-catalog {price_catalog}: cannot read: {e.strerror}") from None
        except ValueError as e:  # CatalogError names the file and the key
            raise BadInput(f"--price-catalog: {e}") from None
        usage = _load_usage(usage_file) if usage_file else UsageAssumptions()
        root = project_root()
        include_ops = False if exclude_operations else None
        # keyed by file, not by stack name: `estimate dev /tmp/alt/Pulumi.dev.yaml` names two stacks "dev"
        loaded = {ref.path.resolve(): load_stack(ref) for ref in refs}  # every file checked before any program runs
        # and every apiComparison entry resolved: a bad one is exit 2 before minutes of program runs
        priced = {where: api_offers(root, spec, when, no_cache) for where, (spec, _) in loaded.items()}
        inventories = cache.inventories_for(root, [(ref.name, ref.path, loaded[ref.path.resolve()][1]) for ref in refs],
                                            no_cache=no_cache)
        docs = []
        for ref in refs:
            prepared = prepare_stack(ref, root, when, no_cache=no_cache, include_operations=include_ops,
                                     inventory=inventories[ref.path.resolve()][0], loaded=loaded[ref.path.resolve()],
                                     priced_offers=priced[ref.path.resolve()])
            doc = estimate_stack(ref, root, catalog, when, no_cache=no_cache, with_chart=fmt is Format.html,
                                 include_operations=include_ops, prepared=prepared, usage=usage)
            if old is not None:
                entry, why = _old_entry(old, doc)
                if entry is not None:
                    doc["comparison"] = contract.compare(doc, entry, str(compare_to))
                else:
                    doc["warnings"].append(f"--compare-to {compare_to} {why}")
            docs.append(doc)
        over = [d["stack"] for d in docs if d["budget"] and d["budget"]["overBudget"]]
        if fail_over_budget:
            missing = [d["stack"] for d in docs if d["budget"] is None]
            if missing:
                raise BadInput(f"--fail-over-budget: stack(s) {', '.join(missing)} have no budget.monthlyUsd")
        text = render(docs, fmt, terminal=out is None and sys.stdout.isatty())
    except (UsageError, BadInput, SpecError) as e:
        raise bad_input(err, e) from None
    finally:
        print_cache_warnings(err)
    if out:
        try:
            write_out(out, text)
        except BadInput as e:
            say(err, "[red]error:[/red] {}", e)
            raise typer.Exit(2)
        say(err, "wrote {}", out)
    else:
        typer.echo(text, nl=False)
    if fail_over_budget and over:
        say(err, "[red]over budget:[/red] {} (expected total above budget.monthlyUsd)", ", ".join(over))
        raise typer.Exit(1)
