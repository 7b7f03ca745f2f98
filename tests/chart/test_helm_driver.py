"""The tests drive helm through one module (`tests/chart_render.py`) and render for one Kubernetes version.

Before, the program tests' invoke answerer and the dcgm-exporter test ran `helm template` without
`--kube-version` (helm's built-in default, 1.32 for helm 3.17) while the chart tests pinned 1.31.
"""

from __future__ import annotations

import ast
import pathlib

import yaml

from infra.spec import KUBERNETES_VERSIONS
from tests import chart_render as cr
from tests import conftest
from tests.paths import TESTS


def probe_chart(folder: pathlib.Path) -> pathlib.Path:
    """A chart whose one ConfigMap says which Kubernetes version helm rendered it for."""
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
    (folder / "templates" / "cm.yaml").write_text(
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: probe}\ndata: {kube: "{{ .Capabilities.KubeVersion.Version }}"}\n')
    return folder


def test_one_kubernetes_version_the_oldest_supported():
    assert cr.KUBE_VERSION == KUBERNETES_VERSIONS[0]


def test_every_way_the_tests_run_helm_template_renders_for_that_version(tmp_path):
    chart = probe_chart(tmp_path / "probe")
    want = f"v{cr.KUBE_VERSION}.0"
    done = cr.helm("template", "probe", str(chart), "--namespace", "default")
    assert done.returncode == 0, done.stderr
    assert next(yaml.safe_load_all(done.stdout))["data"]["kube"] == want
    answered = cr.helm_template({"path": str(chart), "release_name": "probe", "namespace": "default"})
    assert answered[0]["data"]["kube"] == want


def test_an_invoke_naming_its_version_gets_that_version(tmp_path):
    chart = probe_chart(tmp_path / "probe")
    answered = cr.helm_template({"path": str(chart), "release_name": "probe", "namespace": "default", "kube_version": "1.34"})
    assert answered[0]["data"]["kube"] == "v1.34.0"


def test_the_program_tests_use_the_one_driver():
    assert conftest.helm_template is cr.helm_template
    # Read, not imported: a test module never imports another (tests/test_layout.py).
    tree = ast.parse((TESTS / "infra" / "test_components_program.py").read_text())
    sources = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               and any(alias.name == "helm_template" for alias in node.names)}
    assert sources == {"tests.chart_render"}, sources
    defined = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "helm_template"]
    assert not defined, f"test_components_program defines its own helm_template (line {defined})"
