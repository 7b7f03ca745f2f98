"""`tradeoff-infra recommend`: the search finds the cheapest feasible fleet (checked against exhaustive enumeration
priced by the estimate's own cost modules), never recommends more than a shipped stack's own fleet costs, and
`--write` then `estimate` reproduces the recommended cost."""

from __future__ import annotations

import itertools
import json
import random
import re

import pytest
from typer.testing import CliRunner

from cli import capacity
from cli.main import app
from cli.recommend import costing, recommend
from cli.recommend.search import PRECISIONS, Space, k_best, search, with_model
from infra import hardware
from infra.price_catalog import default_catalog
from infra.spec import GpuPoolSpec, RegionScaling, load_stack_file, parse_stack_config, read_stack_text
from infra.spec.checks import fit_report
from tests.builders import AS_OF, IMAGE, REVISION, cache_dir, project, spec_of  # noqa: F401  (fixtures)
from tests.conftest import STACK_NAMES
from tests.paths import ROOT

runner = CliRunner()
DATE = ["--as-of", AS_OF.isoformat()]
SHIPPED = STACK_NAMES  # every stack in stacks/


def invoke(*args):
    return runner.invoke(app, list(args))


# ---------------------------------------------------------------- the search against exhaustive enumeration


def two_region_spec():
    config = {
        "model": {"name": "m", "source": "meta-llama/Llama-3.1-8B-Instruct", "revision": REVISION, "image": IMAGE},
        "regions": [
            {"region": "us-east-1", "trafficShare": 0.7,
             "gpuPools": [{"name": "l4", "instanceType": "g6.xlarge", "minNodes": 1, "maxNodes": 8}]},
            {"region": "eu-central-1", "trafficShare": 0.3,
             "gpuPools": [{"name": "l4", "instanceType": "g6.xlarge", "minNodes": 1, "maxNodes": 8}]}],
        "autoscaling": {"minReplicas": 1, "maxReplicas": 6},
        "traffic": {"requestsPerMonth": 30_000_000, "inputTokensPerRequest": 600, "outputTokensPerRequest": 250,
                    "peakToAverage": 3, "tpotTargetMs": 60, "ttftTargetMs": 2000},
        "budget": {"monthlyUsd": 100000},
        "endpoint": {"hostname": "llm.example.com", "hostedZoneId": "Z0123456789EXAMPLE"},
        "cluster": {"publicAccessCidrs": ["203.0.113.0/24"], "adminPrincipalArns": ["arn:aws:iam::111122223333:role/ops"]},
    }
    return parse_stack_config(config)


def fleet_spec(spec, precision, tp, picks):
    """`spec` with its GPU pools per region from picks[i] = (instance type, capacity type, minNodes); room to spare
    above. A mixed capacity type `<floor>+spot` is two pools, listed as the search means them: the floor pool with
    minNodes = maxNodes = the pick's count, then a spot pool from 0 with room to spare."""
    sized = with_model(spec, precision, tp)
    regions = []
    for region, (name, capacity_type, min_nodes) in zip(sized.regions, picks):
        low, _ = sized.replicas_for(region)
        floor, _, burst = capacity_type.partition("+")
        pools = [GpuPoolSpec.model_validate({"name": "p", "instanceType": name, "minNodes": min_nodes,
                                             "maxNodes": min_nodes if burst else 400, "capacityType": floor})]
        if burst:
            pools.append(GpuPoolSpec.model_validate({"name": "s", "instanceType": name, "minNodes": 0, "maxNodes": 400,
                                                     "capacityType": burst}))
        regions.append(region.model_copy(update={
            "gpu_pools": pools, "autoscaling": RegionScaling.model_validate({"minReplicas": low, "maxReplicas": 300})}))
    return sized.model_copy(update={"regions": regions})


def picks_of(option):
    """An option's fleet as `fleet_spec` picks: (instance type, capacity type as --capacity-types names it, minNodes
    or floor size)."""
    return tuple((c.instance_type, c.label, c.min_nodes) for c in option.regions)


def feasible(spec, name) -> bool:
    """The model fits, one stream meets TPOT, and TTFT at the planned batch meets its target (capacity model)."""
    it = hardware.instance_type(name)
    if it.gpus % spec.model.tensor_parallel or (spec.model.quantization == "fp8" and not it.gpu_model.fp8_dense_tflops):
        return False
    needed, usable, _ = fit_report(spec, name)
    if needed > usable:
        return False
    th = capacity.replica_throughput(spec, name)
    if th.latency_bound_tokens_per_second is None:
        return False
    engine = capacity.engine_for(spec, name)
    batch = capacity.planned_batch(engine, th.planning_tokens_per_second, th.max_batch_by_memory)
    return capacity.ttft_seconds(engine, batch) * 1000 <= spec.traffic.ttft_target_ms


def spread(spec, region, name, label, count) -> bool:
    """The fleet keeps the replica floor one node per zone (costing.spread_nodes): its floor nodes (a pool's
    minNodes, or the replicas' own nodes) reach min(minReplicas, zones); a mixed region's floor pool holds the
    whole replica floor that way (the spot pool only bursts)."""
    low, _ = spec.replicas_for(region)
    per_node = hardware.instance_type(name).gpus // spec.model.tensor_parallel
    zones = spec.network.availability_zones
    need = max(-(-low // per_node), min(low, zones)) if low else 0
    if "+" in label:
        return count >= max(need, 1)
    return max(count, -(-low // per_node)) >= min(low, zones)


def exhaustive(spec, space, max_min_nodes, carried=None):
    """Every fleet of the space (minNodes, or a mixed floor pool's size, 0..max_min_nodes in each region), priced
    by the estimate's cost modules, that keeps the replica floor spread over the zones (`spread`); `carried(region,
    name, label, count)` adds what a fleet pays besides (a reservation it leaves unused)."""
    catalog = default_catalog()
    best = []
    for precision, tp in itertools.product(space.precisions, space.tensor_parallel):
        sized = with_model(spec, precision, tp)
        per_region = []
        for region in spec.regions:
            choices = []
            for name, label in itertools.product(space.instance_types, space.capacity_types):
                if not feasible(sized, name):
                    continue
                try:
                    for capacity_type in label.split("+"):
                        catalog.instance(region.region, name, capacity_type)
                except LookupError:
                    continue
                if not hardware.offered_in(region.region, name):
                    continue
                choices += [(name, label, m) for m in range(max_min_nodes + 1) if spread(sized, region, name, label, m)]
            per_region.append(choices)
        for picks in itertools.product(*per_region):
            candidate = fleet_spec(spec, precision, tp, picks)
            usd = float(costing.exact_fleet_cost(candidate, catalog, AS_OF))
            if carried is not None:
                usd += sum(carried(candidate, region.region, *pick) for region, pick in zip(spec.regions, picks))
            best.append((usd, precision, tp, picks))
    return min(best)


def two_zone_floor_spec(requests=30_000_000):
    """One region, two zones, a replica floor of 2 (spec_of with minReplicas 2)."""
    spec = spec_of(requests=requests)
    return spec.model_copy(update={"autoscaling": spec.autoscaling.model_copy(update={"min_replicas": 2})})


CASES = ["one-region", "two-regions", "reserved-above-the-floor", "mixed-floor-and-spot", "mixed-two-regions",
         "spread-over-zones"]


@pytest.mark.parametrize("case", CASES)
def test_the_top_answer_is_the_cheapest_feasible_fleet_of_an_exhaustive_search(case):
    if case == "reserved-above-the-floor":  # a busy day: reserving more nodes than the floor pays
        spec = spec_of(requests=400_000_000)
        space = Space(instance_types=("g6e.xlarge", "g6.xlarge"), tensor_parallel=(1,), precisions=("bf16", "fp8"),
                      capacity_types=("on-demand", "reserved-1y"))
        max_min = 24
    elif case == "mixed-floor-and-spot":  # the floor reserved, the burst on spot: cheaper than either alone
        spec = spec_of(requests=400_000_000)
        space = Space(instance_types=("g6e.xlarge", "g6.xlarge"), tensor_parallel=(1,), precisions=("fp8",),
                      capacity_types=("on-demand", "reserved-1y", "on-demand+spot", "reserved-1y+spot"))
        max_min = 24
    elif case == "mixed-two-regions":  # every capacity type, the spot share among them, in two regions
        spec = two_region_spec()
        space = Space(instance_types=("g6.xlarge", "g6e.xlarge"), tensor_parallel=(1,), precisions=("fp8",),
                      capacity_types=("on-demand", "spot", "reserved-1y", "on-demand+spot", "reserved-1y+spot"))
        max_min = 4
    elif case == "spread-over-zones":  # four replicas fit one node: the floor of 2 still needs a node per zone
        spec = two_zone_floor_spec()
        space = Space(instance_types=("g6.12xlarge", "g6e.12xlarge", "g6e.xlarge"), tensor_parallel=(1,),
                      precisions=("fp8",), capacity_types=("on-demand", "reserved-1y", "on-demand+spot"))
        max_min = 4
    elif case == "one-region":
        spec = spec_of(requests=40_000_000)
        space = Space(instance_types=("g5.xlarge", "g6.xlarge", "g6e.xlarge", "g6.12xlarge", "g6e.12xlarge"),
                      tensor_parallel=(1, 2, 4), precisions=("bf16", "fp8"), capacity_types=("on-demand", "spot",
                                                                                                "reserved-1y"))
        max_min = 6
    else:
        spec = two_region_spec()
        space = Space(instance_types=("g5.xlarge", "g6.xlarge", "g6e.xlarge"), tensor_parallel=(1,),
                      precisions=("bf16", "fp8"), capacity_types=("on-demand", "spot", "reserved-1y"))
        max_min = 3
    usd, precision, tp, picks = exhaustive(spec, space, max_min)
    result = search(spec, default_catalog(), space=space, top=3)
    top = result.options[0]
    if case == "reserved-above-the-floor":
        assert any(c.capacity_type == "reserved-1y" and c.min_nodes > 1 for c in top.regions), top
    if case == "mixed-floor-and-spot":
        assert [c.label for c in top.regions] == ["reserved-1y+spot"], top
    top_exact = costing.exact_fleet_cost(fleet_spec(spec, top.precision, top.tensor_parallel, picks_of(top)),
                                         default_catalog(), AS_OF)
    assert float(top_exact) <= float(usd) + 0.01 * len(spec.regions), (top, (usd, precision, tp, picks))
    # the search's floats price that fleet as the cost modules do (to a cent per line)
    assert top.fleet_usd == pytest.approx(float(top_exact), abs=0.05 * len(spec.regions))
    # and its list is sorted
    costs = [o.fleet_usd for o in result.options]
    assert costs == sorted(costs)
    # every option keeps the replica floor one node per zone
    for option in result.options:
        sized = with_model(spec, option.precision, option.tensor_parallel)
        for region, c in zip(spec.regions, option.regions):
            assert spread(sized, region, c.instance_type, c.label, c.min_nodes), (case, option)


def test_the_replica_floor_keeps_one_node_per_zone():
    """The chart spreads replicas over zones only where nodes are; minNodes are balanced over the zones. Before the
    fix a floor of 2 replicas on a node that holds 4 (g6.12xlarge, TP1) or 2 (prod-global's p4de at TP4) was
    recommended at minNodes 1: both replicas in one zone, and a zone loss took the region down."""
    spec = two_zone_floor_spec()
    result = search(spec, default_catalog(), space=Space(instance_types=("g6.12xlarge",), tensor_parallel=(1,),
                                                          precisions=("fp8",)), top=10)
    assert result.options
    for option in result.options:
        (c,) = option.regions
        assert c.min_nodes >= 2 and c.expected_nodes >= 2, option
        exact = costing.exact_fleet_cost(fleet_spec(spec, "fp8", 1, picks_of(option)), default_catalog(), AS_OF)
        assert option.fleet_usd == pytest.approx(float(exact), abs=0.05)
    glob = load_stack_file(ROOT / "stacks" / "Pulumi.prod-global.yaml")
    (option,) = search(glob, default_catalog(), space=Space(instance_types=("p4de.24xlarge",), tensor_parallel=(4,),
                                                             capacity_types=("spot",)), top=1).options
    floors = {c.region: c.min_nodes for c in option.regions}
    assert floors == {"us-east-1": 2, "eu-central-1": 2, "ap-northeast-1": 1}  # minReplicas 2, 2, 1


def reserved_spec(requests=40_000_000):
    """spec_of on reserved-1y: its pool's minNodes 1 x g6e.xlarge are reserved for a year."""
    return spec_of(requests=requests, capacity="reserved-1y")


def unused_reservation(committed_type, committed_nodes, rate, on_demand_rate):
    """What a region's pick pays besides `estimate` of it for the stack's reservation: the reserved nodes of the
    committed type it writes (a reserved-1y pool's minNodes, or a reserved-1y floor pool) count against the
    commitment; the rest is billed at its reserved rate, and AWS applies it to the pick's nodes of that type that
    bill on demand (on-demand, or reserved-1y above minNodes; not spot) in every slot that runs them, each saving
    its on-demand rate. Those nodes come from the candidate's own capacity plan (`capacity.plan`)."""
    def carried(candidate, region, name, label, count):
        reserved = count if (label.startswith("reserved-1y") and name == committed_type) else 0
        extra = committed_nodes - min(committed_nodes, reserved)
        if extra <= 0:
            return 0.0
        covered = 0.0
        if name == committed_type:
            (plan,) = [p for p in capacity.plan(candidate, candidate.traffic.requests_per_month) if p.region == region]
            billed = [sum(n) for n in zip(*(p.nodes_per_slot for p in plan.pools if p.pool.capacity_type != "spot"))]
            covered = sum(min(extra, max(0, n - reserved)) for n in billed) / len(billed) if billed else 0.0
        return (extra * rate - covered * on_demand_rate) * float(costing.HOURS)
    return carried


@pytest.mark.parametrize("requests", [40_000_000, 400_000_000])
def test_a_reservation_the_stack_holds_stays_billed_until_its_term_ends(requests):
    """A stack on reserved-1y has bought its minNodes for a year. Before the fix the search offered cheaper fleets
    (spot, another type) as if that reservation could be dropped at once; now an option that holds fewer of the
    reserved nodes pays the rest anyway, and says so. Exhaustive: the top answer is the cheapest feasible fleet
    with that cost counted."""
    spec = reserved_spec(requests)
    catalog = default_catalog()
    price = catalog.instance("us-east-1", "g6e.xlarge", "reserved-1y")
    rate, on_demand = float(price.usd_per_hour), float(price.on_demand_usd_per_hour)
    carried = unused_reservation("g6e.xlarge", 1, rate, on_demand)
    # one pool a region: every option that does not hold the reserved node is priced with it (before the fix the
    # spot fleets were priced as if the reservation had ended)
    plain = search(spec, catalog, space=Space(instance_types=("g6e.xlarge", "g6.xlarge"), tensor_parallel=(1,),
                                              precisions=("fp8",), capacity_types=("on-demand", "spot", "reserved-1y")),
                   top=10).options
    assert any(o.regions[0].capacity_type == "spot" for o in plain)
    for option in plain:
        (c,) = option.regions
        candidate = fleet_spec(spec, option.precision, option.tensor_parallel,
                               ((c.instance_type, c.capacity_type, c.min_nodes),))
        exact = costing.exact_fleet_cost(candidate, catalog, AS_OF)
        assert option.fleet_usd == pytest.approx(
            float(exact) + carried(candidate, "us-east-1", c.instance_type, c.capacity_type, c.min_nodes),
            abs=0.05), option
    space = Space(instance_types=("g6e.xlarge", "g6.xlarge"), tensor_parallel=(1,), precisions=("fp8",),
                  capacity_types=("on-demand", "spot", "reserved-1y", "on-demand+spot", "reserved-1y+spot"))
    usd, *_, picks = exhaustive(spec, space, 12 if requests > 100e6 else 4, carried=carried)
    result = search(spec, catalog, space=space, top=20)
    top = result.options[0]
    exact = float(costing.exact_fleet_cost(fleet_spec(spec, top.precision, top.tensor_parallel, picks_of(top)),
                                           catalog, AS_OF))
    assert exact + top.carried_usd <= float(usd) + 0.01, (top, usd, picks)
    assert top.fleet_usd == pytest.approx(exact + top.carried_usd, abs=0.05)
    # the top answer keeps the reservation (a reserved g6e.xlarge floor), and every option that does not pays for it
    (c,) = top.regions
    assert (c.instance_type, c.capacity_type) == ("g6e.xlarge", "reserved-1y") and c.min_nodes >= 1, top
    dropped = [o for o in result.options if o.regions[0].capacity_type != "reserved-1y"
               or o.regions[0].instance_type != "g6e.xlarge"]
    assert dropped
    for option in dropped:
        (pick,) = picks_of(option)
        candidate = fleet_spec(spec, option.precision, option.tensor_parallel, (pick,))
        assert option.carried_usd == pytest.approx(carried(candidate, "us-east-1", *pick), abs=0.01), option
        (note,) = [n for n in option.notes if "1-year commitment" not in n]
        assert "1 of the 1 x g6e.xlarge the stack reserves" in note and "still billed" in note
        # a reserved pool of the other type buys a new reservation, and says so
        assert any("1-year commitment" in n for n in option.notes) == pick[1].startswith("reserved-1y")
        if pick[0] != "g6e.xlarge" or pick[1] == "spot":  # nothing of its type billed on demand: all of it unused
            assert option.carried_usd == pytest.approx(rate * float(costing.HOURS))
    # the same stack on-demand: nothing is carried, and spot is cheaper than keeping a reservation
    free = search(spec_of(requests=requests), catalog, space=space, top=1).options[0]
    assert free.carried_usd == 0 and not free.notes


def test_burst_days_is_the_spot_pool_the_planner_fills_above_a_floor_of_k():
    """`costing.burst_days` prices every floor size in one pass; it must be, for each k, the spot pool's day when
    the floor pool holds k nodes in every slot: max(0, nodes - k), its mean and its node starts."""
    rng = random.Random(15)
    for _ in range(50):
        nodes = [rng.randint(0, 9) for _ in range(rng.choice((1, 5, 96)))]
        days = costing.burst_days(nodes)
        assert len(days) == max(nodes) + 1
        for k, (expected, starts) in enumerate(days):
            spot = [max(0, n - k) for n in nodes]
            assert expected == pytest.approx(sum(spot) / len(spot))
            assert starts == costing.starts_per_day(spot)


def test_k_best_matches_brute_force_on_random_lists():
    rng = random.Random(15)
    for _ in range(30):
        lists = [sorted(rng.uniform(0, 100) for _ in range(rng.randint(1, 5))) for _ in range(rng.randint(1, 4))]
        every = sorted(sum(lst[i] for lst, i in zip(lists, pick))
                       for pick in itertools.product(*(range(len(lst)) for lst in lists)))
        got = [sum(lst[i] for lst, i in zip(lists, pick)) for pick in k_best(lists, 7)]
        assert got == pytest.approx(every[:7])


@pytest.mark.parametrize("stack", SHIPPED)
def test_the_floats_price_every_listed_option_as_the_cost_modules_do(stack):
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    result = search(spec, default_catalog(), top=5)
    assert result.options
    for option in result.options:
        exact = costing.exact_fleet_cost(fleet_spec(spec, option.precision, option.tensor_parallel, picks_of(option)),
                                         default_catalog(), AS_OF)
        assert option.fleet_usd == pytest.approx(float(exact), abs=0.05 * len(spec.regions))


# ---------------------------------------------------------------- the shipped stacks


@pytest.mark.parametrize("stack", SHIPPED)
def test_the_top_recommendation_costs_no_more_than_the_stacks_own_fleet(stack, project, inventory_of):
    from cli.estimate import estimate

    from cli.stacks import api_offers

    path = project / "stacks" / f"Pulumi.{stack}.yaml"
    spec = load_stack_file(path)
    offers = api_offers(project, spec, AS_OF, False)[0] if spec.gateway is not None else []
    rec = recommend(stack, path, read_stack_text(path), spec, default_catalog(), AS_OF, root=project, offers=offers)
    own = estimate(stack, str(path), spec, inventory_of(stack).resources, default_catalog(), offers, as_of=AS_OF,
                   api_source="test")
    best = rec.options[0]
    assert best.feasible and best.exact
    if spec.gateway is not None:  # the hybrid split, API spend included, against the stack's own split
        assert rec.hybrid and own.hybrid is not None
        assert best.monthly_usd <= float(own.hybrid.configured.total) + 0.01
        assert best.monthly_usd <= float(own.hybrid.optimal.total) + 0.01
        assert rec.stack_fleet_usd == pytest.approx(float(own.hybrid.configured.total), abs=0.05)
        assert 0 < best.api_share < 1
        assert [o.monthly_usd for o in rec.options] == sorted(o.monthly_usd for o in rec.options)
        return
    assert best.monthly_usd <= float(own.compared_expected) + 0.01
    # the stack's own fleet priced analytically (base + its fleet) is the estimate's own number
    assert rec.stack_fleet_usd == pytest.approx(float(own.total()), abs=0.05)
    assert [o.monthly_usd for o in rec.options] == sorted(o.monthly_usd for o in rec.options)


@pytest.mark.parametrize("stack", SHIPPED)
def test_write_then_estimate_reproduces_the_recommended_cost(stack, project):
    path = project / "stacks" / f"Pulumi.{stack}.yaml"
    gateway = load_stack_file(path).gateway is not None
    result = invoke("recommend", stack, "--write", "--format", "json", *DATE)
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)["options"][0]
    recommended = first["monthlyUsd"]
    estimated = json.loads(invoke("estimate", stack, "--format", "json", *DATE).stdout)["stacks"][0]
    if gateway:  # the split as written (its fleet cap: maxReplicas per region, maxNodes holding it), API spend included
        expected = estimated["hybrid"]["monthlyUsd"]["expected"]
        caps = {region: pools[0]["maxReplicas"] for region, pools in first["fleet"].items()}
        assert estimated["hybrid"]["configuredFleet"]["maxReplicasByRegion"] == caps
        assert estimated["hybrid"]["apiShare"] == pytest.approx(first["apiShare"], abs=1e-4)
    else:
        expected = estimated["selfHosted"]["monthlyUsd"]["expected"]
    assert abs(expected - recommended) <= 0.005 * recommended, (expected, recommended)
    # a second run finds the written fleet already cheapest: it writes nothing
    again = invoke("recommend", stack, "--write", "--format", "json", *DATE)
    assert again.exit_code == 0 and "nothing was written" in again.stderr


@pytest.mark.parametrize("stack, floor", [("prod-us", "on-demand"), ("hybrid", "reserved-1y")])
def test_write_a_mixed_fleet_then_estimate_reproduces_the_recommended_cost(stack, floor, project):
    """The spot share end to end: a floor pool (minNodes = maxNodes) and a spot pool of the same type per region,
    written with the `model pin` writer (comments kept, the second pool added after the first), and `estimate` of
    the written stack prices it at the recommended cost (a gateway stack: its split, caps in the pools)."""
    path = project / "stacks" / f"Pulumi.{stack}.yaml"
    before = path.read_text()
    result = invoke("recommend", stack, "--capacity-types", f"{floor}+spot", "--write", "--format", "json", *DATE)
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)["options"][0]
    for region, pools in first["fleet"].items():
        assert [p["capacityType"] for p in pools] == [floor, "spot"], (region, pools)
        assert pools[0]["minNodes"] == pools[0]["maxNodes"] >= 2 and pools[1]["minNodes"] == 0
        assert pools[0]["instanceType"] == pools[1]["instanceType"]
    said = " ".join(result.stderr.split())
    assert "gpuPools[1]" in said and "added" in said and "spot" in said
    after = path.read_text()
    assert after.splitlines()[:2] == before.splitlines()[:2]  # the header comment
    written = load_stack_file(path)
    for region in written.regions:
        pools = first["fleet"][region.region]
        assert [(p.capacity_type, p.min_nodes, p.max_nodes, p.instance_type) for p in region.gpu_pools] == [
            (p["capacityType"], p["minNodes"], p["maxNodes"], p["instanceType"]) for p in pools]
        assert len({p.name for p in region.gpu_pools}) == 2
    estimated = json.loads(invoke("estimate", stack, "--format", "json", *DATE).stdout)["stacks"][0]
    expected = (estimated["hybrid"]["monthlyUsd"]["expected"] if written.gateway is not None
                else estimated["selfHosted"]["monthlyUsd"]["expected"])
    assert abs(expected - first["monthlyUsd"]) <= 0.005 * first["monthlyUsd"], (expected, first["monthlyUsd"])
    again = invoke("recommend", stack, "--capacity-types", f"{floor}+spot", "--write", "--format", "json", *DATE)
    assert again.exit_code == 0 and "nothing was written" in again.stderr, again.output
    assert path.read_text() == after


def test_write_on_a_reserved_stack_says_what_the_unused_reservation_costs(project):
    """prod-us on reserved-1y, asked for spot only: the recommended fleet leaves the reservation unused. Its monthly
    cost counts it, the option says so, and `estimate` of the written stack is that cost less the carried
    reservation (the file no longer names it)."""
    path = project / "stacks" / "Pulumi.prod-us.yaml"
    path.write_text(path.read_text().replace("capacityType: on-demand", "capacityType: reserved-1y"))
    own = invoke("recommend", "prod-us", "--format", "json", "--top", "1", *DATE)
    assert own.exit_code == 0, own.output
    kept = json.loads(own.stdout)["options"][0]
    assert {p["capacityType"] for pools in kept["fleet"].values() for p in pools} == {"reserved-1y"}
    assert kept["reservationCarriedMonthlyUsd"] == 0 and kept["notes"] == []
    result = invoke("recommend", "prod-us", "--capacity-types", "spot", "--write", "--format", "json", *DATE)
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)["options"][0]
    assert first["monthlyUsd"] > kept["monthlyUsd"]  # dropping a reservation mid-term saves nothing here
    rate = float(default_catalog().instance("us-east-1", "g6e.xlarge", "reserved-1y").usd_per_hour)
    carried = first["reservationCarriedMonthlyUsd"]
    assert carried == pytest.approx(2 * 2 * rate * float(costing.HOURS), abs=0.02)  # 2 nodes in each region
    reservation_notes = [n for n in first["notes"] if "the stack reserves" in n]
    assert len(reservation_notes) == 2 and all("still billed" in n for n in reservation_notes)
    said = " ".join(result.stderr.split())
    assert "reservation the file no longer names" in said
    estimated = json.loads(invoke("estimate", "prod-us", "--format", "json", *DATE).stdout)["stacks"][0]
    expected = estimated["selfHosted"]["monthlyUsd"]["expected"]
    assert abs(expected + carried - first["monthlyUsd"]) <= 0.005 * first["monthlyUsd"]


def test_a_reservation_covers_the_on_demand_nodes_of_its_type_the_written_stack_runs(project):
    """A reservation (Reserved Instance / Instance Savings Plan) is a billing discount AWS applies to matching
    on-demand usage (docs/stack-file.md "Reserved capacity"). prod-us on reserved-1y, asked for an on-demand floor
    with a spot burst on the same g6e.xlarge: the stack's 2 reserved nodes a region cover the 2 on-demand floor nodes.
    Before the fix the option paid the reservation on top of the floor's on-demand hours (2 x $1.17/h + 2 x on-demand
    a region, ~$1,175 a month too much in each); now it pays the reservation instead of them, and `estimate` of the
    written file (which bills the floor on demand) is the recommended cost plus that saving."""
    path = project / "stacks" / "Pulumi.prod-us.yaml"
    path.write_text(path.read_text().replace("capacityType: on-demand", "capacityType: reserved-1y"))
    result = invoke("recommend", "prod-us", "--capacity-types", "on-demand+spot", "--instance-types", "g6e.xlarge",
                    "--write", "--format", "json", "--top", "1", *DATE)
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)["options"][0]
    catalog = default_catalog()
    carried = 0.0
    for region, pools in first["fleet"].items():
        assert [(p["capacityType"], p["minNodes"]) for p in pools] == [("on-demand", 2), ("spot", 0)]
        price = catalog.instance(region, "g6e.xlarge", "reserved-1y")
        carried += 2 * (float(price.usd_per_hour) - float(price.on_demand_usd_per_hour)) * float(costing.HOURS)
    assert carried < 0
    assert first["reservationCarriedMonthlyUsd"] == pytest.approx(carried, abs=0.02)
    assert all("cover" in n for n in first["notes"] if "the stack reserves" in n)
    said = " ".join(result.stderr.split())
    assert "takes off its on-demand nodes" in said
    estimated = json.loads(invoke("estimate", "prod-us", "--format", "json", *DATE).stdout)["stacks"][0]
    expected = estimated["selfHosted"]["monthlyUsd"]["expected"]
    assert abs(expected + carried - first["monthlyUsd"]) <= 0.005 * first["monthlyUsd"]


def test_an_option_that_buys_a_new_reservation_says_what_it_commits_to():
    """A reserved-1y pool (or floor pool) reserves its minNodes for a year: recommending one on a stack that holds
    no such reservation is a purchase of 12 months, not a monthly cost that can be dropped. Before the fix the
    option said nothing of it; now it names the nodes it adds and the year's commitment. A stack that already
    reserves those nodes gets no such note."""
    catalog = default_catalog()
    space = Space(instance_types=("g6e.xlarge",), tensor_parallel=(1,), precisions=("fp8",),
                  capacity_types=("reserved-1y+spot",))
    (option,) = search(spec_of(requests=40_000_000), catalog, space=space, top=1).options
    (c,) = option.regions
    rate = float(catalog.instance("us-east-1", "g6e.xlarge", "reserved-1y").usd_per_hour)
    (note,) = [n for n in option.notes if "1-year commitment" in n]
    assert f"{c.min_nodes} x g6e.xlarge" in note and f"${c.min_nodes * rate * 8760:,.0f}" in note, note
    held = search(reserved_spec(40_000_000), catalog, space=space, top=1).options[0]
    assert held.regions[0].min_nodes == 1 and not [n for n in held.notes if "1-year commitment" in n]
    more = search(reserved_spec(400_000_000), catalog, space=Space(
        instance_types=("g6e.xlarge",), tensor_parallel=(1,), precisions=("fp8",), capacity_types=("reserved-1y",)),
        top=1).options[0]
    (c,) = more.regions
    assert c.min_nodes > 1
    (note,) = [n for n in more.notes if "1-year commitment" in n]
    assert f"{c.min_nodes - 1} x g6e.xlarge" in note and "more than the stack reserves" in note, note


def test_a_gateway_stack_on_reserved_1y_carries_its_reservation_in_every_split(project):
    """The hybrid search prices each fleet as its cheapest split; a fleet that leaves the stack's reserved nodes
    unused pays them on top there too, region by region, and the ranking sees it."""
    path = project / "stacks" / "Pulumi.hybrid.yaml"
    path.write_text(path.read_text().replace("capacityType: on-demand", "capacityType: reserved-1y"))
    spec = load_stack_file(path)
    catalog = default_catalog()
    result = invoke("recommend", "hybrid", "--format", "json", "--top", "4", "--capacity-types", "spot,reserved-1y",
                    "--instance-types", "g6e.xlarge", *DATE)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["hybrid"] and len(doc["options"]) == 4
    for option in doc["options"]:
        carried = 0.0
        for region in spec.regions:
            (pool,) = option["fleet"][region.region]
            if pool["capacityType"] != "reserved-1y":
                rate = float(catalog.instance(region.region, "g6e.xlarge", "reserved-1y").usd_per_hour)
                carried += 2 * rate * float(costing.HOURS)
        assert option["reservationCarriedMonthlyUsd"] == pytest.approx(carried, abs=0.02), option
        assert len([n for n in option["notes"] if "the stack reserves" in n]) == sum(
            pools[0]["capacityType"] != "reserved-1y" for pools in option["fleet"].values())
    costs = [o["monthlyUsd"] for o in doc["options"]]
    assert costs == sorted(costs)


@pytest.mark.parametrize("stack, capacity_types, reserved", [
    ("dev", ("on-demand", "reserved-1y", "on-demand+spot", "reserved-1y+spot"), False),
    ("prod-us", ("spot", "on-demand", "on-demand+spot", "reserved-1y+spot"), True),
])
def test_every_listed_option_is_what_estimate_of_its_written_stack_says(stack, capacity_types, reserved, project):
    """A cross-check that shares no pricing code with the search: the exhaustive tests price candidates with
    `costing.exact_fleet_cost` on records shaped like the program's (`costing.fleet_records`), and the options
    after the winner are priced that way too. Here each listed option is written to the stack file and priced by
    `estimate` itself (the program run), which must give the option's monthly cost less its carried reservation
    within 0.5%: pure, mixed and reserved options, and (prod-us on reserved-1y) the reservation's credit."""
    from cli.recommend import fleet

    path = project / "stacks" / f"Pulumi.{stack}.yaml"
    if reserved:
        path.write_text(path.read_text().replace("capacityType: on-demand", "capacityType: reserved-1y"))
    text = read_stack_text(path)
    spec = load_stack_file(path)
    rec = recommend(stack, path, text, spec, default_catalog(), AS_OF, root=project, top=4,
                    space=Space(capacity_types=capacity_types, tensor_parallel=(1,)))
    assert len(rec.options) == 4
    assert {c.label for o in rec.options for c in o.regions} & {"on-demand+spot", "reserved-1y+spot"}
    for option in rec.options:
        path.write_text(fleet.applied_text(text, spec, option))
        result = invoke("estimate", stack, "--format", "json", *DATE)
        assert result.exit_code == 0, result.output
        expected = json.loads(result.stdout)["stacks"][0]["selfHosted"]["monthlyUsd"]["expected"]
        want = option.monthly_usd - option.carried_usd
        assert abs(expected - want) <= 0.005 * want, (option, expected, want)


def test_recommend_prod_us_json_is_sorted_and_its_first_is_feasible_and_no_dearer_than_prod_us(project):
    result = invoke("recommend", "prod-us", "--format", "json", *DATE)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["stack"] == "prod-us"
    costs = [o["monthlyUsd"] for o in doc["options"]]
    assert costs == sorted(costs) and len(costs) == 5
    first = doc["options"][0]
    assert first["feasible"] and first["rank"] == 1 and first["apiShare"] == 0
    assert first["monthlyUsd"] <= doc["stackFleetMonthlyUsd"]
    assert first["perMillionTokensUsd"] == pytest.approx(first["monthlyUsd"] / (20e6 * 850) * 1e6, abs=1e-4)
    for pools in first["fleet"].values():
        for pool in pools:
            assert {"instanceType", "tensorParallel", "quantization", "capacityType", "minNodes", "maxNodes"} <= set(pool)
            assert pool["tpotMsAtPlannedBatch"] <= 50 and pool["headroomAtPeak"] >= 0
    assert set(first["fleet"]) == {"us-east-1", "us-west-2"}
    assert all({"instanceType", "region", "reason"} <= set(r) for r in doc["rejected"])
    kinds = {r["kind"] for r in doc["rejected"]}
    assert {"does-not-fit", "not-offered", "over-budget"} <= kinds


def test_an_option_that_drops_the_stacks_non_spot_floor_says_spot_is_priced_as_available(project):
    """prod-us runs on-demand ("no spot interruptions"); the estimate prices spot at the Spot Advisor discount and
    as available as on-demand (a reclaim is not costed: the same `expectedUnavailability`, the same capacity).
    Before the fix the all-spot winner came with no word of it (`notes` empty); now an option that leaves a region
    of a non-spot stack without a floor that cannot be reclaimed says so and names the options that keep one,
    while a floor pool with a spot burst, or a stack that already runs on spot (dev), gets no such note."""
    doc = json.loads(invoke("recommend", "prod-us", "--format", "json", "--top", "2", "--capacity-types",
                            "spot,on-demand+spot", *DATE).stdout)
    for option in doc["options"]:
        spot_regions = [r for r, pools in option["fleet"].items() if [p["capacityType"] for p in pools] == ["spot"]]
        floorless = [n for n in option["notes"] if "every node is spot" in n]
        if spot_regions:
            (note,) = floorless
            assert all(r in note for r in spot_regions) and "--capacity-types" in note and "reclaim" in note, note
        else:
            assert not floorless, option
    assert any("every node is spot" in n for n in doc["options"][0]["notes"])  # the all-spot fleet wins
    table = invoke("recommend", "prod-us", "--top", "1", *DATE).stdout
    assert "rank 1: us-east-1, us-west-2: every node is spot" in table
    # the same note on several options is printed once, with their ranks (not once per rank)
    three = invoke("recommend", "prod-us", "--top", "3", *DATE).stdout
    assert three.count("every node is spot") == 1 and "ranks 1, 2, 3: us-east-1, us-west-2: every node" in three
    md = invoke("recommend", "prod-us", "--top", "3", "--format", "markdown", *DATE).stdout
    assert md.count("every node is spot") == 1 and "- ranks 1, 2, 3: " in md
    mixed = json.loads(invoke("recommend", "prod-us", "--format", "json", "--top", "1", "--capacity-types",
                              "on-demand+spot", *DATE).stdout)
    assert not any("every node is spot" in n for n in mixed["options"][0]["notes"])
    dev = json.loads(invoke("recommend", "dev", "--format", "json", "--top", "1", *DATE).stdout)
    assert dev["options"][0]["fleet"]["us-east-1"][0]["capacityType"] == "spot"
    assert not any("every node is spot" in n for n in dev["options"][0]["notes"])


def test_a_stack_whose_own_fleet_cannot_carry_its_traffic_says_so_next_to_its_cost(project):
    """prod-us at 1B requests a month: its own fleet (maxReplicas 6 a region) serves a fraction of the peak, so
    `stackFleetMonthlyUsd` is the cost of a capped fleet that queues most of the traffic, below the recommended
    fleet that carries it. Before the fix the summary set them side by side with no word of it (the recommendation
    looked dearer than the stack); now a note names the regions and the share of tokens the stack's fleet leaves
    queued."""
    path = project / "stacks" / "Pulumi.prod-us.yaml"
    path.write_text(path.read_text().replace("requestsPerMonth: 20000000", "requestsPerMonth: 1000000000")
                    .replace("monthlyUsd: 40000", "monthlyUsd: 4000000"))
    result = invoke("recommend", "prod-us", "--format", "json", "--top", "1", "--instance-types", "g6e.xlarge", *DATE)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["options"][0]["monthlyUsd"] > doc["stackFleetMonthlyUsd"]
    (note,) = [n for n in doc["notes"] if "cannot carry" in n]
    assert "us-east-1" in note and "us-west-2" in note and "queue" in note, note
    table = invoke("recommend", "prod-us", "--top", "1", "--instance-types", "g6e.xlarge", *DATE).stdout
    assert "cannot carry" in table
    plain = json.loads(invoke("recommend", "dev", "--format", "json", "--top", "1", *DATE).stdout)
    assert not any("cannot carry" in n for n in plain["notes"])


def test_write_keeps_comments_and_says_what_a_changed_key_was(project):
    path = project / "stacks" / "Pulumi.prod-us.yaml"
    before = path.read_text()
    result = invoke("recommend", "prod-us", "--write", "--capacity-types", "on-demand", "--instance-types", "g6.xlarge",
                    *DATE)
    assert result.exit_code == 0, result.output
    after = path.read_text()
    assert after.splitlines()[:2] == before.splitlines()[:2]  # the header comment
    assert "instanceType: g6.xlarge            # was g6e.xlarge; 1x NVIDIA L40S 48 GB" in after
    assert "minNodes: 2                        # one per AZ, so a zone loss keeps serving" in after
    assert "name: l4" in after
    spec = load_stack_file(path)
    assert {p.instance_type for r in spec.regions for p in r.gpu_pools} == {"g6.xlarge"}


# ---------------------------------------------------------------- targets, budget, bad input


def test_targets_reject_with_reasons():
    spec = spec_of()
    tight = spec.model_copy(update={"traffic": spec.traffic.model_copy(update={"tpot_target_ms": 5,
                                                                             "ttft_target_ms": 1})})
    result = search(tight, default_catalog(), space=Space(instance_types=("g6.xlarge", "p5.48xlarge")))
    kinds = {(r.instance_type, r.kind) for r in result.rejected}
    assert ("g6.xlarge", "misses-tpot") in kinds
    loose_tpot = spec.model_copy(update={"traffic": spec.traffic.model_copy(update={"ttft_target_ms": 1})})
    result = search(loose_tpot, default_catalog(), space=Space(instance_types=("g6e.xlarge",)))
    assert not result.options
    (why,) = [r for r in result.rejected if r.instance_type == "g6e.xlarge"]
    assert why.kind == "misses-ttft" and "TTFT" in why.reason


def test_a_model_that_fits_nowhere_is_rejected_as_not_fitting():
    spec = spec_of()
    big = spec.model_copy(update={"model": spec.model.model_copy(update={"source": "meta-llama/Llama-3.3-70B-Instruct"})})
    result = search(big, default_catalog(), space=Space(instance_types=("g6.xlarge",)))
    assert not result.options
    assert [r.kind for r in result.rejected] == ["does-not-fit"]


def test_a_fleet_above_the_charts_replica_limit_is_rejected_not_recommended():
    """The vLLM chart's values schema caps autoscaling.maxReplicas (CHART_MAX_REPLICAS_MAX, 100; `validate` refuses
    more and helm fails at `pulumi up`). Before the fix, at 3B requests a month the search listed L4 fleets with
    maxReplicas 971 as feasible (g6.xlarge alone), and `--write` then failed on them; now a family that needs more
    replicas than the chart deploys is rejected, saying so, and a larger GPU wins."""
    from infra.spec.models import CHART_MAX_REPLICAS_MAX

    spec = spec_of(requests=3_000_000_000)
    spec = spec.model_copy(update={"budget": None})
    only_l4 = search(spec, default_catalog(), space=Space(instance_types=("g6.xlarge",), tensor_parallel=(1,),
                                                          precisions=("fp8",)), top=3)
    assert not only_l4.options, only_l4.options[0].regions[0].max_replicas
    (why,) = [r for r in only_l4.rejected if r.instance_type == "g6.xlarge"]
    assert why.kind == "over-replica-limit" and f"{CHART_MAX_REPLICAS_MAX}" in why.reason, why
    wider = search(spec, default_catalog(), space=Space(instance_types=("g6.xlarge", "g6e.xlarge", "p5.48xlarge"),
                                                        tensor_parallel=(1,), precisions=("fp8",)), top=5)
    assert wider.options
    for option in wider.options:
        assert all(c.max_replicas <= CHART_MAX_REPLICAS_MAX for c in option.regions), option


def test_a_family_with_no_price_for_the_capacity_types_asked_is_rejected_saying_so():
    """p6-b200 has no Spot Advisor data (the catalog prices no spot for its family). Before the fix `--capacity-types
    spot` (or on-demand+spot) dropped it silently: no option and no rejection, so the output said "see the rejected
    instance types" above an empty list; now it is rejected as not offered on those terms, naming them."""
    spec = spec_of(requests=400_000_000).model_copy(update={"budget": None})
    catalog = default_catalog()
    with pytest.raises(LookupError):
        catalog.instance("us-east-1", "p6-b200.48xlarge", "spot")
    for kinds in (("spot",), ("spot", "on-demand+spot")):
        result = search(spec, catalog, space=Space(instance_types=("p6-b200.48xlarge",), capacity_types=kinds), top=2)
        assert not result.options
        (why,) = result.rejected
        assert why.kind == "not-offered" and "spot" in why.reason and why.region == "us-east-1", why
    # on-demand is priced: it is searched, and nothing is rejected
    result = search(spec, catalog, space=Space(instance_types=("p6-b200.48xlarge",),
                                               capacity_types=("spot", "on-demand")), top=2)
    assert result.options and not result.rejected


def test_over_budget_options_are_not_feasible_and_write_refuses(project):
    path = project / "stacks" / "Pulumi.dev.yaml"
    text = path.read_text().replace("monthlyUsd: 3500", "monthlyUsd: 100")
    path.write_text(text)
    result = invoke("recommend", "dev", "--format", "json", *DATE)
    doc = json.loads(result.stdout)
    assert not any(o["feasible"] for o in doc["options"])
    assert all(r["kind"] == "over-budget" for r in doc["rejected"] if r["instanceType"] == "g6.xlarge")
    written = invoke("recommend", "dev", "--write", *DATE)
    assert written.exit_code == 2 and "no option is feasible" in written.stderr
    assert path.read_text() == text


@pytest.mark.parametrize("args, named", [
    (["--top", "0"], "--top"),
    (["--instance-types", "g6.xlarg"], "did you mean g6.xlarge"),
    (["--tensor-parallel", "3"], "--tensor-parallel"),
    (["--precision", "fp4"], "--precision"),
    (["--capacity-types", "spto"], "did you mean spot"),
    (["--capacity-types", "spot+on-demand"], "did you mean on-demand+spot"),  # the floor type first
    (["--capacity-types", "on-demand,spot+reserved-1y"], "did you mean reserved-1y+spot"),
    (["--instance-types", ","], "--instance-types"),
    (["--as-of", "yesterday"], "--as-of"),
])
def test_bad_input_exits_2_naming_the_argument(args, named, project):
    result = invoke("recommend", "dev", *args)
    assert result.exit_code == 2, result.output
    assert named in result.stderr and "Traceback" not in result.output


def test_an_unknown_stack_is_bad_input(project):
    result = invoke("recommend", "prod-uss")
    assert result.exit_code == 2 and "did you mean prod-us" in result.stderr


def test_markdown_and_table_formats(project):
    table = invoke("recommend", "dev", *DATE)
    assert table.exit_code == 0 and "Recommended:" in table.stdout and "rejected:" in table.stdout
    md = invoke("recommend", "dev", "--format", "markdown", *DATE)
    assert md.exit_code == 0 and md.stdout.startswith("### recommend `dev`") and "| rank |" in md.stdout


def test_the_precisions_searched():
    assert set(PRECISIONS) == {"bf16", "fp8"}
    spec = spec_of()
    result = search(spec, default_catalog(), space=Space(instance_types=("g5.xlarge",), precisions=("fp8",)))
    assert not result.options  # A10G has no FP8 tensor cores: FP8 is not searched there
    assert "FP8" in result.rejected[0].reason


@pytest.mark.parametrize("stack", SHIPPED)
def test_the_spec_an_option_is_priced_on_is_the_spec_of_the_file_write_would_write(stack):
    """Options after the winner are priced on `fleet.applied_spec` (no YAML round trip); the file `--write` writes
    (`fleet.applied_text`) must read back as that very spec."""
    from cli.recommend import fleet, option_spec

    path = ROOT / "stacks" / f"Pulumi.{stack}.yaml"
    spec = load_stack_file(path)
    for option in search(spec, default_catalog(), top=5).options:
        _, written = option_spec(read_stack_text(path), str(path), spec, option)
        assert fleet.applied_spec(spec, option) == written


def test_ttft_is_the_prefill_chunks_a_prompt_needs_times_the_step():
    spec = spec_of()
    engine = capacity.engine_for(spec, "g6e.xlarge")  # L40S, 48 GB: vLLM's 2,048-token step budget
    assert capacity.max_num_batched_tokens(engine.instance) == capacity.MAX_NUM_BATCHED_TOKENS
    assert capacity.max_num_batched_tokens(hardware.instance_type("p5.4xlarge")) == capacity.MAX_NUM_BATCHED_TOKENS_LARGE_GPU
    # a 600-token prompt next to 48 running sequences: one chunk, a step that computes all 600 of its tokens
    assert capacity.ttft_seconds(engine, 48) == pytest.approx(engine.chunk_step_seconds(48, 600, 0))
    # a 5,000-token prompt next to 48 sequences: chunks of 2000, 2000, 1000 (the budget less the decode tokens)
    long = spec.model_copy(update={"traffic": spec.traffic.model_copy(update={"input_tokens_per_request": 5000})})
    engine = capacity.engine_for(long, "g6e.xlarge")
    assert capacity.ttft_seconds(engine, 48) == pytest.approx(
        engine.chunk_step_seconds(48, 2000, 0) + engine.chunk_step_seconds(48, 2000, 2000)
        + engine.chunk_step_seconds(48, 1000, 4000))
    # the planned batch serves the planned rate, and one sequence fewer would not
    th = capacity.replica_throughput(spec, "g6e.xlarge")
    engine = capacity.engine_for(spec, "g6e.xlarge")
    batch = capacity.planned_batch(engine, th.planning_tokens_per_second, th.max_batch_by_memory)
    assert engine.tokens_per_second(batch) >= th.planning_tokens_per_second > engine.tokens_per_second(batch - 1)


def test_the_hybrid_hook_sizes_the_fleet_for_the_share_the_api_does_not_take():
    """The hook issue 14's hybrid split plugs into: each API share is searched with the fleet sized for the rest and
    the API's cost of the share added; the cheaper split wins."""
    from cli.recommend.search import Overflow

    spec = spec_of(requests=400_000_000)
    space = Space(instance_types=("g6e.xlarge",), tensor_parallel=(1,), precisions=("bf16",), capacity_types=("on-demand",))
    free_api = search(spec, default_catalog(), space=space, overflow=Overflow((0.0, 0.5), lambda share: 0.0)).options
    assert free_api[0].api_share == 0.5
    assert free_api[0].regions[0].expected_nodes < free_api[1].regions[0].expected_nodes
    dear_api = search(spec, default_catalog(), space=space, overflow=Overflow((0.0, 0.5), lambda share: 1e9)).options
    assert dear_api[0].api_share == 0.0 and dear_api[1].overflow_usd == 1e9


def _prod_us_variant(project, **traffic):
    """prod-us with a second pool in us-east-1, a load test on us-west-2's pool and scale-to-zero."""
    import yaml

    path = project / "stacks" / "Pulumi.prod-us.yaml"
    doc = yaml.safe_load(path.read_text())
    config = doc["config"]
    config["tradeoff-infra:regions"][0]["gpuPools"].append(
        {"name": "l4", "instanceType": "g6.xlarge", "minNodes": 0, "maxNodes": 4, "capacityType": "spot"})
    config["tradeoff-infra:regions"][1]["gpuPools"][0].update(
        {"measuredOutputTokensPerSecond": 3000, "measuredSource": "load test 2026-11-20"})
    config["tradeoff-infra:autoscaling"]["scaleToZero"] = True
    config["tradeoff-infra:traffic"].update(traffic)
    variant = project / "stacks" / "Pulumi.variant.yaml"
    variant.write_text(yaml.safe_dump(doc))
    return variant


def test_a_load_test_holds_only_for_its_own_pool_type_tensor_parallel_and_precision(project):
    spec = load_stack_file(_prod_us_variant(project))
    result = search(spec, default_catalog(), top=50)
    measured = {(o.precision, o.tensor_parallel, c.instance_type) for o in result.options for c in o.regions
                if c.region == "us-west-2" and c.measured}
    assert measured <= {("bf16", 1, "g6e.xlarge")}
    for option in result.options:
        for choice in option.regions:
            if choice.region == "us-west-2" and (option.precision, choice.instance_type) == ("bf16", "g6e.xlarge"):
                assert choice.measured and choice.throughput.measured


def test_write_a_stack_with_two_pools_a_load_test_and_scale_to_zero_then_estimate(project):
    _prod_us_variant(project)
    result = invoke("recommend", "variant", "--write", "--format", "json", *DATE)
    assert result.exit_code == 0, result.output
    recommended = json.loads(result.stdout)["options"][0]
    written = load_stack_file(project / "stacks" / "Pulumi.variant.yaml")
    assert all(len(r.gpu_pools) == 1 for r in written.regions)
    # what --write says it changed names the pool it removed (rev15: it was removed without a word)
    said = " ".join(result.stderr.split())
    assert "regions[0] us-east-1: gpuPools[1] l4 removed" in said, said
    west = written.regions[1].gpu_pools[0]
    if (recommended["precision"], west.instance_type) != ("bf16", "g6e.xlarge"):
        assert west.measured_output_tokens_per_second is None
    estimated = json.loads(invoke("estimate", "variant", "--format", "json", *DATE).stdout)
    expected = estimated["stacks"][0]["selfHosted"]["monthlyUsd"]["expected"]
    assert abs(expected - recommended["monthlyUsd"]) <= 0.005 * recommended["monthlyUsd"]


def test_write_a_mixed_fleet_reuses_the_stacks_second_pool_and_its_load_test(project):
    """A stack that already has a second pool (another type) gets the spot pool written into it, its comment kept
    (the name's says what it was); us-west-2's load test holds for the L40S at BF16 TP1, so the spot pool of that
    type gets the same figures (the planner would otherwise size the two pools differently); `estimate` of the
    written stack reproduces the recommendation."""
    variant = _prod_us_variant(project)
    variant.write_text(variant.read_text().replace("name: l4\n", "name: l4  # the burst pool\n", 1))
    result = invoke("recommend", "variant", "--write", "--format", "json", "--capacity-types", "on-demand+spot",
                    "--instance-types", "g6e.xlarge", "--precision", "bf16", "--tensor-parallel", "1", *DATE)
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)["options"][0]
    text = variant.read_text()
    assert re.search(r"name: l40s-spot +# was l4; the burst pool", text), text
    assert "measuredOutputTokensPerSecond: 3000\n" in text and "3000.0" not in text
    written = load_stack_file(variant)
    east, west = written.regions
    assert [(p.name, p.instance_type, p.capacity_type, p.min_nodes) for p in east.gpu_pools] == [
        ("l40s", "g6e.xlarge", "on-demand", east.gpu_pools[0].max_nodes), ("l40s-spot", "g6e.xlarge", "spot", 0)]
    assert [p.measured_output_tokens_per_second for p in west.gpu_pools] == [3000, 3000]
    assert all(p.measured_output_tokens_per_second is None for p in east.gpu_pools)
    estimated = json.loads(invoke("estimate", "variant", "--format", "json", *DATE).stdout)
    expected = estimated["stacks"][0]["selfHosted"]["monthlyUsd"]["expected"]
    assert abs(expected - first["monthlyUsd"]) <= 0.005 * first["monthlyUsd"], (expected, first["monthlyUsd"])


def test_zero_traffic_prints_every_format(project):
    _prod_us_variant(project, requestsPerMonth=0)
    for fmt in ("table", "markdown", "json"):
        result = invoke("recommend", "variant", "--format", fmt, *DATE)
        assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["options"][0]["perMillionTokensUsd"] is None


def test_a_stack_with_a_gateway_is_searched_as_its_hybrid_split(project):
    result = invoke("recommend", "hybrid", "--format", "json", "--top", "3", *DATE)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (note,) = doc["notes"]
    assert doc["hybrid"] is True and "hybrid split searched" in note
    assert all(0 < o["apiShare"] < 1 for o in doc["options"])
    for o in doc["options"]:  # the cap is in the pool, and maxNodes holds it
        for pools in o["fleet"].values():
            assert pools[0]["maxReplicas"] < sum(p["maxNodes"] for p in pools) * 8
    plain = json.loads(invoke("recommend", "dev", "--format", "json", "--top", "1", *DATE).stdout)
    assert plain["notes"] == [] and plain["hybrid"] is False and plain["options"][0]["apiShare"] == 0


def test_hybrid_option_on_a_stack_without_a_gateway(project):
    """--hybrid assumes one general route overflowing to the cheapest offer: a cap with API overflow; refused
    (exit 2, naming the key) when the data may not leave the network, and with --write (no gateway to write)."""
    result = invoke("recommend", "prod-us", "--hybrid", "--format", "json", "--top", "2", *DATE)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["hybrid"] is True and any("--hybrid" in n for n in doc["notes"])
    assert all(o["apiShare"] >= 0 for o in doc["options"])
    costs = [o["monthlyUsd"] for o in doc["options"]]
    assert costs == sorted(costs)
    plain = json.loads(invoke("recommend", "prod-us", "--format", "json", "--top", "1", *DATE).stdout)
    # a cap at the peak (no overflow) is one of the splits searched: the hybrid is never dearer than the plain fleet
    # by more than the assumed gateway's own pods and NAT
    assert costs[0] <= plain["options"][0]["monthlyUsd"] * 1.02
    before = (project / "stacks" / "Pulumi.prod-us.yaml").read_text()
    refused = invoke("recommend", "prod-us", "--hybrid", "--write", *DATE)
    assert refused.exit_code == 2 and "--hybrid" in refused.stderr
    assert (project / "stacks" / "Pulumi.prod-us.yaml").read_text() == before
    import yaml

    data = yaml.safe_load(before)
    data["config"]["tradeoff-infra:constraints"] = {**data["config"].get("tradeoff-infra:constraints", {}),
                                                    "dataMayLeaveNetwork": False}
    (project / "stacks" / "Pulumi.private.yaml").write_text(yaml.safe_dump(data))
    refused = invoke("recommend", "private", "--hybrid", *DATE)
    assert refused.exit_code == 2, refused.output
    assert "constraints.dataMayLeaveNetwork" in refused.stderr and "Traceback" not in refused.output


def test_the_hybrid_top_answer_is_the_cheapest_split_of_an_exhaustive_search(project):
    """Every fleet of a small space (g6e.xlarge on-demand or spot in each of the hybrid stack's 3 regions) at every
    fleet cap of each region's range, priced by the hybrid model: the search's top option costs no more."""
    from cli.estimate.costs import CostModel
    from cli.estimate.hybrid import HybridModel
    from cli.recommend import hybrid, program_records
    from cli.stacks import api_offers

    path = project / "stacks" / "Pulumi.hybrid.yaml"
    spec = load_stack_file(path)
    offers = api_offers(project, spec, AS_OF, False)[0]
    catalog = default_catalog()
    space = Space(instance_types=("g6e.xlarge",), tensor_parallel=(1,), precisions=("fp8",),
                  capacity_types=("on-demand", "spot"))
    rec = recommend("hybrid", path, read_stack_text(path), spec, catalog, AS_OF, root=project, space=space, top=3,
                    offers=offers)
    records = program_records(project, "hybrid", read_stack_text(path))
    best = None
    for types in itertools.product(space.capacity_types, repeat=len(spec.regions)):
        regions = []
        for region, capacity_type in zip(spec.regions, types):
            pool = region.gpu_pools[0].model_copy(update={"capacity_type": capacity_type, "max_nodes": 400})
            regions.append(region.model_copy(update={
                "gpu_pools": [pool], "autoscaling": RegionScaling.model_validate({"minReplicas": 2, "maxReplicas": 300})}))
        candidate = spec.model_copy(update={"regions": regions})
        model = HybridModel(candidate, CostModel(candidate, hybrid._swapped(records, candidate), catalog, AS_OF,
                                                 rec_usage()), offers)
        ranges = model.ranges()
        low = {r: a for r, (a, _) in ranges.items()}
        caps = {}
        for r, (a, b) in ranges.items():  # regions are independent: each region's every cap, the others at their lowest
            caps[r] = min(range(a, b + 1), key=lambda c: model.price_split({**low, r: c}).by_region[r])
        total = float(model.price_split(caps).total)
        best = total if best is None else min(best, total)
    top = rec.options[0]
    assert top.monthly_usd <= best + 0.01 * len(spec.regions), (top, best)
    assert [o.monthly_usd for o in rec.options] == sorted(o.monthly_usd for o in rec.options)


def rec_usage():
    from cli.estimate.usage import UsageAssumptions

    return UsageAssumptions()


# ---------------------------------------------------------------- review (rev15): a pre-quantized checkpoint


def awq_spec():
    """An AWQ checkpoint: model.quantization names how the weights repo itself is stored."""
    spec = spec_of(requests=40_000_000)
    return spec.model_copy(update={"model": spec.model.model_copy(update={"quantization": "awq", "dtype": "float16"})})


def test_a_pre_quantized_checkpoint_is_searched_at_its_own_precision_only():
    """vLLM reads an AWQ/GPTQ repo's method from its config and refuses another --quantization: an option that
    re-precisions it to FP8 (or prices it as BF16) cannot run. Before the fix the search offered bf16 and fp8."""
    result = search(awq_spec(), default_catalog(), space=Space(instance_types=("g6e.xlarge", "g6.xlarge")), top=50)
    assert result.options and {o.precision for o in result.options} == {"awq"}
    assert {p for p, _ in result.groups} == {"awq"}
    # a caller that names other precisions gets none of them
    forced = search(awq_spec(), default_catalog(), space=Space(instance_types=("g6e.xlarge",), precisions=("fp8",)))
    assert not forced.options


def test_precision_fp8_on_a_pre_quantized_stack_exits_2_naming_the_option(project):
    path = project / "stacks" / "Pulumi.dev.yaml"
    text = path.read_text()
    assert "    dtype: bfloat16\n" in text
    path.write_text(text.replace("    dtype: bfloat16\n", "    dtype: float16\n    quantization: awq\n"))
    before = path.read_text()
    result = invoke("recommend", "dev", "--precision", "fp8", "--write", *DATE)
    assert result.exit_code == 2, result.output
    assert "--precision" in result.stderr and "pre-quantized" in result.stderr and "Traceback" not in result.output
    assert path.read_text() == before


# ---------------------------------------------------------------- review (rev15): TTFT computes the prompt


def prompt_compute_floor_ms(engine) -> float:
    """The prompt's GEMMs alone (2 x parameters x prompt tokens at the fitted efficiency): no step can beat it."""
    return (2 * engine.arch.parameters_billion * 1e9 * engine.input_tokens
            / (engine.tp * capacity.COMPUTE_EFFICIENCY * engine.tflops * 1e12) * 1000)


def test_ttft_is_never_below_the_compute_of_the_prompt():
    """Before the fix TTFT was one average step (its prefill amortised over the output): 600 prompt tokens of an
    8B model on an L40S at FP8 came out at ~29 ms, below the ~41 ms their GEMMs alone take."""
    spec = with_model(spec_of(), "fp8", 1)
    for name in ("g6e.xlarge", "g6.xlarge", "p5.4xlarge"):
        engine = capacity.engine_for(spec, name)
        for batch in (1, 48, 67):
            assert capacity.ttft_seconds(engine, batch) * 1000 > prompt_compute_floor_ms(engine), (name, batch)


def test_a_ttft_target_below_the_prompts_compute_is_missed():
    """prod-us's traffic with ttftTargetMs 40 on the L40S at FP8: at its planned batch of 67 a step that carries
    the 600-token prompt next to the 67 decode tokens takes ~44 ms; before the fix it was recommended at a TTFT
    of 29 ms (one average step, the prompt's prefill amortised over 250 output tokens)."""
    spec = with_model(spec_of(requests=20_000_000), "fp8", 1)
    spec = spec.model_copy(update={"traffic": spec.traffic.model_copy(update={"ttft_target_ms": 40})})
    result = search(spec, default_catalog(), space=Space(instance_types=("g6e.xlarge",), precisions=("fp8",),
                                                          tensor_parallel=(1,)))
    assert not result.options
    assert [r.kind for r in result.rejected] == ["misses-ttft"]


def _with_a_reserved_second_pool(project, after_capacity_type: str):
    """stacks/Pulumi.variant.yaml: prod-us with a second pool `l40s-res` of reserved capacity in its first region,
    `after_capacity_type` written after that pool's `capacityType: reserved-1y` (a comment, lines below it)."""
    import yaml

    doc = yaml.safe_load((project / "stacks" / "Pulumi.prod-us.yaml").read_text())
    doc["config"]["tradeoff-infra:regions"][0]["gpuPools"].append(
        {"name": "l40s-res", "instanceType": "g6e.xlarge", "minNodes": 1, "maxNodes": 1, "capacityType": "reserved-1y"})
    variant = project / "stacks" / "Pulumi.variant.yaml"
    text = yaml.safe_dump(doc, sort_keys=False)
    assert text.count("capacityType: reserved-1y\n") == 1
    variant.write_text(text.replace("capacityType: reserved-1y\n", "capacityType: reserved-1y" + after_capacity_type))
    return variant


def test_write_reusing_a_pool_as_the_spot_pool_keeps_its_name_says_so_and_drops_a_stale_comment(project):
    """A stack whose second pool `l40s-res` holds reserved capacity (its `capacityType:` line says so): the mixed fleet
    reuses it as the spot pool. Its name is kept (a renamed pool is a replaced EKS node group on `pulumi up`), and
    `--write` says so naming it; the comment on its `capacityType:` line, about reserved capacity, no longer reads as
    the pool's: like every changed key's, it becomes `# was reserved-1y; <the comment>`, marked as the old value's,
    nothing the user wrote lost (it was `# was reserved-1y` alone, which dropped a reservation's date or id)."""
    variant = _with_a_reserved_second_pool(project, "  # reserved capacity, 1-year term bought 2026-06\n")
    result = invoke("recommend", "variant", "--write", "--format", "json", "--capacity-types", "on-demand+spot",
                    "--instance-types", "g6e.xlarge", "--precision", "bf16", "--tensor-parallel", "1", *DATE)
    assert result.exit_code == 0, result.output
    written = load_stack_file(variant)
    assert [(p.name, p.capacity_type) for p in written.regions[0].gpu_pools] == [("l40s", "on-demand"),
                                                                                 ("l40s-res", "spot")]
    after = variant.read_text()
    assert re.search(r"capacityType: spot +# was reserved-1y; reserved capacity, 1-year term bought 2026-06\n", after), after
    said = " ".join(result.stderr.split())
    assert "gpuPools[1] keeps its name l40s-res though it now holds spot capacity (it was reserved-1y)" in said, said
    assert "replaces its EKS node group" in said


@pytest.mark.parametrize("columns", ["80", "100"])
def test_write_messages_fit_the_width(project, columns):
    """`--write`'s `wrote ...: <every change>` and `next: ...` lines were printed unwrapped (rich's soft wrap), 400+
    columns that the terminal cut through an amount: they wrap with a hanging indent at the one width rule's columns,
    a path or an amount whole."""
    import re

    result = runner.invoke(app, ["recommend", "prod-us", "--write", "--capacity-types", "on-demand", "--instance-types",
                                 "g6.xlarge", *DATE], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    err = result.stderr
    over = [line for line in err.splitlines() if len(line) > int(columns) and len(line.split()) > 1]
    assert over == [], over
    assert err.startswith("wrote") and re.search(r"^next: `tradeoff-infra estimate ", err, re.M)
    assert re.search(r"\(expected \$[\d,]+\.\d\d", err.replace("\n  ", " ")), err


def test_write_keeps_the_comment_lines_below_a_stale_capacity_comment(project):
    """ruamel keeps the full-line comments below a key in that key's end-of-line comment token: rewriting a stale
    `capacityType:` comment to `# was reserved-1y` replaced the whole token, deleting the user's note on the lines
    below (here about the next region), and a word in those lines ("reserved") could make the line's own comment
    stale. Only the end-of-line comment is judged and rewritten; the lines below stay as written."""
    variant = _with_a_reserved_second_pool(project, "  # reserved capacity, 1-year term\n"
                                                    "# us-west-2 keeps its own pools: see OPS-99 before changing them\n"
                                                    "# (a second line of that note)\n")
    result = invoke("recommend", "variant", "--write", "--format", "json", "--capacity-types", "on-demand+spot",
                    "--instance-types", "g6e.xlarge", "--precision", "bf16", "--tensor-parallel", "1", *DATE)
    assert result.exit_code == 0, result.output
    after = variant.read_text()
    assert re.search(r"capacityType: spot +# was reserved-1y; reserved capacity, 1-year term\n", after), after
    assert "# us-west-2 keeps its own pools: see OPS-99 before changing them\n" in after, after
    assert "# (a second line of that note)\n" in after, after


def test_a_changed_key_without_its_own_comment_leaves_the_comment_below_it_alone():
    """A key with no end-of-line comment but a full-line comment below it (ruamel keeps that in the key's token): the
    "was <old>" of a changed value went into that comment, which then read `# was 7; about the next key ...`."""
    import io

    from ruamel.yaml import YAML

    from cli.recommend.fleet import _set

    yaml = YAML()
    pool = yaml.load("maxNodes: 7\n# about the next key: OPS-99\nname: x\n")
    assert _set(pool, "maxNodes", 2)
    out = io.StringIO()
    yaml.dump(pool, out)
    assert out.getvalue() == "maxNodes: 2\n# about the next key: OPS-99\nname: x\n", out.getvalue()
    pool = yaml.load("maxNodes: 7  # the peak\n# about the next key\nname: x\n")
    assert _set(pool, "maxNodes", 2)
    out = io.StringIO()
    yaml.dump(pool, out)
    assert out.getvalue() == "maxNodes: 2  # was 7; the peak\n# about the next key\nname: x\n", out.getvalue()


# ---------------------------------------------------------------- the EC2 vCPU quotas an option needs


def _vcpus_by_quota(quotas: dict) -> dict:
    return {(region, q["quotaName"], q["purchaseOption"]): (q["vcpusAtMinSize"], q["vcpusAtMaxSize"],
                                                           q["vcpusAtFirstUp"], q["vcpusDuringNodeUpdate"])
            for region, needs in quotas.items() for q in needs}


@pytest.mark.parametrize("stack, capacity_types", [("prod-us", "on-demand+spot"), ("dev", None),
                                                   ("hybrid", "reserved-1y+spot")])
def test_an_options_quotas_are_what_estimate_of_its_written_stack_reports(stack, capacity_types, project):
    """Before, `recommend` said nothing of quotas: it could list a fleet needing 1,000+ vCPUs of a quota whose default
    is far below. Each option's `quotas` (cli/quotas.py on the spec `--write` writes, system nodes included) must be
    what `estimate` of the written stack reports (its program's node groups), per region and quota."""
    extra = ["--capacity-types", capacity_types] if capacity_types else []
    result = invoke("recommend", stack, "--write", "--format", "json", *extra, *DATE)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    written = next(o for o in doc["options"] if o["feasible"])
    estimated = json.loads(invoke("estimate", stack, "--format", "json", *DATE).stdout)["stacks"][0]
    assert _vcpus_by_quota(written["quotas"]) == _vcpus_by_quota(estimated["quotas"])
    assert all(o["quotas"] for o in doc["options"]) and doc["stackQuotas"]


def test_a_spot_p_family_option_names_the_p_spot_quota_and_says_it_is_new(project):
    """prod-us runs G on-demand: a p4d spot fleet needs 'All P4, P3 and P2 Spot Instance Requests', a quota the stack
    does not use (the one most likely still at its default); the winner's line under the table says so."""
    args = ["recommend", "prod-us", "--instance-types", "p4d.24xlarge", "--capacity-types", "spot", *DATE]
    doc = json.loads(invoke(*args, "--format", "json").stdout)
    p_spot = "All P4, P3 and P2 Spot Instance Requests"
    for option in doc["options"]:
        for region, needs in option["quotas"].items():
            (need,) = [q for q in needs if q["quotaName"] == p_spot]
            assert need["purchaseOption"] == "spot" and need["instanceTypes"] == ["p4d.24xlarge"]
            pools = option["fleet"][region]
            assert need["vcpusAtMaxSize"] == 96 * sum(p["maxNodes"] for p in pools)
    assert not any(q["quotaName"] == p_spot for needs in doc["stackQuotas"].values() for q in needs)
    text = " ".join(invoke(*args, "--top", "2").stdout.split())
    line = text[text.index("rank 1 needs, at max size:"):]
    assert f"of '{p_spot}' (no code sourced; new)" in line and "most likely still at its default" in line
    md = invoke(*args, "--format", "markdown").stdout
    assert "- rank 1 needs, at max size: us-east-1 " in md and p_spot in md


def test_the_winners_quota_line_names_every_region_and_quota_at_max_size(project):
    doc = json.loads(invoke("recommend", "prod-us", "--format", "json", *DATE).stdout)
    text = " ".join(invoke("recommend", "prod-us", *DATE).stdout.split())
    assert text.count("needs, at max size:") == 1
    line = text[text.index("rank 1 needs, at max size:"):]
    for region, needs in doc["options"][0]["quotas"].items():
        assert f"{region} {needs[0]['vcpusAtMaxSize']:,} vCPUs of '{needs[0]['quotaName']}'" in line
        for q in needs:
            assert f"{q['vcpusAtMaxSize']:,}" in line and q["quotaName"] in line
    # prod-us's own fleet: a winner on the stack's own quotas marks none new
    own = {(r, q["quotaName"]) for r, needs in doc["stackQuotas"].items() for q in needs}
    fresh = [(r, q["quotaName"]) for r, needs in doc["options"][0]["quotas"].items() for q in needs
             if (r, q["quotaName"]) not in own]
    assert ("; new" in line) == bool(fresh), (fresh, line)
