"""RegionalDeployment: everything one region runs, composed in dependency order.

provider -> Network -> Cluster -> SystemNodeGroup -> GpuPools -> ClusterAddons, then the
RegionContext the edge components build on: Monitoring, Autoscaling, LoadBalancerController,
LoadBalancer, VllmService.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.chart_values import VLLM_CONTAINER_PORT, weights_service_accounts
from infra.components.addons import ClusterAddons, ClusterAddonsArgs
from infra.components.autoscaling import Autoscaling, AutoscalingArgs
from infra.components.cluster import Cluster, ClusterArgs
from infra.components.context import RegionContext
from infra.components.gpu_pool import GpuPool, GpuPoolArgs
from infra.components.load_balancer import LoadBalancer, LoadBalancerArgs
from infra.components.load_balancer_controller import LoadBalancerController, LoadBalancerControllerArgs
from infra.components.monitoring import Monitoring, MonitoringArgs
from infra.components.network import Network, NetworkArgs
from infra.components.system_nodes import SystemNodeGroup, SystemNodeGroupArgs
from infra.components.vllm import NAMESPACE as VLLM_NAMESPACE
from infra.components.vllm import VllmService, VllmServiceArgs, chart_fullname
from infra.components.weights_mirror import WeightsMirror, WeightsMirrorArgs
from infra.spec import PROJECT, RegionSpec, StackSpec, transit_routes


def cluster_name(stack: str, prefix: str) -> str:
    """Physical EKS cluster name: unique per stack and region, within EKS's 100-character pattern."""
    safe_stack = re.sub(r"[^A-Za-z0-9-]", "-", stack)
    return f"{PROJECT}-{safe_stack}-{prefix}"[:100]


def base_tags(stack: str, region: str) -> dict[str, str]:
    """Tags on every AWS resource of a region (the provider's default tags; launch templates repeat them)."""
    return {"tradeoff-infra/stack": stack, "tradeoff-infra/region": region, "managed-by": "pulumi"}


def wait_for(resources: list[pulumi.Resource]) -> pulumi.ResourceOptions:
    """Options that make a component *and every resource inside it* wait for `resources`.

    A component's own `depends_on` does not reach its children's registrations; a transformation
    (inherited by all descendants, Helm chart objects included) does.
    """

    def add_dependencies(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult:
        return pulumi.ResourceTransformationResult(
            args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(depends_on=resources))
        )

    return pulumi.ResourceOptions(depends_on=resources, transformations=[add_dependencies])


@dataclass
class RegionalDeploymentArgs:
    spec: StackSpec
    """The whole stack spec."""
    region: RegionSpec
    """The region to deploy."""
    prefix: str
    """Short resource-name prefix for the region, e.g. `use1`."""
    stack: str
    """Pulumi stack name (cluster name and tags)."""
    api_key: pulumi.Input[str]
    """vLLM API key (secret)."""
    huggingface_token: pulumi.Input[str] | None = None
    """Hugging Face token for gated repositories (secret), if any."""
    aws_profile: str | None = None
    """The stack's `aws:profile`, for the region's provider and its kubeconfig."""


class RegionalDeployment(pulumi.ComponentResource):
    ctx: RegionContext
    cluster: Cluster
    load_balancer: LoadBalancer
    vllm: VllmService
    weights_mirror: WeightsMirror | None

    def __init__(self, name: str, args: RegionalDeploymentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tradeoff-infra:region:RegionalDeployment", name, None, opts)
        spec, region, prefix = args.spec, args.region, args.prefix
        tags = base_tags(args.stack, region.region)
        eks_name = cluster_name(args.stack, prefix)

        provider = aws.Provider(
            f"{prefix}-aws",
            region=region.region,
            profile=args.aws_profile,
            default_tags={"tags": tags},
            opts=pulumi.ResourceOptions(parent=self),
        )
        on_aws = pulumi.ResourceOptions(parent=self, providers=[provider])

        network = Network(f"{prefix}-net", NetworkArgs(
            vpc_cidr=region.vpc_cidr,
            network=spec.network,
            cluster_name=eks_name,
            region=region.region,
            instance_types=sorted({p.instance_type for p in region.gpu_pools} | {spec.cluster.system_nodes.instance_type}),
            tags=tags,
            transit_gateway_id=region.transit_gateway_id,
            transit_cidrs=transit_routes(region.vpc_cidr, spec.cluster.private_access_cidrs),
        ), opts=on_aws)

        self.cluster = Cluster(f"{prefix}-cluster", ClusterArgs(
            cluster_name=eks_name,
            cluster=spec.cluster,
            region=region.region,
            subnet_ids=network.private_subnet_ids,
            tags=tags,
            aws_profile=args.aws_profile,
            api_reachable_after=network.connectivity,
        ), opts=on_aws)
        cluster = self.cluster

        system = SystemNodeGroup(f"{prefix}-system", SystemNodeGroupArgs(
            cluster_name=cluster.cluster_name,
            cluster=spec.cluster,
            subnet_ids=network.private_subnet_ids,
            tags=tags,
        ), opts=pulumi.ResourceOptions.merge(on_aws, wait_for(cluster.addons)))

        pools = [
            GpuPool(f"{prefix}-gpu-{pool.name}", GpuPoolArgs(
                spec=spec,
                pool=pool,
                cluster_name=cluster.cluster_name,
                physical_cluster_name=eks_name,
                node_role_arn=system.node_role_arn,
                node_role_policies=system.node_role_policies,
                subnet_ids=network.private_subnet_ids,
                tags=tags,
                weights_source=spec.model_for(region)[0],
            ), opts=pulumi.ResourceOptions.merge(on_aws, wait_for(cluster.addons)))
            for pool in region.gpu_pools
        ]

        addons = ClusterAddons(f"{prefix}-addons", ClusterAddonsArgs(
            cluster_name=cluster.cluster_name,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_provider_url=cluster.oidc_provider_url,
            k8s_provider=cluster.k8s_provider,
            tags=tags,
            kubernetes_version=spec.cluster.kubernetes_version,
        ), opts=pulumi.ResourceOptions.merge(on_aws, wait_for([system])))

        self.ctx = ctx = RegionContext(
            spec=spec,
            region=region,
            prefix=prefix,
            aws_provider=provider,
            k8s_provider=cluster.k8s_provider,
            cluster_name=cluster.cluster_name,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_provider_url=cluster.oidc_provider_url,
            vpc_id=network.vpc_id,
            public_subnet_ids=network.public_subnet_ids,
            private_subnet_ids=network.private_subnet_ids,
            node_security_group_id=cluster.security_group_id,
            gpu_pools=[p.outputs for p in pools],
            system_ready=[system, addons],
        )

        in_cluster = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self), wait_for(ctx.system_ready))
        monitoring = Monitoring(f"{prefix}-monitoring", MonitoringArgs(ctx=ctx), opts=in_cluster)
        autoscaling = Autoscaling(f"{prefix}-autoscaling", AutoscalingArgs(ctx=ctx), opts=in_cluster)
        lb_controller = LoadBalancerController(f"{prefix}-lbc", LoadBalancerControllerArgs(ctx=ctx), opts=in_cluster)
        self.load_balancer = LoadBalancer(f"{prefix}-lb", LoadBalancerArgs(
            ctx=ctx, target_port=VLLM_CONTAINER_PORT, alarm_topic_arn=monitoring.alarm_topic_arn,
        ), opts=pulumi.ResourceOptions(parent=self))
        # Large weights come from an in-region S3 mirror instead of Hugging Face through NAT (model.weightsMirror).
        vllm_name = f"{prefix}-vllm"
        reader_account, writer_account = weights_service_accounts(chart_fullname(vllm_name))
        self.weights_mirror = WeightsMirror(f"{prefix}-weights", WeightsMirrorArgs(
            ctx=ctx, stack=args.stack, namespace=VLLM_NAMESPACE, reader_service_account=reader_account,
            writer_service_account=writer_account, tags=tags,
        ), opts=pulumi.ResourceOptions(parent=self)) if spec.weights_mirror_for(region) else None
        # The chart's ServiceMonitor, PrometheusRule, ScaledObject and TargetGroupBinding need the CRDs (and the
        # binding the controller's webhooks) those releases install; on destroy the controller outlives the
        # binding, so it can deregister the targets and drop the binding's finalizer.
        after_crds = wait_for([*ctx.system_ready, monitoring, autoscaling, lb_controller])
        self.vllm = VllmService(vllm_name, VllmServiceArgs(
            ctx=ctx,
            api_key=args.api_key,
            huggingface_token=args.huggingface_token,
            prometheus_url=monitoring.prometheus_url,
            load_balancer_arn_suffix=self.load_balancer.arn_suffix,
            target_group_arn_suffix=self.load_balancer.target_group_arn_suffix,
            target_group_arn=self.load_balancer.target_group_arn,
            weights_mirror=self.weights_mirror.chart_inputs if self.weights_mirror else None,
        ), opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self), after_crds))

        self.register_outputs({
            "cluster_name": cluster.cluster_name,
            "load_balancer_dns_name": self.load_balancer.dns_name,
        })
