"""capacityType reserved-1y: a 1-year reservation, priced from the catalog's sourced reserved rates; refused where
the catalog has none."""

from __future__ import annotations

from decimal import Decimal

import pytest

from infra.components.gpu_pool import CAPACITY_TYPES
from infra.price_catalog import HOURS_PER_MONTH, MissingPrice, default_catalog
from infra.spec import SpecError, parse_stack_config
from tests.builders import resources, spec_of
from tests.builders import run_estimate as run

HOURS = Decimal(HOURS_PER_MONTH)


def test_the_catalog_prices_reserved_1y_from_its_sourced_table():
    price = default_catalog().instance("eu-central-1", "g6e.12xlarge", "reserved-1y")
    assert price.usd_per_hour == Decimal("8.26562") and price.on_demand_usd_per_hour == Decimal("13.12002")
    assert price.source == "vantage-reserved" and price.date == "2026-01-21"
    with pytest.raises(MissingPrice, match="reserved"):
        default_catalog().instance("us-east-1", "g7.2xlarge", "reserved-1y")


def test_reserved_min_nodes_bill_every_hour_at_the_reserved_rate_and_the_rest_on_demand():
    spec = spec_of(capacity="reserved-1y", requests=50_000_000)
    r = run(spec, resources())
    gpu = [li for li in r.line_items if li.resource == "gpu-ng" and li.unit == "node-hours"]
    reserved = next(li for li in gpu if "reserved for 1 year" in li.description)
    rate = default_catalog().reserved("us-east-1", "g6e.xlarge")
    assert reserved.unit_price == rate == Decimal("1.17243")
    assert reserved.quantity == 1 * HOURS  # minNodes 1, all month, used or not
    assert reserved.monthly == reserved.monthly_min == reserved.monthly_max
    above = [li for li in gpu if li is not reserved]
    on_demand = default_catalog().instance("us-east-1", "g6e.xlarge").usd_per_hour
    assert all(li.unit_price == on_demand for li in above)
    assert any("reserved-1y" in w and "bill every hour" in w for w in r.warnings)
    # the same stack on demand costs more: the reservation is the cheaper commitment for the floor
    assert r.total() < run(spec_of(requests=50_000_000), resources()).total()


def test_validate_refuses_reserved_1y_where_the_catalog_has_no_reserved_price():
    spec = spec_of(instance="g7.2xlarge")
    config = {**_config_of(spec)}
    config["regions"][0]["gpuPools"][0]["capacityType"] = "reserved-1y"
    with pytest.raises(SpecError) as err:
        parse_stack_config(config)
    (problem,) = [p for p in err.value.problems if p.path == "regions[0].gpuPools[0].capacityType"]
    assert "g7.2xlarge" in problem.message and "us-east-1" in problem.message


def test_a_reserved_pool_launches_on_demand_capacity():
    assert CAPACITY_TYPES["reserved-1y"] == "ON_DEMAND"


def _config_of(spec) -> dict:
    return spec.model_dump(by_alias=True, exclude_unset=True, exclude_none=True, mode="json")


def test_prices_show_lists_reserved_rates_and_names_a_missing_one():
    from typer.testing import CliRunner

    from cli.main import app

    runner = CliRunner()
    shown = runner.invoke(app, ["prices", "show", "--region", "eu-central-1", "--capacity-type", "reserved-1y"],
                          env={"COLUMNS": "200"})  # wide: no source folded (widths: test_table_widths)
    assert shown.exit_code == 0 and "8.26562" in shown.output and "vantage-reserved" in shown.output, shown.output
    missing = runner.invoke(app, ["prices", "show", "--region", "us-east-1", "--instance-type", "g7.2xlarge",
                                  "--capacity-type", "reserved-1y"])
    assert missing.exit_code == 2 and "g7.2xlarge" in missing.output and "reserved" in missing.output, missing.output
