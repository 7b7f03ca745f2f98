"""NAT gateway: its hours, and the GB it processes as GPU nodes start (the image, and the weights unless an
in-region mirror serves them: the region's own, for a canary of other weights). A region's processed bytes
are billed on its first NAT gateway."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from cli.estimate.line_item import HOURS, LineItem
from cli.estimate.records import NatGateway

if TYPE_CHECKING:
    from cli.estimate.costs import CostContext, Run

KIND = NatGateway
USAGE = "region"


def fixed(record: NatGateway, ctx: CostContext) -> list[LineItem]:
    price, note = ctx.book.platform(record.region, "natGatewayHour")
    return [LineItem.fixed(record.region, record.name, "nat", "NAT gateway hours", "hours", HOURS, price, note)]


def usage_key(record, run: Run) -> Decimal:
    """What `usage` reads of the run: its region's GPU node starts a month."""
    return run.node_starts(record.region)


def usage(record: NatGateway, ctx: CostContext, run: Run) -> list[LineItem]:
    region, u = record.region, ctx.usage
    if ctx.of(NatGateway, region)[0] is not record:
        return []
    starts = run.node_starts(region)
    price, note = ctx.book.platform(region, "natGatewayPerGb")
    if ctx.mirror(region):
        gb = starts * Decimal(str(u.image_gb_per_node_start))
        what = (f"NAT processing: {starts:.0f} GPU node starts/month x {u.image_gb_per_node_start:g} GB "
                "image (weights from the in-region mirror over the S3 gateway endpoint)")
    else:
        weights_gb = Decimal(str(ctx.weights_bytes(region) / 1e9))  # a canary region's own weights
        gb = starts * (weights_gb + Decimal(str(u.image_gb_per_node_start)))
        what = (f"NAT processing: {starts:.0f} GPU node starts/month x ({weights_gb:.1f} GB weights "
                f"+ {u.image_gb_per_node_start:g} GB image)")
    return [LineItem.fixed(region, record.name, "nat", what, "GB", gb, price, note, usage_based=True)]
