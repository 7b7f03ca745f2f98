"""A CloudWatch log group: GB ingested a month and GB stored (compressed) at steady state; a group that never
expires is priced at its first year's accumulation."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from cli.estimate.line_item import LineItem
from cli.estimate.records import LogGroup
from infra.price_catalog import HOURS_PER_MONTH

if TYPE_CHECKING:
    from cli.estimate.costs import CostContext, Run

KIND = LogGroup
USAGE = "region"
USAGE_CONSTANT = True
"""Its usage lines (ingestion and storage of assumed GB a day) do not depend on the traffic."""
NEVER_EXPIRE_DAYS_PRICED = 365


def fixed(record: LogGroup, ctx: CostContext) -> list[LineItem]:
    return []


def usage(record: LogGroup, ctx: CostContext, run: Run) -> list[LineItem]:
    u, region = ctx.usage, record.region
    per_day = Decimal(str(u.control_plane_log_gb_per_day if record.kind == "eks-control-plane"
                          else u.other_log_gb_per_day))
    ingest = per_day * Decimal(HOURS_PER_MONTH) / 24
    price, note = ctx.book.platform(region, "cloudwatchLogsIngestedPerGb")
    items = [LineItem.fixed(region, record.name, "monitoring", f"CloudWatch Logs ingestion {record.log_group_name} "
                            f"({per_day} GB/day assumed)", "GB", ingest, price, note, usage_based=True)]
    # never-expiring logs never reach a steady state: price the first year's accumulation, and say so
    stored_days = Decimal(record.retention_days or NEVER_EXPIRE_DAYS_PRICED)
    stored = per_day * stored_days * Decimal(str(u.log_archive_compression))
    price, note = ctx.book.platform(region, "cloudwatchLogsArchivedGbMonth")
    held = (f"{record.retention_days} days retention, at steady state" if record.retention_days
            else f"never expires: the first year's accumulation ({NEVER_EXPIRE_DAYS_PRICED} days); it keeps growing")
    items.append(LineItem.fixed(region, record.name, "monitoring", f"CloudWatch Logs storage ({held}, compressed)",
                                "GB-months", stored, price, note, usage_based=True))
    return items
