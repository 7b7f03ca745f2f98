"""The stack spec: shipped stacks pass; every kind of bad file is refused with its key path."""

from __future__ import annotations

import copy
import pathlib

import pytest
import yaml

from infra import hardware
from infra.spec import (
    SpecError,
    fit_report,
    load_stack_file,
    parse_stack_config,
    project_config,
    warnings,
)
from tests.paths import ROOT

STACK_FILES = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))


def base_config() -> dict:
    return project_config(yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text()))


def problems_of(config: dict) -> dict[str, str]:
    with pytest.raises(SpecError) as info:
        parse_stack_config(config)
    return {p.path: p.message for p in info.value.problems}


def test_three_or_more_stacks_are_shipped():
    names = {p.name for p in STACK_FILES}
    assert {"Pulumi.dev.yaml", "Pulumi.prod-us.yaml", "Pulumi.prod-global.yaml"} <= names


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_shipped_stacks_are_valid(path):
    spec = load_stack_file(path)
    assert spec.regions, path


def test_shipped_stack_shapes_match_their_purpose():
    dev = load_stack_file(ROOT / "stacks/Pulumi.dev.yaml")
    assert len(dev.regions) == 1 and any(p.capacity_type == "spot" for p in dev.regions[0].gpu_pools)
    prod_us = load_stack_file(ROOT / "stacks/Pulumi.prod-us.yaml")
    assert [r.region[:3] for r in prod_us.regions] == ["us-", "us-"]
    assert all(p.capacity_type == "on-demand" for r in prod_us.regions for p in r.gpu_pools)
    glob = load_stack_file(ROOT / "stacks/Pulumi.prod-global.yaml")
    continents = {r.region.split("-")[0] for r in glob.regions}
    assert len(glob.regions) >= 3 and len(continents) >= 2
    assert glob.model.tensor_parallel > 1
    assert glob.model.resolved_architecture().parameters_billion > 60


def test_seventy_b_on_one_24gb_gpu_is_refused_with_the_pool_key():
    config = base_config()
    config["model"]["source"] = "meta-llama/Llama-3.3-70B-Instruct"
    problems = problems_of(config)
    message = problems["regions[0].gpuPools[0].instanceType"]
    assert "does not fit" in message and "L4" in message


@pytest.mark.parametrize(
    ("value", "hint"),
    [("main", "40-hex"), ("v1.0", "40-hex"), ("0e9e39f", "40-hex"), ("0E9E39F249A16976918F6564B8830BC894C89659", "40-hex")],
)
def test_floating_revisions_are_refused(value, hint):
    config = base_config()
    config["model"]["revision"] = value
    assert hint in problems_of(config)["model.revision"]


@pytest.mark.parametrize(
    "image",
    ["vllm/vllm-openai:v0.11.0", "vllm/vllm-openai:latest", "vllm/vllm-openai@sha256:abc", "vllm/vllm-openai"],
)
def test_images_without_a_digest_are_refused(image):
    config = base_config()
    config["model"]["image"] = image
    assert "digest" in problems_of(config)["model.image"]


def test_image_with_registry_port_and_digest_is_accepted():
    config = base_config()
    config["model"]["image"] = "registry.example.com:5000/ml/vllm-openai@sha256:" + "a" * 64
    assert parse_stack_config(config).model.image_tag is None


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [
        (lambda c: c["regions"][0].update(region="us-east-9"), "regions[0].region", "not in the offerings snapshot of"),
        (lambda c: c["regions"][0]["gpuPools"][0].update(instanceType="m5.large"), "regions[0].gpuPools[0].instanceType", "not a GPU instance"),
        (lambda c: c["regions"][0]["gpuPools"][0].update(minNodes=3, maxNodes=2, desiredNodes=None), "regions[0].gpuPools[0].minNodes", "exceeds"),
        (lambda c: c["regions"][0]["gpuPools"][0].update(desiredNodes=5), "regions[0].gpuPools[0].desiredNodes", "between"),
        (lambda c: c["regions"][0]["gpuPools"][0].update(minNodes=-1), "regions[0].gpuPools[0].minNodes", "greater than or equal to 0"),
        (lambda c: c.update(regions=[]), "regions", "at least 1"),
        (lambda c: c["model"].update(tensorParallel=2), "model.tensorParallel", "does not divide"),
        (lambda c: c["autoscaling"].update(maxReplicas=4), "autoscaling.maxReplicas", "can hold: 3"),
        (lambda c: c["autoscaling"].update(minReplicas=3, maxReplicas=2), "autoscaling.minReplicas", "exceeds"),
        (lambda c: c["model"].update(contextLength=4096), "model.contextLength", "unknown key"),
        (lambda c: c.pop("traffic"), "traffic", "required"),
        (lambda c: c["regions"][0]["gpuPools"][0].update(capacityType="reserved"), "regions[0].gpuPools[0].capacityType", "on-demand"),
        (lambda c: c["model"].update(source="not a repo"), "model.source", "owner/name"),
        (lambda c: c["cluster"].update(kubernetesVersion="1.27"), "cluster.kubernetesVersion", "1.31"),
        (lambda c: c["endpoint"].update(hostname="llm.example.com"), "endpoint.hostedZoneId", "hosted zone"),
        (lambda c: c["regions"].append(copy.deepcopy(c["regions"][0])), "regions[1].region", "twice"),
    ],
)
def test_bad_values_name_their_key(mutate, path, fragment):
    config = base_config()
    mutate(config)
    problems = problems_of(config)
    assert path in problems, problems
    assert fragment in problems[path], problems[path]


def test_instance_type_not_offered_in_region_is_refused():
    config = base_config()
    config["regions"][0]["region"] = "eu-west-1"
    config["regions"][0]["gpuPools"][0]["instanceType"] = "g6e.xlarge"
    assert "not offered in eu-west-1" in problems_of(config)["regions[0].gpuPools[0].instanceType"]


def test_region_replica_override_is_checked_against_that_regions_pools():
    config = project_config(yaml.safe_load((ROOT / "stacks" / "Pulumi.prod-global.yaml").read_text()))
    (pool,) = config["regions"][2]["gpuPools"]  # one TP4 replica per 4-GPU node: the pool holds maxNodes replicas
    config["regions"][2]["autoscaling"]["maxReplicas"] = pool["maxNodes"] + 1
    problems = problems_of(config)
    assert "regions[2].autoscaling.maxReplicas" in problems
    assert f"can hold: {pool['maxNodes']}" in problems["regions[2].autoscaling.maxReplicas"]


def test_unknown_model_needs_its_architecture():
    config = base_config()
    config["model"]["source"] = "acme/secret-3b"
    assert "architecture" in problems_of(config)["model.source"]
    config["model"]["parametersBillion"] = 3.2
    config["model"]["architecture"] = {"layers": 28, "kvHeads": 8, "headDim": 128}
    assert parse_stack_config(config).model.resolved_architecture().layers == 28
    config["model"]["parametersBillion"] = 13  # 26 GB of weights cannot fit a 24 GB L4
    assert "does not fit" in problems_of(config)["regions[0].gpuPools[0].instanceType"]


def test_fit_arithmetic_matches_the_reference_weight_sizes():
    # docs/sources.md "C5": Llama 8B BF16 ~ 16.06 GB of weights; KV 128 KiB per token.
    spec = load_stack_file(ROOT / "stacks/Pulumi.dev.yaml")
    assert spec.weight_bytes() == pytest.approx(16.06e9, rel=0.001)
    needed, usable, kv = fit_report(spec, "g6.xlarge")
    assert kv == 128 * 1024 * spec.model.max_model_len
    assert usable == pytest.approx(22888 * 1024**2 * 0.9)
    assert needed < usable


def test_hardware_table_agrees_with_moto():
    import gzip
    import json

    import moto

    raw = json.load(gzip.open(pathlib.Path(moto.__file__).parent / "ec2/resources/instance_types.json.gz"))
    for name, it in hardware.instance_types().items():
        gpus = (raw[name].get("GpuInfo") or {}).get("Gpus") or [{}]
        # a fractional GPU (g6f) reports Count 0 and one logical GPU of GpuPartitionSize of the card
        whole = gpus[0].get("GpuPartitionSize", 1.0) >= 1
        assert it.gpus == (gpus[0].get("Count", 0) if whole else gpus[0]["LogicalGpuCount"]), name
        assert it.gpu_partition == gpus[0].get("GpuPartitionSize", 1.0), name
        assert it.vcpus == raw[name]["VCpuInfo"]["DefaultVCpus"], name
        if it.is_gpu:
            assert it.gpu_memory_mib == gpus[0]["MemoryInfo"]["SizeInMiB"], name


def test_relaxations_and_risks_are_reported_as_warnings():
    config = base_config()
    config["cluster"]["publicAccessCidrs"] = ["0.0.0.0/0"]
    config["cluster"]["imdsHopLimit"] = 2
    text = " ".join(warnings(parse_stack_config(config)))
    assert "0.0.0.0/0" in text and "imdsHopLimit" in text and "spot" in text


def test_a_canary_region_with_bigger_weights_is_sized_against_its_own_gpus():
    config = project_config(yaml.safe_load((ROOT / "stacks" / "Pulumi.prod-us.yaml").read_text()))
    config["regions"][1]["model"] = {
        "source": "meta-llama/Llama-3.3-70B-Instruct",
        "revision": "6f6073b423013f6a7d4d9f39144961bfbfbc386b",
        "image": config["model"]["image"],
    }
    problems = problems_of(config)
    assert "Llama-3.3-70B-Instruct does not fit" in problems["regions[1].gpuPools[0].instanceType"]
    config["regions"][1]["model"]["source"] = "acme/unknown-7b"
    assert "known-model table" in problems_of(config)["regions[1].model.source"]


def test_traffic_shares_are_all_or_none_and_add_up_to_one():
    config = project_config(yaml.safe_load((ROOT / "stacks" / "Pulumi.prod-us.yaml").read_text()))
    for region in config["regions"]:
        region.pop("trafficShare", None)
    config["regions"][0]["trafficShare"] = 0.7
    assert "every region or on none" in problems_of(config)["regions[1].trafficShare"]
    config["regions"][1]["trafficShare"] = 0.2
    assert "add up to 0.900" in problems_of(config)["regions"]
    config["regions"][1]["trafficShare"] = 0.3
    assert parse_stack_config(config).regions[1].traffic_share == 0.3


def test_the_spec_names_no_gpu_pool_like_the_component():
    """`infra.spec.GpuPool` (an old alias of GpuPoolSpec) read like the node group component
    `infra.components.gpu_pool.GpuPool`; the spec's pool model has one name."""
    import infra.spec
    assert not hasattr(infra.spec, "GpuPool") and "GpuPool" not in infra.spec.__all__


def test_every_public_spec_name_resolves_lazily_to_its_home():
    """`infra.spec` loads its names on first use (PEP 562): each name of `__all__` is the object of its home module,
    `from infra.spec import *` gives all of them, and an unknown name is an AttributeError naming it."""
    import importlib

    import infra.spec as spec

    for name in spec.__all__:
        home = importlib.import_module(f"infra.spec.{spec._HOME_OF[name]}")
        assert getattr(spec, name) is getattr(home, name), name
    namespace: dict = {}
    exec("from infra.spec import *", namespace)
    assert set(spec.__all__) <= set(namespace)
    with pytest.raises(AttributeError, match="no_such_name"):
        spec.no_such_name  # noqa: B018


def test_a_tensor_parallel_the_gpus_cannot_split_into_names_instance_types_that_would_fit():
    """Issue 13 item 3: the message names instance types (with enough GPUs, offered in the region, the model
    fits on) instead of only saying what is wrong."""
    from infra import hardware

    config = base_config()
    config["model"]["tensorParallel"] = 4
    message = problems_of(config)["model.tensorParallel"]
    region = config["regions"][0]["region"]
    assert "does not divide" in message
    names = message.split(f"GPUs it fits on in {region}: ", 1)[1].split(";", 1)[0].split(", ")
    gpu_types = hardware.gpu_instance_types()
    assert names and all(gpu_types[n].gpus % 4 == 0 and hardware.offered_in(region, n) for n in names), names
    assert "or set model.tensorParallel to 1" in message
