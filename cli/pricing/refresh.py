"""`tradeoff-infra prices refresh`: rebuild the catalog from the AWS Price List Query API.

Needs AWS credentials (any identity allowed `pricing:GetProducts`); the API lives in us-east-1.
Instance prices are fetched for every (region, instance type) the project supports and EC2
offers there; platform items for every region that has instance prices. Entries the API does not
return keep their previous value, marked as carried over. Parsing is pure (`parse_*`) and tested
on responses in the API's documented format (tests/data/pricing).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from infra import hardware
from infra.price_catalog import carried_over_note, oldest_instance_date

SOURCE_KEY = "aws-price-list-api"
EC2_FILTERS = {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used",
               "licenseModel": "No License required"}


def _filters(**values: str) -> list[dict]:
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in values.items()]


def on_demand_usd(item: dict, unit: str | None = None) -> Decimal | None:
    """The on-demand USD price of one Price List product (first non-zero dimension with `unit`)."""
    for term in (item.get("terms", {}).get("OnDemand") or {}).values():
        for dim in (term.get("priceDimensions") or {}).values():
            if unit and dim.get("unit") != unit:
                continue
            usd = dim.get("pricePerUnit", {}).get("USD")
            if usd is not None and Decimal(usd) > 0:
                return Decimal(usd)
    return None


def parse_instance_prices(price_list: Iterable[str | dict]) -> dict[tuple[str, str], Decimal]:
    """(regionCode, instanceType) -> $/h from GetProducts `PriceList` items (JSON strings)."""
    out: dict[tuple[str, str], Decimal] = {}
    for raw in price_list:
        item = json.loads(raw) if isinstance(raw, str) else raw
        attrs = item.get("product", {}).get("attributes", {})
        region, instance_type = attrs.get("regionCode"), attrs.get("instanceType")
        if not region or not instance_type:
            continue
        if attrs.get("operatingSystem", "Linux") != "Linux" or attrs.get("preInstalledSw", "NA") != "NA":
            continue
        price = on_demand_usd(item, "Hrs")
        if price is not None:
            out[(region, instance_type)] = price
    return out


# Platform items: catalog key -> (service code, filters, unit, predicate on attributes)
PLATFORM_QUERIES: dict[str, tuple[str, dict[str, str], str, Callable[[dict], bool]]] = {
    "natGatewayHour": ("AmazonEC2", {"productFamily": "NAT Gateway"}, "Hrs",
                       lambda a: "NatGateway-Hours" in a.get("usagetype", "")),
    "natGatewayPerGb": ("AmazonEC2", {"productFamily": "NAT Gateway"}, "GB",
                        lambda a: "NatGateway-Bytes" in a.get("usagetype", "")),
    "albHour": ("AWSELB", {"productFamily": "Load Balancer-Application"}, "Hrs",
                lambda a: "LoadBalancerUsage" in a.get("usagetype", "")),
    "albLcuHour": ("AWSELB", {"productFamily": "Load Balancer-Application"}, "LCU-Hrs",
                   lambda a: "LCUUsage" in a.get("usagetype", "")),
    "ebsGp3GbMonth": ("AmazonEC2", {"productFamily": "Storage", "volumeApiName": "gp3"}, "GB-Mo", lambda a: True),
    "ebsGp2GbMonth": ("AmazonEC2", {"productFamily": "Storage", "volumeApiName": "gp2"}, "GB-Mo", lambda a: True),
}


def parse_platform_price(price_list: Iterable[str | dict], unit: str, predicate: Callable[[dict], bool]) -> Decimal | None:
    for raw in price_list:
        item = json.loads(raw) if isinstance(raw, str) else raw
        attrs = item.get("product", {}).get("attributes", {})
        if predicate(attrs):
            price = on_demand_usd(item, unit)
            if price is not None:
                return price
    return None


def _all_products(client: Any, service: str, filters: list[dict]) -> list[str]:
    items: list[str] = []
    kwargs: dict[str, Any] = {"ServiceCode": service, "Filters": filters, "FormatVersion": "aws_v1", "MaxResults": 100}
    while True:
        page = client.get_products(**kwargs)
        items.extend(page.get("PriceList", []))
        token = page.get("NextToken")
        if not token:
            return items
        kwargs["NextToken"] = token


def refresh(catalog: dict, client: Any, *, today: str | None = None,
            progress: Callable[[str], None] = lambda _: None) -> tuple[dict, list[str]]:
    """A new catalog dict from the API; returns (catalog, notes on what was carried over)."""
    today = today or datetime.now(tz=UTC).date().isoformat()
    new = copy.deepcopy(catalog)
    new["sources"][SOURCE_KEY] = {"title": "AWS Price List Query API (pricing:GetProducts), on-demand Linux shared tenancy",
                                  "url": "https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html",
                                  "date": today, "confidence": "A"}
    notes: list[str] = []
    supported = list(hardware.instance_types())
    for region in hardware.aws_regions():
        offered = [t for t in supported if hardware.offered_in(region, t)]
        if not offered:
            continue
        progress(f"{region}: {len(offered)} instance types")
        found: dict[tuple[str, str], Decimal] = {}
        for instance_type in offered:
            items = _all_products(client, "AmazonEC2", _filters(regionCode=region, instanceType=instance_type, **EC2_FILTERS))
            found.update(parse_instance_prices(items))
        entries = new["instances"].setdefault(region, {})
        for instance_type in offered:
            price = found.get((region, instance_type))
            if price is None:
                if instance_type in entries:
                    entries[instance_type]["carriedOver"] = True
                    notes.append(f"{region} {instance_type}: not returned by the API; kept the {entries[instance_type]['date']} price")
                continue
            entries[instance_type] = {"usdPerHour": str(price), "basis": "source", "source": SOURCE_KEY, "date": today,
                                      "confidence": "A"}
        if not entries:
            del new["instances"][region]
            continue
        regional = new["platform"]["regions"].setdefault(region, {})
        for key, (service, filters, unit, predicate) in PLATFORM_QUERIES.items():
            items = _all_products(client, service, _filters(regionCode=region, **filters))
            price = parse_platform_price(items, unit, predicate)
            if price is None:
                kept = regional.get(key)  # a seed's regional entry (cli/pricing/seed.py) stays as it was
                notes.append(f"{region} {key}: not returned by the API; " + (
                    f"kept the {kept['date']} regional price ({kept['source']})" if kept
                    else "the default entry still applies"))
                continue
            base = new["platform"]["default"][key]
            regional[key] = {**base, "usd": str(price), "source": SOURCE_KEY, "date": today, "confidence": "A",
                             "regional": "regional"}
    # the dates say when this refresh ran; carried-over entries keep their own dates, and an estimate's price age
    # counts from the oldest price it uses (cli/estimate: `prices_date`)
    new["retrievedOn"] = new["refreshedOn"] = today
    new["oldestInstancePriceOn"] = oldest_instance_date(new)
    notes += carried_over_note(new, today, "were not refreshed (carried over, or not offered by the API here)")
    new["refreshedBy"] = "tradeoff-infra prices refresh"
    new["source"] = "AWS Price List Query API (instances and NAT/ALB/EBS per region); other items from the seed sources"
    return new, notes
