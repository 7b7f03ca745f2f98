"""`model pin|rollback --apply --wait`: follow each region's vLLM rollout through its API server until it serves the pin.

A region is done when its Deployment has observed its latest generation; every replica it wants is updated and
ready; every pod left runs the pin (the digest the kubelet started, the revision vLLM loads: `cli.live.status`);
every older ReplicaSet is scaled to zero (the chart keeps `revisionHistoryLimit` old ones, empty, for
`kubectl rollout undo`: "gone" means no replica left, not deleted); and vLLM's `/v1/models`, asked through the
API server's service proxy, names the served model.

The state comes from three watches (the Deployment, its ReplicaSets, its pods), each a `?watch=true` stream
started from the resourceVersion of a first list; nothing polls. A watch answered 410 Gone (its resourceVersion
left the API server's window) lists that kind again and watches on from the new list, as the API asks. A rollout stops early, with exit 1 naming the
region, the pod and its reason, when the Deployment reports ProgressDeadlineExceeded or a new pod's container
waits in CrashLoopBackOff, ImagePullBackOff, ErrImagePull (`status.STUCK_REASONS`); `--timeout` bounds it all.

Through the service proxy, the API server removes the caller's Authorization header once it has authenticated
it (k8s.io/apiserver `WithAuthentication`), so vLLM, which wants its API key there on every `/v1` path,
answers 401: vLLM is then asked for `/metrics` instead (no key: outside `/v1`), whose series carry the served
model name as `model_name`. When the API server cannot reach vLLM at all (the chart's NetworkPolicy, enforced by the VPC
CNI, admits the ALB, Prometheus and the gateway, not the control plane's ENIs), each ready pod's served model is
read from the region's Prometheus instead (`models_via_prometheus`).
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from cli.errors import CliError, failed
from cli.live import kube
from cli.live.status import STUCK_REASONS, check_shape, pin_of, pod_ready, read_json, running_pin, template_pin, waiting_reasons
from infra.conventions import VLLM_PORT_NAME
from infra.spec import RegionSpec, StackSpec

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"  # set by the Deployment controller on it and its ReplicaSets
GONE = 410  # a watch's resourceVersion is too old (the API's "Expired" Status)
RELIST = "RELIST"  # a watcher's event after a 410: the kind's full list, which replaces what was known of it
MAX_RELISTS = 3
# How often the Prometheus fallback asks again for a pod it has no series of yet (a fraction of a scrape interval).
PROMETHEUS_RECHECK_SECONDS = 5.0  # 410s in a row without an event in between: the API server is not keeping its word, give up
_MODEL_NAME_RE = re.compile(r'model_name="((?:[^"\\]|\\.)*)"')


@dataclass
class RolloutState:
    deployment: dict
    replicasets: dict[str, dict] = field(default_factory=dict)
    pods: dict[str, dict] = field(default_factory=dict)


def _name(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def current_replicaset(state: RolloutState) -> str | None:
    """The ReplicaSet of the Deployment's current revision (the Deployment controller annotates both), when it runs the
    template's pin."""
    revision = ((state.deployment.get("metadata") or {}).get("annotations") or {}).get(REVISION_ANNOTATION)
    declared = template_pin((state.deployment.get("spec") or {}).get("template") or {})
    for name, rs in state.replicasets.items():
        if revision and ((rs.get("metadata") or {}).get("annotations") or {}).get(REVISION_ANNOTATION) == revision:
            # Until the controller has handled the new template the annotation still names the last rollout's
            # ReplicaSet: not this rollout's, so its pods' troubles are not this rollout's stall.
            return name if template_pin((rs.get("spec") or {}).get("template") or {}) == declared else None
    return None


def _owner(pod: dict) -> str | None:
    refs = (pod.get("metadata") or {}).get("ownerReferences") or []
    return next((r.get("name") for r in refs if r.get("kind") == "ReplicaSet"), None)


def evaluate(region: str, state: RolloutState, pin: dict) -> tuple[str, str]:
    """("done" | "stalled" | "waiting", what to say)."""
    dep = state.deployment
    d_meta, d_spec, d_status = dep.get("metadata") or {}, dep.get("spec") or {}, dep.get("status") or {}
    observed = d_status.get("observedGeneration", 0) >= d_meta.get("generation", 0)
    current = current_replicaset(state)
    pods = [p for p in state.pods.values() if not (p.get("metadata") or {}).get("deletionTimestamp")]
    new_pods = [p for p in pods if current is not None and _owner(p) == current]
    for pod in new_pods:
        for container, reason, message in waiting_reasons(pod):
            if reason in STUCK_REASONS:
                return "stalled", (f"{region}: rollout stalled: pod {_name(pod)} container {container}: {reason}"
                                   + (f": {message}" if message else ""))
    # Conditions are written with observedGeneration: before the controller has seen the new template they may be
    # the last rollout's (rolling away from a pin that stalled).
    for condition in (d_status.get("conditions") or []) if observed else []:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            reasons = "; ".join(f"pod {_name(p)}: " + ", ".join(f"{c} {r}" for c, r, _ in waiting_reasons(p))
                                for p in new_pods if waiting_reasons(p)) or "no pod reports a reason"
            return "stalled", (f"{region}: rollout stalled: progress deadline exceeded ({condition.get('message', '')}); "
                               f"{reasons}")
    desired = d_spec.get("replicas", 0)
    updated, ready, total = (d_status.get("updatedReplicas", 0), d_status.get("readyReplicas", 0),
                             d_status.get("replicas", 0))
    old_pods = [p for p in pods if _owner(p) != current]
    off_pin = [p for p in pods if pod_ready(p) and running_pin(p) != (pin["revision"], pin["digest"])]
    old_sets = [n for n, rs in state.replicasets.items()
                if n != current and ((rs.get("status") or {}).get("replicas", 0) or (rs.get("spec") or {}).get("replicas", 0))]
    progress = (f"{region}: updated {updated}/{desired}, ready {ready}/{desired}, old pods {len(old_pods)}, "
                f"old ReplicaSets with replicas {len(old_sets)}")
    done = (observed and current is not None
            and updated == desired and ready == desired and total == desired and not old_pods and not off_pin
            and not old_sets and sum(1 for p in new_pods if pod_ready(p)) == desired)
    return ("done" if done else "waiting"), progress


class _Watcher(threading.Thread):
    """Streams one kind's watch events into the shared queue until stopped or past the deadline."""

    def __init__(self, kind: str, fn: Callable, args: tuple, kwargs: dict, resource_version: str,
                 deadline: float, events: queue.Queue):
        super().__init__(daemon=True, name=f"watch-{kind}")
        self.kind, self.fn, self.args, self.kwargs = kind, fn, args, kwargs
        self.resource_version, self.deadline, self.events = resource_version, deadline, events
        self.stopped = threading.Event()
        self.watch = None

    def run(self) -> None:
        from kubernetes import watch

        expired = 0
        while not self.stopped.is_set():
            left = int(self.deadline - time.monotonic())
            if left <= 0:
                return
            self.watch = watch.Watch()
            try:
                for event in self.watch.stream(self.fn, *self.args, resource_version=self.resource_version,
                                               timeout_seconds=left, allow_watch_bookmarks=True,
                                               _request_timeout=left + kube.REQUEST_TIMEOUT_SECONDS, **self.kwargs):
                    if self.stopped.is_set():
                        return
                    expired = 0
                    raw = event.get("raw_object") or {}
                    check_shape(raw)
                    self.resource_version = (raw.get("metadata") or {}).get("resourceVersion") or self.resource_version
                    self.events.put((self.kind, event.get("type"), raw))
            except Exception as err:  # noqa: BLE001 - an API error ends the wait with its message
                if self.stopped.is_set():
                    return
                # 410 Gone: the resourceVersion left the API server's window (compaction, a reconnect after a quiet
                # spell): the API's contract is to list again and watch from the new list's version.
                if getattr(err, "status", None) == GONE and expired < MAX_RELISTS:
                    expired += 1
                    try:
                        self._relist()
                        continue
                    except Exception as relist_err:  # noqa: BLE001
                        err = relist_err
                self.events.put((self.kind, "FAILED", err))
                return

    def _relist(self) -> None:
        response = self.fn(*self.args, _preload_content=False, _request_timeout=kube.REQUEST_TIMEOUT_SECONDS,
                           **self.kwargs)
        body = json.loads(response.data)
        items, version = body.get("items") or [], (body.get("metadata") or {}).get("resourceVersion")
        if not version:
            raise ValueError("the relist after 410 Gone has no resourceVersion")
        self.resource_version = version
        self.events.put((self.kind, RELIST, items))

    def stop(self) -> None:
        self.stopped.set()
        if self.watch is not None:
            self.watch.stop()


def _apply(state: RolloutState, kind: str, kind_event: str, obj: Any) -> None:
    if kind_event == "BOOKMARK":
        return
    if kind_event == RELIST:  # `obj` is the kind's whole list
        if kind == "deployment":
            state.deployment = obj[0] if obj else state.deployment
        else:
            (state.replicasets if kind == "replicaset" else state.pods).clear()
            (state.replicasets if kind == "replicaset" else state.pods).update({_name(o): o for o in obj})
        return
    if kind == "deployment":
        if kind_event != "DELETED":
            state.deployment = obj
        return
    table = state.replicasets if kind == "replicaset" else state.pods
    if kind_event == "DELETED":
        table.pop(_name(obj), None)
    else:
        table[_name(obj)] = obj


def served_models(cluster: kube.Cluster, service: str) -> list[str]:
    """The model names vLLM serves, asked through the API server's service proxy: `/v1/models`, or `/metrics`
    when vLLM refuses `/v1` without its API key (the proxy drops the caller's Authorization header)."""
    from kubernetes.client.exceptions import ApiException

    base = f"/api/v1/namespaces/{kube.NAMESPACE}/services/{service}:{VLLM_PORT_NAME}/proxy"

    def get(path: str):
        return cluster.client.call_api(base + path, "GET", header_params={"Accept": "application/json, text/plain"},
                                       auth_settings=["BearerToken"], _preload_content=False,
                                       _request_timeout=kube.REQUEST_TIMEOUT_SECONDS, _return_http_data_only=True)

    where = f"vLLM's /v1/models through the service proxy ({base}/v1/models)"
    try:
        body = json.loads(get("/v1/models").data)
        return [m.get("id") for m in body.get("data") or [] if isinstance(m, dict)]
    except ApiException as err:
        if err.status != 401:
            raise _proxy_error(cluster.region, where, err) from None
    except ValueError:
        raise failed(f"{cluster.region}: {where}: the answer is not JSON") from None
    except Exception as err:  # noqa: BLE001 - unreachable
        raise _proxy_error(cluster.region, where, err) from None
    try:
        text = get("/metrics").data.decode("utf-8", "replace")
    except Exception as err:  # noqa: BLE001
        raise _proxy_error(cluster.region, f"vLLM's /metrics through the service proxy ({base}/metrics), asked because "
                           "/v1/models answered 401 (the proxy does not pass an API key)", err) from None
    return sorted(set(_MODEL_NAME_RE.findall(text)))


def _proxy_error(region: str, where: str, err: Exception):
    """A proxied request that failed; when the API server could not reach vLLM, say what usually stops it."""
    error = kube.api_error(region, where, err)
    error.unreachable = _unreachable(err)
    if error.unreachable:
        error.message += ("; the rollout itself is done, but the API server could not reach vLLM: with the chart's "
                          "NetworkPolicy enforced the control plane is not among the clients it admits "
                          "(docs/operations.md, \"Did the rollback take?\")")
    return error


def _unreachable(err: Exception) -> bool:
    """The API server could not open a connection to vLLM: it answers 502-504 once its own dial gives up (30 s),
    or our request times out first (no status) while a NetworkPolicy silently drops its SYNs."""
    return getattr(err, "status", None) in (None, 502, 503, 504)


def models_via_prometheus(cluster: kube.Cluster, pods: list[str], deadline: float) -> dict[str, set[str]]:
    """Pod -> the model names its vLLM reports, from the region's Prometheus (through the API server's service proxy
    to Prometheus, which the vLLM NetworkPolicy admits while it refuses the control plane). A pod that just became
    ready is in Prometheus after its next scrape, so this asks again every PROMETHEUS_RECHECK_SECONDS (Prometheus
    has no watch) until every pod has series or `deadline` passes."""
    from datetime import UTC, datetime

    from cli.live.prometheus import PrometheusError
    from cli.live.prometheus_proxy import prometheus_via_api_server
    from cli.live.prometheus_queries import VLLM_GENERATION_TOKENS, VLLM_SELECTOR

    prom = prometheus_via_api_server(cluster.client)
    expr = f"group by (pod, model_name) ({VLLM_GENERATION_TOKENS}{{{VLLM_SELECTOR}}})"
    while True:
        try:
            rows = prom.query(expr, datetime.now(UTC))
        except PrometheusError as err:
            raise failed(f"{cluster.region}: vLLM could not be asked through the service proxy, nor Prometheus: {err}") from None
        seen: dict[str, set[str]] = {}
        for series in rows:
            labels = dict(series)
            seen.setdefault(labels.get("pod", ""), set()).add(labels.get("model_name", ""))
        left = deadline - time.monotonic()
        if all(pod in seen for pod in pods) or left <= 0:
            return {pod: seen.get(pod, set()) for pod in pods}
        time.sleep(min(PROMETHEUS_RECHECK_SECONDS, left))


def check_served_model(spec: StackSpec, cluster: kube.Cluster, service: str, pods: list[str], deadline: float,
                       echo: Callable[[str], None]) -> None:
    """vLLM names the stack's model: through the service proxy, else (the API server cannot reach vLLM, as with the
    chart's NetworkPolicy enforced) through Prometheus's scrape of every ready pod."""
    name, model = cluster.region, spec.model.name
    try:
        models = served_models(cluster, service)
    except CliError as err:
        if not getattr(err, "unreachable", False):
            raise
        echo(f"  {name}: the API server cannot reach vLLM (the chart's NetworkPolicy admits no control plane): "
             "asking Prometheus, which scrapes every pod")
        per_pod = models_via_prometheus(cluster, pods, deadline)
        missing = [pod for pod, names in per_pod.items() if not names]
        if missing:
            raise failed(f"{err.message}; and Prometheus has no {model!r} series of pod(s) {', '.join(missing)} "
                         "before --timeout (not scraped yet?)") from None
        wrong = {pod: names for pod, names in per_pod.items() if model not in names}
        if wrong:
            raise failed(f"{name}: every pod runs the pin, but Prometheus's scrape of vLLM names "
                         + "; ".join(f"{', '.join(sorted(n))} on {pod}" for pod, n in wrong.items())
                         + f", not {model}") from None
        return
    if model not in models:
        raise failed(f"{name}: every pod runs the pin, but vLLM names {', '.join(models) or 'no model'}, not {model}")


def wait_region(spec: StackSpec, region: RegionSpec, cluster: kube.Cluster, deadline: float, timeout: float,
                echo: Callable[[str], None]) -> None:
    from kubernetes import client as k8s

    name = region.region
    pin = pin_of(spec, region)
    apps, core = k8s.AppsV1Api(cluster.client), k8s.CoreV1Api(cluster.client)
    ns, sel = kube.NAMESPACE, kube.VLLM_SELECTOR
    listed = read_json(cluster, f"list Deployments in {ns}", apps.list_namespaced_deployment, ns, label_selector=sel)
    if not listed.get("items"):
        raise failed(f"{name}: no vLLM Deployment in namespace {ns} (label {sel}): nothing to wait for")
    state = RolloutState(listed["items"][0])
    dep_name = _name(state.deployment)
    declared = template_pin((state.deployment.get("spec") or {}).get("template") or {})
    if declared != (pin["revision"], pin["digest"]):
        raise failed(f"{name}: Deployment {dep_name} declares revision {declared[0]} and image {declared[1]}, not the pin "
                     f"{pin['revision']} / {pin['digest']}: `pulumi up` did not roll it")
    rs_list = read_json(cluster, f"list ReplicaSets in {ns}", apps.list_namespaced_replica_set, ns, label_selector=sel)
    pod_list = read_json(cluster, f"list pods in {ns}", core.list_namespaced_pod, ns, label_selector=sel)
    state.replicasets = {_name(rs): rs for rs in rs_list.get("items") or []}
    state.pods = {_name(p): p for p in pod_list.get("items") or []}

    events: queue.Queue = queue.Queue()
    watchers = [
        _Watcher("deployment", apps.list_namespaced_deployment, (ns,), {"field_selector": f"metadata.name={dep_name}"},
                 listed["metadata"]["resourceVersion"], deadline, events),
        _Watcher("replicaset", apps.list_namespaced_replica_set, (ns,), {"label_selector": sel},
                 rs_list["metadata"]["resourceVersion"], deadline, events),
        _Watcher("pod", core.list_namespaced_pod, (ns,), {"label_selector": sel},
                 pod_list["metadata"]["resourceVersion"], deadline, events),
    ]
    for watcher in watchers:
        watcher.start()
    said = ""
    try:
        while True:
            verdict, message = evaluate(name, state, pin)
            if verdict == "stalled":
                raise failed(message)
            if verdict == "done":
                break
            if message != said:
                echo(f"  {message}")
                said = message
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise queue.Empty
                kind, kind_event, obj = events.get(timeout=left)
            except queue.Empty:
                raise failed(f"{name}: the rollout did not finish within --timeout {timeout:g} s ({message})"
                             + _pod_notes(state)) from None
            if kind_event == "FAILED":
                if isinstance(obj, ValueError):  # check_shape, or a line of the stream that is not JSON
                    raise failed(f"{name}: watch {kind}s in {ns}: an event is not a Kubernetes object: {obj}")
                raise kube.api_error(name, f"watch {kind}s in {ns}", obj)
            _apply(state, kind, kind_event, obj)
    finally:
        for watcher in watchers:
            watcher.stop()
    desired = (state.deployment.get("spec") or {}).get("replicas", 0)
    if desired == 0:
        echo(f"{name}: rolled out; scaled to zero, so no vLLM to ask: the pin loads on the next scale-up")
        return
    ready = sorted(_name(p) for p in state.pods.values()
                   if pod_ready(p) and not (p.get("metadata") or {}).get("deletionTimestamp"))
    check_served_model(spec, cluster, dep_name, ready, deadline, echo)
    echo(f"{name}: rolled out: {desired} pod(s) serve {spec.model.name} at revision {pin['revision'][:12]}, "
         f"image {pin['digest'][:19]}")


def stalls(spec: StackSpec, clusters: dict[str, kube.Cluster]) -> list[str]:
    """One look (lists, no watch) at each region of `clusters`: the stall each reports, in words. For when `pulumi up`
    itself failed: pulumi-kubernetes awaits the Deployment (`pulumi.com/timeoutSeconds`) and gives up on a crash
    loop or an image that cannot be pulled, so `--wait`'s watch never starts; this still names the pod's reason."""
    from kubernetes import client as k8s

    notes = []
    ns, sel = kube.NAMESPACE, kube.VLLM_SELECTOR
    for region in spec.regions:
        cluster = clusters.get(region.region)
        if cluster is None:
            continue
        apps, core = k8s.AppsV1Api(cluster.client), k8s.CoreV1Api(cluster.client)
        try:
            deployments = read_json(cluster, f"list Deployments in {ns}", apps.list_namespaced_deployment, ns,
                                    label_selector=sel).get("items") or []
            if not deployments:
                continue
            state = RolloutState(deployments[0])
            state.replicasets = {_name(rs): rs for rs in read_json(
                cluster, f"list ReplicaSets in {ns}", apps.list_namespaced_replica_set, ns, label_selector=sel
            ).get("items") or []}
            state.pods = {_name(p): p for p in read_json(
                cluster, f"list pods in {ns}", core.list_namespaced_pod, ns, label_selector=sel).get("items") or []}
        except CliError as err:
            notes.append(f"{region.region}: could not look at the rollout ({err.message})")
            continue
        verdict, message = evaluate(region.region, state, pin_of(spec, region))
        if verdict == "stalled":
            notes.append(message)
    return notes


def _pod_notes(state: RolloutState) -> str:
    notes = [f"pod {_name(p)}: " + ", ".join(f"{c} {r}" for c, r, _ in waiting_reasons(p))
             for p in state.pods.values() if waiting_reasons(p)]
    return ("; " + "; ".join(notes)) if notes else ""


def wait_for_rollouts(spec: StackSpec, clusters: dict[str, kube.Cluster], timeout: float,
                      echo: Callable[[str], None]) -> None:
    """Each region of `clusters` in the stack's order, all within one `timeout`."""
    deadline = time.monotonic() + timeout
    for region in spec.regions:
        if region.region in clusters:
            echo(f"waiting for the rollout in {region.region} ({clusters[region.region].source}) ...")
            wait_region(spec, region, clusters[region.region], deadline, timeout, echo)
