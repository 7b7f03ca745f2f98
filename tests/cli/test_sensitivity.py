"""`estimate --sensitivity` / `--growth` (issue 15 items 2-3) and the solver under the break-even.

Every flip point is checked by re-running the whole estimate just below and just above it (the verdict must
differ); the cost model's cheap total (what the break-even and the flip searches call) must equal the sum of
the line items `run` prices, and the break-even must be the one the full cost model's bisection finds."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from cli import estimate as est
from cli.estimate import mapping, sensitivity
from cli.estimate.costs import CostModel
from cli.main import app
from cli.pricing.api import custom_offer
from infra import hardware
from infra.price_catalog import default_catalog
from infra.spec import CustomApiOffer
from tests.builders import AS_OF, cache_dir, resources, spec_of  # noqa: F401  (cache_dir: autouse)
from tests.builders import run_estimate as run
from tests.conftest import STACK_NAMES
from tests.paths import ROOT

# API at $0.0022 a request for 600 in + 250 out tokens: the builder stack (~$11,000 a month at 5M requests) is
# within 15 % of it (hybrid), so every input has a flip point near today's value
PRICES = {"inputPerMTokUsd": 1.0, "outputPerMTokUsd": 6.4}


def offer_for(input_tokens=600, output_tokens=250, factor=1.0):
    o = custom_offer(CustomApiOffer(name="api", **PRICES), input_tokens, output_tokens)
    return replace(o, request_usd=o.request_usd * Decimal(str(factor)))


class ScaledGpuCatalog:
    """The shipped catalog with every GPU instance's price times `factor` (a spot discount, a commitment)."""

    def __init__(self, factor: float):
        self.base, self.factor = default_catalog(), Decimal(str(factor))

    def __getattr__(self, name):
        return getattr(self.base, name)

    def instance(self, region, instance_type, capacity_type="on-demand"):
        price = self.base.instance(region, instance_type, capacity_type)
        if hardware.instance_type(instance_type).gpu_model is None:
            return price
        return replace(price, usd_per_hour=price.usd_per_hour * self.factor)


def verdict_with(name: str, value: float) -> str:
    """The whole estimate re-run with one input at `value`: its verdict's choice."""
    if name == "requestsPerMonth":
        return run(spec_of(requests=int(value)), offers=[offer_for()]).verdict.choice
    if name == "inputTokensPerRequest":
        return run(spec_of(input_tokens=int(value)), offers=[offer_for(input_tokens=int(value))]).verdict.choice
    if name == "outputTokensPerRequest":
        return run(spec_of(output_tokens=int(value)), offers=[offer_for(output_tokens=int(value))]).verdict.choice
    if name == "engineerFte":
        ops = {"engineerFte": value, "loadedMonthlyCostUsd": 16000, "setupMonths": 2, "amortisationMonths": 24}
        return run(spec_of(operations=ops), offers=[offer_for()]).verdict.choice
    if name == "gpuPriceFactor":
        return est.estimate("t", "t.yaml", spec_of(), resources(), ScaledGpuCatalog(value), [offer_for()], as_of=AS_OF,
                            api_source="test").verdict.choice
    if name in ("apiPriceFactor", "apiPricesFactor"):  # one offer: the cheapest is every offer
        return run(spec_of(), offers=[offer_for(factor=value)]).verdict.choice
    raise AssertionError(name)


@pytest.fixture(scope="module")
def flips():
    r = run(spec_of(), offers=[offer_for()])
    assert r.verdict.choice == "hybrid", r.verdict.reasons
    probe = sensitivity.probe_of(r, resources())
    return r, sensitivity.flip_points(probe, r.verdict.choice, r.break_even[0], r.total_at)


INTEGER = {"requestsPerMonth", "inputTokensPerRequest", "outputTokensPerRequest"}


def test_every_input_has_a_flip_point_near_a_close_call(flips):
    _, docs = flips
    found = {d["input"]: d for d in docs}
    assert list(found) == ["requestsPerMonth", "inputTokensPerRequest", "outputTokensPerRequest", "engineerFte",
                           "gpuPriceFactor", "apiPriceFactor", "apiPricesFactor"]
    for d in docs:
        assert d["flipsAt"] is not None, d["line"]
        assert {"input", "flipsAt", "verdictBelow", "verdictAbove"} <= set(d)
        assert d["verdictBelow"] != d["verdictAbove"]
        assert d["verdictNow"] == "hybrid"
    assert "self-host wins above" in found["requestsPerMonth"]["line"]
    assert found["requestsPerMonth"]["breakEven"]["requestsPerMonth"]


@pytest.mark.parametrize("name", ["requestsPerMonth", "inputTokensPerRequest", "outputTokensPerRequest", "engineerFte",
                                  "gpuPriceFactor", "apiPriceFactor", "apiPricesFactor"])
def test_each_flip_point_is_where_a_rerun_estimate_changes_its_verdict(flips, name):
    _, docs = flips
    (doc,) = [d for d in docs if d["input"] == name]
    for flip in doc["flips"]:
        below, at = flip["checkedBelow"], flip["at"]
        if name in INTEGER:  # exactly the two integers the search compared
            assert at - below <= max(1, below * sensitivity.RELATIVE_STEP)
        else:  # a continuous input: 0.5 % either side (line items are rounded to cents one by one)
            below, at = below * 0.995, at * 1.005
        assert verdict_with(name, below) == flip["verdictBelow"], (name, flip)
        assert verdict_with(name, at) == flip["verdictAbove"], (name, flip)
        assert flip["verdictBelow"] != flip["verdictAbove"]


def test_never_flips_is_said_with_the_range():
    r = run(spec_of(constraints={"dataMayLeaveNetwork": False}), offers=[offer_for()])
    docs = sensitivity.flip_points(sensitivity.probe_of(r, resources()), r.verdict.choice, None, r.total_at)
    for d in docs:
        assert d["flipsAt"] is None and d["verdictBelow"] == d["verdictAbove"] == "self-host"
        assert "never flips in [" in d["line"] and "dataMayLeaveNetwork" in d["line"]


def test_find_flips_refines_each_change_and_finds_two_in_one_bracket():
    def choice(x):
        return "api" if x < 1234.5 else ("hybrid" if x < 1240 else "self-host")

    got = sensitivity.find_flips(choice, [1000, 2000], integer=True)
    assert [(f.checked_below, f.at, f.below, f.above) for f in got] == [(1234, 1235, "api", "hybrid"),
                                                                      (1239, 1240, "hybrid", "self-host")]
    continuous = sensitivity.find_flips(lambda x: "a" if x < 0.37 else "b", [0.1, 1.0], integer=False)
    (f,) = continuous
    assert f.checked_below < 0.37 <= f.at and f.at / f.checked_below <= 1 + sensitivity.RELATIVE_STEP + 1e-12


# ---------------------------------------------------------------- the solver


def _costing(spec, res):
    records = [r for m in mapping.classify(res) for r in m.records]
    return CostModel(spec, records, default_catalog(), AS_OF, est.UsageAssumptions())


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_cheap_total_is_the_sum_of_the_line_items(stack, stack_configs, inventory_of):
    from infra.spec import parse_stack_config

    spec = parse_stack_config(stack_configs[stack])
    costing = _costing(spec, inventory_of(stack).resources)
    base = max(spec.traffic.requests_per_month, 1000)
    floor = {ops: costing.total(0, include_operations=ops) for ops in (False, True)}
    for factor in (0, 0.001, 0.013, 0.31, 0.999, 1, 1.001, 2.7, 9.9, 55, 300):
        for unbounded in (False, True):
            items, _ = costing.run(base * factor, unbounded=unbounded)
            for ops in (False, True):
                want = sum((li.monthly for li in items if ops or li.category != "operations"), Decimal(0))
                assert costing.total(base * factor, unbounded=unbounded, include_operations=ops) == want, (factor, unbounded)
                # the break-even's lower bound: no volume costs less than no traffic
                assert want >= floor[ops], (factor, unbounded)
    for end in ("low", "high"):  # another throughput (the band's ends) is priced afresh, not from the memo
        band = {key: th.at_band(end) for key, th in costing.throughput.items()}
        items, _ = costing.run(base, throughput_cache=band)
        assert costing.total(base, throughput_cache=band) == sum((li.monthly for li in items), Decimal(0))


def _old_break_even(spec, res, offer):
    """The break-even as the session before computed it: every step runs the full cost model."""
    costing = _costing(spec, res)

    def total_at(r, unbounded):
        items, _ = costing.run(r, unbounded=unbounded)
        return sum((li.monthly for li in items), Decimal(0))

    return est.break_even(total_at, offer, est.max_servable_requests(spec))


@pytest.mark.parametrize("kw,per_request", [({}, "0.0022"), ({"capacity": "spot"}, "0.0015"),
                                            ({"requests": 200_000}, "0.004"), ({}, "0.0005"), ({}, "0.00001")])
def test_break_even_is_the_full_cost_models(kw, per_request):
    res = resources(capacity="SPOT" if kw.get("capacity") == "spot" else "ON_DEMAND")
    spec = spec_of(**kw)
    offer = est.ApiOffer("api", None, None, Decimal(0), Decimal(0), "test", Decimal(per_request))
    (got,) = run(spec, res, offers=[offer]).break_even
    assert got == _old_break_even(spec, res, offer)


# ---------------------------------------------------------------- the command

runner = CliRunner()
AS_OF_ARGS = ["--as-of", "2026-11-24"]
ROOT_STACKS = ROOT / "stacks"


def test_prod_us_sensitivity_json_has_the_break_even_and_the_flip_points():
    result = runner.invoke(app, ["estimate", "prod-us", "--sensitivity", "--format", "json", *AS_OF_ARGS])
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.output)["stacks"]
    entries = {e["input"]: e for e in doc["sensitivity"]}
    assert len(entries) >= 5
    for e in entries.values():
        assert {"input", "flipsAt", "verdictBelow", "verdictAbove", "line"} <= set(e)
    volume = entries["requestsPerMonth"]
    assert volume["breakEven"]["requestsPerMonth"] == doc["breakEvenRequestsPerMonth"][volume["breakEven"]["offer"]][
        "requestsPerMonth"]
    assert volume["flipsAt"] and volume["verdictBelow"] == doc["verdict"]["choice"]
    sweep = doc["volumeSweep"]
    assert sweep["requestsPerMonth"][0] == 200_000 and sweep["requestsPerMonth"][-1] == 2_000_000_000
    assert set(sweep["seriesUsd"]) == {"self-hosted", *(o["offer"] for o in doc["api"])}
    today = sweep["factors"].index(1)
    assert sweep["seriesUsd"]["self-hosted"][today] == doc["selfHosted"]["comparedMonthlyUsd"]
    assert sweep["verdict"][today] == doc["verdict"]["choice"]


def test_growth_names_the_month_the_verdict_changes_and_the_fleet_then():
    result = runner.invoke(app, ["estimate", "prod-us", "--growth", "20", "--months", "24", "--format", "json",
                                 *AS_OF_ARGS])
    assert result.exit_code == 0, result.output
    g = json.loads(result.output)["stacks"][0]["growth"]
    month = g["verdictChangesInMonth"]
    rows = g["table"]
    assert len(rows) == 25 and rows[0]["requestsPerMonth"] == 20_000_000
    assert rows[1]["requestsPerMonth"] == 24_000_000
    assert month is not None and all(r["verdict"] == rows[0]["verdict"] for r in rows[:month])
    assert rows[month]["verdict"] != rows[0]["verdict"] == g["table"][0]["verdict"]
    assert g["fleetThen"] and all(f["peakNodes"] >= 1 for f in g["fleetThen"])
    assert f"month {month}" in g["line"]
    # the fleet then is recommend's cheapest for that month's volume (its analytic search, no program run)
    from cli.recommend.search import search
    from infra.price_catalog import default_catalog
    from infra.spec import load_stack_file

    spec = load_stack_file(ROOT_STACKS / "Pulumi.prod-us.yaml")
    then = spec.model_copy(update={"traffic": spec.traffic.model_copy(
        update={"requests_per_month": rows[month]["requestsPerMonth"]})})
    best = search(then, default_catalog(), top=1).options[0]
    assert [(f["source"], f["region"], f["instanceType"], f["capacityType"], f["maxNodes"]) for f in g["fleetThen"]] == [
        ("recommend", c.region, c.instance_type, c.capacity_type, c.max_nodes) for c in best.regions]


@pytest.mark.parametrize("args,named", [(["--growth", "-5"], "--growth"), (["--growth", "0"], "--growth"),
                                        (["--growth", "5", "--months", "0"], "--months"),
                                        (["--growth", "5", "--months", "121"], "--months"),
                                        (["--months", "6"], "--months")])
def test_bad_growth_options_exit_2_naming_the_option(args, named):
    result = runner.invoke(app, ["estimate", "dev", *args, *AS_OF_ARGS])
    assert result.exit_code == 2, result.output
    assert named in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_every_format_shows_the_flip_points_sweep_and_growth(fmt):
    result = runner.invoke(app, ["estimate", "prod-us", "--sensitivity", "--growth", "20", "--months", "24",
                                 "--format", fmt, *AS_OF_ARGS])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.replace("│", " ").split())  # table cells wrap: words stay whole
    assert "what flips the verdict" in text.lower() and "1,475,259,896" in text  # the volume flip to self-host
    assert "2,000,000,000" in text  # the sweep's 100x
    assert "in month 16" in text
    if fmt == "html":
        assert text.count("<svg") == 2  # the break-even chart and the sweep's


def test_without_the_options_the_estimate_has_none_of_it():
    result = runner.invoke(app, ["estimate", "dev", "--format", "json", *AS_OF_ARGS])
    doc = json.loads(result.output)["stacks"][0]
    assert not {"sensitivity", "volumeSweep", "growth"} & set(doc)
    # that a plain run does not even import the module: tests/cli/test_estimate_cli.py::test_warm_run_imports_no_pulumi


def test_sweep_series_is_the_hook_every_renderer_draws(flips):
    r, _ = flips
    probe = sensitivity.probe_of(r, resources())
    points = sensitivity.sweep_points(r.spec.traffic.requests_per_month)
    series = sensitivity.sweep_series(probe, points, r.total_at)
    assert list(series) == ["self-hosted", "api"] and all(len(v) == len(points) for v in series.values())
    assert math.isclose(series["api"][6], float(offer_for().monthly_usd(points[6])))


def test_people_cost_never_flips_when_it_is_excluded():
    ops = {"include": False, "engineerFte": 0.5, "loadedMonthlyCostUsd": 16000}
    r = run(spec_of(operations=ops), offers=[offer_for()])
    docs = sensitivity.flip_points(sensitivity.probe_of(r, resources()), r.verdict.choice, None, r.total_at)
    (fte,) = [d for d in docs if d["input"] == "engineerFte"]
    assert fte["flipsAt"] is None and "people costs are excluded" in fte["line"]


def test_a_saved_sensitivity_estimate_renders_its_sweep_chart(tmp_path):
    saved = tmp_path / "prod-us.json"
    result = runner.invoke(app, ["estimate", "prod-us", "--sensitivity", "--format", "json", "--out", str(saved),
                                 *AS_OF_ARGS])
    assert result.exit_code == 0, result.output
    html = runner.invoke(app, ["render", str(saved), "--format", "html"])
    assert html.exit_code == 0, html.output
    # the saved JSON carries the break-even chart's points too: both charts are drawn
    assert html.output.count("<svg") == 2 and "What flips the verdict" in html.output


def _hybrid_doc(path: str, *extra: str) -> dict:
    result = runner.invoke(app, ["estimate", path, "--format", "json", *AS_OF_ARGS, *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["stacks"][0]


def test_gateway_stack_sensitivity_and_growth_use_the_hybrid_verdict(tmp_path):
    """A stack with a gateway is judged by the hybrid rules at every other input, as the estimate judges it: today's
    point of the sweep and month 0 of the growth say the estimate's verdict (hybrid), the sweep has a `hybrid`
    series (the cheapest split at each volume) and the volume flip re-checks with the whole estimate on both sides."""
    doc = _hybrid_doc("stacks/Pulumi.hybrid.yaml", "--sensitivity", "--growth", "10", "--months", "3")
    assert doc["verdict"]["choice"] == "hybrid"
    sweep = doc["volumeSweep"]
    today = sweep["factors"].index(1)
    assert sweep["verdict"][today] == "hybrid"
    assert sweep["seriesUsd"]["hybrid"][today] == doc["hybrid"]["optimalFleet"]["monthlyUsd"]
    assert set(sweep["seriesUsd"]) == {"self-hosted", "hybrid", *(o["offer"] for o in doc["api"])}
    # where the split is dearer than pure self-hosted (its gateway pods and API routes at a small volume, or a
    # fleet held at the chart's 100 replicas at a large one) the split does not make the verdict hybrid; only the
    # framework's own rules can (decide: within the band, or cheaper but shipping before the fleet is set up)
    from decimal import Decimal

    from cli.estimate.decision import decide
    from infra.spec import load_stack_file

    spec = load_stack_file(ROOT_STACKS / "Pulumi.hybrid.yaml")
    offers = [o["offer"] for o in doc["api"]]
    for i, (h, s, v) in enumerate(zip(sweep["seriesUsd"]["hybrid"], sweep["seriesUsd"]["self-hosted"], sweep["verdict"])):
        api = min(sweep["seriesUsd"][o][i] for o in offers)
        assert v != "hybrid" or h < s or decide(spec, Decimal(str(s)), Decimal(str(api)))[0] == "hybrid", (h, s, api, v)
    g = doc["growth"]
    assert g["table"][0]["verdict"] == "hybrid" and g["table"][0]["hybridUsd"] == sweep["seriesUsd"]["hybrid"][today]
    # the fleet at the end is recommend's cheapest hybrid split for that volume: capped, with its API share
    assert all(f["source"] == "recommend" and 0 < f["apiShare"] < 1 and f["maxReplicas"] < f["maxNodes"] * 8
               for f in g["fleetAtEnd"])
    entries = {e["input"]: e for e in doc["sensitivity"]}
    for e in entries.values():
        assert e["verdictNow"] == "hybrid"
        assert "hybrid" in (e["verdictBelow"], e["verdictAbove"]), e["line"]
    volume = entries["requestsPerMonth"]
    assert volume["flipsAt"] is not None, volume["line"]
    text = (ROOT_STACKS / "Pulumi.hybrid.yaml").read_text()
    for at, expected in ((volume["checkedBelow"], volume["verdictBelow"]), (volume["flipsAt"], volume["verdictAbove"])):
        path = tmp_path / "Pulumi.hybrid.yaml"
        path.write_text(text.replace("requestsPerMonth: 650000000", f"requestsPerMonth: {round(at)}"))
        assert _hybrid_doc(str(path))["verdict"]["choice"] == expected, (at, expected)


def test_growth_past_what_a_stack_accepts_says_it_holds_the_ceiling():
    """Before, months past 100,000,000,000 requests/month (the most traffic.requestsPerMonth accepts) silently
    repeated that value (rev15's finding); now the line and `cappedFromMonth` say from which month."""
    result = runner.invoke(app, ["estimate", "dev", "--growth", "1000", "--months", "12", "--format", "json",
                                 *AS_OF_ARGS])
    assert result.exit_code == 0, result.output
    g = json.loads(result.output)["stacks"][0]["growth"]
    capped = g["cappedFromMonth"]
    rows = g["table"]
    assert capped is not None and rows[capped - 1]["requestsPerMonth"] < 100_000_000_000
    assert all(r["requestsPerMonth"] == 100_000_000_000 for r in rows[capped:])
    assert f"from month {capped} the projection is held at 100,000,000,000 requests/month" in g["line"]
    plain = runner.invoke(app, ["estimate", "dev", "--growth", "10", "--months", "3", "--format", "json", *AS_OF_ARGS])
    assert json.loads(plain.output)["stacks"][0]["growth"]["cappedFromMonth"] is None


# ---------------------------------------------------------------- how near a flip an input that never flips comes


def _cheapest(r):
    requests = r.spec.traffic.requests_per_month
    best = min(r.offers, key=lambda o: o.monthly_usd(requests))
    return best.name, float(est.q(best.monthly_usd(requests)))


@pytest.fixture(scope="module")
def shipped(stack_configs, inventory_of):
    """`shipped(stack)`: (spec, inventory, offers, estimate, flip documents) of a shipped stack."""
    from cli.stacks import api_offers
    from infra.spec import parse_stack_config

    found = {}

    def get(stack):
        if stack not in found:
            spec = parse_stack_config(stack_configs[stack])
            res = inventory_of(stack).resources
            offers = api_offers(ROOT, spec, AS_OF, True, store=False)[0]
            r = est.estimate(stack, "x.yaml", spec, res, default_catalog(), offers, as_of=AS_OF, api_source="test")
            be = {b.offer: b for b in r.break_even}
            name, _ = _cheapest(r)
            docs = sensitivity.flip_points(sensitivity.probe_of(r, res), r.verdict.choice, be[name], r.total_at)
            found[stack] = (spec, res, offers, r, {d["input"]: d for d in docs})
        return found[stack]

    return get


def _rerun(shipped, stack: str, name: str, value: float, requests: int | None = None):
    """The whole estimate of a shipped stack again with one input at `value` (offers priced afresh by genai-prices for
    another request size, a catalog with GPU prices scaled, the cheapest offer's prices scaled)."""
    from cli.stacks import api_offers

    spec, res, offers, r, docs = shipped(stack)
    catalog = default_catalog()
    if requests is not None:
        spec = sensitivity.with_traffic(spec, requests_per_month=requests)
    if name == "requestsPerMonth":
        spec = sensitivity.with_traffic(spec, requests_per_month=int(value))
    elif name in ("inputTokensPerRequest", "outputTokensPerRequest"):
        key = {"inputTokensPerRequest": "input_tokens_per_request", "outputTokensPerRequest": "output_tokens_per_request"}
        spec = sensitivity.with_traffic(spec, **{key[name]: int(value)})
        offers = api_offers(ROOT, spec, AS_OF, True, store=False)[0]
    elif name == "engineerFte":
        spec = sensitivity.with_fte(spec, value)
    elif name == "gpuPriceFactor":
        catalog = ScaledGpuCatalog(value)
    elif name == "apiPriceFactor":
        scaled = docs[name]["offer"]
        offers = [replace(o, request_usd=o.request_usd * Decimal(str(value))) if o.name == scaled else o for o in offers]
    elif name == "apiPricesFactor":
        offers = [replace(o, request_usd=o.request_usd * Decimal(str(value))) for o in offers]
    else:
        raise AssertionError(name)
    return est.estimate(stack, "x.yaml", spec, res, catalog, offers, as_of=AS_OF, api_source="test")


PROD_US_NEVER = ["inputTokensPerRequest", "outputTokensPerRequest", "engineerFte", "gpuPriceFactor", "apiPriceFactor"]


@pytest.mark.parametrize("name", PROD_US_NEVER)
def test_an_input_that_never_flips_says_how_near_it_comes_and_a_rerun_agrees(shipped, name):
    """prod-us (api): five inputs never flip in their range. Each says so (`neverFlipsIn`) and, at the end of the range
    nearest a flip, what self-hosting and the cheapest offer cost and the gap: the whole estimate re-run there has that
    verdict, those two costs and that gap, and the other end is no nearer a flip."""
    _, _, _, r, docs = shipped("prod-us")
    doc = docs[name]
    assert doc["flipsAt"] is None and doc["neverFlipsIn"] == doc["searched"]
    assert {"input", "flipsAt", "verdictBelow", "verdictAbove"} <= set(doc)
    end = doc["closestEnd"]
    assert end["at"] in doc["searched"] or name.endswith("TokensPerRequest")
    again = _rerun(shipped, "prod-us", name, end["at"])
    assert again.verdict.choice == "api" == r.verdict.choice
    offer, api = _cheapest(again)
    assert (end["offer"], end["apiUsd"]) == (offer, api)
    # a GPU price factor scales the summed GPU lines, a re-run each line before rounding it to cents
    cents = 0.05 if name == "gpuPriceFactor" else 0.0
    assert end["selfHostedUsd"] == pytest.approx(float(est.q(again.compared_expected)), abs=cents)
    assert end["gapUsd"] == pytest.approx(end["selfHostedUsd"] - api, abs=0.005) and end["gapUsd"] > 0
    assert end["gapPercent"] == pytest.approx(end["gapUsd"] / api * 100, abs=0.05)
    assert f"self-hosting (${end['selfHostedUsd']:,.2f}/month) is still ${end['gapUsd']:,.2f}/month" in doc["line"]
    lo, hi = doc["searched"]
    other = hi if end["at"] == lo else lo
    if name.endswith("TokensPerRequest"):
        other = max(other, 1)  # the grid's lowest request size (an input of 0 tokens is searched from 1)
    far = _rerun(shipped, "prod-us", name, other)
    far_self, (_, far_api) = float(est.q(far.compared_expected)), _cheapest(far)
    assert (far_self - far_api) / far_api * 100 >= end["gapPercent"] - 0.05


def test_people_at_zero_with_volume_is_the_combined_flip_a_rerun_confirms(shipped):
    """prod-us carries ~$16k a month of people: at 0 FTE (the end nearest a flip) the volume flips the verdict far
    sooner than today. The combined flip is re-checked by the whole estimate at 0 FTE just below and at it."""
    _, _, _, _, docs = shipped("prod-us")
    combined = docs["engineerFte"]["combined"]
    assert combined["with"] == {"input": "engineerFte", "value": 0.0}
    assert combined["flipsAt"] < docs["requestsPerMonth"]["flipsAt"]
    below = _rerun(shipped, "prod-us", "engineerFte", 0.0, requests=combined["checkedBelow"])
    above = _rerun(shipped, "prod-us", "engineerFte", 0.0, requests=combined["flipsAt"])
    assert (below.verdict.choice, above.verdict.choice) == (combined["verdictBelow"], combined["verdictAbove"])
    assert combined["verdictBelow"] != combined["verdictAbove"]
    assert f"{combined['flipsAt']:,} requests/month" in docs["engineerFte"]["line"]


def test_a_gateway_stack_that_never_flips_says_what_the_split_saves(shipped):
    """The hybrid stack's verdict is the split's: where an input never flips it, the gap is what the cheapest split
    saves against the nearer pure choice, re-checked by the whole estimate at that end."""
    _, _, _, r, docs = shipped("hybrid")
    doc = docs["outputTokensPerRequest"]
    end = doc["closestEnd"]
    assert doc["flipsAt"] is None and end["versus"] in ("pure self-hosted", "pure API")
    again = _rerun(shipped, "hybrid", "outputTokensPerRequest", end["at"])
    assert again.verdict.choice == "hybrid"
    assert end["hybridUsd"] == float(est.q(again.hybrid.optimal.total))
    rival = again.hybrid.pure_self_hosted if end["versus"] == "pure self-hosted" else again.hybrid.pure_api
    assert end["gapUsd"] == pytest.approx(float(est.q(rival)) - end["hybridUsd"], abs=0.005) and end["gapUsd"] > 0
    assert "the cheapest split" in doc["line"] and doc["combined"] is None


def test_where_data_may_not_leave_no_gap_is_claimed():
    r = run(spec_of(constraints={"dataMayLeaveNetwork": False}), offers=[offer_for()])
    docs = sensitivity.flip_points(sensitivity.probe_of(r, resources()), r.verdict.choice, None, r.total_at)
    assert all(d["closestEnd"] is None and d["neverFlipsIn"] for d in docs)


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_every_format_says_how_near_a_never_flipping_input_comes(fmt, shipped):
    result = runner.invoke(app, ["estimate", "prod-us", "--sensitivity", "--format", fmt, *AS_OF_ARGS])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.replace("│", " ").split())
    assert "at the end nearest a flip (0.00 FTE) self-hosting" in text
    assert "at 0.00 FTE the verdict changes with volume: hybrid wins above" in text


def test_a_free_offer_has_a_gap_without_a_share():
    """A free API offer ($0 a request): the gap is the whole self-hosted cost, with no percentage of $0 (the share
    was a division by zero that stopped `--sensitivity`)."""
    free = custom_offer(CustomApiOffer(name="free", inputPerMTokUsd=0, outputPerMTokUsd=0), 600, 250)
    r = run(spec_of(), offers=[free])
    docs = sensitivity.flip_points(sensitivity.probe_of(r, resources()), r.verdict.choice, r.break_even[0], r.total_at)
    fte = next(d for d in docs if d["input"] == "engineerFte")
    end = fte["closestEnd"]
    assert r.verdict.choice == "api" and end["apiUsd"] == 0 and end["gapPercent"] is None
    assert end["gapUsd"] == end["selfHostedUsd"] > 0 and "(against $0.00) dearer than the API (free: $0.00)" in fte["line"]


def test_a_band_hybrid_gap_is_measured_to_the_nearer_edge_and_names_the_rule():
    """Within the 15 % band the verdict is hybrid whichever side is dearer: the gap says which, names the rule, and
    the end nearest a flip is the one nearest an edge of the band (here 110 of 100: 5 points from 115)."""
    spec = spec_of()
    near = sensitivity.gap(spec, "hybrid", sensitivity.Side(Decimal(110), Decimal(100), "api"))
    far = sensitivity.gap(spec, "hybrid", sensitivity.Side(Decimal(100), Decimal(100), "api"))
    assert sensitivity.decide(spec, Decimal(110), Decimal(100))[0] == "hybrid"
    assert near["gapUsd"] == 10 and near["key"] == pytest.approx(5) and far["key"] == pytest.approx(15)
    assert "is $10.00/month (10.0%) dearer than the API (api: $100.00) (within 15%: hybrid)" in near["text"]
