"""SystemNodeGroup: the small on-demand node group for cluster services.

CoreDNS, the EBS CSI controller, KEDA, cluster-autoscaler and Prometheus run here, never on GPU
nodes (those carry a taint). Its nodes run as the region's node role (`node_role.NodeRole`), which
the GPU pools share; the group is given the role, as each GPU pool is.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.conventions import SYSTEM_LABELS
from infra.spec import ClusterSpec

# The component's type token (RegionalDeployment names it as the former parent of the node role).
COMPONENT_TYPE = "tradeoff-infra:cluster:SystemNodeGroup"
SYSTEM_ROOT_VOLUME_GIB = 50
# Root device name of the EKS-optimized Amazon Linux 2023 AMIs.
ROOT_DEVICE = "/dev/xvda"


@dataclass
class SystemNodeGroupArgs:
    cluster_name: pulumi.Input[str]
    """EKS cluster the node group joins."""
    cluster: ClusterSpec
    """Instance type and count (`cluster.systemNodes`), IMDS hop limit, Kubernetes version."""
    node_role_arn: pulumi.Input[str]
    """The node IAM role the nodes run as (`NodeRole.arn`), shared with the GPU pools."""
    node_role_policies: list[pulumi.Resource]
    """The role's policy attachments (`NodeRole.policy_attachments`): the node group is created after
    them and destroyed before them."""
    subnet_ids: list[pulumi.Input[str]]
    """Private subnets only: nodes never get public addresses."""
    tags: dict[str, str]
    """Tags for the node group, launch template and the instances/volumes it launches."""


def node_launch_template_args(
    name: str, volume_gib: int, hop_limit: int, tags: dict[str, str], *,
    throughput_mibps: int | None = None, iops: int | None = None,
) -> dict:
    """Launch template settings every node group shares: IMDSv2 only, encrypted gp3 root volume
    (gp3's included `infra.sizing.GP3_INCLUDED_IOPS` / `GP3_INCLUDED_THROUGHPUT_MIBPS` unless `iops` /
    `throughput_mibps` raise it)."""
    ebs = {"volume_size": volume_gib, "volume_type": "gp3", "encrypted": "true", "delete_on_termination": "true"}
    if throughput_mibps is not None:
        ebs["throughput"] = throughput_mibps
    if iops is not None:
        ebs["iops"] = iops
    return {
        "description": f"Nodes of {name}: IMDSv2 required, encrypted gp3 root volume",
        "metadata_options": {
            "http_endpoint": "enabled",
            "http_tokens": "required",  # IMDSv2 only: no unauthenticated metadata (SSRF credential theft)
            "http_put_response_hop_limit": hop_limit,
        },
        "block_device_mappings": [{
            "device_name": ROOT_DEVICE,
            "ebs": ebs,
        }],
        "tag_specifications": [
            {"resource_type": "instance", "tags": {**tags, "Name": name}},
            {"resource_type": "volume", "tags": {**tags, "Name": name}},
        ],
        "update_default_version": True,
        "tags": tags,
    }


class SystemNodeGroup(pulumi.ComponentResource):
    node_group: aws.eks.NodeGroup

    def __init__(self, name: str, args: SystemNodeGroupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        nodes = args.cluster.system_nodes

        template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            **node_launch_template_args(name, SYSTEM_ROOT_VOLUME_GIB, args.cluster.imds_hop_limit, args.tags),
            opts=child,
        )
        self.node_group = aws.eks.NodeGroup(
            f"{name}-ng",
            cluster_name=args.cluster_name,
            node_role_arn=args.node_role_arn,
            subnet_ids=args.subnet_ids,
            ami_type="AL2023_x86_64_STANDARD",
            capacity_type="ON_DEMAND",
            instance_types=[nodes.instance_type],
            # Nodes follow the control plane's Kubernetes version (EKS picks the newest AMI release of it).
            version=args.cluster.kubernetes_version,
            # Fixed size: system services are sized for the whole cluster, not for load.
            scaling_config={"min_size": nodes.nodes, "max_size": nodes.nodes, "desired_size": nodes.nodes},
            update_config={"max_unavailable": 1},
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            labels=SYSTEM_LABELS,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.node_role_policies)),
        )
        self.register_outputs({"node_group_name": self.node_group.node_group_name})
