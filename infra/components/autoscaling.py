"""Autoscaling in one region: KEDA scales vLLM pods, cluster-autoscaler scales GPU nodes (also from zero).

Pods scale on vLLM's own metrics (KEDA ScaledObject in `charts/vllm`); pending GPU pods make
cluster-autoscaler grow the GPU pool's managed node group. For a pool at zero nodes the
autoscaler cannot look at a node, so the ASG carries `node-template` tags that describe the
labels, taint and GPU count a new node would have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra import hardware
from infra.components.context import RegionContext
from infra.components.gpu_pool import NODE_TEMPLATE, gpu_node_labels, node_template_label_tag
from infra.components.pinned_chart import PinnedChart
from infra.components.service_account_role import irsa_role
from infra.conventions import GPU_POOL_LABEL, GPU_TAINT, SYSTEM_LABELS
from infra.iam import POLICY_VERSION
from infra.spec import GpuPoolSpec, StackSpec

# Charts pinned to the newest release in each chart repository's git history (read 2026-11-24).
KEDA_CHART = PinnedChart(
    "keda", "2.20.2", "https://kedacore.github.io/charts",
    source="kedacore/charts keda/Chart.yaml, commit cbb9bb8c (2026-07-31)",
)
KEDA_NAMESPACE = "keda"
KEDA_OPERATOR_SERVICE_ACCOUNT = "keda-operator"
CLUSTER_AUTOSCALER_CHART = PinnedChart(
    "cluster-autoscaler", "9.59.0", "https://kubernetes.github.io/autoscaler",
    source="kubernetes/autoscaler cluster-autoscaler/charts/cluster-autoscaler/Chart.yaml, commit b7081620 (2026-07-13)",
)
CLUSTER_AUTOSCALER_NAMESPACE = "kube-system"
CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler"
# cluster-autoscaler's minor version must match the cluster's; newest patch tag per minor in
# kubernetes/autoscaler (tags cluster-autoscaler-1.x.y, read 2026-11-24).
CLUSTER_AUTOSCALER_IMAGE_TAGS = {
    "1.31": "v1.31.5",  # tag date 2025-10-08
    "1.32": "v1.32.7",  # 2026-02-13
    "1.33": "v1.33.6",  # 2026-07-22
    "1.34": "v1.34.5",  # 2026-07-22
    "1.35": "v1.35.2",  # 2026-07-22
}
# A GPU node needs minutes to boot and load a model; give it time to take load before judging it idle.
SCALE_DOWN_DELAY_AFTER_ADD = "10m"


def scale_from_zero_tags(pool: GpuPoolSpec) -> dict[str, str]:
    """ASG tags that tell cluster-autoscaler what a node of this pool would offer while the pool is at zero.

    Format: cluster-autoscaler/cloudprovider/aws/README.md "Auto-Discovery Setup" / scaling a node
    group to 0 (`node-template/label/<key>`, `node-template/taint/<key>: value:Effect`,
    `node-template/resources/<resource>`).
    """
    key, value, effect = GPU_TAINT
    tags = {node_template_label_tag(k): v for k, v in gpu_node_labels(pool).items()}
    tags[f"{NODE_TEMPLATE}/taint/{key}"] = f"{value}:{effect}"
    tags[f"{NODE_TEMPLATE}/resources/nvidia.com/gpu"] = str(hardware.instance_type(pool.instance_type).gpus)
    return tags


def tag_resource_suffix(tag_key: str) -> str:
    """Short, unique Pulumi name part for a node-template tag key."""
    rest = tag_key.removeprefix(f"{NODE_TEMPLATE}/")
    return rest.replace("tradeoff-infra.io/", "").replace("nvidia.com/", "nvidia-").replace("/", "-").replace(".", "-")


def keda_operator_policy() -> dict[str, Any]:
    """CloudWatch read for the aws-cloudwatch trigger that wakes a fleet scaled to zero.

    These three actions support no resource-level scoping (Service Authorization Reference,
    "Actions defined by Amazon CloudWatch": Resource types column empty), hence `*`.
    """
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "ReadLoadBalancerMetrics",
                "Effect": "Allow",
                "Action": ["cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics"],
                "Resource": "*",
            }
        ],
    }


def cluster_autoscaler_policy(cluster_name: str, region: str, oidc_provider_arn: str) -> dict[str, Any]:
    """Least privilege for cluster-autoscaler on EKS managed node groups (one cluster only).

    After cluster-autoscaler/cloudprovider/aws/README.md "IAM Policy" (tag cluster-autoscaler-1.31.5):
    its describe calls on `*` (they allow no resource scoping); writes only on ASGs that EKS tagged
    `k8s.io/cluster-autoscaler/<cluster>=owned`; DescribeNodegroup (labels/taints for scale from
    zero) only on this cluster's node groups. Account and partition come from the OIDC provider ARN.
    """
    partition, account = _arn_partition_account(oidc_provider_arn)
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "DescribeScalingInputs",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                ],
                "Resource": "*",
            },
            {
                "Sid": "ScaleOwnNodeGroupsOnly",
                "Effect": "Allow",
                "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                "Resource": "*",
                "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}},
            },
            {
                "Sid": "ReadOwnNodeGroups",
                "Effect": "Allow",
                "Action": ["eks:DescribeNodegroup"],
                "Resource": f"arn:{partition}:eks:{region}:{account}:nodegroup/{cluster_name}/*",
            },
        ],
    }


def _arn_partition_account(arn: str) -> tuple[str, str]:
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[4]:
        raise ValueError(f"{arn!r} is not an IAM ARN with an account id")
    return parts[1], parts[4]


def cluster_autoscaler_image_tag(kubernetes_version: str) -> str:
    try:
        return CLUSTER_AUTOSCALER_IMAGE_TAGS[kubernetes_version]
    except KeyError:
        raise ValueError(
            f"cluster.kubernetesVersion {kubernetes_version!r}: no cluster-autoscaler release is pinned for it "
            f"(known: {', '.join(CLUSTER_AUTOSCALER_IMAGE_TAGS)}); add its newest v{kubernetes_version}.x tag"
        ) from None


def keda_values(role_arn: str) -> dict[str, Any]:
    """KEDA chart values: operator on system nodes, AWS credentials through IRSA."""
    return {
        "serviceAccount": {"operator": {"create": True, "name": KEDA_OPERATOR_SERVICE_ACCOUNT}},
        # The chart writes the role ARN as the eks.amazonaws.com/role-arn annotation of keda-operator.
        "podIdentity": {"aws": {"irsa": {"enabled": True, "roleArn": role_arn, "stsRegionalEndpoints": "true"}}},
        "nodeSelector": SYSTEM_LABELS,
    }


def cluster_autoscaler_values(spec: StackSpec, region: str, cluster_name: str, role_arn: str) -> dict[str, Any]:
    """cluster-autoscaler chart values (extraArgs are flags: cluster-autoscaler FAQ "What are the parameters to CA?")."""
    return {
        "cloudProvider": "aws",
        "awsRegion": region,
        "autoDiscovery": {"clusterName": cluster_name},
        "fullnameOverride": "cluster-autoscaler",
        "image": {"tag": cluster_autoscaler_image_tag(spec.cluster.kubernetes_version)},
        "rbac": {
            "serviceAccount": {
                "create": True,
                "name": CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
                "annotations": {"eks.amazonaws.com/role-arn": role_arn},
            }
        },
        "nodeSelector": SYSTEM_LABELS,
        "extraArgs": {
            # Pools of one instance and capacity type grow in step; their pool-name label alone
            # would make them "different" (the chart drops the "_1" suffix from the flag).
            "balance-similar-node-groups": True,
            "balancing-ignore-label_1": GPU_POOL_LABEL,
            # Pick the pool that leaves the least idle CPU/memory (and GPU) after the pending pods fit.
            "expander": "least-waste",
            # vLLM keeps its weight cache in an emptyDir; with the default (true) GPU nodes would never scale down.
            "skip-nodes-with-local-storage": False,
            "skip-nodes-with-system-pods": False,
            "scale-down-unneeded-time": f"{spec.autoscaling.node_scale_down_unneeded_minutes}m",
            "scale-down-delay-after-add": SCALE_DOWN_DELAY_AFTER_ADD,
        },
    }


@dataclass
class AutoscalingArgs:
    ctx: RegionContext
    """The region's spec, providers and cluster outputs."""


class Autoscaling(pulumi.ComponentResource):
    """KEDA + cluster-autoscaler (both with IRSA) and scale-from-zero tags on every GPU pool's ASG."""

    keda_namespace: pulumi.Output[str]
    keda_operator_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AutoscalingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tradeoff-infra:autoscaling:Autoscaling", name, None, opts)
        ctx = args.ctx
        region = ctx.region.region

        keda_role = irsa_role(
            f"{name}-keda-operator-role",
            ctx,
            namespace=KEDA_NAMESPACE,
            service_account=KEDA_OPERATOR_SERVICE_ACCOUNT,
            policy=json.dumps(keda_operator_policy()),
            description="KEDA operator: read ALB request metrics to wake vLLM from zero",
            parent=self,
        )
        keda_ns = k8s.core.v1.Namespace(
            f"{name}-keda-namespace",
            metadata={"name": KEDA_NAMESPACE},
            opts=ctx.opts(self, k8s_resource=True),
        )
        keda = KEDA_CHART.release(
            f"{name}-keda",
            release_name="keda",
            namespace=KEDA_NAMESPACE,
            values=keda_role.arn.apply(keda_values),
            opts=ctx.opts(self, k8s_resource=True, depends_on=[keda_ns]),
        )

        ca_policy = pulumi.Output.all(ctx.cluster_name, ctx.oidc_provider_arn).apply(
            lambda a: json.dumps(cluster_autoscaler_policy(a[0], region, a[1]))
        )
        ca_role = irsa_role(
            f"{name}-cluster-autoscaler-role",
            ctx,
            namespace=CLUSTER_AUTOSCALER_NAMESPACE,
            service_account=CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
            policy=ca_policy,
            description="cluster-autoscaler: resize this cluster's GPU node groups",
            parent=self,
        )
        spec = ctx.spec
        cluster_autoscaler = CLUSTER_AUTOSCALER_CHART.release(
            f"{name}-cluster-autoscaler",
            release_name="cluster-autoscaler",
            namespace=CLUSTER_AUTOSCALER_NAMESPACE,
            values=pulumi.Output.all(ctx.cluster_name, ca_role.arn).apply(
                lambda a: cluster_autoscaler_values(spec, region, a[0], a[1])
            ),
            opts=ctx.opts(self, k8s_resource=True),
        )

        pools = {pool.name: pool for pool in ctx.region.gpu_pools}
        for outputs in ctx.gpu_pools:
            asg_name = outputs.autoscaling_group_name
            for key, value in scale_from_zero_tags(pools[outputs.pool_name]).items():
                aws.autoscaling.Tag(
                    f"{name}-{outputs.pool_name}-{tag_resource_suffix(key)}",
                    autoscaling_group_name=asg_name,
                    tag=aws.autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False),
                    opts=ctx.opts(self),
                )

        self.keda_namespace = pulumi.Output.from_input(KEDA_NAMESPACE)
        self.keda_operator_role_arn = keda_role.arn
        self.keda_release = keda
        self.cluster_autoscaler_release = cluster_autoscaler
        self.register_outputs({
            "keda_namespace": self.keda_namespace,
            "keda_operator_role_arn": self.keda_operator_role_arn,
        })
