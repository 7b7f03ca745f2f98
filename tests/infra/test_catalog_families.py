"""Every current NVIDIA GPU family and every commercial region: facts, prices, and what validate and
estimate agree a stack may use (issue 11 item 2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cli import capacity
from cli import estimate as est
from infra import hardware
from infra.price_catalog import MissingPrice, default_catalog
from infra.spec import SpecError, parse_stack_config, price_problems, warnings
from tests.builders import IMAGE, REVISION, resources


def config(region="us-east-1", instance="p6-b200.48xlarge", **over):
    return {
        "model": {"name": "m", "source": "meta-llama/Llama-3.1-8B-Instruct", "revision": REVISION, "image": IMAGE},
        "regions": [{"region": region, "gpuPools": [{"name": "l40s", "instanceType": instance, "minNodes": 1, "maxNodes": 2}]}],
        "endpoint": {"mode": "regional"},
        "traffic": {"requestsPerMonth": 1_000_000, "inputTokensPerRequest": 500, "outputTokensPerRequest": 200},
        "cluster": {"publicAccessCidrs": ["203.0.113.0/24"], "adminPrincipalArns": ["arn:aws:iam::111122223333:role/ops"],
                    **over.pop("cluster", {})},
        **over,
    }


@pytest.mark.parametrize("name,gpu,count,memory_mib", [
    ("p5e.48xlarge", "H200", 8, 144384),
    ("p6-b200.48xlarge", "B200", 8, 183359),
    ("p6-b300.48xlarge", "B300", 8, 275040),
    ("g6f.xlarge", "L4", 1, 2861),
    ("g7.2xlarge", "RTX PRO 4500", 1, 32768),
    ("g7e.48xlarge", "RTX PRO Server 6000", 8, 98304),
])
def test_new_gpu_families_carry_their_ec2_facts(name, gpu, count, memory_mib):
    it = hardware.instance_type(name)
    assert (it.gpu_name, it.gpus, it.gpu_memory_mib) == (gpu, count, memory_mib)


def test_datasheet_figures_only_where_sourced_and_fractions_scale_them():
    assert hardware.instance_type("p6-b200.48xlarge").gpu_model.memory_bandwidth_gbps == 8000
    assert hardware.instance_type("p6-b200.48xlarge").interconnect == "NVLink 5 1800 GB/s"
    assert hardware.instance_type("g7e.12xlarge").interconnect == "PCIe"
    g6f = hardware.instance_type("g6f.xlarge")
    assert g6f.is_gpu and g6f.gpu_partition == 0.125
    assert g6f.gpu_model.memory_bandwidth_gbps == hardware.GPU_MODELS["L4"].memory_bandwidth_gbps * 0.125
    # no sourced dense BF16 figure for g7's RTX PRO 4500: no model rather than a guess
    assert hardware.instance_type("g7.2xlarge").gpu_model is None


def test_g7e_carries_nvidias_aiconfigurator_figures_and_talks_over_pcie_gen5():
    """aiconfigurator-core 0.12.0 systems/rtx_pro_6000_server.yaml: 1.792 TB/s, 467.8 dense BF16 and 935.6 dense
    FP8 TFLOPS, PCIe Gen5 x16 64 GB/s one way between the GPUs (not the Gen4 32 GB/s of g5/g6/g6e)."""
    gpu = hardware.instance_type("g7e.2xlarge").gpu_model
    assert (gpu.memory_bandwidth_gbps, gpu.bf16_dense_tflops, gpu.fp8_dense_tflops) == (1792, 467.8, 935.6)
    assert "rtx_pro_6000_server.yaml" in gpu.source
    g7e_4 = hardware.instance_type("g7e.24xlarge")
    assert g7e_4.over_pcie and g7e_4.interconnect_gbps == 64.0
    assert hardware.instance_type("g6e.12xlarge").interconnect_gbps == hardware.PCIE_GBPS
    assert not hardware.instance_type("p5.48xlarge").over_pcie and not hardware.instance_type("g7e.2xlarge").over_pcie


def test_new_family_prices_are_the_published_rows_and_nothing_is_invented():
    catalog = default_catalog()
    b200 = catalog.instance("us-east-1", "p6-b200.48xlarge")
    assert b200.usd_per_hour == Decimal("113.9328") and b200.source == "karpenter" and b200.date
    assert catalog.instance("us-east-1", "g6f.xlarge").usd_per_hour == Decimal("0.2375")
    assert catalog.instance("us-east-1", "g7e.2xlarge").usd_per_hour == Decimal("3.36312")
    # p5e.48xlarge has no on-demand row in the source: it stays unpriced everywhere
    assert not any("p5e.48xlarge" in entries for entries in catalog.data["instances"].values())
    with pytest.raises(MissingPrice, match="p5e.48xlarge"):
        catalog.instance("us-west-2", "p5e.48xlarge")


def blocking(spec) -> list[str]:
    return [str(p) for p in price_problems(spec)]


def test_validate_accepts_p6_b200_in_us_east_1_and_estimate_prices_it():
    spec = parse_stack_config(config())
    assert not blocking(spec)
    r = est.estimate("t", "t.yaml", spec, resources(instance="p6-b200.48xlarge"), default_catalog(), [],
                     as_of=date(2026, 11, 30), api_source="test")
    assert r.capacity[0].throughput["l40s"].gpu == "B200"
    gpu_lines = [li for li in r.line_items if li.category == "gpu-compute"]
    assert gpu_lines and gpu_lines[0].unit_price == Decimal("113.9328")


@pytest.mark.parametrize("region", ["mx-central-1", "ap-southeast-6", "ap-southeast-7", "ap-east-2"])
def test_regions_opened_since_the_snapshot_are_accepted_and_say_what_is_unknown(region):
    spec = parse_stack_config(config(region=region, instance="g6.xlarge"))
    said = " ".join(warnings(spec))
    assert f"({region}) is not in the offerings snapshot of" in said
    refused = " ".join(blocking(spec))  # estimate cannot price the system nodes there: validate refuses it too
    assert "cluster.systemNodes.instanceType" in refused and region in refused


def test_an_unknown_region_is_not_in_the_snapshot_never_not_an_aws_region():
    with pytest.raises(SpecError) as info:
        parse_stack_config(config(region="mx-centrall-1"))
    (problem,) = [p for p in info.value.problems if p.path == "regions[0].region"]
    assert "not in the offerings snapshot of" in problem.message and "did you mean mx-central-1" in problem.message
    assert "not an AWS region" not in problem.message


@pytest.mark.parametrize("region", hardware.aws_regions())
def test_every_region_validate_accepts_prices_the_system_nodes_or_validate_names_the_key(region):
    offered = sorted((t for t in hardware.gpu_instance_types() if hardware.offered_in(region, t)),
                     key=lambda t: -hardware.instance_type(t).gpu_memory_mib)  # the 8B model fits the biggest
    if hardware.offerings_known(region) and not offered:
        pytest.skip(f"the snapshot lists no GPU instance type in {region}: validate accepts no stack there")
    spec = parse_stack_config(config(region=region, instance=offered[0] if offered else "g6.xlarge"))
    priced = "m6i.large" in default_catalog().data["instances"].get(region, {})
    named = any(w.startswith("cluster.systemNodes.instanceType") and region in w for w in blocking(spec))
    assert priced != named, (region, blocking(spec))


def test_a_gpu_without_sourced_figures_is_named_by_validate_and_refused_by_estimate():
    spec = parse_stack_config(config(instance="g7.2xlarge"))
    assert any("regions[0].gpuPools[0].instanceType" in w and "RTX PRO 4500" in w for w in blocking(spec))
    with pytest.raises(capacity.CapacityError, match="no sourced datasheet figures"):
        capacity.replica_throughput(spec, "g7.2xlarge")


def test_g7e_is_sized_by_the_roofline_alone_with_the_wide_band():
    """No published measurement on the RTX PRO 6000: validate accepts g7e, the capacity model sizes it, and the
    band is the roofline-only one (docs/capacity.md)."""
    spec = parse_stack_config(config(instance="g7e.2xlarge"))
    assert not blocking(spec)
    th = capacity.replica_throughput(spec, "g7e.2xlarge")
    assert th.gpu == "RTX PRO Server 6000" and th.saturated_tokens_per_second > 0
    assert (th.saturated_low_tokens_per_second / th.saturated_tokens_per_second,
            th.saturated_high_tokens_per_second / th.saturated_tokens_per_second) == pytest.approx(capacity.BAND_ROOFLINE_ONLY)
    # more bandwidth than an L40S (864 GB/s), less than an H100 (3,350): the 8B model lands between them
    l40s = capacity.replica_throughput(parse_stack_config(config(instance="g6e.xlarge")), "g6e.xlarge")
    h100 = capacity.replica_throughput(parse_stack_config(config(instance="p5.4xlarge")), "p5.4xlarge")
    assert l40s.saturated_tokens_per_second < th.saturated_tokens_per_second < h100.saturated_tokens_per_second


def test_spot_for_a_family_the_spot_data_predates_is_named_by_validate():
    cfg = config()
    cfg["regions"][0]["gpuPools"][0]["capacityType"] = "spot"
    said = blocking(parse_stack_config(cfg))
    assert any(w.startswith("regions[0].gpuPools[0].capacityType: spot is not priced") for w in said), said
    with pytest.raises(MissingPrice):
        default_catalog().instance("us-east-1", "p6-b200.48xlarge", "spot")
    cfg["regions"][0]["gpuPools"][0]["instanceType"] = "g6e.xlarge"  # the Spot Advisor lists g6e
    assert not blocking(parse_stack_config(cfg))


@pytest.mark.parametrize("region,instance,usd", [
    ("eu-central-1", "g7e.2xlarge", "5.71915"),   # the old multiplier (g5's 1.2505) said 4.205245
    ("ap-south-1", "g7e.48xlarge", "54.13507"),
    ("eu-west-2", "g7e.12xlarge", "14.40172"),
    ("eu-south-2", "g7e.8xlarge", "5.55133"),     # unpriced before: no measured row of any g family there
    ("eu-south-2", "g7.2xlarge", "2.646"),
    ("us-west-2", "g7.48xlarge", "28.51328"),
])
def test_g7_and_g7e_outside_us_east_1_are_the_published_vantage_rows(region, instance, usd):
    entry = default_catalog().instance(region, instance)
    assert entry.usd_per_hour == Decimal(usd) and entry.source == "vantage-on-demand-2026-08"


def test_g7_without_a_row_takes_g7es_measured_premium_not_the_older_g_families():
    """g7 has no published row in eu-central-1; g7e's premium there (1.7005) prices it, marked a derivation."""
    catalog = default_catalog()
    entry = catalog.data["instances"]["eu-central-1"]["g7.2xlarge"]
    assert entry["basis"] == "multiplier" and entry["multiplier"] == "1.7005" and entry["confidence"] == "C"
    assert "g7e" in entry["derivation"]
    assert catalog.instance("eu-central-1", "g7.2xlarge").usd_per_hour == Decimal("2.52") * Decimal("1.7005")


@pytest.mark.parametrize("region,instance,usd,source", [
    ("ap-south-1", "p6-b200.48xlarge", "160.64525", "vantage-on-demand-2026-08"),   # unpriced before
    ("ap-northeast-2", "p6-b300.48xlarge", "209.1735", "vantage-on-demand-2026-08"),
    ("sa-east-1", "g6.xlarge", "1.368", "vantage-on-demand"),          # no measured ratio there before: unpriced
    ("ca-central-1", "g5.xlarge", "1.117", "vantage-on-demand"),
    ("me-central-1", "p5en.48xlarge", "75.9552", "vantage-on-demand"),
    ("eu-central-1", "g6e.xlarge", "2.327", "vantage-on-demand"),       # was derived: 1.861 x 1.2504 = 2.326994
])
def test_gpu_prices_outside_us_east_1_are_published_rows_where_vantage_lists_them(region, instance, usd, source):
    entry = default_catalog().instance(region, instance)
    assert (entry.usd_per_hour, entry.source) == (Decimal(usd), source)
    assert default_catalog().data["instances"][region][instance]["basis"] == "source"


def test_a_published_row_never_lands_where_the_snapshot_does_not_offer_the_type():
    catalog = default_catalog().data["instances"]
    assert "p4d.24xlarge" not in catalog.get("ap-southeast-1", {})  # vantage lists it; moto's snapshot does not
    for region, entries in catalog.items():
        for instance_type in entries:
            assert region == "us-east-1" or hardware.offered_in(region, instance_type), (region, instance_type)


@pytest.mark.parametrize("region,instance,usd", [
    ("eu-central-1", "m6i.xlarge", "0.23"),      # was derived from p4d's ratio: 0.239885
    ("ap-northeast-1", "m6i.xlarge", "0.248"),   # was 0.24
    ("me-central-1", "m6i.large", "0.1177"),     # unpriced before: validate named cluster.systemNodes.instanceType
])
def test_system_node_prices_outside_us_east_1_are_the_published_skypilot_rows(region, instance, usd):
    entry = default_catalog().instance(region, instance)
    assert (entry.usd_per_hour, entry.source, entry.basis) == (Decimal(usd), "skypilot-e385a0d", "source")


def test_a_region_with_published_system_node_prices_validates_a_gpu_pool_there():
    spec = parse_stack_config(config(region="me-central-1", instance="g6.xlarge"))
    assert not [w for w in blocking(spec) if w.startswith("cluster.systemNodes.instanceType")], blocking(spec)
