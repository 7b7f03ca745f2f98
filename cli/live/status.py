"""`tradeoff-infra status`: what each region's cluster runs, against the stack file's pin.

Per region, read through its Kubernetes API (`cli.live.kube`): the vLLM Deployment's desired / ready / updated
replicas; per pod the image digest the kubelet actually started (`status.containerStatuses[].imageID`, else the
spec's reference before the container starts) and the weights revision vLLM loads (its `--revision=` argument,
else the chart's pod annotation `MODEL_REVISION_ANNOTATION`, which the chart sets from the same value); pending
pods and why; nodes per GPU pool and capacity type; KEDA's ScaledObject (active or not) and its HPA's target;
the run-rate of the nodes in $/hour from the price catalog.

Drift (exit 1) is any difference between what runs or is declared and the pin in force for the region (the
canary's own pin where it has one): a Deployment template or a pod with another digest or revision, or no
vLLM Deployment at all. A pod still pending is not drift (it reports why it waits).
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

from cli.estimate.prices import PriceBook
from cli.errors import failed
from cli.live import kube
from infra.conventions import (
    GPU_POOL_LABEL, LLM_WORKLOAD, MODEL_REVISION_ANNOTATION, CAPACITY_TYPE_LABEL, INSTANCE_TYPE_LABEL,
    NODE_CAPACITY_TYPES, VLLM_CONTAINER_NAME, WORKLOAD_LABEL,
)
from infra.pins import IMAGE_RE
from infra.price_catalog import MissingPrice
from infra.spec import RegionSpec, StackSpec

# Container waiting reasons that mean the pod will not come up by itself (a stalled rollout).
STUCK_REASONS = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName",
                 "CreateContainerConfigError", "CreateContainerError")
KEDA_GROUP, KEDA_VERSION, KEDA_PLURAL = "keda.sh", "v1alpha1", "scaledobjects"


# ---------------------------------------------------------------- reading one region


def list_items(cluster: kube.Cluster, what: str, fn, *args, **kwargs) -> tuple[list[dict], str]:
    """A list call's items as API JSON dicts, and the list's resourceVersion (for a watch from there)."""
    body = read_json(cluster, what, fn, *args, **kwargs)
    return body.get("items") or [], (body.get("metadata") or {}).get("resourceVersion", "")


def read_json(cluster: kube.Cluster, what: str, fn, *args, **kwargs) -> dict | None:
    """The API's JSON answer as a dict (None for a 404 with `missing_ok=True`), its shape checked (`check_shape`)."""
    response = kube.call(cluster.region, what, fn, *args, _preload_content=False, **kwargs)
    if response is None:
        return None
    try:
        body = json.loads(response.data)
    except ValueError:
        raise kube.api_error(cluster.region, what, ValueError("the answer is not JSON")) from None
    try:
        check_shape(body)
    except ValueError as err:
        raise failed(f"{cluster.region}: {what}: the API's answer is not a Kubernetes object: {err}") from None
    return body


# The fields of the API objects read here, by JSON type: a malformed answer is named, not a traceback.
_OBJECT_FIELDS = {"metadata", "labels", "annotations", "spec", "status", "template", "state", "waiting", "running",
                  "terminated", "selector", "matchLabels"}
_LIST_OF_OBJECTS = {"items", "conditions", "containers", "initContainers", "containerStatuses",
                    "initContainerStatuses", "ownerReferences"}
_STRING_FIELDS = {"name", "namespace", "resourceVersion", "image", "imageID", "reason", "message", "type", "kind",
                  "nodeName", "phase", "hpaName", "deletionTimestamp"}
_COUNT_FIELDS = {"replicas", "readyReplicas", "updatedReplicas", "availableReplicas", "generation",
                 "observedGeneration", "currentReplicas", "desiredReplicas", "minReplicaCount", "maxReplicaCount"}


def check_shape(value: Any, path: str = "") -> None:
    """Raise ValueError naming the first field whose JSON type is not the API's (`items[0].metadata.labels: ...`)."""
    if not isinstance(value, dict):
        raise ValueError(f"{path or 'the answer'}: not an object")
    for key, field in value.items():
        where = f"{path}.{key}" if path else key
        if field is None and key not in ("metadata", "name"):
            continue  # null reads as absent
        if key == "items" and isinstance(field, list):
            for i, item in enumerate(field):  # every listed object is named
                if not isinstance(item, dict) or not isinstance(item.get("metadata"), dict) \
                        or not isinstance(item["metadata"].get("name"), str):
                    raise ValueError(f"{where}[{i}].metadata.name: missing")
        if key in ("labels", "annotations"):
            if not isinstance(field, dict) or not all(isinstance(v, str) for v in field.values()):
                raise ValueError(f"{where}: not an object of strings")
        elif key == "status" and isinstance(field, str):
            continue  # a condition's "True"/"False"
        elif key in _OBJECT_FIELDS:
            check_shape(field, where)
        elif key in _LIST_OF_OBJECTS:
            if not isinstance(field, list):
                raise ValueError(f"{where}: not a list")
            for i, item in enumerate(field):
                check_shape(item, f"{where}[{i}]")
        elif key == "args" and not (isinstance(field, list) and all(isinstance(a, str) for a in field)):
            raise ValueError(f"{where}: not a list of strings")
        elif key in _STRING_FIELDS and not isinstance(field, str | None):
            raise ValueError(f"{where}: not a string")
        elif key in _COUNT_FIELDS and (isinstance(field, bool) or not isinstance(field, int)):
            raise ValueError(f"{where}: not a whole number")


def read_region(cluster: kube.Cluster) -> dict[str, Any]:
    """Every object `status` looks at in one region, as API JSON dicts."""
    from kubernetes import client as k8s

    apps, core = k8s.AppsV1Api(cluster.client), k8s.CoreV1Api(cluster.client)
    ns, sel = kube.NAMESPACE, kube.VLLM_SELECTOR
    deployments, _ = list_items(cluster, f"list Deployments in {ns}", apps.list_namespaced_deployment, ns, label_selector=sel)
    pods, _ = list_items(cluster, f"list pods in {ns}", core.list_namespaced_pod, ns, label_selector=sel)
    nodes, _ = list_items(cluster, "list nodes", core.list_node)
    custom = k8s.CustomObjectsApi(cluster.client)
    scaled, _ = list_items(cluster, f"list KEDA ScaledObjects in {ns}", custom.list_namespaced_custom_object,
                           KEDA_GROUP, KEDA_VERSION, ns, KEDA_PLURAL, label_selector=sel)
    hpas = {}
    for so in scaled:
        name = (so.get("status") or {}).get("hpaName")
        if name:  # None when KEDA has not made it (yet): no target to report
            hpas[name] = read_json(cluster, f"read HorizontalPodAutoscaler {name}",
                                   k8s.AutoscalingV2Api(cluster.client).read_namespaced_horizontal_pod_autoscaler,
                                   name, ns, missing_ok=True)
    return {"deployments": deployments, "pods": pods, "nodes": nodes, "scaledObjects": scaled, "hpas": hpas}


# ---------------------------------------------------------------- what a pod runs


def digest_of(reference: str | None) -> str | None:
    """The `sha256:...` digest in an image reference or a kubelet imageID (`docker.io/vllm/...@sha256:...`)."""
    if not reference or "@" not in reference:
        return None
    digest = reference.rsplit("@", 1)[1]
    return digest if digest.startswith("sha256:") else None


def _container(pod_spec: dict) -> dict:
    containers = pod_spec.get("containers") or [{}]
    return next((c for c in containers if c.get("name") == VLLM_CONTAINER_NAME), containers[0])


def template_pin(template: dict) -> tuple[str | None, str | None]:
    """(revision, image digest) a pod template (or a pod) declares."""
    spec = template.get("spec") or {}
    container = _container(spec)
    revision = next((a.split("=", 1)[1] for a in container.get("args") or [] if a.startswith("--revision=")), None)
    if revision is None:
        revision = ((template.get("metadata") or {}).get("annotations") or {}).get(MODEL_REVISION_ANNOTATION)
    return revision, digest_of(container.get("image"))


def running_pin(pod: dict) -> tuple[str | None, str | None]:
    """(revision, digest) a pod runs: the digest the kubelet started when the container has started."""
    revision, declared = template_pin(pod)
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    started = next((s for s in statuses if s.get("name") == VLLM_CONTAINER_NAME), None)
    return revision, digest_of((started or {}).get("imageID")) or declared


def pod_ready(pod: dict) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def waiting_reasons(pod: dict) -> list[tuple[str, str, str]]:
    """(container, reason, message) of every init or app container waiting with a reason."""
    status = pod.get("status") or {}
    out = []
    for s in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        waiting = (s.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            out.append((s.get("name", "?"), waiting["reason"], waiting.get("message") or ""))
    return out


def pending_reason(pod: dict, gpu_nodes: int) -> str:
    """Why a pod is not running yet, in words: scaling from zero, no GPU capacity, pulling, loading ..."""
    status = pod.get("status") or {}
    scheduled = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
    if scheduled is not None and scheduled.get("status") == "False":
        message = scheduled.get("message") or scheduled.get("reason") or "not scheduled"
        if gpu_nodes == 0:
            return f"scaling from zero: no GPU node yet, cluster-autoscaler must launch one ({message})"
        if "nvidia.com/gpu" in message:
            return f"no GPU capacity: every GPU node is full ({message})"
        return f"unschedulable: {message}"
    waiting = waiting_reasons(pod)
    if waiting:
        container, reason, message = waiting[0]
        return f"{container}: {reason}" + (f" ({message})" if message else "")
    if status.get("phase") == "Pending":
        return "scheduled, containers starting"
    return "started, not ready yet (loading the weights)"


# ---------------------------------------------------------------- one region's report


def pin_of(spec: StackSpec, region: RegionSpec) -> dict[str, Any]:
    source, revision, image = spec.model_for(region)
    match = IMAGE_RE.match(image)
    return {"source": source, "revision": revision, "image": image, "digest": match.group("digest") if match else None,
            "follows": "own pin" if region.has_own_pin else "stack-wide pin"}


def _run_rate(nodes: list[dict], spec_region: RegionSpec, book: PriceBook) -> tuple[float | None, list[str]]:
    """$/hour of the region's nodes at catalog prices (reserved pools: their minNodes at the reserved rate)."""
    pools = {p.name: p for p in spec_region.gpu_pools}
    reserved_left = {p.name: p.min_nodes for p in spec_region.gpu_pools if p.capacity_type == "reserved-1y"}
    total, missing = Decimal(0), []
    for node in nodes:
        labels = (node.get("metadata") or {}).get("labels") or {}
        instance_type = labels.get(INSTANCE_TYPE_LABEL)
        capacity = NODE_CAPACITY_TYPES.get(labels.get(CAPACITY_TYPE_LABEL, "ON_DEMAND"), "on-demand")
        pool = labels.get(GPU_POOL_LABEL)
        if capacity == "on-demand" and reserved_left.get(pool, 0) > 0 and pools[pool].instance_type == instance_type:
            reserved_left[pool] -= 1
            capacity = "reserved-1y"
        if not instance_type:
            missing.append(f"node {node['metadata'].get('name')} has no {INSTANCE_TYPE_LABEL} label")
            continue
        try:
            total += book.instance(spec_region.region, instance_type, capacity).usd_per_hour
        except MissingPrice as err:
            missing.append(str(err))
    return float(round(total, 4)), missing


def _node_groups(nodes: list[dict]) -> list[dict]:
    counts: Counter = Counter()
    for node in nodes:
        labels = (node.get("metadata") or {}).get("labels") or {}
        gpu = labels.get(WORKLOAD_LABEL) == LLM_WORKLOAD
        key = (labels.get(GPU_POOL_LABEL) if gpu else "(system)", labels.get(INSTANCE_TYPE_LABEL, "?"),
               NODE_CAPACITY_TYPES.get(labels.get(CAPACITY_TYPE_LABEL, ""), labels.get(CAPACITY_TYPE_LABEL, "?")),
               gpu)
        counts[key] += 1
    return [{"pool": pool, "instanceType": it, "capacityType": cap, "gpu": gpu, "nodes": n}
            for (pool, it, cap, gpu), n in sorted(counts.items(), key=lambda kv: (not kv[0][3], str(kv[0][0])))]


def _keda(scaled: list[dict], hpas: dict[str, dict | None]) -> dict | None:
    if not scaled:
        return None
    so = scaled[0]
    status = so.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    hpa = hpas.get(status.get("hpaName") or "") or {}
    hpa_status = hpa.get("status") or {}
    active = conditions.get("Active", {}).get("status")
    return {
        "name": so["metadata"]["name"],
        "ready": conditions.get("Ready", {}).get("status") == "True",
        "active": active == "True" if active in ("True", "False") else None,
        "fallback": conditions.get("Fallback", {}).get("status") == "True",
        "minReplicas": (so.get("spec") or {}).get("minReplicaCount"),
        "maxReplicas": (so.get("spec") or {}).get("maxReplicaCount"),
        "currentReplicas": hpa_status.get("currentReplicas"),
        "targetReplicas": hpa_status.get("desiredReplicas"),
    }


def region_report(spec: StackSpec, region: RegionSpec, objects: dict[str, Any], book: PriceBook) -> dict[str, Any]:
    """One region's status document (the `regions[]` entry of `status --format json`)."""
    pin = pin_of(spec, region)
    drift: list[str] = []
    deployments = objects["deployments"]
    deployment = None
    if not deployments:
        drift.append("no vLLM Deployment in namespace "
                     f"{kube.NAMESPACE} (label {kube.VLLM_SELECTOR}): not deployed, or deployed elsewhere")
    else:
        deployment = deployments[0]
    dep_doc = None
    if deployment is not None:
        d_spec, d_status = deployment.get("spec") or {}, deployment.get("status") or {}
        revision, digest = template_pin(d_spec.get("template") or {})
        dep_doc = {
            "name": deployment["metadata"]["name"],
            "desired": d_spec.get("replicas", 0),
            "ready": d_status.get("readyReplicas", 0),
            "updated": d_status.get("updatedReplicas", 0),
            "available": d_status.get("availableReplicas", 0),
            "revision": revision,
            "digest": digest,
        }
        if revision != pin["revision"]:
            drift.append(f"Deployment {dep_doc['name']} declares revision {revision} but the pin is {pin['revision']} "
                         "(`pulumi up` not run since the pin?)")
        if digest != pin["digest"]:
            drift.append(f"Deployment {dep_doc['name']} declares image digest {digest} but the pin is {pin['digest']} "
                         "(`pulumi up` not run since the pin?)")
    gpu_nodes = [n for n in objects["nodes"]
                 if ((n.get("metadata") or {}).get("labels") or {}).get(WORKLOAD_LABEL) == LLM_WORKLOAD]
    pods, pending = [], []
    for pod in objects["pods"]:
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            continue
        revision, digest = running_pin(pod)
        ready = pod_ready(pod)
        name = pod["metadata"]["name"]
        pods.append({"name": name, "phase": (pod.get("status") or {}).get("phase"), "ready": ready,
                     "node": (pod.get("spec") or {}).get("nodeName"), "revision": revision, "digest": digest})
        if not ready:
            pending.append({"pod": name, "reason": pending_reason(pod, len(gpu_nodes))})
        if revision != pin["revision"]:
            drift.append(f"pod {name} runs revision {revision}, the pin is {pin['revision']}")
        if digest != pin["digest"]:
            drift.append(f"pod {name} runs image digest {digest}, the pin is {pin['digest']}")
    run_rate, unpriced = _run_rate(objects["nodes"], region, book)
    return {
        "region": region.region,
        "inSync": not drift,
        "pin": pin,
        "deployment": dep_doc,
        "running": {  # pods placed on a node (a pod still waiting for one runs nothing yet)
            "revisions": dict(Counter(p["revision"] for p in pods if p["node"])),
            "digests": dict(Counter(p["digest"] for p in pods if p["node"])),
        },
        "pods": pods,
        "pending": pending,
        "nodes": _node_groups(objects["nodes"]),
        "keda": _keda(objects["scaledObjects"], objects["hpas"]),
        "runRateUsdPerHour": run_rate,
        "unpriced": unpriced,
        "drift": drift,
    }


def stack_report(stack: str, spec: StackSpec, clusters: dict[str, kube.Cluster], book: PriceBook) -> dict[str, Any]:
    regions = [region_report(spec, r, read_region(clusters[r.region]), book) for r in spec.regions if r.region in clusters]
    return {
        "stack": stack,
        "inSync": all(r["inSync"] for r in regions),
        "runRateUsdPerHour": round(sum(r["runRateUsdPerHour"] or 0 for r in regions), 4),
        "regions": regions,
    }


# ---------------------------------------------------------------- text


def _short(value: str | None) -> str:
    if value is None:
        return "-"
    return value[:19] if value.startswith("sha256:") else value[:12]


def render_text(doc: dict[str, Any], width: int = 100) -> str:
    """The report as text `width` columns wide: a line too long wraps with a hanging indent (`grid.hang`), never
    through a revision, a digest or an amount."""
    from cli.render.grid import hang

    lines = [f"stack {doc['stack']}: {'in sync' if doc['inSync'] else 'DRIFT'}; "
             f"nodes run ${doc['runRateUsdPerHour']:,.2f}/hour at catalog prices"]
    for r in doc["regions"]:
        pin = r["pin"]
        lines += ["", f"{r['region']}  {'in sync' if r['inSync'] else 'DRIFT'}  (pin: {pin['follows']})",
                  f"  pin        revision {_short(pin['revision'])}  image {_short(pin['digest'])}"]
        dep = r["deployment"]
        if dep:
            lines.append(f"  deployment {dep['name']}: desired {dep['desired']}, ready {dep['ready']}, "
                         f"updated {dep['updated']}")
        running = ", ".join(f"{_short(rev)} x{n}" for rev, n in r["running"]["revisions"].items()) or "no pods"
        digests = ", ".join(f"{_short(d)} x{n}" for d, n in r["running"]["digests"].items()) or "-"
        lines.append(f"  running    revision {running}; image {digests}")
        for p in r["pending"]:
            lines.append(f"  pending    {p['pod']}: {p['reason']}")
        for g in r["nodes"]:
            lines.append(f"  nodes      {g['pool']} {g['instanceType']} {g['capacityType']}: {g['nodes']}")
        keda = r["keda"]
        if keda:
            active = {True: "active", False: "idle", None: "unknown"}[keda["active"]]
            lines.append(f"  keda       {keda['name']}: {active}, target {keda['targetReplicas'] if keda['targetReplicas'] is not None else '-'} "
                         f"replicas (current {keda['currentReplicas'] if keda['currentReplicas'] is not None else '-'}, "
                         f"min {keda['minReplicas']}, max {keda['maxReplicas']})" + (", FALLBACK" if keda["fallback"] else ""))
        lines.append(f"  run-rate   ${r['runRateUsdPerHour']:,.2f}/hour")
        for problem in r["unpriced"]:
            lines.append(f"  unpriced   {problem}")
        for problem in r["drift"]:
            lines.append(f"  drift      {problem}")
    return "\n".join(piece for line in lines for piece in hang(line, width))
