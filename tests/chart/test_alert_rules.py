"""The chart's PrometheusRule under promtool: rules parse, and every alert has a case that must fire and one that must not.

The rule file is the `spec` of the PrometheusRule that helm renders with the dev stack's values
(thresholds, `for` durations and selectors all come from there). Series are synthetic but carry
the label sets vLLM, DCGM exporter and kube-state-metrics export. Expected annotations are the
rendered templates expanded here, so a broken annotation template fails too. A last test swaps
every alert expression for one that never fires and checks the firing cases then fail, so the
suite cannot pass by testing nothing.
"""

from __future__ import annotations

import copy
import json
import math
import re
import subprocess

import pytest
import yaml

from tests import chart_render as cr
from tests.tools import promtool_path

DEV = next(c for c in cr.cases() if c[0] == "dev-us-east-1")
SPEC, REGION, VALUES = DEV[1], DEV[2], DEV[3]
NS = cr.NAMESPACE
MODEL = SPEC.model.name
FULLNAME = "vllm"
VLLM = f'namespace="{NS}",model_name="{MODEL}",engine="0"'


@pytest.fixture(scope="module")
def rule_spec() -> dict:
    return cr.one(cr.render(VALUES), "PrometheusRule")["spec"]


def _rules(spec: dict) -> dict[str, dict]:
    return {r["alert"]: r for g in spec["groups"] for r in g["rules"] if "alert" in r}


def _expand(template: str, labels: dict[str, str], value: float | None) -> str:
    """Expand the two template forms the rules use: {{ $labels.x }} and {{ $value | printf "%.Nf" }}."""
    out = re.sub(r"\{\{\s*\$labels\.(\w+)\s*\}\}", lambda m: labels[m[1]], template)
    return re.sub(r'\{\{\s*\$value\s*\|\s*printf\s*"([^"]+)"\s*\}\}', lambda m: m[1] % value, out)


def _minutes(duration: str) -> int:
    number, unit = int(duration[:-1]), duration[-1]
    return number * {"m": 1, "h": 60}[unit]


def _fires(rule: dict, labels: dict[str, str], value: float | None = None) -> dict:
    """An expected firing alert: the rule's own labels plus the series labels, annotations expanded."""
    all_labels = {**labels, **rule["labels"]}
    return {
        "exp_labels": all_labels,
        "exp_annotations": {k: _expand(v, all_labels, value) for k, v in rule["annotations"].items()},
    }


def _case(name: str, series: list[tuple[str, str]], checks: list[tuple[str, int, list[dict]]]) -> dict:
    return {
        "name": name,
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series],
        "alert_rule_test": [{"alertname": a, "eval_time": f"{t}m", "exp_alerts": exp} for a, t, exp in checks],
    }


def _test_cases(rules: dict[str, dict]) -> tuple[list[dict], set[str], set[str]]:
    """promtool test groups, and the alerts covered by a must-fire and by a must-not-fire case."""
    r = VALUES["monitoring"]["prometheusRule"]
    cases, fire, quiet = [], set(), set()

    def add(name, series, checks):
        cases.append(_case(name, series, checks))
        for alert, _, exp in checks:
            (fire if exp else quiet).add(alert)

    # VllmQueueWaitGrowing: average waiting per replica above the threshold for 10 minutes.
    q = rules["VllmQueueWaitGrowing"]
    high, low = r["queueWaitingPerReplica"] * 1.5, r["queueWaitingPerReplica"] * 0.5
    add("queue waiting above threshold fires after 10m", [
        (f'vllm:num_requests_waiting{{{VLLM},pod="vllm-a"}}', f"{high}+0x30"),
        (f'vllm:num_requests_waiting{{{VLLM},pod="vllm-b"}}', f"{high}+0x30"),
    ], [("VllmQueueWaitGrowing", 5, []), ("VllmQueueWaitGrowing", 15, [_fires(q, {}, high)])])
    add("average waiting below threshold stays quiet, though one replica is above it", [
        (f'vllm:num_requests_waiting{{{VLLM},pod="vllm-a"}}', f"{low}+0x30"),
        (f'vllm:num_requests_waiting{{{VLLM},pod="vllm-b"}}', f"{r['queueWaitingPerReplica'] * 1.2}+0x30"),
    ], [("VllmQueueWaitGrowing", 15, [])])

    # VllmTTFTp95AboveTarget: every first token in (1s, 5s] -> p95 = 1 + 4 x 0.95 = 4.8s.
    t = rules["VllmTTFTp95AboveTarget"]
    assert r["ttftTargetSeconds"] < 4.8, "pick bucket bounds above the dev stack's TTFT target"
    slow = [("0.5", "0+0x30"), ("1", "0+0x30"), ("5", "0+60x30"), ("10", "0+60x30"), ("+Inf", "0+60x30")]
    fast = [(le, "0+60x30") for le, _ in slow]
    bucket = 'vllm:time_to_first_token_seconds_bucket{' + VLLM + ',pod="vllm-a",le="%s"}'
    add("slow first tokens fire", [(bucket % le, v) for le, v in slow],
        [("VllmTTFTp95AboveTarget", 15, [_fires(t, {}, 1 + 4 * 0.95)])])
    add("fast first tokens stay quiet", [(bucket % le, v) for le, v in fast], [("VllmTTFTp95AboveTarget", 15, [])])

    # VllmKvCacheNearFull: one replica above the threshold fires for that pod only.
    k = rules["VllmKvCacheNearFull"]
    metric = r["kvCacheMetric"]
    near_full = (1 + r["kvCacheUsage"]) / 2
    add("a full KV cache fires for its pod", [
        (f'{metric}{{{VLLM},pod="vllm-a"}}', f"{near_full}+0x30"),
        (f'{metric}{{{VLLM},pod="vllm-b"}}', "0.4+0x30"),
    ], [("VllmKvCacheNearFull", 15, [_fires(k, {"pod": "vllm-a"})])])
    add("a busy but not full KV cache stays quiet", [
        (f'{metric}{{{VLLM},pod="vllm-a"}}', f"{r['kvCacheUsage'] - 0.1}+0x30"),
    ], [("VllmKvCacheNearFull", 15, [])])

    # GpuIdleForHours: a node idle for gpuIdleHours fires; one that got busy in between does not.
    g = rules["GpuIdleForHours"]
    hold = _minutes(g["for"])
    assert hold == round(r["gpuIdleHours"] * 60), g["for"]
    idle, busy = r["gpuIdleUtilizationPercent"] / 2, 80
    span = hold + 60
    add("an idle GPU node fires after the configured hours", [
        ('DCGM_FI_DEV_GPU_UTIL{Hostname="gpu-node-idle",gpu="0",modelName="NVIDIA L4"}', f"{idle}+0x{span}"),
        ('DCGM_FI_DEV_GPU_UTIL{Hostname="gpu-node-busy",gpu="0",modelName="NVIDIA L4"}', f"{busy}+0x{span}"),
    ], [("GpuIdleForHours", hold - 10, []), ("GpuIdleForHours", hold + 30, [_fires(g, {"Hostname": "gpu-node-idle"})])])
    add("a GPU node that served within the window stays quiet", [
        ('DCGM_FI_DEV_GPU_UTIL{Hostname="gpu-node-a",gpu="0",modelName="NVIDIA L4"}', f"{idle}+0x60 {busy}+0x{span - 60}"),
    ], [("GpuIdleForHours", hold + 30, [])])

    # VllmPodCrashLooping: CrashLoopBackOff, or 3+ restarts in 30 minutes.
    c = rules["VllmPodCrashLooping"]
    pod = f"{FULLNAME}-7c9d8f6b5-x2x9k"
    ksm = f'namespace="{NS}",pod="{pod}",container="vllm",uid="0b1c"'
    add("CrashLoopBackOff fires", [
        (f'kube_pod_container_status_waiting_reason{{{ksm},reason="CrashLoopBackOff"}}', "1+0x30"),
        (f'kube_pod_container_status_restarts_total{{{ksm}}}', "4+0x30"),
    ], [("VllmPodCrashLooping", 10, [_fires(c, {"pod": pod})])])
    add("restarting every minute fires", [
        (f'kube_pod_container_status_restarts_total{{{ksm}}}', "0+1x40"),
    ], [("VllmPodCrashLooping", 40, [_fires(c, {"pod": pod})])])
    add("a pod still creating, with old restarts, stays quiet", [
        (f'kube_pod_container_status_waiting_reason{{{ksm},reason="ContainerCreating"}}', "1+0x40"),
        (f'kube_pod_container_status_restarts_total{{{ksm}}}', "2+0x40"),
        (f'kube_pod_container_status_waiting_reason{{namespace="other",pod="{pod}",container="x",uid="9",reason="CrashLoopBackOff"}}', "1+0x40"),
    ], [("VllmPodCrashLooping", 40, [])])

    # VllmPodsNotReady: short of desired replicas for longer than a model load may take.
    n = rules["VllmPodsNotReady"]
    wait = _minutes(n["for"])
    startup_seconds = VALUES["probes"]["startup"]["periodSeconds"] * VALUES["probes"]["startup"]["failureThreshold"]
    assert wait * 60 > startup_seconds, f"VllmPodsNotReady waits {n['for']}, a model load may take {startup_seconds}s"
    dep = f'namespace="{NS}",deployment="{FULLNAME}"'
    add("missing replicas fire after the load budget", [
        (f"kube_deployment_spec_replicas{{{dep}}}", f"2+0x{wait + 20}"),
        (f"kube_deployment_status_replicas_available{{{dep}}}", f"1+0x{wait + 20}"),
    ], [("VllmPodsNotReady", wait - 5, []),
        ("VllmPodsNotReady", wait + 10, [_fires(n, {"namespace": NS, "deployment": FULLNAME}, 1)])])
    add("all replicas available stays quiet", [
        (f"kube_deployment_spec_replicas{{{dep}}}", f"2+0x{wait + 20}"),
        (f"kube_deployment_status_replicas_available{{{dep}}}", f"2+0x{wait + 20}"),
    ], [("VllmPodsNotReady", wait + 10, [])])

    # VllmRegionEndpointDown: replicas wanted but none ready (kube-state-metrics' Deployment status, not the
    # deprecated Endpoints API behind kube_endpoint_address).
    e = rules["VllmRegionEndpointDown"]
    down = _minutes(e["for"]) + 5
    add("no ready replica fires", [
        (f"kube_deployment_spec_replicas{{{dep}}}", f"1+0x{down + 5}"),
        (f"kube_deployment_status_replicas_ready{{{dep}}}", f"0+0x{down + 5}"),
    ], [("VllmRegionEndpointDown", down, [_fires(e, {})])])
    add("no replica status at all fires", [
        (f"kube_deployment_spec_replicas{{{dep}}}", f"1+0x{down + 5}"),
    ], [("VllmRegionEndpointDown", down, [_fires(e, {})])])
    add("a ready replica stays quiet", [
        (f"kube_deployment_spec_replicas{{{dep}}}", f"2+0x{down + 5}"),
        (f"kube_deployment_status_replicas_ready{{{dep}}}", f"1+0x{down + 5}"),
    ], [("VllmRegionEndpointDown", down, [])])
    add("a fleet scaled to zero on purpose stays quiet", [
        (f"kube_deployment_spec_replicas{{{dep}}}", f"0+0x{down + 5}"),
    ], [("VllmRegionEndpointDown", down, [])])
    return cases, fire, quiet


def _run_promtool_tests(tmp_path, spec: dict) -> subprocess.CompletedProcess:
    rules_file = tmp_path / "vllm-rules.yaml"
    rules_file.write_text(yaml.safe_dump(spec, sort_keys=False))
    cases, _, _ = _test_cases(_rules(spec))
    tests_file = tmp_path / "vllm-rules-test.yaml"
    tests_file.write_text(yaml.safe_dump({
        "rule_files": [rules_file.name],
        "evaluation_interval": "1m",
        "tests": cases,
    }, sort_keys=False))
    return subprocess.run([promtool_path(), "test", "rules", str(tests_file)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_rules_pass_promtool_check_for_every_stack_and_region(tmp_path):
    files = []
    for case_id, _, _, values in cr.cases():
        path = tmp_path / f"{case_id}.yaml"
        path.write_text(yaml.safe_dump(cr.one(cr.render(values), "PrometheusRule")["spec"], sort_keys=False))
        files.append(str(path))
    result = subprocess.run([promtool_path(), "check", "rules", *files], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS: 7 rules found") == len(files), result.stdout


def test_every_alert_has_a_firing_and_a_quiet_case(rule_spec):
    rules = _rules(rule_spec)
    assert set(rules) == {
        "VllmQueueWaitGrowing", "VllmTTFTp95AboveTarget", "VllmKvCacheNearFull", "GpuIdleForHours",
        "VllmPodCrashLooping", "VllmPodsNotReady", "VllmRegionEndpointDown",
    }
    cases, fire, quiet = _test_cases(rules)
    assert fire == set(rules), f"alerts without a must-fire case: {set(rules) - fire}"
    assert quiet == set(rules), f"alerts without a must-not-fire case: {set(rules) - quiet}"


def test_every_alert_has_severity_summary_description_and_runbook(rule_spec):
    for name, rule in _rules(rule_spec).items():
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        assert rule["labels"]["region"] == REGION.region, name
        for key in ("summary", "description", "runbook"):
            assert rule["annotations"].get(key, "").strip(), f"{name}: annotation {key} is empty"
        assert name in rule["annotations"]["runbook"], f"{name}: the runbook line should name its alert"


def test_thresholds_come_from_the_stack(rule_spec):
    rules = _rules(rule_spec)
    assert f"> {SPEC.traffic.ttft_target_ms / 1000:g}" in rules["VllmTTFTp95AboveTarget"]["expr"]
    assert "vllm:time_to_first_token_seconds_bucket" in rules["VllmTTFTp95AboveTarget"]["expr"]
    assert f"> {SPEC.monitoring.alerts.queue_waiting_per_replica:g}" in rules["VllmQueueWaitGrowing"]["expr"]
    assert f"> {SPEC.monitoring.alerts.kv_cache_usage:g}" in rules["VllmKvCacheNearFull"]["expr"]
    assert _minutes(rules["GpuIdleForHours"]["for"]) == math.floor(SPEC.monitoring.alerts.gpu_idle_hours * 60)


def test_promtool_unit_tests_pass(rule_spec, tmp_path):
    result = _run_promtool_tests(tmp_path, rule_spec)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_firing_cases_fail_when_alerts_never_fire(rule_spec, tmp_path):
    """The must-fire cases really depend on the rules: with every expression dead, each of them fails."""
    dead = copy.deepcopy(rule_spec)
    for group in dead["groups"]:
        for rule in group["rules"]:
            rule["expr"] = "vector(1) > 2"
    result = _run_promtool_tests(tmp_path, dead)
    assert result.returncode != 0, "promtool accepted rules that never fire"
    for alert in _rules(rule_spec):
        assert f"alertname: {alert}" in result.stdout + result.stderr, f"{alert}: no firing case failed"


def test_rules_do_not_use_the_deprecated_endpoints_api(rule_spec):
    """Endpoints (v1) is deprecated from Kubernetes 1.33 in favour of EndpointSlices: alert on the Deployment."""
    text = json.dumps(rule_spec)
    assert "kube_endpoint_" not in text
