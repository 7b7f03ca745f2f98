"""A loopback stand-in for one region's kube-apiserver, for the `status` and `--wait` tests.

No kube-apiserver binary can be installed here, so each region of a test gets a small HTTP server on
127.0.0.1 (an ephemeral port, started and stopped by the test's fixture) that answers exactly the calls the
CLI makes, in the API's own JSON shapes: list Deployments / ReplicaSets / pods / nodes, KEDA ScaledObjects
(custom objects) and one HorizontalPodAutoscaler; `?watch=true` streams of chunked `{"type", "object"}`
lines; and GET through the service proxy (`/api/v1/namespaces/N/services/S:PORT/proxy/PATH`), behind which a
stand-in vLLM answers `/v1/models` and `/metrics`. It checks the bearer token (401 otherwise) and, like the real
API server, drops the caller's Authorization header before proxying (so a vLLM with an API key refuses `/v1`).
The real `kubernetes` client talks to it through a generated kubeconfig (`kubeconfig`).

The object builders below produce the fields the API server returns (and the client's models require) for the
chart's vLLM Deployment; they are small recorded-shape fixtures, not a cluster simulation: a watch plays the
events a test scripts, then holds the stream open like a quiet API server until its timeoutSeconds or the end
of the test.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cli.live.prometheus_proxy import service_proxy_path

from infra.conventions import (
    GPU_POOL_LABEL, LLM_WORKLOAD, MODEL_REVISION_ANNOTATION, CAPACITY_TYPE_LABEL, INSTANCE_TYPE_LABEL,
    VLLM_CHART_NAME, VLLM_CONTAINER_NAME, VLLM_NAMESPACE, VLLM_PORT_NAME, WORKLOAD_LABEL,
)

TOKEN = "loopback-test-token"
NS = VLLM_NAMESPACE
SELECTOR_LABELS = {"app.kubernetes.io/name": VLLM_CHART_NAME, "app.kubernetes.io/instance": "use1-vllm"}
DEPLOYMENT_REVISION = "deployment.kubernetes.io/revision"

ROUTES = {
    "deployments": re.compile(rf"^/apis/apps/v1/namespaces/{NS}/deployments$"),
    "replicasets": re.compile(rf"^/apis/apps/v1/namespaces/{NS}/replicasets$"),
    "pods": re.compile(rf"^/api/v1/namespaces/{NS}/pods$"),
    "nodes": re.compile(r"^/api/v1/nodes$"),
    "scaledobjects": re.compile(rf"^/apis/keda.sh/v1alpha1/namespaces/{NS}/scaledobjects$"),
}
HPA_ROUTE = re.compile(rf"^/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/([^/]+)$")
PROXY_ROUTE = re.compile(rf"^/api/v1/namespaces/{NS}/services/([^/:]+):([^/]+)/proxy(/.*)$")
PROMETHEUS_PROXY = service_proxy_path()  # the monitoring namespace's Prometheus
LIST_KINDS = {"deployments": "DeploymentList", "replicasets": "ReplicaSetList", "pods": "PodList", "nodes": "NodeList",
              "scaledobjects": "ScaledObjectList"}


class FakeApiServer:
    """One region's API: `objects[kind]` answer lists, `events[kind]` are played on a watch of that kind."""

    def __init__(self) -> None:
        self.objects: dict[str, list[dict]] = {kind: [] for kind in ROUTES}
        self.hpas: dict[str, dict] = {}
        self.events: dict[str, list[tuple[str, dict]]] = {"deployments": [], "replicasets": [], "pods": []}
        self.event_gap = 0.02
        self.served_model = "llama-3.1-8b-instruct"
        self.vllm_api_key = True  # the chart always sets VLLM_API_KEY: /v1 needs a key the proxy cannot pass
        self.vllm_reachable = True  # False: the API server cannot open a connection to the pod (a NetworkPolicy)
        self.vllm_hangs = 0.0  # seconds the proxied vLLM request hangs before the API server's 503
        # Pod -> the model_name on its vLLM series in the region's Prometheus (reached through the service proxy to
        # the monitoring namespace's Prometheus, which the vLLM NetworkPolicy admits); answers /api/v1/query.
        self.prometheus_models: dict[str, str] = {}
        self.requests: list[tuple[str, dict, dict]] = []
        # kind -> what a list answers once that kind's resourceVersion has "expired": the next watch of the kind
        # gets only the API's ERROR event with a 410 Gone Status (as a real API server sends when the watch asks
        # for a resourceVersion older than its window, e.g. after etcd compaction) and later lists return these.
        self.expire_watch: dict[str, list[dict]] = {}
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def calls(self, kind: str, watch: bool | None = None) -> list[dict]:
        """The query of every request to `kind`'s list route (watch True / False / None for both)."""
        return [q for k, q, _ in self.requests if k == kind and (watch is None or _is_watch(q) == watch)]

    # ------------------------------------------------------------ HTTP

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _status(self, code: int, reason: str, message: str) -> None:
                self._send(code, json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                             "message": message, "reason": reason, "code": code}).encode())

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parsed = urllib.parse.urlsplit(self.path)
                path = urllib.parse.unquote(parsed.path)
                query = dict(urllib.parse.parse_qsl(parsed.query))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    fake.requests.append(("unauthenticated", query, dict(self.headers)))
                    return self._status(401, "Unauthorized", "Unauthorized")
                headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}  # as WithAuthentication
                for kind, route in ROUTES.items():
                    if route.match(path):
                        fake.requests.append((kind, query, headers))
                        items = [o for o in fake.objects[kind] if _selected(o, query)]
                        if _is_watch(query):
                            return self._watch(kind, query)
                        body = {"kind": LIST_KINDS[kind], "apiVersion": "v1", "metadata": {"resourceVersion": "100"},
                                "items": items}
                        return self._send(200, json.dumps(body).encode())
                if match := HPA_ROUTE.match(path):
                    fake.requests.append(("hpa", query, headers))
                    if match.group(1) in fake.hpas:
                        return self._send(200, json.dumps(fake.hpas[match.group(1)]).encode())
                    return self._status(404, "NotFound", f'horizontalpodautoscalers "{match.group(1)}" not found')
                if path == PROMETHEUS_PROXY + "/api/v1/query":
                    fake.requests.append(("prometheus", query, headers))
                    result = [{"metric": {"namespace": NS, "pod": pod, "model_name": model}, "value": [0, "1"]}
                              for pod, model in fake.prometheus_models.items()]
                    return self._send(200, json.dumps({"status": "success", "data": {
                        "resultType": "vector", "result": result}}).encode())
                if match := PROXY_ROUTE.match(path):
                    fake.requests.append(("proxy", {"path": match.group(3), "port": match.group(2)}, headers))
                    return self._vllm(match.group(2), match.group(3), headers)
                fake.requests.append(("unknown", {"path": path}, headers))
                return self._status(404, "NotFound", f"the server could not find the requested resource ({path})")

            def _vllm(self, port: str, path: str, headers: dict) -> None:
                if port != VLLM_PORT_NAME:
                    return self._status(503, "ServiceUnavailable", f"no service port {port!r}")
                if fake.vllm_hangs:  # packets dropped: the API server's dial outlasts the client's timeout
                    time.sleep(fake.vllm_hangs)
                    return self._status(503, "ServiceUnavailable", "error trying to reach service: dial tcp "
                                        "10.0.1.23:8000: i/o timeout")
                if not fake.vllm_reachable:
                    return self._status(503, "ServiceUnavailable", "error trying to reach service: dial tcp "
                                        "10.0.1.23:8000: i/o timeout")
                if path.startswith("/v1") and fake.vllm_api_key and "Authorization" not in headers:
                    return self._send(401, json.dumps({"error": "Unauthorized"}).encode())
                if path == "/v1/models":
                    return self._send(200, json.dumps({"object": "list", "data": [
                        {"id": fake.served_model, "object": "model", "owned_by": "vllm", "root": "meta-llama/x"}]}).encode())
                if path == "/metrics":
                    text = (f'# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{{engine="0",'
                            f'model_name="{fake.served_model}"}} 0.0\n')
                    return self._send(200, text.encode(), "text/plain; version=0.0.4")
                return self._send(404, b'{"detail":"Not Found"}')

            def _watch(self, kind: str, query: dict) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    if kind in fake.expire_watch:
                        fake.objects[kind] = fake.expire_watch.pop(kind)
                        gone = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "code": 410,
                                "reason": "Expired", "message": f"too old resource version: "
                                                                f"{query.get('resourceVersion')} (4242)"}
                        line = (json.dumps({"type": "ERROR", "object": gone}) + "\n").encode()
                        self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n0\r\n\r\n")
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    for event_type, obj in fake.events.get(kind, []):
                        if not _selected(obj, query):
                            continue
                        time.sleep(fake.event_gap)
                        line = (json.dumps({"type": event_type, "object": obj}) + "\n").encode()
                        self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                        self.wfile.flush()
                    # a quiet API server: the stream stays open until its timeoutSeconds
                    end = time.monotonic() + float(query.get("timeoutSeconds", 5))
                    while time.monotonic() < end and not fake._stop.is_set():
                        time.sleep(0.02)
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        return Handler


def _is_watch(query: dict) -> bool:
    """`watch=` as the API server parses it (Go's strconv.ParseBool: the Python client sends `True`)."""
    return query.get("watch", "").lower() in ("1", "t", "true")


def _selected(obj: dict, query: dict) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for term in filter(None, query.get("labelSelector", "").split(",")):
        key, _, value = term.partition("=")
        if labels.get(key) != value:
            return False
    for term in filter(None, query.get("fieldSelector", "").split(",")):
        key, _, value = term.partition("=")
        if key == "metadata.name" and obj["metadata"]["name"] != value:
            return False
    return True


def kubeconfig(path, servers: dict[str, FakeApiServer], current: str | None = None, token: str = TOKEN) -> str:
    """Write a kubeconfig with one context per server (context name = key) and return its path."""
    config = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": s.url}} for name, s in servers.items()],
        "users": [{"name": "tester", "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": "tester"}} for name in servers],
        "current-context": current or next(iter(servers)),
    }
    path.write_text(json.dumps(config))
    return str(path)


# ---------------------------------------------------------------- recorded-shape objects


def _template(revision: str, image: str, source: str = "meta-llama/Llama-3.1-8B-Instruct") -> dict:
    return {
        "metadata": {"labels": dict(SELECTOR_LABELS), "annotations": {MODEL_REVISION_ANNOTATION: revision}},
        "spec": {"containers": [{
            "name": VLLM_CONTAINER_NAME, "image": image,
            "args": [f"--model={source}", f"--revision={revision}", "--served-model-name=llama-3.1-8b-instruct"],
        }]},
    }


def deployment(revision: str, image: str, *, desired: int = 1, ready: int | None = None, updated: int | None = None,
               replicas: int | None = None, generation: int = 2, observed: int | None = None, rs_revision: str = "2",
               conditions: list[dict] | None = None, name: str = "use1-vllm") -> dict:
    ready = desired if ready is None else ready
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS, "labels": dict(SELECTOR_LABELS), "generation": generation,
                     "resourceVersion": "101", "annotations": {DEPLOYMENT_REVISION: rs_revision}},
        "spec": {"replicas": desired, "selector": {"matchLabels": dict(SELECTOR_LABELS)},
                 "template": _template(revision, image)},
        "status": {"observedGeneration": generation if observed is None else observed,
                   "replicas": desired if replicas is None else replicas,
                   "updatedReplicas": desired if updated is None else updated,
                   "readyReplicas": ready, "availableReplicas": ready,
                   "conditions": conditions or [{"type": "Available", "status": "True"},
                                                {"type": "Progressing", "status": "True",
                                                 "reason": "NewReplicaSetAvailable"}]},
    }


def progress_deadline_exceeded(name: str = "use1-vllm") -> list[dict]:
    return [{"type": "Available", "status": "True"},
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
             "message": f'ReplicaSet "{name}-new" has timed out progressing.'}]


def replicaset(name: str, rs_revision: str, revision: str, image: str, replicas: int) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": NS, "labels": dict(SELECTOR_LABELS), "resourceVersion": "102",
                     "annotations": {DEPLOYMENT_REVISION: rs_revision},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "use1-vllm", "uid": "d1"}]},
        "spec": {"replicas": replicas, "selector": {"matchLabels": dict(SELECTOR_LABELS)},
                 "template": _template(revision, image)},
        "status": {"replicas": replicas, "readyReplicas": replicas},
    }


def pod(name: str, replicaset_name: str, revision: str, image: str, *, image_id: str | None = None, ready: bool = True,
        phase: str = "Running", waiting: tuple[str, str] | None = None, unschedulable: str | None = None,
        node: str | None = "gpu-node-1", deleting: bool = False) -> dict:
    """A vLLM pod: `image_id` is what the kubelet reports it started (default: the spec's digest)."""
    ready = ready and waiting is None and unschedulable is None
    digest = image.rsplit("@", 1)[1]
    image_id = image_id or f"docker.io/vllm/vllm-openai@{digest}"
    template = _template(revision, image)
    conditions = [{"type": "PodScheduled", "status": "True"}]
    status: dict[str, Any] = {"phase": phase}
    if unschedulable is not None:
        conditions = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": unschedulable}]
        node = None
    else:
        conditions.append({"type": "Ready", "status": "True" if ready else "False"})
        state = {"waiting": {"reason": waiting[0], "message": waiting[1]}} if waiting else (
            {"running": {"startedAt": "2026-11-30T10:00:00Z"}})
        status["containerStatuses"] = [{"name": VLLM_CONTAINER_NAME, "image": image, "imageID": "" if waiting else image_id,
                                        "ready": ready, "restartCount": 3 if waiting else 0, "state": state}]
    status["conditions"] = conditions
    metadata = {"name": name, "namespace": NS, "labels": dict(SELECTOR_LABELS), "resourceVersion": "103",
                "annotations": dict(template["metadata"]["annotations"]),
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": replicaset_name, "uid": "r1"}]}
    if deleting:
        metadata["deletionTimestamp"] = "2026-11-30T10:05:00Z"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata,
            "spec": {**template["spec"], "nodeName": node}, "status": status}


def node(name: str, instance_type: str, capacity: str, pool: str | None = None) -> dict:
    """A node of a managed node group: a GPU pool's (`pool`) or a system node."""
    labels = {INSTANCE_TYPE_LABEL: instance_type, CAPACITY_TYPE_LABEL: capacity}
    if pool:
        labels |= {WORKLOAD_LABEL: LLM_WORKLOAD, GPU_POOL_LABEL: pool}
    else:
        labels |= {WORKLOAD_LABEL: "system"}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}, "spec": {}, "status": {}}


def scaled_object(active: bool, hpa_name: str = "keda-hpa-use1-vllm") -> dict:
    return {
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
        "metadata": {"name": "use1-vllm", "namespace": NS, "labels": dict(SELECTOR_LABELS)},
        "spec": {"scaleTargetRef": {"name": "use1-vllm"}, "minReplicaCount": 1, "maxReplicaCount": 2},
        "status": {"hpaName": hpa_name, "conditions": [
            {"type": "Ready", "status": "True"}, {"type": "Active", "status": "True" if active else "False"},
            {"type": "Fallback", "status": "False"}]},
    }


def hpa(name: str, current: int, desired: int) -> dict:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"maxReplicas": 2, "scaleTargetRef": {"kind": "Deployment", "name": "use1-vllm"}},
            "status": {"currentReplicas": current, "desiredReplicas": desired}}


@pytest.fixture
def api():
    """`api(region)` starts one loopback API server per region; all are stopped after the test."""
    servers: dict[str, FakeApiServer] = {}

    def start(region: str) -> FakeApiServer:
        servers[region] = FakeApiServer().start()
        return servers[region]

    yield start
    for server in servers.values():
        server.stop()


class OutputValue:
    """The Automation API's `OutputValue` as `Stack.outputs()` returns it (a stand-in: no Pulumi engine here)."""

    def __init__(self, value, secret=False):
        self.value, self.secret = value, secret


def program_kubeconfig(server: FakeApiServer, cluster_name: str) -> str:
    """The `kubeconfigs` output's shape (`infra.components.cluster.kubeconfig`: one JSON string per region), with a
    token user in place of `aws eks get-token`, which cannot run here."""
    return json.dumps({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": server.url}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": f"{cluster_name}-aws"}}],
        "current-context": cluster_name,
        "users": [{"name": f"{cluster_name}-aws", "user": {"token": TOKEN}}],
    })
