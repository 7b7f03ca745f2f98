"""The JSON contract of `estimate --format json` as a typed, versioned document:
`{"version": 1, "currency": "USD", "stacks": [<one document per stack>]}` (docs/estimate.md).

`cli/render/contract.py` builds each stack's document; this module names the envelope and parses a saved
estimate (`--compare-to`), naming the first key that is wrong. A stack document may carry more keys than
these models type (they pass through); what they type is what anything reading a saved estimate relies on:
the stack, its line items and its totals.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, StrictInt, StrictStr, ValidationError

from cli.envelope import CONTRACT_VERSION, CURRENCY, envelope  # noqa: F401  (their one home; re-exported here)
from infra import files


# No estimate comes near $1e15 a month (docs/stack-file.md ranges); two saved line items of 1e308 summed to
# inf, and the comparison was written as `Infinity`, which is not JSON.
MAX_SAVED_USD = 1e15


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{value!r} has the wrong type (a number)")
    if not abs(value) <= MAX_SAVED_USD:  # compared, never converted: a 400-digit integer too
        raise ValueError(f"{files.short_repr(value)} is beyond any estimate's ${MAX_SAVED_USD:,.0f}")
    return value


Usd = Annotated[float | int, BeforeValidator(_number)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")


class LineItemDocument(_Part):
    region: StrictStr
    resource: StrictStr
    category: StrictStr
    unit: StrictStr
    monthlyUsd: Usd


class MonthlyRange(_Part):
    min: Usd
    expected: Usd
    max: Usd


class SelfHostedTotals(_Part):
    monthlyUsd: MonthlyRange
    """Self-hosted total at the low end, expected, at the high end (operations per operationsIncluded)."""
    comparedMonthlyUsd: Usd | None = None
    """The one total the verdict, the headline and the budget use."""
    infrastructureMonthlyUsd: MonthlyRange | None = None
    operationsMonthlyUsd: Usd | None = None


class VerdictDocument(_Part):
    choice: StrictStr


class BreakEvenDocument(_Part):
    requestsPerMonth: Usd | None = None
    """Requests a month at which self-hosting costs what the offer does; None when it never does."""


class HybridRouteDocument(_Part):
    route: StrictStr
    share: Usd
    servedBy: StrictStr
    overflowTo: StrictStr | None = None
    fallbackTo: list[StrictStr]
    dataClass: Literal["general", "restricted"]
    monthlyUsd: Usd
    """The route's API spend plus its share of the self-hosted side (by the requests the fleet serves it)."""


class FleetDocument(_Part):
    maxReplicasByRegion: dict[str, int]


class OptimalFleetDocument(FleetDocument):
    monthlyUsd: Usd
    apiShare: Usd


class HybridDocument(_Part):
    """A stack with a gateway: the split as configured, its cheapest fleet cap, and the pure choices (docs/hybrid.md)."""

    monthlyUsd: MonthlyRange
    apiShare: Usd
    """Share of the month's tokens answered by API offers."""
    routes: list[HybridRouteDocument]
    optimalFleet: OptimalFleetDocument
    pureSelfHostedMonthlyUsd: Usd | None = None
    pureApiMonthlyUsd: Usd | None = None


class QuotaDocument(_Part):
    """One EC2 vCPU quota a region's node groups count against (cli/quotas.py, docs/operations.md "Service quotas")."""

    quotaName: StrictStr
    quotaCode: StrictStr | None = None
    """The Service Quotas code; None where no source gives one."""
    purchaseOption: Literal["on-demand", "spot"]
    vcpusAtMinSize: StrictInt
    vcpusAtMaxSize: StrictInt
    vcpusDuringNodeUpdate: StrictInt | None = None
    """At max size plus each node group's update surge; absent in a document saved before it was part of it."""
    vcpusAtFirstUp: StrictInt | None = None
    """At the first `pulumi up` (each node group at its desired size, `desiredNodes` else `minNodes`); absent in a
    document saved before it was part of it."""
    instanceTypes: list[StrictStr]


class PriceCatalogDocument(_Part):
    """The catalog and the age of the prices this stack uses (docs/estimate.md "Prices")."""

    retrievedOn: StrictStr
    oldestPriceUsed: StrictStr
    """Date of the oldest price, instance or platform, the stack uses (an undated snapshot: what it postdates)."""
    oldestPriceItem: StrictStr | None = None
    """"region key" of the platform price that is the oldest (e.g. "us-east-2 ebsGp3GbMonth", with " (us-east-1
    proxy)" where the region has none of its own and pays the us-east-1 entry's); None when no
    platform price is older than every instance price, or in a document saved before it was part of it."""
    instancePricesAsOf: StrictStr | None = None
    """Date of the oldest instance price used; absent in a document saved before it was part of it."""


class StackDocument(_Part):
    stack: StrictStr
    stackFile: StrictStr | None = None
    priceCatalog: PriceCatalogDocument | None = None
    """Absent in a hand-written document; every estimate writes it."""
    lineItems: list[LineItemDocument]
    selfHosted: SelfHostedTotals
    verdict: VerdictDocument | None = None
    """Absent in a document saved before the verdict was part of it: `diff` then says it cannot tell."""
    breakEvenRequestsPerMonth: dict[str, BreakEvenDocument] | None = None
    hybrid: HybridDocument | None = None
    """Only for a stack with a gateway; its API spend is in lineItems too (category `api`, region `global`)."""
    quotas: dict[str, list[QuotaDocument]] | None = None
    """Per region, the EC2 vCPU quotas the node groups need; absent in a document saved before it was part of it."""


class EstimateDocument(_Part):
    version: Literal[1] = CONTRACT_VERSION
    """A document saved before the contract carried a version reads as version 1."""
    currency: Literal["USD"] = CURRENCY
    stacks: list[StackDocument]


class ContractError(ValueError):
    """A saved estimate that is not a contract document; the message names the first wrong key."""


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse(data: object) -> EstimateDocument:
    """A saved estimate (parsed JSON) as a contract document; ContractError names the first wrong key."""
    if not isinstance(data, dict):
        raise ContractError("not a JSON object with `stacks`")
    try:
        return EstimateDocument.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        key = _path(first["loc"]) or "document"
        if first["type"] == "missing":
            raise ContractError(f"{key}: missing") from None
        if first["type"] == "literal_error":
            wanted = CONTRACT_VERSION if key == "version" else CURRENCY
            raise ContractError(f"{key}: {first['input']!r} is not one this tradeoff-infra reads ({wanted!r})") from None
        if first["type"] == "value_error":
            raise ContractError(f"{key}: {str(first['ctx']['error'])}") from None
        raise ContractError(f"{key}: {first['input']!r} has the wrong type ({first['msg']})") from None
