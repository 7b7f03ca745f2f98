"""`prices show --platform`: the platform prices of a region (NAT, ALB, EBS, CloudWatch, S3, IPv4, transfer ...)
with each price's source key and date and whether it is the region's own or the us-east-1 proxy.
Before, `prices show` listed instance prices only: no command showed what an estimate bills for the rest."""

from __future__ import annotations

import copy
import json

from typer.testing import CliRunner

from cli.main import app
from infra.price_catalog import default_catalog

runner = CliRunner()


def _show(*args: str):
    return runner.invoke(app, ["prices", "show", *args], env={"COLUMNS": "400"})


def _rows(output: str) -> dict[tuple[str, str], list[str]]:
    """(region, item) -> the row's cells, from the table's one-line rows (400 columns: nothing folds)."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 8 and cells[0]:
            rows[cells[0], cells[1]] = cells
    return rows


def test_a_regions_platform_prices_say_source_date_and_whose_price():
    result = _show("--region", "eu-central-1", "--platform")
    assert result.exit_code == 0, result.output
    rows = _rows(result.output)
    default, own = (default_catalog().data["platform"][k] for k in ("default", "regions"))
    nat = own["eu-central-1"]["natGatewayHour"]  # regional since issue 11 (infracost eu-central-1 breakdown)
    assert rows["eu-central-1", "natGatewayHour"][2:] == [
        f"${nat['usd']}", "hour", nat["source"], nat["date"], nat["confidence"], "the region's own"]
    assert rows["eu-central-1", "publicIpv4Hour"][-1] == "uniform: the same in every region"
    assert rows["eu-central-1", "internetEgressTiers"][2].startswith("$0.09 to 10,240 GB")
    # every platform item the catalog prices appears, each as the estimate there would use it
    assert {item for _, item in rows} == set(default)
    proxied = [k for k, e in default.items() if e["regional"] != "uniform" and k not in own["eu-central-1"]]
    assert proxied  # NLB at least, until a refresh
    for key in proxied:
        assert rows["eu-central-1", key][2:] == [
            f"${default[key]['usd']}", default[key]["unit"], default[key]["source"], default[key]["date"],
            default[key]["confidence"], "us-east-1 proxy (no regional source)"]


def test_a_platform_price_of_a_region_is_its_own_entry_with_its_own_date(tmp_path):
    data = copy.deepcopy(default_catalog().data)
    data["platform"]["regions"].setdefault("us-east-2", {})["ebsGp3GbMonth"] = {
        "usd": "0.08", "unit": "GB-month", "source": "opencost-offer-use2", "date": "2023-03-22", "confidence": "A",
        "regional": "regional"}
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data))
    rows = _rows(_show("--region", "us-east-2", "--platform", "--catalog", str(path)).output)
    assert rows["us-east-2", "ebsGp3GbMonth"][2:] == ["$0.08", "GB-month", "opencost-offer-use2", "2023-03-22", "A",
                                                      "the region's own"]


def test_without_a_region_the_defaults_then_every_regions_own():
    rows = _rows(_show("--platform").output)
    assert rows["default", "natGatewayHour"][-1] == "us-east-1; the proxy where a region has none"
    assert rows["default", "kmsKeyMonth"][-1] == "us-east-1; every region"
    own = default_catalog().data["platform"]["regions"]
    assert own and all(rows[region, key][-1] == "the region's own" and rows[region, key][5] == (entry["date"] or f"undated snapshot, after {entry['after']}")
                       for region, items in own.items() for key, entry in items.items())


def test_an_undated_platform_price_says_what_it_postdates(tmp_path):
    data = copy.deepcopy(default_catalog().data)
    data["platform"]["default"]["albHour"].update({"date": None, "after": "2025-06-01"})
    data["platform"]["regions"].get("ap-northeast-1", {}).pop("albHour", None)  # the proxy, whatever the catalog has
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data))
    rows = _rows(_show("--region", "ap-northeast-1", "--platform", "--catalog", str(path)).output)
    assert rows["ap-northeast-1", "albHour"][5] == "undated snapshot, after 2025-06-01"


def test_bad_input_names_the_option_and_exits_2():
    mars = _show("--region", "eu-centrall-1", "--platform")
    assert mars.exit_code == 2 and "--region eu-centrall-1" in mars.output and "eu-central-1?" in mars.output
    both = _show("--platform", "--instance-type", "g6e.xlarge")
    assert both.exit_code == 2 and "--instance-type" in both.output and "Traceback" not in both.output


def test_the_help_shows_the_option_with_an_example():
    out = " ".join(runner.invoke(app, ["prices", "show", "--help"], env={"COLUMNS": "200"}).output.split())
    assert "--platform" in out and "prices show --region eu-central-1 --platform" in out


def test_the_platform_list_fits_the_terminal_with_every_name_whole():
    """At 80 columns the eight-column table broke item and source keys mid-word ("eksClusterHo|ur",
    "(us-east|-1)"); too narrow for one row an item, it is one entry an item with its details wrapped under it."""
    for args in (("--region", "eu-central-1", "--platform"), ("--platform",)):
        out = runner.invoke(app, ["prices", "show", *args], env={"COLUMNS": "80"}).output
        lines = out.splitlines()
        assert lines and max(len(line) for line in lines) <= 80, out
        words = set(out.split())
        catalog = default_catalog().data["platform"]
        for key, entry in catalog["default"].items():
            assert f"{key}:" in words, key  # every item named whole
            if args == ("--platform",):
                assert entry["source"] in " ".join(out.split()), key
    eu = " ".join(runner.invoke(app, ["prices", "show", "--region", "eu-central-1", "--platform"],
                                env={"COLUMNS": "80"}).output.split())
    nat = catalog["regions"]["eu-central-1"]["natGatewayHour"]
    assert f"natGatewayHour: ${nat['usd']} per hour; the region's own; {nat['source']}, {nat['date']}" in eu


def test_a_folded_instance_price_table_names_the_instance_type_in_every_part():
    """`prices show` folded at 80 columns repeated only the region, so its continuation's rows named no instance."""
    out = runner.invoke(app, ["prices", "show", "--region", "eu-central-1", "--instance-type", "g6e.xlarge"],
                        env={"COLUMNS": "80"}).output
    parts = out.split("(continued)")
    assert len(parts) >= 2, out
    assert all("g6e.xlarge" in part for part in parts), out
