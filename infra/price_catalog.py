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
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache

from infra import files

HOURS_PER_MONTH = 730
CAPACITY_TYPES = ("on-demand", "spot", "reserved-1y")
"""How a node is bought: on-demand, spot, or covered by a 1-year reservation (Reserved Instance / EC2 Instance
Savings Plan, no upfront), which EKS launches as on-demand capacity and AWS bills at the reserved rate."""
RESERVED_TERMS = {"reserved-1y": "1-year Standard Reserved Instance, Linux, no upfront (effective $/h)"}
CATALOG_PATH = pathlib.Path(__file__).resolve().parent / "data" / "aws_prices.json"
# The shipped catalog is ~100 KB; a catalog of every region and GPU type stays far below this.
MAX_CATALOG_BYTES = 64 * files.MIB


class CatalogError(ValueError):
    """A catalog file is not a valid price catalog; the message names the file and the key."""


def _check_entry_date(entry: dict, where: str) -> None:
    if "date" not in entry:
        raise CatalogError(f"{where}date: missing")
    _check_date(entry["date"], where + "date", entry)


def _check_date(value, where: str, entry: dict | None = None) -> None:
    if value is None and entry is not None and entry.get("after") is not None:
        _check_date(entry["after"], where.rsplit(".", 1)[0] + ".after")  # undated snapshot, known to postdate `after`
        return
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        raise CatalogError(f"{where}: {value!r} is not a date YYYY-MM-DD") from None


# A million dollars per hour, GB or month is far above any AWS price (the dearest GPU instance is ~$100/h) and
# small enough that no product with a stack's largest numbers leaves the range of a Decimal rounded to cents:
# "1e999999" or 1e20 used to end the estimate in decimal.Overflow / InvalidOperation tracebacks.
MAX_PRICE_USD = 1_000_000
MAX_TIER_GB = 10**15


def _check_price(value, where: str, limit: int = MAX_PRICE_USD, what: str = "a price") -> None:
    try:
        ok = Decimal(str(value)).is_finite() and 0 <= Decimal(str(value)) <= limit and not isinstance(value, bool)
    except InvalidOperation:
        ok = False
    if not ok:
        raise CatalogError(f"{where}: {files.short_repr(value)} is not {what} (a decimal number from 0 to {limit:,})")


def _need(data: dict, key: str, where: str, kind: type = dict):
    if not isinstance(data, dict) or key not in data:
        raise CatalogError(f"{where}{key}: missing")
    if not isinstance(data[key], kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise CatalogError(f"{where}{key}: must be a {names}, got {type(data[key]).__name__}")
    return data[key]


def validate(data) -> None:
    """Raise CatalogError naming the first key that is missing or malformed."""
    if not isinstance(data, dict):
        raise CatalogError("the catalog must be a JSON object")
    _check_date(_need(data, "retrievedOn", "", str), "retrievedOn")
    _need(data, "source", "", str)
    hours = _need(data, "hoursPerMonth", "", int)
    if hours != HOURS_PER_MONTH:
        raise CatalogError(f"hoursPerMonth: {hours}, but every cost here uses {HOURS_PER_MONTH} hours a month")
    for region, entries in _need(data, "instances", "").items():
        if not isinstance(entries, dict):
            raise CatalogError(f"instances.{region}: must be an object of instance types")
        for instance_type, entry in entries.items():
            where = f"instances.{region}.{instance_type}."
            _check_price(_need(entry, "usdPerHour", where, (str, int, float)), where + "usdPerHour")
            for key in ("basis", "source", "confidence"):
                _need(entry, key, where, str)
            _check_entry_date(entry, where)
    for term, by_region in data.get("reserved", {}).get("usdPerHour", {}).items():
        if term not in RESERVED_TERMS:
            raise CatalogError(f"reserved.usdPerHour.{term}: unknown term (known: {', '.join(RESERVED_TERMS)})")
        for region, by_type in by_region.items():
            for instance_type, usd in by_type.items():
                where = f"reserved.usdPerHour.{term}.{region}.{instance_type}"
                if isinstance(usd, dict):  # a refreshed entry carries its own source and date
                    _need(usd, "source", where + ".", str)
                    _check_date(usd.get("date"), where + ".date")
                    usd = _need(usd, "usd", where + ".", (str, int, float))
                _check_price(usd, where)
    if "reserved" in data:
        reserved = data["reserved"]
        _need(reserved, "source", "reserved.", str)
        _check_date(reserved.get("date"), "reserved.date")
    spot = _need(data, "spot", "")
    for instance_type, by_region in _need(spot, "savingsPercent", "spot.").items():
        if not isinstance(by_region, dict):  # spot_savings() looks regions up in it
            raise CatalogError(f"spot.savingsPercent.{instance_type}: must be an object of region: percentage")
        for region, pct in by_region.items():
            if isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 <= pct < 100:
                raise CatalogError(f"spot.savingsPercent.{instance_type}.{region}: {pct!r} is not a percentage 0-99")
    platform = _need(data, "platform", "")
    default = _need(platform, "default", "platform.")
    _need(_need(default, "eksStandardSupportEnds", "platform.default."), "versions", "platform.default.eksStandardSupportEnds.")
    _need(_need(default, "internetEgressTiers", "platform.default."), "tiers", "platform.default.internetEgressTiers.", list)
    sections = [("default", default)]
    sections += [(f"regions.{r}", items) for r, items in _need(platform, "regions", "platform.").items()]
    for section, items in sections:
        if not isinstance(items, dict):
            raise CatalogError(f"platform.{section}: must be an object")
        for key, entry in items.items():
            where = f"platform.{section}.{key}."
            if not isinstance(entry, dict):
                raise CatalogError(f"platform.{section}.{key}: must be an object")
            _check_entry_date(entry, where)
            if "tiers" in entry:
                for i, tier in enumerate(entry["tiers"] if isinstance(entry["tiers"], list) else [None]):
                    if not isinstance(tier, list) or len(tier) != 2:
                        raise CatalogError(f"{where}tiers[{i}]: must be [upper bound GB or null, $/GB]")
                    if tier[0] is not None:
                        _check_price(tier[0], f"{where}tiers[{i}][0]", MAX_TIER_GB, "an upper bound in GB")
                    _check_price(tier[1], f"{where}tiers[{i}][1]")
                if not entry["tiers"] or entry["tiers"][-1][0] is not None:  # else traffic above the last bound is $0
                    raise CatalogError(f"{where}tiers: the last tier must have the upper bound null (it prices the rest)")
            elif "versions" in entry:
                for version, end in _need(entry, "versions", where).items():
                    _check_date(end, f"{where}versions.{version}")
            else:
                _check_price(_need(entry, "usd", where, (str, int, float)), where + "usd")
            if section == "default":
                _need(entry, "regional", where, str)


def entry_date(entry: dict) -> str:
    """The date an entry's price is known to hold: its `date`, or for an undated snapshot the date it is
    known to postdate (`after`) — the older, so the less flattering, bound."""
    return entry.get("date") or entry["after"]


def oldest_instance_date(data: dict) -> str:
    return min(entry_date(e) for entries in data["instances"].values() for e in entries.values())


def carried_over_note(data: dict, today: str, why: str) -> list[str]:
    """A refresh's note on the instance prices older than `today` (its date): they keep their own dates, and an
    estimate that uses one counts its price age from it, not from the catalog's `retrievedOn`."""
    older = [entry_date(e) for entries in data["instances"].values() for e in entries.values() if entry_date(e) < today]
    if not older:
        return []
    return [f"retrievedOn is {today} (this refresh); {len(older)} instance price(s) {why} and keep their own dates "
            f"(oldest {min(older)}): an estimate that uses one counts its price age from that date"]


class MissingPrice(LookupError):
    """The catalog has no price for what a stack asks for; the message names every part of the key."""

    def __init__(self, region: str, item: str, detail: str = ""):
        self.region = region
        self.item = item
        hint = detail or ("add it with `tradeoff-infra prices refresh` (reads the public AWS bulk offer files, no "
                          "credentials needed) "
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
    date: str | None
    """None for an undated snapshot (then `after` is the date it is known to postdate)."""
    confidence: str
    derivation: str | None = None
    after: str | None = None

    @property
    def dated(self) -> str:
        """The date for a reader: the entry's date, or that it is undated and what it postdates."""
        return self.date or f"undated snapshot, after {self.after}"

    @property
    def age_date(self) -> str:
        """The date its age is counted from (the older bound for an undated snapshot)."""
        return self.date or self.after
    spot_savings_percent: int | None = None
    spot_savings_basis: str | None = None


class PriceCatalog:
    """One catalog file, parsed once."""

    def __init__(self, data: dict):
        self.data = data

    @classmethod
    def load(cls, path: str | pathlib.Path | None = None) -> PriceCatalog:
        """Read and validate a catalog file; CatalogError (a ValueError) names the file and the key."""
        where = pathlib.Path(path or CATALOG_PATH)
        try:
            data = files.finite_json(files.read_text(where, MAX_CATALOG_BYTES))
        except files.UnreadableFile as err:
            raise CatalogError(str(err)) from None
        except ValueError as err:
            raise CatalogError(f"{where}: not JSON ({err})") from None
        try:
            validate(data)
        except CatalogError as err:
            raise CatalogError(f"{where}: {err}") from None
        return cls(data)

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

    def reserved(self, region: str, instance_type: str, term: str = "reserved-1y") -> Decimal:
        """Effective $/h of a reserved node (the term's every hour is billed); MissingPrice when not sourced."""
        return Decimal(self._reserved_entry(region, instance_type, term)["usd"])

    def _reserved_entry(self, region: str, instance_type: str, term: str) -> dict:
        table = self.data.get("reserved", {})
        usd = table.get("usdPerHour", {}).get(term, {}).get(region, {}).get(instance_type)
        if usd is None:
            raise MissingPrice(region, f"{term} (reserved) {instance_type}",
                               "the catalog has no reserved price for it; use on-demand or spot, or refresh the catalog "
                               "from the bulk offer files (`tradeoff-infra prices refresh`)")
        if isinstance(usd, dict):
            return usd
        return {"usd": usd, "source": table["source"], "date": table["date"]}

    def instance(self, region: str, instance_type: str, capacity_type: str = "on-demand") -> InstancePrice:
        if capacity_type not in CAPACITY_TYPES:
            raise ValueError(f"capacity_type {capacity_type!r} is not one of {', '.join(CAPACITY_TYPES)}")
        entry = self.data["instances"].get(region, {}).get(instance_type)
        if entry is None:
            raise MissingPrice(region, f"instance type {instance_type}")
        on_demand = Decimal(entry["usdPerHour"])
        price, savings, savings_basis = on_demand, None, None
        source, dated, after, basis = entry["source"], entry.get("date"), entry.get("after"), entry["basis"]
        confidence, derivation = entry["confidence"], entry.get("derivation")
        if capacity_type == "spot":
            savings, savings_basis = self.spot_savings(region, instance_type)
            price = on_demand * (100 - savings) / 100
        elif capacity_type in RESERVED_TERMS:
            reserved = self._reserved_entry(region, instance_type, capacity_type)
            price, source, dated, after, basis = (Decimal(reserved["usd"]), reserved["source"], reserved["date"], None,
                                                  "source")
            confidence = self.data["sources"].get(source, {}).get("confidence", "B")
            derivation = None
        return InstancePrice(
            region=region, instance_type=instance_type, capacity_type=capacity_type,
            usd_per_hour=price, on_demand_usd_per_hour=on_demand, basis=basis,
            source=source, date=dated, confidence=confidence,
            derivation=derivation, spot_savings_percent=savings, spot_savings_basis=savings_basis,
            after=after,
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
