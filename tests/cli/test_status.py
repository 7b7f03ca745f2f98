"""`tradeoff-infra status`: drift, canaries, pending pods, nodes, KEDA and run-rate, read with the real `kubernetes`
client from a loopback stand-in for each region's kube-apiserver (tests/kube_api.py: no apiserver binary can run
here; each server answers the list calls `status` makes with recorded-shape JSON, on 127.0.0.1, started and
stopped by the `api` fixture). The Automation API path (the stack's `kubeconfigs` output) needs the Pulumi engine
and is not exercised: every test gives --kubeconfig."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from cli.main import app
from infra.price_catalog import default_catalog
from infra.spec import load_stack_file
from tests import kube_api as k
from tests.kube_api import api  # noqa: F401  (fixture: loopback API servers)
from tests.builders import project  # noqa: F401  (fixture: the stacks copied to a temporary root)
from tests.paths import ROOT

runner = CliRunner()
DEV = load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml")
PIN_REV, PIN_IMAGE = DEV.model.revision, DEV.model.image
OLD_REV = "a" * 40
OLD_IMAGE = PIN_IMAGE.rsplit("@", 1)[0] + "@sha256:" + "b" * 64


def healthy(server: k.FakeApiServer, revision: str = PIN_REV, image: str = PIN_IMAGE, *, gpu: str = "g6.xlarge",
            capacity: str = "SPOT", pool: str = "l4", system: str = "m6i.large") -> None:
    server.objects["deployments"] = [k.deployment(revision, image)]
    server.objects["replicasets"] = [k.replicaset("use1-vllm-new", "2", revision, image, 1)]
    server.objects["pods"] = [k.pod("use1-vllm-new-a", "use1-vllm-new", revision, image)]
    server.objects["nodes"] = [k.node("gpu-node-1", gpu, capacity, pool),
                               k.node("sys-1", system, "ON_DEMAND"), k.node("sys-2", system, "ON_DEMAND")]
    server.objects["scaledobjects"] = [k.scaled_object(active=True)]
    server.hpas["keda-hpa-use1-vllm"] = k.hpa("keda-hpa-use1-vllm", 1, 2)


def status(*args: str, expect: int):
    result = runner.invoke(app, ["status", *args])
    assert result.exit_code == expect, f"status {' '.join(args)} exited {result.exit_code}, not {expect}:\n{result.output}"
    return result


def test_in_sync_exits_0_with_replicas_nodes_keda_and_run_rate(project, api, tmp_path):
    server = api("us-east-1")
    healthy(server)
    config = k.kubeconfig(tmp_path / "kc", {"dev-ctx": server})
    doc = json.loads(status("dev", "--kubeconfig", config, "--format", "json", expect=0).output)
    [region] = doc["regions"]
    assert doc["inSync"] and region["inSync"] and region["drift"] == []
    assert region["deployment"] | {} == {"name": "use1-vllm", "desired": 1, "ready": 1, "updated": 1, "available": 1,
                                         "revision": PIN_REV, "digest": PIN_IMAGE.rsplit("@", 1)[1]}
    assert region["running"] == {"revisions": {PIN_REV: 1}, "digests": {PIN_IMAGE.rsplit("@", 1)[1]: 1}}
    assert {(g["pool"], g["instanceType"], g["capacityType"], g["nodes"]) for g in region["nodes"]} == {
        ("l4", "g6.xlarge", "spot", 1), ("(system)", "m6i.large", "on-demand", 2)}
    assert region["keda"]["active"] is True and region["keda"]["targetReplicas"] == 2
    catalog = default_catalog()
    expected = (catalog.instance("us-east-1", "g6.xlarge", "spot").usd_per_hour
                + 2 * catalog.instance("us-east-1", "m6i.large", "on-demand").usd_per_hour)
    assert Decimal(str(region["runRateUsdPerHour"])) == round(expected, 4)
    # every call was a plain list (no watch) with the chart's selector, through the bearer token
    assert [q.get("labelSelector") for q in server.calls("pods")] == ["app.kubernetes.io/name=vllm"]
    assert not any(kind == "unauthenticated" for kind, _, _ in server.requests)
    text = status("dev", "--kubeconfig", config, expect=0).output
    assert "us-east-1  in sync" in text and "l4 g6.xlarge spot: 1" in text and "keda       use1-vllm: active, target 2" in text


def test_one_region_on_the_previous_digest_is_drift(project, api, tmp_path):
    east, west = api("us-east-1"), api("us-west-2")
    spec = load_stack_file(project / "stacks" / "Pulumi.prod-us.yaml")
    for server in (east, west):
        healthy(server, spec.model.revision, spec.model.image, gpu="g6e.xlarge", capacity="ON_DEMAND", pool="l40s",
                system="m6i.xlarge")
    # us-west-2's pod was started from the previous image: the kubelet reports that digest
    west.objects["pods"] = [k.pod("use1-vllm-new-a", "use1-vllm-new", spec.model.revision, spec.model.image,
                                  image_id="docker.io/vllm/vllm-openai@sha256:" + "b" * 64)]
    config = k.kubeconfig(tmp_path / "kc", {"east": east, "west": west})
    result = status("prod-us", "--kubeconfig", config, "--context", "us-east-1=east", "--context", "us-west-2=west",
                    "--format", "json", expect=1)
    doc = json.loads(result.output)
    by_region = {r["region"]: r for r in doc["regions"]}
    assert by_region["us-east-1"]["inSync"] and not by_region["us-west-2"]["inSync"] and not doc["inSync"]
    assert by_region["us-west-2"]["drift"] == [
        f"pod use1-vllm-new-a runs image digest sha256:{'b' * 64}, the pin is {spec.model.image.rsplit('@', 1)[1]}"]
    text = status("prod-us", "--kubeconfig", config, "--context", "us-east-1=east", "--context", "us-west-2=west", expect=1)
    assert "us-west-2  DRIFT" in text.output and "us-east-1  in sync" in text.output


def test_revision_drift_in_the_template_and_the_pods(project, api, tmp_path):
    server = api("us-east-1")
    healthy(server, OLD_REV, PIN_IMAGE)
    config = k.kubeconfig(tmp_path / "kc", {"dev-ctx": server})
    doc = json.loads(status("dev", "--kubeconfig", config, "--format", "json", expect=1).output)
    drift = doc["regions"][0]["drift"]
    assert any(f"declares revision {OLD_REV}" in d and "pulumi up" in d for d in drift)
    assert f"pod use1-vllm-new-a runs revision {OLD_REV}, the pin is {PIN_REV}" in drift


def test_a_canary_region_is_checked_against_its_own_pin(project, api, tmp_path):
    canary_rev, canary_image = "c" * 40, PIN_IMAGE.rsplit("@", 1)[0] + "@sha256:" + "c" * 64
    pinned = runner.invoke(app, ["model", "pin", "prod-us", "--region", "us-west-2", "--revision", canary_rev,
                                 "--image", canary_image])
    assert pinned.exit_code == 0, pinned.output
    spec = load_stack_file(project / "stacks" / "Pulumi.prod-us.yaml")
    east, west = api("us-east-1"), api("us-west-2")
    healthy(east, spec.model.revision, spec.model.image, gpu="g6e.xlarge", capacity="ON_DEMAND", pool="l40s")
    healthy(west, canary_rev, canary_image, gpu="g6e.xlarge", capacity="ON_DEMAND", pool="l40s")
    config = k.kubeconfig(tmp_path / "kc", {"east": east, "west": west})
    args = ["prod-us", "--kubeconfig", config, "--context", "us-east-1=east", "--context", "us-west-2=west"]
    doc = json.loads(status(*args, "--format", "json", expect=0).output)
    west_doc = next(r for r in doc["regions"] if r["region"] == "us-west-2")
    assert west_doc["pin"]["follows"] == "own pin" and west_doc["pin"]["revision"] == canary_rev
    # the canary region running the stack-wide pin instead is drift
    healthy(west, spec.model.revision, spec.model.image, gpu="g6e.xlarge", capacity="ON_DEMAND", pool="l40s")
    doc = json.loads(status(*args, "--format", "json", expect=1).output)
    assert [r["region"] for r in doc["regions"] if not r["inSync"]] == ["us-west-2"]


@pytest.mark.parametrize("nodes, pod_kwargs, reason", [
    ([], {"unschedulable": "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."},
     "scaling from zero: no GPU node yet"),
    ([k.node("gpu-node-1", "g6.xlarge", "SPOT", "l4")],
     {"unschedulable": "0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) didn't match Pod's node "
                       "affinity/selector."}, "no GPU capacity: every GPU node is full"),
    ([k.node("gpu-node-1", "g6.xlarge", "SPOT", "l4")],
     {"waiting": ("ContainerCreating", ""), "phase": "Pending"}, "vllm: ContainerCreating"),
], ids=["scaling-from-zero", "no-gpu-capacity", "container-creating"])
def test_pending_pods_say_why(project, api, tmp_path, nodes, pod_kwargs, reason):
    server = api("us-east-1")
    healthy(server)
    server.objects["nodes"] = [*nodes, k.node("sys-1", "m6i.large", "ON_DEMAND")]
    server.objects["pods"].append(k.pod("use1-vllm-new-b", "use1-vllm-new", PIN_REV, PIN_IMAGE, **pod_kwargs))
    config = k.kubeconfig(tmp_path / "kc", {"dev-ctx": server})
    doc = json.loads(status("dev", "--kubeconfig", config, "--format", "json", expect=0).output)
    [pending] = doc["regions"][0]["pending"]
    assert pending["pod"] == "use1-vllm-new-b" and pending["reason"].startswith(reason), pending
    placed = 1 if "unschedulable" in pod_kwargs else 2  # a pod waiting for a node runs nothing yet
    assert doc["regions"][0]["running"]["revisions"] == {PIN_REV: placed}


def test_no_deployment_is_drift(project, api, tmp_path):
    server = api("us-east-1")
    config = k.kubeconfig(tmp_path / "kc", {"dev-ctx": server})
    result = status("dev", "--kubeconfig", config, expect=1)
    assert "no vLLM Deployment in namespace vllm" in result.output


@pytest.mark.parametrize("args, message", [
    (["--kubeconfig", "{tmp}/missing"], "--kubeconfig '{tmp}/missing': cannot read it"),
    (["--kubeconfig", "{tmp}/garbage"], "--kubeconfig '{tmp}/garbage': not a kubeconfig"),
    (["--kubeconfig", "{tmp}/kc", "--context", "dev-cxt"], "--context dev-cxt: no such context in '{tmp}/kc'; "
                                                          "did you mean dev-ctx?"),
    (["--context", "dev-ctx"], "--context needs --kubeconfig"),
], ids=["missing-file", "not-a-kubeconfig", "unknown-context", "context-without-kubeconfig"])
def test_bad_kubeconfig_or_context_exits_2_naming_it(project, api, tmp_path, args, message):
    k.kubeconfig(tmp_path / "kc", {"dev-ctx": api("us-east-1")})
    (tmp_path / "garbage").write_text("just: text\n")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = status("dev", *args, expect=2)
    assert message.replace("{tmp}", str(tmp_path)) in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("given, message", [
    ("nope", "--context nope: no such context in"),
    ("bad\nerror: forgd", "--context bad\\x0aerror: forgd: no such context in"),
    ("us-east-l=bad\nerror: forged", "--context us-east-l=bad\\x0aerror: forged: us-east-l is not a region"),
], ids=["unknown", "hostile-near-name", "hostile-region-pair"])
def test_context_names_in_errors_are_escaped(project, api, tmp_path, given, message):
    """Context names, typed or read from the kubeconfig, were printed raw in `--context` errors: a context named
    `bad<newline>error: forged` (in the file's list, or the near name offered) printed a line the program never
    wrote. Each is shown as every user-given name is (`shown_path`: control characters as escapes)."""
    server = api("us-east-1")
    config = k.kubeconfig(tmp_path / "kc", {"dev-ctx": server, "bad\nerror: forged": server})
    result = status("dev", "--kubeconfig", config, "--context", given, expect=2)
    assert not [line for line in result.output.splitlines() if line.startswith("error: forged")], result.output
    assert message in result.output, result.output
    if "=" not in given:
        assert "(its contexts: dev-ctx, bad\\x0aerror: forged)" in result.output, result.output


@pytest.mark.parametrize("contexts, message", [
    ([], "give --context REGION=CONTEXT for us-east-1, us-west-2"),
    (["east"], "this stack has 2 regions"),
    (["us-east-l=east", "us-west-2=west"], "us-east-l is not a region of this stack; did you mean us-east-1?"),
], ids=["none", "bare-context", "misspelt-region"])
def test_multi_region_stack_needs_a_context_per_region(project, api, tmp_path, contexts, message):
    config = k.kubeconfig(tmp_path / "kc", {"east": api("us-east-1"), "west": api("us-west-2")})
    args = [a for c in contexts for a in ("--context", c)]
    result = status("prod-us", "--kubeconfig", config, *args, expect=2)
    assert message in result.output


def test_an_unreachable_api_server_fails_naming_the_region(project, api, tmp_path):
    server = api("us-east-1")
    config = k.kubeconfig(tmp_path / "kc", {"dev-ctx": server})
    server.stop()
    result = status("dev", "--kubeconfig", config, expect=1)
    assert "us-east-1: list Deployments in vllm: cannot reach the Kubernetes API" in result.output


def test_a_wrong_token_is_reported_with_the_api_answer(project, api, tmp_path):
    config = k.kubeconfig(tmp_path / "kc", {"dev-ctx": api("us-east-1")}, token="stale")
    result = status("dev", "--kubeconfig", config, expect=1)
    assert "us-east-1: list Deployments in vllm: the Kubernetes API answered 401 Unauthorized" in result.output


def test_the_offline_commands_never_import_the_kubernetes_client():
    code = ("import sys, cli.main, cli.commands.estimate, cli.commands.model, cli.commands.status, cli.commands.validate; "
            "bad = sorted(m for m in sys.modules if m == 'kubernetes' or m.startswith('kubernetes.')); "
            "assert not bad, bad")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_keda_without_its_hpa_yet_reports_no_target(project, api, tmp_path):
    server = api("us-east-1")
    healthy(server)
    server.hpas.clear()
    config = k.kubeconfig(tmp_path / "kc", {"dev-ctx": server})
    doc = json.loads(status("dev", "--kubeconfig", config, "--format", "json", expect=0).output)
    keda = doc["regions"][0]["keda"]
    assert keda["active"] is True and keda["targetReplicas"] is None and keda["currentReplicas"] is None


@pytest.fixture
def stack_outputs(monkeypatch):
    """Stand-in for the Automation API's `select_stack(...).outputs()` (the Pulumi engine cannot run here)."""
    from pulumi import automation

    outputs: dict = {}
    selected: list = []

    class Stack:
        def outputs(self):
            return outputs

    def select_stack(stack_name, work_dir):
        selected.append((stack_name, work_dir))
        return Stack()

    monkeypatch.setattr("shutil.which", lambda name: "/usr/local/bin/pulumi")
    monkeypatch.setattr(automation, "select_stack", select_stack)
    return outputs, selected


def test_without_kubeconfig_the_stack_outputs_give_each_region_its_cluster(project, api, tmp_path, stack_outputs):
    outputs, selected = stack_outputs
    spec = load_stack_file(project / "stacks" / "Pulumi.prod-us.yaml")
    east, west = api("us-east-1"), api("us-west-2")
    for server in (east, west):
        healthy(server, spec.model.revision, spec.model.image, gpu="g6e.xlarge", capacity="ON_DEMAND", pool="l40s")
    outputs["kubeconfigs"] = k.OutputValue({"us-east-1": k.program_kubeconfig(east, "prod-us-use1"),
                                          "us-west-2": k.program_kubeconfig(west, "prod-us-usw2")}, secret=True)
    doc = json.loads(status("prod-us", "--format", "json", expect=0).output)
    assert [r["region"] for r in doc["regions"]] == ["us-east-1", "us-west-2"]
    assert selected == [("prod-us", str(project))]
    assert east.calls("pods") and west.calls("pods")


def test_stack_outputs_without_a_region_or_without_kubeconfigs_fail(project, api, stack_outputs):
    outputs, _ = stack_outputs
    result = status("dev", expect=1)
    assert "stack dev has no `kubeconfigs` output (run `pulumi up` first, or give --kubeconfig)" in result.output
    outputs["kubeconfigs"] = k.OutputValue({"eu-west-1": "{}"})
    result = status("dev", expect=1)
    assert "its `kubeconfigs` output has no us-east-1" in result.output
    outputs["kubeconfigs"] = k.OutputValue({"us-east-1": "not json"})
    result = status("dev", expect=1)
    assert "its `kubeconfigs` output for us-east-1 is not a kubeconfig" in result.output


def test_without_the_pulumi_cli_status_asks_for_a_kubeconfig(project, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    result = status("dev", expect=1)
    assert "needs the Pulumi CLI" in result.output and "give --kubeconfig FILE" in result.output


@pytest.mark.parametrize("kind, garbage, named", [
    ("nodes", [{"metadata": {"name": "n1", "labels": "gpu"}}], "list nodes: the API's answer is not a Kubernetes "
                                                               "object: items[0].metadata.labels: not an object of strings"),
    ("nodes", [{"kind": "Node"}], "items[0].metadata.name: missing"),
    ("deployments", [{**k.deployment(PIN_REV, PIN_IMAGE), "status": {"readyReplicas": "1"}}],
     "items[0].status.readyReplicas: not a whole number"),
    ("pods", [{**k.pod("p", "rs", PIN_REV, PIN_IMAGE), "status": {"containerStatuses": {"vllm": {}}}}],
     "items[0].status.containerStatuses: not a list"),
])
def test_a_malformed_api_answer_fails_naming_the_field(project, api, tmp_path, kind, garbage, named):
    """A proxy or API server answering JSON that is not the API's shapes: exit 1 naming the region, the call and the
    field (before: AttributeError/TypeError tracebacks from deep in the report)."""
    server = api("us-east-1")
    healthy(server)
    server.objects[kind] = garbage
    config = k.kubeconfig(tmp_path / "kc", {"dev-ctx": server})
    result = status("dev", "--kubeconfig", config, expect=1)
    assert "us-east-1: " in result.output and named in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("columns", ["80", "100"])
def test_status_text_fits_the_width(project, api, tmp_path, columns):
    """A region on an old digest: its drift lines (the pin and the image against what runs) ran to 150 columns at
    COLUMNS=80; every line now wraps with a hanging indent (`grid.hang`), never through a digest or an amount."""
    server = api("us-east-1")
    healthy(server, image=OLD_IMAGE)
    config = k.kubeconfig(tmp_path / "kc", {"dev-ctx": server})
    result = runner.invoke(app, ["status", "dev", "--kubeconfig", config], env={"COLUMNS": columns})
    assert result.exit_code == 1, result.output
    text = result.stdout
    over = [line for line in text.splitlines() if len(line) > int(columns) and len(line.split()) > 1]
    assert over == [], over
    import re

    assert "DRIFT" in text and re.search(r"^  drift +\S", text, re.M) and "/hour" in text
    assert "sha256:" + "b" * 64 in text  # the digest whole


@pytest.mark.parametrize("text, args, message", [
    ("contexts: [{name: 123}]\n", ["--context", "dev"], "--context dev: no such context in"),
    ("contexts: [{name: dev-ctx}]\ncurrent-context: 7\n", [], "current-context 7 is not a context name"),
], ids=["a-number-named-context", "a-number-current-context"])
def test_a_context_name_that_is_not_text_is_bad_input_not_a_traceback(project, tmp_path, text, args, message):
    """A kubeconfig whose context name (or current-context) is a YAML number reached difflib's near-name search as
    an int: a TypeError traceback. A name that is not text is no context name (exit 2, naming it)."""
    (tmp_path / "kc").write_text(text)
    result = status("dev", "--kubeconfig", str(tmp_path / "kc"), *args, expect=2)
    assert message in result.output and "Traceback" not in result.output, result.output
