"""The prices one estimate uses: a PriceBook over the catalog that remembers what it handed out (instance
prices for the estimate's age, regions priced at the us-east-1 rate for want of a regional source)."""

from __future__ import annotations

from decimal import Decimal

from infra.price_catalog import InstancePrice, PriceCatalog, entry_date


def price_note(entry: dict) -> str:
    return f"{entry['source']} {entry['date']} (confidence {entry['confidence']})"


class PriceBook:
    def __init__(self, catalog: PriceCatalog):
        self.catalog = catalog
        self.proxy_regions: dict[str, set[str]] = {}
        """Region -> catalog keys priced at the us-east-1 (default) rate there for want of a regional source."""
        self.instances_used: dict[str, InstancePrice] = {}
        """Every instance price a line item used, by "type region": the estimate's age is its oldest."""
        self.platform_used: dict[str, dict] = {}
        """Every platform price a line item looked up, by "region key" (the catalog entry, the region's own or the
        us-east-1 proxy): the estimate's age counts from the oldest of these and the instance prices."""
        self._instances: dict[tuple[str, str, str], InstancePrice] = {}
        self._platform: dict[tuple[str, str], tuple[Decimal, str]] = {}

    def platform(self, region: str, key: str) -> tuple[Decimal, str]:
        """A platform price (`natGatewayHour`, `ebsGp3GbMonth`, ...) and its source note, looked up once (the
        break-even prices the traffic ~40 times a stack)."""
        if (region, key) in self._platform:
            return self._platform[region, key]
        entry, regional = self.catalog.platform_item(region, key)
        self.platform_used[f"{region} {key}"] = entry
        note = price_note(entry)
        if not regional:
            note += f"; us-east-1 price used for {region} (no regional source)"
            self.proxy_regions.setdefault(region, set()).add(key)
        self._platform[region, key] = Decimal(entry["usd"]), note
        return self._platform[region, key]

    def tiers(self, region: str) -> tuple[list[tuple[Decimal | None, Decimal]], str]:
        """Internet egress tiers (upper GB bound or None, USD per GB) and their source note, looked up once."""
        if ("egress tiers", region) in self._platform:
            return self._platform["egress tiers", region]
        entry, regional = self.catalog.platform_item(region, "internetEgressTiers")
        self.platform_used[f"{region} internetEgressTiers"] = entry
        tiers = [(Decimal(b) if b is not None else None, Decimal(p)) for b, p in entry["tiers"]]
        note = price_note(entry) + ("" if regional else f"; us-east-1 tiers used for {region}")
        if not regional:
            self.proxy_regions.setdefault(region, set()).add("internetEgressTiers")
        self._platform["egress tiers", region] = tiers, note
        return tiers, note

    def instance(self, region: str, instance_type: str, capacity_type: str) -> InstancePrice:
        """An instance price, looked up once (raises MissingPrice naming region and type)."""
        key = (region, instance_type, capacity_type)
        if key not in self._instances:
            self._instances[key] = self.catalog.instance(region, instance_type, capacity_type)
        return self._instances[key]

    def used(self, region: str, instance_type: str, price: InstancePrice) -> None:
        """Record an instance price a line item bills (the estimate's price age counts from the oldest)."""
        self.instances_used[f"{instance_type} {region}"] = price

    def oldest_platform(self) -> tuple[str, str] | None:
        """(date, "region key", "(us-east-1 proxy)" added where it is one) of the oldest platform price used (an undated snapshot counts from what it
        postdates), None when none was used; ties go to the first key in sorted order."""
        if not self.platform_used:
            return None
        day, name = min((entry_date(entry), name) for name, entry in self.platform_used.items())
        region, key = name.split(" ", 1)
        return day, name + (" (us-east-1 proxy)" if key in self.proxy_regions.get(region, ()) else "")

    def proxy_warning(self) -> list[str]:
        if not self.proxy_regions:
            return []
        where = "; ".join(f"{region}: {', '.join(sorted(keys))}" for region, keys in sorted(self.proxy_regions.items()))
        return [f"platform items priced at us-east-1 rates for want of a regional source in the catalog ({where}); "
                "usually within 10-25 %: `tradeoff-infra prices refresh` reads the real ones from the public AWS bulk "
                "offer files"]
