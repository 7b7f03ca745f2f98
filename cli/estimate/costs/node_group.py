"""An EKS managed node group: node-hours (system nodes fixed; a GPU pool's from the capacity plan, between
the plan at zero traffic and maxNodes), reserved-1y hours, GPU time billed while a new node starts up, and its
root volumes (GB-months, and gp3 IOPS / throughput provisioned above the included baseline)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from cli import capacity
from cli.estimate.errors import EstimateError
from cli.estimate.line_item import HOURS, LineItem, Range
from cli.estimate.records import NodeGroup
from infra import hardware
from infra.price_catalog import InstancePrice
from infra.sizing import GP3_INCLUDED_IOPS, GP3_INCLUDED_THROUGHPUT_MIBPS

if TYPE_CHECKING:
    from cli.estimate.costs import CostContext, Run

KIND = NodeGroup
USAGE = "fleet"


def fixed(record: NodeGroup, ctx: CostContext) -> list[LineItem]:
    """A system node group costs the same at any traffic; a GPU pool's is checked against the stack here."""
    if record.gpu_pool is None:
        return _items(record, ctx, Range.of(Decimal(record.desired_nodes)))
    region = next((r for r in ctx.spec.regions if r.region == record.region), None)
    if region is None or all(p.name != record.gpu_pool for p in region.gpu_pools):
        raise EstimateError(f"node group {record.name} in {record.region} is labelled gpu-pool {record.gpu_pool!r} but "
                            "the stack has no such pool there")
    return []


def usage(record: NodeGroup, ctx: CostContext, run: Run) -> list[LineItem]:
    if record.gpu_pool is None:
        return []
    pool_plan = next(p for p in run.plans[record.region].pools if p.pool.name == record.gpu_pool)
    floor_plan = next(p for p in run.floors[record.region].pools if p.pool.name == record.gpu_pool)
    nodes = Range(Decimal(str(round(floor_plan.expected_nodes, 4))), Decimal(str(round(pool_plan.expected_nodes, 4))),
                  Decimal(max(record.max_nodes, max(pool_plan.nodes_per_slot))))
    return _items(record, ctx, nodes, pool_plan, floor_plan)


def usage_key(record: NodeGroup, run: Run) -> tuple[int, ...] | None:
    """What `usage` reads of the run: the pool's nodes per slot (the floor plan is the same in every run)."""
    if record.gpu_pool is None:
        return None
    return tuple(next(p for p in run.plans[record.region].pools if p.pool.name == record.gpu_pool).nodes_per_slot)


def resolve_prices(ctx: CostContext) -> None:
    """Look up every GPU pool's instance prices once, before any traffic is priced (a missing one fails here)."""
    for ng in ctx.of(NodeGroup):
        if ng.gpu_pool is not None:
            ctx.book.instance(ng.region, ng.instance_type, ng.capacity_type)
    for ng in ctx.of(NodeGroup):
        if ng.gpu_pool is not None and _pool_capacity(ctx, ng) == "reserved-1y":
            ctx.book.instance(ng.region, ng.instance_type, "reserved-1y")


def _pool_capacity(ctx: CostContext, ng: NodeGroup) -> str:
    """The spec's capacityType of a GPU node group's pool: a reservation launches as ON_DEMAND, so the node group
    alone cannot tell reserved-1y from on-demand."""
    region = next(r for r in ctx.spec.regions if r.region == ng.region)
    return next(p for p in region.gpu_pools if p.name == ng.gpu_pool).capacity_type


def _items(ng: NodeGroup, ctx: CostContext, nodes: Range, pool_plan: capacity.PoolPlan | None = None,
           floor_plan: capacity.PoolPlan | None = None) -> list[LineItem]:
    price = ctx.book.instance(ng.region, ng.instance_type, ng.capacity_type)
    note = f"{price.source} {price.dated} (confidence {price.confidence}, {price.basis})"
    ctx.book.used(ng.region, ng.instance_type, price)
    if price.derivation:
        note += f": {price.derivation}"
    if price.basis != "source":
        ctx.warnings.append(
            f"{ng.region}: {ng.instance_type} has no published price in the catalog; it is derived "
            f"({price.basis}, confidence {price.confidence}): {price.derivation}")
    if price.capacity_type == "spot":
        note += (f"; spot = on-demand {price.on_demand_usd_per_hour} less {price.spot_savings_percent}% "
                 f"({price.spot_savings_basis})")
        ctx.warnings.append(  # the same text on every run; de-duplicated at the end
            f"{ng.region}: {ng.name} is spot: priced at the expected Spot Advisor discount "
            f"({price.spot_savings_percent}%), not a guarantee; spot prices move and nodes can be reclaimed")
    gpu_pool = ng.gpu_pool is not None
    if not gpu_pool:
        category, what = "system-compute", f"system nodes {ng.desired_nodes} x {ng.instance_type}"
    else:
        category = "gpu-compute"
        gpu = hardware.instance_type(ng.instance_type)
        what = (f"GPU pool {ng.gpu_pool}: {ng.instance_type} ({gpu.gpus}x {gpu.gpu_model.name}) {ng.capacity_type}, "
                f"{nodes.expected} nodes expected (min {nodes.min}, max {nodes.max})")
    unit_price = price.usd_per_hour
    if gpu_pool and _pool_capacity(ctx, ng) == "reserved-1y":
        items = _reserved(ng, ctx, ctx.book.instance(ng.region, ng.instance_type, "reserved-1y"), price, note, nodes)
    else:
        items = [LineItem.ranged(ng.region, ng.name, category, what, "node-hours", nodes.times(HOURS), unit_price, note,
                                 usage_based=gpu_pool)]
    if gpu_pool:
        items.extend(_startup(ng, ctx, pool_plan, floor_plan, unit_price, note))
    disk_price, disk_note = ctx.book.platform(ng.region, "ebsGp3GbMonth" if ng.disk_type == "gp3" else "ebsGp2GbMonth")
    gb = Decimal(str(ng.disk_gib))
    items.append(LineItem.ranged(ng.region, ng.name, "storage", f"root volumes {ng.disk_gib:g} GiB {ng.disk_type} per "
                                 f"node ({ng.disk_source})", "GB-months", Range(gb * nodes.min, gb * nodes.expected,
                                                                                gb * nodes.max),
                                 disk_price, disk_note, usage_based=gpu_pool))
    if ng.disk_type == "gp3":
        # gp3 includes GP3_INCLUDED_IOPS and _THROUGHPUT_MIBPS (infra.sizing); what a launch template provisions above bills per month
        for key, extra, unit, label in (
            ("ebsGp3IopsMonth", ng.disk_iops - GP3_INCLUDED_IOPS, "IOPS-months", f"provisioned IOPS above {GP3_INCLUDED_IOPS}"),
            ("ebsGp3ThroughputMonth", ng.disk_throughput_mibps - GP3_INCLUDED_THROUGHPUT_MIBPS, "MiBps-months",
             f"provisioned throughput above {GP3_INCLUDED_THROUGHPUT_MIBPS} MiB/s"),
        ):
            if extra <= 0:
                continue
            price_, note_ = ctx.book.platform(ng.region, key)
            per_node = Decimal(str(extra))
            items.append(LineItem.ranged(ng.region, ng.name, "storage", f"root volumes: {label} ({extra:g} per node)",
                                         unit, Range(per_node * nodes.min, per_node * nodes.expected,
                                                     per_node * nodes.max),
                                         price_, note_, usage_based=gpu_pool))
    return items


def _reserved(ng: NodeGroup, ctx: CostContext, reserved: InstancePrice, on_demand: InstancePrice, note: str,
              nodes: Range) -> list[LineItem]:
    """capacityType reserved-1y: minNodes are reserved for a year and bill the reserved rate every hour, used or
    not; nodes the autoscaler adds above them bill on demand."""
    held = Decimal(ng.min_nodes)
    rate = reserved.usd_per_hour
    res_note = (f"{reserved.source} {reserved.dated} (confidence {reserved.confidence}): 1-year reserved, no upfront, "
                f"effective ${rate}/h vs on-demand ${on_demand.usd_per_hour}/h")
    ctx.warnings.append(
        f"{ng.region}: {ng.name} is reserved-1y: {ng.min_nodes} x {ng.instance_type} (minNodes) are committed for a "
        "year and bill every hour whether used or not; the reservation (Reserved Instance or EC2 Instance Savings "
        "Plan) is bought separately, not by this program")
    items = [LineItem.ranged(ng.region, ng.name, "gpu-compute",
                             f"GPU pool {ng.gpu_pool}: {ng.min_nodes} x {ng.instance_type} reserved for 1 year (minNodes), "
                             "billed every hour", "node-hours", Range.of(held * HOURS), rate, res_note)]
    above = Range(*(max(n - held, Decimal(0)) for n in nodes))
    if any(above):
        items.append(LineItem.ranged(ng.region, ng.name, "gpu-compute",
                                     f"GPU pool {ng.gpu_pool}: nodes above the reservation, on demand: {above.expected} "
                                     f"expected (min {above.min}, max {above.max})", "node-hours", above.times(HOURS),
                                     on_demand.usd_per_hour, note, usage_based=True))
    return items


def _startup(ng: NodeGroup, ctx: CostContext, pool_plan: capacity.PoolPlan, floor_plan: capacity.PoolPlan,
             unit_price: Decimal, note: str) -> list[LineItem]:
    """GPU time AWS bills from a node's launch until its replica serves (boot, image pull, weights,
    engine start): the capacity plan counts a node only while it serves, so every node start adds
    this much (starts from the day profile, `PoolPlan.node_starts_per_day`)."""
    seconds, weights, mirrored = _launch_to_ready(ctx, ng.region)
    hours = Decimal(str(round(seconds / 3600, 4)))
    per_month = HOURS / 24
    starts_exp = Decimal(pool_plan.node_starts_per_day) * per_month
    starts_min = Decimal(floor_plan.node_starts_per_day) * per_month
    if not hours or not (starts_exp or starts_min):
        return []
    per_start = hours * unit_price
    what = (f"GPU pool {ng.gpu_pool}: node start-up billed before serving, {hours:.2f} h ({seconds / 60:.0f} min) "
            f"launch-to-ready per start: boot, image pull, {weights / 1e9:.0f} GB weights "
            f"{'streamed from the S3 mirror' if mirrored else 'download and load'}, "
            "engine start (docs/estimate.md)")
    return [LineItem.ranged(ng.region, ng.name, "gpu-compute", what, "node-starts",
                            Range(starts_min, starts_exp, max(starts_exp, starts_min)), per_start,
                            f"{hours} h x {unit_price}/h; {note}", usage_based=True)]


def _launch_to_ready(ctx: CostContext, region: str) -> tuple[float, float, bool]:
    """(seconds from launch to a ready replica, weight bytes, mirrored) of a region, computed once; the
    program's own boot / pull / load figures (infra/chart_values.py, pure), imported here, off the CLI's
    start-up path."""
    key = ("launch-to-ready", region)
    if key not in ctx.memo:
        from infra.chart_values import launch_to_ready_seconds

        spec_region = next((r for r in ctx.spec.regions if r.region == region), None)
        if spec_region is None:
            ctx.memo[key] = (0.0, 0.0, False)
        else:
            weights = ctx.spec.weight_bytes(ctx.spec.model_for(spec_region)[0]) or 0.0
            mirrored = ctx.spec.weights_mirror_for(spec_region)
            ctx.memo[key] = (launch_to_ready_seconds(weights, mirrored), weights, mirrored)
    return ctx.memo[key]
