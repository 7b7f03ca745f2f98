"""`actuals` and `estimate --calibration`: bad input is exit 2 naming the option or key (no Prometheus needed), and
the per-series counter arithmetic against a stand-in query function."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from cli.live import prometheus_queries as pq
from cli.live.prometheus import parse_duration, region_urls, series_key
from cli.main import app
from tests.builders import cache_dir  # noqa: F401  (autouse: one inventory cache for the module)

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_one_url_for_a_one_region_stack_region_equals_url_otherwise():
    assert region_urls(["http://p:9090"], ["us-east-1"]) == {"us-east-1": "http://p:9090"}
    assert region_urls(["us-east-1=http://a:9090", "eu-west-1=https://b"], ["us-east-1", "eu-west-1"]) == {
        "us-east-1": "http://a:9090", "eu-west-1": "https://b"}
    with pytest.raises(ValueError, match="REGION=URL for each"):
        region_urls(["http://p:9090"], ["us-east-1", "eu-west-1"])
    with pytest.raises(ValueError, match="did you mean eu-west-1"):
        region_urls(["us-east-1=http://a", "eu-west-2=http://b"], ["us-east-1", "eu-west-1"])
    with pytest.raises(ValueError, match="no URL for region\\(s\\) eu-west-1"):
        region_urls(["us-east-1=http://a"], ["us-east-1", "eu-west-1"])
    with pytest.raises(ValueError, match="not an http\\(s\\) URL"):
        region_urls(["ftp://a"], ["us-east-1"])


def test_durations():
    assert parse_duration("30d").total_seconds() == 30 * 86400
    assert parse_duration("90m").total_seconds() == 5400
    for bad in ("30", "0d", "400d", "1y", "-3d"):
        with pytest.raises(ValueError, match="--since"):
            parse_duration(bad)


@pytest.mark.parametrize("args, named", [
    (["--since", "30 days"], "--since '30 days'"),
    (["--until", "yesterday"], "--until 'yesterday'"),
    (["--prometheus-url", "us-east-2=http://127.0.0.1:1"], "did you mean us-east-1"),
    (["--until", "2999-01-01"], "--until '2999-01-01' is in the future"),  # before: ran, dividing by empty hours
])
def test_bad_options_exit_2_naming_them(args, named):
    result = invoke("actuals", "dev", *args)
    assert result.exit_code == 2, result.output
    assert named in result.output and "Traceback" not in result.output


def test_without_prometheus_url_or_kubeconfig_it_needs_the_stacks_outputs_and_says_both_ways(monkeypatch):
    """No --prometheus-url: the stack's kubeconfigs output, read with the Pulumi CLI (absent here)."""
    monkeypatch.setattr("shutil.which", lambda name: None)
    result = invoke("actuals", "dev")
    assert result.exit_code == 1, result.output
    assert "give --kubeconfig" in result.output and "--prometheus-url" in result.output, result.output


CALIBRATION = {"calibration": 1, "stack": "dev", "since": "2026-10-01T00:00:00Z", "until": "2026-10-31T00:00:00Z",
               "source": "test", "pools": [{"region": "us-east-1", "pool": "l4", "outputTokensPerSecondPerReplica": 30}]}


@pytest.mark.parametrize("edit, named", [
    ({"pools": [{"region": "us-east-1", "pool": "l4", "outputTokensPerSecondPerReplica": 0}]},
     "pools[0].outputTokensPerSecondPerReplica: must be a number > 0"),
    ({"pools": [{"region": "us-east-1", "pool": "l4", "outputTokensPerSecondPerReplica": "fast"}]},
     "pools[0].outputTokensPerSecondPerReplica"),
    ({"pools": [{"region": "us-east-1", "pool": "l4", "outputTokensPerSecond": 30}]},
     "pools[0].outputTokensPerSecond: unknown key (did you mean outputTokensPerSecondPerReplica?)"),
    ({"pools": [{"region": "us-east-2", "pool": "l4", "outputTokensPerSecondPerReplica": 30}]},
     "pools[0].region: 'us-east-2' is not a region of stack dev (did you mean us-east-1?)"),
    ({"pools": [{"region": "us-east-1", "pool": "l40", "outputTokensPerSecondPerReplica": 30}]},
     "pools[0].pool: 'l40' is not a GPU pool of us-east-1 (did you mean l4?)"),
    ({"stack": "prod-us"}, "stack: the file calibrates stack 'prod-us'"),
    ({"calibration": 2}, "calibration: must be 1"),
    ({"pool": []}, "pool: unknown key (did you mean pools?)"),
])
def test_bad_calibration_file_exits_2_naming_the_key(tmp_path, edit, named):
    path = tmp_path / "cal.json"
    path.write_text(json.dumps({**CALIBRATION, **edit}))
    result = invoke("estimate", "dev", "--as-of", "2026-11-24", "--calibration", str(path))
    assert result.exit_code == 2, result.output
    assert "--calibration" in result.output and named in result.output, result.output
    assert "Traceback" not in result.output


def test_calibration_not_json_or_missing(tmp_path):
    path = tmp_path / "cal.json"
    path.write_text("{not json")
    assert "not JSON" in invoke("estimate", "dev", "--calibration", str(path)).output
    result = invoke("estimate", "dev", "--calibration", str(tmp_path / "none.json"))
    assert result.exit_code == 2 and "--calibration" in result.output


class FakePrometheus:
    """Answers by query text: what the per-series counter arithmetic asks for."""

    def __init__(self, answers: dict[str, dict]):
        self.answers = answers

    def query(self, expr: str, at: datetime) -> dict:
        for prefix, answer in self.answers.items():
            if expr.startswith(prefix):
                return answer
        return {}


def test_counter_is_last_minus_start_and_a_reset_series_falls_back_to_increase():
    a, b, c = (series_key({"pod": p}) for p in ("a", "b", "c"))
    prom = FakePrometheus({
        "max_over_time(": {a: 1500.0, b: 40.0, c: 700.0},
        "resets(": {a: 0.0, b: 0.0, c: 1.0},
        "increase(": {c: 812.5},
        "x{": {a: 1000.0},  # at the window's start: b started inside it
    })
    window = pq.Window(prom, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC))
    assert window.counter('x{namespace="vllm"}') == {a: 500.0, b: 40.0, c: 812.5}
    assert window.restarted == 1


def test_bucket_quantile_is_prometheus_interpolation():
    buckets = {0.1: 400.0, 0.25: 800.0, 0.5: 950.0, 1.0: 990.0, float("inf"): 1000.0}
    assert pq.bucket_quantile(0.5, buckets) == pytest.approx(0.1375)
    assert pq.bucket_quantile(0.999, buckets) == 1.0  # in the +Inf bucket: the highest finite bound
    assert pq.bucket_quantile(0.5, {float("inf"): 0.0}) is None


def test_ksm_label_names():
    assert pq.CAPACITY_TYPE == "label_eks_amazonaws_com_capacity_type"
    assert pq.INSTANCE_TYPE == "label_node_kubernetes_io_instance_type"
    assert pq.POOL == "label_tradeoff_infra_io_gpu_pool"


def test_node_hours_of_an_instance_type_the_catalog_lacks_are_a_warning_not_a_crash():
    from cli.estimate.prices import PriceBook
    from cli.live.actuals import actuals_document
    from infra.price_catalog import default_catalog
    from infra.spec import load_stack_file
    from tests.paths import ROOT

    spec = load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml")
    m = pq.RegionMeasurement(region="us-east-1", requests=10, input_tokens=100, output_tokens=50,
                             ttft_seconds={}, tpot_seconds={}, gpu_utilisation=None,
                             node_hours={("g6.xlarge", "SPOT", "l4"): 10.0, ("x9.imaginary", "ON_DEMAND", "l4"): 5.0},
                             pool_output_tokens={"l4": 50}, gateway=None)
    estimate = {"categories": {"gpu-compute": {"expected": 100.0}}, "api": [],
                "selfHosted": {"monthlyUsd": {"expected": 150.0}, "operationsIncluded": True}}
    since, until = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC)
    doc, warnings = actuals_document("dev", spec, estimate, [m], PriceBook(default_catalog()), since, until)
    assert [n["instanceType"] for n in doc["gpuNodes"]] == ["g6.xlarge"]
    assert any("5.00 node-hours of x9.imaginary (on-demand) are not priced" in w for w in warnings), warnings


def test_a_reserved_pool_bills_its_min_nodes_every_hour_and_the_rest_on_demand():
    """As the estimate prices reserved-1y (minNodes reserved, used or not; above them on demand)."""
    from decimal import Decimal

    from cli.estimate.prices import PriceBook
    from cli.live.actuals import actuals_document
    from infra.price_catalog import default_catalog
    from tests.builders import spec_of

    spec = spec_of(capacity="reserved-1y")  # pool l40s: g6e.xlarge, minNodes 1
    catalog = default_catalog()
    reserved = catalog.instance("us-east-1", "g6e.xlarge", "reserved-1y").usd_per_hour
    on_demand = catalog.instance("us-east-1", "g6e.xlarge", "on-demand").usd_per_hour
    since, until = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC)  # 24 h
    estimate = {"categories": {}, "api": [], "selfHosted": {"monthlyUsd": {"expected": 0.0}, "operationsIncluded": True}}
    for hours, expected in ((30.0, 24 * reserved + 6 * on_demand), (10.0, 24 * reserved)):
        m = pq.RegionMeasurement(region="us-east-1", requests=0, input_tokens=0, output_tokens=0, ttft_seconds={},
                                 tpot_seconds={}, gpu_utilisation=None,
                                 node_hours={("g6e.xlarge", "ON_DEMAND", "l40s"): hours}, pool_output_tokens={},
                                 gateway=None)
        doc, _ = actuals_document("t", spec, estimate, [m], PriceBook(catalog), since, until)
        node = doc["gpuNodes"][0]
        assert node["capacityType"] == "reserved-1y" and node["reservedNodeHours"] == 24
        assert node["windowUsd"] == float(Decimal(expected).quantize(Decimal("0.01"), "ROUND_HALF_UP")), hours


def _vector(value, metric=None):
    return {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"namespace": "vllm", "pod": "p"} if metric is None else metric, "value": [1759276800, value]}]}}


@pytest.mark.parametrize("answer, named", [
    (_vector("+Inf"), "'+Inf', not a plausible value"),  # a broken exporter: used to overflow round() (traceback)
    (_vector("1e308"), "'1e308', not a plausible value"),  # finite, but x730 h/month overflows to inf
    (_vector("-Inf"), "'-Inf', not a plausible value"),
    (_vector("5", metric="pod=p"), "no `metric` object"),
    ({"status": "success", "data": {"resultType": "vector", "result": {"a": 1}}}, "not a list"),
    ({"status": "success", "data": ["x"]}, "no `data` object"),
    ({"status": "success", "data": {"resultType": "scalar", "result": None}}, "not [time, value]"),
    ({"status": "success", "data": {"resultType": "vector", "result": ["x"]}}, "no `metric` object"),
])
def test_a_prometheus_answering_garbage_exits_1_naming_it(answer, named):
    """A server on loopback that answers every query with the same well-formed-JSON garbage: exit 1 naming the URL
    and what is wrong, never a traceback (before: OverflowError from +Inf, AttributeError/TypeError from shapes)."""
    import http.server
    import threading

    body = json.dumps(answer).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        result = invoke("actuals", "dev", "--since", "1d", "--until", "2026-11-01", "--prometheus-url", url)
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 1, result.output
    assert url in result.output and named in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
