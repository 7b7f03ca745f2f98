"""RegionalDeployment: everything one region runs, composed in dependency order.

provider -> Network -> Cluster -> NodeRole -> SystemNodeGroup -> GpuPools -> ClusterAddons, then the
RegionContext the edge components build on: Monitoring, Autoscaling, LoadBalancerController,
Certificate (with a hostname), LoadBalancer (+ the regional stack's Route 53 alias to it),
Alarms, VllmService, and with a `gateway` block the Gateway the load balancer then targets.

Resources that moved out of a component into their own (the node role out of SystemNodeGroup; the
certificate, the alarms and the alias record out of LoadBalancer) keep their names and carry an alias
to their former parent, so `pulumi up` on a stack created before moves their state instead of
replacing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.chart_values import weights_service_accounts
from infra.components.addons import ClusterAddons, ClusterAddonsArgs
from infra.components.alarms import Alarms, AlarmsArgs
from infra.components.autoscaling import Autoscaling, AutoscalingArgs
from infra.components.certificate import Certificate, CertificateArgs
from infra.components.cluster import Cluster, ClusterArgs
from infra.components.context import RegionContext
from infra.components.gateway import Gateway, GatewayArgs
from infra.components.gpu_pool import GpuPool, GpuPoolArgs
from infra.components.load_balancer import COMPONENT_TYPE as LOAD_BALANCER_TYPE
from infra.components.load_balancer import LoadBalancer, LoadBalancerArgs
from infra.components.load_balancer_controller import LoadBalancerController, LoadBalancerControllerArgs
from infra.components.monitoring import Monitoring, MonitoringArgs
from infra.components.network import Network, NetworkArgs
from infra.components.node_role import NodeRole, NodeRoleArgs
from infra.components.options import moved_from, wait_for
from infra.components.system_nodes import COMPONENT_TYPE as SYSTEM_NODE_GROUP_TYPE
from infra.components.system_nodes import SystemNodeGroup, SystemNodeGroupArgs
from infra.components.vllm import VllmService, VllmServiceArgs, chart_fullname
from infra.components.weights_mirror import WeightsMirror, WeightsMirrorArgs
from infra.conventions import VLLM_CONTAINER_PORT, VLLM_NAMESPACE
from infra.gateway_config import GATEWAY_PORT, HEALTH_PATH
from infra.naming import base_tags, cluster_name
from infra.spec import RegionSpec, StackSpec, transit_routes


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
    provider_api_keys: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """The gateway's API keys by provider (`providerApiKeys`, secrets); used only with a `gateway` block."""


class RegionalDeployment(pulumi.ComponentResource):
    ctx: RegionContext
    cluster: Cluster
    load_balancer: LoadBalancer
    vllm: VllmService
    weights_mirror: WeightsMirror | None
    gateway: Gateway | None

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

        # One node role for every node group of the region, given to each (pulumi-eks's `nodeRole`).
        system_name = f"{prefix}-system"
        node_role = NodeRole(f"{prefix}-node-role", NodeRoleArgs(
            tags=tags,
            resource_prefix=system_name,
            former_parent=pulumi.create_urn(system_name, SYSTEM_NODE_GROUP_TYPE, parent=self),
        ), opts=on_aws)

        system = SystemNodeGroup(system_name, SystemNodeGroupArgs(
            cluster_name=cluster.cluster_name,
            cluster=spec.cluster,
            node_role_arn=node_role.arn,
            node_role_policies=node_role.policy_attachments,
            subnet_ids=network.private_subnet_ids,
            tags=tags,
        ), opts=pulumi.ResourceOptions.merge(on_aws, wait_for(cluster.addons)))

        pools = [
            GpuPool(f"{prefix}-gpu-{pool.name}", GpuPoolArgs(
                spec=spec,
                pool=pool,
                cluster_name=cluster.cluster_name,
                physical_cluster_name=eks_name,
                node_role_arn=node_role.arn,
                node_role_policies=node_role.policy_attachments,
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
        lb_name = f"{prefix}-lb"
        endpoint = spec.endpoint
        certificate = Certificate(f"{lb_name}-cert", CertificateArgs(
            hostname=endpoint.hostname,
            hosted_zone_id=endpoint.hosted_zone_id,
            # ACM asks every region for the same validation record: the first region writes it.
            owns_validation_record=region.region == spec.regions[0].region,
            former_parent=pulumi.create_urn(lb_name, LOAD_BALANCER_TYPE, parent=self),
        ), opts=on_aws) if endpoint.hostname else None
        # With a gateway the ALB sends clients to the gateway's pods, the gateway to vLLM's Service.
        gateway = spec.gateway is not None
        self.load_balancer = LoadBalancer(lb_name, LoadBalancerArgs(
            ctx=ctx, target_port=GATEWAY_PORT if gateway else VLLM_CONTAINER_PORT,
            certificate_arn=certificate.arn if certificate else None,
            **({"health_check_path": HEALTH_PATH} if gateway else {}),
        ), opts=pulumi.ResourceOptions(parent=self))
        if endpoint.hostname and endpoint.mode == "regional":
            # With one region the ALB is the endpoint; a global stack points the name at the accelerator.
            aws.route53.Record(
                f"{lb_name}-dns",
                zone_id=endpoint.hosted_zone_id,
                name=endpoint.hostname,
                type="A",
                aliases=[aws.route53.RecordAliasArgs(
                    name=self.load_balancer.dns_name, zone_id=self.load_balancer.zone_id, evaluate_target_health=True,
                )],
                opts=pulumi.ResourceOptions.merge(on_aws, pulumi.ResourceOptions(aliases=moved_from(self.load_balancer))),
            )
        low_replicas, _ = spec.replicas_for(region)
        Alarms(f"{lb_name}-alarms", AlarmsArgs(
            load_balancer_name=lb_name,
            region=region.region,
            load_balancer_arn_suffix=self.load_balancer.arn_suffix,
            target_group_arn_suffix=self.load_balancer.target_group_arn_suffix,
            # With scale-to-zero an empty target group is the normal idle state, not an outage (the gateway's
            # pods, when they are the targets, never scale to zero).
            expect_healthy_targets=low_replicas > 0 or gateway,
            topic_arn=monitoring.alarm_topic_arn,
            former_parent=self.load_balancer,
        ), opts=on_aws)
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
            # The ALB's targets are vLLM's pods, or with a gateway the gateway's (its own binding, below).
            target_group_arn=None if gateway else self.load_balancer.target_group_arn,
            weights_mirror=self.weights_mirror.chart_inputs if self.weights_mirror else None,
        ), opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self), after_crds))

        self.gateway = Gateway(f"{prefix}-gateway", GatewayArgs(
            ctx=ctx,
            api_key=args.api_key,
            vllm_service=self.vllm.service_name,
            vllm_namespace=self.vllm.namespace,
            vllm_port=VLLM_CONTAINER_PORT,  # the chart's Service port (chart_values: service.port)
            target_group_arn=self.load_balancer.target_group_arn,
            prometheus_url=monitoring.prometheus_url,
            provider_api_keys=args.provider_api_keys,
        ), opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self), after_crds)) if gateway else None

        self.register_outputs({
            "cluster_name": cluster.cluster_name,
            "load_balancer_dns_name": self.load_balancer.dns_name,
        })
