"""Monitoring in one region: Prometheus (+ Grafana, Alertmanager) via kube-prometheus-stack, GPU metrics
via NVIDIA dcgm-exporter, and the region's alarm topic (SNS) that both the CloudWatch alarms and
Alertmanager (for the Prometheus alerts) notify, so on-call has one inbox per region.

Prometheus picks up every ServiceMonitor / PrometheusRule in the cluster (the vLLM chart ships
its own), and Grafana loads every ConfigMap labelled `grafana_dashboard: "1"` in any namespace.
KEDA reads vLLM's metrics from this Prometheus, so it is installed even when
`monitoring.enabled` is false; that switch only drops Grafana and the GPU exporter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.components.addons import DEFAULT_STORAGE_CLASS
from infra.components.context import RegionContext
from infra.components.pinned_chart import PinnedChart
from infra.components.service_account_role import irsa_role
from infra.conventions import (
    GPU_NODE_SELECTOR, GPU_TAINT, MONITORING_NAMESPACE, NODE_COST_LABELS, PROMETHEUS_FULLNAME, PROMETHEUS_PORT,
    PROMETHEUS_SERVICE, SYSTEM_LABELS,
)
from infra.iam import POLICY_VERSION
from infra.spec import MonitoringSpec

NAMESPACE = MONITORING_NAMESPACE
# Charts pinned to the newest release in each chart repository's git history (read 2026-11-24).
KUBE_PROMETHEUS_STACK_CHART = PinnedChart(
    "kube-prometheus-stack", "88.5.3", "https://prometheus-community.github.io/helm-charts",
    source="prometheus-community/helm-charts charts/kube-prometheus-stack/Chart.yaml (app v0.93.1), "
    "commit ea930bae (2026-08-21)",
)
DCGM_EXPORTER_CHART = PinnedChart(
    "dcgm-exporter", "4.8.2", "https://nvidia.github.io/dcgm-exporter/helm-charts",
    source="NVIDIA/dcgm-exporter deployment/Chart.yaml (image 4.5.3-4.8.2), commit 691c9276 (2026-05-06)",
)
RELEASE_NAME = "kube-prometheus-stack"
# The chart names the Prometheus Service `<fullname>-prometheus` on port 9090 (templates/prometheus/service.yaml).
FULLNAME = PROMETHEUS_FULLNAME
ALERTMANAGER_SERVICE_ACCOUNT = "alertmanager"
# Keep 15% of the volume free: Prometheus deletes the oldest blocks once the TSDB reaches this size.
RETENTION_SIZE_FRACTION = 0.85



# UID the dcgm-exporter chart's values.yaml suggests for running without profiling metrics.
DCGM_EXPORTER_UID = 1000
# kube-prometheus-stack dropped its fixed Grafana admin password ("prom-operator") in 79.0.0
# (prometheus-community/helm-charts#5679, UPGRADE.md "From 78.x to 79.x"): the Grafana chart then
# generates a random one into its admin Secret. Our values must never set grafana.adminPassword.
GRAFANA_RANDOM_PASSWORD_SINCE_MAJOR = 79


def prometheus_url(namespace: str = NAMESPACE) -> str:
    """In-cluster URL of the stack's Prometheus (what KEDA's prometheus trigger queries)."""
    return f"http://{PROMETHEUS_SERVICE}.{namespace}.svc.cluster.local:{PROMETHEUS_PORT}"


def alertmanager_publish_policy(topic_arn: str) -> dict[str, Any]:
    """Alertmanager may publish to the region's alarm topic and nothing else."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [{"Sid": "PublishAlerts", "Effect": "Allow", "Action": "sns:Publish", "Resource": topic_arn}],
    }


def alertmanager_config(topic_arn: str, region: str) -> dict[str, Any]:
    """Route warning and critical alerts to the alarm topic (the same inbox as the CloudWatch alarms).

    `sns_configs` with `sigv4` signs with the pod's IRSA credentials (Alertmanager configuration
    docs, "<sns_config>"). Watchdog (always firing by design) and InfoInhibitor stay silent; the
    chart's default inhibit rules are kept (Helm merges this map into them).
    """
    return {
        "route": {
            "receiver": "null",
            "group_by": ["alertname", "region", "namespace"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                {"receiver": "null", "matchers": ['alertname =~ "Watchdog|InfoInhibitor"']},
                {"receiver": "sns", "matchers": ['severity =~ "warning|critical"']},
            ],
        },
        "receivers": [
            {"name": "null"},
            {"name": "sns", "sns_configs": [{"topic_arn": topic_arn, "sigv4": {"region": region}, "send_resolved": True}]},
        ],
    }


def kube_prometheus_stack_values(
    monitoring: MonitoringSpec, *, region: str, alarm_topic_arn: str, alertmanager_role_arn: str
) -> dict[str, Any]:
    """Values for kube-prometheus-stack (keys from its values.yaml at the pinned version)."""
    on_system = {"nodeSelector": SYSTEM_LABELS}
    retention_gib = int(monitoring.storage_gib * RETENTION_SIZE_FRACTION)
    return {
        "fullnameOverride": FULLNAME,
        # EKS runs the control plane: its scheduler, controller-manager and etcd cannot be scraped,
        # and kube-proxy binds metrics to localhost; their targets would only raise TargetDown alerts.
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "prometheusOperator": {
            **on_system,
            "admissionWebhooks": {"patch": on_system},
        },
        "prometheus": {
            "prometheusSpec": {
                **on_system,
                "retention": f"{monitoring.retention_days}d",
                "retentionSize": f"{retention_gib}GiB",
                # Select ServiceMonitors/PodMonitors/rules of every release, not only this chart's.
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "storageClassName": DEFAULT_STORAGE_CLASS,  # encrypted gp3 (ClusterAddons)
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{monitoring.storage_gib}Gi"}},
                        }
                    }
                },
            }
        },
        "alertmanager": {
            "alertmanagerSpec": on_system,
            "serviceAccount": {
                "create": True,
                "name": ALERTMANAGER_SERVICE_ACCOUNT,
                "annotations": {"eks.amazonaws.com/role-arn": alertmanager_role_arn},
            },
            "config": alertmanager_config(alarm_topic_arn, region),
        },
        "kube-state-metrics": {**on_system, "metricLabelsAllowlist": kube_state_metrics_label_allowlist()},
        "grafana": {
            "enabled": monitoring.enabled and monitoring.grafana,
            **on_system,
            "sidecar": {
                "dashboards": {
                    "enabled": True,
                    "label": "grafana_dashboard",
                    "labelValue": "1",
                    "searchNamespace": "ALL",
                }
            },
        },
    }


def kube_state_metrics_label_allowlist() -> list[str]:
    """kube-state-metrics' `--metric-labels-allowlist` entries (chart value `metricLabelsAllowlist`, empty by
    default): `kube_node_labels` then carries each node's instance type, capacity type and GPU pool as
    `label_<snake_case>` labels, which `tradeoff-infra actuals` counts GPU node-hours by
    (docs/sources.md "actuals")."""
    return [f"nodes=[{','.join(NODE_COST_LABELS)}]"]


def dcgm_exporter_values() -> dict[str, Any]:
    """Values for NVIDIA dcgm-exporter: one pod per GPU node, scraped through its ServiceMonitor."""
    key, _, effect = GPU_TAINT
    return {
        "nodeSelector": GPU_NODE_SELECTOR,
        "tolerations": [{"key": key, "operator": "Exists", "effect": effect}],
        "serviceMonitor": {"enabled": True, "interval": "15s"},
        # The chart's default runs as root with SYS_ADMIN, needed only for the profiling metrics
        # (DCGM_FI_PROF_*), which the default counters, the dashboard and the alerts do not use; its
        # values.yaml names this non-root setting for that case
        # (docs/sources.md "dcgm-exporter chart defaults"). Helm merges maps into the chart's defaults,
        # so `add` must be an empty list: leaving it out keeps the default's SYS_ADMIN
        # (tests/chart/test_dcgm_exporter_render.py).
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": DCGM_EXPORTER_UID,
            "capabilities": {"add": [], "drop": ["ALL"]},
            "allowPrivilegeEscalation": False,
        },
    }


@dataclass
class MonitoringArgs:
    ctx: RegionContext
    """The region's spec, providers and cluster outputs."""


class Monitoring(pulumi.ComponentResource):
    """kube-prometheus-stack + dcgm-exporter in namespace `monitoring`, and the region's alarm topic."""

    namespace: pulumi.Output[str]
    prometheus_url: pulumi.Output[str]
    release_name: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tradeoff-infra:monitoring:Monitoring", name, None, opts)
        ctx = args.ctx
        monitoring = ctx.spec.monitoring

        # Not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS-managed SNS key,
        # and alarm notifications carry no payload data.
        topic = aws.sns.Topic(f"{name}-alarms", opts=ctx.opts(self))
        if monitoring.alarm_email:
            aws.sns.TopicSubscription(
                f"{name}-alarms-email",
                topic=topic.arn,
                protocol="email",
                endpoint=monitoring.alarm_email,
                opts=ctx.opts(self),
            )

        alertmanager_role = irsa_role(
            f"{name}-alertmanager-role",
            ctx,
            namespace=NAMESPACE,
            service_account=ALERTMANAGER_SERVICE_ACCOUNT,
            policy=topic.arn.apply(lambda arn: json.dumps(alertmanager_publish_policy(arn))),
            description="Alertmanager: publish Prometheus alerts to the region's alarm topic",
            parent=self,
        )
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata={"name": NAMESPACE}, opts=ctx.opts(self, k8s_resource=True)
        )
        stack = KUBE_PROMETHEUS_STACK_CHART.release(
            f"{name}-kube-prometheus-stack",
            release_name=RELEASE_NAME,
            namespace=NAMESPACE,
            values=pulumi.Output.all(topic.arn, alertmanager_role.arn).apply(
                lambda a: kube_prometheus_stack_values(
                    monitoring, region=ctx.region.region, alarm_topic_arn=a[0], alertmanager_role_arn=a[1]
                )
            ),
            # CRDs, operator, Prometheus with a fresh EBS volume: more than Helm's default 5 minutes.
            timeout=900,
            opts=ctx.opts(self, k8s_resource=True, depends_on=[namespace]),
        )
        if monitoring.enabled:
            DCGM_EXPORTER_CHART.release(
                f"{name}-dcgm-exporter",
                release_name="dcgm-exporter",
                namespace=NAMESPACE,
                values=dcgm_exporter_values(),
                # Its pods wait for a GPU node; with a pool at zero there is none to wait for.
                skip_await=True,
                # Its ServiceMonitor needs the CRD the stack installs.
                opts=ctx.opts(self, k8s_resource=True, depends_on=[stack]),
            )

        self.namespace = pulumi.Output.from_input(NAMESPACE)
        self.prometheus_url = pulumi.Output.from_input(prometheus_url())
        self.release_name = stack.name
        self.alarm_topic_arn = topic.arn
        self.register_outputs({
            "namespace": self.namespace,
            "prometheus_url": self.prometheus_url,
            "release_name": self.release_name,
            "alarm_topic_arn": self.alarm_topic_arn,
        })
