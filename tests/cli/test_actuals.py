"""`actuals` end to end against a real Prometheus (the Debian package, 2.42) on 127.0.0.1, loaded with a known
month of vLLM-, DCGM-, kube-state-metrics- and LiteLLM-shaped series backfilled by
`promtool tsdb create-blocks-from openmetrics`; and `estimate --calibration` reading what it writes.

The series stand for the `dev` stack (us-east-1, pool `l4` of spot g6.xlarge): three GPU nodes (one running the
whole window, two that came and went, scraped at different intervals), a system node (no pool label: not a GPU
node-hour), two vLLM pods, a vLLM pod in another namespace (not ours), samples before the window (not in it), and
a LiteLLM gateway that started mid-window. Every expected total below is arithmetic on the generator's constants.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.builders import cache_dir  # noqa: F401  (autouse: one inventory cache for the module)

# The Debian package `prometheus` (scripts/setup.sh --test installs it): no skip, CI must run these for real.
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

UNTIL = datetime(2026, 10, 31, tzinfo=UTC)
SINCE = UNTIL - timedelta(days=30)
BEFORE = SINCE - timedelta(days=1)  # samples from here on: the day before the window is not counted
WINDOW = ["--since", "30d", "--until", "2026-10-31T00:00:00Z"]
H = 3600

# node-a: created before the window, runs through it (15-minute samples); node-b 2026-10-10 06:00 .. 10-12 18:00
# (60 s samples); node-c 2026-10-20 00:00 .. 10-25 12:00 (5-minute samples).
NODE_B = (datetime(2026, 10, 10, 6, tzinfo=UTC), datetime(2026, 10, 12, 18, tzinfo=UTC), 60)
NODE_C = (datetime(2026, 10, 20, tzinfo=UTC), datetime(2026, 10, 25, 12, tzinfo=UTC), 300)
NODE_HOURS = 720 + 60 + 132
# vLLM pod-a on node-a (15-minute samples), pod-b on node-b (60 s samples from 06:05, first value 0).
STEP_A, STEPS_A = 900, 30 * 96  # samples in the window after the one at its start
GEN_A, PROMPT_A, STOP_A, LENGTH_A = 30_000, 60_000, 140, 10  # per step
GEN_B, PROMPT_B, STOP_B = 3_264, 6_000, 15
POD_B_START = NODE_B[0] + timedelta(minutes=5)
STEPS_B = int((NODE_B[1] - POD_B_START).total_seconds() // 60)  # samples after its first (value 0)
# pod-a's latency histograms over the window: cumulative bucket increases (p50/p95/p99 fall inside known buckets).
TTFT = {"0.1": 400, "0.25": 800, "0.5": 950, "1": 990, "+Inf": 1000}  # p50 137.5 ms, p95 500 ms, p99 1000 ms
TPOT = {"0.01": 100, "0.025": 500, "0.05": 900, "0.1": 1000, "+Inf": 1000}  # p50 25 ms, p95 75 ms, p99 95 ms
# DCGM: node-a's GPU at 60 % (15-minute samples, off the window's edges), node-b's at 90 % (60 s samples).
UTIL_A, UTIL_B = 60, 90
# LiteLLM from 2026-10-15: 9000 calls served by the self-hosted vLLM, 1000 by OpenAI, $12.34 of API spend.
GATEWAY_FROM = datetime(2026, 10, 15, tzinfo=UTC)


def _ts(when: datetime) -> int:
    return int(when.timestamp())


def _series(lines: list[str], name: str, labels: dict[str, str], points) -> None:
    text = ",".join(f'{k}="{v}"' for k, v in labels.items())
    lines.extend(f"{name}{{{text}}} {value} {t}" for t, value in points)


def scrapes(first: int, last: int, step: int) -> list[int]:
    """Scrape times every `step` seconds ending at `last`, none before `first`."""
    return sorted(range(last, first - 1, -step))


def openmetrics() -> str:
    lines: list[str] = []
    since, until, before = _ts(SINCE), _ts(UNTIL), _ts(BEFORE)
    pool = {"label_tradeoff_infra_io_gpu_pool": "l4", "label_node_kubernetes_io_instance_type": "g6.xlarge",
            "label_eks_amazonaws_com_capacity_type": "SPOT"}
    ksm = {"job": "kube-state-metrics", "namespace": "monitoring"}
    b0, b1, bstep = _ts(NODE_B[0]), _ts(NODE_B[1]), NODE_B[2]
    c0, c1, cstep = _ts(NODE_C[0]), _ts(NODE_C[1]), NODE_C[2]
    _series(lines, "kube_node_labels", {**ksm, "node": "node-a", **pool}, ((t, 1) for t in range(before, until + 1, 900)))
    # a node's last sample is its last scrape before it went away: here at its end (the first 30 s / 45 s after
    # creation have none: kube-state-metrics had not seen it yet; kube_node_created dates it)
    _series(lines, "kube_node_labels", {**ksm, "node": "node-b", **pool}, ((t, 1) for t in scrapes(b0 + 30, b1, bstep)))
    _series(lines, "kube_node_labels", {**ksm, "node": "node-c", **pool}, ((t, 1) for t in scrapes(c0 + 45, c1, cstep)))
    _series(lines, "kube_node_labels", {**ksm, "node": "system-1", "label_node_kubernetes_io_instance_type": "m6i.large",
                                        "label_eks_amazonaws_com_capacity_type": "ON_DEMAND"},
            ((t, 1) for t in range(before, until + 1, 900)))
    created_a = _ts(SINCE - timedelta(days=10))
    _series(lines, "kube_node_created", {**ksm, "node": "node-a"}, ((t, created_a) for t in range(before, until + 1, 900)))
    _series(lines, "kube_node_created", {**ksm, "node": "node-b"}, ((t, b0) for t in scrapes(b0 + 30, b1, bstep)))
    _series(lines, "kube_node_created", {**ksm, "node": "node-c"}, ((t, c0) for t in scrapes(c0 + 45, c1, cstep)))
    pb0 = _ts(POD_B_START)
    _series(lines, "kube_pod_info", {**ksm, "namespace": "vllm", "pod": "vllm-a", "node": "node-a"},
            ((t, 1) for t in range(before, until + 1, 900)))
    _series(lines, "kube_pod_info", {**ksm, "namespace": "vllm", "pod": "vllm-b", "node": "node-b"},
            ((t, 1) for t in range(pb0, b1 + 1, 60)))

    pod_a = {"namespace": "vllm", "pod": "vllm-a", "model_name": "llama-3.1-8b-instruct", "job": "vllm"}
    pod_b = {**pod_a, "pod": "vllm-b"}
    a_times = list(range(since, until + 1, STEP_A))  # 1 + STEPS_A samples; the day before: the counters grow too
    pre = list(range(before, since, STEP_A))
    b_times = [pb0 + 60 * k for k in range(STEPS_B + 1)]
    for name, per_a, per_b, extra in (("vllm:generation_tokens_total", GEN_A, GEN_B, {}),
                                      ("vllm:prompt_tokens_total", PROMPT_A, PROMPT_B, {}),
                                      ("vllm:request_success_total", STOP_A, STOP_B, {"finished_reason": "stop"})):
        base = 1_000_000  # what pod-a counted before the window
        _series(lines, name, {**pod_a, **extra},
                [(t, base - per_a * (len(pre) - i)) for i, t in enumerate(pre)] + [(t, base + per_a * i) for i, t in enumerate(a_times)])
        _series(lines, name, {**pod_b, **extra}, ((t, per_b * i) for i, t in enumerate(b_times)))
        _series(lines, name, {**pod_a, **extra, "namespace": "other"}, ((t, 7_777_777 * i) for i, t in enumerate(a_times)))
    _series(lines, "vllm:request_success_total", {**pod_a, "finished_reason": "length"},
            ((t, 500 + LENGTH_A * i) for i, t in enumerate(a_times)))
    mid = a_times[len(a_times) // 2]
    for name, buckets in (("vllm:time_to_first_token_seconds_bucket", TTFT), ("vllm:inter_token_latency_seconds_bucket", TPOT)):
        for le, count in buckets.items():
            start = 5 * count  # counted before the window
            _series(lines, name, {**pod_a, "le": le}, [(before, 0), (since, start), (mid, start + count // 2),
                                                        (until, start + count)])
    gpu = {"job": "dcgm-exporter", "gpu": "0", "modelName": "NVIDIA L4"}
    _series(lines, "DCGM_FI_DEV_GPU_UTIL", {**gpu, "Hostname": "node-a"},
            [(t, 0) for t in range(before + 450, since, 900)] + [(t, UTIL_A) for t in range(since + 450, until, 900)])
    _series(lines, "DCGM_FI_DEV_GPU_UTIL", {**gpu, "Hostname": "node-b"}, ((t, UTIL_B) for t in range(b0 + 30, b1, 60)))
    g0 = _ts(GATEWAY_FROM)
    g_times = list(range(g0, until + 1, 3600))
    n = len(g_times) - 1
    lite = {"job": "litellm", "namespace": "gateway"}
    _series(lines, "litellm_deployment_success_responses_total", {**lite, "api_provider": "hosted_vllm"},
            [(t, round(9000 * i / n)) for i, t in enumerate(g_times)])
    _series(lines, "litellm_deployment_success_responses_total", {**lite, "api_provider": "openai"},
            [(t, round(1000 * i / n)) for i, t in enumerate(g_times)])
    _series(lines, "litellm_spend_metric_total", {**lite, "model": "gpt-4o-mini"}, [(g0, 0.0), (until, 12.34)])
    return "\n".join(lines) + "\n# EOF\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory):
    """A real Prometheus on an ephemeral loopback port, over the backfilled month; stopped after the module."""
    assert shutil.which(PROMETHEUS) and shutil.which(PROMTOOL), "no prometheus/promtool: run scripts/setup.sh --test"
    root = tmp_path_factory.mktemp("prometheus")
    (root / "series.om").write_text(openmetrics())
    data = root / "data"
    subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "-q", "--max-block-duration=2000h", str(root / "series.om"), str(data)],
                   check=True, timeout=120, capture_output=True)
    (root / "prometheus.yml").write_text("global: {}\n")
    port = _free_port()
    log = (root / "prometheus.log").open("wb")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={root / 'prometheus.yml'}", f"--storage.tsdb.path={data}",
                             f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=3650d"],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prometheus did not become ready: {(root / 'prometheus.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def cents(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@pytest.fixture(scope="module")
def actuals(prometheus_url):
    result = invoke("actuals", "dev", *WINDOW, "--prometheus-url", prometheus_url, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["stacks"][0]


@pytest.fixture(scope="module")
def predicted():
    result = invoke("estimate", "dev", "--as-of", "2026-10-31", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["stacks"][0]


def test_traffic_totals_are_the_counters_own(actuals):
    region = actuals["regions"][0]
    assert region["region"] == "us-east-1"
    assert region["outputTokens"] == GEN_A * STEPS_A + GEN_B * STEPS_B
    assert region["inputTokens"] == PROMPT_A * STEPS_A + PROMPT_B * STEPS_B
    assert region["requests"] == (STOP_A + LENGTH_A) * STEPS_A + STOP_B * STEPS_B


def test_gpu_node_hours_by_instance_and_capacity_type_whatever_the_scrape_interval(actuals):
    assert actuals["regions"][0]["gpuNodeHours"] == {"g6.xlarge/SPOT": NODE_HOURS}
    assert [(n["pool"], n["capacityType"], n["nodeHours"]) for n in actuals["gpuNodes"]] == [("l4", "spot", NODE_HOURS)]


def test_latency_percentiles_and_gpu_utilisation(actuals):
    region = actuals["regions"][0]
    assert region["ttftMs"] == {"p50": 137.5, "p95": 500.0, "p99": 1000.0}
    assert region["tpotMs"] == {"p50": 25.0, "p95": 75.0, "p99": 95.0}
    a_samples, b_samples = 30 * 96, int((NODE_B[1] - NODE_B[0]).total_seconds() // 60)
    assert region["gpuUtilisation"] == round((UTIL_A * a_samples + UTIL_B * b_samples) / (a_samples + b_samples) / 100, 4)


def test_percentiles_agree_with_prometheus_histogram_quantile(actuals, prometheus_url):
    """The same interpolation as Prometheus's own histogram_quantile (one series: increase() scales every bucket alike)."""
    from cli.live.prometheus import Prometheus

    prom = Prometheus(prometheus_url)
    for key, metric in (("ttftMs", "vllm:time_to_first_token_seconds_bucket"), ("tpotMs", "vllm:inter_token_latency_seconds_bucket")):
        for q in (0.5, 0.95, 0.99):
            answer = prom.query(f'histogram_quantile({q}, sum by (le) (increase({metric}{{namespace="vllm"}}[30d])))', UNTIL)
            assert round(next(iter(answer.values())) * 1000, 1) == actuals["regions"][0][key][f"p{round(q * 100)}"], (key, q)


def test_gateway_share_and_spend(actuals):
    assert actuals["regions"][0]["gateway"] == {"requests": 10_000, "apiRequests": 1000, "apiShare": 0.1, "spendUsd": 12.34}
    assert actuals["gateway"]["apiShare"] == 0.1
    assert actuals["gateway"]["apiSpendMonthlyUsd"] == cents(Decimal("12.34") * 730 / 720)
    assert actuals["gateway"]["hybridMonthlyUsd"] == cents(Decimal(str(actuals["actualMonthlyUsd"]))
                                                           + Decimal(str(cents(Decimal("12.34") * 730 / 720))))


def test_no_gateway_series_no_gateway_part(prometheus_url):
    result = invoke("actuals", "dev", "--since", "3d", "--until", "2026-10-05", "--prometheus-url", prometheus_url,
                    "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)["stacks"][0]
    assert doc["gateway"] is None and doc["regions"][0]["gateway"] is None


def test_cost_to_the_cent_beside_the_prediction(actuals, predicted):
    from infra.price_catalog import default_catalog

    spot = default_catalog().instance("us-east-1", "g6.xlarge", "spot").usd_per_hour
    gpu_month = Decimal(NODE_HOURS) * spot * 730 / 720
    expected = Decimal(str(predicted["selfHosted"]["monthlyUsd"]["expected"]))
    predicted_gpu = Decimal(str(predicted["categories"]["gpu-compute"]["expected"]))
    actual = Decimal(str(cents(expected - predicted_gpu + gpu_month)))
    assert actuals["actualMonthlyUsd"] == float(actual)
    assert actuals["gpuComputeMonthlyUsd"] == cents(gpu_month)
    region = actuals["regions"][0]
    tokens = Decimal(region["inputTokens"] + region["outputTokens"]) * 730 / 720
    assert actuals["perMillionTokensUsd"] == round(float(actual * 1_000_000 / tokens), 4)
    gpu = actuals["predicted"]["categories"]["gpu-compute"]
    assert (gpu["predictedUsd"], gpu["actualUsd"], gpu["measured"]) == (float(predicted_gpu), cents(gpu_month), True)
    assert gpu["errorPercent"] == round(float((Decimal(str(cents(gpu_month))) - predicted_gpu) / predicted_gpu * 100), 2)
    assert actuals["predicted"]["monthlyUsd"] == float(expected)
    assert actuals["predicted"]["errorPercent"] == round(float((actual - expected) / expected * 100), 2)
    assert actuals["predicted"]["categories"]["control-plane"]["errorPercent"] == 0.0


def test_prediction_at_the_observed_traffic_is_the_estimate_of_that_traffic(actuals, tmp_path):
    import yaml

    from tests.paths import ROOT

    region = actuals["regions"][0]
    requests = region["requests"]
    traffic = {"requestsPerMonth": round(requests * 730 / 720), "inputTokensPerRequest": round(region["inputTokens"] / requests),
               "outputTokensPerRequest": round(region["outputTokens"] / requests)}
    observed = actuals["predicted"]["atObservedTraffic"]
    assert {k: observed[k] for k in traffic} == traffic
    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    doc["config"]["tradeoff-infra:traffic"].update(traffic)
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = invoke("estimate", str(path), "--as-of", "2026-10-31", "--format", "json")
    assert result.exit_code == 0, result.output
    estimate = json.loads(result.stdout)["stacks"][0]
    assert observed["monthlyUsd"] == estimate["selfHosted"]["monthlyUsd"]["expected"]
    gpu = Decimal(str(estimate["categories"]["gpu-compute"]["expected"]))
    assert observed["categories"]["gpu-compute"]["predictedUsd"] == float(gpu)


def test_the_same_traffic_on_each_api_offer(actuals, predicted):
    region = actuals["regions"][0]
    assert [a["offer"] for a in actuals["api"]] == [o["offer"] for o in predicted["api"]]
    for offer, priced in zip(predicted["api"], actuals["api"]):
        cost = (Decimal(region["inputTokens"]) * Decimal(str(offer["inputPerMTokUsd"]))
                + Decimal(region["outputTokens"]) * Decimal(str(offer["outputPerMTokUsd"]))) / 1_000_000
        assert priced["monthlyUsd"] == cents(cost * 730 / 720), offer["offer"]
    article = next(a for a in actuals["api"] if a["offer"] == "article-example")  # $30 per 1M tokens either way
    assert article["windowUsd"] == cents(Decimal(region["inputTokens"] + region["outputTokens"]) * 30 / 1_000_000)


def test_table_names_the_totals(prometheus_url):
    result = invoke("actuals", "dev", *WINDOW, "--prometheus-url", prometheus_url)
    assert result.exit_code == 0, result.output
    assert f"{GEN_A * STEPS_A + GEN_B * STEPS_B:,} output tokens" in result.stdout
    assert "g6.xlarge/SPOT: 912.00 node-hours" in result.stdout
    assert "actual monthly cost" in result.stdout and "gpu-compute" in result.stdout


def test_calibration_written_and_read_by_the_estimate(prometheus_url, predicted, tmp_path):
    path = tmp_path / "dev-calibration.json"
    result = invoke("actuals", "dev", *WINDOW, "--prometheus-url", prometheus_url, "--write-calibration", str(path))
    assert result.exit_code == 0, result.output
    calibration = json.loads(path.read_text())
    rate = (GEN_A * STEPS_A + GEN_B * STEPS_B) / (NODE_HOURS * H)  # one replica per g6.xlarge at tensorParallel 1
    assert calibration["pools"] == [{"region": "us-east-1", "pool": "l4", "instanceType": "g6.xlarge",
                                     "outputTokensPerSecondPerReplica": round(rate, 3),
                                     "outputTokens": GEN_A * STEPS_A + GEN_B * STEPS_B, "replicaHours": NODE_HOURS}]
    result = invoke("estimate", "dev", "--as-of", "2026-10-31", "--format", "json", "--calibration", str(path))
    assert result.exit_code == 0, result.output
    assert f"calibrated: dev us-east-1/l4 at {round(rate, 3)} output tok/s per replica" in result.output
    calibrated = json.loads(result.stdout)["stacks"][0]["capacity"][0]
    before = predicted["capacity"][0]
    assert before["throughputBasis"] == "predicted" and calibrated["throughputBasis"] == "measured"
    assert calibrated["saturatedOutputTokensPerSecond"] == round(rate, 1)
    assert "dev-calibration.json" in calibrated["measuredSource"]
    # ~30 tok/s a replica instead of the model's ~300: the peak needs more replicas, so more nodes
    assert calibrated["replicasAtPeak"] > before["replicasAtPeak"]
    assert calibrated["expectedNodes"] > before["expectedNodes"]


def test_unreachable_prometheus_exits_1_naming_it():
    url = f"http://127.0.0.1:{_free_port()}"
    result = invoke("actuals", "dev", *WINDOW, "--prometheus-url", url)
    assert result.exit_code == 1
    assert url in result.output and "cannot reach Prometheus" in result.output and "Traceback" not in result.output


def test_one_prometheus_per_region_by_region_equals_url(prometheus_url):
    """prod-global's three regions, each pointed at a Prometheus (here the same one, so each reads the same month)."""
    regions = ["us-east-1", "eu-central-1", "ap-northeast-1"]
    urls = [arg for region in regions for arg in ("--prometheus-url", f"{region}={prometheus_url}")]
    result = invoke("actuals", "prod-global", *WINDOW, *urls, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)["stacks"][0]
    assert [r["region"] for r in doc["regions"]] == regions
    outputs = GEN_A * STEPS_A + GEN_B * STEPS_B
    assert [r["outputTokens"] for r in doc["regions"]] == [outputs] * 3
    assert all(r["gpuNodeHours"] == {"g6.xlarge/SPOT": NODE_HOURS} for r in doc["regions"])
    inputs = PROMPT_A * STEPS_A + PROMPT_B * STEPS_B
    assert doc["tokensPerMonth"] == round(3 * (inputs + outputs) * 730 / 720)
    missing = invoke("actuals", "prod-global", *WINDOW, *urls[:4])
    assert missing.exit_code == 2 and "no URL for region(s) ap-northeast-1" in missing.output


class ApiServerProxy:
    """A stand-in for the Kubernetes API server's Service proxy on loopback: answers only
    `GET /api/v1/namespaces/monitoring/services/kube-prometheus-stack-prometheus:9090/proxy/<path>` with the bearer
    token it expects (as EKS does for the kubeconfig's user), forwarding <path> to the real Prometheus; 401 or 404
    otherwise (the API's Status shape, trimmed)."""

    TOKEN = "k8s-aws-v1.test-token"

    def __init__(self, upstream: str):
        import http.server
        import threading

        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                prefix = "/api/v1/namespaces/monitoring/services/kube-prometheus-stack-prometheus:9090/proxy"
                if self.headers.get("Authorization") != f"Bearer {proxy.TOKEN}":
                    return self._reply(401, {"kind": "Status", "status": "Failure", "reason": "Unauthorized", "code": 401})
                if not self.path.startswith(prefix + "/"):
                    return self._reply(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})
                proxy.calls += 1
                with urllib.request.urlopen(upstream + self.path[len(prefix):], timeout=30) as answer:
                    self._reply(answer.status, answer.read())

            def _reply(self, code, body):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.calls = 0
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def api_client(host: str, token: str):
    """What `prometheus_via_api_server` reads of a kubernetes.client.ApiClient: its configuration's host and
    auth_settings() (the shape kubernetes.client.Configuration returns for a bearer token)."""
    from types import SimpleNamespace

    def auth_settings():
        return {"BearerToken": {"type": "api_key", "in": "header", "key": "authorization", "value": f"Bearer {token}"}}

    return SimpleNamespace(configuration=SimpleNamespace(host=host, auth_settings=auth_settings, verify_ssl=True))


def test_prometheus_through_the_api_servers_service_proxy(prometheus_url, actuals):
    from cli.live.prometheus import PrometheusError
    from cli.live.prometheus_proxy import prometheus_via_api_server
    from cli.live.prometheus_queries import measure

    proxy = ApiServerProxy(prometheus_url)
    try:
        via = measure("us-east-1", prometheus_via_api_server(api_client(proxy.host, proxy.TOKEN)), SINCE, UNTIL)
        assert proxy.calls > 0
        assert (round(via.requests), round(via.input_tokens), round(via.output_tokens)) == tuple(
            actuals["regions"][0][k] for k in ("requests", "inputTokens", "outputTokens"))
        assert sum(via.node_hours.values()) == NODE_HOURS
        with pytest.raises(PrometheusError, match="HTTP 401"):
            measure("us-east-1", prometheus_via_api_server(api_client(proxy.host, "expired")), SINCE, UNTIL)
    finally:
        proxy.close()


def test_without_prometheus_url_actuals_reaches_each_regions_prometheus_through_its_api_server(prometheus_url,
                                                                                               actuals, tmp_path):
    """Issue 16 item 3: "reached through the API server's service proxy, or --prometheus-url". `--kubeconfig` (as
    for `status`) names the cluster; the API server stand-in proxies to the real Prometheus and checks the token
    (before: exit 2 "--prometheus-url is needed", whatever the kubeconfig)."""
    import yaml

    proxy = ApiServerProxy(prometheus_url)
    kubeconfig = tmp_path / "kc.yaml"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "dev-admin",
        "clusters": [{"name": "dev", "cluster": {"server": proxy.host}}],
        "users": [{"name": "admin", "user": {"token": proxy.TOKEN}}],
        "contexts": [{"name": "dev-admin", "context": {"cluster": "dev", "user": "admin"}}]}))
    try:
        result = invoke("actuals", "dev", *WINDOW, "--kubeconfig", str(kubeconfig), "--format", "json")
        assert result.exit_code == 0, result.output
        assert proxy.calls > 0
        assert json.loads(result.stdout)["stacks"][0] == actuals  # the same month as through --prometheus-url
        both = invoke("actuals", "dev", *WINDOW, "--kubeconfig", str(kubeconfig), "--prometheus-url", prometheus_url)
        assert both.exit_code == 2 and "give one" in both.output
        wrong = invoke("actuals", "dev", *WINDOW, "--kubeconfig", str(kubeconfig), "--context", "dev-admn")
        assert wrong.exit_code == 2 and "did you mean dev-admin?" in wrong.output
    finally:
        proxy.close()


def test_a_gateway_stacks_actuals_sit_beside_its_hybrid_prediction(prometheus_url, tmp_path):
    """The dev stack given a gateway (chat self-hosted overflowing to gpt-4o-mini, a restricted route): `actuals`
    sets the gateway's measured API spend and the hybrid total beside the estimate's `hybrid` block for the same
    stack file, and the `api` category is the gateway's measurement, not the estimate's."""
    import yaml

    from tests.paths import ROOT

    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    doc["config"]["tradeoff-infra:gateway"] = {"apiBudgetMonthlyUsd": 1000, "routes": [
        {"name": "chat", "servedBy": "self-hosted", "share": 0.7, "overflowTo": "openai:gpt-4o-mini"},
        {"name": "support", "servedBy": "self-hosted", "share": 0.3, "dataClass": "restricted"}]}
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = invoke("actuals", str(path), *WINDOW, "--prometheus-url", prometheus_url, "--format", "json")
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)["stacks"][0]
    result = invoke("estimate", str(path), "--as-of", "2026-10-31", "--format", "json")
    assert result.exit_code == 0, result.output
    hybrid = json.loads(result.stdout)["stacks"][0]["hybrid"]
    gateway = got["gateway"]
    api_month = Decimal(str(cents(Decimal("12.34") * 730 / 720)))
    actual_hybrid = Decimal(str(got["actualMonthlyUsd"])) + api_month
    predicted = Decimal(str(hybrid["monthlyUsd"]["expected"]))
    assert gateway["hybridMonthlyUsd"] == float(actual_hybrid)
    assert gateway["predicted"] == {
        "hybridMonthlyUsd": float(predicted), "apiShare": hybrid["apiShare"], "apiMonthlyUsd": hybrid["apiMonthlyUsd"],
        "hybridErrorPercent": round(float((actual_hybrid - predicted) / predicted * 100), 2),
        "apiSpendErrorPercent": (None if not hybrid["apiMonthlyUsd"] else
                                 round(float((api_month - Decimal(str(hybrid["apiMonthlyUsd"])))
                                             / Decimal(str(hybrid["apiMonthlyUsd"])) * 100), 2))}
    if "api" in got["predicted"]["categories"]:
        api = got["predicted"]["categories"]["api"]
        assert (api["actualUsd"], api["measured"]) == (float(api_month), True)
    table = invoke("actuals", str(path), *WINDOW, "--prometheus-url", prometheus_url)
    assert table.exit_code == 0, table.output
    assert "the hybrid estimate:" in table.output and "API share" in table.output


def test_a_stack_without_a_gateway_has_no_hybrid_prediction(actuals):
    assert actuals["gateway"]["predicted"] is None  # dev has gateway series in the fixture but no gateway block


@pytest.mark.parametrize("columns", ["80", "100"])
def test_table_fits_the_width(prometheus_url, columns):
    """The per-region totals line and the hybrid/offer lines ran past 80 columns (the terminal wrapped them through
    an amount): every line wraps with a hanging indent (`grid.hang`), each amount whole."""
    import re

    result = runner.invoke(app, ["actuals", "dev", *WINDOW, "--prometheus-url", prometheus_url], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    over = [line for line in result.stdout.splitlines() if len(line) > int(columns) and len(line.split()) > 1]
    assert over == [], over
    assert re.search(r"actual monthly cost +\$[\d,]+\.\d\d", result.stdout)
    assert f"{GEN_A * STEPS_A + GEN_B * STEPS_B:,} output" in result.stdout
