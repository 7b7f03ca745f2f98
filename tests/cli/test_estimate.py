"""Costing layer: line items from records, usage, operations, break-even arithmetic, verdict rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cli import estimate as est
from cli.estimate.costs.data_transfer import tiered
from cli.pricing.api import ApiOffer, custom_offer
from infra.price_catalog import MissingPrice, default_catalog
from infra.spec import CustomApiOffer, parse_stack_config
from tests.builders import AS_OF, Res, resources, spec_of
from tests.builders import run_estimate as run


def item(result, resource, unit):
    (li,) = [li for li in result.line_items if li.resource == resource and li.unit == unit]
    return li


def test_fixed_items_are_quantity_times_catalog_price():
    r = run(spec_of())
    assert item(r, "eks", "cluster-hours").monthly == Decimal(730) * Decimal("0.10")
    assert item(r, "nat", "hours").monthly == Decimal(730) * Decimal("0.045")
    assert item(r, "nat-eip", "address-hours").monthly == Decimal(730) * Decimal("0.005")
    alb_ips = item(r, "alb", "address-hours")
    assert alb_ips.quantity == 2 * 730 and alb_ips.category == "load-balancer"
    sys_nodes = item(r, "sys-ng", "node-hours")
    assert sys_nodes.monthly == 2 * 730 * Decimal("0.096") and sys_nodes.category == "system-compute"


def test_gpu_node_hours_come_from_the_capacity_plan():
    r = run(spec_of())
    gpu = item(r, "gpu-ng", "node-hours")
    plan = r.capacity[0].pools[0]
    assert gpu.quantity == Decimal(str(round(plan.expected_nodes, 4))) * 730
    assert gpu.monthly_min == 1 * 730 * Decimal("1.861")  # floor: minNodes 1 all month
    assert gpu.monthly_max == 4 * 730 * Decimal("1.861")  # maxNodes 4 all month
    assert gpu.monthly_min <= gpu.monthly <= gpu.monthly_max


def test_spot_is_priced_at_the_documented_discount_with_a_warning():
    r = run(spec_of(capacity="spot"), resources(capacity="SPOT"))
    gpu = item(r, "gpu-ng", "node-hours")
    assert gpu.unit_price == Decimal("1.861") * Decimal("0.42")  # Spot Advisor g6e.xlarge us-east-1: 58 % savings
    assert any("spot" in w and "58%" in w for w in r.warnings)


def test_extended_support_is_priced_after_standard_support_ends():
    r = run(spec_of(), resources(version="1.31"))
    assert item(r, "eks", "cluster-hours").unit_price == Decimal("0.60")
    assert any("1.31" in w and "extended support" in w for w in r.warnings)
    before = run(spec_of(), resources(version="1.31"), as_of=date(2025, 11, 1))
    assert item(before, "eks", "cluster-hours").unit_price == Decimal("0.10")


def test_missing_price_names_region_and_instance_type():
    # p6-b200 is offered in eu-north-1, but no source lists a row there and no p6 row measures a multiplier: no price
    with pytest.raises(MissingPrice, match=r"p6-b200\.48xlarge.*eu-north-1"):
        run(spec_of(region="eu-north-1", instance="p6-b200.48xlarge"),
            resources(region="eu-north-1", instance="p6-b200.48xlarge"))


def test_operations_are_their_own_category_and_can_be_excluded():
    r = run(spec_of())
    ops = [li for li in r.line_items if li.category == "operations"]
    assert sum(li.monthly for li in ops) == est.q(Decimal("0.5") * 16000) + est.q(Decimal(2) * 16000 / 24)
    assert est.q(r.total("monthly") - r.total("monthly", include_operations=False)) == est.q(sum(li.monthly for li in ops))
    off = run(spec_of(operations={"include": False}))
    assert off.total("monthly") == off.total("monthly", include_operations=False)


def test_usage_lines_scale_with_traffic():
    small, big = run(spec_of(requests=1_000_000)), run(spec_of(requests=4_000_000))
    egress = lambda r: item(r, "us-east-1 responses", "GB")  # noqa: E731
    assert egress(big).quantity == 4 * egress(small).quantity
    assert egress(small).quantity == Decimal(1_000_000) * (250 * 200 + 1000) / Decimal(10**9)


def test_tiered_egress():
    tiers = [(Decimal(10240), Decimal("0.09")), (Decimal(51200), Decimal("0.085")), (None, Decimal("0.05"))]
    assert tiered(Decimal(100), tiers) == Decimal(9)
    assert tiered(Decimal(20240), tiers) == Decimal(10240) * Decimal("0.09") + Decimal(10000) * Decimal("0.085")


def test_unknown_resources_are_reported():
    r = run(spec_of(), resources() + [Res("aws:rds/instance:Instance", "db")])
    assert r.unpriced == [("aws:rds/instance:Instance", "db", "us-east-1")]
    assert any("NOT priced" in w for w in r.warnings)
    assert r.no_cost["aws:iam/role:Role"][0] == 1


def offer(per_request: str, name="api") -> ApiOffer:
    return ApiOffer(name, None, None, Decimal(0), Decimal(0), "test", Decimal(per_request))


def test_break_even_of_a_linear_cost_is_fixed_over_margin():
    # self-hosted: $10,000 fixed + $0.001 per request; API: $0.003 per request -> 5,000,000 requests
    total = lambda r, unbounded: Decimal(10000) + Decimal("0.001") * Decimal(str(r))  # noqa: E731
    be = est.break_even(total, offer("0.003"), max_servable=1e8)
    assert be.within_max_nodes and be.requests_per_month == pytest.approx(5_000_000, rel=0.002)


def test_break_even_beyond_max_nodes_says_so():
    total = lambda r, unbounded: Decimal(10000) + Decimal("0.001") * Decimal(str(r))  # noqa: E731
    be = est.break_even(total, offer("0.003"), max_servable=1_000_000)
    assert not be.within_max_nodes and "beyond what maxNodes can serve" in be.note
    assert be.requests_per_month == pytest.approx(5_000_000, rel=0.002)


def test_break_even_never_when_the_api_is_cheaper_per_request():
    total = lambda r, unbounded: Decimal(10000) + Decimal("0.004") * Decimal(str(r))  # noqa: E731
    assert est.break_even(total, offer("0.003"), max_servable=1e8).requests_per_month is None


def test_break_even_on_a_real_stack_is_where_the_costs_cross():
    spec = spec_of()
    api = custom_offer(CustomApiOffer(name="pricey", inputPerMTokUsd=5, outputPerMTokUsd=15), 600, 250)
    r = run(spec, offers=[api])
    (be,) = r.break_even
    n = be.requests_per_month
    assert r.total_at(n, not be.within_max_nodes) <= api.monthly_usd(n)
    assert r.total_at(n * 0.99, not be.within_max_nodes) > api.monthly_usd(n * 0.99)


# cheap_api True: the API costs far less than self-hosting; False: self-hosting is far cheaper (beyond 15 %)
@pytest.mark.parametrize("constraints,cheap_api,choice,phrase", [
    ({"dataMayLeaveNetwork": False}, True, "self-host", "dataMayLeaveNetwork"),
    ({"dataMayLeaveNetwork": False, "mlEngineersAvailable": False}, True, "self-host", "mlEngineersAvailable"),
    # the article's step 2 (volume, here: real costs) comes before ML engineering capacity
    ({"mlEngineersAvailable": False, "weeksToShip": 20}, False, "self-host", "needs ML engineering capacity"),
    ({"mlEngineersAvailable": False}, True, "api", "mlEngineersAvailable"),
    ({"frontierQualityNeeded": True}, False, "hybrid", "frontierQualityNeeded"),
    ({"frontierQualityNeeded": True}, True, "api", "frontierQualityNeeded"),
    ({"weeksToShip": 2}, False, "hybrid", "weeksToShip"),
    ({"weeksToShip": 2}, True, "api", "weeksToShip"),
    ({"weeksToShip": 20}, True, "api", "cost"),
    ({"weeksToShip": 20}, False, "self-host", "cost"),
    ({"weeksToShip": 20}, False, "self-host", "20M requests/month"),
])
def test_verdict_follows_the_decision_framework(constraints, cheap_api, choice, phrase):
    spec = spec_of(constraints=constraints)
    per_request = "0.000001" if cheap_api else "1"
    r = run(spec, offers=[offer(per_request)])
    assert r.verdict.choice == choice
    assert any(phrase in reason for reason in r.verdict.reasons), r.verdict.reasons


@pytest.mark.parametrize("constraints,cheap_api,choice,decided_by,alone", [
    ({"dataMayLeaveNetwork": False}, True, "self-host", "constraints.dataMayLeaveNetwork", "api"),
    ({"dataMayLeaveNetwork": False}, False, "self-host", "cost", "self-host"),  # the constraint agrees with cost
    ({"mlEngineersAvailable": False}, True, "api", "cost", "api"),
    ({"frontierQualityNeeded": True}, False, "hybrid", "constraints.frontierQualityNeeded", "self-host"),
    ({"weeksToShip": 2}, False, "hybrid", "constraints.weeksToShip", "self-host"),
    ({"weeksToShip": 2}, True, "api", "cost", "api"),
    ({}, True, "api", "cost", "api"),
    ({"dataMayLeaveNetwork": False}, None, "self-host", "constraints.dataMayLeaveNetwork", est.NO_OFFER),
    ({}, None, est.NO_OFFER, None, est.NO_OFFER),
])
def test_the_verdict_says_whether_cost_or_a_constraint_decided_it(constraints, cheap_api, choice, decided_by, alone):
    """`decided_by` names the set constraint when it turns the verdict away from what the costs alone give
    (`on_cost_alone`), with its reason as `constraint`; `cost` when the costs give the verdict (issue 13)."""
    offers = [] if cheap_api is None else [offer("0.000001" if cheap_api else "1")]
    v = run(spec_of(constraints=constraints), offers=offers).verdict
    assert (v.choice, v.decided_by, v.on_cost_alone) == (choice, decided_by, alone), v
    if decided_by not in (None, "cost"):
        assert v.constraint == v.reasons[0] and decided_by.split(".")[1] in v.constraint
    else:
        assert v.constraint is None


def test_stale_catalog_warns_with_its_date():
    r = run(spec_of(), as_of=date(2026, 11, 24))
    assert any("days old" in w and r.prices_date in w for w in r.warnings)
    # the shipped platform prices (2024 infracost outputs) are older than 90 days on any date: re-dated, none is
    fresh = _priced(_catalog_with(_platform_dated(default_catalog().retrieved_on)),
                    as_of=date.fromisoformat(default_catalog().retrieved_on))
    assert not any("days old" in w for w in fresh.warnings)


def test_within_15_percent_is_hybrid_even_without_ml_engineers_it_is_api():
    spec = spec_of(constraints={"weeksToShip": 20})
    self_cost = run(spec).total()
    near = offer(str(self_cost * Decimal("1.1") / spec.traffic.requests_per_month))
    assert run(spec, offers=[near]).verdict.choice == "hybrid"
    no_ml = spec_of(constraints={"mlEngineersAvailable": False, "weeksToShip": 20})
    assert run(no_ml, offers=[near]).verdict.choice == "api"


def test_verdict_and_budget_use_the_grown_fleet_when_max_nodes_cannot_carry_the_traffic():
    from cli.render import contract

    spec = spec_of(requests=300_000_000, constraints={"weeksToShip": 20})  # 4 x L40S cannot serve this: most of it would queue
    base = run(spec)
    assert base.capacity[0].queued_share > 0
    capped, grown = base.total(), base.total_at(spec.traffic.requests_per_month, True)
    api = offer(str(capped / Decimal("0.8") / spec.traffic.requests_per_month))  # capped fleet looks 20 % cheaper
    assert grown > api.monthly_usd(spec.traffic.requests_per_month) * Decimal("1.15")
    r = run(spec, offers=[api])
    assert r.verdict.choice == "api", r.verdict.reasons
    queue_reason = next(x for x in r.verdict.reasons if "queue" in x)
    assert "maxNodes" in queue_reason and f"{base.capacity[0].queued_share:.1%}" in queue_reason
    budget = contract.stack_contract(r)["budget"]
    assert budget["expectedUsd"] == float(est.q(grown)) and "grown" in budget["basis"]
    assert budget["overBudget"] is (grown > 10000)


def test_excluded_people_costs_are_named_in_the_verdict():
    api = [offer("0.001")]
    assert not any("people costs excluded" in x for x in run(spec_of(), offers=api).verdict.reasons)
    off = run(spec_of(operations={"engineerFte": 0.5, "loadedMonthlyCostUsd": 16000, "include": False}), offers=api)
    assert any("people costs excluded" in x and "$9,333.33" in x for x in off.verdict.reasons), off.verdict.reasons


def test_as_of_before_the_catalog_date_warns():
    before = date.fromordinal(date.fromisoformat(default_catalog().retrieved_on).toordinal() - 1)
    r = run(spec_of(), as_of=before)
    assert any("before the price catalog's date" in w for w in r.warnings), r.warnings


def _logs(retention, usage=est.UsageAssumptions()):
    res = resources() + [Res("aws:cloudwatch/logGroup:LogGroup", "flow", {"name": "/vpc/flow",
                                                                          **({"retentionInDays": retention} if retention else {})})]
    r = run(spec_of(), res, usage=usage)
    return [li for li in r.line_items if li.resource == "flow"]


def test_other_log_groups_use_a_documented_usage_key_and_never_expire_is_one_year():
    ingest, stored = _logs(None)
    assert ingest.quantity == Decimal("0.1") * 730 / 24
    assert stored.quantity == Decimal("0.1") * 365 * Decimal("0.15") and "first year" in stored.description
    ingest, stored = _logs(30, est.usage_from({"otherLogGbPerDay": 2}))
    assert ingest.quantity == Decimal(2) * 730 / 24 and stored.quantity == Decimal(2) * 30 * Decimal("0.15")


def test_an_undated_regional_price_ages_the_estimate_from_what_it_postdates():
    r = _priced(_catalog_with(_platform_dated(default_catalog().retrieved_on)), "eu-central-1")
    assert r.prices_date == r.instance_prices_date == "2025-06-01" and r.oldest_price_item is None
    assert r.catalog_age_days == (AS_OF - date(2025, 6, 1)).days
    assert any("undated snapshot, after 2025-06-01" in w for w in r.warnings), r.warnings
    assert any("days old for this stack" in w and "2025-06-01" in w for w in r.warnings), r.warnings


# ---------------------------------------------------------------- verdicts that follow from what the user wrote


def test_a_stack_without_constraints_whose_self_hosting_is_cheapest_reads_self_host():
    # before: weeksToShip defaulted to 8 against a ~9-week setup, so this read HYBRID
    r = run(spec_of(), offers=[offer("1")])
    assert r.spec.constraints.weeks_to_ship is None
    assert r.verdict.choice == "self-host", r.verdict.reasons
    assert not any("weeksToShip" in x for x in r.verdict.reasons)


def test_an_unset_constraint_does_not_vote_but_a_set_one_does():
    cheap_api = [offer("0.000001")]
    assert run(spec_of(), offers=cheap_api).verdict.choice == "api"
    assert not any("constraints." in x for x in run(spec_of(), offers=cheap_api).verdict.reasons)
    set_one = run(spec_of(constraints={"weeksToShip": 2}), offers=[offer("1")])
    assert set_one.verdict.choice == "hybrid" and any("weeksToShip 2" in x for x in set_one.verdict.reasons)


def test_a_verdict_without_an_api_offer_says_so():
    r = run(spec_of(), offers=[])
    assert r.verdict.choice == est.NO_OFFER, r.verdict.reasons
    assert "no API offer" in r.verdict.reasons[0] and "apiComparison" in r.verdict.reasons[0]
    # a set constraint still decides, and the missing offer is still said
    data = run(spec_of(constraints={"dataMayLeaveNetwork": False}), offers=[])
    assert data.verdict.choice == "self-host" and any("no API offer" in x for x in data.verdict.reasons)
    no_ml = run(spec_of(constraints={"mlEngineersAvailable": False}), offers=[])
    assert no_ml.verdict.choice == "api" and any("no API offer" in x for x in no_ml.verdict.reasons)


def test_the_headline_shows_the_cost_the_verdict_compares():
    from cli.render import contract, documents

    spec = spec_of(requests=300_000_000, constraints={"weeksToShip": 20})  # the capped fleet queues most of it
    base = run(spec)
    grown = base.total_at(spec.traffic.requests_per_month, True)
    api = offer(str(base.total() / Decimal("0.8") / spec.traffic.requests_per_month))
    r = run(spec, offers=[api])
    doc = contract.stack_contract(r)
    compared = f"${est.q(grown):,}"
    assert doc["selfHosted"]["comparedMonthlyUsd"] == float(est.q(grown)) != doc["selfHosted"]["monthlyUsd"]["expected"]
    assert any(compared in x for x in r.verdict.reasons if x.startswith("cost:"))
    md = documents.markdown([doc])
    headline = next(line for line in md.splitlines() if line.startswith("Self-hosted:"))
    assert f"**{compared}/month**" in headline, headline
    html = documents.html([doc])
    assert f"Self-hosted {compared}/month" in html
    assert doc["budget"]["expectedUsd"] == doc["selfHosted"]["comparedMonthlyUsd"]


def test_defaults_used_lists_every_default_that_moved_a_number_with_its_value():
    from cli.render import contract, documents, table

    bare = spec_of(operations={}, constraints={})
    doc = contract.stack_contract(run(bare, offers=[offer("0.01")]))
    used = {d["key"]: d["value"] for d in doc["defaultsUsed"]}
    assert used["operations.engineerFte"] == 0.5 and used["operations.loadedMonthlyCostUsd"] == 15000
    assert used["operations.setupMonths"] == 2 and used["traffic.tpotTargetMs"] == 50
    assert used["usage.bytesPerOutputToken"] == 200 and used["cluster.systemNodes.instanceType"] == "m6i.large"
    assert "traffic.peakToAverage" not in used and "autoscaling.maxReplicas" not in used  # the stack sets them
    # written keys are not defaults; people costs left out of the total do not count
    written = contract.stack_contract(run(spec_of(), usage=est.usage_from({"bytesPerOutputToken": 100})))
    keys = {d["key"] for d in written["defaultsUsed"]}
    assert "operations.engineerFte" not in keys and "usage.bytesPerOutputToken" not in keys
    off = contract.stack_contract(run(spec_of(operations={"include": False})))
    assert not any(d["key"].startswith("operations.") for d in off["defaultsUsed"])
    # a short line in every format
    line = documents.defaults_line(doc)
    assert "operations.engineerFte=0.5" in line and "operations.loadedMonthlyCostUsd=15000" in line
    assert line in documents.markdown([doc]) and line in documents.html([doc])
    assert "operations.engineerFte=0.5" in table.stack_text((doc, table.console_settings(False))).replace("\n", " ")


def test_gpu_node_starts_bill_their_launch_to_ready_time():
    """The capacity plan counts a node only while it serves; AWS bills it from launch (boot, image pull,
    weights download and load, engine start): every node start of the day profile adds that time."""
    from infra.chart_values import launch_to_ready_seconds

    spec = spec_of(requests=15_000_000)  # enough that the day's peak needs a second node
    r = run(spec)
    plan = r.capacity[0].pools[0]
    assert plan.node_starts_per_day > 0, "the day profile must start nodes for this test"
    starts = Decimal(plan.node_starts_per_day) * Decimal(730) / 24
    hours = Decimal(str(round(launch_to_ready_seconds(spec.weight_bytes()) / 3600, 4)))
    assert Decimal("0.25") < hours < Decimal(1)  # 16 GB of weights: boot 8 + pull 5 + load/engine ~7 minutes
    start_up = item(r, "gpu-ng", "node-starts")
    assert start_up.category == "gpu-compute" and start_up.usage_based
    assert start_up.quantity == starts
    assert start_up.monthly == est.q(starts * hours * Decimal("1.861"))
    assert "launch-to-ready" in start_up.description and "docs/estimate.md" in start_up.description
    assert start_up.monthly in {li.monthly for li in r.line_items if li.category == "gpu-compute"}
    # bigger weights take longer to load: a start costs more
    assert launch_to_ready_seconds(140e9) > launch_to_ready_seconds(16e9)


def test_a_pool_that_never_starts_a_node_has_no_start_up_line():
    r = run(spec_of(requests=1000))  # one node (minNodes) carries it all day
    assert all(p.node_starts_per_day == 0 for p in r.capacity[0].pools)
    assert not [li for li in r.line_items if li.unit == "node-starts"]


def test_a_mirrored_region_bills_no_hugging_face_download_on_node_start():
    """With the weights mirror on, a node start streams the weights from S3 instead of downloading them from
    Hugging Face first: the launch-to-ready time drops the download, never the load (rev9 finding)."""
    from infra.chart_values import ASSUMED_DOWNLOAD_BYTES_PER_SECOND, launch_to_ready_seconds

    weights = 141e9
    assert launch_to_ready_seconds(weights) - launch_to_ready_seconds(weights, mirrored=True) == \
        pytest.approx(weights / ASSUMED_DOWNLOAD_BYTES_PER_SECOND)
    spec = spec_of(requests=15_000_000, weights_mirror=True)  # enough traffic that the pool starts nodes
    r = run(spec)
    start_up = item(r, "gpu-ng", "node-starts")
    assert "streamed from the S3 mirror" in start_up.description, start_up.description


def test_the_throughput_band_reaches_the_json_and_widens_the_monthly_range():
    """Issue 11: capacity carries saturatedOutputTokensPerSecondLow/High (docs/capacity.md's band) and
    selfHosted.monthlyUsd.min/max hold the compared cost at both ends of it."""
    from cli import capacity
    from cli.render import contract

    spec = spec_of(requests=40_000_000, instance="g6.xlarge")  # L4: the roofline-only band, +-40 %
    spec = parse_stack_config({**spec.model_dump(by_alias=True, exclude_none=True, mode="json"),
                               "traffic": {"requestsPerMonth": 40_000_000, "inputTokensPerRequest": 600,
                                           "outputTokensPerRequest": 250, "peakToAverage": 2, "tpotTargetMs": 1000}})
    r = run(spec)
    doc = contract.stack_contract(r)
    (cap,) = doc["capacity"]
    low, high = capacity.BAND_ROOFLINE_ONLY
    assert cap["saturatedOutputTokensPerSecondLow"] == pytest.approx(cap["saturatedOutputTokensPerSecond"] * low, abs=0.1)
    assert cap["saturatedOutputTokensPerSecondHigh"] == pytest.approx(cap["saturatedOutputTokensPerSecond"] * high, abs=0.1)
    assert cap["throughputBasis"] == "predicted" and cap["measuredSource"] is None
    band = doc["selfHosted"]["throughputBand"]
    dear, cheap = band["comparedMonthlyUsdAtLowThroughput"], band["comparedMonthlyUsdAtHighThroughput"]
    assert cheap < doc["selfHosted"]["comparedMonthlyUsd"] < dear, band  # slower replicas: more nodes
    money = doc["selfHosted"]["monthlyUsd"]
    assert money["min"] <= cheap and money["max"] >= dear


def test_a_measured_pool_is_shown_as_measured_everywhere():
    from cli.render import contract, documents, table

    config = spec_of().model_dump(by_alias=True, exclude_none=True, mode="json")
    config["regions"][0]["gpuPools"][0].update(measuredOutputTokensPerSecond=3000.0,
                                               measuredSource="vllm bench serve, 2026-11-20, v0.31.0, 600/250")
    doc = contract.stack_contract(run(parse_stack_config(config)))
    (cap,) = doc["capacity"]
    assert cap["saturatedOutputTokensPerSecond"] == cap["saturatedOutputTokensPerSecondLow"] == 3000.0
    assert cap["throughputBasis"] == "measured" and cap["measuredSource"].startswith("vllm bench serve")
    assert cap["predictedOutputTokensPerSecond"] != 3000.0
    assert "measured by the stack" in cap["source"]
    band = doc["selfHosted"]["throughputBand"]
    assert band["comparedMonthlyUsdAtLowThroughput"] == band["comparedMonthlyUsdAtHighThroughput"]
    assert "(measured)" in documents.markdown([doc]) and "(measured)" in documents.html([doc])
    assert "(measured)" in table.render_tables([doc])


def test_a_canary_region_with_other_weights_pulls_them_through_nat():
    """A region's own pin may serve other weights (`regions[].model.source`): its node starts download those
    through NAT, as its root volume and start-up time already count them; the stack-wide weights were priced."""
    from infra.spec import ModelOverride

    spec = spec_of(requests=15_000_000)  # the day's peak starts a second node, so node starts read the weights
    canary = ModelOverride(revision="1" * 40, image=spec.model.image, source="Qwen/Qwen2.5-7B-Instruct")
    spec = spec.model_copy(update={"regions": [spec.regions[0].model_copy(update={"model": canary})]})
    r = est.estimate("t", "t.yaml", spec, resources(), default_catalog(), [], as_of=AS_OF, api_source="test")
    (nat,) = [li for li in r.line_items if li.description.startswith("NAT processing")]
    canary_gb = spec.weight_bytes("Qwen/Qwen2.5-7B-Instruct") / 1e9
    assert f"{canary_gb:.1f}" != f"{spec.weight_bytes() / 1e9:.1f}", "the two weights differ in size"
    assert f"({canary_gb:.1f} GB weights" in nat.description, nat.description
    assert nat.quantity > 0


# ---------------------------------------------------------------- the price age counts platform prices too


def _catalog_with(edit):
    """The shipped catalog with `edit(data)` applied (a deep copy: the shipped one stays as it is)."""
    import copy

    from infra.price_catalog import PriceCatalog, validate

    data = copy.deepcopy(default_catalog().data)
    edit(data)
    validate(data)
    return PriceCatalog(data)


def _gp3_of_2023(data):
    """us-east-2 gp3 from the 2023-03-22 offer file the shipped catalog records (pinned here: a later catalog may
    carry a newer one)."""
    data["platform"]["regions"].setdefault("us-east-2", {})["ebsGp3GbMonth"] = {
        "usd": "0.08", "unit": "GB-month", "source": "opencost-offer-use2", "date": "2023-03-22", "confidence": "A",
        "regional": "regional"}


def _priced(catalog, region="us-east-1", as_of=AS_OF):
    return est.estimate("t", "t.yaml", spec_of(region=region), resources(region=region), catalog, [], as_of=as_of,
                        api_source="test")


def test_a_platform_price_older_than_every_instance_price_is_the_stacks_price_date_and_is_named():
    """Before: "AWS prices as of" and the stale-prices judgement counted instance prices only, so a us-east-2 stack
    read as of the instance prices' date although its gp3 root volumes are priced from a 2023-03-22 offer file."""
    from cli.render import contract

    r = _priced(_catalog_with(_gp3_of_2023), "us-east-2")
    assert r.prices_date == "2023-03-22" and r.oldest_price_item == "us-east-2 ebsGp3GbMonth"
    assert r.instance_prices_date == default_catalog().retrieved_on
    assert r.catalog_age_days == (AS_OF - date(2023, 3, 22)).days
    stale = [w for w in r.warnings if w.startswith("the price catalog is")]
    assert stale and "2023-03-22, us-east-2 ebsGp3GbMonth" in stale[0], r.warnings
    doc = contract.stack_contract(r)["priceCatalog"]
    assert doc["oldestPriceUsed"] == "2023-03-22" and doc["oldestPriceItem"] == "us-east-2 ebsGp3GbMonth"
    assert doc["instancePricesAsOf"] == default_catalog().retrieved_on and doc["stale"] is True


def test_the_price_date_counts_only_the_platform_prices_the_stack_uses():
    """An old price of an item no resource of the stack bills (a KMS key here) ages nothing; one the stack bills does."""
    def old_kms(data):
        data["platform"]["default"]["kmsKeyMonth"]["date"] = "2020-01-01"

    r = _priced(_catalog_with(old_kms))
    assert r.prices_date != "2020-01-01" and r.oldest_price_item != "us-east-1 kmsKeyMonth"

    def old_nat(data):
        data["platform"]["default"]["natGatewayHour"]["date"] = "2020-01-01"
        data["platform"]["regions"].get("ap-northeast-2", {}).pop("natGatewayHour", None)

    r = _priced(_catalog_with(old_nat))
    assert (r.prices_date, r.oldest_price_item) == ("2020-01-01", "us-east-1 natGatewayHour")
    r = _priced(_catalog_with(old_nat), "ap-northeast-2")  # no regional NAT price there: the proxy is said
    assert (r.prices_date, r.oldest_price_item) == ("2020-01-01", "ap-northeast-2 natGatewayHour (us-east-1 proxy)")


def test_an_undated_platform_price_counts_from_what_it_postdates():
    def undated_alb(data):
        entry = data["platform"]["default"]["albHour"]
        entry["date"], entry["after"] = None, "2019-05-01"

    r = _priced(_catalog_with(undated_alb))
    assert (r.prices_date, r.oldest_price_item) == ("2019-05-01", "us-east-1 albHour")


def _platform_dated(day):
    def edit(data):
        for section in [data["platform"]["default"], *data["platform"]["regions"].values()]:
            for entry in section.values():
                entry["date"] = day

    return edit


def test_platform_prices_newer_than_the_instance_prices_name_no_item():
    r = _priced(_catalog_with(_platform_dated("2026-11-01")), as_of=date.fromisoformat(default_catalog().retrieved_on))
    assert r.prices_date == default_catalog().retrieved_on and r.oldest_price_item is None
    assert not any(w.startswith("the price catalog is") for w in r.warnings), r.warnings


def test_the_text_markdown_and_html_reports_name_the_oldest_platform_price_on_one_line():
    import io

    from rich.console import Console

    from cli.estimate.contract import ContractError, parse
    from cli.render import contract, table
    from cli.render.documents import html, markdown

    doc = contract.stack_contract(_priced(_catalog_with(_gp3_of_2023), "us-east-2"))
    buffer = io.StringIO()
    console = Console(file=buffer, width=400, color_system=None, highlight=False)
    for part in table.stack_parts(doc, 400)[:4]:
        console.print(part, crop=False)
    line = next(x for x in buffer.getvalue().splitlines() if "AWS prices as of" in x)
    assert (f"AWS prices as of 2023-03-22 ({doc['priceCatalog']['ageDays']} days, oldest price this stack uses: "
            f"us-east-2 ebsGp3GbMonth; instance prices as of {default_catalog().retrieved_on})") in line
    assert "us-east-2 ebsGp3GbMonth; instance prices as of" in markdown([doc])
    assert "us-east-2 ebsGp3GbMonth; instance prices as of" in html([doc])
    bad = {"stacks": [{**doc, "priceCatalog": {**doc["priceCatalog"], "oldestPriceItem": 5}}]}
    with pytest.raises(ContractError, match=r"stacks\[0\]\.priceCatalog\.oldestPriceItem"):
        parse(bad)
