"""The estimate (Infracost's layering): planned resources -> priced records (`mapping.py`, `records.py`) ->
cost components, one module per record kind (`costs/`), against one PriceBook (`prices.py`) and the usage
assumptions (`usage.py`) -> line items (`line_item.py`) -> totals, break-even and verdict (`decision.py`) ->
one StackEstimate (`result.py`), rendered into the JSON contract (`contract.py`, `cli/render/contract.py`).

This module only orchestrates. Pure: takes the spec, the planned resources and the catalogs; the command
(`cli/commands/estimate.py`) finds, caches and renders. A record the catalog cannot price raises `MissingPrice`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from cli import quotas
from cli.estimate import mapping
from cli.estimate.costs import CostModel
from cli.estimate.costs.log_group import NEVER_EXPIRE_DAYS_PRICED
from cli.estimate.decision import (
    ARTICLE_VOLUME_RULE, HYBRID_BAND, NO_OFFER, BreakEven, Verdict, break_even, max_servable_requests, verdict,
)
from cli.estimate.errors import EstimateError
from cli.estimate.line_item import CATEGORIES, CENT, GB, HOURS, LineItem, Range, q
from cli.estimate.prices import PriceBook
from cli.estimate.records import NodeGroup
from cli.estimate.result import STALE_AFTER_DAYS, StackEstimate
from cli.estimate.usage import PRICED_DEFAULTS, USAGE_KEYS, UsageAssumptions, defaults_used, usage_from
from cli.pricing.api import ApiOffer
from infra.price_catalog import PriceCatalog
from infra.spec import StackSpec
from infra.spec.warning_ids import acknowledged

__all__ = [  # what other modules and tests import from here (the names moved into the package's modules)
    "ARTICLE_VOLUME_RULE", "CATEGORIES", "CENT", "GB", "HOURS", "HYBRID_BAND", "NEVER_EXPIRE_DAYS_PRICED", "NO_OFFER",
    "PRICED_DEFAULTS", "STALE_AFTER_DAYS", "USAGE_KEYS", "BreakEven", "CostModel", "EstimateError", "LineItem",
    "PriceBook", "Range", "StackEstimate", "UsageAssumptions", "Verdict", "break_even", "defaults_used", "estimate",
    "max_servable_requests", "q", "throughput_band", "usage_from", "verdict",
]


def estimate(stack: str, stack_file: str, spec: StackSpec, resources: Iterable[mapping.Resource], catalog: PriceCatalog,
             offers: list[ApiOffer], *, as_of: date, api_source: str,
             usage: UsageAssumptions | None = None) -> StackEstimate:
    usage = UsageAssumptions() if usage is None else usage
    mapped = mapping.classify(resources)
    costing = CostModel(spec, [record for m in mapped for record in m.records], catalog, as_of, usage)
    include_ops = spec.operations.include
    totals: dict[tuple[float, bool], Decimal] = {}

    def total_at(requests: float, unbounded: bool) -> Decimal:
        key = (requests, unbounded)
        if key not in totals:
            totals[key] = costing.total(requests, unbounded=unbounded, include_operations=include_ops)
        return totals[key]

    servable = max_servable_requests(spec)
    floor = total_at(0, False) if offers else None  # the cost at no traffic: below it no volume breaks even
    breaks = [break_even(total_at, o, servable, floor) for o in offers]
    items, plans = costing.run(spec.traffic.requests_per_month)
    warnings = list(costing.warnings) + costing.book.proxy_warning()
    from infra.spec.checks import deploy_gate  # keys left out that change no price but block `pulumi up`

    from infra.spec.checks import chart_limits

    warnings += [f"priced, but not deployable as is: {problem} (`tradeoff-infra validate` checks it)"
                 for problem in deploy_gate(spec) + chart_limits(spec)]
    for plan in plans:
        warnings.extend(plan.warnings)

    no_cost: dict[str, tuple[int, str]] = {}
    unpriced = []
    for m in mapped:
        if m.unknown:
            unpriced.append((m.resource.type, m.resource.name, m.resource.region))
        elif m.no_cost and not m.records:
            count, why = no_cost.get(m.resource.type, (0, m.no_cost))
            no_cost[m.resource.type] = (count + 1, why)
    if unpriced:
        warnings.append(f"{len(unpriced)} resource(s) of types the estimate does not know are NOT priced: "
                        + ", ".join(sorted({t for t, _, _ in unpriced})))
    age = (as_of - date.fromisoformat(catalog.retrieved_on)).days
    if age < 0:
        warnings.append(f"--as-of {as_of} is before the price catalog's date ({catalog.retrieved_on}): these prices "
                        "were not known then; an estimate as of that date needs a catalog from then")
    instance_date = min([catalog.retrieved_on] + [p.age_date for p in costing.book.instances_used.values()])
    # the age counts every price the stack uses: a platform price (NAT, ALB, EBS, ...) older than every instance
    # price is the oldest one, and is named
    platform = costing.book.oldest_platform()
    oldest_item = platform[1] if platform is not None and platform[0] < instance_date else None
    prices_date = platform[0] if oldest_item is not None else instance_date
    older = sorted(k for k, p in costing.book.instances_used.items() if p.age_date < catalog.retrieved_on)
    if older:
        undated = sorted({f"{p.source} (undated snapshot, after {p.after})" for p in costing.book.instances_used.values()
                          if p.date is None})
        warnings.append(f"instance prices for {', '.join(older)} are older than the catalog's {catalog.retrieved_on}"
                        f"{': ' + ', '.join(undated) if undated else ''}; this estimate's price age counts from "
                        f"{prices_date}")
    used_age = (as_of - date.fromisoformat(prices_date)).days
    if used_age > STALE_AFTER_DAYS:
        oldest_what = f"{prices_date}, {oldest_item}" if oldest_item else prices_date
        warnings.append(f"the price catalog is {used_age} days old for this stack (oldest price used: {oldest_what}; "
                        f"catalog retrievedOn {catalog.retrieved_on}; older than {STALE_AFTER_DAYS} days): run "
                        "`tradeoff-infra prices refresh` (reads the public AWS bulk offer files, no credentials needed)")
    self_expected = sum((li.monthly for li in items if include_ops or li.category != "operations"), Decimal(0))
    queued = {p.region: p.queued_share for p in plans if p.queued_share > 0}
    # a fleet that cannot carry the traffic is not a price for it: compare the fleet grown for it
    grown = total_at(spec.traffic.requests_per_month, True) if queued else None
    ops_excluded = None if include_ops else sum((li.monthly for li in items if li.category == "operations"), Decimal(0))
    band = throughput_band(costing, spec.traffic.requests_per_month, unbounded=bool(queued), include_ops=include_ops)
    decision = verdict(spec, grown if grown is not None else self_expected, offers, breaks, queued=queued,
                       capped_expected=self_expected, operations_excluded_usd=ops_excluded)
    split = None
    missing = sorted(set(spec.gateway.api_offers()) - {o.name for o in offers}) if spec.gateway is not None else []
    if missing:  # priced without the gateway's offers (a caller that passes none): the fleet alone, and say so
        warnings.append(f"the gateway split is not priced: its offers {', '.join(missing)} were not resolved; the "
                        "line items are every route's traffic on the fleet")
    elif spec.gateway is not None:  # the split the gateway runs replaces the all-on-the-fleet line items (docs/hybrid.md)
        from cli.estimate.hybrid import estimate_hybrid, hybrid_verdict

        split = estimate_hybrid(spec, costing, offers, grown if grown is not None else self_expected)
        items, plans = split.configured.line_items, split.configured.plans
        decision = hybrid_verdict(spec, decision, split)
        # the fleet carries the self-hosted routes only: its queue warnings are the split's own (overflow is not a queue)
        warnings = [w for w in warnings if "of the month's tokens would queue" not in w]
        warnings += [w for p in plans for w in p.warnings if "of the month's tokens would queue" not in w]
        warnings += list(costing.warnings) + split.warnings
    node_groups = [record for m in mapped for record in m.records if isinstance(record, NodeGroup)]
    result = StackEstimate(
        total_at=total_at, usage=usage, grown_expected=grown, prices_date=prices_date, throughput_band=band,
        instance_prices_date=instance_date, oldest_price_item=oldest_item,
        stack=stack, stack_file=stack_file, as_of=as_of, catalog=catalog, spec=spec, line_items=items,
        capacity=plans, offers=offers, break_even=breaks, verdict=decision,
        max_servable_requests=servable, no_cost=no_cost, unpriced=unpriced,
        warnings=acknowledged(_unique(warnings), spec.acknowledged_warnings),
        api_source=api_source, defaults_used=defaults_used(spec, usage), hybrid=split,
        quotas=quotas.needs(quotas.from_records(node_groups, spec)),
    )
    return result


def throughput_band(costing: CostModel, requests: float, *, unbounded: bool, include_ops: bool) -> dict[str, Decimal]:
    """The compared self-hosted total with every replica at the low and at the high end of its throughput
    band (capacity.ReplicaThroughput.at_band): low throughput needs more nodes, so it is the dearer end."""
    out = {}
    for end in ("low", "high"):
        cache = {key: th.at_band(end) for key, th in costing.throughput.items()}
        lines, _ = costing.run(requests, unbounded=unbounded, throughput_cache=cache)
        out[end] = sum((li.monthly for li in lines if include_ops or li.category != "operations"), Decimal(0))
    return out


def _unique(items: list[str]) -> list[str]:
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
