"""A CloudWatch alarm: alarm-metric-months (high-resolution alarms at their own rate)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from cli.estimate.line_item import LineItem
from cli.estimate.records import MetricAlarm

if TYPE_CHECKING:
    from cli.estimate.costs import CostContext

KIND = MetricAlarm
USAGE = None


def fixed(record: MetricAlarm, ctx: CostContext) -> list[LineItem]:
    key = "cloudwatchHighResAlarmMonth" if record.high_resolution else "cloudwatchAlarmMonth"
    price, note = ctx.book.platform(record.region, key)
    return [LineItem.fixed(record.region, record.name, "monitoring", "CloudWatch alarm", "alarm-metric-months",
                           Decimal(record.metrics), price, note)]


def usage(record: MetricAlarm, ctx: CostContext, run) -> list[LineItem]:
    return []
