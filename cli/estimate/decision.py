"""The decision: requests a month the fleet can serve, break-even against each API offer, and the verdict
(the seed article's decision framework with real costs)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from cli import capacity
from cli.estimate.line_item import q
from cli.numbers import human
from cli.pricing.api import ApiOffer
from infra.spec import StackSpec


@dataclass
class BreakEven:
    offer: str
    requests_per_month: float | None
    within_max_nodes: bool
    note: str


@dataclass
class Verdict:
    choice: str
    """`self-host`, `api` or `hybrid`."""
    reasons: list[str]
    decided_by: str | None = None
    """`cost` when the costs alone give this choice; else the set constraint that turned it (its key,
    `constraints.dataMayLeaveNetwork`, or `gateway.routes[].dataClass` for a restricted route); None undecided."""
    constraint: str | None = None
    """What that constraint says (the reason it decided), None when cost decided."""
    on_cost_alone: str | None = None
    """The choice the costs alone give (the framework with no constraint set)."""


CONSTRAINT_RULES = {
    "data": "constraints.dataMayLeaveNetwork", "no-ml": "constraints.mlEngineersAvailable",
    "frontier": "constraints.frontierQualityNeeded", "cheaper-frontier": "constraints.frontierQualityNeeded",
    "ship": "constraints.weeksToShip", "cheaper-ship": "constraints.weeksToShip",
}
"""`decide`'s rules that a set constraint takes (rule -> the constraint's key)."""


def on_cost_alone(spec: StackSpec, self_expected: Decimal, api_cost: Decimal | None) -> str:
    """The choice `decide` gives for these costs with no constraint set: what cost alone says."""
    unset = spec.model_copy(update={"constraints": type(spec.constraints)()})
    return decide(unset, self_expected, api_cost)[0]


def decided(choice: str, cost_choice: str, key: str | None, text: str | None) -> dict:
    """Verdict's `decided_by`, `constraint` and `on_cost_alone` for a choice: `cost` when the costs alone give it,
    else the constraint (`key`, `text`) that turned it; None for an undecided verdict."""
    if choice == NO_OFFER:
        return {"decided_by": None, "constraint": None, "on_cost_alone": cost_choice}
    if choice == cost_choice or key is None:
        return {"decided_by": "cost", "constraint": None, "on_cost_alone": cost_choice}
    return {"decided_by": key, "constraint": text, "on_cost_alone": cost_choice}


def max_servable_requests(spec: StackSpec) -> float:
    """Requests a month the fleet serves at peak without queueing (binding region)."""
    shares = capacity.traffic_shares(spec)
    out = spec.traffic.output_tokens_per_request
    peak = max(capacity.day_profile(spec.traffic.peak_to_average))
    limits = []
    for region in spec.regions:
        share = shares[region.region]
        if share <= 0:
            continue
        low, high = spec.replicas_for(region)
        cap = min(high, spec.pool_replica_capacity(region))
        served = capacity.served_tokens_per_second(cap, capacity.region_tiers(spec, region))
        limits.append(served * capacity.SECONDS_PER_MONTH / (out * peak * share))
    return min(limits) if limits else 0.0


BREAK_EVEN_SEARCH_LIMIT = 1e11
"""Requests/month the break-even search stops at (with maxNodes lifted); shown as `100B` (cli/numbers.py)."""


def break_even(total_at: Callable[[float, bool], Decimal], offer: ApiOffer, max_servable: float,
               floor_usd: Decimal | None = None) -> BreakEven:
    """Requests/month where self-hosting (fleet grown for the traffic) costs no more than the offer.

    Bisection on a log scale between 1,000 requests/month and the upper end (what maxNodes serves;
    then, failing that, BREAK_EVEN_SEARCH_LIMIT with the pools' maxNodes lifted) to 0.1 %. The self-hosted cost is a
    step function, so on a knife edge this is *a* crossing, not necessarily the first.

    `floor_usd`, the self-hosted cost at no traffic, is a lower bound at every volume (every pool keeps
    at least its floor's nodes in every slot; usage lines only add): a step where the offer costs less
    than it is answered without pricing the fleet, the same answer `total_at` would give."""
    if offer.request_usd <= 0:
        return BreakEven(offer.name, None, False, "the offer is free: self-hosting never breaks even")

    def cheaper(r: float, unbounded: bool) -> bool:
        api = offer.monthly_usd(r)
        if floor_usd is not None and floor_usd > api:
            return False
        return total_at(r, unbounded) <= api

    def bisect(hi: float, unbounded: bool) -> int:
        lo = 1000.0
        if cheaper(lo, unbounded):
            return int(lo)
        while hi / lo > 1.001:  # 0.1 % is finer than any input's precision
            mid = math.sqrt(lo * hi)
            lo, hi = (lo, mid) if cheaper(mid, unbounded) else (mid, hi)
        return math.ceil(hi)

    if max_servable >= 1000 and cheaper(max_servable, False):
        return BreakEven(offer.name, bisect(max_servable, False), True, "within what maxNodes can serve")
    if cheaper(BREAK_EVEN_SEARCH_LIMIT, True):
        return BreakEven(offer.name, bisect(BREAK_EVEN_SEARCH_LIMIT, True), False,
                         f"beyond what maxNodes can serve ({max_servable:,.0f} requests/month): only with the GPU "
                         "pools' maxNodes/maxReplicas raised")
    return BreakEven(offer.name, None, False, f"self-hosting stays more expensive up to {human(BREAK_EVEN_SEARCH_LIMIT)} requests/month")


ARTICLE_VOLUME_RULE = 20_000_000
"""Seed article, "Decision Framework": above 20M requests/month self-hosting is usually cheaper."""
HYBRID_BAND = Decimal("0.15")


NO_OFFER = "undecided"
"""The verdict's choice when the stack compares no API offer and no set constraint decides."""


def verdict(spec: StackSpec, self_expected: Decimal, offers: list[ApiOffer], breaks: list[BreakEven], *,
            queued: dict[str, float] | None = None, capped_expected: Decimal | None = None,
            operations_excluded_usd: Decimal | None = None) -> Verdict:
    """The seed article's decision framework, in its order, with real costs for its volume step:
    data may not leave -> self-host; self-hosting clearly cheaper (beyond the 15 % band) -> self-host
    (hybrid when frontier quality is needed or the ship date is before the setup is done); then
    no ML engineers -> api; frontier quality -> api; ship date before setup -> api; within 15 % ->
    hybrid; else api. Only the constraints the stack sets vote (an unset one is unknown, not a
    default). With no API offer cost cannot decide: the verdict says so and is `undecided` unless a
    set constraint decides. `self_expected` is the fleet grown for the traffic when `queued` names
    regions whose maxNodes/maxReplicas cannot carry it (`capped_expected`: the fleet as configured)."""
    c = spec.constraints
    requests = spec.traffic.requests_per_month
    reasons: list[str] = []
    cheapest = min(offers, key=lambda o: o.monthly_usd(requests)) if offers else None
    api_cost = cheapest.monthly_usd(requests) if cheapest else None
    setup_weeks = spec.operations.setup_months * 4.35
    no_engineers = c.ml_engineers_available is False
    needs_frontier = c.frontier_quality_needed is True
    if cheapest is None:
        reasons.append("no API offer to compare against (apiComparison is empty): cost cannot decide this verdict; "
                       "list offers under apiComparison to compare")
    if queued:
        where = ", ".join(f"{region} {share:.1%}" for region, share in queued.items())
        reasons.append(f"the fleet capped at maxNodes cannot carry the traffic ({where} of the month's tokens would queue): "
                       f"compared on the fleet grown for it (${q(self_expected):,} a month, not the capped "
                       f"${q(capped_expected or self_expected):,}); raise maxNodes/maxReplicas to serve it")
    if cheapest:
        cmp = "cheaper" if self_expected < api_cost else "dearer"
        reasons.append(f"cost: self-hosted ${q(self_expected):,} a month vs ${q(api_cost):,} for the cheapest offer "
                       f"({cheapest.name}): self-hosting is {cmp}")
        be = next(b for b in breaks if b.offer == cheapest.name)
        if be.requests_per_month:
            reasons.append(f"break-even against {cheapest.name} at {be.requests_per_month:,} requests/month ({be.note})")
    side = "above" if requests > ARTICLE_VOLUME_RULE else "not above"
    reasons.append(f"rule of thumb: above {ARTICLE_VOLUME_RULE // 1_000_000}M requests/month self-hosting is usually "
                   f"cheaper (the decision framework of the article \"Open Source vs API-Based Models: The Real "
                   f"Trade-offs\", docs/sources.md \"Seed article\"); this stack's {requests:,} is {side} it (the costs "
                   "above decide)")
    if operations_excluded_usd is not None:
        reasons.append(f"people costs excluded (operations.include false or --exclude-operations): "
                       f"${q(operations_excluded_usd):,} a month of operations is not in the self-hosted side of the "
                       "verdict or the break-even")

    def done(choice: str, first: str | None = None, last: str | None = None) -> Verdict:
        why = decided(choice, on_cost_alone(spec, self_expected, api_cost), CONSTRAINT_RULES.get(rule), first)
        return Verdict(choice, ([first] if first else []) + reasons + ([last] if last else []), **why)

    no_ml = ("constraints.mlEngineersAvailable is false: self-hosting needs ML engineering capacity (GPUs, vLLM, model "
             "updates); the operations line assumes it is hired or contracted")
    frontier = "constraints.frontierQualityNeeded: frontier models are API-only (open models lag 6-12 months)"
    ship = (f"constraints.weeksToShip {c.weeks_to_ship} is shorter than the setup "
            f"({spec.operations.setup_months:g} months ~ {setup_weeks:.0f} weeks): ship on the API first")
    choice, rule = decide(spec, self_expected, api_cost)
    if rule in ("data", "cheaper", "cheaper-frontier", "cheaper-ship") and no_engineers:
        reasons.append(no_ml)
    if rule == "data" and needs_frontier:
        reasons.append("constraints.frontierQualityNeeded: open models lag frontier ones; check quality on your own evals")
    first, last = {
        "data": ("constraints.dataMayLeaveNetwork is false: prompts may not go to a third-party API", None),
        "cheaper-frontier": (frontier, "hybrid: frontier tasks on the API, routine traffic on the cheaper self-hosted model"),
        "cheaper-ship": (ship, "hybrid: launch on the API, move traffic to the self-hosted fleet once it is ready"),
        "cheaper": (None, "self-hosting is cheaper by more than 15 %"),
        "no-ml": ("constraints.mlEngineersAvailable is false: nobody to run GPUs, vLLM and model updates", None),
        "frontier": (frontier, None),
        "ship": (ship, None),
        "band": (None, "within 15 % on cost: run both (self-hosted primary, API as overflow and fallback)"),
    }.get(rule, (None, None))
    return done(choice, first, last)


def decide(spec: StackSpec, self_expected: Decimal, api_cost: Decimal | None) -> tuple[str, str]:
    """(choice, rule) of the decision framework for a self-hosted and a cheapest-API monthly cost (`verdict`
    words the reasons; the flip points and the growth projection ask this at other inputs). Rules, in order:
    `data` (self-host), `cheaper`/`cheaper-frontier`/`cheaper-ship` (self-host or hybrid), `no-ml`,
    `frontier`, `ship` (api), `no-offer` (undecided), `band` (hybrid), `dearer` (api)."""
    c = spec.constraints
    if c.data_may_leave_network is False:
        return "self-host", "data"
    needs_frontier = c.frontier_quality_needed is True
    ships_early = c.weeks_to_ship is not None and c.weeks_to_ship < spec.operations.setup_months * 4.35
    if api_cost is not None and self_expected < (1 - HYBRID_BAND) * api_cost:
        if needs_frontier:
            return "hybrid", "cheaper-frontier"
        if ships_early:
            return "hybrid", "cheaper-ship"
        return "self-host", "cheaper"
    if c.ml_engineers_available is False:
        return "api", "no-ml"
    if needs_frontier:
        return "api", "frontier"
    if ships_early:
        return "api", "ship"
    if api_cost is None:
        return NO_OFFER, "no-offer"
    if abs(self_expected - api_cost) <= HYBRID_BAND * api_cost:
        return "hybrid", "band"
    return "api", "dearer"
