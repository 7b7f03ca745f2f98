"""Global Accelerator: its fixed hourly fee and the data transfer-premium of every request (dominant direction)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from cli.estimate.line_item import HOURS, LineItem
from cli.estimate.records import GlobalAccelerator

if TYPE_CHECKING:
    from cli.estimate.costs import CostContext, Run

KIND = GlobalAccelerator
USAGE = "global"


def fixed(record: GlobalAccelerator, ctx: CostContext) -> list[LineItem]:
    price, note = ctx.book.platform(record.region, "globalAcceleratorHour")
    return [LineItem.fixed(record.region, record.name, "load-balancer", "Global Accelerator fixed fee", "hours", HOURS,
                           price, note)]


def usage(record: GlobalAccelerator, ctx: CostContext, run: Run) -> list[LineItem]:
    gb = Decimal(str(run.requests)) * max(ctx.out_gb_per_request, ctx.in_gb_per_request)
    price, note = ctx.book.platform(record.region, "globalAcceleratorDtPremiumPerGb")
    return [LineItem.fixed("global", record.name, "data-transfer",
                           "Global Accelerator data transfer-premium (dominant direction)", "GB", gb, price, note,
                           usage_based=True)]
