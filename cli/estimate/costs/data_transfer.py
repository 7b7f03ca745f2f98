"""Internet egress of responses, per region (a cost of the traffic, not of a record): tiered GB."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from cli.estimate.line_item import LineItem

if TYPE_CHECKING:
    from cli.estimate.costs import CostContext, Run


def egress(ctx: CostContext, run: Run, region: str) -> list[LineItem]:
    t, u = ctx.spec.traffic, ctx.usage
    egress_gb = run.region_requests(region) * ctx.out_gb_per_request
    tiers, tier_note = ctx.book.tiers(region)
    egress_usd = tiered(egress_gb, tiers)
    unit = (egress_usd / egress_gb) if egress_gb else tiers[0][1]
    return [LineItem.fixed(region, f"{region} responses", "data-transfer",
                           f"internet egress of responses: {t.output_tokens_per_request} tokens x "
                           f"{u.bytes_per_output_token} B streamed, tiered", "GB", egress_gb, unit, tier_note,
                           usage_based=True, monthly=egress_usd)]


def tiered(gb: Decimal, tiers: list[tuple[Decimal | None, Decimal]]) -> Decimal:
    """USD for `gb` over price tiers (upper bound in GB or None for the last, USD per GB)."""
    total, lower = Decimal(0), Decimal(0)
    for upper, price in tiers:
        top = gb if upper is None else min(gb, upper)
        if top > lower:
            total += (top - lower) * price
        if upper is None or gb <= upper:
            break
        lower = upper
    return total
