"""`prices refresh` parsing on Price List API responses in the documented format (tests/data/pricing/README.md), and a refresh through a stubbed client."""

from __future__ import annotations

import json
from decimal import Decimal

import boto3
from botocore.stub import ANY, Stubber

from cli.pricing import refresh
from infra.price_catalog import PriceCatalog, default_catalog
from tests.paths import DATA

RECORDED = json.loads((DATA / "pricing" / "get_products.json").read_text())


def test_parse_instance_prices_keeps_linux_without_preinstalled_software():
    prices = refresh.parse_instance_prices(RECORDED["ec2_g6e_xlarge_us_east_1"]["PriceList"])
    assert prices == {("us-east-1", "g6e.xlarge"): Decimal("1.8610000000")}


def test_parse_platform_price_picks_the_dimension_by_usage_type():
    items = RECORDED["nat_us_east_1"]["PriceList"]
    _, _, unit, pred = refresh.PLATFORM_QUERIES["natGatewayPerGb"]
    assert refresh.parse_platform_price(items, unit, pred) == Decimal("0.045")
    _, _, unit, pred = refresh.PLATFORM_QUERIES["albHour"]
    assert refresh.parse_platform_price(items, unit, pred) is None


def test_refresh_through_a_stubbed_client(monkeypatch):
    """Only us-east-1/g6e.xlarge answered: it becomes an API-sourced entry dated today; the rest is carried over."""
    from infra import hardware

    monkeypatch.setattr(hardware, "aws_regions", lambda: ["us-east-1"])
    monkeypatch.setattr(hardware, "instance_types", lambda: {"g6e.xlarge": None, "g6.xlarge": None})
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    empty = {"PriceList": [], "FormatVersion": "aws_v1"}
    for instance_type in ("g6e.xlarge", "g6.xlarge"):
        body = RECORDED["ec2_g6e_xlarge_us_east_1"] if instance_type == "g6e.xlarge" else empty
        stub.add_response("get_products", body, {"ServiceCode": "AmazonEC2", "Filters": ANY, "FormatVersion": "aws_v1",
                                                 "MaxResults": 100})
    for key in refresh.PLATFORM_QUERIES:
        body = RECORDED["nat_us_east_1"] if key.startswith("natGateway") else empty
        stub.add_response("get_products", body, {"ServiceCode": ANY, "Filters": ANY, "FormatVersion": "aws_v1",
                                                 "MaxResults": 100})
    with stub:
        new, notes = refresh.refresh(default_catalog().data, client, today="2026-11-24")
    stub.assert_no_pending_responses()
    catalog = PriceCatalog(new)
    entry = catalog.instance("us-east-1", "g6e.xlarge")
    assert (entry.usd_per_hour, entry.source, entry.date, entry.basis) == (Decimal("1.8610000000"), "aws-price-list-api",
                                                                           "2026-11-24", "source")
    assert new["instances"]["us-east-1"]["g6.xlarge"]["carriedOver"] is True
    assert any("g6.xlarge" in n for n in notes)
    assert catalog.platform_item("us-east-1", "natGatewayHour")[0]["source"] == "aws-price-list-api"
    # the catalog's dates say when the refresh ran; carried-over entries keep their own dates (estimates age from them)
    oldest = min(e.get("date") or e["after"] for entries in new["instances"].values() for e in entries.values())
    assert new["instances"]["us-east-1"]["g6.xlarge"]["date"] == "2026-07-20"
    assert new["retrievedOn"] == new["refreshedOn"] == "2026-11-24" and new["oldestInstancePriceOn"] == oldest
    assert any(f"(oldest {oldest}): an estimate that uses one counts its price age from that date" in n for n in notes), notes
    assert default_catalog().data["instances"]["us-east-1"]["g6e.xlarge"]["source"] == "karpenter"  # input untouched


def test_a_platform_item_the_api_does_not_return_keeps_the_seeds_regional_entry_and_says_so(monkeypatch):
    """eu-central-1 NAT has a regional seed entry (infracost-output-euc1): when the API returns nothing for it, that
    entry stays, and the note names it rather than claiming the us-east-1 default applies."""
    from infra import hardware

    monkeypatch.setattr(hardware, "aws_regions", lambda: ["eu-central-1"])
    monkeypatch.setattr(hardware, "instance_types", lambda: {"g6e.xlarge": None})
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    empty = {"PriceList": [], "FormatVersion": "aws_v1"}
    for _ in range(1 + len(refresh.PLATFORM_QUERIES)):
        stub.add_response("get_products", empty, {"ServiceCode": ANY, "Filters": ANY, "FormatVersion": "aws_v1",
                                                  "MaxResults": 100})
    with stub:
        new, notes = refresh.refresh(default_catalog().data, client, today="2026-11-24")
    seeded = default_catalog().data["platform"]["regions"]["eu-central-1"]["natGatewayHour"]
    assert new["platform"]["regions"]["eu-central-1"]["natGatewayHour"] == seeded
    (nat,) = [n for n in notes if n.startswith("eu-central-1 natGatewayHour:")]
    assert "default entry" not in nat and seeded["source"] in nat and seeded["date"] in nat, nat
    (gp3,) = [n for n in notes if n.startswith("eu-central-1 ebsGp3GbMonth:")]  # no regional source: the default
    assert "default entry still applies" in gp3, gp3
