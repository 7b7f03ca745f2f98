"""A KMS customer managed key: key-months (EKS secrets under control-plane, the weights mirror's under storage)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from cli.estimate.line_item import LineItem
from cli.estimate.records import KmsKey

if TYPE_CHECKING:
    from cli.estimate.costs import CostContext

KIND = KmsKey
USAGE = None


def fixed(record: KmsKey, ctx: CostContext) -> list[LineItem]:
    price, note = ctx.book.platform(record.region, "kmsKeyMonth")
    category = "storage" if record.purpose == "weights mirror" else "control-plane"
    return [LineItem.fixed(record.region, record.name, category, f"KMS customer managed key ({record.purpose})",
                           "key-months", Decimal(1), price, note)]


def usage(record: KmsKey, ctx: CostContext, run) -> list[LineItem]:
    return []
