"""The hybrid gateway in one region (stacks with `gateway`): LiteLLM's proxy between the ALB and vLLM.

client -> ALB (the region's target group, now of the gateway pods' IPs through this component's
TargetGroupBinding) -> gateway Service/pods (port GATEWAY_PORT) -> vLLM's in-cluster Service, or an API
provider per the routes (`infra/gateway_config.py`). The manifests are `infra/gateway_objects.py`'s; the
alert rules and the dashboard `infra/gateway_monitoring.py`'s. Objects: namespace, ConfigMap (the rendered
config and the request hook, from `gateway_config.render_files`), Secret (client/master key = `vllmApiKey`, vLLM's key, provider keys), Deployment, Service,
PodDisruptionBudget, KEDA ScaledObject (CPU; KEDA runs the HorizontalPodAutoscaler), NetworkPolicy, ServiceMonitor,
PrometheusRule, the Grafana dashboard's ConfigMap and the TargetGroupBinding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from infra import gateway_monitoring, gateway_objects
from infra.components.context import RegionContext
from infra.components.load_balancer_controller import READINESS_GATE_INJECT_LABEL, TARGET_GROUP_BINDING_API_VERSION
from infra.conventions import GATEWAY_NAMESPACE
from infra.gateway_config import LITELLM_IMAGE, MASTER_KEY_ENV, VLLM_KEY_ENV, provider_key_env
from infra.spec import gateway_providers

COMPONENT_TYPE = "tradeoff-infra:gateway:Gateway"


@dataclass
class GatewayArgs:
    ctx: RegionContext
    """The region's spec, providers and cluster outputs."""
    api_key: pulumi.Input[str]
    """`vllmApiKey` (secret): the key clients send to the gateway (its master key) and the gateway sends to vLLM."""
    vllm_service: pulumi.Input[str]
    """vLLM's Service name in `vllm_namespace` (`VllmService.service_name`)."""
    vllm_namespace: pulumi.Input[str]
    vllm_port: int
    """vLLM's Service port."""
    target_group_arn: pulumi.Input[str]
    """The region's ALB target group: the gateway's pods become its IP targets."""
    prometheus_url: pulumi.Input[str]
    """In-cluster Prometheus URL the scaling trigger queries (`Monitoring.prometheus_url`)."""
    provider_api_keys: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """`providerApiKeys.<provider>` (secrets). A provider without one is left out of the Secret: `pulumi up`
    stops before this (infra/__main__.py), a preview only warns."""


class Gateway(pulumi.ComponentResource):
    """LiteLLM's proxy and everything around it, in namespace `gateway`."""

    namespace: pulumi.Output[str]
    service_name: pulumi.Output[str]
    image: pulumi.Output[str]

    def __init__(self, name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        ctx = args.ctx
        spec, region = ctx.spec, ctx.region
        if spec.gateway is None:
            raise ValueError(f"{name}: the stack has no gateway block")
        on_cluster = ctx.opts(self, k8s_resource=True)

        ns = gateway_objects.namespace({READINESS_GATE_INJECT_LABEL: "enabled"})
        namespace = k8s.core.v1.Namespace(f"{name}-namespace", metadata=ns["metadata"], opts=on_cluster)
        inside = ctx.opts(self, k8s_resource=True, depends_on=[namespace])

        def manifest(resource_type, suffix: str, obj: dict, depends_on=None):
            body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
            return resource_type(f"{name}-{suffix}", **body,
                                 opts=ctx.opts(self, k8s_resource=True, depends_on=[namespace, *(depends_on or [])]))

        # Every file render_files gives (the config and the hook module LiteLLM loads from beside it), rendered
        # for this region (its overflow limits), mounted together in CONFIG_DIR.
        files = pulumi.Output.all(args.vllm_service, args.vllm_namespace).apply(
            lambda a: gateway_objects.config_files(
                spec, region, vllm_url=gateway_objects.vllm_base_url(a[0], a[1], args.vllm_port)))
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=gateway_objects.metadata(),
            data=files,
            opts=inside,
        )
        keys: dict[str, pulumi.Input[str]] = {MASTER_KEY_ENV: args.api_key, VLLM_KEY_ENV: args.api_key}
        for provider in gateway_providers(spec):
            if provider in args.provider_api_keys:
                keys[provider_key_env(provider)] = args.provider_api_keys[provider]
        secret = k8s.core.v1.Secret(
            f"{name}-keys",
            metadata=gateway_objects.metadata(gateway_objects.SECRET_NAME),
            type="Opaque",
            string_data={key: pulumi.Output.secret(value) for key, value in keys.items()},
            opts=inside,
        )
        service = manifest(k8s.core.v1.Service, "service", gateway_objects.service())
        # The binding waits for the Service only: the pods' readiness gate waits for the binding.
        k8s.apiextensions.CustomResource(
            f"{name}-target-group-binding",
            api_version=TARGET_GROUP_BINDING_API_VERSION,
            kind="TargetGroupBinding",
            metadata=gateway_objects.metadata(),
            spec=pulumi.Output.all(args.target_group_arn, ctx.vpc_id).apply(
                lambda a: gateway_objects.target_group_binding(
                    target_group_arn=a[0], vpc_id=a[1], api_version=TARGET_GROUP_BINDING_API_VERSION)["spec"]),
            opts=pulumi.ResourceOptions.merge(
                ctx.opts(self, k8s_resource=True, depends_on=[namespace, service]),
                # targetGroupARN is immutable (the controller's webhook refuses the change), as for vLLM's binding.
                pulumi.ResourceOptions(replace_on_changes=["spec.targetGroupARN"], delete_before_replace=True)),
        )
        deployment = files.apply(lambda data: gateway_objects.deployment(
            spec, files=data, target_health_condition=gateway_objects.target_health_condition()))
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=gateway_objects.metadata(),
            spec=deployment.apply(lambda d: d["spec"]),
            opts=ctx.opts(self, k8s_resource=True, depends_on=[namespace, config_map, secret]),
        )
        manifest(k8s.policy.v1.PodDisruptionBudget, "pdb", gateway_objects.pod_disruption_budget())
        scaling = pulumi.Output.from_input(args.prometheus_url).apply(
            lambda url: gateway_objects.scaled_object(spec, prometheus_url=url))
        k8s.apiextensions.CustomResource(
            f"{name}-scaling", api_version="keda.sh/v1alpha1", kind="ScaledObject",
            metadata=gateway_objects.metadata(), spec=scaling.apply(lambda o: o["spec"]), opts=inside)
        manifest(k8s.networking.v1.NetworkPolicy, "network-policy", gateway_objects.network_policy(spec, region))
        monitor = gateway_objects.service_monitor()
        k8s.apiextensions.CustomResource(
            f"{name}-service-monitor", api_version=monitor["apiVersion"], kind=monitor["kind"],
            metadata=monitor["metadata"], spec=monitor["spec"], opts=inside)
        k8s.apiextensions.CustomResource(
            f"{name}-alerts", api_version="monitoring.coreos.com/v1", kind="PrometheusRule",
            metadata=gateway_objects.metadata(),
            spec=gateway_monitoring.alert_rules(spec), opts=inside)
        k8s.core.v1.ConfigMap(
            f"{name}-dashboard",
            metadata=gateway_objects.dashboard_metadata(),
            data={"gateway.json": gateway_monitoring.dashboard_json(spec, region.region)},
            opts=inside,
        )

        self.namespace = pulumi.Output.from_input(GATEWAY_NAMESPACE)
        self.service_name = pulumi.Output.from_input(gateway_objects.NAME)
        self.image = pulumi.Output.from_input(LITELLM_IMAGE)
        self.register_outputs({"namespace": self.namespace, "service_name": self.service_name, "image": self.image})
