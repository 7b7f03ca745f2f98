"""`actuals`: what a stack's fleet really cost and served over a window, beside what its estimate predicted.

Pure: takes the region measurements (`prometheus_queries.measure`), the stack's spec, its estimate (the contract
document `estimate --format json` prints) and the price catalog; returns the `actuals` JSON document and the
calibration (measured output tokens/s per replica, per pool) that `estimate --calibration` reads.

Cost basis (llm-d/llm-d#1646: only reserved cost per token may be set against an API's price): every GPU node-hour
the fleet ran, busy or idle, at the catalog's price for its instance and capacity type, plus every other line item
of the estimate as predicted (control plane, system nodes, NAT, load balancer, storage, monitoring, transfer,
operations: not measured here). A window's totals are scaled to the estimate's 730-hour month.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from cli.estimate.line_item import HOURS, q
from cli.estimate.prices import PriceBook
from cli.live.prometheus_queries import PERCENTILES, RegionMeasurement
from infra.conventions import EKS_CAPACITY_TYPES, NODE_CAPACITY_TYPES
from infra.price_catalog import MissingPrice
from infra.spec import GpuPoolSpec, StackSpec

GPU_CATEGORY = "gpu-compute"
MILLION = Decimal(1_000_000)


def _usd(value: Decimal) -> float:
    return float(q(value))


def _error(actual: Decimal, predicted: Decimal) -> float | None:
    return None if predicted == 0 else round(float((actual - predicted) / predicted * 100), 2)


def _pool(spec: StackSpec, region: str, pool: str) -> GpuPoolSpec | None:
    for r in spec.regions:
        if r.region == region:
            return next((p for p in r.gpu_pools if p.name == pool), None)
    return None


def capacity_type(spec: StackSpec, region: str, pool: str, eks_label: str) -> str:
    """The catalog's capacity type for a node: its pool's (a reserved-1y pool's nodes say ON_DEMAND) when the label
    agrees with the pool, else what EKS's label says."""
    p = _pool(spec, region, pool)
    if p is not None and EKS_CAPACITY_TYPES[p.capacity_type] == eks_label:
        return p.capacity_type
    return NODE_CAPACITY_TYPES.get(eks_label, "on-demand")


def node_cost(book: PriceBook, region: str, instance_type: str, capacity: str, hours: Decimal, window_hours: Decimal,
              reserved_nodes: int) -> tuple[Decimal, dict]:
    """The window's cost of `hours` node-hours and how it was priced. A reserved-1y pool bills as the estimate does
    (`cli/estimate/costs/node_group.py`): its minNodes at the reserved rate for every hour of the window, used or
    not, and the node-hours above them on demand (counted over the window, not hour by hour)."""
    if capacity != "reserved-1y":
        price = book.instance(region, instance_type, capacity)
        return hours * price.usd_per_hour, {"usdPerHour": float(price.usd_per_hour)}
    reserved = book.instance(region, instance_type, "reserved-1y").usd_per_hour
    on_demand = book.instance(region, instance_type, "on-demand").usd_per_hour
    held = Decimal(reserved_nodes) * window_hours
    above = max(Decimal(0), hours - held)
    return held * reserved + above * on_demand, {
        "usdPerHour": float(reserved), "reservedNodeHours": round(float(held), 4),
        "onDemandNodeHours": round(float(above), 4), "onDemandUsdPerHour": float(on_demand)}


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def region_document(m: RegionMeasurement) -> dict:
    hours: dict[str, float] = {}
    for (it, ct, _pool), h in sorted(m.node_hours.items()):
        key = f"{it or 'unknown'}/{ct or 'unknown'}"
        hours[key] = round(hours.get(key, 0.0) + h, 4)
    gw = m.gateway
    return {
        "region": m.region,
        "requests": round(m.requests),
        "inputTokens": round(m.input_tokens),
        "outputTokens": round(m.output_tokens),
        "gpuNodeHours": hours,
        "gpuUtilisation": None if m.gpu_utilisation is None else round(m.gpu_utilisation, 4),
        "ttftMs": {f"p{round(p * 100)}": _pct(m.ttft_seconds.get(p)) for p in PERCENTILES},
        "tpotMs": {f"p{round(p * 100)}": _pct(m.tpot_seconds.get(p)) for p in PERCENTILES},
        "gateway": None if gw is None else {
            "requests": round(gw["requests"]), "apiRequests": round(gw["apiRequests"]),
            "apiShare": round(gw["apiRequests"] / gw["requests"], 4) if gw["requests"] else None,
            "spendUsd": _usd(Decimal(str(gw["spendUsd"]))),
        },
    }


def observed_traffic(measurements: list[RegionMeasurement], since: datetime, until: datetime) -> dict | None:
    """The window's traffic as the stack file's `traffic` keys (per month, tokens per request); None without requests."""
    requests = sum(m.requests for m in measurements)
    if requests <= 0:
        return None
    hours = (until - since).total_seconds() / 3600
    return {"requests_per_month": round(requests * float(HOURS) / hours),
            "input_tokens_per_request": round(sum(m.input_tokens for m in measurements) / requests),
            "output_tokens_per_request": max(1, round(sum(m.output_tokens for m in measurements) / requests))}


def _compared(predicted: dict, gpu_month: Decimal) -> tuple[Decimal, Decimal, dict]:
    """(the estimate's total, the actual total on its basis, per category) for one estimate document."""
    categories = predicted.get("categories", {})
    predicted_total = Decimal(str(predicted["selfHosted"]["monthlyUsd"]["expected"]))
    predicted_gpu = Decimal(str(categories.get(GPU_CATEGORY, {}).get("expected", 0)))
    include_ops = predicted["selfHosted"].get("operationsIncluded", True)
    actual_total = q(predicted_total - predicted_gpu + gpu_month)
    per_category = {}
    for cat, amounts in categories.items():
        if cat == "operations" and not include_ops:
            continue
        expected = Decimal(str(amounts["expected"]))
        actual = q(gpu_month) if cat == GPU_CATEGORY else expected
        per_category[cat] = {"predictedUsd": _usd(expected), "actualUsd": _usd(actual),
                             "errorPercent": _error(actual, expected), "measured": cat == GPU_CATEGORY}
    if GPU_CATEGORY not in per_category:
        per_category[GPU_CATEGORY] = {"predictedUsd": 0.0, "actualUsd": _usd(gpu_month), "errorPercent": None,
                                      "measured": True}
    return predicted_total, actual_total, per_category


def actuals_document(stack: str, spec: StackSpec, estimate: dict, measurements: list[RegionMeasurement],
                     book: PriceBook, since: datetime, until: datetime,
                     at_observed: dict | None = None) -> tuple[dict, list[str]]:
    """The stack's `actuals` entry and its warnings. `at_observed`: the stack's estimate re-run for the traffic the
    window saw (`observed_traffic`), so the error separates the capacity model's from the traffic forecast's."""
    warnings = [f"{m.region}: {w}" for m in measurements for w in m.warnings]
    window_hours = Decimal(str((until - since).total_seconds())) / 3600
    to_month = HOURS / window_hours
    gpu_window = Decimal(0)
    priced: list[dict] = []
    for m in measurements:
        for (it, eks_ct, pool), h in sorted(m.node_hours.items()):
            if not it or not eks_ct:
                continue
            ct = capacity_type(spec, m.region, pool, eks_ct)
            held = _pool(spec, m.region, pool).min_nodes if ct == "reserved-1y" else 0
            try:
                cost, how = node_cost(book, m.region, it, ct, Decimal(str(h)), window_hours, held)
            except MissingPrice as err:
                warnings.append(f"{m.region}: {h:,.2f} node-hours of {it} ({ct}) are not priced: {err}")
                continue
            gpu_window += cost
            priced.append({"region": m.region, "pool": pool, "instanceType": it, "capacityType": ct,
                           "nodeHours": round(h, 4), **how, "windowUsd": _usd(cost), "monthlyUsd": _usd(cost * to_month)})
    gpu_month = gpu_window * to_month
    predicted_total, actual_total, per_category = _compared(estimate, gpu_month)
    observed = None
    if at_observed is not None:
        total, actual, categories = _compared(at_observed, gpu_month)
        observed = {"requestsPerMonth": at_observed["traffic"]["requestsPerMonth"],
                    "inputTokensPerRequest": at_observed["traffic"]["inputTokensPerRequest"],
                    "outputTokensPerRequest": at_observed["traffic"]["outputTokensPerRequest"],
                    "monthlyUsd": _usd(total), "errorPercent": _error(actual, total), "categories": categories}
    inp = sum(Decimal(str(round(m.input_tokens))) for m in measurements)
    out = sum(Decimal(str(round(m.output_tokens))) for m in measurements)
    requests = sum(Decimal(str(round(m.requests))) for m in measurements)
    monthly_tokens = (inp + out) * to_month
    api = []
    for offer in estimate.get("api", []):
        cost = (inp * Decimal(str(offer["inputPerMTokUsd"])) + out * Decimal(str(offer["outputPerMTokUsd"]))) / MILLION
        api.append({"offer": offer["offer"], "monthlyUsd": _usd(cost * to_month), "windowUsd": _usd(cost),
                    "note": offer.get("note")})
    gateways = [m.gateway for m in measurements if m.gateway is not None]
    gateway = None
    if gateways:
        calls = sum(g["requests"] for g in gateways)
        spend = sum(Decimal(str(g["spendUsd"])) for g in gateways)
        # the hybrid's bill: the self-hosted fleet plus what the gateway spent on API calls (issue 14's hybrid
        # estimate is the prediction to set beside it)
        gateway = {"requests": round(calls), "apiShare": round(sum(g["apiRequests"] for g in gateways) / calls, 4) if calls else None,
                   "apiSpendUsd": _usd(spend), "apiSpendMonthlyUsd": _usd(spend * to_month),
                   "hybridMonthlyUsd": _usd(actual_total + q(spend * to_month)), "predicted": None}
        hybrid = estimate.get("hybrid")
        if hybrid:
            # a gateway stack's estimate: `selfHosted` is the split's self-hosted side (what actual_total re-prices
            # with the measured GPU hours) and `hybrid` the whole split; the API spend is the gateway's own count
            hybrid_usd = Decimal(str(hybrid["monthlyUsd"]["expected"]))
            api_usd = Decimal(str(hybrid.get("apiMonthlyUsd", 0)))
            actual_hybrid = actual_total + q(spend * to_month)
            gateway["predicted"] = {
                "hybridMonthlyUsd": _usd(hybrid_usd), "apiShare": hybrid["apiShare"], "apiMonthlyUsd": _usd(api_usd),
                "hybridErrorPercent": _error(actual_hybrid, hybrid_usd),
                "apiSpendErrorPercent": _error(q(spend * to_month), api_usd)}
            if "api" in per_category:  # measured by the gateway, not taken from the estimate
                per_category["api"].update(actualUsd=_usd(spend * to_month), measured=True,
                                           errorPercent=_error(q(spend * to_month), api_usd))
    doc = {
        "stack": stack,
        "since": since.isoformat().replace("+00:00", "Z"),
        "until": until.isoformat().replace("+00:00", "Z"),
        "windowHours": round(float(window_hours), 4),
        "regions": [region_document(m) for m in measurements],
        "requestsPerMonth": round(float(requests * to_month)),
        "tokensPerMonth": round(float(monthly_tokens)),
        "gpuNodes": priced,
        "actualMonthlyUsd": _usd(actual_total),
        "gpuComputeMonthlyUsd": _usd(gpu_month),
        "perMillionTokensUsd": round(float(actual_total * MILLION / monthly_tokens), 4) if monthly_tokens else None,
        "costBasis": "reserved: every GPU node-hour at catalog prices, busy or idle, plus the estimate's other line "
                     "items as predicted (not measured)",
        "api": api,
        "gateway": gateway,
        "predicted": {
            "monthlyUsd": _usd(predicted_total),
            "errorPercent": _error(actual_total, predicted_total),
            "requestsPerMonth": estimate.get("traffic", {}).get("requestsPerMonth"),
            "categories": per_category,
            "atObservedTraffic": observed,
        },
    }
    return doc, warnings


def calibration_pools(spec: StackSpec, measurements: list[RegionMeasurement]) -> tuple[list[dict], list[str]]:
    """Per GPU pool that ran and served: output tokens/s one replica carried at the observed load (output tokens
    of the pool's pods / replica-hours, replicas = node-hours x replicas per node)."""
    pools, warnings = [], []
    for m in measurements:
        region = next((r for r in spec.regions if r.region == m.region), None)
        if region is None:
            continue
        for pool in region.gpu_pools:
            hours = sum(h for (_it, _ct, p), h in m.node_hours.items() if p == pool.name)
            tokens = m.pool_output_tokens.get(pool.name, 0.0)
            if hours <= 0 or tokens <= 0:
                warnings.append(f"{m.region}: pool {pool.name}: no node-hours or no output tokens in the window; "
                                "not calibrated")
                continue
            replica_hours = hours * spec.replicas_per_node(pool)
            pools.append({"region": m.region, "pool": pool.name, "instanceType": pool.instance_type,
                          "outputTokensPerSecondPerReplica": round(tokens / (replica_hours * 3600), 3),
                          "outputTokens": round(tokens), "replicaHours": round(replica_hours, 4)})
        if m.pool_output_tokens.get(""):
            warnings.append(f"{m.region}: {round(m.pool_output_tokens[''])} output tokens came from pods on no known "
                            "GPU pool node; left out of the calibration")
    return pools, warnings
