"""The hybrid estimate (cli/estimate/hybrid.py, docs/hybrid.md): a gateway stack priced as the split it runs,
its cheapest fleet cap, the pure choices, the contract's `hybrid` block and `api` line items, the verdict."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from cli import capacity
from cli.estimate import mapping
from cli.estimate.contract import parse
from cli.estimate.costs import CostModel
from cli.estimate.hybrid import HybridModel
from cli.estimate.usage import UsageAssumptions
from cli.main import app
from cli.pricing.api import MILLION, ApiOffer
from infra.price_catalog import default_catalog
from tests.builders import AS_OF, cache_dir, resources, spec_of  # noqa: F401  (cache_dir: autouse)
from tests.builders import run_estimate as run
from infra.spec.warning_ids import warning_id
from tests.paths import ROOT

CHEAP, DEAR = "together:cheap-test-model", "openai:dear-test-model"


def offer(name: str, per_mtok: str) -> ApiOffer:
    """An offer at one price per million tokens, input and output alike (600 + 250 tokens a request)."""
    price = Decimal(per_mtok)
    return ApiOffer(name, "p", name.split(":")[1], price, price, "test prices", price * 850 / MILLION)


OFFERS = [offer(CHEAP, "0.01"), offer(DEAR, "50")]


def gateway(*routes, **more) -> dict:
    return {"routes": list(routes), "apiBudgetMonthlyUsd": 1_000_000, **more}


def chat(share=0.5, **more) -> dict:
    return {"name": "chat", "servedBy": "self-hosted", "share": share, "overflowTo": CHEAP, **more}


def support(share=0.5) -> dict:
    return {"name": "support", "servedBy": "self-hosted", "share": share, "dataClass": "restricted"}


def hybrid_spec(**over):
    return spec_of(api_comparison=[CHEAP, DEAR], **over)


def model(spec) -> HybridModel:
    records = [r for m in mapping.classify(resources()) for r in m.records]
    return HybridModel(spec, CostModel(spec, records, default_catalog(), AS_OF, UsageAssumptions()), OFFERS)


def planning_tps(spec) -> float:
    return capacity.replica_throughput(spec, "g6e.xlarge").planning_tokens_per_second


def requests_for(load_replicas: float, spec) -> int:
    """Requests a month whose flat load needs `load_replicas` replicas' planned throughput."""
    return round(load_replicas * planning_tps(spec) * capacity.SECONDS_PER_MONTH / 250)


def api_items(split, route=None):
    return [li for li in split.line_items if li.category == "api" and (route is None or li.resource == route)]


def test_overflow_by_hand_on_a_flat_profile():
    # A flat day (peakToAverage 1): every slot carries the average. The fleet's load is 3.5 replicas' planned
    # throughput, half of it restricted. replicaConcurrency is a replica's requests in flight at its planned rate
    # (each request holds a slot for its 250 tokens at the 50 ms TPOT target): P x 0.05. Capped at 2 replicas the
    # gateway reserves the restricted half's peak in flight (1.75 replicas' worth) and lets chat hold what is left
    # (0.25 of its 1.75, per pod floored): about 1.5 / 1.75 = 6/7 of chat's requests overflow, nothing queues.
    probe = hybrid_spec(peak_to_average=1, gateway=gateway(chat(), support()))
    requests = requests_for(3.5, probe)
    slots = round(planning_tps(probe) * 0.05)
    spec = hybrid_spec(peak_to_average=1, requests=requests,
                       gateway=gateway(chat(), support(), replicaConcurrency=slots))
    split = model(spec).price_split({"us-east-1": 2})
    (overflow,) = [li for li in api_items(split, "chat") if "overflow" in li.description]
    chat_requests = Decimal(requests) / 2
    reserved = math.ceil(requests / 2 / capacity.SECONDS_PER_MONTH * 250 * 0.05)  # the restricted route's in flight
    per_pod = (2 * slots - reserved) // 2  # gateway.minReplicas 2
    on_fleet = min(Decimal("1.75"), Decimal(per_pod * 2) / Decimal(2 * slots) * 2)  # replicas' worth of chat
    expected = chat_requests * (1 - on_fleet / Decimal("1.75"))
    assert abs(overflow.quantity - expected * 850 / MILLION) < Decimal("0.01")  # MTok
    assert abs(overflow.monthly - expected * OFFERS[0].request_usd) <= Decimal("0.01")
    assert abs(expected / chat_requests - Decimal(6) / 7) < Decimal("0.02")  # the capacity model's 6/7, rounding aside
    assert overflow.region == "global" and overflow.unit == "MTok"
    assert not split.queued and all(rs.queued_requests == 0 for rs in split.routes)
    # capped at 1 replica the restricted half (1.75) no longer fits: the gateway reserves the whole fleet for it,
    # chat keeps its floor of 1 request a pod (2 slots) and overflows the rest; the restricted route queues what
    # the fleet less those 2 slots cannot carry, none of it on an API
    low = model(spec).price_split({"us-east-1": 1})
    held = 2 / slots  # of one replica
    assert split.caps == {"us-east-1": 2} and low.queued["us-east-1"] == pytest.approx((0.75 + held) / 1.75, rel=1e-6)
    assert not api_items(low, "support")
    (all_chat,) = [li for li in api_items(low, "chat") if "overflow" in li.description]
    assert abs(all_chat.quantity - chat_requests * Decimal(1 - held / 1.75) * 850 / MILLION) < Decimal("0.01")


def test_the_rendered_limit_and_the_priced_share_are_one_rule():
    """The gateway's `max_parallel_requests` (gateway_config) and the share of the fleet the estimate lets chat
    hold come from infra.gateway_overflow, at every cap; the restricted route's reserve is its peak in flight."""
    from infra import gateway_config, gateway_overflow

    spec = hybrid_spec(requests=60_000_000, gateway=gateway(chat(0.8), support(0.2), replicaConcurrency=40))
    region = spec.regions[0]
    hm = model(spec)
    for cap in (2, 3, 4):
        plan = gateway_overflow.overflow_plan(spec, region, cap)
        peak_rps = 60_000_000 * 0.2 * max(capacity.day_profile(spec.traffic.peak_to_average)) / capacity.SECONDS_PER_MONTH
        assert plan.reserved_slots == min(cap * 40, math.ceil(peak_rps * 250 * spec.traffic.tpot_target_ms / 1000))
        assert plan.per_pod == {"chat": max(1, (cap * 40 - plan.reserved_slots) // 2)}
        assert hm._overflow_fraction(region, cap) == pytest.approx(plan.per_pod["chat"] * 2 / (cap * 40))
    configured = gateway_overflow.fleet_cap(spec, region)
    assert gateway_config.overflow_limits(spec, region) == gateway_overflow.overflow_plan(spec, region, configured).per_pod


def test_at_the_peak_the_restricted_route_keeps_its_share_while_chat_overflows():
    """A peaky day at a cap that carries the restricted route's peak but not chat's: under the deployed rule nothing
    of the restricted route queues (chat gives way), where proportional limits (chat holding 80 % of the fleet)
    would have queued it."""
    probe = hybrid_spec(requests=60_000_000, gateway=gateway(chat(0.8), support(0.2)))
    slots = round(planning_tps(probe) * 0.05)  # a replica's requests in flight at its planned rate
    spec = hybrid_spec(requests=60_000_000, gateway=gateway(chat(0.8), support(0.2), replicaConcurrency=slots))
    hm = model(spec)
    low, high = hm.ranges()["us-east-1"]
    cap = low + 1
    assert high > cap
    split = hm.price_split({"us-east-1": cap})
    assert not split.queued and split.overflow["us-east-1"] > 0
    restricted_peak = 0.2 * 60_000_000 * 250 * max(hm.profile) / capacity.SECONDS_PER_MONTH
    assert restricted_peak > 0.2 * cap * planning_tps(spec)  # a proportional 20 % of the fleet would not carry it
    assert next(rs for rs in split.routes if rs.route.name == "support").queued_requests == 0


def test_a_restricted_route_never_has_an_api_line_item_even_when_the_api_is_nearly_free():
    spec = hybrid_spec(requests=40_000_000, gateway=gateway(chat(0.3, fallbackTo=[CHEAP]), support(0.7)))
    hm = model(spec)
    optimal, curve, ranges = hm.find_optimum()
    low, _ = ranges["us-east-1"]
    for split in [optimal, hm.price_split(), hm.price_split({"us-east-1": 1})] + [hm.price_split(p.caps) for p in curve]:
        assert not api_items(split, "support"), split.caps
        assert next(rs for rs in split.routes if rs.route.name == "support").api_total == 0
    # the cheapest split keeps the restricted peak on the fleet: its cap is at least what that peak needs
    peak = max(capacity.day_profile(2)) * 0.7 * 40_000_000 * 250 / capacity.SECONDS_PER_MONTH
    assert optimal.caps["us-east-1"] >= low >= capacity.replicas_for_load(peak, [(4, planning_tps(spec))])
    assert not optimal.queued


def test_fallback_is_the_expected_unavailability_of_what_the_fleet_serves_and_the_stack_may_override_it():
    routes = [chat(1.0, overflowTo=None, fallbackTo=[CHEAP, DEAR])]
    default = run(hybrid_spec(gateway=gateway(*routes)), offers=OFFERS)
    stated = run(hybrid_spec(gateway=gateway(*routes, expectedUnavailability=0.02)), offers=OFFERS)

    def fallback(est):
        (li,) = [li for li in est.line_items if li.category == "api"]
        assert CHEAP in li.description and "fallback" in li.description  # the first fallbackTo offer only
        return li

    assert fallback(default).quantity == Decimal(5_000_000) * Decimal("0.005") * 850 / MILLION
    assert fallback(stated).quantity == 4 * fallback(default).quantity
    assert ("gateway.expectedUnavailability", 0.005) in default.defaults_used
    assert not any(k == "gateway.expectedUnavailability" for k, _ in stated.defaults_used)
    assert default.hybrid.unavailability_assumed and not stated.hybrid.unavailability_assumed


def test_the_cheapest_split_is_the_true_minimum_over_every_cap():
    spec = hybrid_spec(requests=60_000_000, gateway=gateway(chat(0.8, fallbackTo=[CHEAP]), support(0.2)))
    hm = model(spec)
    optimal, curve, ranges = hm.find_optimum()
    lo, hi = ranges["us-east-1"]
    assert hi - lo >= 3, ranges  # a real search, not one candidate
    every = {c: hm.price_split({"us-east-1": c}).total for c in range(lo, hi + 1)}
    assert optimal.total == min(every.values())
    assert [p.max_replicas for p in curve] == list(range(lo, hi + 1))


def test_a_split_dearer_than_pure_self_hosted_is_not_the_verdict():
    # every chat request overflows to the dear offer at the floor cap: the split cannot beat the fleet
    spec = hybrid_spec(gateway=gateway({**chat(0.5), "overflowTo": DEAR}, support(0.5)))
    est = run(spec, offers=OFFERS)
    assert est.hybrid.optimal.total >= est.hybrid.pure_self_hosted
    assert est.verdict.choice != "hybrid"
    assert any(r.startswith("hybrid is not the cheapest") for r in est.verdict.reasons)


def test_a_stack_without_a_gateway_has_no_hybrid_and_no_api_lines():
    est = run(spec_of(), offers=OFFERS)
    assert est.hybrid is None and not [li for li in est.line_items if li.category == "api"]


# ---------------------------------------------------------------- the shipped hybrid stack, through the CLI

runner = CliRunner()


@pytest.fixture(scope="module")
def shipped() -> dict:
    result = runner.invoke(app, ["estimate", "hybrid", "--format", "json", "--as-of", AS_OF.isoformat()],
                           env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_shipped_hybrid_stack_meets_the_acceptance(shipped):
    document = parse(shipped)  # the typed contract reads it
    (stack,) = shipped["stacks"]
    h = stack["hybrid"]
    assert document.stacks[0].hybrid.optimalFleet.monthlyUsd == h["optimalFleet"]["monthlyUsd"]
    api = [li for li in stack["lineItems"] if li["category"] == "api"]
    assert api and all(li["region"] == "global" and li["unit"] == "MTok" for li in api)
    assert {li["resource"] for li in api} <= {r["route"] for r in h["routes"] if r["dataClass"] != "restricted"}
    assert h["optimalFleet"]["monthlyUsd"] < h["pureSelfHostedMonthlyUsd"]
    assert h["optimalFleet"]["monthlyUsd"] < h["pureApiMonthlyUsd"]
    assert 0 < h["optimalFleet"]["apiShare"] < 1 and h["pureApiAllowed"] is False
    assert {r["route"]: r["dataClass"] for r in h["routes"]}["support"] == "restricted"
    assert sum(r["monthlyUsd"] for r in h["routes"]) == pytest.approx(h["monthlyUsd"]["expected"], abs=0.05)


def test_the_shipped_stack_verdict_is_hybrid_naming_the_pattern_and_both_savings(shipped):
    verdict = shipped["stacks"][0]["verdict"]
    assert verdict["choice"] == "hybrid"
    first = verdict["reasons"][0]
    assert "pattern 3" in first and "against pure self-hosted" in first and "against pure API" in first
    assert any("pure API is not an option" in r and "support" in r for r in verdict["reasons"])
    assert any("expectedUnavailability 0.005" in r and "default assumption" in r for r in verdict["reasons"])


def test_the_shipped_stack_cheapest_cap_is_the_minimum_of_every_cap_in_each_region():
    from cli.stacks import load_stacks, project_root, resolve

    stack = load_stacks([resolve("hybrid")], project_root(), as_of=AS_OF)[0]
    records = [r for m in mapping.classify(stack.inventory.resources) for r in m.records]
    hm = HybridModel(stack.spec, CostModel(stack.spec, records, default_catalog(), AS_OF, UsageAssumptions()),
                     list(stack.offers))
    optimal, _, ranges = hm.find_optimum()  # a wide range: searched coarse to fine
    for region, (lo, hi) in ranges.items():
        assert hi - lo > 24
        others = {r: c for r, c in optimal.caps.items() if r != region}
        every = {c: hm.price_split({**others, region: c}).by_region[region] for c in range(lo, hi + 1)}
        assert optimal.by_region[region] == min(every.values()), region


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_every_format_opens_with_the_hybrid_decision(fmt):
    result = runner.invoke(app, ["estimate", "hybrid", "--format", fmt, "--as-of", AS_OF.isoformat()],
                           env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    text = result.stdout
    text = text[text.find("<body>"):] if fmt == "html" else text  # after the stylesheet
    assert "HYBRID" in text[:600]
    head = text[: text.index("self-hosted")]
    assert "hybrid" in head and "cheapest split" in head and "pure API" in text
    if fmt == "table":
        assert all(len(line) <= 100 for line in text.splitlines()), max(text.splitlines(), key=len)
        assert "split cost over the fleet cap" in text
    if fmt == "html":
        assert 'aria-label="split monthly cost versus fleet cap"' in text
    if fmt == "markdown":
        assert "| maxReplicas per region | split monthly | API share |" in text


def test_with_a_restricted_route_a_cheaper_pure_api_does_not_win_the_split_does():
    # chat overflows to a nearly free offer: all-API would cost almost nothing, but support may not leave the fleet
    spec = hybrid_spec(requests=60_000_000, gateway=gateway(chat(0.8), support(0.2)))
    est = run(spec, offers=OFFERS)
    h = est.hybrid
    assert h.pure_api < h.optimal.total < h.pure_self_hosted
    assert est.verdict.choice == "hybrid"
    assert any("the cheapest option that keeps them home" in r for r in est.verdict.reasons)
    # the restricted route, not cost, decides: on cost alone pure API wins (the decision block says so)
    assert (est.verdict.decided_by, est.verdict.on_cost_alone) == ("gateway.routes[].dataClass", "api")
    assert "support" in est.verdict.constraint
    # the same split without the restricted route: pure API is an option and cheaper, so it is not hybrid
    free = run(hybrid_spec(requests=60_000_000, gateway=gateway(chat(1.0))), offers=OFFERS)
    assert free.hybrid.pure_api < free.hybrid.optimal.total and free.verdict.choice != "hybrid"
    assert free.verdict.decided_by == "cost" and free.verdict.on_cost_alone == free.verdict.choice


def test_a_gateway_stack_priced_without_its_offers_is_the_fleet_alone_with_a_warning():
    # recommend prices stacks with no API offers: that must not fail on the gateway's routes
    est = run(hybrid_spec(gateway=gateway(chat(), support())), offers=[])
    assert est.hybrid is None and not [li for li in est.line_items if li.category == "api"]
    assert any("the gateway split is not priced" in w and CHEAP in w for w in est.warnings)


def test_an_outage_is_priced_at_the_offer_the_gateway_tries_first_its_overflow_offer():
    """LiteLLM tries a route's next order (its overflowTo deployment) before its fallbacks chain when the fleet
    fails (docs/gateway.md "Overflow", shown with the real proxy): the outage's requests are priced there, and a
    route with overflowTo but no fallbackTo is answered by the API during an outage, not failed."""
    both = hybrid_spec(gateway=gateway(chat(1.0, overflowTo=DEAR, fallbackTo=[CHEAP])))
    (outage,) = [li for li in api_items(model(both).price_split({"us-east-1": 50}), "chat") if "fallback" in li.description]
    assert DEAR in outage.description and CHEAP not in outage.description
    only = model(hybrid_spec(gateway=gateway(chat(1.0)))).price_split({"us-east-1": 50})
    (rs,) = only.routes
    assert rs.failed_requests == 0
    (outage,) = [li for li in api_items(only, "chat") if "fallback" in li.description]
    assert CHEAP in outage.description and outage.quantity > 0


def test_replica_concurrency_left_out_is_listed_as_a_default_used():
    left_out = run(hybrid_spec(gateway=gateway(chat(), support())), offers=OFFERS)
    stated = run(hybrid_spec(gateway=gateway(chat(), support(), replicaConcurrency=40)), offers=OFFERS)
    assert ("gateway.replicaConcurrency", 32) in left_out.defaults_used
    assert not any(k == "gateway.replicaConcurrency" for k, _ in stated.defaults_used)


def test_replica_concurrency_above_the_planned_batch_warns():
    probe = hybrid_spec(gateway=gateway(chat(), support()))
    (batch,) = capacity.replica_planned_batch(probe, probe.regions[0]).values()
    at = run(hybrid_spec(gateway=gateway(chat(), support(), replicaConcurrency=batch)), offers=OFFERS)
    above = run(hybrid_spec(gateway=gateway(chat(), support(), replicaConcurrency=batch + 1)), offers=OFFERS)
    assert not [w for w in at.hybrid.warnings if "replicaConcurrency" in w]
    [warning] = [w for w in above.hybrid.warnings if "replicaConcurrency" in w]
    assert f"gateway.replicaConcurrency {batch + 1} exceeds the capacity model's planned batch of {batch}" in warning


def test_the_shipped_hybrid_stack_sets_replica_concurrency_to_the_planned_batch():
    from infra.spec import load_stack_file

    spec = load_stack_file(ROOT / "stacks" / "Pulumi.hybrid.yaml")
    assert "replica_concurrency" in spec.gateway.model_fields_set
    for region in spec.regions:
        assert set(capacity.replica_planned_batch(spec, region).values()) == {spec.gateway.replica_concurrency}


def test_the_budget_warning_states_what_the_per_pod_split_guarantees():
    est = run(hybrid_spec(gateway=gateway(chat(), support(), minReplicas=2, maxReplicas=5)), offers=OFFERS)
    [warning] = [w for w in est.hybrid.warnings if "holds while the gateway runs" in w]
    assert "minReplicas 2" in warning and "maxReplicas 5" in warning and "$2,500,000" in warning
    flat = run(hybrid_spec(gateway=gateway(chat(), support(), minReplicas=3, maxReplicas=3)), offers=OFFERS)
    assert not [w for w in flat.hybrid.warnings if "holds while the gateway runs" in w]


def test_the_cheapest_cap_search_stays_within_what_the_chart_deploys():
    """The vLLM chart's values schema caps autoscaling.maxReplicas (100): a cap above it would fail helm, so the
    search never tries one even where the peak would need more."""
    from infra.spec.models import CHART_MAX_REPLICAS_MAX

    spec = hybrid_spec(requests=2_000_000_000, gateway=gateway(chat(0.8), support(0.2)))
    hm = model(spec)
    peak = 2_000_000_000 * 250 * max(hm.profile) / capacity.SECONDS_PER_MONTH
    assert capacity.replicas_for_load(peak, [(4, planning_tps(spec))]) > CHART_MAX_REPLICAS_MAX  # it would need more
    low, high = hm.ranges()["us-east-1"]
    assert low <= high == CHART_MAX_REPLICAS_MAX


def test_a_provider_budget_below_what_the_split_pays_it_warns_and_a_stated_split_holds():
    """`apiBudgetMonthlyUsd` split evenly over the providers (before `providerBudgetsMonthlyUsd`) left the provider
    that carries the overflow short of what the estimate pays it — the shipped hybrid stack's Together: $12,500 of a
    $25,000 budget against ~$14.4K — and nothing said so; the gateway then refuses it part-way through the month."""
    probe = hybrid_spec(peak_to_average=1, gateway=gateway(chat(), support()))
    requests = requests_for(3.5, probe)
    routes = (chat(fallbackTo=[DEAR]), support())
    spend = model(hybrid_spec(peak_to_average=1, requests=requests, gateway=gateway(*routes))).price_split(
        {"us-east-1": 2}).api_monthly
    budget = float(spend) * 1.5  # the whole budget covers it, half of it (the even split) does not
    even = run(hybrid_spec(peak_to_average=1, requests=requests, gateway=gateway(*routes, apiBudgetMonthlyUsd=budget)),
               offers=OFFERS)
    [warning] = [w for w in even.hybrid.warnings if "the split pays together" in w]
    assert "its even share of gateway.apiBudgetMonthlyUsd" in warning and warning_id(warning) == "gateway-provider-budget"
    stated = run(hybrid_spec(peak_to_average=1, requests=requests, gateway=gateway(
        *routes, apiBudgetMonthlyUsd=budget, providerBudgetsMonthlyUsd={"together": budget * 0.9, "openai": budget * 0.1})),
        offers=OFFERS)
    assert not [w for w in stated.hybrid.warnings if "the split pays" in w]


def test_the_shipped_hybrid_stack_budgets_its_overflow_provider_and_renders_it():
    from infra.gateway_config import provider_budgets
    from infra.spec import load_stack_file

    spec = load_stack_file(ROOT / "stacks" / "Pulumi.hybrid.yaml")
    assert provider_budgets(spec) == {"together_ai": round(22000 / 6, 6), "openai": round(3000 / 6, 6)}
