"""An interface VPC endpoint: endpoint-AZ-hours (gateway endpoints are free and never reach a record)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.estimate.line_item import HOURS, LineItem
from cli.estimate.records import InterfaceEndpoint

if TYPE_CHECKING:
    from cli.estimate.costs import CostContext

KIND = InterfaceEndpoint
USAGE = None


def fixed(record: InterfaceEndpoint, ctx: CostContext) -> list[LineItem]:
    price, note = ctx.book.platform(record.region, "vpcInterfaceEndpointAzHour")
    return [LineItem.fixed(record.region, record.name, "nat", f"interface VPC endpoint {record.service}",
                           "endpoint-AZ-hours", HOURS * record.zones, price, note)]


def usage(record: InterfaceEndpoint, ctx: CostContext, run) -> list[LineItem]:
    return []
