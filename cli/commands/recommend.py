"""`tradeoff-infra recommend STACK`: the cheapest fleets that carry the stack's traffic within its TPOT and TTFT
targets, its regions and its budget, priced as `estimate` prices them (`cli/recommend/`); `--write` applies the
cheapest to the stack file. Exit 0 ok (also when no option fits the budget: the table says so), 2 bad input."""

from __future__ import annotations

import difflib
import json
import pathlib
from enum import Enum
from typing import Annotated

import typer
from rich.console import Console

from cli import cache
from cli.capacity import CapacityError
from cli.errors import CliError, invalid_stack, print_warnings, reported
from cli.path_options import path_option
from cli.render.safe import say
from cli.stacks import (OneStackArgument, OneStackOption, StacksDirOption, load_catalog, load_stack, one_stack, project_root,
                        shown_arg)
from infra import hardware
from infra.price_catalog import MissingPrice
from infra.spec import SpecError, read_stack_text

app = typer.Typer(add_completion=False)

MAX_TOP = 50


class Format(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


EPILOG = """Examples:

  tradeoff-infra recommend prod-us
  tradeoff-infra recommend prod-us --format json --top 3
  tradeoff-infra recommend prod-us --capacity-types on-demand,reserved-1y --precision bf16
  tradeoff-infra recommend prod-us --capacity-types on-demand+spot,reserved-1y+spot
  tradeoff-infra recommend dev --instance-types g6.xlarge,g5.xlarge,g6e.xlarge --write

Exit codes: 0 ok (also when no fleet fits the budget: the output says so), 1 --write could not write the stack
file (a held lock, a failed write), 2 bad input (a stack, an option; --write with no feasible fleet)."""


def _items(option: str, text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    items = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not items:
        raise CliError(f"{option}: give at least one value (a comma-separated list)")
    return items


def _choose(option: str, text: str | None, allowed: list[str]) -> tuple[str, ...] | None:
    items = _items(option, text)
    for item in items or ():
        if item not in allowed:
            swapped = "+".join(reversed(item.split("+")))  # a spot share names its floor type first
            near = [swapped] if "+" in item and swapped in allowed else difflib.get_close_matches(item, allowed, n=1)
            hint = f"did you mean {near[0]}?" if near else f"one of {', '.join(allowed)}"
            raise CliError(f"{option}: {item!r} is not known; {hint}")
    return items


def _precisions(spec, text: str | None) -> tuple[str, ...] | None:
    from cli.recommend.search import PRECISIONS, searchable_precisions

    allowed = list(searchable_precisions(spec))
    for item in _items("--precision", text) or ():
        if item in PRECISIONS and item not in allowed:
            raise CliError(f"--precision: {item!r} cannot serve this stack's weights: model.quantization "
                           f"{allowed[0]} names a pre-quantized checkpoint (vLLM refuses another --quantization "
                           f"for it); search {allowed[0]}, or pin a {item} checkpoint with `tradeoff-infra model`")
    return _choose("--precision", text, allowed)


def _space(spec, instance_types, tensor_parallel, precision, capacity_types):
    from cli.recommend import Space
    from cli.recommend.search import CAPACITY_TYPES, TENSOR_PARALLEL

    tps = _items("--tensor-parallel", tensor_parallel)
    parsed = []
    for tp in tps or ():
        if not tp.isdigit() or int(tp) not in TENSOR_PARALLEL:
            raise CliError(f"--tensor-parallel: {tp!r} is not one of {', '.join(map(str, TENSOR_PARALLEL))}")
        parsed.append(int(tp))
    return Space(
        instance_types=_choose("--instance-types", instance_types, sorted(hardware.gpu_instance_types())),
        tensor_parallel=tuple(parsed) or TENSOR_PARALLEL,
        precisions=_precisions(spec, precision),
        capacity_types=_choose("--capacity-types", capacity_types, list(CAPACITY_TYPES)) or CAPACITY_TYPES,
    )


@app.command("recommend", epilog=EPILOG)
@reported()
def recommend_command(
    stack: OneStackArgument = None,
    stack_option: OneStackOption = None,
    stacks_dir: StacksDirOption = None,
    fmt: Annotated[Format, typer.Option("--format", help="table (default, plain text), json (the contract), "
                                                        "markdown (PR comment).")] = Format.table,
    top: Annotated[int, typer.Option("--top", metavar="N", help=f"How many fleets to list (1-{MAX_TOP}).")] = 5,
    write: Annotated[bool, typer.Option("--write", help="Apply the cheapest feasible fleet to the stack file "
                                                       "(comments and layout kept, as `model pin` edits).")] = False,
    instance_types: Annotated[str | None, typer.Option("--instance-types", metavar="LIST",
                                                       help="Only these GPU instance types (comma list).")] = None,
    tensor_parallel: Annotated[str | None, typer.Option("--tensor-parallel", metavar="LIST",
                                                        help="Only these tensorParallel values (comma list of 1,2,4,8).")] = None,
    precision: Annotated[str | None, typer.Option("--precision", metavar="LIST",
                                                  help="Only these precisions: bf16, fp8, or the stack's own (comma list).")] = None,
    capacity_types: Annotated[str | None, typer.Option("--capacity-types", metavar="LIST",
                                                       help=("Only these capacity types: on-demand, spot, reserved-1y, and the spot share: "
                                                             "on-demand+spot, reserved-1y+spot (a floor pool of that "
                                                             "type, a spot pool for the burst)."))] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Price as of this date, YYYY-MM-DD (default: today).")] = None,
    price_catalog: Annotated[pathlib.Path | None, path_option("--price-catalog",
                                                               help="Another AWS price catalog file (default: the checked-in one).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Run the winner's program again even if cached.")] = False,
    hybrid: Annotated[bool, typer.Option("--hybrid", help=(
        "Search the hybrid split for a stack without a gateway: one general route with the cheapest apiComparison "
        "offer as overflow above a fleet cap (a stack with a gateway is always searched so). Refused when "
        "constraints.dataMayLeaveNetwork is false."))] = False,
) -> None:
    """Search GPU type x tensorParallel x precision x capacity type x pool bounds per region for the cheapest fleets
    that meet the stack's TPOT/TTFT targets and budget; list them with $/1M tokens, latency and headroom."""
    from cli.recommend import recommend
    from cli.recommend.render import contract, markdown_report, table

    err = Console(stderr=True)
    try:
        if not 1 <= top <= MAX_TOP:
            raise CliError(f"--top {top}: give 1 to {MAX_TOP}")
        from cli.commands.estimate import _parse_date  # the estimate's own --as-of reader

        when = _parse_date(as_of)
        ref = one_stack(stack, stack_option, stacks_dir)
        try:
            loaded = load_stack(ref, deploy=False)
            text = read_stack_text(ref.path)
        except SpecError as e:
            raise invalid_stack(e) from None
        space = _space(loaded.spec, instance_types, tensor_parallel, precision, capacity_types)
        catalog = load_catalog(price_catalog)  # the one loader (cli/stacks.py): bad input names --price-catalog
        offers: list = []
        if hybrid or loaded.spec.gateway is not None:  # the split is priced at the stack's offers
            from cli.recommend.hybrid import HybridRefused, assumed_gateway
            from cli.stacks import api_offers

            offers = list(api_offers(project_root(), loaded.spec, when, no_cache)[0])
            if loaded.spec.gateway is None:
                try:
                    assumed_gateway(loaded.spec, offers)
                except HybridRefused as e:
                    raise CliError(str(e)) from None
                if write:
                    raise CliError("--write with --hybrid: the stack has no gateway block, so the written fleet (capped, "
                                   "its excess meant for an API) would queue; add the gateway (docs/hybrid.md) and run "
                                   "recommend again; nothing was written")
        try:
            rec = recommend(ref.name, ref.path, text, loaded.spec, catalog, when, root=project_root(), space=space,
                            top=top, no_cache=no_cache, offers=offers, hybrid=hybrid)
        except MissingPrice as e:
            raise CliError(f"{ref.name}: {e}") from None
        except CapacityError as e:
            raise CliError(f"{ref.name}: {e}") from None
        doc = contract(rec)
        if fmt is Format.json:
            out = json.dumps(doc, indent=2) + "\n"
        elif fmt is Format.markdown:
            out = markdown_report(doc)
        else:
            import sys

            from cli.render.width import output_width

            terminal = sys.stdout.isatty()
            out = table(doc, output_width(terminal), styles=terminal)  # the one width rule, also piped
        if write:
            _write(ref, rec, err)
    finally:
        print_warnings(cache.take_warnings())
    typer.echo(out, nl=False)


def _tell(err: Console, text: str) -> None:
    """A message of `--write` on stderr wrapped to the width of the terminal stderr is on (cli/render/width.py) with a
    hanging indent (cli/render/grid.py `hang`): a path, a key or an amount never split."""
    import sys

    from cli.render.grid import hang
    from cli.render.safe import clean
    from cli.render.width import output_width

    for line in hang(clean(text), output_width(sys.stderr.isatty(), fd=2)):
        say(err, "{}", line, soft_wrap=True)


def _write(ref, rec, err: Console) -> None:
    from cli.pins.edits import edit_stack
    from cli.recommend import fleet

    feasible = [o for o in rec.options if o.feasible]
    if not feasible:
        raise CliError("--write: no option is feasible (within budget.monthlyUsd and the targets); nothing was written")
    chosen = feasible[0]
    changes, changed = edit_stack(ref, lambda document, spec: fleet.apply(document, spec, chosen))
    if not changed:
        _tell(err, f"{shown_arg(ref)} already runs the recommended fleet; nothing was written")
        return
    _tell(err, f"wrote {ref.path}:")
    for change in changes:  # one a line (they ran together on one 400-column line)
        _tell(err, f"  {change}")
    expected = f"${chosen.monthly_usd - chosen.carried_usd:,.2f}"
    if chosen.carried_usd > 0.005:
        _tell(err, f"next: `tradeoff-infra estimate {shown_arg(ref)}` (expected {expected}: the recommended "
                   f"${chosen.monthly_usd:,.2f} less the ${chosen.carried_usd:,.2f} a month of the reservation the file "
                   "no longer names, billed until its term ends), then `pulumi up`")
        return
    if chosen.carried_usd < -0.005:
        _tell(err, f"next: `tradeoff-infra estimate {shown_arg(ref)}` (expected {expected}: the recommended "
                   f"${chosen.monthly_usd:,.2f} plus the ${-chosen.carried_usd:,.2f} a month the reservation the file "
                   "no longer names takes off its on-demand nodes until its term ends), then `pulumi up`")
        return
    _tell(err, f"next: `tradeoff-infra estimate {shown_arg(ref)}` (expected ${chosen.monthly_usd:,.2f}), then `pulumi up`")
