"""One stack's estimate: line items, capacity, the decision and what it rests on (rendered by
`cli/render/contract.py` into the JSON contract, `cli/estimate/contract.py`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from cli import capacity
from cli.estimate.decision import BreakEven, Verdict
from cli.estimate.line_item import LineItem
from cli.estimate.usage import UsageAssumptions
from cli.pricing.api import ApiOffer
from infra.price_catalog import PriceCatalog
from infra.spec import StackSpec

if TYPE_CHECKING:
    from cli.estimate.hybrid import HybridEstimate
    from cli.quotas import QuotaNeed

STALE_AFTER_DAYS = 90


@dataclass
class StackEstimate:
    stack: str
    stack_file: str
    as_of: date
    catalog: PriceCatalog
    spec: StackSpec
    line_items: list[LineItem]
    capacity: list[capacity.RegionCapacity]
    offers: list[ApiOffer]
    break_even: list[BreakEven]
    verdict: Verdict
    max_servable_requests: float
    no_cost: dict[str, tuple[int, str]]
    unpriced: list[tuple[str, str, str | None]]
    warnings: list[str]
    api_source: str
    usage: UsageAssumptions = field(default_factory=lambda: UsageAssumptions())
    total_at: Callable[[float, bool], Decimal] | None = None
    """Self-hosted monthly total at another traffic volume (fleet grown with it; True lifts maxNodes)."""
    prices_date: str | None = None
    """Date of the oldest price the estimate uses (an undated snapshot counts from what it postdates)."""
    instance_prices_date: str | None = None
    """Date of the oldest instance price the estimate uses (never younger than the catalog's retrievedOn)."""
    oldest_price_item: str | None = None
    """"region key" (" (us-east-1 proxy)" where it is one) of the platform price `prices_date` is the date of, when
    one is older than every instance price."""
    grown_expected: Decimal | None = None
    """Expected total with maxNodes/maxReplicas lifted, when the configured fleet cannot carry the traffic."""
    throughput_band: dict[str, Decimal] | None = None
    """The compared total with every replica at the low / high end of its throughput band (docs/capacity.md)."""
    defaults_used: list[tuple[str, object]] = field(default_factory=list)
    """Keys the stack (or usage) file leaves out whose defaults feed a number, with the value used."""
    hybrid: HybridEstimate | None = None
    """A stack with a gateway: the split (its line items are `line_items`), its cheapest cap, the pure choices."""
    quotas: dict[str, list[QuotaNeed]] = field(default_factory=dict)
    """Per region, the EC2 vCPU quotas its node groups count against at min and max size (cli/quotas.py)."""

    @property
    def compared_expected(self) -> Decimal:
        """The one self-hosted monthly cost the verdict, the headline and the budget use: the fleet grown
        for the traffic when maxNodes/maxReplicas cannot carry it, else the configured fleet's total. With a
        gateway: pure self-hosted, every route's traffic on the fleet (`hybrid.pure_self_hosted`)."""
        if self.hybrid is not None:
            return self.hybrid.pure_self_hosted
        return self.grown_expected if self.grown_expected is not None else self.total()

    def total(self, which: str = "monthly", include_operations: bool | None = None) -> Decimal:
        """The self-hosted side: every line item but API spend (category `api`, a gateway's), operations per
        `include_operations` (default: the stack's operations.include)."""
        include = self.spec.operations.include if include_operations is None else include_operations
        return sum((getattr(li, which) for li in self.line_items
                    if li.category != "api" and (include or li.category != "operations")), Decimal(0))

    @property
    def catalog_age_days(self) -> int:
        """Age of the oldest price used (never younger than the catalog's retrievedOn)."""
        return (self.as_of - date.fromisoformat(self.prices_date or self.catalog.retrieved_on)).days

    @property
    def tokens_per_month(self) -> int:
        t = self.spec.traffic
        return t.requests_per_month * (t.input_tokens_per_request + t.output_tokens_per_request)
