"""GpuPool: one managed node group of GPU instances for vLLM (one per `regions[].gpuPools[]`).

Nodes boot the EKS-optimized AL2023 NVIDIA AMI (driver and container toolkit included), carry a
taint so only GPU workloads land there, and labels the vLLM chart schedules on. The autoscaler
owns the node count after creation, so Pulumi sets it once and then ignores it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import hardware
from infra.components.context import GpuPoolOutputs
from infra.components.system_nodes import node_launch_template_args
from infra.spec import GpuPool as GpuPoolSpec
from infra.spec import StackSpec

GPU_AMI_TYPE = "AL2023_x86_64_NVIDIA"
# The one source of the GPU nodes' labels and taint (docs/architecture.md): the node
# groups set them, the vLLM chart values (infra/chart_values.py), the add-ons' and dcgm-exporter's
# selectors and the cluster-autoscaler ASG tags read them from here.
WORKLOAD_LABEL = "tradeoff-infra.io/workload"
LLM_WORKLOAD = "llm-inference"
GPU_POOL_LABEL = "tradeoff-infra.io/gpu-pool"
GPU_MODEL_LABEL = "tradeoff-infra.io/gpu"
GPU_NODE_SELECTOR = {WORKLOAD_LABEL: LLM_WORKLOAD}
# Taint as Kubernetes writes it (key, value, effect); EKS's API spells the effect NO_SCHEDULE.
GPU_TAINT = ("nvidia.com/gpu", "true", "NoSchedule")
# Root volume of GPU nodes: the startup budget (infra/chart_values.py) assumes the weights load from disk
# at ~250 MB/s, double gp3's 125 MiB/s baseline. gp3 allows up to 1000 MiB/s and 16000 IOPS, with at
# most 0.25 MiB/s per provisioned IOPS (EBS user guide "General Purpose SSD volumes", read 2026-11-24).
GPU_ROOT_VOLUME_THROUGHPUT_MIBPS = 500
GPU_ROOT_VOLUME_IOPS = 6000
CAPACITY_TYPES = {"on-demand": "ON_DEMAND", "spot": "SPOT"}


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
    """The node IAM role shared with the system node group."""
    subnet_ids: list[pulumi.Input[str]]
    """Private subnets only."""
    tags: dict[str, str]
    """Tags for the node group, launch template and instances/volumes."""
    weights_source: str | None = None
    """The weights served in this region when they are not the stack's (a canary's `source`): they
    size the root volume."""


def gpu_node_labels(pool: GpuPoolSpec) -> dict[str, str]:
    """Labels every node of the pool carries."""
    gpu = hardware.instance_type(pool.instance_type).gpu_model
    return {
        **GPU_NODE_SELECTOR,
        GPU_POOL_LABEL: pool.name,
        GPU_MODEL_LABEL: gpu.name if gpu else "unknown",
        "nvidia.com/gpu.present": "true",  # the NVIDIA device plugin chart's node affinity accepts this label
    }


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
        self.node_group = aws.eks.NodeGroup(
            f"{name}-ng",
            cluster_name=args.cluster_name,
            node_role_arn=args.node_role_arn,
            subnet_ids=args.subnet_ids,
            ami_type=GPU_AMI_TYPE,
            capacity_type=CAPACITY_TYPES[pool.capacity_type],
            instance_types=[pool.instance_type],
            scaling_config={"min_size": pool.min_nodes, "max_size": pool.max_nodes, "desired_size": pool.initial_nodes},
            update_config={"max_unavailable": 1},
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            labels=gpu_node_labels(pool),
            taints=[{"key": key, "value": value, "effect": "NO_SCHEDULE"}],
            tags=tags,
            # cluster-autoscaler owns the node count once the pool exists.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["scalingConfig.desiredSize"]),
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
