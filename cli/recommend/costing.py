"""What a GPU fleet costs a month in one region, as the estimate prices it, without running the program.

The search (`cli/recommend/search.py`) compares thousands of (instance type, tensorParallel, precision, capacity
type, minNodes) choices per region, so it prices them in floats here, from the capacity plan's nodes per
15-minute slot and the PriceBook. What the fleet choice moves in the estimate is exactly what the estimate's
cost modules bill per GPU pool and per GPU node start:

- `costs/node_group.py`: node-hours (reserved-1y: minNodes at the reserved rate, nodes above on demand),
  GPU time billed while a new node starts, root volumes (GB-months, gp3 IOPS and throughput above the included);
- `costs/nat_gateway.py`: NAT processing of the image (and the weights, without a mirror) at every node start;
- `costs/weights_mirror.py` and its KMS key (`costs/kms_key.py`): the mirror's storage, fills and reads, which
  the precision moves (the weights' size decides `model.weightsMirror: auto`).

Everything else the estimate prices (control planes, NAT hours, load balancers, egress, logs, people) depends on
the traffic and the stack's other keys, not on the fleet: `base` = the winner's real estimate less its fleet
cost, the same for every option. `exact_fleet_cost` prices a whole candidate stack through those very cost
modules (Decimal, per line rounded to cents) on records shaped as the program creates them; the tests hold the
float prices here to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cli import capacity
from cli.estimate.prices import PriceBook
from cli.estimate.usage import UsageAssumptions
from infra import weights_mirror_plan as mirror_plan
from infra.conventions import EKS_CAPACITY_TYPES
from infra.price_catalog import HOURS_PER_MONTH, PriceCatalog
from infra.sizing import GP3_INCLUDED_IOPS, GP3_INCLUDED_THROUGHPUT_MIBPS, GPU_ROOT_VOLUME_IOPS, GPU_ROOT_VOLUME_THROUGHPUT_MIBPS
from infra.spec import GpuPoolSpec, RegionSpec, StackSpec

HOURS = float(HOURS_PER_MONTH)


@dataclass(frozen=True)
class RegionPrices:
    """The platform prices a region's fleet cost uses (floats; the estimate's PriceBook entries)."""

    gp3_gb_month: float
    gp3_iops_month: float
    gp3_throughput_month: float
    nat_per_gb: float
    s3_gb_month: float
    s3_put_per_1000: float
    s3_get_per_1000: float
    kms_key_month: float

    @classmethod
    def of(cls, book: PriceBook, region: str) -> RegionPrices:
        def price(key: str) -> float:
            return float(book.platform(region, key)[0])

        return cls(price("ebsGp3GbMonth"), price("ebsGp3IopsMonth"), price("ebsGp3ThroughputMonth"),
                   price("natGatewayPerGb"), price("s3StandardGbMonth"), price("s3PutPer1000"), price("s3GetPer1000"),
                   price("kmsKeyMonth"))


@dataclass(frozen=True)
class Weights:
    """What the weights a region serves (at one precision) cost per node start and per month."""

    weight_bytes: float
    mirrored: bool
    launch_hours: float
    """Launch-to-ready of a GPU node, hours (as the estimate rounds it)."""
    disk_gib: float

    @classmethod
    def of(cls, spec: StackSpec, region: RegionSpec, pool: GpuPoolSpec | None = None) -> Weights:
        from infra.chart_values import launch_to_ready_seconds  # pure; off the CLI's start-up path

        source = spec.model_for(region)[0]
        weight_bytes = spec.weight_bytes(source) or 0.0
        mirrored = spec.weights_mirror_for(region)
        seconds = launch_to_ready_seconds(weight_bytes, mirrored)
        probe = pool or GpuPoolSpec.model_construct(disk_gib=None)
        return cls(weight_bytes, mirrored, round(seconds / 3600, 4), float(spec.disk_size_gib(probe, source)))


def nodes_per_slot(plan_nodes: list[int], min_nodes: int) -> list[int]:
    """A pool's nodes per slot when its minNodes is `min_nodes` (the plan's nodes at minNodes 0)."""
    return [max(min_nodes, n) for n in plan_nodes]


def starts_per_day(nodes: list[int]) -> int:
    """Node starts a day (`capacity.PoolPlan.node_starts_per_day`: slot 0 follows the day's last)."""
    return sum(max(0, nodes[i] - nodes[i - 1]) for i in range(len(nodes)))


def day_at(plan_nodes: list[int], min_nodes: int, memo: dict[int, tuple[float, int]]) -> tuple[float, int]:
    """(expected nodes, node starts a day) of a pool whose plan at minNodes 0 is `plan_nodes`, at `min_nodes`;
    memoised per plan (`memo`): a minNodes at or below the plan's lowest slot changes nothing."""
    m = max(min_nodes, min(plan_nodes, default=0))
    if m not in memo:
        nodes = nodes_per_slot(plan_nodes, m)
        memo[m] = (sum(nodes) / len(nodes), starts_per_day(nodes))
    return memo[m]


def region_fleet_usd(day: tuple[float, int], capacity_type: str, min_nodes: int, usd_per_hour: float,
                     on_demand_usd: float, reserved_usd: float | None, weights: Weights, prices: RegionPrices,
                     usage: UsageAssumptions) -> float:
    """The region's fleet-dependent monthly cost (see the module docstring) for one pool whose `day` is (expected
    nodes, node starts a day), `day_at`."""
    return (pool_usd(day, capacity_type, min_nodes, usd_per_hour, on_demand_usd, reserved_usd, weights, prices, usage)
            + mirror_usd(weights, prices, usage))


def pool_usd(day: tuple[float, int], capacity_type: str, min_nodes: int, usd_per_hour: float, on_demand_usd: float,
             reserved_usd: float | None, weights: Weights, prices: RegionPrices, usage: UsageAssumptions) -> float:
    """One GPU pool's monthly cost (`costs/node_group.py` and the NAT/mirror reads of its node starts; the region's
    weights mirror is `mirror_usd`, once a region) when its `day` is (expected nodes, node starts a day)."""
    expected = round(day[0], 4)
    starts = day[1] * HOURS / 24
    if capacity_type == "reserved-1y":
        unit = on_demand_usd  # a reservation launches as on-demand capacity: start-up time bills at that rate
        compute = min_nodes * HOURS * reserved_usd + max(expected - min_nodes, 0.0) * HOURS * on_demand_usd
    else:
        unit = usd_per_hour
        compute = expected * HOURS * usd_per_hour
    startup = weights.launch_hours * unit * starts
    disk = expected * (weights.disk_gib * prices.gp3_gb_month
                       + (GPU_ROOT_VOLUME_IOPS - GP3_INCLUDED_IOPS) * prices.gp3_iops_month
                       + (GPU_ROOT_VOLUME_THROUGHPUT_MIBPS - GP3_INCLUDED_THROUGHPUT_MIBPS) * prices.gp3_throughput_month)
    return compute + startup + disk + per_start_usd(weights, prices, usage) * starts


def burst_days(plan_nodes: list[int]) -> list[tuple[float, int]]:
    """Per floor size k (index 0 .. the plan's peak): (expected nodes, node starts a day) of a spot pool listed
    after a floor pool of k nodes (minNodes = maxNodes = k) of the same instance type, when the region's plan at
    minNodes 0 is `plan_nodes`. The capacity planner fills pools in the order listed (`capacity.plan_region`): the
    floor pool holds k nodes in every slot, the spot pool the rest, max(0, nodes - k). All k in one pass: the
    mean of max(0, n - k) falls by the share of slots above k per step of k, and a slot's rise from a to b
    (a node start, `starts_per_day`) starts max(0, b - max(k, a)) spot nodes."""
    peak = max(plan_nodes, default=0)
    slots = len(plan_nodes) or 1
    above = [0] * (peak + 2)  # above[v]: slots with n > v
    for n in plan_nodes:
        for v in range(n):
            above[v] += 1
    rises = [0] * (peak + 2)  # rises[v]: node starts at level v+1 (slot rises covering v -> v+1)
    for i, n in enumerate(plan_nodes):
        before = plan_nodes[i - 1]
        for v in range(before, n):
            rises[v] += 1
    out = []
    total = sum(plan_nodes)
    starts = sum(rises)
    for k in range(peak + 1):
        out.append((total / slots, starts))
        total -= above[k]
        starts -= rises[k]
    return out


def per_start_usd(weights: Weights, prices: RegionPrices, usage: UsageAssumptions) -> float:
    """NAT processing (and mirror reads) of one GPU node start."""
    image = float(usage.image_gb_per_node_start)
    if weights.mirrored:
        gets = mirror_plan.load_get_requests(weights.weight_bytes) / 1000 * prices.s3_get_per_1000
        return image * prices.nat_per_gb + gets
    return (weights.weight_bytes / 1e9 + image) * prices.nat_per_gb


def mirror_usd(weights: Weights, prices: RegionPrices, usage: UsageAssumptions) -> float:
    """A weights mirror's monthly cost apart from its reads: storage, fills, PUTs and its KMS key."""
    if not weights.mirrored:
        return 0.0
    gb = weights.weight_bytes / 1e9
    pins = float(usage.weights_pins_per_month)
    return (gb * float(usage.weights_revisions_kept) * prices.s3_gb_month
            + pins * (gb + float(usage.image_gb_per_node_start)) * prices.nat_per_gb
            + mirror_plan.fill_put_requests(weights.weight_bytes) * pins / 1000 * prices.s3_put_per_1000
            + prices.kms_key_month)


# ---------------------------------------------------------------- the same, through the estimate's own cost modules


def fleet_records(spec: StackSpec) -> list:
    """The priced records the program would create for a stack's GPU fleet: one node group per GPU pool (the
    launch template's root volume), a NAT gateway per region, the weights mirror's bucket and KMS key where it
    mirrors (cf. `cli/estimate/mapping.py`)."""
    from cli.estimate import records

    out: list = []
    for region in spec.regions:
        source = spec.model_for(region)[0]
        for pool in region.gpu_pools:
            eks = EKS_CAPACITY_TYPES[pool.capacity_type].lower().replace("_", "-")
            out.append(records.NodeGroup(
                name=f"{region.region}-{pool.name}-ng", region=region.region, instance_type=pool.instance_type,
                capacity_type=eks, min_nodes=pool.min_nodes, desired_nodes=pool.initial_nodes,
                max_nodes=pool.max_nodes, disk_gib=float(spec.disk_size_gib(pool, source)), disk_type="gp3",
                gpu_pool=pool.name, disk_source="launch template", disk_iops=float(GPU_ROOT_VOLUME_IOPS),
                disk_throughput_mibps=float(GPU_ROOT_VOLUME_THROUGHPUT_MIBPS)))
        out.append(records.NatGateway(f"{region.region}-nat", region.region))
        if spec.weights_mirror_for(region):
            out.append(records.WeightsMirrorBucket(f"{region.region}-weights", region.region))
            out.append(records.KmsKey(f"{region.region}-weights-key", region.region, "weights mirror"))
    return out


def exact_fleet_cost(spec: StackSpec, catalog: PriceCatalog, as_of: date,
                     usage: UsageAssumptions | None = None) -> Decimal:
    """The fleet-dependent part of `spec`'s estimate (see the module docstring), priced line by line by the
    estimate's cost modules: what the search's floats stand for."""
    from cli.estimate.costs import CostContext, Run, kms_key, nat_gateway, node_group, weights_mirror

    usage = usage or UsageAssumptions()
    recs = fleet_records(spec)
    ctx = CostContext(spec, recs, PriceBook(catalog), as_of, usage)
    requests = spec.traffic.requests_per_month
    plans = {p.region: p for p in capacity.plan(spec, requests)}
    floors = {p.region: p for p in capacity.plan(spec, 0)}
    run = Run(requests, plans, floors)
    items = []
    for record in recs:
        module = {"NodeGroup": node_group, "NatGateway": nat_gateway, "WeightsMirrorBucket": weights_mirror,
                  "KmsKey": kms_key}[type(record).__name__]
        if module is not nat_gateway:  # NAT hours are not the fleet's; its processed GB are (usage)
            items.extend(module.fixed(record, ctx))
        if module is not kms_key:
            items.extend(module.usage(record, ctx, run))
    return sum((li.monthly for li in items), Decimal(0))


def replicas_per_node(gpus: int, tensor_parallel: int) -> int:
    return gpus // tensor_parallel


def floor_nodes(min_replicas: int, per_node: int, zones: int = 1) -> int:
    """Nodes a region's replica floor occupies: its replicas packed `per_node` to a node, and at least one node
    for each of its first `zones` replicas (`spread_nodes`)."""
    return max(math.ceil(min_replicas / per_node), spread_nodes(min_replicas, zones)) if min_replicas else 0


def spread_nodes(min_replicas: int, zones: int) -> int:
    """Nodes the replica floor needs for one node per availability zone: the vLLM chart spreads replicas over
    `topology.kubernetes.io/zone` (maxSkew 1, `infra/chart_values.py`), which can only put replicas in zones that
    have a node, and a node group's minNodes are balanced over its zones' subnets (`network.availabilityZones`). So
    a floor of two or more replicas keeps serving through a zone loss only on min(minReplicas, zones) nodes, even
    where one node could hold them all (a multi-GPU node with several replicas)."""
    return min(min_replicas, zones)
