"""The hybrid estimate (docs/hybrid.md): a stack with a `gateway` priced as the split it runs, against the same
traffic all self-hosted and all on APIs, and the fleet cap that makes the split cheapest.

**The split at one fleet cap** (`price_split`). The GPU fleet is sized, slot by slot over the capacity model's
day profile (`cli/capacity.py`, 96 slots of 15 minutes), for the self-hosted routes' share of the requests only;
the load balancer, internet egress and the gateway carry every request (the gateway answers API-served routes
too). In each slot the fleet's planned throughput (under the TPOT target, `planning_tokens_per_second`) first
serves the routes that cannot leave it (restricted routes, and self-hosted routes without `overflowTo`: the
gateway sends overflow-enabled routes away first, so the capacity goes to the traffic that has nowhere else to
go); what overflow-enabled routes need above what is left goes to their `overflowTo` offer instead of queueing,
in proportion to their shares. Traffic of routes that cannot leave above the cap still queues (as
`queuedShare` does today), and a cap that queues it misses the latency target. Of the requests the fleet serves
for a route with `overflowTo` or `fallbackTo`, `gateway.expectedUnavailability` (default 0.005, an assumption) go
to the offer the gateway tries first while the fleet fails: `overflowTo` (its next order, tried before the
fallbacks chain), else the first `fallbackTo`; a route with neither fails those requests (a restricted route fails
closed). A route served by
an API offer costs its share at that offer's price for the stack's token shape (genai-prices, as `apiComparison`).
The gateway's pods cost their share of a system node (the larger of their CPU and memory requests over the
node's vCPUs and memory, at the node's on-demand price, `minReplicas` expected and `maxReplicas` at most);
its calls to API providers leave through the region's NAT gateway (processed GB priced as NAT processing).

**The cheapest split** (`find_optimum`): the cap (replicas per region) is searched over every value from the
smallest that carries the routes that cannot leave (and at least the region's minReplicas) to the one at which
nothing overflows; regions are independent (each region's fleet, NAT and overflow depend on its own cap only),
so each takes its own cheapest cap. The price model runs once per candidate cap (about 2 ms); no program runs.
A range wider than `EXHAUSTIVE` caps is searched on a grid of `GRID_POINTS`, then on finer grids around each
region's best down to single caps (the curve is smooth in practice; tests check the shipped stack against every
cap).

**The pure choices**: pure self-hosted is every route's traffic on the fleet grown as needed (the restricted
routes' too) — the estimate's compared self-hosted cost; pure API is every route's traffic at its own offer
(`servedBy`, else `overflowTo`, else the first `fallbackTo`, else the cheapest `apiComparison` offer). A
restricted route cannot go to an API: pure API is then priced for the same traffic but is not an option, and the
verdict says so.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal

from cli import capacity
from cli.estimate import records
from cli.estimate.decision import Verdict, decided
from cli.estimate.line_item import HOURS, LineItem, Range, q
from cli.pricing.api import MILLION, ApiOffer
from infra import gateway_overflow, hardware
from infra.spec import SELF_HOSTED, GatewayRoute, StackSpec
from infra.spec.models import CHART_MAX_REPLICAS_MAX, offer_provider

EXHAUSTIVE = 24
"""A cap range this wide or narrower is searched cap by cap."""
GRID_POINTS = 8
"""A wider range: first this many evenly spread caps, then finer grids around each region's best."""
PATTERNS = {
    1: "pattern 1: launch on an API, move to self-hosting when volume justifies it",
    2: "pattern 2 or 4: some routes on an API (hard tasks, or a premium tier), the rest self-hosted",
    3: "pattern 3: self-hosted primary with an API for overflow and fallback",
}
"""The hybrid patterns of the seed article (docs/sources.md "Seed article"), in its words."""


def _quantity(text: str) -> float:
    """A Kubernetes CPU (`500m`, `2`) or memory (`1Gi`, `512Mi`) quantity as cores or MiB."""
    match = re.fullmatch(r"([0-9.]+)(m|Ki|Mi|Gi|Ti)?", text)
    if not match:
        raise ValueError(f"{text!r} is not a Kubernetes quantity this estimate reads")
    value, suffix = float(match.group(1)), match.group(2)
    return {None: value, "m": value / 1000, "Ki": value / 1024, "Mi": value, "Gi": value * 1024,
            "Ti": value * 1024 * 1024}[suffix]


@dataclass
class RouteSplit:
    """One route's month under the split: requests by where they are answered, and its cost."""

    route: GatewayRoute
    requests: Decimal
    api_requests: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    """(kind: served / overflow / fallback, offer) -> requests a month."""
    queued_requests: Decimal = Decimal(0)
    failed_requests: Decimal = Decimal(0)
    """Requests the fleet cannot answer while it is unavailable and that have no fallback (fail closed)."""
    monthly: Decimal = Decimal(0)
    """Its API spend plus its share of the self-hosted side (in proportion to the requests the fleet serves it)."""

    @property
    def api_total(self) -> Decimal:
        return sum(self.api_requests.values(), Decimal(0))

    @property
    def fleet_requests(self) -> Decimal:
        served = self.api_requests.get(("served", self.route.served_by), Decimal(0))
        overflow = sum((v for (k, _), v in self.api_requests.items() if k == "overflow"), Decimal(0))
        return self.requests - served - overflow


@dataclass
class Split:
    """The hybrid deployment at one fleet cap: its line items (AWS, people, gateway, API) and what they add to."""

    caps: dict[str, int]
    line_items: list[LineItem]
    plans: list[capacity.RegionCapacity]
    routes: list[RouteSplit]
    by_region: dict[str, Decimal]
    """Everything that moves with a region's cap: its AWS lines, its gateway's NAT, the API spend of its traffic."""
    api_share: float
    queued: dict[str, float]
    """Region -> share of the tokens of routes that cannot leave the fleet that queue at this cap."""
    overflow: dict[str, float]
    """Region -> share of the fleet's load (the self-hosted routes' tokens) that overflows to an API."""
    include_operations: bool = True

    @property
    def total(self) -> Decimal:
        return sum((li.monthly for li in self.line_items if self.include_operations or li.category != "operations"),
                   Decimal(0))

    def total_of(self, which: str) -> Decimal:
        return sum((getattr(li, which) for li in self.line_items
                    if self.include_operations or li.category != "operations"), Decimal(0))

    @property
    def api_monthly(self) -> Decimal:
        return sum((li.monthly for li in self.line_items if li.category == "api"), Decimal(0))


@dataclass
class CurvePoint:
    max_replicas: int
    """The cap tried (the largest region's, where regions' search ranges differ; `caps` has each)."""
    caps: dict[str, int]
    monthly: Decimal
    api_share: float


@dataclass
class HybridEstimate:
    configured: Split
    optimal: Split
    curve: list[CurvePoint]
    ranges: dict[str, tuple[int, int]]
    """Region -> (smallest cap that carries the routes that cannot leave, cap at which nothing overflows)."""
    pure_self_hosted: Decimal
    pure_api: Decimal | None
    pure_api_offers: dict[str, str]
    """Route -> the offer pure API prices it at."""
    restricted: list[GatewayRoute]
    unavailability: float
    unavailability_assumed: bool
    monthly_range: tuple[Decimal, Decimal, Decimal]
    """The configured split's monthly cost: low end, expected, high end (line-item ranges and throughput band)."""
    warnings: list[str] = field(default_factory=list)
    patterns: list[int] = field(default_factory=list)


class HybridModel:
    """Prices a stack's gateway split with one `CostModel` (cli/estimate/costs) and its resolved API offers."""

    def __init__(self, spec: StackSpec, costing, offers: list[ApiOffer]):
        if spec.gateway is None:
            raise ValueError("the stack has no gateway block")
        self.spec, self.costing, self.gateway = spec, costing, spec.gateway
        self.offers = {o.name: o for o in offers}
        self.requests = Decimal(spec.traffic.requests_per_month)
        self.fleet_share = sum(r.share for r in self.gateway.routes if r.served_by == SELF_HOSTED)
        overflowing = sum(r.share for r in self.gateway.routes if r.served_by == SELF_HOSTED and r.overflow_to)
        self.phi = overflowing / self.fleet_share if self.fleet_share else 0.0
        """Share of the fleet's load that may overflow."""
        self.shares = capacity.traffic_shares(spec)
        self.include_ops = spec.operations.include
        t = spec.traffic
        self.tokens_per_request = t.input_tokens_per_request + t.output_tokens_per_request
        self.profile = capacity.day_profile(t.peak_to_average)
        self._pods = {region.region: self._pod_lines(region.region) for region in spec.regions}
        self._splits: dict[tuple, Split] = {}
        self._fractions: dict[tuple[str, int], float] = {}

    # -- one cap

    def offer(self, name: str) -> ApiOffer:
        if name not in self.offers:  # the spec's checks keep every route's offer in apiComparison
            raise ValueError(f"gateway: offer {name!r} is not among the resolved apiComparison offers")
        return self.offers[name]

    def _overflow(self, plan: capacity.RegionCapacity, cache: dict) -> tuple[float, float, float]:
        """(share of the overflow-enabled load that overflows, share of the other load that queues, share of the
        region fleet's whole load that overflows) over the day profile at the plan's cap, slot by slot under the
        gateway's overflow rule (`infra.gateway_overflow`, the rule the rendered config deploys)."""
        region = next(r for r in self.spec.regions if r.region == plan.region)
        tiers = capacity.region_tiers(self.spec, region, cache)
        served = capacity.served_tokens_per_second(plan.max_replicas, tiers)
        fraction = self._overflow_fraction(region, plan.max_replicas)
        avg = plan.average_output_tokens_per_second
        over = stuck = 0.0
        for f in self.profile:
            o, w = gateway_overflow.share_slot(self.phi * avg * f, (1 - self.phi) * avg * f, served, fraction)
            over, stuck = over + o, stuck + w
        total = avg * sum(self.profile)
        if not total:
            return 0.0, 0.0, 0.0
        movable, fixed = self.phi * total, (1 - self.phi) * total
        return (over / movable if movable else 0.0), (stuck / fixed if fixed else 0.0), over / total

    def _overflow_fraction(self, region, cap: int) -> float:
        """The share of the region's fleet the overflow-enabled routes may hold at `cap` (their gateway limits)."""
        key = (region.region, cap)
        if key not in self._fractions:
            self._fractions[key] = gateway_overflow.overflow_plan(self.spec, region, cap).overflow_fraction
        return self._fractions[key]

    def configured_caps(self) -> dict[str, int]:
        """Each region's cap as configured: maxReplicas, within what maxNodes holds."""
        return {r.region: min(self.spec.replicas_for(r)[1], self.spec.pool_replica_capacity(r)) for r in self.spec.regions}

    def price_split(self, caps: dict[str, int] | None = None, *, throughput_cache: dict | None = None) -> Split:
        """The split with each region's fleet capped at `caps` (None: as configured, maxReplicas and maxNodes);
        priced once per caps at the predicted throughput."""
        caps = self.configured_caps() if caps is None else caps
        key = tuple(sorted(caps.items()))
        if throughput_cache is None and key in self._splits:
            return self._splits[key]
        split = self._price_split(caps, throughput_cache)
        if throughput_cache is None:
            self._splits[key] = split
        return split

    def _price_split(self, caps: dict[str, int], throughput_cache: dict | None) -> Split:
        cache = self.costing.throughput if throughput_cache is None else throughput_cache
        fleet_requests = self.spec.traffic.requests_per_month * self.fleet_share
        items, plans = self.costing.run(self.spec.traffic.requests_per_month, fleet_requests=fleet_requests,
                                        max_replicas=caps, throughput_cache=cache)
        u = Decimal(str(self.gateway.expected_unavailability))
        routes = [RouteSplit(r, self.requests * Decimal(str(r.share))) for r in self.gateway.routes]
        region_api: dict[str, Decimal] = {p.region: Decimal(0) for p in plans}
        region_api_requests: dict[str, Decimal] = {p.region: Decimal(0) for p in plans}
        queued: dict[str, float] = {}
        overflowed: dict[str, float] = {}
        shown = []
        for plan in plans:
            overflow, stuck, moved_share = self._overflow(plan, cache)
            if stuck > 0:
                queued[plan.region] = stuck
            overflowed[plan.region] = moved_share
            # what the fleet leaves queueing is the stuck routes' tokens only: overflow is not a queue
            shown.append(replace(plan, queued_share=stuck * (1 - self.phi)))
            share = Decimal(str(plan.traffic_share))
            for rs in routes:
                r = rs.route
                mine = rs.requests * share
                calls: list[tuple[str, str, Decimal]] = []
                if r.served_by != SELF_HOSTED:
                    calls.append(("served", r.served_by, mine))
                else:
                    moved = mine * Decimal(str(overflow)) if r.overflow_to and r.data_class != "restricted" else Decimal(0)
                    if moved:
                        calls.append(("overflow", r.overflow_to, moved))
                    if not r.overflow_to:
                        rs.queued_requests += mine * Decimal(str(stuck))
                    on_fleet = mine - moved
                    down = on_fleet * u
                    # the gateway tries the route's next order (its overflow offer) before its fallbacks chain
                    # (docs/gateway.md "Overflow"): while the fleet fails, that offer answers first
                    answers = r.overflow_to or (r.fallback_to[0] if r.fallback_to else None)
                    if answers and r.data_class != "restricted":
                        calls.append(("fallback", answers, down))
                    else:
                        rs.failed_requests += down
                for kind, offer, n in calls:
                    if not n:
                        continue
                    rs.api_requests[(kind, offer)] = rs.api_requests.get((kind, offer), Decimal(0)) + n
                    region_api[plan.region] += n * self.offer(offer).request_usd
                    region_api_requests[plan.region] += n
        lines = list(items)
        for plan in plans:
            lines.extend(self._pods[plan.region])
            lines.extend(self._nat_lines(plan.region, region_api_requests[plan.region]))
        lines.extend(self._api_lines(routes))
        by_region = {p.region: sum((li.monthly for li in lines if li.region == p.region), Decimal(0)) + region_api[p.region]
                     for p in plans}
        split = Split(caps={p.region: p.max_replicas for p in plans}, line_items=lines, plans=shown, routes=routes,
                      by_region=by_region, api_share=0.0, queued=queued, overflow=overflowed,
                      include_operations=self.include_ops)
        api_requests = sum((rs.api_total for rs in routes), Decimal(0))
        split.api_share = float(api_requests / self.requests) if self.requests else 0.0
        self._route_costs(split)
        return split

    def _route_costs(self, split: Split) -> None:
        """Each route: its API lines plus the self-hosted side in proportion to the requests the fleet serves it."""
        self_side = split.total - split.api_monthly
        on_fleet = sum((rs.fleet_requests for rs in split.routes if rs.route.served_by == SELF_HOSTED), Decimal(0))
        for rs in split.routes:
            api = sum((n * self.offer(o).request_usd for (_, o), n in rs.api_requests.items()), Decimal(0))
            mine = rs.fleet_requests if rs.route.served_by == SELF_HOSTED else Decimal(0)
            rs.monthly = q(api + (self_side * mine / on_fleet if on_fleet else Decimal(0)))

    def _api_lines(self, routes: list[RouteSplit]) -> list[LineItem]:
        lines = []
        u = self.gateway.expected_unavailability
        for rs in routes:
            for (kind, offer_name), n in rs.api_requests.items():
                offer = self.offer(offer_name)
                mtok = n * self.tokens_per_request / MILLION
                per_mtok = offer.request_usd * MILLION / self.tokens_per_request
                what = {"served": f"served by {offer_name} (share {rs.route.share:g})",
                        "overflow": f"overflow to {offer_name}: requests above the fleet's cap",
                        "fallback": f"fallback to {offer_name}: expected unavailability {u:g} of what the fleet serves"}[kind]
                lines.append(LineItem.fixed("global", rs.route.name, "api", what, "MTok", mtok, per_mtok,
                                            offer.source + (f"; {offer.tiers}" if offer.tiers else ""), usage_based=True,
                                            monthly=n * offer.request_usd))
        return lines

    def _pod_lines(self, region: str) -> list[LineItem]:
        from infra.gateway_config import GATEWAY_CPU_REQUEST, GATEWAY_MEMORY_REQUEST  # pure; only for gateway stacks

        system = next((ng for ng in self.costing.ctx.of(records.NodeGroup, region) if ng.gpu_pool is None), None)
        if system is None:
            return []
        it = hardware.instance_type(system.instance_type)
        cpu, mem = _quantity(GATEWAY_CPU_REQUEST), _quantity(GATEWAY_MEMORY_REQUEST)
        per_pod = max(cpu / it.vcpus, mem / it.memory_mib)
        price = self.costing.ctx.book.instance(region, system.instance_type, "on-demand")
        g = self.gateway
        low, high = Decimal(str(round(g.min_replicas * per_pod, 4))), Decimal(str(round(g.max_replicas * per_pod, 4)))
        if g.max_replicas * per_pod > system.desired_nodes / 2:
            self.costing.ctx.warnings.append(
                f"{region}: the gateway's {g.max_replicas} pods at most ({GATEWAY_CPU_REQUEST} CPU, {GATEWAY_MEMORY_REQUEST} "
                f"each) take more than half of the {system.desired_nodes} x {system.instance_type} system nodes "
                "the other system pods need: raise cluster.systemNodes.nodes or its instanceType")
        return [LineItem.ranged(region, f"{region} gateway", "system-compute",
                                f"gateway pods: {g.min_replicas} expected (max {g.max_replicas}) x {GATEWAY_CPU_REQUEST} CPU / "
                                f"{GATEWAY_MEMORY_REQUEST}, {per_pod:.1%} of a {system.instance_type} system node each",
                                "node-hours", _range(low * HOURS, high * HOURS), price.usd_per_hour,
                                f"{price.source} {price.dated}; share of a system node (docs/hybrid.md)")]

    def _nat_lines(self, region: str, api_requests: Decimal) -> list[LineItem]:
        ctx = self.costing.ctx
        if not api_requests or not ctx.of(records.NatGateway, region):
            return []
        gb = api_requests * (ctx.in_gb_per_request + ctx.out_gb_per_request)
        price, note = ctx.book.platform(region, "natGatewayPerGb")
        return [LineItem.fixed(region, f"{region} gateway", "nat",
                               f"NAT processing of the gateway's API calls: {api_requests:,.0f} requests/month "
                               "(prompts out, streamed responses in)", "GB", gb, price, note, usage_based=True)]

    # -- the search

    def ranges(self) -> dict[str, tuple[int, int]]:
        """Region -> (lowest cap that keeps the routes that cannot leave from queueing, cap with no overflow), both
        within what the vLLM chart deploys (CHART_MAX_REPLICAS_MAX)."""
        out = {}
        fleet = self.spec.traffic.requests_per_month * self.fleet_share
        peak = max(self.profile)
        for region in self.spec.regions:
            tiers = capacity.region_tiers(self.spec, region, self.costing.throughput)
            avg = fleet * self.shares[region.region] * self.spec.traffic.output_tokens_per_request / capacity.SECONDS_PER_MONTH
            low = min(CHART_MAX_REPLICAS_MAX, max(self.spec.replicas_for(region)[0], 1,
                                                  capacity.replicas_for_load((1 - self.phi) * avg * peak, tiers)))
            high = max(low, capacity.replicas_for_load(avg * peak, tiers))
            # the overflow routes hold at most their limit's share of the fleet: grow the cap until it takes their peak
            while high < CHART_MAX_REPLICAS_MAX and self.phi * avg * peak > 1e-9 + self._overflow_fraction(
                    region, high) * capacity.served_tokens_per_second(high, tiers):
                high += 1
            out[region.region] = (low, min(high, CHART_MAX_REPLICAS_MAX))
        return out

    def find_optimum(self) -> tuple[Split, list[CurvePoint], dict[str, tuple[int, int]]]:
        """The cheapest cap per region: every cap of a range of at most EXHAUSTIVE caps; a wider one on a grid
        of GRID_POINTS, then on finer grids around the region's best (step / 4 each time, down to 1). Regions
        are independent, so one pricing tries the i-th candidate of every region at once."""
        ranges = self.ranges()
        costs: dict[str, dict[int, Decimal]] = {r: {} for r in ranges}
        tried: list[Split] = []

        def price(candidates: dict[str, list[int]]) -> None:
            for i in range(max(len(v) for v in candidates.values())):
                caps = {r: (v[min(i, len(v) - 1)] if v else min(costs[r], key=lambda c: (costs[r][c], c)))
                        for r, v in candidates.items()}
                split = self.price_split(caps)
                tried.append(split)
                for r, c in caps.items():
                    costs[r][c] = split.by_region[r]

        steps = {r: 1 if b - a + 1 <= EXHAUSTIVE else math.ceil((b - a) / GRID_POINTS) for r, (a, b) in ranges.items()}
        price({r: sorted({*range(a, b + 1, steps[r]), b}) for r, (a, b) in ranges.items()})
        while any(step > 1 for step in steps.values()):
            finer = {r: max(1, step // 4) for r, step in steps.items()}
            candidates = {}
            for r, (a, b) in ranges.items():
                best = min(costs[r], key=lambda c: (costs[r][c], c))
                near = range(best - steps[r] + finer[r], best + steps[r], finer[r]) if steps[r] > 1 else ()
                candidates[r] = [c for c in near if a <= c <= b and c not in costs[r]]
            if any(candidates.values()):
                price(candidates)
            steps = finer
        caps = {r: min(costs[r], key=lambda c: (costs[r][c], c)) for r in ranges}
        optimal = self.price_split(caps)
        seen, curve = set(), []
        for split in sorted(tried, key=lambda s: (max(s.caps.values()), tuple(sorted(s.caps.items())))):
            key = tuple(sorted(split.caps.items()))
            if key not in seen:
                seen.add(key)
                curve.append(CurvePoint(max(split.caps.values()), split.caps, split.total, split.api_share))
        return optimal, curve, ranges


def _range(low: Decimal, high: Decimal) -> Range:
    return Range(low, low, high)


def pure_api(spec: StackSpec, offers: list[ApiOffer]) -> tuple[Decimal | None, dict[str, str]]:
    """Every route's traffic on an API: its own offer (servedBy, else overflowTo, else the first fallbackTo), else
    the cheapest apiComparison offer; None when a route has no offer to go to."""
    by_name = {o.name: o for o in offers}
    requests = spec.traffic.requests_per_month
    cheapest = min(offers, key=lambda o: o.monthly_usd(requests)) if offers else None
    total, chosen = Decimal(0), {}
    for r in spec.gateway.routes:
        name = (r.served_by if r.served_by != SELF_HOSTED else r.overflow_to or (r.fallback_to[0] if r.fallback_to else None))
        offer = by_name.get(name) if name else cheapest
        if offer is None:
            return None, {}
        chosen[r.name] = offer.name
        total += offer.monthly_usd(Decimal(requests) * Decimal(str(r.share)))
    return total, chosen


def patterns(spec: StackSpec) -> list[int]:
    """The seed article's hybrid patterns this gateway's routes follow."""
    routes = spec.gateway.routes
    found = []
    c = spec.constraints
    if c.weeks_to_ship is not None and c.weeks_to_ship < spec.operations.setup_months * 4.35:
        found.append(1)
    on_api = [r for r in routes if r.served_by != SELF_HOSTED]
    at_home = [r for r in routes if r.served_by == SELF_HOSTED]
    if any(r.overflow_to or r.fallback_to for r in at_home):
        found.append(3)
    if on_api and at_home:
        found.append(2)
    return found


def provider_budget_warnings(spec: StackSpec, model: HybridModel, split) -> list[str]:
    """A provider whose budget (`gateway_config.provider_monthly_budgets`) is below what the split pays it: the
    gateway refuses that provider part-way through the month, and the overflow it carries queues instead."""
    from infra.gateway_config import provider_monthly_budgets

    spend: dict[str, Decimal] = {}
    for rs in split.routes:
        for (_, offer), n in rs.api_requests.items():
            provider = offer_provider(offer)
            spend[provider] = spend.get(provider, Decimal(0)) + n * model.offer(offer).request_usd
    given = spec.gateway.provider_budgets_monthly_usd is not None
    out = []
    for provider, budget in provider_monthly_budgets(spec).items():
        paid = spend.get(provider, Decimal(0))
        if paid > Decimal(str(budget)):
            how = ("gateway.providerBudgetsMonthlyUsd gives it" if given else
                   "its even share of gateway.apiBudgetMonthlyUsd is")
            out.append(f"the split pays {provider} ${q(paid):,} a month but {how} ${budget:,.2f}: the gateway refuses "
                       f"{provider} after about {float(Decimal(str(budget)) / paid) * 30:.0f} days and its overflow then "
                       "queues; set gateway.providerBudgetsMonthlyUsd (docs/gateway.md \"The budget\")")
    return out


def estimate_hybrid(spec: StackSpec, costing, offers: list[ApiOffer], pure_self_hosted: Decimal) -> HybridEstimate:
    """The configured split, its cost range, the cheapest split and the pure choices for the same traffic."""
    model = HybridModel(spec, costing, offers)
    configured = model.price_split()
    band_totals = []
    for end in ("low", "high"):
        cache = {key: th.at_band(end) for key, th in costing.throughput.items()}
        band_totals.append(model.price_split(None, throughput_cache=cache).total)
    optimal, curve, ranges = model.find_optimum()
    api_total, chosen = pure_api(spec, offers)
    g = spec.gateway
    warnings = []
    for region in spec.regions:
        batches = capacity.replica_planned_batch(spec, region, costing.throughput)
        pool, batch = min(batches.items(), key=lambda kv: kv[1])
        if g.replica_concurrency > batch:
            warnings.append(
                f"{region.region}: gateway.replicaConcurrency {g.replica_concurrency} exceeds the capacity model's planned "
                f"batch of {batch} requests per replica ({pool}, at the TPOT target {spec.traffic.tpot_target_ms} ms): the "
                "gateway counts more requests in flight at the fleet than it is sized for, so overflow comes too late "
                f"(the fleet queues past its latency target first); set gateway.replicaConcurrency to {batch}")
    for region, share in configured.queued.items():
        warnings.append(f"{region}: the fleet as configured (maxReplicas/maxNodes) leaves {share:.1%} of the tokens of "
                        "routes that cannot leave it (restricted, or no overflowTo) queueing at the peaks; "
                        f"the cheapest split caps it at {optimal.caps[region]} replicas")
    if g.api_budget_monthly_usd is not None:
        for name, split in (("as configured", configured), ("at the cheapest cap", optimal)):
            if split.api_monthly > Decimal(str(g.api_budget_monthly_usd)):
                warnings.append(f"the split {name} spends ${q(split.api_monthly):,} a month on APIs, above "
                                f"gateway.apiBudgetMonthlyUsd ${g.api_budget_monthly_usd:,.0f}: past the budget the gateway "
                                "refuses API calls (overflow then queues, fallback fails); raise the budget or the fleet")
        warnings += provider_budget_warnings(spec, model, configured)
        if g.max_replicas > g.min_replicas:
            ceiling = g.api_budget_monthly_usd * g.max_replicas / g.min_replicas
            warnings.append(
                f"gateway.apiBudgetMonthlyUsd ${g.api_budget_monthly_usd:,.0f} holds while the gateway runs at its "
                f"minReplicas {g.min_replicas} a region: each pod counts its own share of the budget (no shared "
                f"store), so scaled out to maxReplicas {g.max_replicas} the gateway may spend up to ${ceiling:,.0f} "
                "a month on APIs (docs/gateway.md \"The budget\")")
    low = min([configured.total_of("monthly_min")] + band_totals)
    high = max([configured.total_of("monthly_max")] + band_totals)
    return HybridEstimate(
        configured=configured, optimal=optimal, curve=curve, ranges=ranges, pure_self_hosted=pure_self_hosted,
        pure_api=api_total, pure_api_offers=chosen, restricted=[r for r in g.routes if r.data_class == "restricted"],
        unavailability=g.expected_unavailability,
        unavailability_assumed="expected_unavailability" not in g.model_fields_set,
        monthly_range=(low, configured.total, high), warnings=warnings, patterns=patterns(spec))


def _saving(best: Decimal, other: Decimal) -> str:
    diff = other - best
    pct = f" ({diff / other:.0%})" if other else ""
    return f"${q(diff):,}{pct}" if diff >= 0 else f"-${q(-diff):,} (dearer)"


def hybrid_choice(spec: StackSpec, base: str, best: Decimal, pure_self_hosted: Decimal, pure_api_usd: Decimal | None,
                  restricted: bool) -> str:
    """The verdict's choice for a stack with a gateway (the rules `hybrid_verdict` words; `--sensitivity` and
    `--growth` ask them at other inputs): `base` is `decide`'s choice for the pure costs, `best` the cheapest split."""
    c = spec.constraints
    rules_out = c.data_may_leave_network is False or c.ml_engineers_available is False
    beats_self = best < pure_self_hosted
    beats_api = pure_api_usd is None or best < pure_api_usd
    if rules_out or not beats_self or not (beats_api or restricted):
        return "self-host" if base == "api" and restricted and not rules_out else base
    return "hybrid"


def hybrid_verdict(spec: StackSpec, base: Verdict, h: HybridEstimate) -> Verdict:
    """The verdict of a stack with a gateway. `hybrid` when the cheapest split costs less than pure self-hosted and
    less than pure API, or less than pure self-hosted where pure API is not an option (a restricted route's traffic
    may not go to an API). A constraint that rules the fleet out keeps the standard verdict (data may not leave:
    every route stays home; no ML engineers: nobody runs the fleet). Otherwise the standard verdict stands, with
    the split's cost among its reasons; an `api` verdict becomes `self-host` where a restricted route forbids it."""
    c = spec.constraints
    best = h.optimal.total
    caps = ", ".join(f"{r} {n}" for r, n in h.optimal.caps.items())
    configured = ", ".join(f"{r} {n}" for r, n in h.configured.caps.items())
    names = [r.name for r in h.restricted]
    blocked = (f"pure API is not an option: the restricted route(s) {', '.join(names)} "
               f"({sum(r.share for r in h.restricted):.0%} of the requests) may not leave the fleet (they fail closed "
               "rather than go to an API); pure API is priced for the same traffic only to compare") if names else None
    pure_api = (f"${q(h.pure_api):,} (each route at its own offer: "
                + ", ".join(f"{route} {offer}" for route, offer in h.pure_api_offers.items()) + ")"
                if h.pure_api is not None else "not priced (a route has no offer and apiComparison is empty)")
    costs = (f"hybrid at its cheapest ${q(best):,} a month (fleet capped at maxReplicas {caps}; API share "
             f"{h.optimal.api_share:.1%} of the tokens) vs pure self-hosted ${q(h.pure_self_hosted):,} (every route's "
             f"traffic on the fleet grown for it) and pure API {pure_api}")
    as_configured = (f"the split as configured (maxReplicas {configured}) costs ${q(h.configured.total):,} a month, API "
                     f"share {h.configured.api_share:.1%}")
    assumption = (f"fallback priced at gateway.expectedUnavailability {h.unavailability:g} of the fleet's requests"
                  + (" (the default assumption; set your own)" if h.unavailability_assumed else " (the stack's own)"))
    beats_api = h.pure_api is None or best < h.pure_api
    rules_out = c.data_may_leave_network is False or c.ml_engineers_available is False
    # what the costs alone give: no constraint set, no route restricted (decision.decided)
    unset = spec.model_copy(update={"constraints": type(c)()})
    cost_choice = hybrid_choice(unset, base.on_cost_alone or base.choice, best, h.pure_self_hosted, h.pure_api, False)

    def why(choice: str, text: str | None) -> dict:
        if base.decided_by not in (None, "cost"):  # a constraint of the standard framework turned it
            return decided(choice, cost_choice, base.decided_by, base.constraint)
        return decided(choice, cost_choice, "gateway.routes[].dataClass" if names else None, text)

    if hybrid_choice(spec, base.choice, best, h.pure_self_hosted, h.pure_api, bool(names)) != "hybrid":
        extra = [f"hybrid is not the cheapest: {costs}" if not rules_out else f"hybrid priced for reference: {costs}",
                 as_configured] + ([blocked] if blocked else [])
        if base.choice == "api" and names and not rules_out:
            return Verdict("self-host", [f"not api: {blocked}"] + extra + base.reasons, **why("self-host", blocked))
        return Verdict(base.choice, base.reasons + extra, **why(base.choice, blocked))
    named = "; ".join(PATTERNS[p] for p in h.patterns) or "routes split between the fleet and APIs"
    vs_api = (f"{_saving(best, h.pure_api)} against pure API" if h.pure_api is not None else "pure API has no price")
    reasons = [f"hybrid ({named}): saves {_saving(best, h.pure_self_hosted)} a month against pure self-hosted and {vs_api}",
               costs, as_configured]
    if names:
        reasons.append(f"the privacy question: {', '.join(names)} stay(s) on the fleet; {blocked}"
                       + ("" if beats_api else ": the split is the cheapest option that keeps them home"))
    reasons.append(assumption)
    return Verdict("hybrid", reasons + base.reasons, **why("hybrid", blocked))
