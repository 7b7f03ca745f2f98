"""What every per-region component needs to know: the spec, the providers and the cluster's outputs.

`RegionalDeployment` fills one `RegionContext` after the network, cluster and node groups exist and
hands it to the components that build on them (vLLM, load balancer, autoscaling, monitoring).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.spec import RegionSpec, StackSpec


@dataclass
class GpuPoolOutputs:
    pool_name: str
    instance_type: str
    node_group_name: pulumi.Output[str]
    autoscaling_group_names: pulumi.Output[list[str]]
    """Names of the ASGs EKS created for the managed node group (for tags and LB attachment)."""

    @property
    def autoscaling_group_name(self) -> pulumi.Output[str]:
        """The node group's ASG: an EKS managed node group owns exactly one (spanning its subnets)."""
        return self.autoscaling_group_names.apply(lambda names: names[0])


@dataclass
class RegionContext:
    spec: StackSpec
    region: RegionSpec
    prefix: str
    """Short, unique resource-name prefix for this region, e.g. `use1`."""
    aws_provider: aws.Provider
    k8s_provider: k8s.Provider
    cluster_name: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_provider_url: pulumi.Output[str]
    """Issuer URL without `https://`, as IAM trust conditions want it."""
    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    node_security_group_id: pulumi.Output[str]
    """The security group GPU and system nodes carry (the EKS cluster security group)."""
    gpu_pools: list[GpuPoolOutputs] = field(default_factory=list)
    system_ready: list[pulumi.Resource] = field(default_factory=list)
    """Resources Helm releases must wait for (system node group, core add-ons)."""

    def opts(self, parent: pulumi.Resource, *, k8s_resource: bool = False, depends_on=None) -> pulumi.ResourceOptions:
        provider = self.k8s_provider if k8s_resource else self.aws_provider
        return pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=depends_on or [])
