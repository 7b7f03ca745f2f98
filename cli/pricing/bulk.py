"""`tradeoff-infra prices refresh --source bulk` (the default): rebuild the catalog from the public AWS Price List
bulk offer files, with no AWS credentials.

AWS publishes one offer file per service and region at
`https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<service>/current/<region>/index.json` (Price List
documentation, "Reading the service price list file"): `products` maps a SKU to its `productFamily` and
`attributes` (`usagetype`, `location`, `regionCode`, `instanceType`, `volumeApiName`, ...), and `terms.OnDemand` /
`terms.Reserved` map a SKU to offer terms whose `priceDimensions` carry `unit`, `beginRange`, `endRange` and
`pricePerUnit.USD`; a reserved term's `termAttributes` say `LeaseContractLength`, `PurchaseOption` and
`OfferingClass`. `--offers-dir DIR` reads the same layout from disk (`DIR/<service>/<region>/index.json`), which is
how the tests run it offline.

Parsing is pure: `rows()` flattens one offer file, `instance_prices()` and `platform_prices()` pick what the
catalog holds, `apply()` writes them into a catalog dict. Products are matched by region-invariant attributes
(product family, the `usagetype` suffix after the region prefix, `volumeApiName`, `group`), never by a region's
usage-type prefix.
"""

from __future__ import annotations

import copy
import json
import pathlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from infra import hardware
from infra.price_catalog import carried_over_note, entry_date, oldest_instance_date

SOURCE_KEY = "aws-bulk-offers"
OFFER_URL = "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/{service}/current/{region}/index.json"
SERVICES = ("AmazonEC2", "AWSELB", "AmazonVPC", "AmazonCloudWatch", "AWSDataTransfer", "AmazonS3")
# The shipped offer files are large (AmazonEC2 in us-east-1 is hundreds of MB); a test slice is a few KB.
MAX_OFFER_BYTES = 2 * 1024**3

EC2_LINUX = {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used",
             "licenseModel": "No License required"}
RESERVED_1Y = {"LeaseContractLength": "1yr", "PurchaseOption": "No Upfront", "OfferingClass": "standard"}


class OfferError(ValueError):
    """An offer file is not in the Price List format; the message names the file and the key."""


@dataclass(frozen=True)
class Row:
    """One price dimension of one product's term."""

    sku: str
    family: str
    attrs: dict
    term: str
    """`OnDemand` or `Reserved`."""
    unit: str
    usd: Decimal
    begin: Decimal
    end: Decimal | None
    term_attrs: dict = field(default_factory=dict)

    def usage(self, suffix: str) -> bool:
        """The usage type is `suffix` after an optional region prefix (`EUC1-NatGateway-Hours`, `NatGateway-Hours`),
        so `RegionalNatGateway-Hours` or `TS-LoadBalancerUsage` do not match `NatGateway-Hours` / `LoadBalancerUsage`."""
        usage = self.attrs.get("usagetype", "")
        return usage == suffix or bool(re.fullmatch(r"[A-Z0-9]+-" + re.escape(suffix), usage))


def rows(offer: dict, where: str = "offer") -> Iterator[Row]:
    """Every price dimension of an offer file, joined to its product."""
    if not isinstance(offer, dict) or not isinstance(offer.get("products"), dict) or not isinstance(offer.get("terms"), dict):
        raise OfferError(f"{where}: not a Price List offer file (needs the objects `products` and `terms`)")
    products = offer["products"]
    for term_type, by_sku in offer["terms"].items():
        if not isinstance(by_sku, dict):
            raise OfferError(f"{where}: terms.{term_type} must be an object of SKUs")
        for sku, offers in by_sku.items():
            product = products.get(sku)
            if not isinstance(product, dict) or not isinstance(offers, dict):
                continue  # a term without its product prices nothing we can name
            for term in offers.values():
                dims = term.get("priceDimensions") if isinstance(term, dict) else None
                if not isinstance(dims, dict | None) or not isinstance(term, dict) or not all(
                        isinstance(d, dict) and isinstance(d.get("pricePerUnit") or {}, dict) for d in
                        (dims or {}).values()):
                    raise OfferError(f"{where}: terms.{term_type}.{sku}: a term needs an object of price dimensions, "
                                     "each with an object pricePerUnit")
                for dim in (dims or {}).values():
                    usd = (dim.get("pricePerUnit") or {}).get("USD")
                    if usd is None:
                        continue
                    try:
                        price, begin = Decimal(usd), Decimal(dim.get("beginRange") or "0")
                        end = None if dim.get("endRange") in (None, "Inf") else Decimal(dim["endRange"])
                    except (ArithmeticError, TypeError, ValueError):  # a list, an object: no price either
                        raise OfferError(f"{where}: terms.{term_type}.{sku}: {usd!r} from {dim.get('beginRange')!r} to "
                                         f"{dim.get('endRange')!r} is not a price and a range") from None
                    yield Row(sku, product.get("productFamily", ""), product.get("attributes") or {}, term_type,
                              dim.get("unit", ""), price, begin, end, term.get("termAttributes") or {})


def _matches(attrs: dict, wanted: dict) -> bool:
    return all(attrs.get(k) == v for k, v in wanted.items())


def instance_prices(offer_rows: Iterable[Row], instance_types: Iterable[str]) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """(on-demand, reserved-1y) $/h by instance type: Linux, shared tenancy, no pre-installed software; reserved is
    the 1-year standard no-upfront term's hourly rate."""
    wanted = set(instance_types)
    on_demand: dict[str, Decimal] = {}
    reserved: dict[str, Decimal] = {}
    for row in offer_rows:
        if row.family != "Compute Instance" or row.unit != "Hrs" or row.attrs.get("instanceType") not in wanted:
            continue
        if not _matches(row.attrs, EC2_LINUX):
            continue
        if row.term == "OnDemand" and row.usd > 0:
            on_demand[row.attrs["instanceType"]] = row.usd
        elif row.term == "Reserved" and _matches(row.term_attrs, RESERVED_1Y) and row.usd > 0:
            reserved[row.attrs["instanceType"]] = row.usd
    return on_demand, reserved


# catalog key -> (service, predicate on the on-demand row, how the row's price becomes the catalog's unit)
Pick = Callable[[Row], bool]
PLATFORM: dict[str, tuple[str, Pick, Callable[[Row], Decimal]]] = {
    "natGatewayHour": ("AmazonEC2", lambda r: r.family == "NAT Gateway" and r.usage("NatGateway-Hours"), lambda r: r.usd),
    "natGatewayPerGb": ("AmazonEC2", lambda r: r.family == "NAT Gateway" and r.usage("NatGateway-Bytes"), lambda r: r.usd),
    "ebsGp3GbMonth": ("AmazonEC2", lambda r: r.family == "Storage" and r.attrs.get("volumeApiName") == "gp3"
                      and r.unit == "GB-Mo", lambda r: r.usd),
    "ebsGp2GbMonth": ("AmazonEC2", lambda r: r.family == "Storage" and r.attrs.get("volumeApiName") == "gp2"
                      and r.unit == "GB-Mo", lambda r: r.usd),
    "ebsGp3IopsMonth": ("AmazonEC2", lambda r: r.family == "System Operation" and r.attrs.get("volumeApiName") == "gp3"
                        and r.unit == "IOPS-Mo", lambda r: r.usd),
    # gp3 throughput is billed per MiB/s-month; the offer states it per GiBps-mo (1 GiB/s = 1024 MiB/s)
    "ebsGp3ThroughputMonth": ("AmazonEC2", lambda r: r.family == "Provisioned Throughput"
                              and r.attrs.get("volumeApiName") == "gp3" and r.unit.lower() in ("gibps-mo", "mibps-mo"),
                              lambda r: r.usd / 1024 if r.unit.lower() == "gibps-mo" else r.usd),
    "vpcInterfaceEndpointAzHour": ("AmazonVPC", lambda r: r.family == "VpcEndpoint" and r.usage("VpcEndpoint-Hours"),
                                   lambda r: r.usd),
    "publicIpv4Hour": ("AmazonVPC", lambda r: r.family == "IP Address" and r.usage("PublicIPv4:InUseAddress"),
                       lambda r: r.usd),
    "albHour": ("AWSELB", lambda r: r.family == "Load Balancer-Application" and r.usage("LoadBalancerUsage"),
                lambda r: r.usd),
    "albLcuHour": ("AWSELB", lambda r: r.family == "Load Balancer-Application" and r.usage("LCUUsage"), lambda r: r.usd),
    "nlbHour": ("AWSELB", lambda r: r.family == "Load Balancer-Network" and r.usage("LoadBalancerUsage"), lambda r: r.usd),
    "nlbLcuHour": ("AWSELB", lambda r: r.family == "Load Balancer-Network" and r.usage("LCUUsage"), lambda r: r.usd),
    "cloudwatchLogsIngestedPerGb": ("AmazonCloudWatch", lambda r: r.family == "Data Payload"
                                    and r.usage("DataProcessing-Bytes"), lambda r: r.usd),
    "cloudwatchLogsArchivedGbMonth": ("AmazonCloudWatch", lambda r: r.family == "Storage Snapshot"
                                      and r.usage("TimedStorage-ByteHrs"), lambda r: r.usd),
    "cloudwatchAlarmMonth": ("AmazonCloudWatch", lambda r: r.family == "Alarm" and r.usage("CW:AlarmMonitorUsage"),
                             lambda r: r.usd),
    "cloudwatchHighResAlarmMonth": ("AmazonCloudWatch", lambda r: r.family == "Alarm"
                                    and r.usage("CW:HighResAlarmMonitorUsage"), lambda r: r.usd),
    # custom metrics are tiered: the first tier (the first 10,000 metrics) is what a stack of this size pays
    "cloudwatchCustomMetricMonth": ("AmazonCloudWatch", lambda r: r.family == "Metric" and r.begin == 0
                                    and r.usage("CW:MetricMonitorUsage"), lambda r: r.usd),
    "crossAzPerGb": ("AWSDataTransfer", lambda r: r.attrs.get("transferType") == "IntraRegion", lambda r: r.usd),
    "s3StandardGbMonth": ("AmazonS3", lambda r: r.family == "Storage" and r.attrs.get("volumeType") == "Standard"
                          and r.begin == 0, lambda r: r.usd),
    "s3PutPer1000": ("AmazonS3", lambda r: r.family == "API Request" and r.attrs.get("group") == "S3-API-Tier1",
                     lambda r: r.usd * 1000),
    "s3GetPer1000": ("AmazonS3", lambda r: r.family == "API Request" and r.attrs.get("group") == "S3-API-Tier2",
                     lambda r: r.usd * 1000),
}


def platform_prices(service: str, offer_rows: Iterable[Row]) -> dict[str, Decimal | list]:
    """Catalog key -> price for one service's offer file of one region (the first non-zero on-demand match; the
    largest where several match, e.g. inter-region transfer to each destination). `internetEgressTiers` is
    `[[upper bound GB or None, $/GB], ...]` from the `AWS Outbound` to `External` dimensions."""
    found: dict[str, Decimal | list] = {}
    inter_region: list[Decimal] = []
    egress: list[Row] = []
    for row in offer_rows:
        if row.term != "OnDemand":
            continue
        if service == "AWSDataTransfer":
            kind = row.attrs.get("transferType")
            if kind == "AWS Outbound" and row.attrs.get("toLocation") == "External" and row.unit == "GB":
                egress.append(row)
                continue
            if kind == "InterRegion Outbound" and row.usd > 0:
                inter_region.append(row.usd)
                continue
        for key, (svc, pick, convert) in PLATFORM.items():
            if svc == service and key not in found and row.usd > 0 and pick(row):
                found[key] = convert(row)
    if inter_region:
        found["interRegionPerGb"] = max(inter_region)  # the dearest destination: the estimate names no destination
    paid = sorted((r for r in egress if r.usd > 0), key=lambda r: r.begin)
    if paid:
        found["internetEgressTiers"] = [[None if r.end is None else _text(r.end), _text(r.usd)] for r in paid]
    return found


# ---------------------------------------------------------------- reading the files


def offer_file(root: pathlib.Path, service: str, region: str) -> pathlib.Path:
    """Where `--offers-dir root` holds the offer file of `service` in `region` (the URL layout)."""
    return root / service / region / "index.json"


def offers_dir_loader(root: pathlib.Path) -> Callable[[str, str], dict | None]:
    """Offer files from `root/<service>/<region>/index.json` (the URL layout); None where a file is absent."""

    def load(service: str, region: str) -> dict | None:
        path = offer_file(root, service, region)
        try:
            if not path.is_file() and not path.is_symlink():  # a link to nothing (or a loop) is read, and refused
                return None
            return json.loads(path.read_text())
        except ValueError as err:
            raise OfferError(f"{path}: not JSON ({err})") from None
        except OSError as err:  # the user's file: unreadable, a loop of symlinks, a folder
            raise OfferError(f"{path}: cannot read ({err.strerror or err})") from None

    return load


def url_loader(timeout: float = 300) -> Callable[[str, str], dict | None]:
    """Offer files from the public Price List endpoint (no credentials); None on 404 (service not in the region)."""
    import urllib.error
    import urllib.request

    def load(service: str, region: str) -> dict | None:
        url = OFFER_URL.format(service=service, region=region)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (fixed https URL)
                body = response.read(MAX_OFFER_BYTES + 1)
        except urllib.error.HTTPError as err:
            if err.code in (403, 404):
                return None
            raise
        if len(body) > MAX_OFFER_BYTES:
            raise OfferError(f"{url}: larger than {MAX_OFFER_BYTES} bytes")
        try:
            return json.loads(body)
        except ValueError as err:
            raise OfferError(f"{url}: not JSON ({err})") from None

    return load


# ---------------------------------------------------------------- into the catalog


def _text(value: Decimal) -> str:
    """A price as the catalog writes it: plain decimal, no exponent, no trailing zeros."""
    return format(value.normalize(), "f")


def apply(catalog: dict, load: Callable[[str, str], dict | None], regions: Iterable[str], *, today: str | None = None,
          source_title: str = "AWS Price List bulk offer files (public, no credentials)",
          source_url: str = OFFER_URL, progress: Callable[[str], None] = lambda _: None,
          where: Callable[[str, str], str] = lambda service, region: f"{service}/{region}") -> tuple[dict, list[str]]:
    """A new catalog with every price the offer files of `regions` give; what they do not give keeps its previous
    value (and date), and each such gap is named in the returned notes. `where(service, region)` names an offer
    file in an `OfferError` (its path under --offers-dir, its URL)."""
    today = today or datetime.now(tz=UTC).date().isoformat()
    new = copy.deepcopy(catalog)
    new["sources"][SOURCE_KEY] = {"title": source_title, "url": source_url, "date": today, "confidence": "A"}
    entry = {"basis": "source", "source": SOURCE_KEY, "date": today, "confidence": "A"}
    notes: list[str] = []
    supported = list(hardware.instance_types())
    reserved_table = new.setdefault("reserved", {"method": catalog.get("reserved", {}).get("method", ""),
                                                 "source": SOURCE_KEY, "date": today, "usdPerHour": {}})
    reserved_table.setdefault("usdPerHour", {}).setdefault("reserved-1y", {})
    for region in regions:
        offered = [t for t in supported if hardware.offered_in(region, t)]
        files = {service: load(service, region) for service in SERVICES}
        missing = [s for s, f in files.items() if f is None]
        if missing:
            notes.append(f"{region}: no offer file for {', '.join(missing)}; those prices keep their previous values")
        progress(f"{region}: {len(SERVICES) - len(missing)} offer files")
        ec2 = files.get("AmazonEC2")
        if ec2 is not None:
            on_demand, reserved = instance_prices(rows(ec2, where("AmazonEC2", region)), offered)
            entries = new["instances"].setdefault(region, {})
            kept = []
            for instance_type in offered:
                if instance_type in on_demand:
                    entries[instance_type] = {"usdPerHour": _text(on_demand[instance_type]), **entry}
                elif instance_type in entries:
                    kept.append(f"{instance_type} ({entry_date(entries[instance_type])})")
                if instance_type in reserved:
                    reserved_table["usdPerHour"]["reserved-1y"].setdefault(region, {})[instance_type] = {
                        "usd": _text(reserved[instance_type]), "source": SOURCE_KEY, "date": today}
            if kept:
                notes.append(f"{region}: {len(kept)} instance type(s) not in the AmazonEC2 offer file keep their "
                             f"previous prices: {', '.join(kept)}")
            if not entries:
                del new["instances"][region]
        regional = new["platform"]["regions"].setdefault(region, {})
        for service, offer in files.items():
            if offer is None:
                continue
            for key, value in platform_prices(service, rows(offer, where(service, region))).items():
                base = new["platform"]["default"][key]
                item = {k: v for k, v in base.items() if k not in ("usd", "tiers", "note")}
                item.update({"source": SOURCE_KEY, "date": today, "confidence": "A", "regional": "regional"})
                if key == "internetEgressTiers":
                    item["tiers"] = value
                else:
                    item["usd"] = _text(value)
                regional[key] = item
        unpriced = sorted(k for k, v in new["platform"]["default"].items()
                          if v.get("regional") not in ("uniform", None) and k not in regional)
        if unpriced and region != "us-east-1":
            notes.append(f"{region}: the offer files gave no {', '.join(unpriced)}; the us-east-1 proxy still applies "
                         "(the estimate warns)")
        if not regional:
            del new["platform"]["regions"][region]
    # the dates say when this refresh ran; each price keeps its own date, and an estimate's price age counts from
    # the oldest price it uses (cli/estimate: `prices_date`), so a carried-over price still ages honestly
    new["retrievedOn"] = new["refreshedOn"] = today
    new["oldestInstancePriceOn"] = oldest_instance_date(new)
    new["refreshedBy"] = "tradeoff-infra prices refresh --source bulk"
    new["source"] = ("AWS Price List bulk offer files (instances, reserved, NAT/ALB/EBS/CloudWatch/IPv4/data transfer/"
                     "S3 per region); other items from the seed sources")
    notes += carried_over_note(new, today, "were not in the offer files read")
    return new, notes
