"""Values for the local `charts/vllm` chart, computed from the stack spec (pure functions: they create no resources).

`vllm_values` is the one place that turns a `StackSpec` + `RegionSpec` into the chart's values
(documented key by key in `charts/vllm/values.yaml`); `VllmService` passes its result to
`k8s.helm.v3.Chart`, and the chart tests render the chart with it for every shipped stack.
"""

from __future__ import annotations

import math
import re

from infra import hardware
from infra import weights_mirror_plan as mirror_plan
from infra.conventions import (
    API_KEY_SECRET_KEY, API_KEY_SECRET_NAME, GATEWAY_NAMESPACE_LABELS, GATEWAY_POD_LABELS, GPU_NODE_SELECTOR, GPU_POOL_LABEL,
    GPU_TAINT, HUGGINGFACE_TOKEN_SECRET_KEY, MONITORING_NAMESPACE, SYSTEM_LABELS, TARGET_GROUP_PROTOCOL, TARGET_TYPE,
    VLLM_CONTAINER_PORT, subnet_cidrs,
)
from infra.price_catalog import HOURS_PER_MONTH
from infra.pins import IMAGE_FORM, IMAGE_RE
from infra.sizing import GPU_MEMORY_UTILIZATION, HUGGING_FACE_DOWNLOAD_BYTES_PER_SECOND
from infra.spec import RegionSpec, StackSpec

# Who may open a connection to the vLLM pods (the chart's NetworkPolicy; the VPC CNI enforces it and
# always lets the node itself in, so kubelet probes pass): the ALB, whose nodes take their addresses
# from the public subnets (IP targets see those addresses, not the clients'); Prometheus, from the
# monitoring namespace (MONITORING_NAMESPACE, kube-prometheus-stack); and, later, an API gateway
# (GATEWAY_POD_LABELS in a GATEWAY_NAMESPACE_LABELS namespace). Those, the port (VLLM_CONTAINER_PORT)
# and the secrets' names live in `infra/conventions.py`.

# Service accounts of the weights mirror's IRSA roles (infra/components/weights_mirror.py trusts exactly these):
# the chart's full name plus a suffix, so the regions of one stack never name two objects alike.
WEIGHTS_READER_SUFFIX = "weights-reader"
WEIGHTS_WRITER_SUFFIX = "weights-fill"


def weights_service_accounts(chart_fullname: str) -> tuple[str, str]:
    """(reader, writer) service account names of the release whose objects are named `chart_fullname`."""
    return tuple(f"{chart_fullname[:62 - len(s)].rstrip('-')}-{s}" for s in (WEIGHTS_READER_SUFFIX, WEIGHTS_WRITER_SUFFIX))


# Seconds between the init container's looks for the fill marker, and retries of a failed fill pod.
WEIGHTS_WAIT_POLL_SECONDS = 15
WEIGHTS_FILL_BACKOFF_LIMIT = 3
# A fill pod waits for a system node and pulls the vLLM image before it copies anything.
WEIGHTS_FILL_SCHEDULING_SECONDS = 300

# Node labels / taint the GPU node groups carry: defined once, in infra/conventions.py.
GPU_TAINT_KEY, GPU_TAINT_VALUE, GPU_TAINT_EFFECT = GPU_TAINT

# Node capacity left for the kubelet's reservation and the daemonsets on every GPU node
# (aws-node, kube-proxy, EBS CSI node, NVIDIA device plugin, dcgm-exporter, node-exporter).
# kube-reserved on EKS AMIs: CPU 6% of the first core, 1% of the second, 0.5% of the next two,
# 0.25% above four; memory 11 MiB x max pods + 255 MiB, plus a 100 MiB eviction threshold
# (awslabs/amazon-eks-ami files/bootstrap.sh, get_cpu_millicores_to_reserve and
# get_memory_mebibytes_to_reserve, read 2026-11-24). The daemonsets' share (~0.6 vCPU, ~1.2 GiB)
# is our estimate from their charts' default requests.
NODE_RESERVED_CPU = 1.0
# ... plus 2% of every vCPU beyond the fourth: big nodes run more pods and a larger kube-reserved share.
NODE_RESERVED_CPU_FRACTION_ABOVE_4 = 0.02
NODE_RESERVED_MEMORY_GIB = 2.5
NODE_RESERVED_MEMORY_FRACTION = 0.05

# Startup-probe budget. Assumptions (not measured here; no GPU or network): the Hugging Face Hub
# delivers ~200 MB/s to an EC2 node in-region of AWS, loading safetensors from the local disk
# into GPU memory runs at ~250 MB/s on a gp3 root volume with raised throughput, and engine start
# (torch.compile + CUDA graph capture in vLLM V1) takes up to ~5 minutes. A 1.5x margin on top.
ASSUMED_DOWNLOAD_BYTES_PER_SECOND = HUGGING_FACE_DOWNLOAD_BYTES_PER_SECOND
ASSUMED_LOAD_BYTES_PER_SECOND = 250e6
ENGINE_START_SECONDS = 300
STARTUP_MARGIN = 1.5
STARTUP_PROBE_PERIOD_SECONDS = 10
MIN_STARTUP_SECONDS = 600

# Pulumi's await on the chart's Deployment (pulumi-kubernetes' default: 10 minutes; override with the
# `pulumi.com/timeoutSeconds` annotation, pulumi/pulumi-kubernetes#457, read 2026-11-24). A new replica
# first needs a GPU node: cluster-autoscaler notices the pending pod, the ASG launches the instance, it
# boots, joins and the NVIDIA device plugin advertises its GPUs (assumed <= 8 minutes, not measured
# here), then the ~10 GB vLLM image is pulled from Docker Hub (assumed >= 50 MB/s: <= 5 minutes), then
# the startup-probe budget above.
NODE_BOOT_SECONDS = 480
IMAGE_PULL_SECONDS = 300
PULUMI_TIMEOUT_ANNOTATION = "pulumi.com/timeoutSeconds"
# A Service with scale-to-zero has no endpoints to await (pulumi/pulumi-kubernetes#417).
PULUMI_SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait"
# On the weights-mirror fill Job: a Job that did not complete (failed, or past its deadline) is replaced on the
# next `pulumi up` instead of being awaited again unchanged (pulumi-kubernetes `provider.go` Diff,
# `metadata.ReplaceUnready`, Jobs only; read 2026-11-30).
PULUMI_REPLACE_UNREADY_ANNOTATION = "pulumi.com/replaceUnready"

# Drain: seconds the pod keeps serving after it is marked for deletion, so the load balancer
# controller has deregistered its IP target (the ALB then sends it no new request) before vLLM gets
# SIGTERM; requests already running go on through the target group's deregistration delay.
PRE_STOP_SLEEP_SECONDS = 30
# A long request is assumed to produce up to 4x the stack's average output tokens.
LONG_REQUEST_OUTPUT_FACTOR = 4

# vLLM renamed the KV-cache gauge: `vllm:kv_cache_usage_perc` exists from v0.9.2 on (v0.9.1 has only
# `vllm:gpu_cache_usage_perc`); from v0.11 the old name is hidden unless --show-hidden-metrics-for-version
# is given, and v0.12 removes it. Source: vllm-project/vllm `vllm/v1/metrics/loggers.py` at v0.11.0
# ("Deprecated in 0.9.2 - Renamed as vllm:kv_cache_usage_perc ... TODO: remove in 0.12.0"), read 2026-11-24;
# at the pinned v0.31.0 only the new name exists (docs/sources.md "vLLM v0.31.0 image").
KV_CACHE_METRIC_NEW = "vllm:kv_cache_usage_perc"
KV_CACHE_METRIC_OLD = "vllm:gpu_cache_usage_perc"
KV_CACHE_METRIC_RENAMED_IN = (0, 9, 2)

# KEDA polls Prometheus every 15 s; a CloudWatch ALB metric has a 60 s period.
KEDA_POLLING_SECONDS = 15
CLOUDWATCH_PERIOD_SECONDS = 60


def kv_cache_metric(setting: str, image: str) -> str:
    """The KV-cache metric name: explicit setting, or resolved from the vLLM image tag for "auto"."""
    if setting != "auto":
        return setting
    match = IMAGE_RE.match(image)
    tag = match.group("tag") if match else None
    version = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?", tag or "")
    if not version:
        # No readable version (digest-only image or a custom tag): assume a current vLLM.
        return KV_CACHE_METRIC_NEW
    parts = (int(version[1]), int(version[2]), int(version[3] or 0))
    return KV_CACHE_METRIC_NEW if parts >= KV_CACHE_METRIC_RENAMED_IN else KV_CACHE_METRIC_OLD


def split_image(image: str) -> dict:
    """`repo[:tag]@sha256:...` -> {repository, tag, digest} (tag "" when absent)."""
    match = IMAGE_RE.match(image)
    if not match:
        raise ValueError(f"model.image {image!r} is not {IMAGE_FORM}")
    return {"repository": match.group("repository"), "tag": match.group("tag") or "", "digest": match.group("digest")}


def startup_probe_seconds(weight_bytes: float) -> int:
    """Seconds a replica may take from container start to a healthy /health (see assumptions above)."""
    seconds = (
        weight_bytes / ASSUMED_DOWNLOAD_BYTES_PER_SECOND
        + weight_bytes / ASSUMED_LOAD_BYTES_PER_SECOND
        + ENGINE_START_SECONDS
    ) * STARTUP_MARGIN
    seconds = max(seconds, MIN_STARTUP_SECONDS)
    return int(math.ceil(seconds / STARTUP_PROBE_PERIOD_SECONDS) * STARTUP_PROBE_PERIOD_SECONDS)


def rollout_timeout_seconds(weight_bytes: float, replicas: int) -> int:
    """Seconds Pulumi may wait for the Deployment: node boot + image pull + startup for the first replica,
    then pull + startup for each further one (a rolling update replaces them one at a time)."""
    per_replica = IMAGE_PULL_SECONDS + startup_probe_seconds(weight_bytes)
    return NODE_BOOT_SECONDS + per_replica * max(1, replicas)


def launch_to_ready_seconds(weight_bytes: float, mirrored: bool = False) -> float:
    """Seconds a new GPU node runs (and bills) before its first replica serves: the boot and image-pull
    budgets above (upper bounds) plus the weights' download and load and the engine start, without the
    startup probe's margin. The estimate prices this per node start (docs/estimate.md).

    `mirrored`: the weights stream from the region's S3 mirror into GPU memory (runai_streamer) instead of
    being downloaded from Hugging Face first; no streaming rate is measured here, so the stream is assumed
    no faster than the local-disk load rate, and only the Hugging Face download drops out."""
    download = 0.0 if mirrored else weight_bytes / ASSUMED_DOWNLOAD_BYTES_PER_SECOND
    return (NODE_BOOT_SECONDS + IMAGE_PULL_SECONDS + download
            + weight_bytes / ASSUMED_LOAD_BYTES_PER_SECOND + ENGINE_START_SECONDS)


def weights_mirror_values(spec: StackSpec, region: RegionSpec, mirror: dict | None) -> dict:
    """The chart's `weightsMirror` block. `mirror` ({bucket, reader_role_arn, writer_role_arn, and the
    reader_service_account / writer_service_account the roles trust}, `WeightsMirror.chart_inputs`) is required
    when the region mirrors its weights (`StackSpec.weights_mirror_for`)."""
    source, revision, _ = spec.model_for(region)
    enabled = spec.weights_mirror_for(region)
    if enabled and not (mirror and mirror.get("bucket") and mirror.get("reader_role_arn") and mirror.get("writer_role_arn")):
        raise ValueError(
            f"model.weightsMirror is on in {region.region}: the chart needs the mirror's bucket, reader_role_arn "
            "and writer_role_arn")
    mirror = mirror if enabled else {}
    bucket = mirror.get("bucket", "")
    reader_account, writer_account = weights_service_accounts("vllm")  # the chart's defaults (release "vllm")
    fill_seconds = mirror_plan.fill_seconds(spec.weight_bytes(source) or 0.0)
    return {
        "enabled": enabled,
        "bucket": bucket,
        "region": region.region if enabled else "",
        "objectPrefix": mirror_plan.object_prefix(source, revision) if enabled else "",
        "modelUri": mirror_plan.model_uri(bucket, source, revision) if enabled else "",
        "markerKey": mirror_plan.marker_key(source, revision) if enabled else "",
        "waitPollSeconds": WEIGHTS_WAIT_POLL_SECONDS,
        "reader": {"serviceAccountName": mirror.get("reader_service_account", reader_account),
                   "roleArn": mirror.get("reader_role_arn", "")},
        "fill": {
            "serviceAccountName": mirror.get("writer_service_account", writer_account),
            "roleArn": mirror.get("writer_role_arn", ""),
            "activeDeadlineSeconds": fill_seconds,
            "pulumiTimeoutSeconds": fill_seconds + WEIGHTS_FILL_SCHEDULING_SECONDS,
            "backoffLimit": WEIGHTS_FILL_BACKOFF_LIMIT,
            "scratchSizeLimit": f"{mirror_plan.FILL_SCRATCH_GIB}Gi",
            "multipartChunkBytes": mirror_plan.MULTIPART_CHUNK_BYTES,
            "skipPatterns": list(mirror_plan.SKIPPED_PATTERNS),
            "nodeSelector": dict(SYSTEM_LABELS),
            "resources": {"cpu": "1", "memory": "2Gi"},
        },
    }


def rolling_update(spec: StackSpec, region: RegionSpec) -> dict:
    """Surge a new replica first, unless the pools may be full at maxReplicas: then a surge pod would wait
    for a node cluster-autoscaler cannot add (maxNodes) and the rollout would stall, so replace in place."""
    _, high = spec.replicas_for(region)
    if high >= spec.pool_replica_capacity(region):
        return {"maxSurge": 0, "maxUnavailable": 1}
    return {"maxSurge": 1, "maxUnavailable": 0}


def replica_resources(spec: StackSpec, region: RegionSpec) -> dict:
    """CPU/memory requests per replica: the smallest pool's node share after the node reserve."""
    cpus, memories = [], []
    for pool in region.gpu_pools:
        it = hardware.instance_type(pool.instance_type)
        per_node = max(1, it.gpus // spec.model.tensor_parallel)
        memory_gib = it.memory_mib / 1024 * (1 - NODE_RESERVED_MEMORY_FRACTION) - NODE_RESERVED_MEMORY_GIB
        reserved_cpu = NODE_RESERVED_CPU + NODE_RESERVED_CPU_FRACTION_ABOVE_4 * max(0, it.vcpus - 4)
        cpus.append((it.vcpus - reserved_cpu) / per_node)
        memories.append(memory_gib / per_node)
    cpu = max(1, math.floor(min(cpus)))
    memory_gib = max(4, math.floor(min(memories)))
    return {"cpu": str(cpu), "memory": f"{memory_gib}Gi"}


def cache_size_gib(weight_bytes: float) -> int:
    """Model cache volume: the weights plus 15% and 2 GiB for tokenizer, configs and compile caches."""
    return int(math.ceil(weight_bytes / hardware.GIB * 1.15 + 2))


def shm_size_gib(tensor_parallel: int) -> int:
    """/dev/shm: vLLM's engine message queue needs ~1 GiB; NCCL between GPUs of a replica more."""
    return 1 if tensor_parallel == 1 else 4 * tensor_parallel


def long_request_seconds(spec: StackSpec) -> int:
    """The time a long request needs to finish (ttft + long output x tpot), 60 to 900 s: what a vLLM pod is given
    to drain, and how long the gateway waits for vLLM before it counts the call as failed (infra/gateway_config.py)."""
    long_request = (
        spec.traffic.ttft_target_ms / 1000
        + LONG_REQUEST_OUTPUT_FACTOR * spec.traffic.output_tokens_per_request * spec.traffic.tpot_target_ms / 1000
    )
    return int(min(max(60, math.ceil(long_request)), 900))


def termination_grace_seconds(spec: StackSpec) -> int:
    """Pre-stop sleep plus the time a long request needs to finish (ttft + long output x tpot)."""
    return PRE_STOP_SLEEP_SECONDS + long_request_seconds(spec)


def peak_requests_per_minute_per_replica(spec: StackSpec, max_replicas: int) -> float:
    """Peak requests per minute one replica takes when maxReplicas serve the stack's peak traffic."""
    average_per_minute = spec.traffic.requests_per_month / (HOURS_PER_MONTH * 60)
    per_replica = average_per_minute * spec.traffic.peak_to_average / max(1, max_replicas)
    return round(max(per_replica, 1.0), 2)


def load_balancer_source_cidrs(spec: StackSpec, region: RegionSpec) -> list[str]:
    """Addresses the ALB connects to its IP targets from: the region's public subnets, where its nodes live."""
    return subnet_cidrs(region.vpc_cidr, spec.network.availability_zones)[1]


def network_policy_values(spec: StackSpec, region: RegionSpec) -> dict:
    """The chart's `networkPolicy` values: who may reach the vLLM pods' port (see the constants above); with a
    `gateway` block the ALB no longer may (it targets the gateway)."""
    return {
        "enabled": True,
        # With a gateway the ALB targets the gateway's pods: only the gateway (and Prometheus) reach vLLM.
        "loadBalancerCidrs": [] if spec.gateway else load_balancer_source_cidrs(spec, region),
        "monitoringNamespace": MONITORING_NAMESPACE,
        "gateway": {"namespaceLabels": dict(GATEWAY_NAMESPACE_LABELS), "podLabels": dict(GATEWAY_POD_LABELS)},
    }


def vllm_values(
    spec: StackSpec,
    region: RegionSpec,
    *,
    prometheus_url: str,
    gpu_hourly_price_usd: float | None,
    load_balancer_arn_suffix: str | None = None,
    target_group_arn_suffix: str | None = None,
    huggingface_token_secret: str | None = None,
    monitoring_selector_labels: dict[str, str] | None = None,
    target_group_arn: str | None = None,
    vpc_id: str | None = None,
    weights_mirror: dict | None = None,
) -> dict:
    """The chart's values for one region of a stack (plain JSON data).

    `gpu_hourly_price_usd` is the hourly price of one GPU node of the region (the dashboard's
    cost per 1M tokens uses it); None leaves the dashboard's price empty rather than $0.
    `load_balancer_arn_suffix` / `target_group_arn_suffix` (`app/...`, `targetgroup/...`) feed the
    scale-from-zero CloudWatch trigger; they are required when `autoscaling.scaleToZero` is on.
    `monitoring_selector_labels` go on the ServiceMonitor and PrometheusRule (e.g. `{"release": <kube-prometheus-stack
    release>}` when its Prometheus selects by release label).
    `target_group_arn` / `vpc_id` (the region's ALB target group and its VPC) turn on the TargetGroupBinding
    that puts the pods' IPs into that target group, with a readiness gate on every pod; without them the
    chart renders no binding (a chart test or a cluster without the ALB).
    `weights_mirror` ({bucket, reader_role_arn, writer_role_arn}) is the region's `WeightsMirror`; required
    when `model.weightsMirror` puts the region's weights in a mirror (see `weights_mirror_values`).
    """
    model = spec.model
    source, revision, image = spec.model_for(region)
    kv_metric = kv_cache_metric(spec.autoscaling.kv_cache_metric, image)  # KEDA and the alerts read the same gauge
    weight_bytes = spec.weight_bytes() or 0.0
    low, high = spec.replicas_for(region)
    scaling = spec.autoscaling
    scale_to_zero = scaling.scale_to_zero and low == 0
    if scale_to_zero and not (load_balancer_arn_suffix and target_group_arn_suffix):
        raise ValueError(
            "autoscaling.scaleToZero needs load_balancer_arn_suffix and target_group_arn_suffix "
            "for the CloudWatch activation trigger"
        )
    startup_seconds = startup_probe_seconds(weight_bytes)
    mirror = weights_mirror_values(spec, region, weights_mirror)
    # With the mirror, the first rollout also waits for the fill Job (the pods' init container does).
    rollout_seconds = rollout_timeout_seconds(weight_bytes, low) + (
        mirror["fill"]["pulumiTimeoutSeconds"] if mirror["enabled"] else 0)
    alerts = spec.monitoring.alerts
    requests = replica_resources(spec, region)

    return {
        "model": {
            "name": model.name,
            "source": source,
            "revision": revision,
            "tensorParallel": model.tensor_parallel,
            "maxModelLen": model.max_model_len,
            "dtype": model.dtype,
            "quantization": model.quantization or "",
            "gpuMemoryUtilization": GPU_MEMORY_UTILIZATION,
        },
        "image": {**split_image(image), "pullPolicy": "IfNotPresent"},
        "apiKey": {"secretName": API_KEY_SECRET_NAME, "secretKey": API_KEY_SECRET_KEY},
        "huggingfaceToken": {
            "secretName": huggingface_token_secret or "",
            "secretKey": HUGGINGFACE_TOKEN_SECRET_KEY,
        },
        "weightsMirror": mirror,
        "replicaCount": max(1, low),
        "rollingUpdate": rolling_update(spec, region),
        "scheduling": {
            "nodeSelector": dict(GPU_NODE_SELECTOR),
            "gpuPools": [pool.name for pool in region.gpu_pools],
            "gpuPoolLabel": GPU_POOL_LABEL,
            "tolerations": [
                {"key": GPU_TAINT_KEY, "operator": "Equal", "value": GPU_TAINT_VALUE, "effect": GPU_TAINT_EFFECT}
            ],
            "topologySpread": {
                "enabled": True,
                "topologyKey": "topology.kubernetes.io/zone",
                "maxSkew": 1,
                "whenUnsatisfiable": "ScheduleAnyway",
            },
        },
        "resources": {"requests": requests, "limits": {"memory": requests["memory"]}},
        "cache": {"sizeLimit": f"{cache_size_gib(weight_bytes)}Gi", "mountPath": "/models"},
        "shm": {"sizeLimit": f"{shm_size_gib(model.tensor_parallel)}Gi"},
        "probes": {
            "startup": {
                "periodSeconds": STARTUP_PROBE_PERIOD_SECONDS,
                "failureThreshold": startup_seconds // STARTUP_PROBE_PERIOD_SECONDS,
                "timeoutSeconds": 5,
            },
            "readiness": {"periodSeconds": 10, "failureThreshold": 3, "timeoutSeconds": 5},
            "liveness": {"periodSeconds": 15, "failureThreshold": 6, "timeoutSeconds": 10},
        },
        "lifecycle": {"preStopSleepSeconds": PRE_STOP_SLEEP_SECONDS},
        "pulumi": {
            "deploymentTimeoutSeconds": rollout_seconds,
            "skipServiceAwait": True,
        },
        "terminationGracePeriodSeconds": termination_grace_seconds(spec),
        "service": {"port": VLLM_CONTAINER_PORT},
        "targetGroupBinding": {
            "enabled": bool(target_group_arn),
            "targetGroupArn": target_group_arn or "",
            "vpcId": vpc_id or "",
            "targetType": TARGET_TYPE,
            "targetGroupProtocol": TARGET_GROUP_PROTOCOL,
        },
        "networkPolicy": network_policy_values(spec, region),
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        "autoscaling": {
            "enabled": True,
            "minReplicas": low,
            "maxReplicas": high,
            "pollingIntervalSeconds": KEDA_POLLING_SECONDS,
            "prometheusServerAddress": prometheus_url,
            "targetQueueLength": scaling.target_queue_length,
            "targetKvCacheUsage": scaling.target_kv_cache_usage,
            "kvCacheMetric": kv_metric,
            "fallback": {"failureThreshold": 3, "replicas": max(1, min(scaling.fallback_replicas, high))},
            "scaleDown": {
                "stabilizationWindowSeconds": scaling.scale_down_stabilization_seconds,
                "podsPerPeriod": 1,
                "periodSeconds": 300,
            },
            "scaleUp": {"stabilizationWindowSeconds": 0, "podsPerPeriod": 2, "periodSeconds": 60},
            "scaleToZero": {
                "enabled": scale_to_zero,
                "awsRegion": region.region,
                "loadBalancerArnSuffix": load_balancer_arn_suffix or "",
                "targetGroupArnSuffix": target_group_arn_suffix or "",
                "activationRequestsPerMinute": scaling.activation_requests_per_second * CLOUDWATCH_PERIOD_SECONDS,
                "requestsPerMinutePerReplica": peak_requests_per_minute_per_replica(spec, high),
                "cooldownSeconds": max(300, scaling.scale_down_stabilization_seconds),
            },
        },
        "monitoring": {
            "selectorLabels": dict(monitoring_selector_labels or {}),
            # Always on: KEDA's triggers read vLLM's queue and KV-cache metrics from this Prometheus
            # (installed even with monitoring.enabled false, which drops only Grafana and DCGM).
            "serviceMonitor": {"enabled": True, "interval": "15s"},
            "prometheusRule": {
                "enabled": spec.monitoring.enabled,
                "region": region.region,
                "queueWaitingPerReplica": alerts.queue_waiting_per_replica,
                "ttftTargetSeconds": spec.traffic.ttft_target_ms / 1000,
                "kvCacheUsage": alerts.kv_cache_usage,
                "kvCacheMetric": kv_metric,
                "gpuIdleHours": alerts.gpu_idle_hours,
                "gpuIdleUtilizationPercent": alerts.gpu_idle_utilization_percent,
            },
            "dashboard": {
                "enabled": spec.monitoring.enabled and spec.monitoring.grafana,
                "gpuHourlyPriceUsd": gpu_hourly_price_usd,
            },
        },
    }
