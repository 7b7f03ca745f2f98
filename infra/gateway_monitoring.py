"""The hybrid gateway's monitoring, from the stack spec (pure, no Pulumi): alert rules and dashboard.

LiteLLM's proxy exports Prometheus metrics on `/metrics` (its `prometheus` callback, docs.litellm.ai
"Prometheus metrics"); the gateway component scrapes them with a ServiceMonitor and ships these rules (a
PrometheusRule) and this dashboard (a ConfigMap Grafana's sidecar loads). Every metric here is in
`tests/data/exported_metrics.json` (exporter `litellm`, with its source), and every alert has a promtool case
that fires and one that stays quiet (`tests/infra/test_gateway_alerts.py`).

Shares are shares of *requests*, like `gateway.routes[].share`: a request answered by a deployment whose
`api_provider` is not the self-hosted one counts as served by an API.
"""

from __future__ import annotations

import json
import re
from typing import Any

from infra.conventions import GATEWAY_NAMESPACE
from infra.gateway_config import (
    METRIC_DEPLOYMENT_FAILURE, METRIC_DEPLOYMENT_SUCCESS, METRIC_DEPLOYMENT_TOTAL, METRIC_PROXY_FAILED, METRIC_SPEND,
    SELF_HOSTED_PROVIDER,
)
from infra.spec.models import SELF_HOSTED, StackSpec

# LiteLLM's metric names and the self-hosted provider label have one home, infra/gateway_config.py (checked there
# against the pinned proxy's /metrics by tests/gateway); the short names below are this module's aliases.
DEPLOYMENT_SUCCESS = METRIC_DEPLOYMENT_SUCCESS
DEPLOYMENT_FAILURE = METRIC_DEPLOYMENT_FAILURE
DEPLOYMENT_TOTAL = METRIC_DEPLOYMENT_TOTAL
PROXY_FAILED = METRIC_PROXY_FAILED
SPEND = METRIC_SPEND

ALERT_GROUP = "tradeoff-infra.gateway"
API_SHARE_WINDOW = "1d"
"""The API share is compared with the plan over a day: overflow at an evening peak is the plan, a day of it
is not."""
API_SHARE_FOR = "30m"
OVERFLOW_PLAN_FRACTION = 0.5
"""Default plan: at most half of an overflow route's requests overflow over a day (a fleet that sends more
than half its route to the API is sized for less than the average, or down)."""
PROVIDER_ERROR_RATIO = 0.05
"""Provider errors: more than 5% of a provider's calls failing for 10 minutes (our choice: a provider
outage, a revoked key or a rate limit, not a stray 5xx)."""
PROVIDER_ERROR_WINDOW = "10m"
REFUSAL_WINDOW = "5m"
RUNBOOK = "docs/operations.md#the-gateway"
"""Where each alert's `runbook` annotation points, with the alert's name and first action (like the vLLM chart's)."""

DASHBOARD_UID_PREFIX = "gateway-"
DASHBOARD_LABEL = {"grafana_dashboard": "1"}
"""The label kube-prometheus-stack's Grafana sidecar loads dashboards by (`infra/components/monitoring.py`)."""


def api_share_alert_threshold(spec: StackSpec) -> float:
    """The share of requests answered by API offers over a day above which "API share above plan" fires.

    `gateway.alertApiShareAbove` when set (the estimate's `hybrid.apiShare` plus a margin); else the routes'
    plan, taken conservatively: routes served by an API count whole, routes with `overflowTo` count for
    OVERFLOW_PLAN_FRACTION of their share, routes with only `fallbackTo` for `expectedUnavailability` of it."""
    gateway = spec.gateway
    if gateway is None:
        raise ValueError("the stack has no gateway block")
    if gateway.alert_api_share_above is not None:
        return gateway.alert_api_share_above
    planned = 0.0
    for route in gateway.routes:
        if route.served_by != SELF_HOSTED:
            planned += route.share
        elif route.overflow_to:
            planned += route.share * OVERFLOW_PLAN_FRACTION
        elif route.fallback_to:
            planned += route.share * gateway.expected_unavailability
    return round(min(planned, 1.0), 4)


def restricted_routes(spec: StackSpec) -> list[str]:
    """Names of the routes whose data never leaves the self-hosted fleet."""
    return [r.name for r in spec.gateway.routes if r.data_class == "restricted"] if spec.gateway else []


def _selector(**matchers: str) -> str:
    """`{namespace="gateway", ...}`: every gateway query is scoped to the gateway's namespace."""
    parts = [f'namespace="{GATEWAY_NAMESPACE}"']
    for label, matcher in matchers.items():
        parts.append(f"{label}{matcher}")
    return "{" + ", ".join(parts) + "}"


def _api() -> str:
    """Matcher: answered by an API offer (any provider but the self-hosted one)."""
    return f'!="{SELF_HOSTED_PROVIDER}"'


def _hosted() -> str:
    return f'="{SELF_HOSTED_PROVIDER}"'


def api_share_expr(window: str) -> str:
    """Share of successful requests answered by API offers over `window` (NaN, so no alert, without traffic)."""
    return (f"sum(increase({DEPLOYMENT_SUCCESS}{_selector(api_provider=_api())}[{window}]))\n"
            f"  / sum(increase({DEPLOYMENT_SUCCESS}{_selector()}[{window}]))")


def alert_rules(spec: StackSpec) -> dict[str, Any]:
    """The PrometheusRule `spec` for one region's gateway."""
    threshold = api_share_alert_threshold(spec)
    budget = spec.gateway.api_budget_monthly_usd
    rules: list[dict[str, Any]] = [
        {
            "alert": "GatewayApiShareAbovePlan",
            "expr": f"({api_share_expr(API_SHARE_WINDOW)})\n  > {threshold}",
            "for": API_SHARE_FOR,
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": "The gateway sends more requests to API offers than planned (cost runaway)",
                "description": (f"{{{{ $value | humanizePercentage }}}} of the last day's requests were answered by "
                                f"API offers; the plan is at most {threshold:.0%}. The self-hosted fleet is down, "
                                "saturated or scaled below the plan; API spend grows with every request"
                                + (f" (monthly API budget ${budget:,.0f})." if budget else ".")),
                "runbook": f"{RUNBOOK} (GatewayApiShareAbovePlan): check the vLLM pods and the fleet's replicas against maxReplicas; a fleet that is down sends fallback routes to the API, one at its cap sends overflow",
            },
        },
        {
            "alert": "GatewayProviderErrors",
            "expr": (f"sum by (api_provider) (rate({DEPLOYMENT_FAILURE}{_selector(api_provider=_api())}"
                     f"[{PROVIDER_ERROR_WINDOW}]))\n"
                     f"  / sum by (api_provider) (rate({DEPLOYMENT_TOTAL}{_selector(api_provider=_api())}"
                     f"[{PROVIDER_ERROR_WINDOW}]))\n  > {PROVIDER_ERROR_RATIO}"),
            "for": PROVIDER_ERROR_WINDOW,
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": "An API provider fails the gateway's calls",
                "description": (f"{{{{ $value | humanizePercentage }}}} of the gateway's calls to {{{{ $labels.api_provider }}}} "
                                f"failed over {PROVIDER_ERROR_WINDOW} (more than {PROVIDER_ERROR_RATIO:.0%}): an outage, "
                                "a revoked key, a rate limit or the monthly API budget spent. Overflow and fallback "
                                "to it fail with it."),
                "runbook": f"{RUNBOOK} (GatewayProviderErrors): check the provider's status, the key in providerApiKeys and the month's API spend against apiBudgetMonthlyUsd",
            },
        },
    ]
    restricted = restricted_routes(spec)
    if restricted:
        # A regex in a PromQL string: its backslashes are escaped once more for the string literal.
        names = "=~\"" + "|".join(re.escape(n).replace("\\", "\\\\") for n in restricted) + "\""
        rules.append({
            "alert": "GatewayRestrictedRouteRefusals",
            "expr": (f"sum by (requested_model) (increase({PROXY_FAILED}{_selector(requested_model=names)}"
                     f"[{REFUSAL_WINDOW}])) > 0"),
            "for": REFUSAL_WINDOW,
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": "A restricted route refuses requests (it fails closed)",
                "description": (f"Requests to restricted route {{{{ $labels.requested_model }}}} failed within {REFUSAL_WINDOW}: "
                                "its data never leaves the self-hosted fleet, so with the "
                                "fleet down or saturated these requests are refused, not sent to an API."),
                "runbook": f"{RUNBOOK} (GatewayRestrictedRouteRefusals): bring the self-hosted fleet back (pods, nodes, rollout); restricted requests have no other place to go",
            },
        })
    return {"groups": [{"name": ALERT_GROUP, "rules": rules}]}


def _panel(panel_id: int, title: str, kind: str, grid: tuple[int, int, int, int], targets: list[tuple[str, str]],
           **extra: Any) -> dict[str, Any]:
    x, y, w, h = grid
    return {
        "id": panel_id, "title": title, "type": kind, "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "targets": [{"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend}
                    for i, (expr, legend) in enumerate(targets)],
        **extra,
    }


def dashboard(spec: StackSpec, region: str) -> dict[str, Any]:
    """Grafana dashboard JSON for one region's gateway: who serves the requests, what the API costs this month."""
    budget = spec.gateway.api_budget_monthly_usd
    success = DEPLOYMENT_SUCCESS
    spend_steps = [{"color": "green", "value": None}]
    if budget:
        spend_steps += [{"color": "orange", "value": round(budget * 0.8, 2)}, {"color": "red", "value": budget}]
    panels = [
        _panel(1, "Share served by API vs self-hosted", "timeseries", (0, 0, 12, 8), [
            (f"sum(rate({success}{_selector(api_provider=_hosted())}[5m])) / "
             f"sum(rate({success}{_selector()}[5m]))", "self-hosted"),
            (f"sum(rate({success}{_selector(api_provider=_api())}[5m])) / sum(rate({success}{_selector()}[5m]))",
             "API"),
        ], fieldConfig={"defaults": {"unit": "percentunit", "min": 0, "max": 1,
                                     "custom": {"stacking": {"mode": "normal"}, "fillOpacity": 60}}}),
        _panel(2, "API dollars this month", "stat", (12, 0, 6, 8), [
            (f"sum(increase({SPEND}{_selector()}[$__range]))", "API spend"),
        ], timeFrom="now/M", fieldConfig={"defaults": {"unit": "currencyUSD", "decimals": 0,
                                                        "thresholds": {"mode": "absolute", "steps": spend_steps}}}),
        _panel(3, "API share over the last day (alert above plan)", "stat", (18, 0, 6, 8), [
            (api_share_expr(API_SHARE_WINDOW), "API share"),
        ], fieldConfig={"defaults": {"unit": "percentunit", "thresholds": {"mode": "absolute", "steps": [
            {"color": "green", "value": None}, {"color": "red", "value": api_share_alert_threshold(spec)}]}}}),
        _panel(4, "Requests by route and backend", "timeseries", (0, 8, 12, 8), [
            (f"sum by (requested_model, api_provider) (rate({success}{_selector()}[5m]))",
             "{{requested_model}} via {{api_provider}}"),
        ], fieldConfig={"defaults": {"unit": "reqps"}}),
        _panel(5, "Failed calls by backend", "timeseries", (12, 8, 12, 8), [
            (f"sum by (api_provider, exception_status) (rate({DEPLOYMENT_FAILURE}{_selector()}[5m]))",
             "{{api_provider}} {{exception_status}}"),
            (f"sum by (requested_model) (rate({PROXY_FAILED}{_selector()}[5m]))", "refused: {{requested_model}}"),
        ], fieldConfig={"defaults": {"unit": "reqps"}}),
    ]
    return {
        "uid": f"{DASHBOARD_UID_PREFIX}{region}"[:40],
        "title": f"Gateway: API vs self-hosted ({region})",
        "tags": ["tradeoff-infra", "gateway"],
        "timezone": "utc",
        "schemaVersion": 39,
        "time": {"from": "now-24h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus",
                                 "label": "Prometheus"}]},
        "panels": panels,
    }


def dashboard_json(spec: StackSpec, region: str) -> str:
    return json.dumps(dashboard(spec, region), indent=1, sort_keys=True)
