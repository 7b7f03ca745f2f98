"""The AWS Load Balancer Controller: registers each vLLM pod's IP in the Pulumi-owned target group.

The ALB, its listeners and its target group stay Pulumi resources (`load_balancer.py`); the vLLM
chart binds the target group to its Service with a `TargetGroupBinding` (elbv2.k8s.aws/v1beta1,
`targetType: ip`). The controller then keeps the target group's members equal to the Service's
endpoints: a pod that starts terminating leaves its endpoints and is deregistered at once (the ALB
stops sending it new requests while its pre-stop sleep still serves in-flight ones), and a new pod
counts as ready only once the ALB reports its target healthy (pod readiness gate
`target-health.elbv2.k8s.aws/<binding>`). With instance targets on a NodePort the ALB kept sending
to a terminating pod until two health checks failed.

The controller runs on the system nodes (2 replicas, a PodDisruptionBudget), with an IRSA role
holding the IAM policy the controller documents for this version (`infra/data/
aws_load_balancer_controller_iam_policy.json`, source inside). Region and VPC are passed in: with
IMDS hop limit 1 (the default here) pods cannot read them from instance metadata.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pulumi

from infra.components.context import RegionContext
from infra.components.pinned_chart import PinnedChart
from infra.components.service_account_role import irsa_role
from infra.conventions import SYSTEM_LABELS, TARGET_GROUP_PROTOCOL, TARGET_TYPE
from infra.iam import arn_partition

# Newest chart in aws/eks-charts stable/aws-load-balancer-controller/Chart.yaml (read 2026-11-30).
LOAD_BALANCER_CONTROLLER_CHART = PinnedChart(
    "aws-load-balancer-controller", "3.5.0", "https://aws.github.io/eks-charts",
    source="aws/eks-charts stable/aws-load-balancer-controller/Chart.yaml (version 3.5.0, appVersion v3.5.0), "
           "commit 52396092 (2026-08-03)",
)
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "aws-load-balancer-controller"
REPLICAS = 2
# Label on a namespace that makes the controller's pod webhook add the target-health readiness gate
# (controller docs "Pod readiness gate", docs/deploy/pod_readiness_gate.md at v3.5.0).
READINESS_GATE_INJECT_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"
# The group/version of the TargetGroupBinding the vLLM chart renders (CRD shipped in the chart's crds/).
TARGET_GROUP_BINDING_API_VERSION = "elbv2.k8s.aws/v1beta1"
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
# The ALB target group holds the vLLM pods' IPs over HTTP; `load_balancer.py` creates it so and the
# chart's TargetGroupBinding states both (else the controller's webhook would fill them in on create and a
# later apply that omits them would be refused as a change of immutable fields).


@cache
def _published_policy() -> dict[str, Any]:
    text = resources.files("infra").joinpath("data/aws_load_balancer_controller_iam_policy.json").read_text()
    return json.loads(text)


def policy_source() -> str:
    """Where the checked-in policy was read (repository, file, tag, commit, date)."""
    return _published_policy()["source"]


def controller_policy(partition: str = "aws") -> dict[str, Any]:
    """The controller's documented IAM policy (v3.5.0) with its ARNs in `partition`.

    The controller publishes one document per partition that differ only in the `arn:<partition>:`
    of their resources (and statement order), so the `aws` one is rewritten rather than kept thrice.
    """
    if partition not in PARTITIONS:
        raise ValueError(f"partition {partition!r}: expected one of {', '.join(PARTITIONS)}")
    text = json.dumps(_published_policy()["policy"])
    return json.loads(text.replace('"arn:aws:', f'"arn:{partition}:'))


def controller_values(cluster_name: str, region: str, vpc_id: str, role_arn: str) -> dict[str, Any]:
    """Chart values (keys of stable/aws-load-balancer-controller/values.yaml at chart 3.5.0)."""
    return {
        "clusterName": cluster_name,
        "region": region,
        "vpcId": vpc_id,
        "replicaCount": REPLICAS,
        "podDisruptionBudget": {"maxUnavailable": 1},
        "nodeSelector": dict(SYSTEM_LABELS),
        "serviceAccount": {
            "create": True,
            "name": SERVICE_ACCOUNT,
            "annotations": {"eks.amazonaws.com/role-arn": role_arn},
        },
        # Only TargetGroupBindings are used: no IngressClass, and no webhook on Service creation (its
        # failurePolicy is Fail, so a controller outage would block every Service in the cluster).
        "createIngressClassResource": False,
        "enableServiceMutatorWebhook": False,
        # Reuse the webhook certificate on upgrades instead of issuing a new CA each time.
        "keepTLSSecret": True,
    }


@dataclass
class LoadBalancerControllerArgs:
    ctx: RegionContext
    """The region's spec, providers and cluster outputs."""


class LoadBalancerController(pulumi.ComponentResource):
    """IRSA role + the aws-load-balancer-controller Helm release in kube-system."""

    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: LoadBalancerControllerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tradeoff-infra:edge:LoadBalancerController", name, None, opts)
        ctx = args.ctx
        region = ctx.region.region

        role = irsa_role(
            f"{name}-role",
            ctx,
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            policy=ctx.oidc_provider_arn.apply(lambda arn: json.dumps(controller_policy(arn_partition(arn)))),
            description="AWS Load Balancer Controller: register vLLM pod IPs in the ALB target group",
            parent=self,
        )
        self.release = LOAD_BALANCER_CONTROLLER_CHART.release(
            f"{name}-release",
            release_name="aws-load-balancer-controller",
            namespace=NAMESPACE,
            values=pulumi.Output.all(ctx.cluster_name, ctx.vpc_id, role.arn).apply(
                lambda a: controller_values(a[0], region, a[1], a[2])
            ),
            opts=ctx.opts(self, k8s_resource=True),
        )

        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})
