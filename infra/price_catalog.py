"""The checked-in AWS price catalog (`data/aws_prices.json`): small lookups the program and the CLI share.

The program reads the GPU node price for the Grafana cost panel from here; the estimate
(`cli/pricing`) adds platform items, spot discounts and the catalog's age on top. Every entry in
the file carries its source and date; a derived price says `"basis": "multiplier"` and how it was
derived. A (region, instance type) the catalog does not have raises `MissingPrice`, never $0.
"""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

HOURS_PER_MONTH = 730
CATALOG_PATH = pathlib.Path(__file__).resolve().parent / "data" / "aws_prices.json"


class MissingPrice(LookupError):
    """The catalog has no price for what a stack asks for; the message names every part of the key."""

    def __init__(self, region: str, item: str, detail: str = ""):
        self.region = region
        self.item = item
        hint = detail or ("add it with `tradeoff-infra prices refresh` (AWS Price List API) "
                          "or pick a region/instance type the catalog prices")
        super().__init__(f"no price for {item} in region {region}: {hint}")


@dataclass(frozen=True)
class InstancePrice:
    region: str
    instance_type: str
    capacity_type: str
    usd_per_hour: Decimal
    on_demand_usd_per_hour: Decimal
    basis: str
    """`source` (a published row), or how it was derived (`multiplier`, `size-interpolation`, `size-ratio`)."""
    source: str
    date: str
    confidence: str
    derivation: str | None = None
    spot_savings_percent: int | None = None
    spot_savings_basis: str | None = None


class PriceCatalog:
    """One catalog file, parsed once."""

    def __init__(self, data: dict):
        self.data = data

    @classmethod
    def load(cls, path: str | pathlib.Path | None = None) -> PriceCatalog:
        return cls(json.loads(pathlib.Path(path or CATALOG_PATH).read_text()))

    @property
    def retrieved_on(self) -> str:
        return self.data["retrievedOn"]

    @property
    def source(self) -> str:
        return self.data["source"]

    def spot_savings(self, region: str, instance_type: str) -> tuple[int, str]:
        """Savings % vs on-demand and where it comes from (least optimistic fallback; see catalog `spot.method`)."""
        table = self.data["spot"]["savingsPercent"]
        if region in table.get(instance_type, {}):
            return table[instance_type][region], f"Spot Advisor {instance_type} {region}"
        family = instance_type.split(".")[0]
        same_family = {t: v for t, v in table.items() if t.split(".")[0] == family}
        in_region = [v[region] for v in same_family.values() if region in v]
        if in_region:
            return min(in_region), f"Spot Advisor, lowest {family} savings in {region}"
        anywhere = [s for v in same_family.values() for s in v.values()]
        if anywhere:
            return min(anywhere), f"Spot Advisor, lowest {family} savings in any listed region"
        raise MissingPrice(region, f"spot {instance_type}", f"the Spot Advisor data lists no {family} instance type")

    def instance(self, region: str, instance_type: str, capacity_type: str = "on-demand") -> InstancePrice:
        if capacity_type not in ("on-demand", "spot"):
            raise ValueError(f"capacity_type {capacity_type!r} is neither 'on-demand' nor 'spot'")
        entry = self.data["instances"].get(region, {}).get(instance_type)
        if entry is None:
            raise MissingPrice(region, f"instance type {instance_type}")
        on_demand = Decimal(entry["usdPerHour"])
        price, savings, savings_basis = on_demand, None, None
        if capacity_type == "spot":
            savings, savings_basis = self.spot_savings(region, instance_type)
            price = on_demand * (100 - savings) / 100
        return InstancePrice(
            region=region, instance_type=instance_type, capacity_type=capacity_type,
            usd_per_hour=price, on_demand_usd_per_hour=on_demand, basis=entry["basis"],
            source=entry["source"], date=entry["date"], confidence=entry["confidence"],
            derivation=entry.get("derivation"), spot_savings_percent=savings, spot_savings_basis=savings_basis,
        )

    def platform_item(self, region: str, key: str) -> tuple[dict, bool]:
        """(entry, regional): the region's own entry, else the default one (`regional` False = a proxy price)."""
        own = self.data["platform"]["regions"].get(region, {}).get(key)
        if own is not None:
            return own, True
        default = self.data["platform"]["default"].get(key)
        if default is None:
            raise MissingPrice(region, f"platform item {key}")
        return default, default["regional"] == "uniform" or region == "us-east-1"


@cache
def default_catalog() -> PriceCatalog:
    return PriceCatalog.load()


def hourly_usd(region: str, instance_type: str, capacity_type: str = "on-demand") -> Decimal:
    """$/h of one node from the checked-in catalog; spot is on-demand less the Spot Advisor savings."""
    return default_catalog().instance(region, instance_type, capacity_type).usd_per_hour
