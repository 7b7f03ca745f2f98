"""GpuPool: one managed node group of GPU instances for vLLM (one per `regions[].gpuPools[]`).

Nodes boot the EKS-optimized AL2023 NVIDIA AMI (driver and container toolkit included), carry a
taint so only GPU workloads land there, and labels the vLLM chart schedules on. cluster-autoscaler
moves the node count between `minNodes` and `maxNodes`; every `pulumi up` sends the count the pool
runs now (read from its Auto Scaling group), so changing min or max never shrinks a busy pool.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import hardware
from infra.components.context import GpuPoolOutputs
from infra.components.system_nodes import node_launch_template_args
from infra.conventions import EKS_CAPACITY_TYPES, GPU_MODEL_LABEL, GPU_NODE_SELECTOR, GPU_POOL_LABEL, GPU_TAINT
from infra.sizing import GPU_ROOT_VOLUME_IOPS, GPU_ROOT_VOLUME_THROUGHPUT_MIBPS
from infra.spec import GpuPoolSpec, StackSpec

GPU_AMI_TYPE = "AL2023_x86_64_NVIDIA"
# cluster-autoscaler's GPU label on AWS (cluster-autoscaler/cloudprovider/aws/README.md "Special note on
# GPU instances", CA >= 1.15; `GPULabel` in aws_cloud_provider.go): a node that carries it but does not
# advertise `nvidia.com/gpu` yet counts as "GPU not ready" instead of as a node without GPUs, so the
# autoscaler does not scale out again while the device plugin starts. Value: the GPU type.
ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"
# GPU type names cluster-autoscaler's AWS provider lists (`availableGPUTypes`, aws_cloud_provider.go); other
# GPUs get "nvidia-<model>" in the same style (its scale-up logic only checks that the label is present).
ACCELERATOR_NAMES = {"A10G": "nvidia-a10g", "A100-40GB": "nvidia-tesla-a100", "A100-80GB": "nvidia-tesla-a100"}
# EKS's spelling of each capacity type (reserved-1y pools launch as on-demand): one home, infra/conventions.py.
CAPACITY_TYPES = EKS_CAPACITY_TYPES
# cluster-autoscaler's scale-from-zero ASG tags (cluster-autoscaler/cloudprovider/aws/README.md "Auto-Discovery
# Setup"): `<prefix>/label/<key>`, `<prefix>/taint/<key>`, `<prefix>/resources/<resource>`.
NODE_TEMPLATE = "k8s.io/cluster-autoscaler/node-template"
# EKS tags every managed node group's Auto Scaling group with its cluster's name.
EKS_CLUSTER_NAME_TAG = "eks:cluster-name"


@dataclass
class GpuPoolArgs:
    spec: StackSpec
    """The whole stack spec (model size sets the root volume)."""
    pool: GpuPoolSpec
    """This pool's instance type, capacity type and node counts."""
    cluster_name: pulumi.Input[str]
    """EKS cluster the node group joins; also names the cluster-autoscaler discovery tag."""
    physical_cluster_name: str
    """The cluster name as a plain string, for tag keys."""
    node_role_arn: pulumi.Input[str]
    """The region's node IAM role (`NodeRole.arn`), shared with the system node group."""
    node_role_policies: list[pulumi.Resource]
    """The role's policy attachments: the node group is created after them and destroyed before them
    (nodes that lose their policies while draining cannot pull images or leave the cluster cleanly)."""
    subnet_ids: list[pulumi.Input[str]]
    """Private subnets only."""
    tags: dict[str, str]
    """Tags for the node group, launch template and instances/volumes."""
    weights_source: str | None = None
    """The weights served in this region when they are not the stack's (a canary's `source`): they
    size the root volume."""


def accelerator_name(gpu_model: str) -> str:
    """The `k8s.amazonaws.com/accelerator` value of a GPU model, e.g. `L40S` -> `nvidia-l40s`."""
    return ACCELERATOR_NAMES.get(gpu_model, f"nvidia-{gpu_model.lower()}")


def gpu_node_labels(pool: GpuPoolSpec) -> dict[str, str]:
    """Labels every node of the pool carries."""
    gpu = hardware.instance_type(pool.instance_type).gpu_model
    return {
        **GPU_NODE_SELECTOR,
        GPU_POOL_LABEL: pool.name,
        GPU_MODEL_LABEL: gpu.name if gpu else "unknown",
        ACCELERATOR_LABEL: accelerator_name(gpu.name) if gpu else "unknown",
        "nvidia.com/gpu.present": "true",  # the NVIDIA device plugin chart's node affinity accepts this label
    }


def node_template_label_tag(label: str) -> str:
    """The ASG tag key that tells cluster-autoscaler a node of the group will carry `label`."""
    return f"{NODE_TEMPLATE}/label/{label}"


def desired_size(min_nodes: int, max_nodes: int, initial_nodes: int, live_desired: int | None) -> int:
    """The desired size to send for a pool: what it runs now (`live_desired`, its Auto Scaling group's
    desired capacity, None before the pool exists), never below `min_nodes`; `initial_nodes` for a new
    pool; always within [min_nodes, max_nodes] (EKS rejects anything else). Raising or lowering min or
    max therefore never shrinks a running pool below what cluster-autoscaler gave it, except to max."""
    wanted = initial_nodes if live_desired is None else max(min_nodes, live_desired)
    return min(max_nodes, max(min_nodes, wanted))


def pool_asg_filters(cluster_name: str, pool_name: str) -> list[dict]:
    """DescribeAutoScalingGroups filters that find this pool's ASG: EKS's cluster tag and the pool's
    scale-from-zero label tag (`Autoscaling` writes it on the ASG, next to the autoscaler's release)."""
    return [
        {"name": f"tag:{EKS_CLUSTER_NAME_TAG}", "values": [cluster_name]},
        {"name": f"tag:{node_template_label_tag(GPU_POOL_LABEL)}", "values": [pool_name]},
    ]


def live_desired_capacity(cluster_name: str, pool_name: str, opts: pulumi.InvokeOptions) -> pulumi.Output[int | None]:
    """The pool's ASG desired capacity now, None when no ASG exists yet (first `up`: the list is empty)."""
    found = aws.autoscaling.get_ami_ids_output(filters=pool_asg_filters(cluster_name, pool_name), opts=opts)

    def capacities(names: list[str]) -> pulumi.Output[int | None]:
        groups = [aws.autoscaling.get_group_output(name=n, opts=opts).desired_capacity for n in sorted(names)]
        return pulumi.Output.all(*groups).apply(lambda caps: max((int(c) for c in caps), default=None))

    return found.names.apply(lambda names: capacities(list(names or [])))


def autoscaler_discovery_tags(cluster_name: str) -> dict[str, str]:
    """Tags cluster-autoscaler's `--node-group-auto-discovery=asg:tag=...` looks for."""
    return {"k8s.io/cluster-autoscaler/enabled": "true", f"k8s.io/cluster-autoscaler/{cluster_name}": "owned"}


class GpuPool(pulumi.ComponentResource):
    outputs: GpuPoolOutputs
    node_group: aws.eks.NodeGroup

    def __init__(self, name: str, args: GpuPoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tradeoff-infra:gpu:GpuPool", name, None, opts)
        pool = args.pool
        tags = {**args.tags, **autoscaler_discovery_tags(args.physical_cluster_name), "tradeoff-infra/gpu-pool": pool.name}
        template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            **node_launch_template_args(
                name, args.spec.disk_size_gib(pool, args.weights_source), args.spec.cluster.imds_hop_limit, tags,
                throughput_mibps=GPU_ROOT_VOLUME_THROUGHPUT_MIBPS, iops=GPU_ROOT_VOLUME_IOPS,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        key, value, _ = GPU_TAINT
        live = live_desired_capacity(args.physical_cluster_name, pool.name, pulumi.InvokeOptions(parent=self))
        self.node_group = aws.eks.NodeGroup(
            f"{name}-ng",
            cluster_name=args.cluster_name,
            node_role_arn=args.node_role_arn,
            subnet_ids=args.subnet_ids,
            ami_type=GPU_AMI_TYPE,
            capacity_type=CAPACITY_TYPES[pool.capacity_type],
            instance_types=[pool.instance_type],
            # Nodes follow the control plane's Kubernetes version (EKS picks the newest AMI release of it).
            version=args.spec.cluster.kubernetes_version,
            scaling_config={
                "min_size": pool.min_nodes,
                "max_size": pool.max_nodes,
                "desired_size": live.apply(lambda n: desired_size(pool.min_nodes, pool.max_nodes, pool.initial_nodes, n)),
            },
            update_config={"max_unavailable": 1},
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            labels=gpu_node_labels(pool),
            taints=[{"key": key, "value": value, "effect": "NO_SCHEDULE"}],
            tags=tags,
            # No ignore_changes on the desired size: with it the provider would send the size of the first
            # `up` whenever min or max change. The size sent is the live one instead (desired_size()).
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.node_role_policies)),
        )
        self.outputs = GpuPoolOutputs(
            pool_name=pool.name,
            instance_type=pool.instance_type,
            node_group_name=self.node_group.node_group_name,
            autoscaling_group_names=self.node_group.resources.apply(
                lambda resources: [asg.name for r in resources for asg in (r.autoscaling_groups or [])]
            ),
        )
        self.register_outputs({
            "node_group_name": self.outputs.node_group_name,
            "autoscaling_group_names": self.outputs.autoscaling_group_names,
        })
