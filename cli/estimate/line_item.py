"""One line of the estimate: a cost component of a priced record (or of traffic, or of people) for a month.

Money is Decimal, 730 hours a month; each line item's monthly amounts are rounded to cents once, here, so
every category and total (sums of these) adds up exactly."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from infra.price_catalog import HOURS_PER_MONTH

CATEGORIES = ["gpu-compute", "system-compute", "control-plane", "load-balancer", "nat", "storage",
              "data-transfer", "monitoring", "dns", "operations", "api"]
"""`api`: a gateway's API spend (region `global`, resource = the route, unit MTok; cli/estimate/hybrid.py)."""
HOURS = Decimal(HOURS_PER_MONTH)
GB = Decimal(10**9)
CENT = Decimal("0.01")


def q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class Range(NamedTuple):
    """A quantity at the low end, as expected, and at the high end of a month."""

    min: Decimal
    expected: Decimal
    max: Decimal

    @classmethod
    def of(cls, value: Decimal) -> Range:
        return cls(value, value, value)

    def times(self, factor: Decimal) -> Range:
        return Range(self.min * factor, self.expected * factor, self.max * factor)


@dataclass
class LineItem:
    region: str
    resource: str
    category: str
    description: str
    unit: str
    quantity: Decimal
    """Expected quantity per month."""
    unit_price: Decimal
    monthly: Decimal
    monthly_min: Decimal
    monthly_max: Decimal
    price_source: str
    usage_based: bool = False

    def __post_init__(self) -> None:
        # Rounded to cents once, here: categories and totals are sums of these, so they add up exactly.
        self.monthly, self.monthly_min, self.monthly_max = q(self.monthly), q(self.monthly_min), q(self.monthly_max)

    @classmethod
    def ranged(cls, region: str, resource: str, category: str, description: str, unit: str, quantity: Range,
               unit_price: Decimal, price_source: str, *, usage_based: bool = False) -> LineItem:
        """Quantity at min / expected / max times one unit price."""
        return cls(region, resource, category, description, unit, quantity.expected, unit_price,
                   quantity.expected * unit_price, quantity.min * unit_price, quantity.max * unit_price, price_source,
                   usage_based)

    @classmethod
    def fixed(cls, region: str, resource: str, category: str, description: str, unit: str, quantity: Decimal,
              unit_price: Decimal, price_source: str, *, usage_based: bool = False,
              monthly: Decimal | None = None) -> LineItem:
        """One quantity (min = expected = max); `monthly` when it is not quantity x unit price (tiers)."""
        amount = quantity * unit_price if monthly is None else monthly
        return cls(region, resource, category, description, unit, quantity, unit_price, amount, amount, amount,
                   price_source, usage_based)
