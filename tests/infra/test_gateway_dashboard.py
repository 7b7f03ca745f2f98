"""The gateway's Grafana dashboard: shipped next to the gateway, the panels operators need (share served by API
vs self-hosted, API dollars this month against the budget), and only metrics LiteLLM exports."""

from __future__ import annotations

import json

from infra import gateway_monitoring as gm
from infra import gateway_objects
from infra.spec import load_stack_file
from tests.builders import exported_metrics, metric_names
from tests.paths import ROOT

SPEC = load_stack_file(ROOT / "stacks" / "Pulumi.hybrid.yaml")


def _exprs(dashboard: dict) -> list[tuple[str, str]]:
    return [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p["targets"]]


def test_dashboard_alerts_and_scaling_query_only_exported_metrics():
    known = exported_metrics()
    dashboard = gm.dashboard(SPEC, "us-east-1")
    exprs = _exprs(dashboard) + [(r["alert"], r["expr"]) for r in gm.alert_rules(SPEC)["groups"][0]["rules"]]
    assert all(name.startswith("litellm_") for _, expr in exprs for name in metric_names(expr))
    exprs.append(("scaling", gateway_objects.cpu_query()))
    unknown = {(title, name) for title, expr in exprs for name in metric_names(expr) if name not in known}
    assert not unknown, unknown


def test_dashboard_has_the_split_and_this_months_api_dollars():
    dashboard = json.loads(gm.dashboard_json(SPEC, "us-east-1"))
    panels = {p["title"]: p for p in dashboard["panels"]}
    split = panels["Share served by API vs self-hosted"]
    legends = {t["legendFormat"] for t in split["targets"]}
    assert legends == {"API", "self-hosted"}
    assert all('api_provider' in t["expr"] for t in split["targets"])
    dollars = panels["API dollars this month"]
    assert dollars["timeFrom"] == "now/M", "this month so far, whatever range the dashboard shows"
    (target,) = dollars["targets"]
    assert metric_names(target["expr"]) == {gm.SPEND} and "$__range" in target["expr"]
    steps = dollars["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps[-1] == {"color": "red", "value": SPEC.gateway.api_budget_monthly_usd}
    share = panels["API share over the last day (alert above plan)"]
    assert share["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"] == gm.api_share_alert_threshold(SPEC)
    assert all('namespace="gateway"' in expr for _, expr in _exprs(dashboard))


def test_dashboard_uid_differs_per_region_and_fits_grafana():
    uids = {gm.dashboard(SPEC, r.region)["uid"] for r in SPEC.regions}
    assert len(uids) == len(SPEC.regions) and all(len(u) <= 40 for u in uids)


def test_program_ships_the_dashboard_where_grafana_loads_it(inventory_of):
    inv = inventory_of("hybrid")
    maps = [r for r in inv.resources if r.type == "kubernetes:core/v1:ConfigMap"
            and r.inputs["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
            and r.inputs["metadata"]["namespace"] == "gateway"]
    assert {r.region for r in maps} == {r.region for r in inv.spec.regions}
    for config_map in maps:
        (text,) = config_map.inputs["data"].values()
        assert json.loads(text)["uid"] == gm.dashboard(inv.spec, config_map.region)["uid"]
