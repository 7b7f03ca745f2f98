"""A public IPv4 address (the Elastic IP of a NAT gateway): address-hours."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.estimate.line_item import HOURS, LineItem
from cli.estimate.records import PublicIpv4

if TYPE_CHECKING:
    from cli.estimate.costs import CostContext

KIND = PublicIpv4
USAGE = None


def fixed(record: PublicIpv4, ctx: CostContext) -> list[LineItem]:
    price, note = ctx.book.platform(record.region, "publicIpv4Hour")
    return [LineItem.fixed(record.region, record.name, "nat", "public IPv4 address (Elastic IP of a NAT gateway)",
                           "address-hours", HOURS * record.addresses, price, note)]


def usage(record: PublicIpv4, ctx: CostContext, run) -> list[LineItem]:
    return []
