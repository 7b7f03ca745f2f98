"""NodeRole: the IAM role every EKS worker node of a region runs as, with the managed policies it needs.

Created once per region by `RegionalDeployment` and passed to the system node group and to every GPU
pool (`node_role_arn`, `node_role_policies`), as pulumi-eks passes a `nodeRole` to its node groups: one
role, so one EKS access entry, and every node group depends on the role's policy attachments, so
`destroy` removes the nodes before their policies are detached (nodes that lose them while draining
cannot pull images or leave the cluster cleanly).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.options import moved_from
from infra.iam import assume_role_policy, managed_policy_arn_for

# AWS managed policies an EKS worker node needs (EKS user guide, "Amazon EKS node IAM role").
NODE_POLICIES = ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy"]


@dataclass
class NodeRoleArgs:
    tags: dict[str, str]
    """Tags for the role."""
    resource_prefix: str
    """Prefix of the role's and its attachments' resource names: `<prefix>-node-role`, `<prefix>-<policy>`.
    `RegionalDeployment` passes its system node group's name, which named them when that group created
    the role, so the role keeps its name (and physical name) in existing stacks."""
    former_parent: pulumi.Input[str] | None = None
    """URN of the component the role and attachments were created under before this one existed (the
    system node group): they carry an alias to it, so `pulumi up` on an existing stack moves them here
    instead of replacing them. None for none."""


class NodeRole(pulumi.ComponentResource):
    """IAM role assumable by EC2 + the EKS worker, ECR read-only and CNI managed policy attachments."""

    arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    policy_attachments: list[aws.iam.RolePolicyAttachment]
    """Every node group using the role depends on these."""

    def __init__(self, name: str, args: NodeRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tradeoff-infra:cluster:NodeRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, aliases=moved_from(args.former_parent))
        role = aws.iam.Role(
            f"{args.resource_prefix}-node-role",
            assume_role_policy=json.dumps(assume_role_policy("ec2.amazonaws.com")),
            description="EKS worker nodes (system and GPU node groups)",
            tags=args.tags,
            opts=child,
        )
        self.policy_attachments = [
            aws.iam.RolePolicyAttachment(
                f"{args.resource_prefix}-{policy}", role=role.name,
                policy_arn=role.arn.apply(lambda arn, policy=policy: managed_policy_arn_for(policy, arn)), opts=child,
            )
            for policy in NODE_POLICIES
        ]
        self.arn = role.arn
        self.role_name = role.name
        self.register_outputs({"arn": self.arn, "role_name": self.role_name})
