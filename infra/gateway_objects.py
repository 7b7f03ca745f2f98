"""The hybrid gateway's Kubernetes objects for one region, as plain manifests (pure, no Pulumi).

`infra/components/gateway.py` creates one Pulumi resource per manifest here; the tests validate the same
manifests with kubernetes-validate and the CRD schemas. LiteLLM's proxy runs in namespace
GATEWAY_NAMESPACE behind the region's ALB (a TargetGroupBinding puts the gateway pods' IPs in the target
group) and in front of vLLM's in-cluster Service; its config comes from `infra/gateway_config.py` (a
ConfigMap), its keys from one Secret.

Keys: clients send the stack's `vllmApiKey` to the gateway (it is LiteLLM's master key, so clients that
called vLLM keep their key); the gateway sends the same key to vLLM; provider keys come from
`providerApiKeys`. LiteLLM accepts only client keys that start with `sk-` (CLIENT_KEY_PREFIX).
"""

from __future__ import annotations

import hashlib
from typing import Any

from infra import gateway_config
from infra.chart_values import PRE_STOP_SLEEP_SECONDS, load_balancer_source_cidrs, termination_grace_seconds
from infra.conventions import (
    GATEWAY_NAMESPACE, GATEWAY_NAMESPACE_LABELS, GATEWAY_POD_LABELS, MONITORING_NAMESPACE, SYSTEM_LABELS,
    TARGET_GROUP_PROTOCOL, TARGET_TYPE,
)
from infra.gateway_monitoring import DASHBOARD_LABEL
from infra.gateway_config import (
    GATEWAY_CPU_REQUEST, GATEWAY_MEMORY_LIMIT, GATEWAY_MEMORY_REQUEST, GATEWAY_PORT, MASTER_KEY_ENV, VLLM_KEY_ENV,
    provider_key_env, render_config,
)
from infra.pins import IMAGE_RE
from infra.spec import RegionSpec, StackSpec, gateway_providers

NAME = "litellm"
"""Name of every gateway object in GATEWAY_NAMESPACE (one gateway per cluster)."""
APP_LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "gateway",
              "app.kubernetes.io/part-of": "tradeoff-infra"}
SELECTOR_LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "gateway"}
CONFIG_FILE = "config.yaml"
CONFIG_DIR = "/etc/litellm"
SECRET_NAME = "litellm-keys"
PORT_NAME = "http"
LIVENESS_PATH = "/health/liveliness"
"""LiteLLM's liveness endpoint (answers without calling a model; LiteLLM spells it so)."""
READINESS_PATH = "/health/readiness"
"""LiteLLM's readiness endpoint (the proxy is up and its config loaded; calls no model)."""
METRICS_PATH = "/metrics"
METRICS_INTERVAL = "30s"
HPA_CPU_UTILIZATION = 70
"""Scale out when the pods' CPU averages above 70% of their request (the proxy is CPU-bound per request)."""
CPU_RATE_WINDOW = "2m"
CLIENT_KEY_PREFIX = "sk-"
NON_ROOT_IMAGE_REPOSITORY = "ghcr.io/berriai/litellm-non_root"
NON_ROOT_UID = 65534
"""`USER nobody` of LiteLLM's docker/Dockerfile.non_root: a name, so the pod gives the uid for runAsNonRoot."""
OFFLINE_ENV = {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}
"""Start without the network: LiteLLM fetches its model cost map at start-up unless told to use its bundled copy
(the real-proxy tests in tests/gateway/ start it offline). Taken from `gateway_config.GATEWAY_ENV` when it has one."""

_PLACEHOLDER_IMAGE = f"{NON_ROOT_IMAGE_REPOSITORY}:unpinned@sha256:{'0' * 64}"
LITELLM_IMAGE: str = getattr(gateway_config, "LITELLM_IMAGE", _PLACEHOLDER_IMAGE)
"""The proxy image, pinned by digest. TODO(gwcfg): the pin and its verification live in infra/gateway_config.py
(`LITELLM_IMAGE`); until it is there this placeholder (an all-zero digest no registry serves) stands in."""
GATEWAY_ENV: dict[str, str] = dict(getattr(gateway_config, "GATEWAY_ENV", OFFLINE_ENV))


def vllm_base_url(service_name: str, namespace: str, port: int) -> str:
    """vLLM's OpenAI API behind its in-cluster Service, as the gateway config's `api_base`."""
    return f"http://{service_name}.{namespace}.svc.cluster.local:{port}/v1"


def config_text(spec: StackSpec, *, vllm_url: str) -> str:
    """The ConfigMap's config.yaml: `gateway_config.render_config` with the Prometheus callback on (the
    ServiceMonitor, the alerts and the dashboard read its metrics)."""
    import yaml

    config = render_config(spec, vllm_base_url=vllm_url)
    settings = config.setdefault("litellm_settings", {})
    callbacks = list(settings.get("callbacks") or [])
    if "prometheus" not in callbacks:
        settings["callbacks"] = [*callbacks, "prometheus"]
    return yaml.safe_dump(config, sort_keys=False)


def secret_keys(spec: StackSpec) -> list[str]:
    """The Secret's keys (= the environment variables the pods read): the client (master) key, vLLM's key, and
    one key per provider a route may call."""
    return [MASTER_KEY_ENV, VLLM_KEY_ENV, *(provider_key_env(p) for p in gateway_providers(spec))]


def runs_as_non_root(image: str) -> bool:
    """LiteLLM's non-root image runs as `nobody`; its default image runs as root (no USER in its Dockerfile)."""
    match = IMAGE_RE.match(image)
    return bool(match) and match["repository"] == NON_ROOT_IMAGE_REPOSITORY


def namespace(labels: dict[str, str]) -> dict[str, Any]:
    """The gateway's namespace: GATEWAY_NAMESPACE_LABELS let its pods reach vLLM; `labels` adds the load balancer
    controller's readiness-gate label."""
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": GATEWAY_NAMESPACE, "labels": {**GATEWAY_NAMESPACE_LABELS, **labels}}}


def metadata(name: str = NAME) -> dict[str, Any]:
    """Name, namespace and labels of a gateway object."""
    return {"name": name, "namespace": GATEWAY_NAMESPACE, "labels": dict(APP_LABELS)}


def dashboard_metadata() -> dict[str, Any]:
    """The dashboard ConfigMap's: the label Grafana's sidecar loads dashboards by."""
    meta = metadata(f"{NAME}-dashboard")
    meta["labels"].update(DASHBOARD_LABEL)
    return meta


def deployment(spec: StackSpec, *, config: str, target_health_condition: str | None, image: str = LITELLM_IMAGE
               ) -> dict[str, Any]:
    """The proxy's Deployment. `config` is the ConfigMap's text: its hash rolls the pods when it changes.
    `target_health_condition`: the ALB target-health readiness gate (with a TargetGroupBinding), else None."""
    if not IMAGE_RE.match(image):
        raise ValueError(f"gateway image {image!r} is not pinned by digest")
    non_root = runs_as_non_root(image)
    container_security = {
        "allowPrivilegeEscalation": False, "privileged": False, "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
        **({"runAsNonRoot": True, "runAsUser": NON_ROOT_UID} if non_root else {}),
    }
    env = [{"name": k, "value": v} for k, v in sorted(GATEWAY_ENV.items())] + [
        {"name": key, "valueFrom": {"secretKeyRef": {"name": SECRET_NAME, "key": key}}} for key in secret_keys(spec)
    ]
    pod_labels = {**SELECTOR_LABELS, **APP_LABELS, **GATEWAY_POD_LABELS}
    probe = {"port": PORT_NAME}
    pod_spec: dict[str, Any] = {
        "nodeSelector": dict(SYSTEM_LABELS),
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"},
                            **({"runAsNonRoot": True} if non_root else {})},
        "terminationGracePeriodSeconds": termination_grace_seconds(spec),
        "topologySpreadConstraints": [{
            "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": dict(SELECTOR_LABELS)},
        }],
        "containers": [{
            "name": NAME,
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            # The image's entrypoint starts `litellm` with these arguments; one worker, so /metrics sees every request.
            "args": ["--config", f"{CONFIG_DIR}/{CONFIG_FILE}", "--port", str(GATEWAY_PORT), "--num_workers", "1"],
            "ports": [{"name": PORT_NAME, "containerPort": GATEWAY_PORT, "protocol": "TCP"}],
            "env": env,
            "resources": {"requests": {"cpu": GATEWAY_CPU_REQUEST, "memory": GATEWAY_MEMORY_REQUEST},
                          "limits": {"memory": GATEWAY_MEMORY_LIMIT}},
            "startupProbe": {"httpGet": {"path": LIVENESS_PATH, **probe}, "periodSeconds": 5, "failureThreshold": 36,
                             "timeoutSeconds": 5},
            "readinessProbe": {"httpGet": {"path": READINESS_PATH, **probe}, "periodSeconds": 10,
                               "failureThreshold": 3, "timeoutSeconds": 5},
            "livenessProbe": {"httpGet": {"path": LIVENESS_PATH, **probe}, "periodSeconds": 15,
                              "failureThreshold": 4, "timeoutSeconds": 5},
            # Keep serving while the controller deregisters this pod's IP target.
            "lifecycle": {"preStop": {"sleep": {"seconds": PRE_STOP_SLEEP_SECONDS}}},
            "securityContext": container_security,
            "volumeMounts": [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}],
        }],
        "volumes": [{"name": "config", "configMap": {"name": NAME}}],
    }
    if target_health_condition:
        pod_spec["readinessGates"] = [{"conditionType": target_health_condition}]
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": metadata(),
        # No `replicas`: the autoscaler (KEDA's HorizontalPodAutoscaler) owns the count (min/max from the spec); a
        # value here would reset it at every `pulumi up`.
        "spec": {
            "selector": {"matchLabels": dict(SELECTOR_LABELS)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": pod_labels,
                             "annotations": {"checksum/config": hashlib.sha256(config.encode()).hexdigest()}},
                "spec": pod_spec,
            },
        },
    }


def service() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata(),
            "spec": {"type": "ClusterIP", "selector": dict(SELECTOR_LABELS),
                     "ports": [{"name": PORT_NAME, "port": GATEWAY_PORT, "targetPort": PORT_NAME, "protocol": "TCP"}]}}


def pod_disruption_budget() -> dict[str, Any]:
    """One pod may be evicted at a time (a node drain never takes the gateway down; minReplicas >= 1)."""
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": metadata(),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": dict(SELECTOR_LABELS)}}}


def cpu_cores(quantity: str) -> float:
    """A Kubernetes CPU quantity (`500m`, `2`) in cores."""
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def cpu_query() -> str:
    """CPU cores the gateway's containers use (cAdvisor, scraped from the kubelets by kube-prometheus-stack)."""
    return (f'sum(rate(container_cpu_usage_seconds_total{{namespace="{GATEWAY_NAMESPACE}",container="{NAME}"}}'
            f"[{CPU_RATE_WINDOW}]))")


def scaled_object(spec: StackSpec, *, prometheus_url: str) -> dict[str, Any]:
    """Scaling on CPU: KEDA (already there for vLLM) creates and drives the HorizontalPodAutoscaler, on the
    containers' CPU from Prometheus, since the cluster runs no metrics-server for a plain HPA's resource metrics.
    CPU used across the pods / (HPA_CPU_UTILIZATION% of one pod's request) = pods wanted."""
    gateway = spec.gateway
    per_pod = round(cpu_cores(GATEWAY_CPU_REQUEST) * HPA_CPU_UTILIZATION / 100, 4)
    return {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": metadata(),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": NAME},
                "minReplicaCount": gateway.min_replicas, "maxReplicaCount": gateway.max_replicas,
                "pollingInterval": 15,
                # Prometheus unreachable: the gateway cannot see its load; hold the most pods the stack allows.
                "fallback": {"failureThreshold": 3, "replicas": gateway.max_replicas},
                "triggers": [{"type": "prometheus", "name": "cpu", "metricType": "AverageValue", "metadata": {
                    "serverAddress": prometheus_url, "query": cpu_query(), "threshold": str(per_pod),
                    "ignoreNullValues": "true"}}],
            }}


def network_policy(spec: StackSpec, region: RegionSpec) -> dict[str, Any]:
    """Only the ALB (from the public subnets, where its nodes live) and Prometheus may open connections to the
    gateway's port. Egress stays open (vLLM's Service, the API providers, DNS)."""
    port = [{"protocol": "TCP", "port": GATEWAY_PORT}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata(),
            "spec": {"podSelector": {"matchLabels": dict(SELECTOR_LABELS)}, "policyTypes": ["Ingress"],
                     "ingress": [
                         {"from": [{"ipBlock": {"cidr": c}} for c in load_balancer_source_cidrs(spec, region)],
                          "ports": port},
                         {"from": [{"namespaceSelector": {"matchLabels": {
                             "kubernetes.io/metadata.name": MONITORING_NAMESPACE}}}], "ports": port},
                     ]}}


def service_monitor() -> dict[str, Any]:
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": metadata(),
            "spec": {"selector": {"matchLabels": dict(SELECTOR_LABELS)},
                     "namespaceSelector": {"matchNames": [GATEWAY_NAMESPACE]},
                     "endpoints": [{"port": PORT_NAME, "path": METRICS_PATH, "interval": METRICS_INTERVAL}]}}


def target_group_binding(*, target_group_arn: str, vpc_id: str, api_version: str) -> dict[str, Any]:
    """The ALB target group's members = the gateway Service's endpoints (like the vLLM chart's binding)."""
    return {"apiVersion": api_version, "kind": "TargetGroupBinding", "metadata": metadata(),
            "spec": {"targetGroupARN": target_group_arn, "targetType": TARGET_TYPE,
                     "targetGroupProtocol": TARGET_GROUP_PROTOCOL, "ipAddressType": "ipv4", "vpcID": vpc_id,
                     "serviceRef": {"name": NAME, "port": GATEWAY_PORT}}}


def target_health_condition() -> str:
    """The readiness-gate condition the load balancer controller sets for the binding named NAME."""
    return f"target-health.elbv2.k8s.aws/{NAME}"
