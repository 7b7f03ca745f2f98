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
from cli.estimate.decision import HYBRID_BAND, NO_OFFER, decide
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


# ---------------------------------------------------------------- the costs the verdict compares, and how near a flip


@dataclass
class Side:
    """What `choose` compares at one value of an input: the self-hosted cost, the cheapest API offer (name and
    cost) and, for a stack with a gateway, its cheapest split and pure API."""

    self_cost: Decimal
    api: Decimal | None
    offer: str | None
    h: HybridAt | None = None

    def choice(self, spec) -> str:
        return choose(spec, self.self_cost, self.api, self.h)


def memoised(f: Callable[[float], Side]) -> Callable[[float], Side]:
    """`f` asked once per value (the grid, the refinement and the range's ends share the answers)."""
    memo: dict[float, Side] = {}

    def at(x: float) -> Side:
        if x not in memo:
            memo[x] = f(x)
        return memo[x]

    return at


def _pct(part: Decimal, whole: Decimal) -> float | None:
    return None if not whole else float(round(part / whole * 100, 1))


RULE_WORDS = {
    "cheaper-ship": "hybrid by constraints.weeksToShip: cheaper, but shipping before the fleet is set up",
    "cheaper-frontier": "hybrid by constraints.frontierQualityNeeded",
    "band": "within 15%: hybrid",
    "no-ml": "api by constraints.mlEngineersAvailable false unless 15% cheaper",
    "frontier": "api by constraints.frontierQualityNeeded unless 15% cheaper",
    "ship": "api by constraints.weeksToShip unless 15% cheaper",
}
"""`decide`'s rules other than plain cost, said beside a gap that cost alone does not explain."""


def _percent_text(part: Decimal, whole: Decimal) -> str:
    """A share for a sentence, one token a table never splits: 4.2%, 162%, 12,694%; of a free offer: no share."""
    if not whole:
        return "against $0.00"
    value = float(part / whole * 100)
    return f"{value:.1f}%" if abs(value) < 100 else f"{value:,.0f}%"


def gap(spec, now: str, side: Side) -> dict | None:
    """How far `side` is from the verdict `now` changing, in the costs the verdict compares: for `api`, what
    self-hosting costs above the cheapest offer; for `self-host`, below it; for a gateway stack's `hybrid`, what the
    cheapest split saves against the nearer of pure self-hosted and pure API (where the split makes the verdict);
    for any other `hybrid` (the 15 % band, or self-hosting cheaper but a constraint keeping the API), self-hosting
    minus the offer, and the end nearest a flip is the one nearest an edge of the band. `gapUsd` and `gapPercent`
    (of the cost compared against) are positive while an `api`, `self-host` or split `hybrid` verdict holds on cost.
    None where no cost can move the verdict (data may not leave) or nothing is compared (no offer)."""
    if spec.constraints.data_may_leave_network is False:
        return None
    doc = {"selfHostedUsd": float(q(side.self_cost)), "apiUsd": None if side.api is None else float(q(side.api)),
           "offer": side.offer}
    if side.h is not None:
        doc["hybridUsd"] = float(q(side.h.best))
        doc["pureApiUsd"] = None if side.h.pure_api is None else float(q(side.h.pure_api))
    restricted = side.h is not None and any(r.data_class == "restricted" for r in spec.gateway.routes)
    split_wins = (side.h is not None and spec.constraints.ml_engineers_available is not False
                  and side.h.best < side.self_cost
                  and (restricted or side.h.pure_api is None or side.h.best < side.h.pure_api))
    if now == "hybrid" and split_wins:  # the split makes the verdict (else a framework rule does: below)
        rivals = [("pure self-hosted", side.self_cost)]
        if side.h.pure_api is not None and not restricted:
            rivals.append(("pure API", side.h.pure_api))
        versus, cost = min(rivals, key=lambda rv: (rv[1] - side.h.best) / rv[1] if rv[1] else 0)
        diff = cost - side.h.best
        doc.update(versus=versus, gapUsd=float(q(diff)), gapPercent=_pct(diff, cost),
                   text=f"the cheapest split (${q(side.h.best):,}/month) is still ${q(diff):,}/month "
                        f"({_percent_text(diff, cost)}) cheaper than {versus} (${q(cost):,})")
        doc["key"] = doc["gapPercent"]
        return doc
    if side.api is None:
        return None
    diff = side.self_cost - side.api
    word = "dearer" if diff > 0 else "cheaper"
    still = "still " if (now == "api") == (diff > 0) and now != "hybrid" else ""
    doc.update(versus="api", gapUsd=float(q(diff if now != "self-host" else -diff)),
               gapPercent=_pct(diff if now != "self-host" else -diff, side.api),
               text=f"self-hosting (${q(side.self_cost):,}/month) is {still}${q(abs(diff)):,}/month "
                    f"({_percent_text(abs(diff), side.api)}) {word} than the API ({side.offer}: ${q(side.api):,})")
    rule = RULE_WORDS.get(decide(spec, side.self_cost, side.api)[1])
    if rule and not split_wins:
        doc["text"] += f" ({rule})"
    ratio = float(side.self_cost / side.api) if side.api else math.inf
    # nearness to a flip: the share the cost would have to move by; for `hybrid` (within or below the band)
    # the nearer of the band's edges
    doc["key"] = (min(abs(ratio - float(1 - HYBRID_BAND)), abs(ratio - float(1 + HYBRID_BAND))) * 100
                  if now == "hybrid" else doc["gapPercent"])
    return doc


def closest_end(spec, now: str, side_at: Callable[[float], Side], ends: tuple[float, float], name: str) -> dict | None:
    """The end of a range an input never flips in where the verdict is nearest to changing (`gap`), with the
    costs there; None where no cost can move the verdict or nothing is compared."""
    found = []
    for x in dict.fromkeys(ends):
        g = gap(spec, now, side_at(x))
        if g is not None:
            found.append((g.pop("key"), x, g))
    if not found:
        return None
    _, at, g = min(found, key=lambda f: (math.inf if f[0] is None else f[0]))
    return {"at": at, **g, "text": f"at the end nearest a flip ({_shown(name, at)}) {g['text']}"}


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
          note: str | None = None, *, closest: dict | None = None, combined: dict | None = None, **extra) -> dict:
    """One input's document: the flip nearest today's value (`flipsAt`, None when it never flips in the
    range), every flip seen, and a line a reader takes in at once. An input that never flips in its range says
    so (`neverFlipsIn`) and, where costs could move the verdict, how near it comes at the range's end nearest a
    flip (`closestEnd`, `closest_end`); `combined` is a flip of the volume with this input at that end."""
    unit = UNITS[name]
    nearest = min(flips, key=lambda f: abs(math.log(max(f.at, 1e-12) / max(current, 1e-12)))) if flips else None
    if flips:
        parts = [f"{flips[0].below} below {_shown(name, flips[0].at)}"]
        parts += [f"{f.above} wins above {_shown(name, f.at)}" for f in flips]
        changes = ", ".join(parts)
        line = f"{LABELS[name]}: {changes} (today {_shown(name, current)}: {now})"
    else:
        changes = f"never flips in [{_shown(name, searched[0])}, {_shown(name, searched[1])}]: {now} throughout"
        if closest:
            changes += f"; {closest['text']}"
        if combined:
            changes += f"; {combined['text']}"
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
        "neverFlipsIn": None if flips else list(searched),
        "closestEnd": None if flips else closest,
        "combined": None if flips else combined,
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


def volume_sides(probe: Probe, total_at: Callable[[float, bool], Decimal] | None = None, hybrid=None,
                 ops_delta: Decimal = Decimal(0)) -> Callable[[float], Side]:
    """What the verdict compares at another volume (`total_at`: the estimate's memoised total, when given;
    `ops_delta`: people cost added to the self-hosted side and the split, which it moves by the same amount)."""
    cost = volume_costs(probe, total_at)
    hybrid = hybrid or hybrid_costs(probe)

    def side(r: float) -> Side:
        offer, api = cheapest(probe.offers, r)
        h = hybrid(r)
        if h is not None and ops_delta:
            h = replace(h, best=h.best + ops_delta)
        return Side(cost(r) + ops_delta, api, offer.name if offer else None, h)

    return memoised(side)


def volume_choice(probe: Probe, total_at: Callable[[float, bool], Decimal] | None = None) -> Callable[[float], str]:
    """The verdict's choice at another volume (`total_at`: the estimate's memoised total, when given)."""
    side = volume_sides(probe, total_at)
    return lambda r: side(r).choice(probe.spec)


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

    def searched(name: str, side_at: Callable[[float], Side], grid: list[float], *, integer: bool,
                 absolute: float = 0.0) -> tuple[list[FlipPoint], dict | None]:
        """The flips of one input, and where it never flips the range's end nearest a flip."""
        flips = find_flips(lambda x: side_at(x).choice(spec), grid, integer=integer, absolute=absolute)
        return flips, None if flips else closest_end(spec, now, side_at, (grid[0], grid[-1]), name)

    # volume
    lo, hi = max(1, round(base * SWEEP_FACTORS[0])), round(base * SWEEP_FACTORS[-1])
    hybrid = hybrid_costs(probe)
    volume_grid = log_grid(lo, hi, integer=True, extra=[requests])
    flips, closest = searched("requestsPerMonth", volume_sides(probe, total_at, hybrid), volume_grid, integer=True)
    extra = {}
    if break_even is not None:
        extra["breakEven"] = {"offer": break_even.offer, "requestsPerMonth": break_even.requests_per_month,
                              "note": break_even.note}
    out.append(entry("requestsPerMonth", requests, now, (lo, hi), flips, None, closest=closest, **extra))

    # tokens per request: the capacity (throughput per replica), the egress and the API price all move
    for name, key in (("inputTokensPerRequest", "input_tokens_per_request"),
                      ("outputTokensPerRequest", "output_tokens_per_request")):
        current = getattr(t, key)
        other = t.output_tokens_per_request if key == "input_tokens_per_request" else t.input_tokens_per_request
        floor = 0 if key == "input_tokens_per_request" else 1
        lo = max(floor, current // TOKEN_SPAN)
        hi = max(lo + 1, min(current * TOKEN_SPAN, spec.model.max_model_len - other))
        unfit: list[int] = []

        def token_side(n: float, key=key, unfit=unfit) -> Side | None:
            n = int(n)
            s = with_traffic(spec, **{key: n})
            try:
                costing = CostModel(s, probe.records, probe.catalog, probe.as_of, probe.usage)
                self_cost = compared_total(costing, s, requests, probe.include_ops)
            except capacity.CapacityError:
                unfit.append(n)
                return None
            offers = offers_for_tokens(probe.offers, spec, s.traffic.input_tokens_per_request,
                                       s.traffic.output_tokens_per_request)
            h = hybrid_at(probe, spec=s, costing=costing, offers=offers)
            offer, api = cheapest(offers, requests)
            return TokenSide(self_cost, api, offer.name if offer else None, h, s)

        side_at = memoised(token_side)
        grid = log_grid(max(lo, 1), hi, 12, integer=True, extra=[current] + ([0] if lo == 0 else []))
        flips = find_flips(lambda n, side_at=side_at: _token_choice(side_at(n)), grid, integer=True)
        note = None
        if unfit:
            first = min(unfit)
            note = f"from about {first:,} {UNITS[name]} one request does not fit the KV cache (capacity model)"
            flips = [f for f in flips if "does-not-fit" not in (f.below, f.above)]
        if any(o.tiers for o in probe.offers):
            note = ((note + "; ") if note else "") + ("API prices scaled from the base per-token prices (an offer's "
                                                       "long-context tiers kept in today's ratio)")
        closest = None
        if not flips:  # the ends that fit (a request too long for the KV cache is no end to compare)
            fits = [n for n in grid if side_at(n) is not None]
            if fits:
                closest = closest_end(spec, now, side_at, (fits[0], fits[-1]), name)
        out.append(entry(name, current, now, (lo, hi), flips, note, closest=closest))

    # people cost
    current_fte = spec.operations.engineer_fte
    if not probe.include_ops:
        out.append(entry("engineerFte", current_fte, now, (0.0, 0.0), [],
                         "people costs are excluded (operations.include false or --exclude-operations)"))
    else:
        infra = compared_total(probe.costing, spec, requests, False)
        offer, api = cheapest(probe.offers, requests)
        today = hybrid_at(probe)
        ops_now = operations_usd(spec)

        def fte_side(f: float) -> Side:
            ops = operations_usd(with_fte(spec, f))
            # people cost does not depend on the fleet cap: the cheapest split moves by the same amount
            h = None if today is None else replace(today, best=today.best - ops_now + ops)
            return Side(infra + ops, api, offer.name if offer else None, h)

        hi = max(10.0, current_fte * 4)
        flips, closest = searched("engineerFte", memoised(fte_side),
                                  log_grid(0.0, hi, 40, integer=False, extra=[current_fte]), integer=False,
                                  absolute=0.01)
        combined = None
        # the volume at which the verdict changes with people at that end; not where the split makes the verdict
        # (people cost moves the split and pure self-hosted alike: the volume's flips stay where they are)
        if closest is not None and closest["versus"] == "api":
            at_fte = closest["at"]
            delta = operations_usd(with_fte(spec, at_fte)) - ops_now
            vflips = find_flips(lambda r, s=volume_sides(probe, total_at, hybrid, delta): s(r).choice(spec),
                                volume_grid, integer=True)
            combined = combined_doc(spec, "engineerFte", at_fte, now, vflips, (volume_grid[0], volume_grid[-1]),
                                    out[0])
        out.append(entry("engineerFte", current_fte, now, (0.0, hi), flips, None, closest=closest, combined=combined,
                         loadedMonthlyCostUsd=spec.operations.loaded_monthly_cost_usd))

    # GPU node price: every GPU line scales with it (node-hours, reserved hours, start-up time)
    plans = capacity.plan(spec, requests, throughput_cache=probe.costing.throughput)
    queued = any(p.queued_share > 0 for p in plans)
    items, _ = probe.costing.run(requests, unbounded=queued)
    kept = [li for li in items if probe.include_ops or li.category != "operations"]
    gpu = sum((li.monthly for li in kept if li.category == "gpu-compute"), Decimal(0))
    rest = sum((li.monthly for li in kept if li.category != "gpu-compute"), Decimal(0))
    offer, api = cheapest(probe.offers, requests)
    today = hybrid_at(probe)
    split_parts = [] if today is None else [
        (sum((li.monthly for li in sp.line_items if li.category == "gpu-compute"), Decimal(0)), sp.total)
        for sp in today.tried]

    def gpu_side(g: float) -> Side:
        factor = Decimal(str(g))
        # the cheapest of the splits the search tried, each with its GPU lines at the factor
        h = None if today is None else replace(today, best=min(total - g_usd + g_usd * factor
                                                               for g_usd, total in split_parts))
        return Side(rest + gpu * factor, api, offer.name if offer else None, h)

    flips, closest = searched("gpuPriceFactor", memoised(gpu_side), log_grid(*GPU_FACTOR_RANGE, integer=False,
                                                                               extra=[1.0]), integer=False)
    out.append(entry("gpuPriceFactor", 1.0, now, GPU_FACTOR_RANGE, flips, None, closest=closest,
                     gpuComputeMonthlyUsd=float(q(gpu))))

    # the cheapest API offer's price (another offer becomes the cheapest when it rises past it)
    offer, _ = cheapest(probe.offers, requests)
    if offer is None:
        out.append(entry("apiPriceFactor", 1.0, now, API_FACTOR_RANGE, [], "no API offer to compare"))
    else:
        self_cost = compared_total(probe.costing, spec, requests, probe.include_ops)

        def api_side(m: float) -> Side:
            scaled = [replace(o, request_usd=o.request_usd * Decimal(str(m))) if o is offer else o for o in probe.offers]
            now_offer, api = cheapest(scaled, requests)
            return Side(self_cost, api, now_offer.name, hybrid_at(probe, offers=scaled))

        flips, closest = searched("apiPriceFactor", memoised(api_side),
                                  log_grid(*API_FACTOR_RANGE, 40, integer=False, extra=[1.0]), integer=False)
        others = "" if len(probe.offers) == 1 else "; above the next offer's price that one is the cheapest"
        out.append(entry("apiPriceFactor", 1.0, now, API_FACTOR_RANGE, flips, f"{offer.name}'s prices scaled{others}",
                         closest=closest, offer=offer.name))

        def market_side(m: float) -> Side:  # every offer's prices at once (the API market moving)
            scaled = [replace(o, request_usd=o.request_usd * Decimal(str(m))) for o in probe.offers]
            return Side(self_cost, cheapest(probe.offers, requests)[1] * Decimal(str(m)), offer.name,
                        hybrid_at(probe, offers=scaled))

        flips, closest = searched("apiPricesFactor", memoised(market_side),
                                  log_grid(*API_FACTOR_RANGE, 40, integer=False, extra=[1.0]), integer=False)
        out.append(entry("apiPricesFactor", 1.0, now, API_FACTOR_RANGE, flips, None, closest=closest))
    return out


@dataclass
class TokenSide(Side):
    spec: object = None
    """The spec at that request size (its verdict is asked of it, as a re-run estimate would)."""


def _token_choice(side: TokenSide | None) -> str:
    return "does-not-fit" if side is None else side.choice(side.spec)


def combined_doc(spec, name: str, value: float, now: str, flips: list[FlipPoint], searched: tuple[float, float],
                 volume: dict) -> dict:
    """The volume's flip with another input held at `value` (the end of its range nearest a flip): the one
    nearest today's volume, or that there is none in the volume's range."""
    requests = spec.traffic.requests_per_month
    held = f"with {LABELS[name]} at {_shown(name, value)}"
    doc = {"with": {"input": name, "value": value}, "input": "requestsPerMonth", "searched": list(searched),
           "flipsAt": None, "checkedBelow": None, "verdictBelow": now, "verdictAbove": now}
    if not flips:
        doc["text"] = (f"{held} the volume never flips it either in [{_shown('requestsPerMonth', searched[0])}, "
                       f"{_shown('requestsPerMonth', searched[1])}]")
        return doc
    f = min(flips, key=lambda f: abs(math.log(max(f.at, 1) / max(requests, 1))))
    doc.update(flipsAt=f.at, checkedBelow=f.checked_below, verdictBelow=f.below, verdictAbove=f.above)
    today = volume.get("flipsAt")
    then = (f"; at today's {_shown(name, spec.operations.engineer_fte if name == 'engineerFte' else 1.0)} it changes "
            f"at {_shown('requestsPerMonth', today)}" if today else "")
    side = f"{f.above} wins above" if f.at > requests else f"{f.below} below"
    doc["text"] = f"{held} the verdict changes with volume: {side} {_shown('requestsPerMonth', f.at)}{then}"
    return doc


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
