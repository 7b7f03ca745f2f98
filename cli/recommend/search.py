"""The search: the cheapest fleets that carry the stack's traffic within its latency targets.

Dimensions: precision (the stack's own, BF16, FP8 on GPUs with FP8 tensor cores) x tensorParallel (1, 2, 4, 8;
stack-wide, as the spec has it) x, per region, GPU instance type x capacity type (on-demand, spot where the
catalog has Spot Advisor data, reserved-1y where it has a reserved price, and the spot share: a floor pool on
on-demand or reserved-1y with minNodes = maxNodes = k listed first and a spot pool of the same instance type
taking the burst) x pool bounds (minNodes: the replica floor the stack asks for, one node per zone for its
first replicas; for reserved-1y every count from it to the peak; a mixed floor every k from it, at least 1, to
the peak; maxNodes: the peak plus a node for a rollout's surge pod). The stack's regions, traffic shares,
replica floor, targets and everything else stay. A reservation the stack already holds (reserved-1y pools) stays
billed for options that do not use it (`commitments`).

Analytic, no program run: for each (precision, tensorParallel, instance type) a replica's throughput comes from
the capacity model once (`capacity.replica_throughput`), each region's nodes per slot from its capacity plan
(`capacity.plan_region`, cached by what it depends on), and every capacity type, minNodes and floor size is
priced from those nodes in floats (`costing.pool_usd`; a mixed region's spot pool from `costing.burst_days`, the
planner's fill order). With precision and tensorParallel fixed the regions are independent,
so the cheapest fleet takes each region's cheapest choice and the next ones come from a best-first walk over the
per-region lists (`k_best`); `tests/cli/test_recommend.py` checks the result against exhaustive enumeration.

Hybrid hook: an option's cost is its fleet's plus `Option.overflow_usd`, the API bill for the share of traffic
the fleet does not serve (`api_share`). `search(..., overflow=None)` searches api_share 0 only; the hybrid split
(issue 14: fleet cap with API overflow) plugs in an `Overflow` that names the shares to try and prices the API
side, and the fleet is sized for the rest (`requests x (1 - share)`).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cli import capacity
from cli.estimate.prices import PriceBook
from cli.estimate.usage import UsageAssumptions
from cli.recommend import costing
from infra import hardware
from infra.price_catalog import MissingPrice, PriceCatalog
from infra.spec import GpuPoolSpec, RegionSpec, StackSpec
from infra.spec.checks import fit_report
from infra.spec.models import CHART_MAX_REPLICAS_MAX

TENSOR_PARALLEL = (1, 2, 4, 8)
FLOOR_TYPES = ("on-demand", "reserved-1y")
"""Capacity types a mixed region's floor pool may have (its burst pool is spot)."""
MIXED_TYPES = tuple(f"{floor}+spot" for floor in FLOOR_TYPES)
"""A mixed region: a floor pool (`minNodes` = `maxNodes` = k) of the floor type listed first, and a spot pool of
the same instance type (minNodes 0) that takes what the floor does not (the spot-share axis)."""
CAPACITY_TYPES = ("on-demand", "spot", "reserved-1y", *MIXED_TYPES)
PRECISIONS = {"bf16": {"dtype": "bfloat16", "quantization": None}, "fp8": {"quantization": "fp8"}}
"""Precision label -> the model keys it sets. The stack's own precision (e.g. awq, float16) is searched as well."""
CHECKPOINT_QUANTIZATIONS = ("awq", "gptq")
"""Quantizations that name how the weights repo itself is stored: vLLM reads the method from the checkpoint's
`quantization_config` and refuses a `--quantization` that differs (docs/sources.md "Pre-quantized checkpoint"), and
serving it as BF16 is not what its weights are. Such a stack is searched at its own precision only."""

# Why a family (instance type in a region) was rejected, most fundamental first: a family keeps the first reason
# it met under every precision and tensorParallel tried.
REASONS = ("not-offered", "no-figures", "does-not-fit", "misses-tpot", "misses-ttft", "over-replica-limit",
           "over-budget")


@dataclass(frozen=True)
class Space:
    """What the search may choose; None: everything the model, the hardware tables and the catalog allow."""

    instance_types: tuple[str, ...] | None = None
    tensor_parallel: tuple[int, ...] = TENSOR_PARALLEL
    precisions: tuple[str, ...] | None = None
    capacity_types: tuple[str, ...] = CAPACITY_TYPES


@dataclass(frozen=True)
class Overflow:
    """The hybrid split's hook: API shares to try and the API's monthly cost of a share (issue 14)."""

    shares: tuple[float, ...]
    api_usd: Callable[[float], float]


@dataclass(frozen=True)
class PoolChoice:
    """One GPU pool of a region's choice, in the order the stack lists them (the order the planner fills them)."""

    capacity_type: str
    min_nodes: int
    max_nodes: int
    expected_nodes: float
    usd: float
    """The pool's monthly cost (the region's weights mirror counted with its first pool; no carried reservation)."""


@dataclass(frozen=True)
class RegionChoice:
    """One region's fleet in a candidate: one pool (`capacity_type`, `min_nodes`, `max_nodes`) or, with
    `burst_max_nodes`, a floor pool of those bounds (minNodes = maxNodes) and a spot pool of the same instance type
    listed after it; with what it costs and how it performs."""

    region: str
    instance_type: str
    capacity_type: str
    min_nodes: int
    max_nodes: int
    min_replicas: int
    max_replicas: int
    usd: float
    """Fleet-dependent monthly cost in the region (costing.pool_usd of each pool, the mirror, `carried_usd`)."""
    expected_nodes: float
    """Both pools' together."""
    throughput: capacity.ReplicaThroughput
    batch: int
    tpot_ms: float
    ttft_ms: float
    headroom: float | None
    """Output tok/s the region's max replicas serve over its peak load, less 1 (None without traffic)."""
    measured: bool = False
    burst_max_nodes: int = 0
    """maxNodes of the spot pool after the floor pool (minNodes 0); 0: one pool only."""
    burst_expected_nodes: float = 0.0
    burst_usd: float = 0.0
    carried_usd: float = 0.0
    """A reservation the stack holds in the region that this choice does not write as reserved-1y: still billed, less
    the on-demand hours of the choice's nodes of its type it covers (`_carried`; negative where it covers more)."""
    carried_note: str | None = None
    commit_note: str | None = None
    """The reserved-1y nodes this choice adds to what the stack reserves: a new 1-year commitment (`_commit_note`)."""

    @property
    def mixed(self) -> bool:
        return self.burst_max_nodes > 0

    @property
    def label(self) -> str:
        """The capacity type as `--capacity-types` names it (`on-demand+spot` for a floor and a spot burst)."""
        return f"{self.capacity_type}+spot" if self.mixed else self.capacity_type

    @property
    def pools(self) -> list[PoolChoice]:
        first = PoolChoice(self.capacity_type, self.min_nodes, self.max_nodes,
                           self.expected_nodes - self.burst_expected_nodes, self.usd - self.burst_usd - self.carried_usd)
        if not self.mixed:
            return [first]
        return [first, PoolChoice("spot", 0, self.burst_max_nodes, self.burst_expected_nodes, self.burst_usd)]

    @property
    def total_max_nodes(self) -> int:
        return self.max_nodes + self.burst_max_nodes


@dataclass
class Option:
    precision: str
    tensor_parallel: int
    regions: list[RegionChoice]
    api_share: float = 0.0
    overflow_usd: float = 0.0
    monthly_usd: float | None = None
    """The whole stack's expected monthly cost: its fleet cost plus the base (set by `cli.recommend.recommend`)."""
    exact: bool = False
    """monthly_usd is the estimate's own number for this fleet (the program ran for it: the winner)."""
    feasible: bool = True
    why_not: str | None = None

    @property
    def fleet_usd(self) -> float:
        return sum(r.usd for r in self.regions) + self.overflow_usd

    @property
    def key(self) -> tuple:
        return (self.precision, self.tensor_parallel, self.api_share,
                tuple((r.instance_type, r.capacity_type, r.min_nodes, r.burst_max_nodes) for r in self.regions))

    @property
    def carried_usd(self) -> float:
        """The stack's reservations this fleet leaves unused, still billed a month (in `fleet_usd`)."""
        return sum(r.carried_usd for r in self.regions)

    @property
    def notes(self) -> list[str]:
        return [note for r in self.regions for note in (r.carried_note, r.commit_note) if note]


@dataclass
class Rejection:
    instance_type: str
    region: str
    kind: str
    reason: str


@dataclass
class Result:
    spec: StackSpec
    options: list[Option]
    """The cheapest fleets, cheapest first (at most `top`)."""
    rejected: list[Rejection]
    searched: int
    """Region choices priced (instance type x capacity type x minNodes, per region, precision, tensorParallel)."""
    groups: dict[tuple[str, int], list[list[RegionChoice]]] = field(default_factory=dict)
    """Per (precision, tensorParallel): each region's choices, cheapest first (for the budget check and tests)."""


def precision_of(spec: StackSpec) -> str:
    """The stack's own precision as a label: its quantization, else its dtype (bfloat16 -> bf16)."""
    m = spec.model
    if m.quantization:
        return m.quantization
    return {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}[m.dtype]


def searchable_precisions(spec: StackSpec) -> tuple[str, ...]:
    """The precisions the stack's weights can be served at: its own, and BF16 and FP8 unless its checkpoint is
    pre-quantized (`CHECKPOINT_QUANTIZATIONS`)."""
    own = precision_of(spec)
    return (own,) if own in CHECKPOINT_QUANTIZATIONS else tuple(dict.fromkeys((own, *PRECISIONS)))


def with_model(spec: StackSpec, precision: str, tensor_parallel: int) -> StackSpec:
    """The stack with another precision and tensorParallel (nothing else changes)."""
    update: dict = {"tensor_parallel": tensor_parallel}
    if precision != precision_of(spec):
        update.update(PRECISIONS[precision])
    return spec.model_copy(update={"model": spec.model.model_copy(update=update)})


def candidate_types(region: str, catalog: PriceCatalog, only: tuple[str, ...] | None) -> tuple[list[str], list[Rejection]]:
    """GPU instance types the search may use in a region, and the others with why not."""
    out, rejected = [], []
    priced = catalog.data["instances"].get(region, {})
    known = hardware.offerings_known(region)
    for name, it in sorted(hardware.gpu_instance_types().items()):
        if only is not None and name not in only:
            continue
        if known and not hardware.offered_in(region, name):
            rejected.append(Rejection(name, region, "not-offered", f"not offered in the region ({hardware.offerings_snapshot()})"))
        elif name not in priced:
            rejected.append(Rejection(name, region, "not-offered", "the price catalog has no price for it in the region"))
        elif it.gpu_model is None:
            rejected.append(Rejection(name, region, "no-figures", f"no sourced throughput figures for its {it.gpu_name} GPU"))
        else:
            out.append(name)
    return out, rejected


class _Family:
    """The first reason each (instance type, region) failed, by REASONS order."""

    def __init__(self) -> None:
        self.reasons: dict[tuple[str, str], tuple[int, float, str, str]] = {}
        self.served: set[tuple[str, str]] = set()

    def fail(self, name: str, region: str, kind: str, reason: str, shortfall: float = 0.0) -> None:
        """Record a failure; of two of the same kind the smaller `shortfall` (how far from working) is kept, so a
        model that fits nowhere is reported at its closest precision and tensorParallel."""
        key = (REASONS.index(kind), shortfall)
        old = self.reasons.get((name, region))
        if old is None or key < old[:2]:
            self.reasons[(name, region)] = (*key, kind, reason)


def search(spec: StackSpec, catalog: PriceCatalog, *, space: Space | None = None, top: int = 5,
           usage: UsageAssumptions | None = None, overflow: Overflow | None = None) -> Result:
    """The `top` cheapest fleets (their fleet-dependent cost; `cli.recommend.recommend` adds the base) and the
    rejected families."""
    space = space or Space()
    usage = usage or UsageAssumptions()
    book = PriceBook(catalog)
    own = precision_of(spec)
    allowed = searchable_precisions(spec)
    precisions = tuple(p for p in (space.precisions or allowed) if p in allowed)
    shares = capacity.traffic_shares(spec)
    family = _Family()
    rejected: list[Rejection] = []
    types: dict[str, list[str]] = {}
    for region in spec.regions:
        types[region.region], out = candidate_types(region.region, catalog, space.instance_types)
        rejected += out
    prices = {r.region: costing.RegionPrices.of(book, r.region) for r in spec.regions}
    held = commitments(spec, catalog)
    split = overflow.shares if overflow else (0.0,)
    searched = 0
    options: list[Option] = []
    groups: dict[tuple[str, int], list[list[RegionChoice]]] = {}
    plans: dict[tuple, tuple[list[int], int, float, dict]] = {}
    for precision in precisions:
        for tp in space.tensor_parallel:
            sized = with_model(spec, precision, tp)
            for share in split:
                requests = spec.traffic.requests_per_month * (1 - share)
                per_region = []
                for region in spec.regions:
                    choices, n = _region_choices(sized, region, precision, tp, types[region.region], space, catalog,
                                                 prices[region.region], usage, requests, shares[region.region], family,
                                                 plans, own=(own, spec.model.tensor_parallel),
                                                 committed=held.get(region.region, ()),
                                                 replica_limit=None if overflow else CHART_MAX_REPLICAS_MAX)
                    searched += n
                    per_region.append(choices)
                if share == 0.0:
                    groups[(precision, tp)] = per_region
                if any(not c for c in per_region):
                    continue
                extra = overflow.api_usd(share) if overflow and share else 0.0
                for picks in k_best([[c.usd for c in cs] for cs in per_region], top):
                    options.append(Option(precision, tp, [per_region[i][j] for i, j in enumerate(picks)],
                                          api_share=share, overflow_usd=extra))
    options.sort(key=lambda o: order(spec, o, o.fleet_usd))
    for (name, region), (_, _, kind, reason) in sorted(family.reasons.items()):
        if (name, region) not in family.served:
            rejected.append(Rejection(name, region, kind, reason))
    return Result(spec, options[:top], rejected, searched, groups)


def _region_choices(spec: StackSpec, region: RegionSpec, precision: str, tp: int, names: list[str], space: Space,
                    catalog: PriceCatalog, prices: costing.RegionPrices, usage: UsageAssumptions, requests: float,
                    share: float, family: _Family, plans: dict, own: tuple[str, int],
                    committed: Sequence[Committed] = (), replica_limit: int | None = None
                    ) -> tuple[list[RegionChoice], int]:
    """Every priced choice in one region at one precision and tensorParallel, cheapest first (per instance type and
    capacity type only its cheapest minNodes, or floor size), and how many were priced. `own`: the stack's own
    (precision, tensorParallel), for which alone a pool's load test holds; `committed`: the stack's reservations in
    the region (`commitments`); `replica_limit`: the most maxReplicas a choice may need (the vLLM chart's; None in
    the hybrid split, whose fleet cap keeps within it and overflows the rest)."""
    source = spec.model_for(region)[0]
    own_pool = region.gpu_pools[0]
    weights = costing.Weights.of(spec, region, own_pool)
    low, high = spec.replicas_for(region)
    traffic = spec.traffic
    out: list[RegionChoice] = []
    priced = 0
    for name in names:
        it = hardware.instance_type(name)
        if it.gpus % tp:
            continue  # another tensorParallel may suit it
        if precision == "fp8" and not it.gpu_model.fp8_dense_tflops:
            family.fail(name, region.region, "does-not-fit", f"no FP8 tensor cores on its {it.gpu_model.name} "
                                                             "(FP8 is searched only where the GPU computes in it)",
                        math.inf)  # any other reason of the kind says more
            continue
        fit = fit_report(spec, name, source)
        if fit is None:
            continue
        needed, usable, _ = fit
        if needed > usable:
            family.fail(name, region.region, "does-not-fit",
                        f"does not fit: needs {needed / hardware.GIB:.1f} GiB per GPU at {precision} tensorParallel "
                        f"{tp}, one {it.gpu_model.name} offers {usable / hardware.GIB:.1f} GiB", needed / usable)
            continue
        measured = (own_pool.instance_type == name and (precision, tp) == own
                    and own_pool.measured_output_tokens_per_second is not None)
        # a load test of the stack's own pool holds for its own instance type, tensorParallel and precision only
        pool = own_pool if measured else None
        try:
            th = capacity.replica_throughput(spec, name, source, pool)
        except capacity.CapacityError as err:
            family.fail(name, region.region, "does-not-fit", str(err))
            continue
        if th.latency_bound_tokens_per_second is None:
            family.fail(name, region.region, "misses-tpot",
                        f"misses TPOT: one stream alone needs ~{th.single_stream_tpot_ms:.0f} ms per token at "
                        f"{precision} tensorParallel {tp}, the target is {traffic.tpot_target_ms} ms",
                        th.single_stream_tpot_ms)
            continue
        engine = capacity.engine_for(spec, name, source)
        scale = th.saturated_tokens_per_second / th.predicted_tokens_per_second
        batch = capacity.planned_batch(engine, th.planning_tokens_per_second / scale, th.max_batch_by_memory)
        tpot_ms = engine.step_seconds(batch) * 1000
        ttft_ms = capacity.ttft_seconds(engine, batch) * 1000
        if ttft_ms > traffic.ttft_target_ms:
            family.fail(name, region.region, "misses-ttft",
                        f"misses TTFT: ~{ttft_ms:.0f} ms at the planned batch of {batch} ({precision}, tensorParallel "
                        f"{tp}), the target is {traffic.ttft_target_ms} ms", ttft_ms)
            continue
        per_node = costing.replicas_per_node(it.gpus, tp)
        key = (name, precision, tp, source, region.region if measured else None, share, low, requests, per_node)
        if key not in plans:
            plans[key] = _plan(spec, region, name, th, pool, requests, share)
        nodes0, peak_replicas, peak_tps, memo = plans[key]
        # the replica floor's nodes, one node per zone for its first replicas (`costing.spread_nodes`)
        floor = costing.floor_nodes(low, per_node, spec.network.availability_zones)
        # below the floor minNodes changes nothing where the replicas alone need that many nodes: keep the stack's
        # own there; where one node would hold the floor's replicas, minNodes must spread them over the zones
        kept = floor if floor > costing.floor_nodes(low, per_node) else min(own_pool.min_nodes, floor)
        max_replicas = max(peak_replicas, high, low, 1)
        if replica_limit is not None and max_replicas > replica_limit:
            family.fail(name, region.region, "over-replica-limit",
                        f"needs {max_replicas} replicas at the peak ({precision}, tensorParallel {tp}), more than the "
                        f"vLLM chart deploys (autoscaling.maxReplicas {replica_limit}, charts/vllm/values.schema.json)"
                        ": a GPU that carries more per replica, or the hybrid split (--hybrid)", max_replicas)
            continue
        max_nodes = max(math.ceil((max_replicas + 1) / per_node), floor, 1)
        headroom = (max_replicas * th.planning_tokens_per_second / peak_tps - 1) if peak_tps > 0 else None
        peak_nodes = max(nodes0) if nodes0 else 0
        rates, unpriced = {}, {}
        for capacity_type in dict.fromkeys(t for label in space.capacity_types for t in label.split("+")):
            try:
                rates[capacity_type] = catalog.instance(region.region, name, capacity_type)
            except MissingPrice as err:
                unpriced[capacity_type] = err
                continue
        if not any(all(t in rates for t in label.split("+")) for label in space.capacity_types):
            # fits and meets the targets, but none of the capacity types asked is priced for it here
            family.fail(name, region.region, "not-offered",
                        f"the price catalog has no {' or '.join(unpriced)} price for it in the region "
                        f"(--capacity-types {','.join(space.capacity_types)}): "
                        + "; ".join(str(e).split(": ", 1)[-1] for e in unpriced.values()))
            continue
        mirror = costing.mirror_usd(weights, prices, usage)
        common = dict(min_replicas=low, max_replicas=max_replicas, throughput=th, batch=batch, tpot_ms=tpot_ms,
                      ttft_ms=ttft_ms, headroom=headroom, measured=measured)
        for label in space.capacity_types:
            capacity_type, _, burst = label.partition("+")
            if capacity_type not in rates or (burst and burst not in rates):
                continue
            price = rates[capacity_type]
            unit, on_demand = float(price.usd_per_hour), float(price.on_demand_usd_per_hour)
            reserved = unit if capacity_type == "reserved-1y" else None
            best = None
            if burst:
                # a floor pool of k nodes (minNodes = maxNodes = k: at least the floor, and one node at least) and
                # a spot pool taking the rest; k up to the peak (there the spot pool holds only a rollout's surge)
                spot = float(rates[burst].usd_per_hour)
                days = memo.get("burst") or memo.setdefault("burst", costing.burst_days(nodes0))
                lowest = max(floor, 1)
                for k in range(lowest, max(peak_nodes, lowest) + 1):
                    day = days[k] if k < len(days) else (0.0, 0)
                    floor_usd = costing.pool_usd((k, 0), capacity_type, k, unit, on_demand, reserved, weights, prices,
                                                 usage) + mirror
                    burst_usd = costing.pool_usd(day, burst, 0, spot, spot, None, weights, prices, usage)
                    held = k if capacity_type == "reserved-1y" else 0
                    carried, note = _carried(committed, name, held, [k])  # the floor's k run every slot
                    priced += 1
                    usd = floor_usd + burst_usd + carried
                    if best is None or usd < best[0] - 1e-9:
                        best = (usd, k, k + day[0], dict(burst_max_nodes=max(max_nodes - k, 1),
                                                         burst_expected_nodes=day[0], burst_usd=burst_usd,
                                                         carried_usd=carried, carried_note=note))
            else:
                mins = range(floor, max(floor, peak_nodes) + 1) if capacity_type == "reserved-1y" else (kept,)
                for m in mins:
                    if capacity_type == "reserved-1y" and m == 0:
                        continue  # nothing reserved: that is on-demand
                    day = costing.day_at(nodes0, m, memo)
                    held = m if capacity_type == "reserved-1y" else 0
                    billed = costing.nodes_per_slot(nodes0, m) if committed and capacity_type != "spot" else []
                    carried, note = _carried(committed, name, held, billed)
                    usd = costing.pool_usd(day, capacity_type, m, unit, on_demand, reserved, weights, prices,
                                           usage) + mirror + carried
                    priced += 1
                    if best is None or usd < best[0] - 1e-9:
                        best = (usd, m, day[0], dict(carried_usd=carried, carried_note=note))
            if best is None:
                continue
            usd, m, expected, extra = best
            if capacity_type == "reserved-1y":
                extra["commit_note"] = _commit_note(region.region, committed, name, m, unit)
            family.served.add((name, region.region))
            top = m if burst else max(max_nodes, m)
            out.append(RegionChoice(region.region, name, capacity_type, m, top, usd=usd, expected_nodes=expected,
                                    **common, **extra))
    out.sort(key=lambda c: (round(c.usd, 2), (c.instance_type != own_pool.instance_type)
                            + (c.capacity_type != own_pool.capacity_type) + (len(c.pools) != len(region.gpu_pools)),
                            c.instance_type, c.label))
    return out, priced


@dataclass(frozen=True)
class Committed:
    """A reservation the stack holds: its reserved-1y pools' minNodes of one instance type in a region, billed at
    the reserved rate every hour of the 1-year term whether a node runs or not (`costs/node_group.py`)."""

    region: str
    instance_type: str
    nodes: int
    usd_per_hour: float
    on_demand_usd_per_hour: float = 0.0
    """What a node of the type bills on demand: a reservation not held as reserved-1y still covers on-demand nodes
    of its type in its region (AWS applies it to matching on-demand usage: docs/stack-file.md "Reserved capacity")."""


def commitments(spec: StackSpec, catalog: PriceCatalog) -> dict[str, list[Committed]]:
    """Per region, the reservations the stack's reserved-1y pools commit to (docs/recommend.md "A stack on
    reserved-1y"). A recommendation cannot drop them before their term ends: a choice holding fewer of them pays
    the rest anyway (`_carried`)."""
    nodes: dict[tuple[str, str], int] = {}
    for region in spec.regions:
        for pool in region.gpu_pools:
            if pool.capacity_type == "reserved-1y" and pool.min_nodes:
                key = (region.region, pool.instance_type)
                nodes[key] = nodes.get(key, 0) + pool.min_nodes
    out: dict[str, list[Committed]] = {}
    for (region, name), count in nodes.items():
        try:
            price = catalog.instance(region, name, "reserved-1y")
        except MissingPrice:
            continue  # `estimate` refuses such a stack too; nothing known to carry
        out.setdefault(region, []).append(Committed(region, name, count, float(price.usd_per_hour),
                                                    float(price.on_demand_usd_per_hour)))
    return out


def _carried(committed: Sequence[Committed], name: str, reserved_nodes: int,
             billed_nodes: Sequence[int]) -> tuple[float, str | None]:
    """(monthly cost, note) of the stack's reservations in a region beyond what a choice of `name` writes: the
    choice reserves `reserved_nodes` of it (a reserved-1y pool's minNodes, or its floor pool's k; 0 otherwise) and
    runs `billed_nodes` of it per slot that are not spot (on-demand or reserved-1y; [] for spot). A reservation the
    written file no longer names is still billed until its term ends, and AWS applies it to matching on-demand
    usage: so each held node beyond `reserved_nodes` costs its reserved rate and saves the on-demand rate of a node
    of its type the written file bills on demand, in every slot that runs one. The cost is what the bill differs
    from `estimate` of the written file (negative: the reservation makes that fleet cheaper than the estimate says)."""
    usd, parts = 0.0, []
    for c in committed:
        extra = c.nodes - (min(c.nodes, reserved_nodes) if name == c.instance_type else 0)
        if extra <= 0:
            continue
        slots = billed_nodes if name == c.instance_type else []
        covered = sum(min(extra, max(0, n - reserved_nodes)) for n in slots) / len(slots) if slots else 0.0
        billed = extra * c.usd_per_hour * costing.HOURS
        saved = covered * c.on_demand_usd_per_hour * costing.HOURS
        usd += billed - saved
        part = (f"{extra} of the {c.nodes} x {c.instance_type} the stack reserves (reserved-1y minNodes) at "
                f"${c.usd_per_hour:g}/h: ${billed:,.2f}/month")
        if covered:
            part += (f", less the on-demand hours of its {covered:.2f} {c.instance_type} nodes they cover "
                     f"(${saved:,.2f}/month at ${c.on_demand_usd_per_hour:g}/h)")
        parts.append(part)
    if not parts:
        return 0.0, None
    return usd, (f"{committed[0].region}: this fleet no longer reserves {'; '.join(parts)}: still billed until the "
                 "reservation's 1-year term ends, and applied by AWS to matching on-demand nodes: counted in its "
                 "monthly cost (`estimate` of the written stack does not show it: the file no longer names the "
                 "reservation)")


def _commit_note(region: str, committed: Sequence[Committed], name: str, reserved_nodes: int,
                 usd_per_hour: float) -> str | None:
    """A note for a choice that reserves more nodes of `name` than the stack already does: buying them is a
    commitment for a year, billed every hour used or not (docs/stack-file.md "Reserved capacity")."""
    held = sum(c.nodes for c in committed if c.instance_type == name)
    new = reserved_nodes - held
    if new <= 0:
        return None
    more = f" more than the stack reserves ({held})" if held else ""
    return (f"{region}: reserves {new} x {name}{more} (reserved-1y): a 1-year commitment of "
            f"${new * usd_per_hour * costing.HOURS * 12:,.0f} (${usd_per_hour:g}/h each, every hour for 12 months, "
            "used or not), which `--write` does not buy: buying it stays with you")


def _plan(spec: StackSpec, region: RegionSpec, name: str, th: capacity.ReplicaThroughput, pool: GpuPoolSpec | None,
          requests: float, share: float) -> tuple[list[int], int, float, dict]:
    """(nodes per slot at minNodes 0, peak replicas, peak output tok/s, a memo for `costing.day_at`) of one pool
    of `name` carrying the region."""
    probe = GpuPoolSpec.model_construct(
        name="probe", instance_type=name, min_nodes=0, max_nodes=10**6, desired_nodes=None, capacity_type="on-demand",
        disk_gib=None, measured_output_tokens_per_second=pool.measured_output_tokens_per_second if pool else None,
        measured_source=pool.measured_source if pool else None)
    alone = region.model_copy(update={"gpu_pools": [probe]})
    cache = {(name, spec.model_for(region)[0], probe.measured_output_tokens_per_second, probe.measured_source): th}
    plan = capacity.plan_region(spec, alone, requests, share, unbounded=True, throughput_cache=cache)
    peak_tps = plan.average_output_tokens_per_second * max(capacity.day_profile(spec.traffic.peak_to_average))
    return list(plan.pools[0].nodes_per_slot), plan.replicas_at_peak, peak_tps, {}


FLOOR_OPTIONS = ",".join((*FLOOR_TYPES, *MIXED_TYPES))
"""`--capacity-types` that keep a floor spot cannot reclaim (every type but spot alone)."""


def floorless_spot_note(spec: StackSpec, option: Option) -> str | None:
    """A note for an option that runs a region entirely on spot where the stack keeps a non-spot pool there: the
    estimate prices spot at the Spot Advisor discount and counts its nodes as available as on-demand ones (a reclaim,
    or spot not granted, is not costed; `gateway.expectedUnavailability` does not depend on it), so the saving is
    shown without its risk. None for a stack that already runs the region on spot alone (its own choice)."""
    regions = [c.region for own, c in zip(spec.regions, option.regions)
               if c.label == "spot" and any(p.capacity_type != "spot" for p in own.gpu_pools)]
    if not regions:
        return None
    return (f"{', '.join(regions)}: every node is spot, the replica floor included, where the stack keeps nodes "
            "spot cannot reclaim: the estimate prices spot at the Spot Advisor discount as if it were as available "
            "as on-demand (a reclaim or a spot shortage is not costed, nor in gateway.expectedUnavailability), and "
            "a reclaim wave can take a region's whole fleet down; `--capacity-types "
            f"{FLOOR_OPTIONS}` keeps a floor (a floor pool with a spot burst)")


def changes(spec: StackSpec, option: Option) -> int:
    """How many of the stack's fleet settings an option changes (precision, tensorParallel, per region the number of
    pools and each pool's instance type, capacity type and minNodes): among options of the same cost the one that
    changes least ranks first."""
    n = (option.precision != precision_of(spec)) + (option.tensor_parallel != spec.model.tensor_parallel)
    for region, choice in zip(spec.regions, option.regions):
        pools = choice.pools
        n += len(region.gpu_pools) != len(pools)
        for own, pool in zip(region.gpu_pools, pools):
            n += ((own.instance_type != choice.instance_type) + (own.capacity_type != pool.capacity_type)
                  + (own.min_nodes != pool.min_nodes))
    return n


def order(spec: StackSpec, option: Option, usd: float) -> tuple:
    """Sort key: cost to the cent, then fewest changes to the stack, then a stable tie-break."""
    return (round(usd, 2), changes(spec, option), option.key)


def k_best(costs: Sequence[Sequence[float]], k: int) -> list[tuple[int, ...]]:
    """The `k` cheapest picks (one index per list) by summed cost, cheapest first; each list sorted ascending.
    Best-first over the lattice of index vectors: a pick's successors raise one index by one."""
    if not costs or any(not c for c in costs) or k <= 0:
        return []
    start = (0,) * len(costs)
    heap = [(sum(c[0] for c in costs), start)]
    seen = {start}
    out = []
    while heap and len(out) < k:
        total, pick = heapq.heappop(heap)
        out.append(pick)
        for i, j in enumerate(pick):
            if j + 1 < len(costs[i]):
                nxt = pick[:i] + (j + 1,) + pick[i + 1:]
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (total - costs[i][j] + costs[i][j + 1], nxt))
    return out
