"""The Grafana dashboard: valid JSON, the panels operators need, and only metrics the exporters really export.

`tests/data/exported_metrics.json` lists, with source and date, the series the pinned vLLM, the DCGM
exporter's default counters and kube-state-metrics expose. Every metric the dashboard, the alert
rules and the KEDA triggers query must be in it: a renamed metric (vLLM renamed the KV-cache gauge
in 0.9.2) shows up here instead of as an empty panel or a silent autoscaler.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests import chart_render as cr
from tests.builders import exported_metrics, metric_names

DASHBOARD_FILE = cr.CHART / "dashboards" / "vllm.json"
CASES = cr.cases()

def dashboard_of(objects: list[dict]) -> dict:
    # the dashboard's ConfigMap (with the weights mirror the chart also renders the mirror script's)
    config_map = cr.one([o for o in objects if "weights-mirror" not in o["metadata"]["name"]], "ConfigMap")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    (text,) = config_map["data"].values()
    return json.loads(text)


def exprs(dashboard: dict) -> list[tuple[str, str]]:
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel["targets"]]


def test_metric_name_extraction():
    assert metric_names('histogram_quantile(0.95, sum by (le) (rate(vllm:x_bucket{a="b",c=~"d.*"}[5m]))) > 3') == {
        "vllm:x_bucket"}
    assert metric_names('count(kube_node_status_capacity{resource="nvidia_com_gpu"} > 0) * $price / (a + b) * 1e6') == {
        "kube_node_status_capacity", "a", "b"}
    assert metric_names("(sum(x) or on() vector(0)) == 0 and on() y > 0") == {"x", "y"}


def test_dashboard_file_is_valid_json_with_placeholders_only_the_configmap_fills():
    raw = DASHBOARD_FILE.read_text()
    dashboard = json.loads(raw)
    assert dashboard["panels"], "the dashboard has panels"
    placeholders = set(re.findall(r"__[A-Z_]+__", raw))
    template = (cr.CHART / "templates" / "dashboard-configmap.yaml").read_text()
    assert placeholders and all(p in template for p in placeholders), placeholders


@pytest.mark.parametrize("case_id", [c[0] for c in CASES])
def test_rendered_dashboard_queries_only_exported_metrics(case_id):
    values = next(c[3] for c in CASES if c[0] == case_id)
    objects = cr.render(values)
    dashboard = dashboard_of(objects)
    raw = json.dumps(dashboard)
    assert not re.search(r"__[A-Z_]+__", raw), f"{case_id}: a placeholder was left unfilled"
    known = exported_metrics()
    queried: dict[str, str] = {}
    for title, expr in exprs(dashboard):
        for name in metric_names(expr):
            queried[name] = f"dashboard panel {title!r}"
    for rule in (r for g in cr.one(objects, "PrometheusRule")["spec"]["groups"] for r in g["rules"]):
        for name in metric_names(rule["expr"]):
            queried[name] = f"alert {rule.get('alert', rule.get('record'))}"
    for trigger in cr.one(objects, "ScaledObject")["spec"]["triggers"]:
        if trigger["type"] == "prometheus":
            for name in metric_names(trigger["metadata"]["query"]):
                queried[name] = f"KEDA trigger {trigger['name']}"
    unknown = {name: where for name, where in queried.items() if name not in known}
    assert not unknown, f"{case_id}: metrics not exported by the pinned vLLM / DCGM / kube-state-metrics: {unknown}"
    assert "vllm:kv_cache_usage_perc" in queried and "DCGM_FI_DEV_GPU_UTIL" in queried


def test_dashboard_has_the_panels_operators_need():
    dashboard = dashboard_of(cr.render(CASES[0][3]))
    queries = " ".join(expr for _, expr in exprs(dashboard))
    for metric in ("vllm:request_success_total", "vllm:prompt_tokens_total", "vllm:generation_tokens_total",
                   "vllm:time_to_first_token_seconds_bucket", "vllm:inter_token_latency_seconds_bucket",
                   "vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
                   "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "kube_deployment_spec_replicas",
                   "kube_deployment_status_replicas_available", "kube_node_status_capacity"):
        assert metric in queries, f"no panel queries {metric}"
    for quantile in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({quantile}, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket" in queries
        assert f"histogram_quantile({quantile}, sum by (le) (rate(vllm:inter_token_latency_seconds_bucket" in queries
    panel_ids = [p["id"] for p in dashboard["panels"]]
    assert len(panel_ids) == len(set(panel_ids)), "panel ids are unique"
    cells = set()
    for panel in dashboard["panels"]:
        g = panel["gridPos"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & mine, f"panel {panel['title']!r} overlaps another"
        assert g["x"] + g["w"] <= 24, f"panel {panel['title']!r} is wider than the grid"
        cells |= mine


def test_cost_per_million_tokens_uses_the_node_price():
    priced = next(c for c in CASES if c[3]["monitoring"]["dashboard"]["gpuHourlyPriceUsd"] is not None)
    dashboard = dashboard_of(cr.render(priced[3]))
    price_var = next(v for v in dashboard["templating"]["list"] if v["name"] == "gpu_hourly_price_usd")
    assert float(price_var["query"]) == priced[3]["monitoring"]["dashboard"]["gpuHourlyPriceUsd"]
    cost = next(p for p in dashboard["panels"] if p["title"].startswith("Cost per 1M tokens"))
    expr = cost["targets"][0]["expr"]
    assert expr.startswith('count(kube_node_status_capacity{resource="nvidia_com_gpu"} > 0) * $gpu_hourly_price_usd / ('), expr
    assert "vllm:prompt_tokens_total" in expr and "vllm:generation_tokens_total" in expr and "* 3600 / 1e6" in expr
    assert cost["fieldConfig"]["defaults"]["unit"] == "currencyUSD"


def test_unknown_price_shows_nan_not_zero():
    unpriced = next(c for c in CASES if c[3]["monitoring"]["dashboard"]["gpuHourlyPriceUsd"] is None)
    dashboard = dashboard_of(cr.render(unpriced[3]))
    price_var = next(v for v in dashboard["templating"]["list"] if v["name"] == "gpu_hourly_price_usd")
    assert price_var["query"] == "NaN"


def test_dashboard_uid_is_unique_per_release_and_fits_grafana():
    uids = set()
    for release, namespace in (("vllm", "vllm"), ("vllm", "other"), ("canary", "vllm")):
        result = cr.helm("template", release, str(cr.CHART), "--namespace", namespace,
                         "--show-only", "templates/dashboard-configmap.yaml", values=CASES[0][3])
        assert result.returncode == 0, result.stderr
        (config_map,) = [o for o in yaml.safe_load_all(result.stdout) if o]
        uid = json.loads(next(iter(config_map["data"].values())))["uid"]
        assert len(uid) <= 40, uid
        uids.add(uid)
    assert len(uids) == 3, uids
