"""`model pin|rollback --apply --wait`: the rollout followed through watch streams until the pods serve the pin.

`pulumi up` is the Automation API stand-in of tests/cli/test_models.py (no Pulumi engine here); each region's API
server is the loopback stand-in of tests/kube_api.py (no kube-apiserver binary can run here): it answers the
first lists, then plays the scripted `?watch=true` events of the rollout (a new pod becoming ready, the old
ReplicaSet scaled to zero, the old pod deleted, the Deployment's status) or of a stall, and proxies
`/v1/models` and `/metrics` to a stand-in vLLM. The real `kubernetes` client talks to it via a generated
kubeconfig.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.pins import apply
from infra.spec import load_stack_file
from tests import kube_api as k
from tests.builders import project  # noqa: F401  (fixture: the stacks copied to a temporary root)
from tests.kube_api import api  # noqa: F401  (fixture: loopback API servers)
from tests.paths import ROOT

runner = CliRunner()
DEV = load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml")
OLD_REV, OLD_IMAGE = DEV.model.revision, DEV.model.image
NEW_REV = "b" * 40
NEW_IMAGE = OLD_IMAGE.rsplit("@", 1)[0] + "@sha256:" + "e" * 64


class FakeStack:
    def up(self, on_output=None, message=None):
        on_output("Updating (dev) ...")

        class Result:
            class summary:  # noqa: N801 - the Automation API's attribute name
                result = "succeeded"

        return Result()


@pytest.fixture
def pulumi(monkeypatch):
    """`pulumi up` through a stand-in of the Automation API's select_stack (no Pulumi engine here)."""
    from pulumi import automation

    monkeypatch.setattr(apply.shutil, "which", lambda name: "/usr/local/bin/pulumi")
    monkeypatch.setattr(automation, "select_stack", lambda stack_name, work_dir: FakeStack())


def mid_rollout(server: k.FakeApiServer) -> None:
    """Just after `pulumi up`: the template pins the new revision, its first pod is loading, the old pod serves."""
    server.objects["deployments"] = [k.deployment(NEW_REV, NEW_IMAGE, desired=1, ready=1, updated=1, replicas=2,
                                                  observed=1)]
    server.objects["replicasets"] = [k.replicaset("use1-vllm-old", "1", OLD_REV, OLD_IMAGE, 1),
                                     k.replicaset("use1-vllm-new", "2", NEW_REV, NEW_IMAGE, 1)]
    server.objects["pods"] = [k.pod("use1-vllm-old-a", "use1-vllm-old", OLD_REV, OLD_IMAGE),
                              k.pod("use1-vllm-new-a", "use1-vllm-new", NEW_REV, NEW_IMAGE, ready=False)]


def completes(server: k.FakeApiServer) -> None:
    server.events["pods"] = [
        ("MODIFIED", k.pod("use1-vllm-new-a", "use1-vllm-new", NEW_REV, NEW_IMAGE, ready=True)),
        ("MODIFIED", k.pod("use1-vllm-old-a", "use1-vllm-old", OLD_REV, OLD_IMAGE, deleting=True)),
        ("DELETED", k.pod("use1-vllm-old-a", "use1-vllm-old", OLD_REV, OLD_IMAGE, deleting=True)),
    ]
    server.events["replicasets"] = [("MODIFIED", k.replicaset("use1-vllm-old", "1", OLD_REV, OLD_IMAGE, 0))]
    server.events["deployments"] = [("MODIFIED", k.deployment(NEW_REV, NEW_IMAGE, desired=1))]


def pin(tmp_path, server, *extra: str, expect: int):
    config = k.kubeconfig(tmp_path / "kc", {"dev-ctx": server})
    args = ["model", "pin", "dev", "--revision", NEW_REV, "--image", NEW_IMAGE, "--apply", "--wait",
            "--kubeconfig", config, "--timeout", "20", *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == expect, f"exited {result.exit_code}, not {expect}:\n{result.output}"
    return result


def test_wait_follows_the_rollout_through_watches_until_vllm_names_the_model(project, api, tmp_path, pulumi):
    server = api("us-east-1")
    mid_rollout(server)
    completes(server)
    result = pin(tmp_path, server, expect=0)
    assert "pulumi up: succeeded" in result.output
    said = " ".join(result.output.split())  # wrapped to the width (cli/render/width.py)
    assert "us-east-1: rolled out: 1 pod(s) serve llama-3.1-8b-instruct at revision bbbbbbbbbbbb" in said
    for kind in ("deployments", "replicasets", "pods"):
        # one first list, then watches from its resourceVersion: no polling
        assert len(server.calls(kind, watch=False)) == 1, kind
        watches = server.calls(kind, watch=True)
        assert watches and all(q["resourceVersion"] == "100" for q in watches[:1]), (kind, watches)
    assert server.calls("deployments", watch=True)[0]["fieldSelector"] == "metadata.name=use1-vllm"
    # vLLM refused /v1/models (the API server passes no key), so its /metrics named the model
    proxied = [q["path"] for kind, q, _ in server.requests if kind == "proxy"]
    assert proxied == ["/v1/models", "/metrics"]


def test_wait_reads_v1_models_when_vllm_answers_it(project, api, tmp_path, pulumi):
    server = api("us-east-1")
    server.vllm_api_key = False
    mid_rollout(server)
    completes(server)
    pin(tmp_path, server, expect=0)
    assert [q["path"] for kind, q, _ in server.requests if kind == "proxy"] == ["/v1/models"]


def test_wait_fails_when_vllm_serves_another_model(project, api, tmp_path, pulumi):
    server = api("us-east-1")
    server.served_model = "something-else"
    mid_rollout(server)
    completes(server)
    result = pin(tmp_path, server, expect=1)
    assert "us-east-1: every pod runs the pin, but vLLM names something-else, not llama-3.1-8b-instruct" in result.output


def test_vllm_unreachable_through_the_proxy_asks_prometheus_which_scrapes_every_pod(project, api, tmp_path, pulumi):
    """On a real cluster the chart's NetworkPolicy (enforced by the VPC CNI) refuses the API server's proxied request:
    the control plane's ENIs are neither the ALB, Prometheus nor the gateway. Prometheus is admitted and scrapes
    every pod, so --wait reads each ready pod's served model from it, through the API server's proxy to Prometheus
    (before: exit 1 on every real cluster, "the API server could not reach vLLM")."""
    server = api("us-east-1")
    server.vllm_reachable = False
    server.prometheus_models = {"use1-vllm-new-a": server.served_model, "use1-vllm-old-a": "old-model"}
    mid_rollout(server)
    completes(server)
    result = pin(tmp_path, server, expect=0)
    assert "the API server cannot reach vLLM" in result.output and "asking Prometheus" in result.output
    assert "us-east-1: rolled out: 1 pod(s) serve llama-3.1-8b-instruct" in result.output
    query = server.calls("prometheus")[0]["query"]
    assert query == 'group by (pod, model_name) (vllm:generation_tokens_total{namespace="vllm"})'


def test_a_proxied_request_that_times_out_also_asks_prometheus(project, api, tmp_path, pulumi, monkeypatch):
    """The VPC CNI drops the control plane's SYNs, so the API server's dial (30 s) outlasts our request timeout and
    the client sees a read timeout, not the 503 (before: exit 1, no fallback)."""
    from cli.live import kube

    monkeypatch.setattr(kube, "REQUEST_TIMEOUT_SECONDS", 1)
    server = api("us-east-1")
    server.vllm_hangs = 3.0
    server.prometheus_models = {"use1-vllm-new-a": server.served_model}
    mid_rollout(server)
    completes(server)
    result = pin(tmp_path, server, expect=0)
    assert "asking Prometheus" in result.output and "us-east-1: rolled out: 1 pod(s)" in result.output


def test_vllm_unreachable_and_prometheus_names_another_model_or_has_no_series(project, api, tmp_path, pulumi):
    server = api("us-east-1")
    server.vllm_reachable = False
    server.prometheus_models = {"use1-vllm-new-a": "something-else"}
    mid_rollout(server)
    completes(server)
    result = pin(tmp_path, server, expect=1)
    assert ("us-east-1: every pod runs the pin, but Prometheus's scrape of vLLM names something-else on "
            "use1-vllm-new-a, not llama-3.1-8b-instruct") in result.output
    server2 = api("us-east-1")
    server2.vllm_reachable = False
    mid_rollout(server2)
    completes(server2)
    result = pin(tmp_path, server2, "--timeout", "2", expect=1)
    assert "503 error trying to reach service" in result.output and "NetworkPolicy" in result.output
    assert "Prometheus has no 'llama-3.1-8b-instruct' series of pod(s) use1-vllm-new-a" in result.output


def test_a_watch_whose_resource_version_expired_relists_and_goes_on(project, api, tmp_path, pulumi):
    """410 Gone on a watch (its resourceVersion fell out of the API server's window: etcd compaction, a watch cache
    restart, a reconnect after a quiet spell) means "list again and watch from the new list", not a failed rollout
    (before: exit 1 "the Kubernetes API answered 410 Expired")."""
    server = api("us-east-1")
    mid_rollout(server)
    completes(server)
    server.events["pods"] = []  # the pods' news arrives only through the relist
    server.expire_watch["pods"] = [k.pod("use1-vllm-new-a", "use1-vllm-new", NEW_REV, NEW_IMAGE, ready=True)]
    result = pin(tmp_path, server, expect=0)
    assert "us-east-1: rolled out: 1 pod(s) serve llama-3.1-8b-instruct" in result.output
    assert len(server.calls("pods", watch=False)) == 2  # the first list and the relist after the 410
    watches = server.calls("pods", watch=True)
    assert len(watches) >= 2 and watches[1]["resourceVersion"] == "100"  # resumed from the relist's version


def test_a_malformed_watch_event_fails_naming_the_field(project, api, tmp_path, pulumi):
    server = api("us-east-1")
    mid_rollout(server)
    bad = k.pod("use1-vllm-new-a", "use1-vllm-new", NEW_REV, NEW_IMAGE, ready=True)
    bad["spec"]["containers"][0]["args"] = "--revision=" + NEW_REV  # the client's model takes a str as list[str]
    server.events["pods"] = [("MODIFIED", bad)]
    result = pin(tmp_path, server, "--timeout", "5", expect=1)
    assert ("us-east-1: watch pods in vllm: an event is not a Kubernetes object: spec.containers[0].args: not a list "
            "of strings" in result.output), result.output


def test_a_stall_the_controller_has_not_yet_reconsidered_is_not_this_rollouts(project, api, tmp_path, pulumi):
    """Rolling away from a crash-looping pin: until the Deployment controller observes the new generation, the
    Deployment still carries the old rollout's ProgressDeadlineExceeded and its revision annotation still names
    the crash-looping ReplicaSet. Neither is this rollout's verdict (before: exit 1 "rollout stalled" at once)."""
    server = api("us-east-1")
    crashing = ("CrashLoopBackOff", "back-off 5m0s restarting failed container=vllm")
    server.objects["deployments"] = [k.deployment(NEW_REV, NEW_IMAGE, desired=1, ready=0, updated=0, generation=3,
                                                  observed=2, rs_revision="2",
                                                  conditions=k.progress_deadline_exceeded())]
    server.objects["replicasets"] = [k.replicaset("use1-vllm-bad", "2", OLD_REV, OLD_IMAGE, 1)]
    server.objects["pods"] = [k.pod("use1-vllm-bad-a", "use1-vllm-bad", OLD_REV, OLD_IMAGE, waiting=crashing)]
    server.events["replicasets"] = [("ADDED", k.replicaset("use1-vllm-new", "3", NEW_REV, NEW_IMAGE, 1)),
                                    ("MODIFIED", k.replicaset("use1-vllm-bad", "2", OLD_REV, OLD_IMAGE, 0))]
    server.events["pods"] = [("ADDED", k.pod("use1-vllm-new-a", "use1-vllm-new", NEW_REV, NEW_IMAGE, ready=True)),
                             ("DELETED", k.pod("use1-vllm-bad-a", "use1-vllm-bad", OLD_REV, OLD_IMAGE, deleting=True))]
    server.events["deployments"] = [("MODIFIED", k.deployment(NEW_REV, NEW_IMAGE, desired=1, generation=3,
                                                              rs_revision="3"))]
    server.event_gap = 0.2  # the controller's news arrives after the first look
    result = pin(tmp_path, server, expect=0)
    assert "us-east-1: rolled out: 1 pod(s) serve llama-3.1-8b-instruct" in result.output


@pytest.mark.parametrize("reason, message", [
    ("CrashLoopBackOff", "back-off 5m0s restarting failed container=vllm"),
    ("ImagePullBackOff", 'Back-off pulling image "vllm/vllm-openai@sha256:eee"'),
    ("ErrImagePull", "manifest unknown"),
])
def test_a_stalled_pod_stops_the_wait_with_region_pod_and_reason(project, api, tmp_path, pulumi, reason, message):
    server = api("us-east-1")
    mid_rollout(server)
    server.events["pods"] = [("MODIFIED", k.pod("use1-vllm-new-a", "use1-vllm-new", NEW_REV, NEW_IMAGE,
                                                waiting=(reason, message)))]
    result = pin(tmp_path, server, expect=1)
    assert f"us-east-1: rollout stalled: pod use1-vllm-new-a container vllm: {reason}: {message}" in result.output


def test_when_pulumi_up_gives_up_on_a_stalled_deployment_wait_still_names_the_pods_reason(project, api, tmp_path,
                                                                                          monkeypatch):
    """On a real cluster pulumi-kubernetes awaits the Deployment (`pulumi.com/timeoutSeconds`) and fails `pulumi up`
    on a crash loop or an unpullable image, so the watch never starts: --wait then looks once and adds the region,
    the pod and its reason to the failure (before: only pulumi's own error)."""
    from pulumi import automation

    class StalledStack:
        def up(self, on_output=None, message=None):
            raise RuntimeError("resource vllm/use1-vllm was not successfully created by the Kubernetes API server: "
                               "timed out waiting for the condition")

    monkeypatch.setattr(apply.shutil, "which", lambda name: "/usr/local/bin/pulumi")
    monkeypatch.setattr(automation, "select_stack", lambda stack_name, work_dir: StalledStack())
    server = api("us-east-1")
    mid_rollout(server)
    server.objects["pods"][1] = k.pod("use1-vllm-new-a", "use1-vllm-new", NEW_REV, NEW_IMAGE,
                                      waiting=("ImagePullBackOff", 'Back-off pulling image "vllm/vllm-openai@sha256:eee"'))
    result = pin(tmp_path, server, expect=1)
    assert "pulumi up for stack dev failed: resource vllm/use1-vllm was not successfully created" in result.output
    assert ("us-east-1: rollout stalled: pod use1-vllm-new-a container vllm: ImagePullBackOff: Back-off pulling image"
            in result.output), result.output
    assert not server.calls("pods", watch=True)  # one look, no watch


def test_progress_deadline_exceeded_stops_the_wait(project, api, tmp_path, pulumi):
    server = api("us-east-1")
    mid_rollout(server)
    server.objects["pods"][1] = k.pod("use1-vllm-new-a", "use1-vllm-new", NEW_REV, NEW_IMAGE,
                                      waiting=("ContainerCreating", ""))  # listed so: no race between two streams
    server.events["deployments"] = [("MODIFIED", k.deployment(
        NEW_REV, NEW_IMAGE, desired=1, ready=1, updated=1, replicas=2, conditions=k.progress_deadline_exceeded()))]
    result = pin(tmp_path, server, expect=1)
    assert "us-east-1: rollout stalled: progress deadline exceeded" in result.output
    assert "pod use1-vllm-new-a: vllm ContainerCreating" in result.output


def test_a_rollout_that_never_finishes_times_out(project, api, tmp_path, pulumi):
    server = api("us-east-1")
    mid_rollout(server)
    result = pin(tmp_path, server, "--timeout", "1.5", expect=1)
    assert "us-east-1: the rollout did not finish within --timeout 1.5 s (us-east-1: updated 1/1, ready 1/1, old pods 1" \
        in result.output


def test_a_deployment_pulumi_did_not_roll_is_reported(project, api, tmp_path, pulumi):
    server = api("us-east-1")
    mid_rollout(server)
    server.objects["deployments"] = [k.deployment(OLD_REV, OLD_IMAGE)]
    result = pin(tmp_path, server, expect=1)
    assert f"us-east-1: Deployment use1-vllm declares revision {OLD_REV}" in result.output
    assert "`pulumi up` did not roll it" in result.output


def test_rollback_waits_too(project, api, tmp_path, pulumi):
    server = api("us-east-1")
    assert runner.invoke(app, ["model", "pin", "dev", "--revision", NEW_REV, "--image", NEW_IMAGE]).exit_code == 0
    # rolling back to the shipped pin: the roles of old and new swap
    server.objects["deployments"] = [k.deployment(OLD_REV, OLD_IMAGE, desired=1)]
    server.objects["replicasets"] = [k.replicaset("use1-vllm-new", "3", OLD_REV, OLD_IMAGE, 1),
                                     k.replicaset("use1-vllm-old", "2", NEW_REV, NEW_IMAGE, 0)]
    server.objects["deployments"][0]["metadata"]["annotations"][k.DEPLOYMENT_REVISION] = "3"
    server.objects["pods"] = [k.pod("use1-vllm-new-a", "use1-vllm-new", OLD_REV, OLD_IMAGE)]
    config = k.kubeconfig(tmp_path / "kc", {"dev-ctx": server})
    result = runner.invoke(app, ["model", "rollback", "dev", "--apply", "--wait", "--kubeconfig", config, "--timeout", "20"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # wrapped to the width (cli/render/width.py)
    assert "us-east-1: rolled out: 1 pod(s) serve llama-3.1-8b-instruct at revision 0e9e39f249a1" in said


def test_without_kubeconfig_wait_reads_the_clusters_from_the_outputs_after_up(project, api, monkeypatch):
    from pulumi import automation

    server = api("us-east-1")
    mid_rollout(server)
    completes(server)
    calls = []

    class Stack(FakeStack):
        def up(self, on_output=None, message=None):
            calls.append("up")
            return super().up(on_output, message)

        def outputs(self):
            calls.append("outputs")
            return {"kubeconfigs": k.OutputValue({"us-east-1": k.program_kubeconfig(server, "dev-use1")}, secret=True)}

    monkeypatch.setattr(apply.shutil, "which", lambda name: "/usr/local/bin/pulumi")
    monkeypatch.setattr(automation, "select_stack", lambda stack_name, work_dir: Stack())
    result = runner.invoke(app, ["model", "pin", "dev", "--revision", NEW_REV, "--image", NEW_IMAGE, "--apply", "--wait",
                                 "--timeout", "20"])
    assert result.exit_code == 0, result.output
    assert calls == ["up", "outputs"], "the kubeconfigs are read after `pulumi up`"
    assert "(stack dev output kubeconfigs)" in result.output and "us-east-1: rolled out" in result.output


@pytest.mark.parametrize("args, message", [
    (["--wait"], "--wait follows the rollout `pulumi up` starts: give --apply with it"),
    (["--apply", "--wait", "--kubeconfig", "{tmp}/kc", "--context", "nope"], "--context nope: no such context"),
    (["--apply", "--wait", "--timeout", "0"], "--timeout 0: give a number of seconds above 0"),
    (["--apply", "--kubeconfig", "{tmp}/kc"], "--kubeconfig / --context are for --wait"),
], ids=["wait-without-apply", "unknown-context", "zero-timeout", "kubeconfig-without-wait"])
def test_bad_wait_options_exit_2_and_change_nothing(project, api, tmp_path, pulumi, args, message):
    k.kubeconfig(tmp_path / "kc", {"dev-ctx": api("us-east-1")})
    path = project / "stacks" / "Pulumi.dev.yaml"
    before = path.read_bytes()
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = runner.invoke(app, ["model", "pin", "dev", "--revision", NEW_REV, *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert path.read_bytes() == before


def test_a_canary_wait_needs_only_that_regions_context(project, api, tmp_path, pulumi):
    """`--region us-west-2 --wait` on the two-region prod-us: one bare --context names that region's cluster."""
    spec = load_stack_file(project / "stacks" / "Pulumi.prod-us.yaml")
    west = api("us-west-2")
    new_image = spec.model.image.rsplit("@", 1)[0] + "@sha256:" + "e" * 64
    west.objects["deployments"] = [k.deployment(NEW_REV, new_image)]
    west.objects["replicasets"] = [k.replicaset("use1-vllm-new", "2", NEW_REV, new_image, 1)]
    west.objects["pods"] = [k.pod("use1-vllm-new-a", "use1-vllm-new", NEW_REV, new_image)]
    config = k.kubeconfig(tmp_path / "kc", {"other": api("us-east-1"), "west": west})
    result = runner.invoke(app, ["model", "pin", "prod-us", "--region", "us-west-2", "--revision", NEW_REV, "--image",
                                 new_image, "--apply", "--wait", "--kubeconfig", config, "--context", "west",
                                 "--timeout", "20"])
    assert result.exit_code == 0, result.output
    assert "waiting for the rollout in us-west-2" in result.output and "us-east-1" not in result.output.split("pulumi up:")[1]
