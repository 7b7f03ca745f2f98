"""Node groups and add-ons across a cluster's life: the GPU pool's desired size on later `up`s, the
cluster-autoscaler GPU label, versions that follow `cluster.kubernetesVersion`, destroy order and the
IAM partition. The program runs under the recording mocks (no helm: the charts do not matter here)."""

from __future__ import annotations

import copy
import json

import pytest

import cli.inventory as inventory
from cli.inventory import run_program
from infra.components import autoscaling
from infra.components.cluster import PRE_NODE_ADDONS
from infra.components.addons import POST_NODE_ADDONS, EBS_CSI_ADDON
from infra.components.gpu_pool import (
    ACCELERATOR_LABEL, GPU_AMI_TYPE, GPU_POOL_LABEL, NODE_TEMPLATE, accelerator_name, desired_size, gpu_node_labels,
    pool_asg_filters,
)
from infra.components.node_role import NODE_POLICIES
from infra.iam import arn_partition, managed_policy_arn, managed_policy_arn_for

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
GET_GROUPS = "aws:autoscaling/getAmiIds:getAmiIds"
GET_GROUP = "aws:autoscaling/getGroup:getGroup"


def _gpu_groups(inv):
    return {ng.inputs["labels"][GPU_POOL_LABEL]: ng for ng in inv.of_type(NODE_GROUP) if ng.inputs["amiType"] == GPU_AMI_TYPE}


# ---------------------------------------------------------------- item 3: desired size


@pytest.mark.parametrize("min_nodes, max_nodes, initial, live, expected", [
    (0, 3, 1, None, 1),     # first up: no ASG yet -> the stack's initial size
    (2, 5, 9, None, 5),     # ... clamped to max
    (2, 5, 0, None, 2),     # ... and to min
    (2, 10, 2, 7, 7),       # maxNodes raised under load: keep the 7 running nodes (old code sent 2)
    (5, 10, 2, 3, 5),       # minNodes raised above the live size: grow to min (old code sent 2 -> rejected)
    (5, 10, 2, 8, 8),       # minNodes raised below the live size: keep 8
    (1, 4, 2, 7, 4),        # maxNodes lowered below the live size: EKS allows no more than max
    (0, 3, 1, 0, 0),        # scaled to zero by the autoscaler: stays at zero
])
def test_desired_size_never_shrinks_a_running_pool(min_nodes, max_nodes, initial, live, expected):
    assert desired_size(min_nodes, max_nodes, initial, live) == expected


def _with_live_asgs(monkeypatch, desired: dict[tuple[str, str], int]) -> list:
    """Mocks that answer the ASG lookups as a real account with running pools would:
    (region, pool name) -> desired capacity."""
    seen: list = []
    answer = inventory._RecordingMocks.call

    def call(self, args):
        plain = inventory._plain(args.args)
        region = self.region_of_provider(args.provider)
        if args.token == GET_GROUPS:
            seen.append((plain, region))
            pool = next(f["values"][0] for f in plain["filters"] if f["name"].endswith(GPU_POOL_LABEL))
            names = [f"eks-{region}-{pool}-asg"] if (region, pool) in desired else []
            return {"id": "x", "names": names, "arns": [f"arn:aws:autoscaling:::{n}" for n in names]}
        if args.token == GET_GROUP:
            pool = plain["name"].removeprefix(f"eks-{region}-").removesuffix("-asg")
            return {"id": plain["name"], "name": plain["name"], "desiredCapacity": desired[(region, pool)],
                    "minSize": 0, "maxSize": 99}
        return answer(self, args)

    monkeypatch.setattr(inventory._RecordingMocks, "call", call)
    return seen


def test_gpu_pool_sends_the_live_desired_size_when_min_or_max_change(stack_configs, monkeypatch):
    config = copy.deepcopy(stack_configs["prod-global"])
    assert len(config["regions"]) > 1
    first = config["regions"][0]["gpuPools"][0]
    first["maxNodes"] = first["maxNodes"] + 5                 # raised under load
    live = {(config["regions"][0]["region"], first["name"]): first["maxNodes"] - 1}  # more than initialNodes
    seen = _with_live_asgs(monkeypatch, live)
    inv = run_program(config, "prod-global")
    for region in inv.spec.regions:
        cluster = inv.outputs["clusterNames"][region.region]
        groups = {ng.inputs["labels"][GPU_POOL_LABEL]: ng for ng in inv.of_type(NODE_GROUP, region=region.region)
                  if ng.inputs["amiType"] == GPU_AMI_TYPE}
        for pool in region.gpu_pools:
            ng = groups[pool.name]
            expected = live.get((region.region, pool.name))
            if expected is None:  # no ASG (a new pool): its initial size
                expected = desired_size(pool.min_nodes, pool.max_nodes, pool.initial_nodes, None)
                assert expected != live[(config["regions"][0]["region"], first["name"])]
            assert ng.inputs["scalingConfig"]["desiredSize"] == expected, ng.urn
        # the lookup: this cluster's ASG of this pool, through the region's provider
        assert sorted(json.dumps(p["filters"], sort_keys=True) for p, r in seen if r == region.region) == sorted(
            json.dumps(pool_asg_filters(cluster, pool.name), sort_keys=True) for pool in region.gpu_pools)


def test_gpu_pool_lookup_finds_the_tag_the_autoscaling_component_writes(inventory_of):
    """The ASG filter reads the pool label tag that `Autoscaling` puts on the same ASG."""
    inv = inventory_of("prod-global")
    for region in inv.spec.regions:
        for pool in region.gpu_pools:
            (cluster_filter, pool_filter) = pool_asg_filters("c", pool.name)
            assert cluster_filter == {"name": "tag:eks:cluster-name", "values": ["c"]}
            key = pool_filter["name"].removeprefix("tag:")
            assert autoscaling.scale_from_zero_tags(pool)[key] == pool.name == pool_filter["values"][0]
    assert any(t == GET_GROUPS for t, _ in inv.invokes), "the GPU pools read their ASG"


def test_first_up_sends_the_initial_size(inventory_of):
    inv = inventory_of("prod-us")
    for pool in inv.spec.regions[0].gpu_pools:
        ng = _gpu_groups(inv)[pool.name]
        assert ng.inputs["scalingConfig"]["desiredSize"] == desired_size(pool.min_nodes, pool.max_nodes,
                                                                         pool.initial_nodes, None), ng.urn


# ---------------------------------------------------------------- item 4: accelerator label


def test_accelerator_names():
    assert accelerator_name("L40S") == "nvidia-l40s"
    assert accelerator_name("A10G") == "nvidia-a10g"          # cluster-autoscaler's own name for it
    assert accelerator_name("A100-80GB") == "nvidia-tesla-a100"
    assert accelerator_name("H100") == "nvidia-h100"


@pytest.mark.parametrize("stack", ["dev", "prod-us", "prod-global"])
def test_every_gpu_pool_carries_the_accelerator_label_and_its_scale_from_zero_tag(inventory_of, stack):
    inv = inventory_of(stack)
    tags = inv.of_type("aws:autoscaling/tag:Tag")
    for region in inv.spec.regions:
        for pool in region.gpu_pools:
            gpu = inv.spec and gpu_node_labels(pool)[ACCELERATOR_LABEL]
            assert gpu.startswith("nvidia-") and gpu != "nvidia-unknown", pool.name
            groups = [ng for ng in inv.of_type(NODE_GROUP, region=region.region)
                      if ng.inputs["labels"].get(GPU_POOL_LABEL) == pool.name]
            assert [ng.inputs["labels"][ACCELERATOR_LABEL] for ng in groups] == [gpu], pool.name
            key = f"{NODE_TEMPLATE}/label/{ACCELERATOR_LABEL}"
            on_asg = [t for t in tags if t.region == region.region and t.inputs["tag"]["key"] == key
                      and f"-{pool.name}-" in t.name]
            assert [t.inputs["tag"]["value"] for t in on_asg] == [gpu], f"{region.region} {pool.name}"


# ---------------------------------------------------------------- item 7: versions


def _versions(inv):
    groups = {ng.name: ng.inputs.get("version") for ng in inv.of_type(NODE_GROUP)}
    addons = {a.name: a.inputs.get("addonVersion") for a in inv.of_type(ADDON)}
    lookups = [a for t, a in inv.invokes if t == "aws:eks/getAddonVersion:getAddonVersion"]
    return groups, addons, lookups


def test_a_kubernetes_version_bump_moves_control_plane_addons_and_node_groups(stack_configs):
    config = copy.deepcopy(stack_configs["prod-us"])
    config["cluster"]["kubernetesVersion"] = "1.34"
    old = run_program(config, "prod-us")
    config["cluster"]["kubernetesVersion"] = "1.35"
    new = run_program(config, "prod-us")
    for inv, version in ((old, "1.34"), (new, "1.35")):
        groups, addons, lookups = _versions(inv)
        assert set(groups.values()) == {version}, groups            # system and GPU node groups
        assert {a["addonName"] for a in lookups} == {*PRE_NODE_ADDONS, *POST_NODE_ADDONS, EBS_CSI_ADDON}
        assert all(a["kubernetesVersion"] == version and a["mostRecent"] is True for a in lookups), lookups
        assert all(v and version in v for v in addons.values()), addons
        assert {c.inputs["version"] for c in inv.of_type("aws:eks/cluster:Cluster")} == {version}
    old_groups, old_addons, _ = _versions(old)
    new_groups, new_addons, _ = _versions(new)
    assert set(old_addons) == set(new_addons) and all(old_addons[n] != new_addons[n] for n in old_addons)
    assert set(old_groups) == set(new_groups) and all(old_groups[n] != new_groups[n] for n in old_groups)


# ---------------------------------------------------------------- item 11: destroy order, partition


@pytest.mark.parametrize("stack", ["dev", "prod-global"])
def test_every_node_group_depends_on_its_roles_policy_attachments(inventory_of, stack):
    inv = inventory_of(stack)
    for region in inv.spec.regions:
        attachments = {a.urn for a in inv.of_type(ATTACHMENT, region=region.region)
                       if any(a.name.endswith(f"-{p}") for p in NODE_POLICIES)}
        assert len(attachments) == len(NODE_POLICIES), region.region
        for ng in inv.of_type(NODE_GROUP, region=region.region):
            assert attachments <= set(ng.dependencies), f"{ng.urn}: destroyed after its role's policies are detached"


def test_arn_partition_and_managed_policy_arns():
    assert arn_partition("arn:aws-us-gov:iam::123456789012:role/x") == "aws-us-gov"
    assert managed_policy_arn("AmazonEKSClusterPolicy", "aws") == "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
    assert (managed_policy_arn_for("AmazonEKS_CNI_Policy", "arn:aws-cn:iam::123456789012:role/n")
            == "arn:aws-cn:iam::aws:policy/AmazonEKS_CNI_Policy")
    with pytest.raises(ValueError, match="not an ARN"):
        arn_partition("role/x")


def test_managed_policies_follow_the_accounts_partition(stack_configs, monkeypatch):
    """In GovCloud (or China) the managed policies live under arn:aws-us-gov: (arn:aws-cn:)."""
    fake = inventory._fake_outputs

    def gov_outputs(type_, name, inputs, region):
        state = fake(type_, name, inputs, region)
        if isinstance(state.get("arn"), str):
            state["arn"] = state["arn"].replace("arn:aws:", "arn:aws-us-gov:", 1)
        return state

    monkeypatch.setattr(inventory, "_fake_outputs", gov_outputs)
    inv = run_program(copy.deepcopy(stack_configs["dev"]), "dev")
    managed = [a.inputs["policyArn"] for a in inv.of_type(ATTACHMENT) if ":iam::aws:policy/" in a.inputs["policyArn"]]
    assert len(managed) >= len(NODE_POLICIES) + 2, managed   # node policies, EKS cluster policy, EBS CSI policy
    assert all(arn.startswith("arn:aws-us-gov:iam::aws:policy/") for arn in managed), managed
