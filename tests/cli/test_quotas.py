"""The EC2 vCPU quotas a stack needs (cli/quotas.py): per region, per quota, at min and max size; in `estimate`'s
JSON contract, `validate`'s lines and the markdown/HTML reports."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import quotas
from cli.estimate.contract import ContractError, parse
from cli.estimate.records import NodeGroup
from cli.main import app
from cli.render.contract import stack_contract
from cli.render.documents import html, markdown
from infra.spec import parse_stack_config
from tests.builders import resources, run_estimate, spec_of
from tests.paths import ROOT

G_OD = ("Running On-Demand G and VT instances", "L-DB2E81BA")
G_SPOT = ("All G and VT Spot Instance Requests", "L-3819A6DF")
STANDARD_OD = ("Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", "L-1216C47A")


def _vcpus(name: str) -> int:
    return {"g6e.xlarge": 4, "g6e.12xlarge": 48, "m6i.large": 2, "p5.48xlarge": 192, "hpc7g.4xlarge": 16}[name]


def test_an_on_demand_pool_and_the_system_nodes_count_against_two_on_demand_quotas():
    found = quotas.needs([quotas.Nodes("us-east-1", "g6e.12xlarge", "on-demand", 2, 23),
                          quotas.Nodes("us-east-1", "m6i.large", "on-demand", 2, 2)], _vcpus)
    [gpu, system] = found["us-east-1"]
    assert (gpu.name, gpu.code, gpu.purchase, gpu.vcpus_min, gpu.vcpus_max) == (*G_OD, "on-demand", 96, 1104)
    assert (system.name, system.code, system.vcpus_min, system.vcpus_max) == (*STANDARD_OD, 4, 4)


def test_a_spot_pool_counts_against_the_spot_requests_quota_not_the_on_demand_one():
    [need] = quotas.needs([quotas.Nodes("us-east-1", "g6e.xlarge", "spot", 0, 3)], _vcpus)["us-east-1"]
    assert (need.name, need.code, need.purchase, need.vcpus_min, need.vcpus_max) == (*G_SPOT, "spot", 0, 12)


def test_a_reserved_pool_counts_against_the_on_demand_quota_it_launches_under():
    [need] = quotas.needs([quotas.Nodes("us-east-1", "g6e.xlarge", "reserved-1y", 1, 4)], _vcpus)["us-east-1"]
    assert (need.name, need.code, need.purchase) == (*G_OD, "on-demand")
    assert need.capacity_types == ("reserved-1y",)
    assert "reserved-1y pools included" in quotas.line(need)


def test_a_mixed_region_sums_on_demand_and_reserved_and_keeps_spot_apart_and_regions_apart():
    found = quotas.needs([
        quotas.Nodes("us-east-1", "g6e.xlarge", "on-demand", 1, 4),
        quotas.Nodes("us-east-1", "g6e.12xlarge", "reserved-1y", 1, 2),
        quotas.Nodes("us-east-1", "g6e.xlarge", "spot", 0, 10),
        quotas.Nodes("us-east-1", "m6i.large", "on-demand", 2, 2),
        quotas.Nodes("eu-central-1", "g6e.xlarge", "on-demand", 1, 1),
    ], _vcpus)
    assert list(found) == ["us-east-1", "eu-central-1"]
    by_name = {n.name: n for n in found["us-east-1"]}
    assert set(by_name) == {G_OD[0], G_SPOT[0], STANDARD_OD[0]}
    od = by_name[G_OD[0]]
    assert (od.vcpus_min, od.vcpus_max) == (4 + 48, 16 + 96)
    assert od.instance_types == ("g6e.xlarge", "g6e.12xlarge") and od.capacity_types == ("on-demand", "reserved-1y")
    assert (by_name[G_SPOT[0]].vcpus_min, by_name[G_SPOT[0]].vcpus_max) == (0, 40)
    assert [n.vcpus_max for n in found["us-east-1"]] == sorted((n.vcpus_max for n in found["us-east-1"]), reverse=True)
    assert [(n.name, n.vcpus_max) for n in found["eu-central-1"]] == [(G_OD[0], 4)]


@pytest.mark.parametrize(("instance", "capacity", "name", "code"), [
    ("p5.48xlarge", "on-demand", "Running On-Demand P instances", "L-417A185B"),
    ("p5.48xlarge", "spot", "All P5 Spot Instance Requests", None),  # EC2 splits P spot by generation; no code sourced
    ("p4d.24xlarge", "spot", "All P4, P3 and P2 Spot Instance Requests", None),
    ("gr6f.4xlarge", "on-demand", *G_OD),
    ("m7i.xlarge", "spot", "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", "L-34B43A08"),
])
def test_each_family_and_purchase_option_has_its_quota(instance, capacity, name, code):
    assert quotas.quota_for(instance, capacity)[:2] == (name, code)


@pytest.mark.parametrize(("instance", "capacity"), [("p6-b200.48xlarge", "spot"), ("hpc7g.4xlarge", "on-demand")])
def test_a_family_without_a_sourced_quota_gets_no_invented_code(instance, capacity):
    name, code, _ = quotas.quota_for(instance, capacity)
    assert code is None and instance.split(".")[0] in name and "not in the sourced list" in name


@pytest.mark.parametrize("stack", ["dev", "prod-us", "prod-global", "hybrid"])
def test_validate_reads_the_node_groups_off_the_spec_as_the_program_creates_them(stack, stack_configs, inventory_of):
    """`validate` runs no program: its node groups (from_spec) must be the inventory's (from_records)."""
    from cli.estimate import mapping

    spec = parse_stack_config(stack_configs[stack])
    records = [r for m in mapping.classify(inventory_of(stack).resources) for r in m.records if isinstance(r, NodeGroup)]
    assert records
    assert quotas.needs(quotas.from_records(records, spec)) == quotas.needs(quotas.from_spec(spec))
    # the first `pulumi up` included: the inventory's desiredSize is the spec's desiredNodes (else minNodes)
    assert [n.first_up_nodes for n in quotas.from_records(records, spec)] == \
        [n.first_up_nodes for n in quotas.from_spec(spec)]


def test_prod_global_needs_what_its_g6e_pools_add_up_to_at_max_size(stack_configs, inventory_of):
    from cli.estimate import mapping

    spec = parse_stack_config(stack_configs["prod-global"])
    records = [r for m in mapping.classify(inventory_of("prod-global").resources) for r in m.records
               if isinstance(r, NodeGroup)]
    found = quotas.needs(quotas.from_records(records, spec))
    assert list(found) == ["us-east-1", "eu-central-1", "ap-northeast-1"]  # the stack file's order
    g = {region: next(n for n in needs if n.code == G_OD[1]) for region, needs in found.items()}
    assert {r: (n.vcpus_min, n.vcpus_max) for r, n in g.items()} == {
        "us-east-1": (96, 1104), "eu-central-1": (96, 816), "ap-northeast-1": (48, 384)}  # g6e.12xlarge = 48 vCPUs
    assert all(next(n for n in needs if n.code == STANDARD_OD[1]).vcpus_max == 12 for needs in found.values())


def test_the_estimate_reads_reserved_off_the_spec_since_its_node_group_launches_on_demand():
    est = run_estimate(spec_of(capacity="reserved-1y"))  # builders.resources(): the node group is ON_DEMAND
    doc = stack_contract(est)
    gpu = next(q for q in doc["quotas"]["us-east-1"] if q["quotaCode"] == G_OD[1])
    assert gpu["purchaseOption"] == "on-demand" and gpu["capacityTypes"] == ["reserved-1y"]
    assert (gpu["vcpusAtMinSize"], gpu["vcpusAtMaxSize"]) == (4, 16)  # g6e.xlarge x 1..4


def test_the_json_contract_types_the_quotas_and_names_a_wrong_key():
    est = run_estimate(spec_of(capacity="spot"), resources(capacity="SPOT"))
    doc = json.loads(json.dumps({"version": 1, "currency": "USD", "stacks": [stack_contract(est)]}, default=str))
    parsed = parse(doc).stacks[0].quotas["us-east-1"]
    assert [(q.quotaCode, q.purchaseOption) for q in parsed] == [(G_SPOT[1], "spot"), (STANDARD_OD[1], "on-demand")]
    doc["stacks"][0]["quotas"]["us-east-1"][0]["vcpusAtMaxSize"] = "16"
    with pytest.raises(ContractError, match=r"stacks\[0\]\.quotas\.us-east-1\[0\]\.vcpusAtMaxSize"):
        parse(doc)
    del doc["stacks"][0]["quotas"]  # a document saved before quotas were part of it still reads
    assert parse(doc).stacks[0].quotas is None


def test_the_reports_show_the_quotas_per_stack_and_an_older_document_renders_without_them():
    doc = json.loads(json.dumps(stack_contract(run_estimate(spec_of())), default=str))
    for text, details in ((markdown([doc]), "| category | min |"), (html([doc]), "<h3>Capacity</h3>")):
        assert "Running On-Demand G and VT instances" in text and "L-DB2E81BA" in text and "4/16" in text
        assert text.index("L-DB2E81BA") > text.index(details)  # in the stack's details, never above the verdict
    del doc["quotas"]
    assert "L-DB2E81BA" not in markdown([doc]) and "EC2 vCPU quotas" not in html([doc])


def test_validate_prints_one_line_per_region_and_quota_and_how_to_check():
    result = CliRunner().invoke(app, ["validate", "prod-global"], env={"TRADEOFF_INFRA_ROOT": str(ROOT),
                                                                       "COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("quota:")]
    assert lines[:2] == [
        "quota: us-east-1 needs 1,104 vCPUs of 'Running On-Demand G and VT instances' (L-DB2E81BA) at max size "
        "(96 at min size and at the first pulumi up, up to 1,392 during a node update; g6e.12xlarge)",
        "quota: us-east-1 needs 12 vCPUs of 'Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances' "
        "(L-1216C47A) at max size (fixed size, up to 36 during a node update; m6i.xlarge)",
    ]
    assert len(lines) == 3 * 2 + 1 and "aws service-quotas get-service-quota --service-code ec2" in lines[-1]
    narrow = CliRunner().invoke(app, ["validate", "prod-global"], env={"TRADEOFF_INFRA_ROOT": str(ROOT),
                                                                       "COLUMNS": "60"})
    assert all(len(line) <= 60 for line in narrow.output.splitlines() if "vCPUs of" in line)  # wrapped, grid.hang


def test_a_node_update_surge_adds_twice_the_zones_of_nodes_per_node_group_at_max_size():
    """EKS updates a managed node group by first raising its maximum and desired size by the larger of twice its
    Availability Zones and maxUnavailable (1 here): a region at max size needs that many more nodes' vCPUs while it
    updates (every node group of the region at once when the Kubernetes version moves)."""
    found = quotas.needs([quotas.Nodes("us-east-1", "g6e.12xlarge", "on-demand", 2, 23, zones=3),
                          quotas.Nodes("us-east-1", "g6e.xlarge", "reserved-1y", 1, 4, zones=3),
                          quotas.Nodes("us-east-1", "g6e.xlarge", "spot", 0, 0, zones=3),  # maxNodes 0: no node to replace
                          quotas.Nodes("us-east-1", "m6i.large", "on-demand", 2, 2, zones=3)], _vcpus)
    by_name = {n.name: n for n in found["us-east-1"]}
    gpu, system, spot = by_name[G_OD[0]], by_name[STANDARD_OD[0]], by_name[G_SPOT[0]]
    assert (gpu.vcpus_max, gpu.vcpus_update) == (1104 + 16, 1104 + 6 * 48 + 16 + 6 * 4)
    assert (system.vcpus_max, system.vcpus_update) == (4, 4 + 6 * 2)
    assert (spot.vcpus_max, spot.vcpus_update) == (0, 0)
    assert "up to 1,432 during a node update" in quotas.line(gpu)


@pytest.mark.parametrize("stack", ["dev", "prod-global"])
def test_validate_and_the_estimate_count_the_surge_from_the_stacks_zones(stack, stack_configs, inventory_of):
    from cli.estimate import mapping

    spec = parse_stack_config(stack_configs[stack])
    records = [r for m in mapping.classify(inventory_of(stack).resources) for r in m.records if isinstance(r, NodeGroup)]
    for nodes in (quotas.from_records(records, spec), quotas.from_spec(spec)):
        assert {n.zones for n in nodes} == {spec.network.availability_zones}
    first = quotas.needs(quotas.from_spec(spec))[spec.regions[0].region][0]
    pool = spec.regions[0].gpu_pools[0]
    from infra import hardware

    per_node = hardware.instance_type(pool.instance_type).vcpus
    assert first.vcpus_update - first.vcpus_max == 2 * spec.network.availability_zones * per_node


def test_the_json_and_the_reports_carry_the_node_update_need_and_an_older_document_renders_without_it():
    doc = json.loads(json.dumps(stack_contract(run_estimate(spec_of())), default=str))
    gpu = next(q for q in doc["quotas"]["us-east-1"] if q["quotaCode"] == G_OD[1])
    zones = spec_of().network.availability_zones
    assert gpu["vcpusDuringNodeUpdate"] == 16 + 2 * zones * 4  # g6e.xlarge x 4 at max + two per zone
    full = {"version": 1, "currency": "USD", "stacks": [doc]}
    assert parse(full).stacks[0].quotas["us-east-1"][0].vcpusDuringNodeUpdate == gpu["vcpusDuringNodeUpdate"]
    for text in (markdown([doc]), html([doc])):
        assert f"4/16/{gpu['vcpusDuringNodeUpdate']}" in text
    for needs in doc["quotas"].values():
        for need in needs:
            del need["vcpusDuringNodeUpdate"]
    assert parse(full).stacks[0].quotas["us-east-1"][0].vcpusDuringNodeUpdate is None
    for text in (markdown([doc]), html([doc])):
        assert "4/16" in text and "4/16/" not in text


def test_a_pool_at_min_zero_that_starts_with_one_node_needs_its_vcpus_at_the_first_up():
    """Before: dev (`minNodes: 0, desiredNodes: 1`, spot g6.xlarge) read "0 at min size", yet the first `pulumi up`
    launches one node against a G spot quota whose default is 0."""
    [need] = quotas.needs([quotas.Nodes("us-east-1", "g6e.xlarge", "spot", 0, 3, desired_nodes=1)], _vcpus)["us-east-1"]
    assert (need.vcpus_min, need.vcpus_first_up, need.vcpus_max) == (0, 4, 12)
    assert "(0 at min size, 4 at the first pulumi up, up to" in quotas.line(need)
    [plain] = quotas.needs([quotas.Nodes("us-east-1", "g6e.xlarge", "spot", 1, 3)], _vcpus)["us-east-1"]
    assert plain.vcpus_first_up == plain.vcpus_min == 4  # no desiredNodes: the minimum


def test_dev_needs_one_g_spot_node_at_the_first_up_in_validate_the_json_and_the_reports(stack_configs, inventory_of):
    from cli.estimate import mapping
    from infra import hardware

    spec = parse_stack_config(stack_configs["dev"])
    pool = spec.regions[0].gpu_pools[0]
    assert (pool.min_nodes, pool.desired_nodes, pool.capacity_type) == (0, 1, "spot")
    per_node = hardware.instance_type(pool.instance_type).vcpus
    records = [r for m in mapping.classify(inventory_of("dev").resources) for r in m.records if isinstance(r, NodeGroup)]
    for nodes in (quotas.from_records(records, spec), quotas.from_spec(spec)):
        spot = next(n for n in quotas.needs(nodes)[spec.regions[0].region] if n.purchase == "spot")
        assert (spot.vcpus_min, spot.vcpus_first_up) == (0, per_node)
    result = CliRunner().invoke(app, ["validate", "dev"], env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert f"(0 at min size, {per_node} at the first pulumi up" in result.output
    est = run_estimate(spec_of(capacity="spot"), resources(capacity="SPOT"))  # builders: min 1 = desired 1
    doc = json.loads(json.dumps(stack_contract(est), default=str))
    need = next(q for q in doc["quotas"]["us-east-1"] if q["purchaseOption"] == "spot")
    assert need["vcpusAtFirstUp"] == 4
    full = {"version": 1, "currency": "USD", "stacks": [doc]}
    assert parse(full).stacks[0].quotas["us-east-1"][0].vcpusAtFirstUp == 4
    assert "| L-3819A6DF | 4 | 4/16/" in markdown([doc])
    assert '<td>L-3819A6DF</td><td class="n">4</td><td class="n">4/16/' in html([doc])
    need["vcpusAtFirstUp"] = "4"
    with pytest.raises(ContractError, match=r"stacks\[0\]\.quotas\.us-east-1\[0\]\.vcpusAtFirstUp"):
        parse(full)
    del need["vcpusAtFirstUp"]  # a document saved before it was part of it still reads and renders
    assert parse(full).stacks[0].quotas["us-east-1"][0].vcpusAtFirstUp is None
    assert "| L-3819A6DF |  | 4/16/" in markdown([doc])
    assert '<td>L-3819A6DF</td><td class="n"></td><td class="n">4/16/' in html([doc])
