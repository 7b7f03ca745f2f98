"""The vLLM service in one region: namespace, secrets, and the local `charts/vllm` chart.

Values come from `infra.chart_values.vllm_values` (the chart's contract); this component only
supplies what needs Pulumi outputs (Prometheus URL, ALB and target-group ARNs, the VPC id) and the
secrets. The namespace carries the AWS Load Balancer Controller's readiness-gate label, and the
chart's TargetGroupBinding binds the region's ALB target group to the vLLM pods' IPs. The chart is rendered by `helm template` (a `kubernetes:helm:template` invoke), so its
objects become ordinary Pulumi resources.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import chart_values
from infra.components.context import RegionContext
from infra.components.load_balancer_controller import READINESS_GATE_INJECT_LABEL, TARGET_GROUP_BINDING_API_VERSION
from infra.conventions import (
    API_KEY_SECRET_KEY, API_KEY_SECRET_NAME, HUGGINGFACE_TOKEN_SECRET_KEY, HUGGINGFACE_TOKEN_SECRET_NAME, VLLM_CHART_NAME,
    VLLM_NAMESPACE,
)
from infra.price_catalog import MissingPrice, hourly_usd
from infra.spec import RegionSpec

NAMESPACE = VLLM_NAMESPACE
CHART_NAME = VLLM_CHART_NAME
CHART_PATH = pathlib.Path(__file__).resolve().parents[2] / "charts" / "vllm"
# CRD-backed kinds the chart renders (ScaledObject, ServiceMonitor, PrometheusRule, TargetGroupBinding):
# installed by KEDA, kube-prometheus-stack and the AWS Load Balancer Controller before this chart, so
# `helm template` may assume them.
API_VERSIONS = ["keda.sh/v1alpha1", "monitoring.coreos.com/v1", TARGET_GROUP_BINDING_API_VERSION]


def chart_fullname(release_name: str) -> str:
    """Name the chart gives its objects (charts/vllm/templates/_helpers.tpl `vllm.fullname`)."""
    name = release_name if CHART_NAME in release_name else f"{release_name}-{CHART_NAME}"
    return name[:63].rstrip("-")


def gpu_node_hourly_usd(region: RegionSpec) -> float | None:
    """$/h of one node of the region's first GPU pool, for the dashboard's cost per token.

    None (the dashboard shows no price) when the catalog lacks it: the estimate reports missing
    prices as errors; a dashboard must not fail a deployment over one.
    """
    pool = region.gpu_pools[0]
    try:
        return float(hourly_usd(region.region, pool.instance_type, pool.capacity_type))
    except MissingPrice:
        return None


def _replace_binding_on_new_target_group(obj: dict, opts: pulumi.ResourceOptions) -> None:
    """Chart transformation: a TargetGroupBinding's targetGroupARN is immutable (the controller's webhook
    refuses the change), so a replaced target group replaces the binding (deleted first: same name)."""
    if obj.get("kind") == "TargetGroupBinding":
        opts.replace_on_changes = [*(opts.replace_on_changes or []), "spec.targetGroupARN"]
        opts.delete_before_replace = True


def _depend_on(resources: list[pulumi.Resource]):
    """Chart transformation: every rendered object waits for `resources`."""

    def transform(_obj: dict, opts: pulumi.ResourceOptions) -> None:
        current = opts.depends_on or []
        current = list(current) if isinstance(current, (list, tuple)) else [current]
        opts.depends_on = [*current, *resources]

    return transform


@dataclass
class VllmServiceArgs:
    ctx: RegionContext
    """The region's spec, providers and cluster outputs."""
    api_key: pulumi.Input[str]
    """The key clients must send (`tradeoff-infra:vllmApiKey`, a secret)."""
    prometheus_url: pulumi.Input[str]
    """In-cluster Prometheus URL KEDA's prometheus triggers query (`Monitoring.prometheus_url`)."""
    huggingface_token: pulumi.Input[str] | None = None
    """Token for gated Hugging Face repositories (`tradeoff-infra:huggingfaceToken`), if any."""
    load_balancer_arn_suffix: pulumi.Input[str] | None = None
    """`app/...` of the region's ALB: the scale-from-zero CloudWatch trigger's dimension."""
    target_group_arn_suffix: pulumi.Input[str] | None = None
    """`targetgroup/...` of the vLLM target group: the same trigger's other dimension."""
    target_group_arn: pulumi.Input[str] | None = None
    """The ALB target group (IP targets) the chart's TargetGroupBinding fills with the pods' IPs."""
    weights_mirror: pulumi.Input[dict] | None = None
    """The region's `WeightsMirror.chart_inputs` when its weights come from the in-region mirror."""


class VllmService(pulumi.ComponentResource):
    """Namespace `vllm`, the API-key (and Hugging Face token) secrets, and the vLLM chart."""

    namespace: pulumi.Output[str]
    service_name: pulumi.Output[str]
    model_path: pulumi.Output[str]

    def __init__(self, name: str, args: VllmServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tradeoff-infra:vllm:VllmService", name, None, opts)
        ctx = args.ctx
        spec, region = ctx.spec, ctx.region
        on_cluster = ctx.opts(self, k8s_resource=True)

        # The label makes the load balancer controller's webhook add the target-health readiness gate to new pods
        # (the chart also declares it, so a pod created while the webhook is away still waits for its target).
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": NAMESPACE, "labels": {READINESS_GATE_INJECT_LABEL: "enabled"}},
            opts=on_cluster,
        )
        in_namespace = ctx.opts(self, k8s_resource=True, depends_on=[namespace])
        secrets = [
            k8s.core.v1.Secret(
                f"{name}-api-key",
                metadata={"name": API_KEY_SECRET_NAME, "namespace": NAMESPACE},
                type="Opaque",
                string_data={API_KEY_SECRET_KEY: pulumi.Output.secret(args.api_key)},
                opts=in_namespace,
            )
        ]
        token_secret = None
        if args.huggingface_token is not None:
            token_secret = HUGGINGFACE_TOKEN_SECRET_NAME
            secrets.append(k8s.core.v1.Secret(
                f"{name}-huggingface-token",
                metadata={"name": HUGGINGFACE_TOKEN_SECRET_NAME, "namespace": NAMESPACE},
                type="Opaque",
                string_data={HUGGINGFACE_TOKEN_SECRET_KEY: pulumi.Output.secret(args.huggingface_token)},
                opts=in_namespace,
            ))

        price = gpu_node_hourly_usd(region)
        values = pulumi.Output.all(
            args.prometheus_url, args.load_balancer_arn_suffix, args.target_group_arn_suffix, args.target_group_arn,
            ctx.vpc_id, args.weights_mirror,
        ).apply(lambda a: chart_values.vllm_values(
            spec,
            region,
            prometheus_url=a[0],
            gpu_hourly_price_usd=price,
            load_balancer_arn_suffix=a[1],
            target_group_arn_suffix=a[2],
            huggingface_token_secret=token_secret,
            target_group_arn=a[3],
            vpc_id=a[4],
            weights_mirror=a[5],
        ))
        # The chart's objects are children of the Chart and do not inherit its depends_on: they need the
        # namespace and the secrets from here. The CRDs (KEDA, Prometheus Operator) come from the caller's
        # `options.wait_for` transformation, which every descendant inherits.
        prerequisites = [namespace, *secrets]
        k8s.helm.v3.Chart(
            name,
            k8s.helm.v3.LocalChartOpts(
                path=str(CHART_PATH),
                namespace=NAMESPACE,
                values=values,
                api_versions=API_VERSIONS,
                transformations=[_depend_on(prerequisites), _replace_binding_on_new_target_group],
            ),
            opts=ctx.opts(self, k8s_resource=True, depends_on=prerequisites),
        )

        # What `--model` loads: the mirror's s3:// path of the pinned revision, or source@revision on Hugging Face.
        self.model_path = values.apply(lambda v: v["weightsMirror"]["modelUri"]
                                       or f"{v['model']['source']}@{v['model']['revision']}")
        self.namespace = pulumi.Output.from_input(NAMESPACE)
        self.service_name = pulumi.Output.from_input(chart_fullname(name))
        self.register_outputs({"namespace": self.namespace, "service_name": self.service_name,
                               "model_path": self.model_path})
