"""People (a cost of running the stack, not of a record): engineer FTE-months, and the setup amortised."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from cli.estimate.line_item import LineItem

if TYPE_CHECKING:
    from cli.estimate.costs import CostContext


def items(ctx: CostContext) -> list[LineItem]:
    ops = ctx.spec.operations
    loaded = Decimal(str(ops.loaded_monthly_cost_usd))
    fte = Decimal(str(ops.engineer_fte))
    out = [LineItem.fixed("global", "operations", "operations",
                          f"running it: {ops.engineer_fte:g} engineer FTE x ${ops.loaded_monthly_cost_usd:,.0f} loaded/month",
                          "FTE-months", fte, loaded, "stack file operations.engineerFte / loadedMonthlyCostUsd")]
    if ops.setup_months:
        setup_fte = max(fte, Decimal(1))
        months = Decimal(str(ops.setup_months)) * setup_fte / ops.amortisation_months
        out.append(LineItem.fixed("global", "operations", "operations",
                                  f"setup: {ops.setup_months:g} months x {setup_fte:g} engineer(s), amortised over "
                                  f"{ops.amortisation_months} months", "engineer-months", months, loaded,
                                  "stack file operations.setupMonths / amortisationMonths"))
    return out
