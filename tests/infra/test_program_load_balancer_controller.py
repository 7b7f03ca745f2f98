"""The AWS Load Balancer Controller and VPC CNI network policy in the real program, under recording mocks.

Requests must not fail on scale-in, rollouts and drains: the controller registers the vLLM pods' IPs
in the Pulumi-owned target group (TargetGroupBinding) and deregisters a pod when it starts
terminating. The VPC CNI must enforce the chart's NetworkPolicy. Pure parts (IAM policy, values) are
tested without Pulumi.
"""

from __future__ import annotations

import json

import pulumi
import pytest

from cli.estimate.mapping import classify
from infra.components import load_balancer_controller as lbc
from infra.components import vllm
from infra.iam import arn_partition
from infra.program import region_prefix
from tests.conftest import STACK_NAMES

RELEASE = "kubernetes:helm.sh/v3:Release"


def _one(inv, name: str, type_: str | None = None):
    found = [r for r in inv.resources if r.name == name and (type_ is None or r.type == type_)]
    assert len(found) == 1, f"{len(found)} resources named {name!r}"
    return found[0]


# ---------------------------------------------------------------- pure parts


def test_policy_is_the_one_the_controller_documents():
    data = json.loads((lbc.resources.files("infra") / "data/aws_load_balancer_controller_iam_policy.json").read_text())
    assert "kubernetes-sigs/aws-load-balancer-controller" in data["source"] and "v3.5.0" in data["source"]
    assert "11eb202c97e4ae2ee45e0658c4cde9a4b59f33d4" in lbc.policy_source()
    assert lbc.controller_policy() == data["policy"]
    actions = {a for s in data["policy"]["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    # What IP targets need: register/deregister, read target health, and the webhooks' target-group lookups.
    assert {"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets",
            "elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeTargetGroups"} <= actions
    assert not any(a.endswith(":*") or a == "*" for a in actions)


@pytest.mark.parametrize("partition", ["aws-us-gov", "aws-cn"])
def test_policy_follows_the_partition(partition):
    text = json.dumps(lbc.controller_policy(partition))
    assert '"arn:aws:' not in text
    assert text.count(f'"arn:{partition}:') == json.dumps(lbc.controller_policy("aws")).count('"arn:aws:') > 0


def test_policy_refuses_an_unknown_partition():
    with pytest.raises(ValueError, match="partition 'aws-moon'"):
        lbc.controller_policy("aws-moon")
    assert arn_partition("arn:aws-us-gov:iam::123456789012:oidc-provider/x") == "aws-us-gov"
    with pytest.raises(ValueError, match="not an ARN"):
        arn_partition("oidc-provider/x")


def test_controller_values_pass_region_and_vpc_and_run_on_system_nodes():
    values = lbc.controller_values("c1", "eu-central-1", "vpc-0123456789abcdef0", "arn:aws:iam::123456789012:role/r")
    # With IMDS hop limit 1 the controller cannot look region and VPC up itself.
    assert (values["clusterName"], values["region"], values["vpcId"]) == ("c1", "eu-central-1", "vpc-0123456789abcdef0")
    assert values["serviceAccount"] == {"create": True, "name": "aws-load-balancer-controller",
                                        "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/r"}}
    assert values["nodeSelector"] == {"tradeoff-infra.io/workload": "system"}
    assert values["replicaCount"] >= 2 and values["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert values["enableServiceMutatorWebhook"] is False and values["createIngressClassResource"] is False


def test_a_new_target_group_replaces_the_binding():
    """targetGroupARN is immutable (the controller's webhook refuses an update): replace, delete first."""
    opts = pulumi.ResourceOptions()
    vllm._replace_binding_on_new_target_group({"kind": "TargetGroupBinding"}, opts)
    assert opts.replace_on_changes == ["spec.targetGroupARN"] and opts.delete_before_replace is True
    other = pulumi.ResourceOptions()
    vllm._replace_binding_on_new_target_group({"kind": "Service"}, other)
    assert not other.replace_on_changes and not other.delete_before_replace


# ---------------------------------------------------------------- in the program


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_controller_per_region_with_its_irsa_role(inventory_of, stack):
    inv = inventory_of(stack)
    for region in inv.spec.regions:
        prefix = region_prefix(region.region)
        release = _one(inv, f"{prefix}-lbc-release", RELEASE)
        assert release.region == region.region, release.urn
        assert (release.inputs["chart"], release.inputs["version"]) == ("aws-load-balancer-controller", "3.5.0")
        assert release.inputs["repositoryOpts"]["repo"] == "https://aws.github.io/eks-charts", release.urn
        assert release.inputs["namespace"] == "kube-system" and release.inputs["name"] == "aws-load-balancer-controller"
        values = release.inputs["values"]
        vpc = [v for v in inv.of_type("aws:ec2/vpc:Vpc", region.region)]
        assert len(vpc) == 1 and values["vpcId"] == vpc[0].id, release.urn
        assert values["region"] == region.region and values["clusterName"] == inv.outputs["clusterNames"][region.region]

        role = _one(inv, f"{prefix}-lbc-role", "aws:iam/role:Role")
        assert values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"] == role.outputs["arn"], release.urn
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        subjects = [v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")]
        assert subjects == ["system:serviceaccount:kube-system:aws-load-balancer-controller"], role.urn
        policy = _one(inv, f"{prefix}-lbc-role-policy", "aws:iam/rolePolicy:RolePolicy")
        assert json.loads(policy.inputs["policy"]) == lbc.controller_policy("aws"), policy.urn

        # Every vLLM chart object waits for the controller: the binding needs its CRD and webhooks, and on
        # destroy the controller must still run to deregister the targets and release the binding's finalizer.
        chart_objects = [r for r in inv.resources if r.region == region.region and r.type.startswith("kubernetes:")
                         and (r.inputs.get("metadata") or {}).get("namespace") == "vllm"]
        assert chart_objects
        for obj in chart_objects:
            assert release.urn in obj.dependencies, f"{obj.urn} does not wait for {release.urn}"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_vpc_cni_enforces_network_policy(inventory_of, stack):
    inv = inventory_of(stack)
    addons = [a for a in inv.of_type("aws:eks/addon:Addon") if a.inputs["addonName"] == "vpc-cni"]
    assert len(addons) == len(inv.spec.regions)
    for addon in addons:
        assert json.loads(addon.inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}, addon.urn
    others = [a for a in inv.of_type("aws:eks/addon:Addon") if a.inputs["addonName"] != "vpc-cni"]
    assert others and all("configurationValues" not in a.inputs for a in others)


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_estimate_knows_every_new_resource(inventory_of, stack):
    """The controller adds an IAM role, its inline policy and a Helm release whose pods run on the (priced)
    system nodes; the binding and the policy are Kubernetes objects: no cost of their own, none unknown."""
    inv = inventory_of(stack)
    mapped = {m.resource.urn: m for m in classify(inv.resources)}
    assert not [u for u, m in mapped.items() if m.unknown]
    new = [r for r in inv.resources if "-lbc" in r.name
           or r.type.endswith((":TargetGroupBinding", ":NetworkPolicy"))]
    assert {r.type for r in new} >= {RELEASE, "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy",
                                     "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding",
                                     "kubernetes:networking.k8s.io/v1:NetworkPolicy"}
    for resource in new:
        m = mapped[resource.urn]
        assert m.no_cost and not m.records, f"{resource.urn}: {m}"
