"""The estimate contract (docs/estimate.md): one plain dict per stack that every output format renders;
`--format json` wraps them in the versioned envelope of `cli/estimate/contract.py`, whose models also parse
a saved estimate. Line items arrive rounded to cents (`cli/estimate/line_item.py`); categories and totals
are their sums, so they add up exactly."""

from __future__ import annotations

import math
from decimal import Decimal

from cli.estimate import CATEGORIES, STALE_AFTER_DAYS, USAGE_KEYS, LineItem, StackEstimate, q
from cli.render.documents import SPLIT_BASES, cost_basis


def usd(value: Decimal) -> float:
    return float(q(value))


def money_text(value: Decimal) -> str:
    return f"${q(value):,}"


def _num(value: Decimal | float, places: int = 6) -> float:
    return round(float(value), places)


def line_item_document(li: LineItem) -> dict:
    """One line item as the contract writes it."""
    return {
        "region": li.region,
        "resource": li.resource,
        "category": li.category,
        "description": li.description,
        "unit": li.unit,
        "quantity": _num(li.quantity, 4),
        "unitPriceUsd": _num(li.unit_price, 6),
        "monthlyUsd": usd(li.monthly),
        "monthlyUsdMin": usd(li.monthly_min),
        "monthlyUsdMax": usd(li.monthly_max),
        "usageBased": li.usage_based,
        "priceSource": li.price_source,
    }


def chart_points(est: StackEstimate, total_at) -> dict:
    """Monthly cost vs requests/month for the break-even chart: self-hosted (fleet grown with traffic,
    capped at maxNodes) and each API offer, on a log grid around the stack's traffic and break-evens."""
    current = max(est.spec.traffic.requests_per_month, 1000)
    marks = [current] + [b.requests_per_month for b in est.break_even if b.requests_per_month]
    lo = 10 ** math.floor(math.log10(max(1000, min(marks) / 10)))
    hi = 10 ** math.ceil(math.log10(max(marks) * 3))
    steps = int(round(math.log10(hi / lo) * 6))
    grid = [lo * (hi / lo) ** (i / steps) for i in range(steps + 1)]
    servable = est.max_servable_requests
    self_hosted = [usd(total_at(r, False)) if r <= servable else None for r in grid]
    lifted = [usd(total_at(r, True)) if r >= servable else None for r in grid]
    return {
        "requestsPerMonth": [round(r) for r in grid],
        "selfHostedUsd": self_hosted,
        "selfHostedMaxNodesLiftedUsd": lifted,
        "maxServableRequestsPerMonth": round(servable),
        "apiUsd": {o.name: [usd(o.monthly_usd(r)) for r in grid] for o in est.offers},
    }


def stack_contract(est: StackEstimate, chart: dict | None = None) -> dict:
    spec = est.spec
    t = spec.traffic
    include_ops = spec.operations.include
    tokens = Decimal(est.tokens_per_month)
    per_m = (lambda usd_: _num(usd_ * 1_000_000 / tokens, 4)) if tokens else (lambda usd_: None)

    categories = {}
    for cat in CATEGORIES:
        items = [li for li in est.line_items if li.category == cat]
        if items:
            categories[cat] = {k: usd(sum((getattr(li, a) for li in items), Decimal(0)))
                               for k, a in (("min", "monthly_min"), ("expected", "monthly"), ("max", "monthly_max"))}
    ops = sum((li.monthly for li in est.line_items if li.category == "operations"), Decimal(0))
    expected = est.total("monthly")
    # the band's totals are pure self-hosted ones: with a gateway the line items are the split's (hybrid block)
    band_totals = list(est.throughput_band.values()) if est.throughput_band and est.hybrid is None else []
    capacity = []
    for plan in est.capacity:
        for pool_plan in plan.pools:
            th = plan.throughput[pool_plan.pool.name]
            capacity.append({
                "region": plan.region,
                "pool": pool_plan.pool.name,
                "instanceType": pool_plan.pool.instance_type,
                "gpu": th.gpu,
                "tensorParallel": th.tensor_parallel,
                "trafficShare": round(plan.traffic_share, 4),
                "averageOutputTokensPerSecond": round(plan.average_output_tokens_per_second, 1),
                "outputTokensPerSecondPerReplica": round(th.planning_tokens_per_second, 1),
                "saturatedOutputTokensPerSecond": round(th.saturated_tokens_per_second, 1),
                "saturatedOutputTokensPerSecondLow": round(th.saturated_low_tokens_per_second, 1),
                "saturatedOutputTokensPerSecondHigh": round(th.saturated_high_tokens_per_second, 1),
                "predictedOutputTokensPerSecond": round(th.predicted_tokens_per_second, 1),
                "throughputBasis": "measured" if th.measured else "predicted",
                "measuredSource": th.measured_source,
                "rooflineOutputTokensPerSecond": round(th.roofline_tokens_per_second, 1),
                "latencyBoundOutputTokensPerSecond": None if th.latency_bound_tokens_per_second is None
                else round(th.latency_bound_tokens_per_second, 1),
                "replicasAtAverage": plan.replicas_at_average,
                "replicasAtPeak": plan.replicas_at_peak,
                "minReplicas": plan.min_replicas,
                "maxReplicas": plan.max_replicas,
                "expectedNodes": round(pool_plan.expected_nodes, 2),
                "minNodes": pool_plan.pool.min_nodes,
                "maxNodes": pool_plan.pool.max_nodes,
                "queuedShare": round(plan.queued_share, 4),
                **({"overflowShare": round(est.hybrid.configured.overflow.get(plan.region, 0.0), 4)}
                   if est.hybrid is not None else {}),
                "source": th.source,
            })
    compared_basis = ("fleet grown for the traffic (maxNodes/maxReplicas cannot carry it; the configured fleet's total "
                      f"is {money_text(expected)})" if est.grown_expected is not None else "self-hosted expected total")
    if est.hybrid is not None:
        compared_basis = "pure self-hosted: every gateway route's traffic on the fleet, grown for it"
    budget = None
    if spec.budget:
        limit = Decimal(str(spec.budget.monthly_usd))
        # judged on the one cost every headline and total row shows (documents.cost_basis): the compared self-hosted
        # cost (the grown fleet where maxNodes cannot carry it; with a gateway and a `self-host` verdict, pure
        # self-hosted), or with a gateway the split as configured (fleet, gateway and API spend)
        basis = cost_basis(est.verdict.choice, est.hybrid is not None)
        judged = est.hybrid.configured.total if basis in SPLIT_BASES else est.compared_expected
        judged_basis = {
            "self-hosted": compared_basis, "hybrid": "split as configured: fleet, gateway and API spend",
            "split as configured": (f"split as configured: what this stack deploys (fleet, gateway and API spend); the "
                                    f"`{est.verdict.choice}` verdict runs no fleet of it, and no stack deploys pure API"),
        }[basis]
        budget = {"monthlyUsd": usd(limit), "expectedUsd": usd(judged), "overBudget": judged > limit,
                  "headroomUsd": usd(limit - judged),
                  "basis": judged_basis}
    out = {
        "stack": est.stack,
        "stackFile": est.stack_file,
        "asOf": est.as_of.isoformat(),
        "priceCatalog": {
            "source": est.catalog.source,
            "retrievedOn": est.catalog.retrieved_on,
            "oldestPriceUsed": est.prices_date or est.catalog.retrieved_on,
            "oldestPriceItem": est.oldest_price_item,
            "instancePricesAsOf": est.instance_prices_date or est.catalog.retrieved_on,
            "refreshedBy": est.catalog.data.get("refreshedBy", "seed"),
            "ageDays": est.catalog_age_days,
            "stale": est.catalog_age_days > STALE_AFTER_DAYS,
        },
        "apiPrices": {"source": est.api_source},
        "usageAssumptions": {key: getattr(est.usage, attr) for key, attr in USAGE_KEYS.items()},
        "traffic": {
            "requestsPerMonth": t.requests_per_month,
            "inputTokensPerRequest": t.input_tokens_per_request,
            "outputTokensPerRequest": t.output_tokens_per_request,
            "tokensPerMonth": est.tokens_per_month,
            "peakToAverage": t.peak_to_average,
            "tpotTargetMs": t.tpot_target_ms,
        },
        "lineItems": [line_item_document(li) for li in est.line_items],
        "categories": categories,
        "selfHosted": {
            # min/max also hold the compared cost at either end of the throughput band (docs/capacity.md)
            "monthlyUsd": {"min": usd(min([est.total("monthly_min")] + band_totals)), "expected": usd(expected),
                           "max": usd(max([est.total("monthly_max")] + band_totals))},
            "throughputBand": None if est.throughput_band is None else {
                "comparedMonthlyUsdAtLowThroughput": usd(est.throughput_band["low"]),
                "comparedMonthlyUsdAtHighThroughput": usd(est.throughput_band["high"]),
                "basis": "every replica at saturatedOutputTokensPerSecondLow / High (the error band of "
                         "docs/capacity.md; a pool's measuredOutputTokensPerSecond does not move)",
            },
            "operationsIncluded": include_ops,
            "operationsMonthlyUsd": usd(ops),
            "infrastructureMonthlyUsd": {"min": usd(est.total("monthly_min", False)), "expected": usd(est.total("monthly", False)),
                                         "max": usd(est.total("monthly_max", False))},
            "perMillionTokensUsd": per_m(expected),
            # the one cost shown in every headline and compared by the verdict and the budget
            "comparedMonthlyUsd": usd(est.compared_expected),
            "comparedPerMillionTokensUsd": per_m(est.compared_expected),
            "comparedBasis": compared_basis,
        },
        "api": [{
            "offer": o.name,
            "provider": o.provider,
            "model": o.model,
            "inputPerMTokUsd": _num(o.input_per_mtok_usd),
            "outputPerMTokUsd": _num(o.output_per_mtok_usd),
            "requestUsd": _num(o.request_usd, 8),
            "monthlyUsd": usd(o.monthly_usd(t.requests_per_month)),
            "perMillionTokensUsd": per_m(o.monthly_usd(t.requests_per_month)),
            "source": o.source,
            "note": o.tiers,
        } for o in est.offers],
        "capacity": capacity,
        "quotas": {region: [need.document() for need in needs] for region, needs in est.quotas.items()},
        "maxServableRequestsPerMonth": round(est.max_servable_requests),
        "breakEvenRequestsPerMonth": {b.offer: {"requestsPerMonth": b.requests_per_month, "withinMaxNodes": b.within_max_nodes,
                                                "note": b.note} for b in est.break_even},
        "verdict": {"choice": est.verdict.choice, "reasons": est.verdict.reasons, "decidedBy": est.verdict.decided_by,
                    "constraint": est.verdict.constraint, "onCostAlone": est.verdict.on_cost_alone},
        "defaultsUsed": [{"key": k, "value": v} for k, v in est.defaults_used],
        "budget": budget,
        "noCostResources": [{"type": k, "count": n, "reason": why} for k, (n, why) in sorted(est.no_cost.items())],
        "unpricedResources": [{"type": t_, "name": n, "region": r} for t_, n, r in est.unpriced],
        "warnings": est.warnings,
    }
    if est.hybrid is not None:
        out["hybrid"] = hybrid_document(est)
    if chart is not None:
        out["chart"] = chart
    return out


def _split_routes(split) -> list[dict]:
    return [{
        "route": rs.route.name,
        "share": rs.route.share,
        "servedBy": rs.route.served_by,
        "overflowTo": rs.route.overflow_to,
        "fallbackTo": list(rs.route.fallback_to),
        "dataClass": rs.route.data_class,
        "monthlyUsd": usd(rs.monthly),
        "apiShare": _num(rs.api_total / rs.requests, 4) if rs.requests else 0.0,
        "queuedRequests": round(float(rs.queued_requests)),
        "failedRequests": round(float(rs.failed_requests)),
    } for rs in split.routes]


def hybrid_document(est: StackEstimate) -> dict:
    """The `hybrid` block of a stack with a gateway (cli/estimate/hybrid.py, docs/hybrid.md)."""
    h = est.hybrid
    low, expected, high = h.monthly_range
    from cli.estimate.hybrid import PATTERNS

    return {
        "monthlyUsd": {"min": usd(low), "expected": usd(expected), "max": usd(high)},
        "apiShare": _num(h.configured.api_share, 4),
        "apiMonthlyUsd": usd(h.configured.api_monthly),
        "routes": _split_routes(h.configured),
        "configuredFleet": {"maxReplicasByRegion": h.configured.caps},
        "optimalFleet": {"maxReplicasByRegion": h.optimal.caps, "monthlyUsd": usd(h.optimal.total),
                         "apiShare": _num(h.optimal.api_share, 4), "apiMonthlyUsd": usd(h.optimal.api_monthly)},
        "searchRange": {region: {"lowest": lo, "highest": hi} for region, (lo, hi) in h.ranges.items()},
        "costCurve": [{"maxReplicas": p.max_replicas, "maxReplicasByRegion": p.caps, "monthlyUsd": usd(p.monthly),
                       "apiShare": _num(p.api_share, 4)} for p in h.curve],
        "pureSelfHostedMonthlyUsd": usd(h.pure_self_hosted),
        "pureApiMonthlyUsd": None if h.pure_api is None else usd(h.pure_api),
        "pureApiOffers": h.pure_api_offers,
        "pureApiAllowed": not h.restricted,
        "expectedUnavailability": h.unavailability,
        "expectedUnavailabilityAssumed": h.unavailability_assumed,
        "patterns": [PATTERNS[p] for p in h.patterns],
        "basis": ("fleet sized per 15-minute slot for the self-hosted routes; overflow above the cap to overflowTo, "
                  "fallback = expectedUnavailability x the fleet's requests to the first fallbackTo, API-served routes "
                  "at their offers; gateway pods as a share of a system node; docs/hybrid.md"),
    }


def compare(new: dict, old: dict, against: str) -> dict:
    """The change against a saved estimate's stack: `cli.estimate.diff.compare`, the one `diff` shows."""
    from cli.estimate.diff import compare as change

    return change(new, old, against)
