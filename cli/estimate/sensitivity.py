"""What flips the verdict (`estimate --sensitivity`) and how it moves as traffic grows (`estimate --growth`).

Every answer comes from the estimate's own models: the self-hosted side is the cost model (`CostModel.total`,
the fleet grown for the traffic where maxNodes cannot carry it, as the verdict compares it), the API side the
stack's offers, and the verdict `decision.decide`, the same rules in the same order. A flip point is where
`decide` gives another choice; it is found on a grid over the searched range, then refined by bisection to
`RELATIVE_STEP` (integers: to the next integer where that is finer), so the verdict at `checkedBelow` and at
`flipsAt` are both ones the search computed. Two flips closer together than a grid step can hide each other
(the self-hosted cost is a step function of the volume): the list is what the grid and the bisection saw.

Inputs (the contract's names): `requestsPerMonth`, `inputTokensPerRequest`, `outputTokensPerRequest`,
`engineerFte` (people cost), `gpuPriceFactor` (a multiplier on every GPU node's price: a spot discount or a
commitment; 0.6 = 40 % off) and `apiPriceFactor` (a multiplier on the cheapest API offer's prices).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from types import SimpleNamespace

from cli import capacity
from cli.estimate.costs import CostModel, operations
from cli.estimate.decision import NO_OFFER, decide
from cli.estimate.line_item import q
from cli.pricing.api import MILLION, ApiOffer

RELATIVE_STEP = 0.001
"""Flip points are refined to 0.1 %, as the break-even is (finer than any input's precision)."""
SWEEP_FACTORS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
"""The volume sweep: 1 % to 100x of the stack's requests a month."""
GRID_POINTS = 24
"""Points of the grid a flip search scans before it refines (log-spaced)."""
GPU_FACTOR_RANGE = (0.1, 3.0)
API_FACTOR_RANGE = (0.01, 100.0)
TOKEN_SPAN = 10
"""Tokens per request are searched from a tenth to ten times the stack's (within model.maxModelLen)."""
MAX_GROWTH_PERCENT = 1000.0
MAX_MONTHS = 120


@dataclass
class Probe:
    """What the searches need of one estimate: the stack, its cost model and its offers."""

    spec: object
    costing: CostModel
    offers: list[ApiOffer]
    records: list
    catalog: object
    as_of: object
    usage: object

    @property
    def include_ops(self) -> bool:
        return self.spec.operations.include


def probe_of(est, resources: Iterable) -> Probe:
    """A Probe for a StackEstimate (`cli.estimate.estimate`) and the resources it priced."""
    from cli.estimate import mapping

    records = [record for m in mapping.classify(resources) for record in m.records]
    costing = CostModel(est.spec, records, est.catalog, est.as_of, est.usage)
    return Probe(est.spec, costing, list(est.offers), records, est.catalog, est.as_of, est.usage)


# ---------------------------------------------------------------- the two sides at other inputs


def compared_total(costing: CostModel, spec, requests: float, include_ops: bool) -> Decimal:
    """The self-hosted monthly cost the verdict compares at `requests`: the fleet grown for the traffic
    when maxNodes/maxReplicas cannot carry it (a region would queue), else the configured fleet."""
    plans = capacity.plan(spec, requests, throughput_cache=costing.throughput)
    queued = any(p.queued_share > 0 for p in plans)
    return costing.total(requests, unbounded=queued, include_operations=include_ops)


def cheapest(offers: list[ApiOffer], requests: float) -> tuple[ApiOffer | None, Decimal | None]:
    """The offer the verdict compares (the first of equals, as `verdict` picks) and its monthly cost."""
    if not offers:
        return None, None
    best = min(offers, key=lambda o: o.monthly_usd(requests))
    return best, best.monthly_usd(requests)


def offers_for_tokens(offers: list[ApiOffer], spec, input_tokens: int, output_tokens: int) -> list[ApiOffer]:
    """The offers priced for another request size: base prices per token, scaled by what the stack's own
    price per request makes of them (the long-context tiers some offers have stay in that ratio)."""
    t = spec.traffic
    out = []
    for o in offers:
        base_now = (o.input_per_mtok_usd * t.input_tokens_per_request + o.output_per_mtok_usd * t.output_tokens_per_request)
        base = (o.input_per_mtok_usd * input_tokens + o.output_per_mtok_usd * output_tokens)
        ratio = (o.request_usd * MILLION / base_now) if base_now else Decimal(1)
        out.append(replace(o, request_usd=base * ratio / MILLION))
    return out


def with_traffic(spec, **changes):
    """The spec with traffic values replaced (pydantic copy: the values are in range, the search keeps them so)."""
    return spec.model_copy(update={"traffic": spec.traffic.model_copy(update=changes)})


def with_fte(spec, fte: float):
    return spec.model_copy(update={"operations": spec.operations.model_copy(update={"engineer_fte": fte})})


def operations_usd(spec) -> Decimal:
    """People cost a month for the spec's operations block (the operations line items' sum)."""
    return sum((li.monthly for li in operations.items(SimpleNamespace(spec=spec))), Decimal(0))


# ---------------------------------------------------------------- a gateway stack: the hybrid verdict


@dataclass
class HybridAt:
    """The cheapest split at some inputs (cli/estimate/hybrid.py `find_optimum`), pure API for the same traffic,
    and every split the search priced (for the GPU price factor: min over them of rest + GPU x factor)."""

    best: Decimal
    pure_api: Decimal | None
    tried: list


def hybrid_at(probe: Probe, requests: float | None = None, *, spec=None, costing=None, offers=None) -> HybridAt | None:
    """The hybrid side at another volume (or spec / cost model / offers); None for a stack without a gateway.
    Analytic: the split's price model only (about 2 ms per cap tried), no program run."""
    spec = spec or probe.spec
    if spec.gateway is None:
        return None
    from cli.estimate.hybrid import HybridModel, pure_api

    if requests is not None:
        spec = with_traffic(spec, requests_per_month=max(1, round(requests)))
    offers = probe.offers if offers is None else offers
    model = HybridModel(spec, costing or probe.costing, offers)
    optimal, _, _ = model.find_optimum()
    return HybridAt(optimal.total, pure_api(spec, offers)[0], list(model._splits.values()))


def choose(spec, self_cost: Decimal, api_cost: Decimal | None, h: HybridAt | None) -> str:
    """The estimate's verdict choice: `decide`, and for a stack with a gateway the hybrid rules on top of it
    (`hybrid.hybrid_choice`, as `hybrid_verdict` applies them)."""
    base = decide(spec, self_cost, api_cost)[0]
    if h is None:
        return base
    from cli.estimate.hybrid import hybrid_choice

    restricted = any(r.data_class == "restricted" for r in spec.gateway.routes)
    return hybrid_choice(spec, base, h.best, self_cost, h.pure_api, restricted)


# ---------------------------------------------------------------- the search


@dataclass
class FlipPoint:
    at: float
    checked_below: float
    below: str
    above: str


def _refine(choice: Callable[[float], str], lo: float, hi: float, c_lo: str, integer: bool,
            absolute: float = 0.0) -> tuple[float, float, str]:
    """Bisect [lo, hi] (choice(lo) = c_lo != choice(hi)) to the first change seen: (below, at, choice at `at`)."""
    c_hi = choice(hi)
    while True:
        if integer:
            if hi - lo <= max(1, lo * RELATIVE_STEP):
                break
            mid = math.floor(math.sqrt(lo * hi)) if lo > 0 else (lo + hi) // 2
            mid = min(max(mid, lo + 1), hi - 1)
        else:
            if hi - lo <= max(absolute, abs(lo) * RELATIVE_STEP):
                break
            mid = math.sqrt(lo * hi) if lo > 0 else (lo + hi) / 2
        c_mid = choice(mid)
        if c_mid == c_lo:
            lo = mid
        else:
            hi, c_hi = mid, c_mid
    return lo, hi, c_hi


def find_flips(choice: Callable[[float], str], grid: list[float], *, integer: bool,
               absolute: float = 0.0) -> list[FlipPoint]:
    """Every change of `choice` the grid brackets, each refined."""
    flips: list[FlipPoint] = []
    choices = [choice(x) for x in grid]
    for (lo, c_lo), (hi, c_hi) in zip(zip(grid, choices), zip(grid[1:], choices[1:])):
        while c_lo != c_hi:  # a bracket may hold more than one change: refine to the first, go on from there
            below, at, c_at = _refine(choice, lo, hi, c_lo, integer, absolute)
            flips.append(FlipPoint(at, below, c_lo, c_at))
            if at >= hi:
                break
            lo, c_lo = at, c_at
    return flips


def log_grid(lo: float, hi: float, n: int = GRID_POINTS, *, integer: bool, extra: Iterable[float] = ()) -> list[float]:
    if lo <= 0:
        points = [lo + (hi - lo) * i / n for i in range(n + 1)]
    else:
        points = [lo * (hi / lo) ** (i / n) for i in range(n + 1)]
    points += list(extra)
    if integer:
        points = [round(p) for p in points]
    return sorted({p for p in points if lo <= p <= hi})


# ---------------------------------------------------------------- the flip points


UNITS = {
    "requestsPerMonth": "requests/month",
    "inputTokensPerRequest": "input tokens/request",
    "outputTokensPerRequest": "output tokens/request",
    "engineerFte": "engineer FTE",
    "gpuPriceFactor": "x today's GPU node price",
    "apiPriceFactor": "x today's price of the cheapest API offer",
    "apiPricesFactor": "x today's prices of every API offer",
}
LABELS = {
    "requestsPerMonth": "volume", "inputTokensPerRequest": "input tokens", "outputTokensPerRequest": "output tokens",
    "engineerFte": "people (engineer FTE)", "gpuPriceFactor": "GPU node price", "apiPriceFactor": "cheapest API offer's price",
    "apiPricesFactor": "every API offer's price",
}
DATA_STAYS = "constraints.dataMayLeaveNetwork is false: it decides the verdict whatever the costs"


def _shown(name: str, value: float) -> str:
    if name in ("requestsPerMonth", "inputTokensPerRequest", "outputTokensPerRequest"):
        return f"{round(value):,} {UNITS[name]}"
    if name == "engineerFte":
        return f"{value:.2f} FTE"
    return f"{value:.3g}x"


def entry(name: str, current: float, now: str, searched: tuple[float, float], flips: list[FlipPoint],
          note: str | None = None, **extra) -> dict:
    """One input's document: the flip nearest today's value (`flipsAt`, None when it never flips in the
    range), every flip seen, and a line a reader takes in at once."""
    unit = UNITS[name]
    nearest = min(flips, key=lambda f: abs(math.log(max(f.at, 1e-12) / max(current, 1e-12)))) if flips else None
    if flips:
        parts = [f"{flips[0].below} below {_shown(name, flips[0].at)}"]
        parts += [f"{f.above} wins above {_shown(name, f.at)}" for f in flips]
        changes = ", ".join(parts)
        line = f"{LABELS[name]}: {changes} (today {_shown(name, current)}: {now})"
    else:
        changes = f"never flips in [{_shown(name, searched[0])}, {_shown(name, searched[1])}]: {now} throughout"
        line = f"{LABELS[name]}: {changes} (today {_shown(name, current)})"
    if note:
        line += f"; {note}"
    doc = {
        "input": name,
        "unit": unit,
        "current": current,
        "verdictNow": now,
        "flipsAt": None if nearest is None else nearest.at,
        "checkedBelow": None if nearest is None else nearest.checked_below,
        "verdictBelow": now if nearest is None else nearest.below,
        "verdictAbove": now if nearest is None else nearest.above,
        "searched": list(searched),
        "flips": [{"at": f.at, "checkedBelow": f.checked_below, "verdictBelow": f.below, "verdictAbove": f.above}
                  for f in flips],
        "line": line,
        "label": LABELS[name],
        "today": f"{_shown(name, current)} ({now})",
        "changes": changes,
    }
    if note:
        doc["note"] = note
    doc.update(extra)
    return doc


def volume_choice(probe: Probe, total_at: Callable[[float, bool], Decimal] | None = None) -> Callable[[float], str]:
    """The verdict's choice at another volume (`total_at`: the estimate's memoised total, when given)."""
    cost = volume_costs(probe, total_at)
    hybrid = hybrid_costs(probe)
    return lambda r: choose(probe.spec, cost(r), cheapest(probe.offers, r)[1], hybrid(r))


def hybrid_costs(probe: Probe) -> Callable[[float], HybridAt | None]:
    """`hybrid_at` by volume, memoised (the flip search, the sweep and the growth table ask the same volumes)."""
    memo: dict[int, HybridAt | None] = {}

    def at(r: float) -> HybridAt | None:
        key = max(1, round(r))
        if key not in memo:
            memo[key] = hybrid_at(probe, key)
        return memo[key]

    return at


def flip_points(probe: Probe, now: str, break_even=None, total_at=None) -> list[dict]:
    """Every input's flip document (`now`: the estimate's verdict choice; `break_even`: its BreakEven
    against the cheapest offer, shown with the volume)."""
    out = _flip_points(probe, now, break_even, total_at)
    if probe.spec.constraints.data_may_leave_network is False:
        for doc in out:
            doc["note"] = (doc["note"] + "; " if doc.get("note") else "") + DATA_STAYS
            doc["line"] += f"; {DATA_STAYS}"
    return out


def _flip_points(probe: Probe, now: str, break_even, total_at) -> list[dict]:
    spec = probe.spec
    t = spec.traffic
    requests = t.requests_per_month
    base = max(requests, 1000)
    out = []

    # volume
    lo, hi = max(1, round(base * SWEEP_FACTORS[0])), round(base * SWEEP_FACTORS[-1])
    flips = find_flips(volume_choice(probe, total_at), log_grid(lo, hi, integer=True, extra=[requests]), integer=True)
    extra = {}
    if break_even is not None:
        extra["breakEven"] = {"offer": break_even.offer, "requestsPerMonth": break_even.requests_per_month,
                              "note": break_even.note}
    out.append(entry("requestsPerMonth", requests, now, (lo, hi), flips, None, **extra))

    # tokens per request: the capacity (throughput per replica), the egress and the API price all move
    for name, key in (("inputTokensPerRequest", "input_tokens_per_request"),
                      ("outputTokensPerRequest", "output_tokens_per_request")):
        current = getattr(t, key)
        other = t.output_tokens_per_request if key == "input_tokens_per_request" else t.input_tokens_per_request
        floor = 0 if key == "input_tokens_per_request" else 1
        lo = max(floor, current // TOKEN_SPAN)
        hi = max(lo + 1, min(current * TOKEN_SPAN, spec.model.max_model_len - other))
        unfit: list[int] = []

        def token_choice(n: float, key=key, unfit=unfit) -> str:
            n = int(n)
            s = with_traffic(spec, **{key: n})
            try:
                costing = CostModel(s, probe.records, probe.catalog, probe.as_of, probe.usage)
                self_cost = compared_total(costing, s, requests, probe.include_ops)
            except capacity.CapacityError:
                unfit.append(n)
                return "does-not-fit"
            offers = offers_for_tokens(probe.offers, spec, s.traffic.input_tokens_per_request,
                                       s.traffic.output_tokens_per_request)
            h = hybrid_at(probe, spec=s, costing=costing, offers=offers)
            return choose(s, self_cost, cheapest(offers, requests)[1], h)

        grid = log_grid(max(lo, 1), hi, 12, integer=True, extra=[current] + ([0] if lo == 0 else []))
        flips = find_flips(token_choice, grid, integer=True)
        note = None
        if unfit:
            first = min(unfit)
            note = f"from about {first:,} {UNITS[name]} one request does not fit the KV cache (capacity model)"
            flips = [f for f in flips if "does-not-fit" not in (f.below, f.above)]
        if any(o.tiers for o in probe.offers):
            note = ((note + "; ") if note else "") + ("API prices scaled from the base per-token prices (an offer's "
                                                       "long-context tiers kept in today's ratio)")
        out.append(entry(name, current, now, (lo, hi), flips, note))

    # people cost
    current_fte = spec.operations.engineer_fte
    if not probe.include_ops:
        out.append(entry("engineerFte", current_fte, now, (0.0, 0.0), [],
                         "people costs are excluded (operations.include false or --exclude-operations)"))
    else:
        infra = compared_total(probe.costing, spec, requests, False)
        api = cheapest(probe.offers, requests)[1]
        today = hybrid_at(probe)
        ops_now = operations_usd(spec)

        def fte_choice(f: float) -> str:
            ops = operations_usd(with_fte(spec, f))
            # people cost does not depend on the fleet cap: the cheapest split moves by the same amount
            h = None if today is None else replace(today, best=today.best - ops_now + ops)
            return choose(spec, infra + ops, api, h)

        hi = max(10.0, current_fte * 4)
        flips = find_flips(fte_choice, log_grid(0.0, hi, 40, integer=False, extra=[current_fte]), integer=False,
                           absolute=0.01)
        out.append(entry("engineerFte", current_fte, now, (0.0, hi), flips, None,
                         loadedMonthlyCostUsd=spec.operations.loaded_monthly_cost_usd))

    # GPU node price: every GPU line scales with it (node-hours, reserved hours, start-up time)
    plans = capacity.plan(spec, requests, throughput_cache=probe.costing.throughput)
    queued = any(p.queued_share > 0 for p in plans)
    items, _ = probe.costing.run(requests, unbounded=queued)
    kept = [li for li in items if probe.include_ops or li.category != "operations"]
    gpu = sum((li.monthly for li in kept if li.category == "gpu-compute"), Decimal(0))
    rest = sum((li.monthly for li in kept if li.category != "gpu-compute"), Decimal(0))
    api = cheapest(probe.offers, requests)[1]
    today = hybrid_at(probe)
    split_parts = [] if today is None else [
        (sum((li.monthly for li in sp.line_items if li.category == "gpu-compute"), Decimal(0)), sp.total)
        for sp in today.tried]

    def gpu_choice(g: float) -> str:
        factor = Decimal(str(g))
        # the cheapest of the splits the search tried, each with its GPU lines at the factor
        h = None if today is None else replace(today, best=min(total - g_usd + g_usd * factor
                                                               for g_usd, total in split_parts))
        return choose(spec, rest + gpu * factor, api, h)

    flips = find_flips(gpu_choice, log_grid(*GPU_FACTOR_RANGE, integer=False, extra=[1.0]), integer=False)
    out.append(entry("gpuPriceFactor", 1.0, now, GPU_FACTOR_RANGE, flips, None,
                     gpuComputeMonthlyUsd=float(q(gpu))))

    # the cheapest API offer's price (another offer becomes the cheapest when it rises past it)
    offer, _ = cheapest(probe.offers, requests)
    if offer is None:
        out.append(entry("apiPriceFactor", 1.0, now, API_FACTOR_RANGE, [], "no API offer to compare"))
    else:
        self_cost = compared_total(probe.costing, spec, requests, probe.include_ops)

        def api_choice(m: float) -> str:
            scaled = [replace(o, request_usd=o.request_usd * Decimal(str(m))) if o is offer else o for o in probe.offers]
            return choose(spec, self_cost, cheapest(scaled, requests)[1], hybrid_at(probe, offers=scaled))

        flips = find_flips(api_choice, log_grid(*API_FACTOR_RANGE, 40, integer=False, extra=[1.0]), integer=False)
        others = "" if len(probe.offers) == 1 else "; above the next offer's price that one is the cheapest"
        out.append(entry("apiPriceFactor", 1.0, now, API_FACTOR_RANGE, flips, f"{offer.name}'s prices scaled{others}",
                         offer=offer.name))

        def market_choice(m: float) -> str:  # every offer's prices at once (the API market moving)
            scaled = [replace(o, request_usd=o.request_usd * Decimal(str(m))) for o in probe.offers]
            h = hybrid_at(probe, offers=scaled)
            return choose(spec, self_cost, cheapest(probe.offers, requests)[1] * Decimal(str(m)), h)

        flips = find_flips(market_choice, log_grid(*API_FACTOR_RANGE, 40, integer=False, extra=[1.0]), integer=False)
        out.append(entry("apiPricesFactor", 1.0, now, API_FACTOR_RANGE, flips, None))
    return out


# ---------------------------------------------------------------- the volume sweep


def sweep_points(requests: int) -> list[int]:
    base = max(requests, 1000)
    return [max(1, round(base * f)) for f in SWEEP_FACTORS]


def sweep_series(probe: Probe, points: list[int], total_at=None, hybrid=None) -> dict[str, list]:
    """Monthly cost at each volume, one series per side: `self-hosted` (the compared fleet), for a stack with a
    gateway `hybrid` (its cheapest split at that volume: fleet capped, overflow and API routes at their offers,
    `hybrid_at`), and each API offer by name; renderers draw every series this returns."""
    cost = volume_costs(probe, total_at)
    series: dict[str, list] = {"self-hosted": [float(q(cost(r))) for r in points]}
    if probe.spec.gateway is not None:
        hybrid = hybrid or hybrid_costs(probe)
        series["hybrid"] = [float(q(hybrid(r).best)) for r in points]
    for o in probe.offers:
        series[o.name] = [float(q(o.monthly_usd(r))) for r in points]
    return series


def volume_costs(probe: Probe, total_at=None) -> Callable[[float], Decimal]:
    """The compared self-hosted cost at another volume (`total_at`: the estimate's memoised total)."""
    spec, costing = probe.spec, probe.costing

    def cost(r: float) -> Decimal:
        if total_at is None:
            return compared_total(costing, spec, r, probe.include_ops)
        plans = capacity.plan(spec, r, throughput_cache=costing.throughput)
        return total_at(r, any(p.queued_share > 0 for p in plans))

    return cost


def volume_sweep(probe: Probe, total_at=None) -> dict:
    points = sweep_points(probe.spec.traffic.requests_per_month)
    hybrid = hybrid_costs(probe)
    series = sweep_series(probe, points, total_at, hybrid)
    cost = volume_costs(probe, total_at)

    def choice(r: float) -> str:
        return choose(probe.spec, cost(r), cheapest(probe.offers, r)[1], hybrid(r))
    return {
        "requestsPerMonth": points,
        "factors": list(SWEEP_FACTORS),
        "seriesUsd": series,
        "verdict": [choice(r) for r in points],
    }


# ---------------------------------------------------------------- growth


def fleet_at(probe: Probe, requests: float) -> list[dict]:
    """The fleet `tradeoff-infra recommend` would pick for `requests` a month (its analytic search, no program run:
    the cheapest fleet that meets the targets; for a stack with a gateway its cheapest hybrid split of the search's
    few cheapest fleets, cli/recommend/hybrid.py), per region: the pool, its bounds and cap, replicas and nodes at
    the peak. The stack's own pools grown for the traffic where no fleet meets the targets (`source`)."""
    from cli.recommend.search import order, search

    spec = with_traffic(probe.spec, requests_per_month=max(1, round(requests)))
    try:
        if spec.gateway is not None:
            from cli.recommend import hybrid

            found = search(spec, probe.catalog, top=4, usage=probe.usage,
                                   overflow=hybrid.routed_overflow(spec, probe.offers))
            options = [hybrid.price_option(spec, probe.records, probe.catalog, probe.as_of, probe.usage, probe.offers,
                                           o)[0] for o in found.options]
            options.sort(key=lambda o: order(spec, o, o.monthly_usd))
        else:
            options = search(spec, probe.catalog, top=1, usage=probe.usage).options
    except (capacity.CapacityError, LookupError, ValueError):
        options = []
    if not options:
        return _grown_pools(probe, requests)
    best = options[0]
    out = []
    from cli.recommend.fleet import pool_name
    from infra import hardware

    for region, choice in zip(spec.regions, best.regions):
        per_node = max(1, hardware.instance_type(choice.instance_type).gpus // best.tensor_parallel)
        peak = (math.ceil(choice.max_replicas / (1 + choice.headroom) - 1e-9) if choice.headroom is not None
                else choice.min_replicas)
        peak = min(peak, choice.max_replicas)
        out.append({
            "region": region.region, "pool": pool_name(choice.instance_type), "instanceType": choice.instance_type,
            "capacityType": choice.label, "tensorParallel": best.tensor_parallel, "precision": best.precision,
            "minNodes": choice.min_nodes, "maxNodes": choice.total_max_nodes, "maxReplicas": choice.max_replicas,
            "replicasAtPeak": peak, "expectedNodes": round(choice.expected_nodes, 2),
            "peakNodes": max(math.ceil(peak / per_node), choice.min_nodes), "beyondMaxNodes": False,
            "apiShare": best.api_share, "source": "recommend",
        })
    return out


def _grown_pools(probe: Probe, requests: float) -> list[dict]:
    """The stack's own pools at `requests`: replicas at the peak and nodes, grown past maxNodes when they cannot
    carry it."""
    spec = probe.spec
    plans = capacity.plan(spec, requests, throughput_cache=probe.costing.throughput)
    queued = any(p.queued_share > 0 for p in plans)
    if queued:
        plans = capacity.plan(spec, requests, unbounded=True, throughput_cache=probe.costing.throughput)
    out = []
    for plan in plans:
        for pool_plan in plan.pools:
            out.append({
                "region": plan.region, "pool": pool_plan.pool.name, "instanceType": pool_plan.pool.instance_type,
                "replicasAtPeak": plan.replicas_at_peak, "expectedNodes": round(pool_plan.expected_nodes, 2),
                "peakNodes": max(pool_plan.nodes_per_slot), "maxNodes": pool_plan.pool.max_nodes,
                "beyondMaxNodes": max(pool_plan.nodes_per_slot) > pool_plan.pool.max_nodes, "source": "stack",
            })
    return out


def _requests_ceiling() -> int:
    """The most `traffic.requestsPerMonth` a stack file accepts (the spec field's own `le`)."""
    from infra.spec.models import TrafficSpec

    return next(m.le for m in TrafficSpec.model_fields["requests_per_month"].metadata if getattr(m, "le", None))


REQUESTS_CEILING = _requests_ceiling()


def growth(probe: Probe, percent_per_month: float, months: int, total_at=None) -> dict:
    """Traffic growing `percent_per_month` compounded for `months`: each month's volume, costs and verdict,
    the first month the verdict differs from today's and the fleet planned for that month's volume."""
    spec = probe.spec
    requests = spec.traffic.requests_per_month
    cost = volume_costs(probe, total_at)
    hybrid = hybrid_costs(probe)
    rows = []
    flip = None
    ceiling = REQUESTS_CEILING
    capped_from = None
    for m in range(months + 1):
        r = min(round(requests * (1 + percent_per_month / 100) ** m), ceiling)
        if r == ceiling and capped_from is None and requests * (1 + percent_per_month / 100) ** m > ceiling:
            capped_from = m
        self_cost = cost(r)
        offer, api = cheapest(probe.offers, r)
        h = hybrid(r)
        choice = choose(spec, self_cost, api, h)
        rows.append({"month": m, "requestsPerMonth": r, "selfHostedUsd": float(q(self_cost)),
                     **({"hybridUsd": float(q(h.best))} if h is not None else {}),
                     "cheapestApi": offer.name if offer else None, "apiUsd": None if api is None else float(q(api)),
                     "verdict": choice})
        if flip is None and m > 0 and choice != rows[0]["verdict"]:
            flip = m
    doc = {
        "percentPerMonth": percent_per_month,
        "months": months,
        "table": rows,
        "verdictChangesInMonth": flip,
        "verdictThen": rows[flip]["verdict"] if flip is not None else None,
        "fleetThen": fleet_at(probe, rows[flip]["requestsPerMonth"]) if flip is not None else None,
        "fleetAtEnd": fleet_at(probe, rows[-1]["requestsPerMonth"]),
        "cappedFromMonth": capped_from,
    }
    if flip is None:
        doc["line"] = (f"at {percent_per_month:g} %/month the verdict stays {rows[0]['verdict']} for {months} months "
                       f"(to {rows[-1]['requestsPerMonth']:,} requests/month)")
    else:
        doc["line"] = (f"at {percent_per_month:g} %/month the verdict changes from {rows[0]['verdict']} to "
                       f"{rows[flip]['verdict']} in month {flip} ({rows[flip]['requestsPerMonth']:,} requests/month)")
    if capped_from is not None:
        doc["line"] += (f"; from month {capped_from} the projection is held at {ceiling:,} requests/month, the most a "
                        "stack file accepts (traffic.requestsPerMonth), so later months repeat it")
    return doc


__all__ = ["NO_OFFER", "Probe", "find_flips", "flip_points", "fleet_at", "growth", "probe_of", "sweep_series",
           "volume_sweep"]
