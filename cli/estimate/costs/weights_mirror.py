"""The in-region S3 mirror of the model weights: the revisions it keeps, each month's fills (NAT GB once per
revision, PUT requests) and the ranged GETs every GPU node start reads (S3 to EC2 in-region: no transfer)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from cli.estimate.line_item import LineItem
from cli.estimate.records import NatGateway, WeightsMirrorBucket
from infra import weights_mirror_plan as mirror_plan

if TYPE_CHECKING:
    from cli.estimate.costs import CostContext, Run

KIND = WeightsMirrorBucket
USAGE = "region"
FIXED_LAST = True
"""Listed after every other record's fixed lines (the report's order)."""


def fixed(record: WeightsMirrorBucket, ctx: CostContext) -> list[LineItem]:
    u, region = ctx.usage, record.region
    if ctx.mirror(region) is not record:
        return []
    weight_bytes = ctx.weights_bytes(region)
    weights_gb = Decimal(str(weight_bytes / 1e9))
    kept, pins = Decimal(str(u.weights_revisions_kept)), Decimal(str(u.weights_pins_per_month))
    price, note = ctx.book.platform(region, "s3StandardGbMonth")
    items = [LineItem.fixed(region, record.name, "storage",
                            f"weights mirror: {u.weights_revisions_kept:g} revisions x {weights_gb:.1f} GB in S3 Standard",
                            "GB-months", weights_gb * kept, price, note, usage_based=True)]
    nats = ctx.of(NatGateway, region)
    if nats:
        gb = pins * (weights_gb + Decimal(str(u.image_gb_per_node_start)))
        price, note = ctx.book.platform(region, "natGatewayPerGb")
        items.append(LineItem.fixed(region, nats[0].name, "nat",
                                    f"NAT processing of weights mirror fills: {u.weights_pins_per_month:g} revision(s)/month "
                                    f"x ({weights_gb:.1f} GB weights + {u.image_gb_per_node_start:g} GB image), once each",
                                    "GB", gb, price, note, usage_based=True))
    puts = Decimal(mirror_plan.fill_put_requests(weight_bytes)) * pins / 1000
    price, note = ctx.book.platform(region, "s3PutPer1000")
    items.append(LineItem.fixed(region, record.name, "storage",
                                f"weights mirror fills: PUT requests ({mirror_plan.MULTIPART_CHUNK_BYTES // 2**20} MiB parts)",
                                "1k requests", puts, price, note, usage_based=True))
    return items


def usage_key(record, run: Run) -> Decimal:
    """What `usage` reads of the run: its region's GPU node starts a month."""
    return run.node_starts(record.region)


def usage(record: WeightsMirrorBucket, ctx: CostContext, run: Run) -> list[LineItem]:
    region = record.region
    if ctx.mirror(region) is not record:
        return []
    starts = run.node_starts(region)
    gets = starts * Decimal(mirror_plan.load_get_requests(ctx.weights_bytes(region))) / 1000
    price, note = ctx.book.platform(region, "s3GetPer1000")
    return [LineItem.fixed(region, record.name, "storage",
                           f"weights mirror reads: {starts:.0f} GPU node starts/month x ranged GETs of "
                           f"{mirror_plan.STREAMER_CHUNK_BYTES // 2**20} MiB (S3 to EC2 in-region: no transfer "
                           "charge)", "1k requests", gets, price, note, usage_based=True)]
