"""The hybrid gateway's Kubernetes objects for one region, as plain manifests (pure, no Pulumi).

`infra/components/gateway.py` creates one Pulumi resource per manifest here; the tests validate the same
manifests with kubernetes-validate and the CRD schemas. LiteLLM's proxy runs in namespace
GATEWAY_NAMESPACE behind the region's ALB (a TargetGroupBinding puts the gateway pods' IPs in the target
group) and in front of vLLM's in-cluster Service; its config comes from `infra/gateway_config.py` (a
ConfigMap), its keys from one Secret.

Keys: clients send the stack's `vllmApiKey` to the gateway (it is LiteLLM's master key, so clients that
called vLLM keep their key); the gateway sends the same key to vLLM; provider keys come from
`providerApiKeys`. LiteLLM compares the master key before any other check, so it may have any form
(docs/gateway.md "Keys").

The image (`gateway_config.LITELLM_IMAGE`, LiteLLM's default image pinned by digest) runs as root: its Dockerfile's
runtime stage says `USER root` and nothing later changes it. The pod cannot claim runAsNonRoot for it (the kubelet
would refuse to start it); it is confined otherwise: every capability dropped, no privilege escalation, the
runtime's seccomp profile, no service-account token, egress only to DNS, vLLM and HTTPS (docs/gateway.md
"The pod").
"""

from __future__ import annotations

import hashlib
from typing import Any

from infra.chart_values import PRE_STOP_SLEEP_SECONDS, load_balancer_source_cidrs, termination_grace_seconds
from infra.conventions import (
    GATEWAY_NAMESPACE, GATEWAY_NAMESPACE_LABELS, GATEWAY_POD_LABELS, MONITORING_NAMESPACE, SYSTEM_LABELS,
    TARGET_GROUP_PROTOCOL, TARGET_TYPE, VLLM_CHART_NAME, VLLM_CONTAINER_PORT, VLLM_NAMESPACE,
)
from infra.gateway_monitoring import DASHBOARD_LABEL
from infra.gateway_config import (
    CONFIG_DIR, CONFIG_FILE, GATEWAY_CPU_REQUEST, GATEWAY_ENV, GATEWAY_MEMORY_LIMIT, GATEWAY_MEMORY_REQUEST,
    GATEWAY_PORT, HEALTH_PATH, LITELLM_IMAGE, MASTER_KEY_ENV, METRICS_PATH, READINESS_PATH, VLLM_KEY_ENV,
    provider_key_env, proxy_args, render_files,
)
from infra.pins import IMAGE_RE
from infra.spec import RegionSpec, StackSpec, gateway_providers

NAME = "litellm"
"""Name of every gateway object in GATEWAY_NAMESPACE (one gateway per cluster)."""
APP_LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "gateway",
              "app.kubernetes.io/part-of": "tradeoff-infra"}
SELECTOR_LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "gateway"}
SECRET_NAME = "litellm-keys"
PORT_NAME = "http"
METRICS_INTERVAL = "30s"
HPA_CPU_UTILIZATION = 70
"""Scale out when the pods' CPU averages above 70% of their request (the proxy is CPU-bound per request)."""
CPU_RATE_WINDOW = "2m"
PROVIDER_PORT = 443
"""The API providers' HTTPS port: the only port the gateway may reach outside the cluster."""
PRIVATE_CIDRS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
"""RFC 1918 ranges left out of the HTTPS egress rule: providers are public addresses; inside the VPC the gateway
reaches vLLM and DNS only (not the Kubernetes API's private endpoint, nor other services on 443)."""
DNS_SELECTOR = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
"""EKS's CoreDNS pods (the `coredns` add-on keeps the `k8s-app: kube-dns` label in kube-system)."""


def vllm_base_url(service_name: str, namespace: str, port: int) -> str:
    """vLLM's OpenAI API behind its in-cluster Service, as the gateway config's `api_base`."""
    return f"http://{service_name}.{namespace}.svc.cluster.local:{port}/v1"


def config_files(spec: StackSpec, region: RegionSpec, *, vllm_url: str) -> dict[str, str]:
    """The ConfigMap's data: every file of `gateway_config.render_files` for `region` (its overflow limits are the
    region's), in front of `vllm_url`. Mounted together in CONFIG_DIR, so LiteLLM finds the hook beside the config."""
    return render_files(spec, vllm_base_url=vllm_url, region=region.region)


def config_checksum(files: dict[str, str]) -> str:
    """One hash of every config file (name and text): a change to any of them rolls the pods."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()


def secret_keys(spec: StackSpec) -> list[str]:
    """The Secret's keys (= the environment variables the pods read): the client (master) key, vLLM's key, and
    one key per provider a route may call."""
    return [MASTER_KEY_ENV, VLLM_KEY_ENV, *(provider_key_env(p) for p in gateway_providers(spec))]


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


def deployment(spec: StackSpec, *, files: dict[str, str], target_health_condition: str | None,
               image: str = LITELLM_IMAGE) -> dict[str, Any]:
    """The proxy's Deployment. `files` is the ConfigMap's data (`config_files`): its hash rolls the pods when it
    changes.
    `target_health_condition`: the ALB target-health readiness gate (with a TargetGroupBinding), else None."""
    if not IMAGE_RE.match(image):
        raise ValueError(f"gateway image {image!r} is not pinned by digest")
    # The image runs as root (module docstring): no runAsNonRoot, every other confinement.
    container_security = {
        "allowPrivilegeEscalation": False, "privileged": False, "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    env = [{"name": k, "value": v} for k, v in sorted(GATEWAY_ENV.items())] + [
        {"name": key, "valueFrom": {"secretKeyRef": {"name": SECRET_NAME, "key": key}}} for key in secret_keys(spec)
    ]
    pod_labels = {**SELECTOR_LABELS, **APP_LABELS, **GATEWAY_POD_LABELS}
    probe = {"port": PORT_NAME}
    pod_spec: dict[str, Any] = {
        "nodeSelector": dict(SYSTEM_LABELS),
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        # The proxy never calls the Kubernetes API: no token in the pod.
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": termination_grace_seconds(spec),
        "topologySpreadConstraints": [{
            "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": dict(SELECTOR_LABELS)},
        }],
        "containers": [{
            "name": NAME,
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            # The image's entrypoint runs `litellm "$@"` with these arguments (the same the real-proxy tests run).
            "args": proxy_args(f"{CONFIG_DIR}/{CONFIG_FILE}"),
            "ports": [{"name": PORT_NAME, "containerPort": GATEWAY_PORT, "protocol": "TCP"}],
            "env": env,
            "resources": {"requests": {"cpu": GATEWAY_CPU_REQUEST, "memory": GATEWAY_MEMORY_REQUEST},
                          "limits": {"memory": GATEWAY_MEMORY_LIMIT}},
            "startupProbe": {"httpGet": {"path": HEALTH_PATH, **probe}, "periodSeconds": 5, "failureThreshold": 36,
                             "timeoutSeconds": 5},
            "readinessProbe": {"httpGet": {"path": READINESS_PATH, **probe}, "periodSeconds": 10,
                               "failureThreshold": 3, "timeoutSeconds": 5},
            "livenessProbe": {"httpGet": {"path": HEALTH_PATH, **probe}, "periodSeconds": 15,
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
                             "annotations": {"checksum/config": config_checksum(files)}},
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
    """Ingress: only the ALB (from the public subnets, where its nodes live) and Prometheus may open connections to
    the gateway's port. Egress: DNS (CoreDNS), vLLM's pods on their port, and HTTPS (PROVIDER_PORT) to public
    addresses (the API providers); nothing else."""
    port = [{"protocol": "TCP", "port": GATEWAY_PORT}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata(),
            "spec": {"podSelector": {"matchLabels": dict(SELECTOR_LABELS)}, "policyTypes": ["Ingress", "Egress"],
                     "ingress": [
                         {"from": [{"ipBlock": {"cidr": c}} for c in load_balancer_source_cidrs(spec, region)],
                          "ports": port},
                         {"from": [{"namespaceSelector": {"matchLabels": {
                             "kubernetes.io/metadata.name": MONITORING_NAMESPACE}}}], "ports": port},
                     ],
                     "egress": [
                         {"to": [dict(DNS_SELECTOR)],
                          "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
                         # vLLM's pods (a Service's traffic is matched after it is sent to a pod's IP and port)
                         {"to": [{"namespaceSelector": {"matchLabels": {
                                      "kubernetes.io/metadata.name": VLLM_NAMESPACE}},
                                  "podSelector": {"matchLabels": {"app.kubernetes.io/name": VLLM_CHART_NAME}}}],
                          "ports": [{"protocol": "TCP", "port": VLLM_CONTAINER_PORT}]},
                         {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_CIDRS)}}],
                          "ports": [{"protocol": "TCP", "port": PROVIDER_PORT}]},
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
