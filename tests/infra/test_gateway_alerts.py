"""The gateway's alert rules under promtool (the hybrid stack's, as the program ships them in its PrometheusRule):
rules parse, every alert has a case that must fire and one that must not, and the firing cases fail when the
expressions never fire. Series carry the labels LiteLLM's Prometheus callback exports (requested_model,
api_provider, exception_status; `namespace` from the ServiceMonitor's target).
"""

from __future__ import annotations

import copy
import re
import subprocess

import pytest
import yaml

from infra import gateway_config, gateway_monitoring as gm
from infra.spec import load_stack_file
from tests.paths import ROOT
from tests.tools import promtool_path

SPEC = load_stack_file(ROOT / "stacks" / "Pulumi.hybrid.yaml")
NS = 'namespace="gateway"'
HOSTED = f'api_provider="{gateway_config.SELF_HOSTED_PROVIDER}"'


def _rules(spec: dict) -> dict[str, dict]:
    return {r["alert"]: r for g in spec["groups"] for r in g["rules"]}


def _expand(template: str, labels: dict[str, str], value: float | None) -> str:
    """The template forms the rules use: {{ $labels.x }} and {{ $value | humanizePercentage }} (Go's %.4g of v x 100)."""
    out = re.sub(r"\{\{\s*\$labels\.(\w+)\s*\}\}", lambda m: labels[m[1]], template)
    return re.sub(r"\{\{\s*\$value\s*\|\s*humanizePercentage\s*\}\}", lambda m: "%.4g%%" % (value * 100), out)


def _fires(rule: dict, labels: dict[str, str], value: float | None = None) -> dict:
    all_labels = {**labels, **rule["labels"]}
    return {"exp_labels": all_labels,
            "exp_annotations": {k: _expand(v, all_labels, value) for k, v in rule["annotations"].items()}}


def _cases(rules: dict[str, dict]) -> tuple[list[dict], set[str], set[str]]:
    cases, fire, quiet = [], set(), set()

    def add(name, series, checks):
        cases.append({"name": name, "interval": "1m",
                      "input_series": [{"series": s, "values": v} for s, v in series],
                      "alert_rule_test": [{"alertname": a, "eval_time": f"{t}m", "exp_alerts": e} for a, t, e in checks]})
        for alert, _, expected in checks:
            (fire if expected else quiet).add(alert)

    success = gm.DEPLOYMENT_SUCCESS
    share = rules["GatewayApiShareAbovePlan"]
    hold = int(share["for"][:-1])
    threshold = gm.api_share_alert_threshold(SPEC)
    assert 0.15 < threshold < 0.75, "pick the cases' shares around the hybrid stack's plan"
    add("three of four requests answered by APIs fires (fleet down: chat falls back)", [
        (f'{success}{{{NS},{HOSTED},requested_model="support"}}', "0+10x120"),
        (f'{success}{{{NS},api_provider="openai",requested_model="chat"}}', "0+20x120"),
        (f'{success}{{{NS},api_provider="together_ai",requested_model="chat"}}', "0+10x120"),
    ], [("GatewayApiShareAbovePlan", hold - 10, []), ("GatewayApiShareAbovePlan", hold + 30, [_fires(share, {}, 0.75)])])
    add("the planned split (premium on the API, chat's peaks overflowing: ~11%) stays quiet", [
        (f'{success}{{{NS},{HOSTED},requested_model="chat"}}', "0+60x120"),
        (f'{success}{{{NS},{HOSTED},requested_model="support"}}', "0+20x120"),
        (f'{success}{{{NS},api_provider="openai",requested_model="premium"}}', "0+5x120"),
        (f'{success}{{{NS},api_provider="together_ai",requested_model="chat"}}', "0+5x120"),
        (f'{success}{{namespace="elsewhere",api_provider="openai",requested_model="x"}}', "0+1000x120"),
    ], [("GatewayApiShareAbovePlan", hold + 30, [])])

    errors = rules["GatewayProviderErrors"]
    hold = int(errors["for"][:-1])
    failure, total = gm.DEPLOYMENT_FAILURE, gm.DEPLOYMENT_TOTAL
    add("a provider failing one call in ten fires for that provider", [
        (f'{failure}{{{NS},api_provider="openai",requested_model="premium",exception_status="429"}}', "0+1x60"),
        (f'{total}{{{NS},api_provider="openai",requested_model="premium"}}', "0+10x60"),
        (f'{total}{{{NS},api_provider="together_ai",requested_model="chat"}}', "0+10x60"),
    ], [("GatewayProviderErrors", hold + 15, [_fires(errors, {"api_provider": "openai"}, 0.1)])])
    add("a stray provider error, and the self-hosted fleet's own errors, stay quiet", [
        (f'{failure}{{{NS},api_provider="openai",requested_model="premium",exception_status="500"}}', "0+1x60"),
        (f'{total}{{{NS},api_provider="openai",requested_model="premium"}}', "0+100x60"),
        (f'{failure}{{{NS},{HOSTED},requested_model="chat",exception_status="503"}}', "0+10x60"),
        (f'{total}{{{NS},{HOSTED},requested_model="chat"}}', "0+10x60"),
    ], [("GatewayProviderErrors", hold + 15, [])])

    refusals = rules["GatewayRestrictedRouteRefusals"]
    hold = int(refusals["for"][:-1])
    failed = gm.PROXY_FAILED
    add("refused requests on the restricted route fire", [
        (f'{failed}{{{NS},requested_model="support",exception_status="503"}}', "0+2x30"),
    ], [("GatewayRestrictedRouteRefusals", hold + 10, [_fires(refusals, {"requested_model": "support"})])])
    add("failures on a general route, and old refusals, stay quiet", [
        (f'{failed}{{{NS},requested_model="chat",exception_status="503"}}', "0+2x30"),
        (f'{failed}{{{NS},requested_model="support",exception_status="503"}}', "3+0x30"),
    ], [("GatewayRestrictedRouteRefusals", hold + 10, [])])
    return cases, fire, quiet


def _promtool_test(tmp_path, rule_spec: dict) -> subprocess.CompletedProcess:
    (tmp_path / "gateway-rules.yaml").write_text(yaml.safe_dump(rule_spec, sort_keys=False))
    cases, _, _ = _cases(_rules(rule_spec))
    tests = tmp_path / "gateway-rules-test.yaml"
    tests.write_text(yaml.safe_dump({"rule_files": ["gateway-rules.yaml"], "evaluation_interval": "1m",
                                     "tests": cases}, sort_keys=False))
    return subprocess.run([promtool_path(), "test", "rules", str(tests)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)


@pytest.fixture(scope="module")
def rule_spec() -> dict:
    return gm.alert_rules(SPEC)


def test_rules_pass_promtool_check(tmp_path, rule_spec):
    path = tmp_path / "gateway-rules.yaml"
    path.write_text(yaml.safe_dump(rule_spec, sort_keys=False))
    result = subprocess.run([promtool_path(), "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_case(rule_spec):
    rules = _rules(rule_spec)
    assert set(rules) == {"GatewayApiShareAbovePlan", "GatewayProviderErrors", "GatewayRestrictedRouteRefusals"}
    _, fire, quiet = _cases(rules)
    assert fire == quiet == set(rules)
    for rule in rules.values():
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), rule["alert"]


def test_promtool_unit_tests_pass(tmp_path, rule_spec):
    result = _promtool_test(tmp_path, rule_spec)
    assert result.returncode == 0, result.stdout + result.stderr


def test_firing_cases_fail_when_alerts_never_fire(tmp_path, rule_spec):
    silenced = copy.deepcopy(rule_spec)
    for rule in silenced["groups"][0]["rules"]:
        rule["expr"] = "vector(0) > 1"
    result = _promtool_test(tmp_path, silenced)
    assert result.returncode != 0
    for alert in _rules(rule_spec):
        assert alert in result.stdout + result.stderr, alert


def test_api_share_threshold_comes_from_the_spec():
    """The stack's `alertApiShareAbove` when set, else the routes' plan: premium 0.01 on the API, plus half of
    chat's 0.79 (it overflows); support is restricted and counts nothing."""
    assert gm.api_share_alert_threshold(SPEC) == SPEC.gateway.alert_api_share_above == 0.2  # the shipped stack's
    derived = SPEC.model_copy(update={"gateway": SPEC.gateway.model_copy(update={"alert_api_share_above": None})})
    assert gm.api_share_alert_threshold(derived) == pytest.approx(0.01 + 0.79 * gm.OVERFLOW_PLAN_FRACTION)
    tuned = SPEC.model_copy(update={"gateway": SPEC.gateway.model_copy(update={"alert_api_share_above": 0.3})})
    assert gm.api_share_alert_threshold(tuned) == 0.3
    assert "> 0.3" in _rules(gm.alert_rules(tuned))["GatewayApiShareAbovePlan"]["expr"]


def test_no_restricted_route_no_refusal_alert():
    routes = [r.model_copy(update={"data_class": "general"}) for r in SPEC.gateway.routes]
    general = SPEC.model_copy(update={"gateway": SPEC.gateway.model_copy(update={"routes": routes})})
    assert "GatewayRestrictedRouteRefusals" not in _rules(gm.alert_rules(general))
