"""Facts the program, the chart values and the CLI share, as plain data (no Pulumi: the CLI may import it).

The GPU nodes' labels and taint: the node groups set them (`infra/components/gpu_pool.py`), the vLLM
chart values (`infra/chart_values.py`), the add-ons' and dcgm-exporter's selectors, the
cluster-autoscaler ASG tags and the estimate's node-group mapping read them from here. Also the
namespaces, vLLM's port, the names of the secrets the program creates and the chart reads, the
target-group settings and the subnet layout that both a component and the chart values need.
"""

from __future__ import annotations

import ipaddress

WORKLOAD_LABEL = "tradeoff-infra.io/workload"
LLM_WORKLOAD = "llm-inference"
GPU_POOL_LABEL = "tradeoff-infra.io/gpu-pool"
GPU_MODEL_LABEL = "tradeoff-infra.io/gpu"
GPU_NODE_SELECTOR = {WORKLOAD_LABEL: LLM_WORKLOAD}
# The system node group's label: cluster services (and the weights fill Job) schedule there.
SYSTEM_LABELS = {WORKLOAD_LABEL: "system"}
# Labels every node carries without the program setting them: the kubelet's well-known instance-type label, and
# the one EKS managed node groups add for how the node is bought (ON_DEMAND or SPOT; Kubernetes docs "Well-Known
# Labels", EKS user guide "Managed node groups" / "Managed node group capacity types"; docs/sources.md "actuals").
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
CAPACITY_TYPE_LABEL = "eks.amazonaws.com/capacityType"
# A pool's capacity type as EKS's node group API spells it (and as CAPACITY_TYPE_LABEL reads on its nodes). A
# reservation (Reserved Instance / Instance Savings Plan) is a billing discount on on-demand usage: EKS launches
# reserved-1y pools as on-demand capacity.
EKS_CAPACITY_TYPES = {"on-demand": "ON_DEMAND", "spot": "SPOT", "reserved-1y": "ON_DEMAND"}
# The other way, as a node's CAPACITY_TYPE_LABEL reads: how the node is bought (a reserved-1y pool's nodes read
# ON_DEMAND; only the pool they belong to says they are reserved).
NODE_CAPACITY_TYPES = {label: kind for kind, label in EKS_CAPACITY_TYPES.items() if kind != "reserved-1y"}
# Node labels kube-state-metrics exports on `kube_node_labels` (its metricLabelsAllowlist,
# `infra/components/monitoring.py`): what `tradeoff-infra actuals` counts GPU node-hours by.
NODE_COST_LABELS = (INSTANCE_TYPE_LABEL, CAPACITY_TYPE_LABEL, GPU_POOL_LABEL)
# Taint as Kubernetes writes it (key, value, effect); EKS's API spells the effect NO_SCHEDULE.
GPU_TAINT = ("nvidia.com/gpu", "true", "NoSchedule")

# Who may open a connection to the vLLM pods besides the ALB and Prometheus: an API gateway's pods labelled
# GATEWAY_POD_LABELS in a namespace an admin labelled GATEWAY_NAMESPACE_LABELS (both are needed, so a pod
# cannot let itself in by its own labels alone; the chart's NetworkPolicy, `infra/chart_values.py`).
GATEWAY_NAMESPACE_LABELS = {"tradeoff-infra.io/vllm-clients": "allowed"}
GATEWAY_POD_LABELS = {"tradeoff-infra.io/vllm-client": "gateway"}
# Namespace the hybrid gateway (LiteLLM's proxy, `infra/components/gateway.py`) runs in, when the stack has `gateway`.
GATEWAY_NAMESPACE = "gateway"

# Namespace the vLLM chart and its secrets live in (`infra/components/vllm.py`).
VLLM_NAMESPACE = "vllm"
# The local chart's name (charts/vllm/Chart.yaml): its objects' `app.kubernetes.io/name` label, which `status`
# and `model ... --wait` select the vLLM Deployment, ReplicaSets and pods by.
VLLM_CHART_NAME = "vllm"
# The chart's vLLM container, and the pod-template annotation carrying the weights revision the pod loads
# (charts/vllm/templates/deployment.yaml; tests/chart checks the rendered chart uses these).
VLLM_CONTAINER_NAME = "vllm"
MODEL_REVISION_ANNOTATION = "tradeoff-infra.io/model-revision"
# The name of the vLLM Service's port (charts/vllm/templates/service.yaml): the service proxy path names it.
VLLM_PORT_NAME = "http"
# Port vLLM's OpenAI server listens on inside the pod (its default): also the ALB's IP-target port.
VLLM_CONTAINER_PORT = 8000
# Secret that `VllmService` creates in the vLLM namespace; the chart reads the key from it.
API_KEY_SECRET_NAME = "vllm-api-key"
API_KEY_SECRET_KEY = "api-key"
# Secret `VllmService` creates for the Hugging Face token (when the stack has one), and the key the
# chart reads the token from in the secret named by `huggingface_token_secret`.
HUGGINGFACE_TOKEN_SECRET_NAME = "huggingface-token"
HUGGINGFACE_TOKEN_SECRET_KEY = "hf-token"

# Namespace kube-prometheus-stack and dcgm-exporter run in (`infra/components/monitoring.py`); the vLLM
# NetworkPolicy admits Prometheus from it.
MONITORING_NAMESPACE = "monitoring"
# kube-prometheus-stack's Prometheus Service (`infra/components/monitoring.py` sets the chart's fullnameOverride; the
# chart names the Service `<fullname>-prometheus` on port 9090, templates/prometheus/service.yaml): KEDA queries it
# in the cluster, `tradeoff-infra actuals` through the API server's service proxy.
PROMETHEUS_FULLNAME = "kube-prometheus-stack"
PROMETHEUS_SERVICE = f"{PROMETHEUS_FULLNAME}-prometheus"
PROMETHEUS_PORT = 9090
# The vLLM target group: IP targets (the pods' own addresses) over HTTP, filled by the AWS Load
# Balancer Controller's TargetGroupBinding (`infra/components/load_balancer_controller.py`).
TARGET_TYPE = "ip"
TARGET_GROUP_PROTOCOL = "HTTP"


def subnet_cidrs(vpc_cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """(private, public) CIDRs, one of each per AZ.

    Private subnets get a quarter of the VPC each (the VPC CNI gives every pod a VPC address);
    public ones share the last quarter in sixteenths (they hold only the ALB and NAT gateways).
    """
    vpc = ipaddress.ip_network(vpc_cidr)
    quarters = list(vpc.subnets(prefixlen_diff=2))
    if zones > 3:
        raise ValueError(f"{zones} availability zones: at most 3 fit this layout")
    public = list(quarters[3].subnets(prefixlen_diff=2))
    return [str(q) for q in quarters[:zones]], [str(p) for p in public[:zones]]
