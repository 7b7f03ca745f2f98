"""The checked-in price catalog: every entry sourced and dated, lookups exact, no silent $0."""

from __future__ import annotations

from decimal import Decimal

import pytest

from infra import hardware
from infra.price_catalog import MissingPrice, PriceCatalog, default_catalog, hourly_usd


def test_every_entry_has_source_date_and_positive_price():
    catalog = default_catalog()
    sources = catalog.data["sources"]
    for region, entries in catalog.data["instances"].items():
        for instance_type, entry in entries.items():
            where = f"{region} {instance_type}"
            assert Decimal(entry["usdPerHour"]) > 0, where
            assert entry["source"] in sources, where
            assert entry["date"] or entry["after"], where  # an undated snapshot says what it postdates
            assert entry["confidence"] in ("A", "B", "C"), where
            if entry["basis"] != "source":
                assert entry.get("derivation"), f"derived price without derivation: {where}"
    for key, item in catalog.data["platform"]["default"].items():
        assert item["source"] in sources and item["date"], key


def test_us_east_1_prices_every_instance_type_the_spec_accepts():
    catalog = default_catalog()
    offered = [name for name in hardware.instance_types() if hardware.offered_in("us-east-1", name)]
    assert "p6-b200.48xlarge" in offered and "g7e.2xlarge" in offered
    for name in offered:
        assert catalog.instance("us-east-1", name).usd_per_hour > 0, name


def test_published_rows_are_exact():
    assert hourly_usd("us-east-1", "g6e.xlarge") == Decimal("1.861")  # Karpenter A1
    assert hourly_usd("eu-central-1", "g6e.12xlarge") == Decimal("13.12002")  # SkyPilot A2
    assert hourly_usd("us-east-1", "p5.48xlarge") == Decimal("55.04")  # post-2025 price cut


def test_derived_prices_say_so():
    entry = default_catalog().instance("ap-south-1", "g6e.xlarge")  # no published g6e row there: derived from g5's
    assert entry.basis == "multiplier" and "g5" in entry.derivation
    g6_4 = default_catalog().instance("us-east-1", "g6.4xlarge")
    assert g6_4.basis == "size-interpolation" and g6_4.usd_per_hour == Decimal("1.3232")


def test_spot_is_the_documented_discount():
    price = default_catalog().instance("us-east-1", "g6.xlarge", "spot")
    assert price.spot_savings_percent == 49
    assert price.usd_per_hour == Decimal("0.8048") * Decimal("0.51")
    # no exact row: the least optimistic savings of the family in that region
    fallback = default_catalog().instance("us-east-1", "g6e.2xlarge", "spot")
    assert fallback.spot_savings_percent == 56 and "lowest g6e" in fallback.spot_savings_basis


def test_missing_price_names_region_and_instance_type():
    with pytest.raises(MissingPrice) as err:
        hourly_usd("af-south-1", "g6e.xlarge")
    assert "af-south-1" in str(err.value) and "g6e.xlarge" in str(err.value)
    # the refresh it suggests reads the public bulk offer files by default (issue 11): not "the Price List API"
    assert "`tradeoff-infra prices refresh` (reads the public AWS bulk offer files, no credentials needed)" in str(err.value)
    assert "Price List API" not in str(err.value)


def test_missing_price_is_raised_for_an_unknown_generation_not_guessed():
    # ap-northeast-3: no published g6e row and no g-family row to measure a multiplier on
    with pytest.raises(MissingPrice, match="g6e.xlarge.*ap-northeast-3"):
        default_catalog().instance("ap-northeast-3", "g6e.xlarge")


def test_catalog_can_be_loaded_from_another_file(tmp_path):
    path = tmp_path / "prices.json"
    data = dict(default_catalog().data)
    data["instances"] = {"us-east-1": {"g6.xlarge": {"usdPerHour": "1", "basis": "source", "source": "karpenter",
                                                      "date": "2026-01-01", "confidence": "A"}}}
    import json
    path.write_text(json.dumps(data))
    assert PriceCatalog.load(path).instance("us-east-1", "g6.xlarge").usd_per_hour == Decimal("1")


def _broken(tmp_path, edit):
    import copy
    import json

    data = copy.deepcopy(default_catalog().data)
    edit(data)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("edit,key", [
    (lambda d: d.clear(), "retrievedOn"),
    (lambda d: d.update(retrievedOn="last July"), "retrievedOn"),
    (lambda d: d.update(hoursPerMonth=720), "hoursPerMonth"),
    (lambda d: d.pop("instances"), "instances"),
    (lambda d: d["instances"]["us-east-1"]["g6e.xlarge"].update(usdPerHour="1,86"), "instances.us-east-1.g6e.xlarge.usdPerHour"),
    (lambda d: d["instances"]["us-east-1"]["g6e.xlarge"].update(date="2026-13-01"), "instances.us-east-1.g6e.xlarge.date"),
    (lambda d: d["instances"]["us-east-1"]["g6e.xlarge"].pop("source"), "instances.us-east-1.g6e.xlarge.source"),
    (lambda d: d["platform"]["default"]["natGatewayHour"].update(usd="cheap"), "platform.default.natGatewayHour.usd"),
    (lambda d: d["platform"]["default"]["eksStandardSupportEnds"]["versions"].update({"1.36": "soon"}),
     "platform.default.eksStandardSupportEnds.versions.1.36"),
    (lambda d: d["spot"]["savingsPercent"]["g5.xlarge"].update({"us-east-1": "a lot"}), "spot.savingsPercent.g5.xlarge"),
    (lambda d: d["platform"]["default"].pop("eksStandardSupportEnds"), "platform.default.eksStandardSupportEnds"),
    (lambda d: d["platform"]["default"]["albHour"].pop("date"), "platform.default.albHour.date: missing"),
])
def test_a_bad_catalog_file_is_an_error_naming_file_and_key(tmp_path, edit, key):
    from infra.price_catalog import CatalogError

    path = _broken(tmp_path, edit)
    with pytest.raises(CatalogError) as err:
        PriceCatalog.load(path)
    assert str(path) in str(err.value) and key in str(err.value), str(err.value)


def test_the_catalog_uses_the_one_hours_per_month():
    from cli import capacity, estimate
    from infra import chart_values, price_catalog

    assert default_catalog().data["hoursPerMonth"] == price_catalog.HOURS_PER_MONTH
    assert capacity.HOURS_PER_MONTH is price_catalog.HOURS_PER_MONTH
    assert estimate.HOURS == price_catalog.HOURS_PER_MONTH
    assert chart_values.HOURS_PER_MONTH == price_catalog.HOURS_PER_MONTH


def test_source_dates_say_what_they_are():
    sources = default_catalog().data["sources"]
    # docs/sources.md "A2": the SkyPilot snapshot date is not recorded; it only postdates the June 2025 price cut
    assert sources["skypilot"]["date"] is None and sources["skypilot"]["after"] == "2025-06-01"
    for key in ("aws-kms", "aws-global-accelerator", "assumption-ga-dt-premium", "eks-calendar", "assumption-vpc-endpoint"):
        assert "not vetted (docs/sources.md \"AWS pricing pages read directly\")" in sources[key]["vetted"] and sources[key]["date"] in sources[key]["vetted"], key
    price = default_catalog().instance("eu-central-1", "g6e.4xlarge")
    assert price.date is None and price.age_date == "2025-06-01" and "undated" in price.dated


def test_the_seed_names_gp3_included_figures_from_their_one_home(monkeypatch):
    """Issue 12.3: gp3's included 3000 IOPS / 125 MiB/s live in infra/sizing.py; the seed's unit text reads them
    there instead of retyping them (and the checked-in catalog says the same)."""
    from cli.pricing import seed

    monkeypatch.setattr(seed, "GP3_INCLUDED_IOPS", 4000)
    monkeypatch.setattr(seed, "GP3_INCLUDED_THROUGHPUT_MIBPS", 250)
    platform = seed.platform()["default"]
    assert platform["ebsGp3IopsMonth"]["unit"] == "IOPS-month above 4000"
    assert platform["ebsGp3ThroughputMonth"]["unit"] == "MBps-month above 250"
    monkeypatch.undo()
    shipped = default_catalog().data["platform"]["default"]
    for key in ("ebsGp3IopsMonth", "ebsGp3ThroughputMonth"):
        assert shipped[key]["unit"] == seed.platform()["default"][key]["unit"], key


def test_the_seed_writes_through_the_one_writer(tmp_path, monkeypatch):
    """Issue 12.3: `python -m cli.pricing.seed` had its own temp-file-and-rename writer beside cli/output.py's."""
    import json

    from cli import output
    from cli.pricing import seed

    written = []
    real = output.write_text
    monkeypatch.setattr(output, "write_text", lambda path, text, **kw: (written.append(path), real(path, text, **kw)))
    target = tmp_path / "aws_prices.json"
    seed.write(target)
    assert written == [target]
    assert json.loads(target.read_text()) == json.loads(json.dumps(seed.build()))


def test_the_checked_in_catalog_is_what_the_seed_builds():
    """The published rows typed into cli/pricing/seed.py are the ones the catalog carries (no hand edit of the JSON)."""
    from cli.pricing import seed

    assert default_catalog().data["instances"] == seed.build()["instances"]


def test_us_east_2_and_us_west_2_x_1_00_holds_for_every_published_vantage_row():
    """The seed keeps "us-east-1 price x 1.00" in us-east-2/us-west-2 (Karpenter's newer date) only because every
    vantage row there equals us-east-1's; a snapshot where one differed must be priced from the row instead."""
    from decimal import Decimal

    from cli.pricing import seed

    base = seed._base_us_east_1()
    rows = [(t, r, p) for t, by_region in seed.VANTAGE_ON_DEMAND_2026_01.items() for r, p in by_region.items()
            if r in seed.SAME_AS_US_EAST_1]
    assert len(rows) == 56
    for t, r, p in rows:
        assert abs(Decimal(p) - Decimal(base[t]["usdPerHour"])) < Decimal("0.00001"), (t, r, p)
