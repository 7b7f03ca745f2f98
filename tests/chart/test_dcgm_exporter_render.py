"""dcgm-exporter's container must not add SYS_ADMIN, asserted on a manifest rendered by the real helm.

Helm merges maps: values the program passes are coalesced into the chart's defaults, so a key the
program leaves out keeps the chart's value. The upstream chart's default container securityContext adds
SYS_ADMIN, so leaving `capabilities.add` out of the values does not remove it. The chart cannot be
downloaded here (no network), so `tests/data/dcgm-exporter-standin` carries the pinned version's default
securityContext (docs/sources.md "dcgm-exporter chart defaults") and a template that renders it.
"""

from __future__ import annotations

import copy

import yaml

from infra.components import monitoring
from tests.chart_render import helm
from tests.paths import DATA

STANDIN = DATA / "dcgm-exporter-standin"


def _exporter_security_context(values: dict | None) -> dict:
    done = helm("template", "dcgm-exporter", str(STANDIN), "--namespace", monitoring.NAMESPACE, values=values)
    assert done.returncode == 0, done.stderr
    docs = [d for d in yaml.safe_load_all(done.stdout) if d]
    (daemonset,) = [d for d in docs if d["kind"] == "DaemonSet"]
    (exporter,) = [c for c in daemonset["spec"]["template"]["spec"]["containers"] if c["name"] == "exporter"]
    return exporter["securityContext"]


def test_standin_is_the_pinned_chart_version():
    """A new pin must come with the new version's defaults re-read into the stand-in."""
    chart = yaml.safe_load((STANDIN / "Chart.yaml").read_text())
    assert (chart["name"], chart["version"]) == (monitoring.DCGM_EXPORTER_CHART.chart, monitoring.DCGM_EXPORTER_CHART.version)


def test_chart_default_adds_sys_admin():
    """The pinned chart's own default (what a release without values gets) adds SYS_ADMIN as root."""
    context = _exporter_security_context(None)
    assert "SYS_ADMIN" in context["capabilities"]["add"] and context["runAsUser"] == 0, context


def test_rendered_exporter_adds_no_capability():
    context = _exporter_security_context(monitoring.dcgm_exporter_values())
    assert context["capabilities"].get("add", []) == [], context
    assert context["capabilities"]["drop"] == ["ALL"], context
    assert context["runAsNonRoot"] is True and context["runAsUser"] == monitoring.DCGM_EXPORTER_UID, context
    assert context["allowPrivilegeEscalation"] is False, context


def test_leaving_add_out_keeps_the_chart_default():
    """Why `add: []` is set: values that only `drop` (the program's values before this fix) keep SYS_ADMIN."""
    values = copy.deepcopy(monitoring.dcgm_exporter_values())
    values["securityContext"]["capabilities"].pop("add", None)
    assert values["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    context = _exporter_security_context(values)
    assert "SYS_ADMIN" in context["capabilities"]["add"], context


def test_program_release_renders_no_sys_admin(inventory_of):
    """The values the program really passes to the dcgm-exporter Release (recorded under mocks), rendered."""
    releases = [r for r in inventory_of("prod-us").resources
                if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs.get("chart") == "dcgm-exporter"]
    assert releases
    for release in releases:
        assert release.inputs["version"] == monitoring.DCGM_EXPORTER_CHART.version, release.urn
        context = _exporter_security_context(release.inputs["values"])
        assert context["capabilities"].get("add", []) == [] and context["capabilities"]["drop"] == ["ALL"], release.urn
