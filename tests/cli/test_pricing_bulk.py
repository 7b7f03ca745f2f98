"""`prices refresh --source bulk` (the default): the public AWS Price List bulk offer files, no credentials, no network
here. `tests/data/pricing/offers-recorded` is a slice of a real offer file; `tests/data/pricing/offers` is a format
fixture (both described in their README.md)."""

from __future__ import annotations

import json
import pathlib
import re
from datetime import UTC, date, datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

import pytest
from typer.testing import CliRunner

from cli import estimate as est
from cli.main import app
from cli.pricing import bulk, seed
from infra.price_catalog import CatalogError, PriceCatalog, default_catalog, oldest_instance_date, validate
from tests import paths
from tests.builders import resources, spec_of

DATA = paths.DATA / "pricing"
OFFERS = DATA / "offers"
RECORDED = DATA / "offers-recorded"
runner = CliRunner()


def offer(service: str, region: str = "eu-central-1", root: pathlib.Path = OFFERS) -> list[bulk.Row]:
    return list(bulk.rows(json.loads((root / service / region / "index.json").read_text())))


def test_a_recorded_slice_of_a_real_offer_file_parses():
    """opencost's trimmed AmazonEC2 us-east-2 offer (2023-03-22): gp3 at $0.08/GB-month; the m5.large product has only
    a 3-year upfront fee (unit Quantity), and the p3.8xlarge row is Windows BYOL: neither is a Linux on-demand price."""
    rows = offer("AmazonEC2", "us-east-2", RECORDED)
    assert bulk.platform_prices("AmazonEC2", rows) == {"ebsGp3GbMonth": Decimal("0.08")}
    assert bulk.instance_prices(rows, ["m5.large", "p3.8xlarge"]) == ({}, {})


def test_instances_take_linux_on_demand_and_the_one_year_no_upfront_reservation():
    on_demand, reserved = bulk.instance_prices(offer("AmazonEC2"), ["g6e.xlarge", "m6i.large"])
    assert on_demand == {"g6e.xlarge": Decimal("2.327")}  # not the Windows or SQL Web decoys
    assert reserved == {"g6e.xlarge": Decimal("1.46601")}  # not the 3-year all-upfront term


def test_platform_items_are_matched_by_region_invariant_attributes():
    ec2 = bulk.platform_prices("AmazonEC2", offer("AmazonEC2"))
    assert ec2["natGatewayHour"] == ec2["natGatewayPerGb"] == Decimal("0.052")  # not the RegionalNatGateway decoy
    assert ec2["ebsGp3ThroughputMonth"] == Decimal("0.04")  # $40.96 per GiBps-month is $0.04 per MiBps-month
    elb = bulk.platform_prices("AWSELB", offer("AWSELB"))
    assert elb["albHour"] == Decimal("0.0225")  # not the trust-store usage type
    vpc = bulk.platform_prices("AmazonVPC", offer("AmazonVPC"))
    assert vpc["publicIpv4Hour"] == Decimal("0.005")  # in use, not idle
    transfer = bulk.platform_prices("AWSDataTransfer", offer("AWSDataTransfer"))
    assert transfer["internetEgressTiers"] == [["10240", "0.09"], ["51200", "0.085"], ["153600", "0.07"], [None, "0.05"]]
    assert transfer["crossAzPerGb"] == Decimal("0.01")
    s3 = bulk.platform_prices("AmazonS3", offer("AmazonS3"))
    assert s3["s3PutPer1000"] == Decimal("0.005") and s3["s3StandardGbMonth"] == Decimal("0.023")
    metrics = bulk.platform_prices("AmazonCloudWatch", offer("AmazonCloudWatch"))
    assert metrics["cloudwatchCustomMetricMonth"] == Decimal("0.3")  # the first tier


def test_a_file_that_is_not_an_offer_is_refused_by_name():
    with pytest.raises(bulk.OfferError, match="AmazonEC2/x: not a Price List offer file"):
        list(bulk.rows({"products": []}, "AmazonEC2/x"))


@pytest.fixture
def no_credentials_no_network(tmp_path, monkeypatch):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    import urllib.request

    def no_network(*_a, **_k):
        raise AssertionError("the test reached for the network")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)


def refreshed(tmp_path) -> pathlib.Path:
    out = tmp_path / "prices.json"
    result = runner.invoke(app, ["prices", "refresh", "--offers-dir", str(OFFERS), "--region", "eu-central-1",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_prices_refresh_rebuilds_the_catalog_from_bulk_files_without_credentials(tmp_path, no_credentials_no_network):
    out = refreshed(tmp_path)
    data = json.loads(out.read_text())
    validate(data)
    nat = data["platform"]["regions"]["eu-central-1"]["natGatewayHour"]
    assert (nat["usd"], nat["source"], nat["regional"]) == ("0.052", bulk.SOURCE_KEY, "regional")
    assert data["instances"]["eu-central-1"]["g6e.xlarge"]["usdPerHour"] == "2.327"
    assert data["reserved"]["usdPerHour"]["reserved-1y"]["eu-central-1"]["g6e.xlarge"]["usd"] == "1.46601"
    assert data["refreshedBy"] == "tradeoff-infra prices refresh --source bulk"
    # what the files do not hold keeps its value and date: the catalog's age does not pretend otherwise
    assert data["instances"]["eu-central-1"]["g6e.12xlarge"] == default_catalog().data["instances"]["eu-central-1"]["g6e.12xlarge"]
    # the dates say when the refresh ran (not the oldest price's date, which made a refresh look older than the seed)
    today = datetime.now(tz=UTC).date().isoformat()
    assert data["retrievedOn"] == data["refreshedOn"] == today
    assert data["retrievedOn"] >= default_catalog().retrieved_on
    assert data["oldestInstancePriceOn"] == oldest_instance_date(default_catalog().data)


def test_after_a_refresh_each_estimate_ages_from_the_oldest_price_it_uses(tmp_path, no_credentials_no_network):
    """A refreshed catalog is dated today, yet a stack using a carried-over price still reads as old as that price,
    and one using only refreshed prices reads fresh (the `stale-prices` warning judges the prices used)."""
    catalog = PriceCatalog.load(refreshed(tmp_path))
    today = date.fromisoformat(catalog.retrieved_on)

    def priced(instance_type):
        r = est.estimate("t", "t.yaml", spec_of(region="eu-central-1", instance=instance_type),
                         resources(region="eu-central-1", instance=instance_type), catalog, [],
                         as_of=today, api_source="test")
        return r.prices_date, r.warnings

    fresh = [k for k, e in catalog.data["instances"]["eu-central-1"].items() if e.get("date") == today.isoformat()]
    carried = {k: e for k, e in catalog.data["instances"]["eu-central-1"].items() if e.get("date") != today.isoformat()}
    assert "g6e.xlarge" in fresh and "g6e.12xlarge" in carried
    old_date, warnings = priced("g6e.12xlarge")
    assert old_date == carried["g6e.12xlarge"].get("date") or carried["g6e.12xlarge"]["after"]
    assert any(w.startswith(f"the price catalog is {(today - date.fromisoformat(old_date)).days} days old") for w in warnings)
    system = "m6i.large"  # the system nodes of tests/builders.resources
    new_date, warnings = priced("g6e.xlarge")
    if system in fresh:
        assert new_date == today.isoformat() and not any("price catalog is" in w for w in warnings)
    else:  # the system nodes' price was carried over: the stack is as old as it
        assert new_date == (carried[system].get("date") or carried[system]["after"])


def test_an_eu_central_1_stack_prices_nat_at_the_regional_rate_without_the_proxy_warning(tmp_path,
                                                                                          no_credentials_no_network):
    catalog = PriceCatalog.load(refreshed(tmp_path))
    r = est.estimate("t", "t.yaml", spec_of(region="eu-central-1"), resources(region="eu-central-1"), catalog, [],
                     as_of=date(2026, 11, 30), api_source="test")
    (nat,) = [li for li in r.line_items if li.resource == "nat" and li.unit == "hours"]
    assert nat.unit_price == Decimal("0.052") and "us-east-1 price used" not in nat.price_source
    assert not [w for w in r.warnings if "priced at us-east-1 rates" in w], r.warnings


def test_the_shipped_catalog_names_each_proxied_item_by_region():
    """Until a refresh, ap-northeast-1 NAT is the us-east-1 rate: the warning names the region and the catalog key."""
    r = est.estimate("t", "t.yaml", spec_of(region="ap-northeast-1"), resources(region="ap-northeast-1"),
                     default_catalog(), [], as_of=date(2026, 11, 30), api_source="test")
    (warning,) = [w for w in r.warnings if "priced at us-east-1 rates" in w]
    assert "ap-northeast-1: " in warning and "natGatewayHour" in warning and "albHour" in warning
    # egress is sourced per region (infracost's data transfer golden): no longer a proxy
    assert "internetEgressTiers" not in warning


REGIONAL_BY_INFRACOST = ["natGatewayHour", "natGatewayPerGb", "albHour", "albLcuHour", "cloudwatchLogsIngestedPerGb",
                         "cloudwatchLogsArchivedGbMonth", "cloudwatchCustomMetricMonth"]


def test_the_shipped_catalog_prices_an_eu_central_1_stack_at_the_regional_nat_and_alb_rates():
    """Issue 11's acceptance point on the shipped catalog (no refresh): eu-central-1 NAT at $0.052 per hour and per
    GB and the ALB at $0.027 per hour, from infracost breakdowns of eu-central-1 stacks; only the gp3 storage of the
    node groups, which has no exact regional source yet, is still named as a us-east-1 proxy."""
    r = est.estimate("t", "t.yaml", spec_of(region="eu-central-1"), resources(region="eu-central-1"),
                     default_catalog(), [], as_of=date(2026, 11, 30), api_source="test")
    priced = {(li.resource, li.unit): li for li in r.line_items}
    for (resource, unit), usd in {("nat", "hours"): "0.052", ("nat", "GB"): "0.052", ("alb", "hours"): "0.027",
                                  ("alb", "LCU-hours"): "0.008"}.items():
        li = priced[resource, unit]
        assert li.unit_price == Decimal(usd) and "us-east-1 price used" not in li.price_source, (resource, unit)
        assert li.price_source.startswith("infracost-output-euc1 2026-03-08")
    (warning,) = [w for w in r.warnings if "priced at us-east-1 rates" in w]
    assert "(eu-central-1: ebsGp3GbMonth)" in warning
    for key in REGIONAL_BY_INFRACOST:
        entry, regional = default_catalog().platform_item("eu-central-1", key)
        assert regional and entry["source"] == "infracost-output-euc1", key


def test_the_shipped_us_east_2_gp3_rate_is_the_recorded_offer_files():
    """us-east-2 gp3 storage is sourced from the recorded slice of the real AmazonEC2 offer (not a us-east-1 proxy),
    and it is what the bulk parser reads from that slice."""
    entry, regional = default_catalog().platform_item("us-east-2", "ebsGp3GbMonth")
    parsed = bulk.platform_prices("AmazonEC2", offer("AmazonEC2", "us-east-2", RECORDED))["ebsGp3GbMonth"]
    assert regional and entry["source"] == "opencost-offer-use2" and Decimal(entry["usd"]) == parsed


CENT = Decimal("0.01")
REGIONAL_ROWS = [(region, source, key, usd, line) for region, sources in seed.INFRACOST_REGIONAL.items()
                 for source, rows in sources for key, usd, line in rows]


def printed_by(usd: Decimal, line: str) -> tuple[Decimal, Decimal]:
    """(what the breakdown line printed, what the rate prints there): the 730-hour cost, the per-LCU-month price, the
    N-metric cost to the cent as infracost rounds (half up), or a per-unit price as printed."""
    if m := re.search(r" ([\d,]+) hours \$([\d,.]+)$", line):
        return Decimal(m[2].replace(",", "")), (usd * int(m[1].replace(",", ""))).quantize(CENT, ROUND_HALF_UP)
    if m := re.search(r" (\d+) metrics \$([\d.]+)$", line):
        return Decimal(m[2]), (usd * int(m[1])).quantize(CENT, ROUND_HALF_UP)
    if m := re.search(r"\$([\d.]+) per LCU\(-month\) / 730$", line):
        return Decimal(m[1]), (usd * 730).quantize(CENT, ROUND_HALF_UP)
    m = re.search(r"\$([\d.]+) per (GB|1k requests)$", line)
    assert m, f"a line the test cannot read: {line!r}"
    return Decimal(m[1]), usd


def four_decimal_rates_printing(printed: Decimal, hours: int) -> list[Decimal]:
    """Every rate with at most four decimals whose `hours`-hour cost rounds (half up) to `printed`."""
    low = int(((printed - CENT / 2) / hours * 10_000).to_integral_value(ROUND_FLOOR))
    return [Decimal(k) / 10_000 for k in range(low, low + 3)
            if (Decimal(k) / 10_000 * hours).quantize(CENT, ROUND_HALF_UP) == printed]


@pytest.mark.parametrize(("region", "source", "key", "usd", "line"), REGIONAL_ROWS,
                         ids=[f"{r[0]}-{r[2]}" for r in REGIONAL_ROWS])
def test_each_regional_infracost_rate_reproduces_the_line_its_breakdown_printed(region, source, key, usd, line):
    """Each rate of the shipped catalog read from an infracost breakdown (docs/sources.md A11/A12) reproduces the line
    it was read from, and an hourly rate is the only one with at most four decimals that does (730 h x $0.0225 is
    $16.425, which infracost prints as $16.43)."""
    entry, regional = default_catalog().platform_item(region, key)
    assert regional and entry["source"] == source and entry["usd"] == usd, (region, key, entry)
    printed, reproduced = printed_by(Decimal(usd), line)
    assert reproduced == printed, (region, key, line)
    if m := re.search(r" ([\d,]+) hours \$", line):
        assert four_decimal_rates_printing(printed, int(m[1].replace(",", ""))) == [Decimal(usd)], (region, key)


def test_a_regional_key_read_from_two_sources_is_refused(monkeypatch):
    """One key, one source per region: a second source for a key already sourced is an error naming both."""
    monkeypatch.setitem(seed.INFRACOST_REGIONAL, "us-west-2", [
        *seed.INFRACOST_REGIONAL["us-west-2"], ("infracost-output-euw1", [("albHour", "0.0252", "x 730 hours $18.40")])])
    with pytest.raises(ValueError, match=r"us-west-2 albHour: two sources \(infracost-output-usw2-alb, infracost-output"):
        seed.platform()


def test_a_regional_row_cannot_silently_replace_a_data_transfer_rate(monkeypatch):
    """The refusal covered the infracost and offer-file rows among themselves only: a breakdown row for a key the
    data-transfer golden already prices in that region (crossAzPerGb, interRegionPerGb, internetEgressTiers)
    replaced it without a word. It is refused the same way, naming both sources."""
    monkeypatch.setitem(seed.INFRACOST_REGIONAL, "eu-west-1", [
        *seed.INFRACOST_REGIONAL["eu-west-1"], ("infracost-output-euw1", [("crossAzPerGb", "0.02", "x $0.02 per GB")])])
    with pytest.raises(ValueError, match=r"eu-west-1 crossAzPerGb: two sources \(infracost-data-transfer, infracost-output"):
        seed.platform()


GP3 = {"ebsGp3GbMonth", "ebsGp3IopsMonth", "ebsGp3ThroughputMonth"}
# What each shipped stack still prices at us-east-1 rates (the estimate's `us-east-1-rates` warning), by region.
STILL_PROXIED = {
    "dev": {},
    "prod-us": {"us-west-2": GP3 | {"cloudwatchAlarmMonth"}},
    "hybrid": {"us-west-2": GP3 | {"cloudwatchAlarmMonth"},
               "us-east-2": {"ebsGp3IopsMonth", "ebsGp3ThroughputMonth", "cloudwatchAlarmMonth", "albHour",
                             "albLcuHour", "natGatewayHour", "natGatewayPerGb", "cloudwatchLogsIngestedPerGb",
                             "cloudwatchLogsArchivedGbMonth"}},
    "prod-global": {"eu-central-1": GP3 | {"cloudwatchAlarmMonth"},
                    "ap-northeast-1": GP3 | {"cloudwatchAlarmMonth", "albHour", "albLcuHour", "natGatewayHour",
                                             "natGatewayPerGb", "cloudwatchLogsIngestedPerGb",
                                             "cloudwatchLogsArchivedGbMonth", "s3StandardGbMonth", "s3PutPer1000",
                                             "s3GetPer1000"}},
}


@pytest.fixture(scope="module")
def shipped_estimates(tmp_path_factory):
    env = {"TRADEOFF_INFRA_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}
    result = runner.invoke(app, ["estimate", "--all", "--format", "json", "--as-of", "2026-11-30"], env=env)
    assert result.exit_code == 0, result.output
    return {s["stack"]: s for s in json.loads(result.output)["stacks"]}


def proxied_keys(warnings: list[str]) -> dict[str, set[str]]:
    found = [w for w in warnings if "priced at us-east-1 rates" in w]
    if not found:
        return {}
    (warning,) = found
    where = re.search(r"in the catalog \((.*?)\); usually", warning)[1]
    return {region: set(keys.split(", ")) for region, keys in (part.split(": ") for part in where.split("; "))}


@pytest.mark.parametrize("stack", sorted(STILL_PROXIED))
def test_each_shipped_stack_names_exactly_the_platform_keys_still_proxied(stack, shipped_estimates):
    """us-west-2 NAT, ALB, LCU and CloudWatch Logs are sourced (A12): prod-us and hybrid name only its gp3 and alarm
    keys there; what has no regional source yet is named, region by region, and nothing else."""
    assert set(STILL_PROXIED) == set(shipped_estimates)
    assert proxied_keys(shipped_estimates[stack]["warnings"]) == STILL_PROXIED[stack]


@pytest.mark.parametrize(("region", "first_tier", "other_regions"), [
    ("eu-central-1", "0.09", "0.02"), ("sa-east-1", "0.15", "0.138"), ("ap-south-1", "0.1093", "0.086"),
    ("me-south-1", "0.117", "0.1105"),
])
def test_the_shipped_catalog_has_sourced_egress_for_every_region_of_the_golden(region, first_tier, other_regions):
    entry, regional = default_catalog().platform_item(region, "internetEgressTiers")
    assert regional and entry["tiers"][0] == ["10240", first_tier] and entry["source"] == "infracost-data-transfer"
    inter, regional = default_catalog().platform_item(region, "interRegionPerGb")
    assert regional and inter["usd"] == other_regions


@pytest.mark.parametrize(("args", "named"), [
    (["--source", "ftp"], "--source"),
    (["--offers-dir", "/nonexistent-offers"], "--offers-dir"),
    (["--source", "api", "--offers-dir", "."], "--offers-dir"),
    (["--profile", "x"], "--profile"),
    (["--region", "mars-east-1", "--offers-dir", "."], "--region"),
])
def test_bad_refresh_arguments_exit_2_naming_the_option(tmp_path, args, named):
    out = tmp_path / "prices.json"
    result = runner.invoke(app, ["prices", "refresh", "--out", str(out), *args])
    assert result.exit_code == 2 and named in result.output, result.output
    assert not out.exists()


@pytest.mark.parametrize("command", [["prices", "refresh", "--offers-dir", "."], ["prices", "show"]])
def test_a_misspelt_region_gets_a_did_you_mean(tmp_path, command):
    out = ["--out", str(tmp_path / "prices.json")] if "refresh" in command else []
    result = runner.invoke(app, [*command, "--region", "eu-centrl-1", *out])
    assert result.exit_code == 2 and "--region eu-centrl-1" in result.output, result.output
    assert "did you mean eu-central-1?" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "prices.json").exists()


def test_a_malformed_offer_file_writes_nothing(tmp_path, no_credentials_no_network):
    bad = tmp_path / "offers" / "AWSELB" / "eu-central-1"
    bad.mkdir(parents=True)
    (bad / "index.json").write_text('{"products": {}, "terms": {"OnDemand": []}}')
    out = tmp_path / "prices.json"
    result = runner.invoke(app, ["prices", "refresh", "--offers-dir", str(tmp_path / "offers"), "--region",
                                 "eu-central-1", "--out", str(out)])
    assert result.exit_code == 2 and "terms.OnDemand" in result.output, result.output
    assert str(bad / "index.json") in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_an_unreadable_offer_file_under_offers_dir_is_bad_input_naming_it(tmp_path, no_credentials_no_network):
    """An offer file under the user's --offers-dir that cannot be read (a loop of symlinks here: a file without
    read permission is still readable by root) is the user's input: exit 2 naming it, not the network failure
    (exit 1, "AWS Price List bulk offer files: ...") it used to be reported as."""
    bad_link = tmp_path / "offers" / "AmazonEC2" / "eu-central-1" / "index.json"
    bad_link.parent.mkdir(parents=True)
    bad_link.symlink_to(bad_link)  # a loop of symlinks: reading it fails with ELOOP
    out = tmp_path / "prices.json"
    result = runner.invoke(app, ["prices", "refresh", "--offers-dir", str(tmp_path / "offers"), "--region",
                                 "eu-central-1", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert str(bad_link) in result.output and "AWS Price List bulk offer files:" not in result.output
    assert "Traceback" not in result.output and not out.exists()


@pytest.mark.parametrize("body", [b"not json", b'{"products": {}, "terms": {"OnDemand": []}}'])
def test_a_broken_downloaded_offer_file_stays_a_failure_exit_1(tmp_path, monkeypatch, body):
    """Without --offers-dir the offer files come from AWS: a broken one is a failed download (exit 1, as the
    command's help says), not the user's bad input."""
    import io
    import urllib.request

    monkeypatch.setattr(urllib.request, "urlopen", lambda *_a, **_k: io.BytesIO(body))
    out = tmp_path / "prices.json"
    result = runner.invoke(app, ["prices", "refresh", "--region", "eu-central-1", "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "https://pricing.us-east-1.amazonaws.com" in result.output and not out.exists()


def test_a_reserved_entry_without_a_price_is_refused_by_key():
    data = json.loads(json.dumps(default_catalog().data))
    data["reserved"]["usdPerHour"]["reserved-1y"]["us-east-1"]["g6e.xlarge"] = "cheap"
    with pytest.raises(CatalogError, match=r"reserved\.usdPerHour\.reserved-1y\.us-east-1\.g6e\.xlarge"):
        validate(data)


@pytest.mark.parametrize("offer", [
    {"products": {"s": {}}, "terms": {"OnDemand": {"s": {"t": "not a term"}}}},
    {"products": {"s": {}}, "terms": {"OnDemand": {"s": {"t": {"priceDimensions": ["x"]}}}}},
    {"products": {"s": {}}, "terms": {"OnDemand": {"s": {"t": {"priceDimensions": {"d": "x"}}}}}},
    {"products": {"s": {}}, "terms": {"OnDemand": {"s": {"t": {"priceDimensions": {"d": {"pricePerUnit": "1"}}}}}}},
    {"products": {"s": {}}, "terms": {"OnDemand": {"s": {"t": {"priceDimensions": {"d": {"pricePerUnit":
                                                                                      {"USD": ["1"]}}}}}}}},
    {"products": {"s": {}}, "terms": {"OnDemand": {"s": {"t": {"priceDimensions": {"d": {
        "pricePerUnit": {"USD": "1"}, "endRange": {"x": 1}}}}}}}},
])
def test_an_offer_file_of_the_wrong_shape_deeper_down_is_refused_by_name(offer):
    """A term, a price dimension or a price of the wrong JSON type ended in an AttributeError/TypeError traceback
    (`prices refresh --offers-dir` with a broken file, exit 1 with a traceback instead of exit 2 naming it)."""
    with pytest.raises(bulk.OfferError, match="AmazonEC2/x: terms.OnDemand.s"):
        list(bulk.rows(offer, "AmazonEC2/x"))
