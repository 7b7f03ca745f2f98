"""A persistent volume a Helm release asks for, priced as EBS GB-months (monitoring volumes under monitoring)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from cli.estimate.line_item import LineItem
from cli.estimate.records import BlockStorage

if TYPE_CHECKING:
    from cli.estimate.costs import CostContext

KIND = BlockStorage
USAGE = None


def fixed(record: BlockStorage, ctx: CostContext) -> list[LineItem]:
    price, note = ctx.book.platform(record.region, "ebsGp3GbMonth" if record.volume_type == "gp3" else "ebsGp2GbMonth")
    category = "monitoring" if any(w in record.what for w in ("Prometheus", "Grafana", "Alertmanager")) else "storage"
    return [LineItem.fixed(record.region, record.name, category, f"{record.what} (EBS {record.volume_type})", "GB-months",
                           Decimal(str(round(record.gib, 3))), price, note)]


def usage(record: BlockStorage, ctx: CostContext, run) -> list[LineItem]:
    return []
