"""The vLLM chart as helm renders it: lint, Kubernetes 1.31-1.35 schemas, CRD schemas, refused values, security.

Values come from `infra.chart_values.vllm_values` for every shipped stack and region (see
tests/chart_render.py). Core objects are checked with kubernetes-validate (strict: unknown fields
fail); its "no schema" outcome, which its CLI only prints as a WARN, is a failure here, and any
Python warning raised while validating fails too. KEDA and Prometheus Operator objects go to
tools/validate_crds.mjs in one node call.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import shutil
import subprocess
import warnings

import jsonschema
import kubernetes_validate
import yaml
import pytest
from kubernetes_validate.utils import all_versions

from infra import chart_values, hardware
from infra.spec import KUBERNETES_VERSIONS
from tests import chart_render as cr
from tests.tools import node_modules_dir, node_path

CASES = cr.cases()
CASE_IDS = [c[0] for c in CASES]
# CRD kinds @kubernetes-models packages describe (tools/validate_crds.mjs) ...
MODEL_KINDS = {"ScaledObject", "TriggerAuthentication", "ServiceMonitor", "PodMonitor", "PrometheusRule"}
# ... and the one no npm package describes: checked against its CRD's schema from the pinned controller chart.
CRD_KINDS = MODEL_KINDS | {"TargetGroupBinding"}


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return {case_id: cr.render(values) for case_id, _, _, values in CASES}


def _case(case_id: str):
    return next(c for c in CASES if c[0] == case_id)


# ---------------------------------------------------------------- lint and schemas


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_helm_lint_strict(case_id):
    _, _, _, values = _case(case_id)
    result = cr.helm("lint", "--strict", str(cr.CHART), "--namespace", cr.NAMESPACE, values=values)
    assert result.returncode == 0, f"{case_id}: helm lint --strict failed:\n{result.stdout}{result.stderr}"
    assert "[WARNING]" not in result.stdout and "[ERROR]" not in result.stdout, f"{case_id}: {result.stdout}"


def test_every_case_renders_the_expected_kinds(rendered):
    for case_id, objects in rendered.items():
        kinds = sorted(o["kind"] for o in objects)
        expected = ["ConfigMap", "Deployment", "NetworkPolicy", "PodDisruptionBudget", "PrometheusRule",
                    "ScaledObject", "Service", "ServiceMonitor", "TargetGroupBinding"]
        if case_id.endswith("scale-to-zero"):
            expected = sorted([*expected, "TriggerAuthentication"])
        if _case(case_id)[3]["weightsMirror"]["enabled"]:
            expected = sorted([*expected, "ConfigMap", "Job", "ServiceAccount", "ServiceAccount"])
        assert kinds == expected, f"{case_id}: rendered kinds {kinds}"


@pytest.mark.parametrize("kube_version", KUBERNETES_VERSIONS)
def test_core_objects_validate_strict_on_every_supported_kubernetes(rendered, caplog, kube_version):
    assert any(v.startswith(kube_version + ".") for v in all_versions()), f"kubernetes-validate has no {kube_version} schemas"
    problems = []
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        for case_id, objects in rendered.items():
            for obj in objects:
                if obj["kind"] in CRD_KINDS:
                    continue
                where = f"{case_id}: {obj['kind']}/{obj['metadata']['name']}"
                try:
                    kubernetes_validate.validate(obj, kube_version, strict=True)
                except kubernetes_validate.ValidationError as err:
                    problems.append(f"{where}: {'.'.join(map(str, err.path))}: {err.message}")
                except kubernetes_validate.SchemaNotFoundError as err:
                    problems.append(f"{where}: no schema (kubernetes-validate would only warn): {err.message}")
    problems += [f"Python warning while validating: {w.message}" for w in caught]
    problems += [f"log warning while validating: {r.getMessage()}" for r in caplog.records]
    assert not problems, "\n".join(problems)


def test_crd_objects_validate_with_kubernetes_models(rendered):
    batch = []
    for case_id, objects in rendered.items():
        for obj in objects:
            if obj["kind"] in MODEL_KINDS:
                labelled = copy.deepcopy(obj)
                labelled["metadata"]["name"] = f"{case_id}.{obj['metadata']['name']}"
                batch.append(labelled)
    assert {o["kind"] for o in batch} == {"ScaledObject", "TriggerAuthentication", "ServiceMonitor", "PrometheusRule"}
    result = subprocess.run(
        [node_path(), str(cr.ROOT / "tools" / "validate_crds.mjs"), str(node_modules_dir())],
        input="\n".join(json.dumps(o) for o in batch), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, f"CRD validation failed:\n{result.stdout}{result.stderr}"
    assert f"{len(batch)} valid, 0 invalid" in result.stdout


def test_crd_validator_catches_bad_objects(rendered):
    """Misspelt fields (which the CRD schemas alone let through) and wrong types are reported, one node call."""
    original = cr.one(rendered[CASE_IDS[0]], "ScaledObject")
    misspelt, wrong_type, nested = (copy.deepcopy(original) for _ in range(3))
    misspelt["spec"]["fallbak"] = misspelt["spec"].pop("fallback")
    wrong_type["spec"]["minReplicaCount"] = "1"
    nested["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behaviour"] = {}
    for name, obj in (("misspelt", misspelt), ("wrong-type", wrong_type), ("nested", nested)):
        obj["metadata"]["name"] = name
    result = subprocess.run(
        [node_path(), str(cr.ROOT / "tools" / "validate_crds.mjs"), str(node_modules_dir())],
        input=json.dumps([misspelt, wrong_type, nested]), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 valid, 3 invalid" in result.stdout, result.stdout
    assert "data.spec.fallbak is not a field" in result.stdout
    assert "minReplicaCount must be integer" in result.stdout
    assert "horizontalPodAutoscalerConfig.behaviour is not a field" in result.stdout


def test_crd_validator_refuses_unusable_input():
    for stdin, message in (("not json", "not JSON"), ('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}',
                                                     "no schema for v1/Pod")):
        result = subprocess.run(
            [node_path(), str(cr.ROOT / "tools" / "validate_crds.mjs"), str(node_modules_dir())],
            input=stdin, capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 2 and message in result.stderr, (stdin, result.stderr)


# ---------------------------------------------------------------- values the schema refuses


def _mutated(path: str, value) -> dict:
    values = copy.deepcopy(CASES[0][3])
    node = values
    *parents, leaf = path.split(".")
    for key in parents:
        node = node[key]
    if value is _DELETE:
        del node[leaf]
    else:
        node[leaf] = value
    return values


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "mentions"),
    [
        ("model.revision", "0e9e39f", "revision"),
        ("model.revision", "main", "revision"),
        ("image.digest", "", "digest"),
        ("image.digest", _DELETE, "digest"),
        ("image.tag", "latest", "tag"),
        ("image.pullPolicy", "Always", "pullPolicy"),
        ("model.name", _DELETE, "name"),
        ("model.source", "not a repo", "source"),
        ("model.dtype", "int8", "dtype"),
        ("model.quantization", "int4", "quantization"),
        ("model.tensorParallel", 3, "tensorParallel"),
        ("service.port", 70000, "port"),
        ("service.nodePort", 30080, "nodePort"),
        ("targetGroupBinding.targetType", "instance", "targetType"),
        ("targetGroupBinding.targetGroupArn", "arn:aws:lb:us-east-1:123456789012:use1-lb-tg", "targetGroupArn"),
        ("targetGroupBinding.vpcId", "default", "vpcId"),
        ("networkPolicy.loadBalancerCidrs", ["10.0.0.0/33x"], "loadBalancerCidrs"),
        ("networkPolicy.gateway.podLabels", {"tradeoff-infra.io/vllm-client": 1}, "podLabels"),
        ("autoscaling.maxReplicas", 0, "maxReplicas"),
        ("autoscaling.targetKvCacheUsage", 1.5, "targetKvCacheUsage"),
        ("autoscaling.kvCacheMetric", "vllm:cache", "kvCacheMetric"),
        ("autoscaling.minReplicas", 0, "enabled"),
        ("monitoring.dashboard.gpuHourlyPriceUsd", 0, "gpuHourlyPriceUsd"),
        ("probes.startup.failureThreshold", 0, "failureThreshold"),
        ("resources.requests.memory", "lots", "memory"),
        ("modle", {}, "modle"),
    ],
)
def test_schema_refuses_bad_values(path, value, mentions):
    values = _mutated(path, value) if "." in path else {**CASES[0][3], path: value}
    error = cr.render_error(values)
    assert error, f"helm template accepted {path}={value!r}"
    assert mentions in error, f"{path}={value!r}: error does not name the key:\n{error}"


def test_scale_to_zero_without_load_balancer_dimensions_is_refused():
    values = copy.deepcopy(CASES[-1][3])
    values["autoscaling"]["scaleToZero"]["targetGroupArnSuffix"] = ""
    error = cr.render_error(values)
    assert "targetGroupArnSuffix" in error, error


def test_chart_values_refuses_scale_to_zero_without_arn_suffixes():
    spec = cr.scale_to_zero_stack()
    with pytest.raises(ValueError, match="load_balancer_arn_suffix"):
        chart_values.vllm_values(spec, spec.regions[0], prometheus_url=cr.PROMETHEUS_URL, gpu_hourly_price_usd=1.0)


# ---------------------------------------------------------------- what the objects say


def _containers(objects):
    for obj in objects:
        pod = obj["spec"]["template"]["spec"] if obj["kind"] in ("Deployment", "Job") else obj["spec"] if obj["kind"] == "Pod" else None
        if pod is not None:
            for container in pod.get("initContainers", []) + pod["containers"]:
                yield obj, pod, container


def test_security_context_of_every_container(rendered):
    for case_id, objects in rendered.items():
        seen = 0
        for obj, pod, container in _containers(objects):
            where = f"{case_id}: {obj['kind']}/{obj['metadata']['name']} container {container['name']}"
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["privileged"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            assert "add" not in sc["capabilities"], where
            assert sc["seccompProfile"]["type"] == "RuntimeDefault", where
            assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
            assert pod["automountServiceAccountToken"] is False, where
            assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC"), where
            assert "@sha256:" in container["image"] and not container["image"].split("@")[0].endswith(":latest"), where
            assert container["imagePullPolicy"] == "IfNotPresent", where
            seen += 1
        # the server; with the weights mirror also its init container (wait) and the fill Job's container
        expected = 3 if _case(case_id)[3]["weightsMirror"]["enabled"] else 1
        assert seen == expected, f"{case_id}: expected {expected} containers, saw {seen}"


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_deployment_runs_the_pinned_model_on_the_gpu_pools(rendered, case_id):
    _, spec, region, values = _case(case_id)
    source, revision, image = spec.model_for(region)
    deployment = cr.one(rendered[case_id], "Deployment")
    where = f"{case_id}: Deployment/{deployment['metadata']['name']}"
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == image, where
    args = container["args"]
    tp = spec.model.tensor_parallel
    mirror = values["weightsMirror"]
    loads = ((f"--model=s3://{mirror['bucket']}/{source}/{revision}", "--load-format=runai_streamer") if mirror["enabled"]
             else (f"--model={source}", f"--revision={revision}"))
    for expected in (*loads, f"--served-model-name={spec.model.name}",
                     f"--tensor-parallel-size={tp}", f"--max-model-len={spec.model.max_model_len}",
                     f"--dtype={spec.model.dtype}", "--port=8000"):
        assert expected in args, f"{where}: {expected} missing from {args}"
    assert any(a.startswith("--gpu-memory-utilization=") for a in args), where
    quantization = [a for a in args if a.startswith("--quantization")]  # only where the stack sets it (hybrid: fp8)
    assert quantization == ([f"--quantization={spec.model.quantization}"] if spec.model.quantization else []), where
    env = {e["name"]: e for e in container["env"]}
    assert env["VLLM_API_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": chart_values.API_KEY_SECRET_NAME, "key": chart_values.API_KEY_SECRET_KEY}, where
    assert env["HF_HOME"]["value"].startswith(values["cache"]["mountPath"]), where
    assert ("HF_TOKEN" in env) == case_id.endswith("scale-to-zero"), where
    resources = container["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == tp and resources["requests"]["nvidia.com/gpu"] == tp, where
    assert pod["nodeSelector"] == {"tradeoff-infra.io/workload": "llm-inference"}, where
    assert {"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"} in pod["tolerations"], where
    term = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
    assert term["matchExpressions"] == [{"key": "tradeoff-infra.io/gpu-pool", "operator": "In",
                                         "values": [p.name for p in region.gpu_pools]}], where
    spread = pod["topologySpreadConstraints"][0]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone" and spread["whenUnsatisfiable"] == "ScheduleAnyway", where
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health", f"{where}: {probe}"
    assert "replicas" not in deployment["spec"], f"{where}: KEDA owns the replica count"
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate",
                                              "rollingUpdate": chart_values.rolling_update(spec, region)}, where
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["dshm"]["emptyDir"]["medium"] == "Memory", where
    assert volumes["model-cache"]["emptyDir"]["sizeLimit"] == values["cache"]["sizeLimit"], where
    assert pod["terminationGracePeriodSeconds"] > container["lifecycle"]["preStop"]["sleep"]["seconds"], where


def test_replicas_are_set_when_autoscaling_is_off():
    values = copy.deepcopy(CASES[0][3])
    values["autoscaling"]["enabled"] = False
    values["replicaCount"] = 2
    objects = cr.render(values)
    assert cr.one(objects, "Deployment")["spec"]["replicas"] == 2
    assert not cr.by_kind(objects, "ScaledObject")


def test_quantization_flag_only_when_set():
    values = copy.deepcopy(CASES[0][3])
    values["model"]["quantization"] = "awq"
    args = cr.one(cr.render(values), "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--quantization=awq" in args


def test_startup_budget_grows_with_model_size(rendered):
    budgets = {}
    for case_id, spec, _, _ in CASES:
        probe = cr.one(rendered[case_id], "Deployment")["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
        budgets[case_id] = (spec.weight_bytes(), probe["periodSeconds"] * probe["failureThreshold"])
    for case_id, (_, seconds) in budgets.items():
        assert seconds >= 600, f"{case_id}: startup budget {seconds}s is under 10 minutes"
    small = max(s for w, s in budgets.values() if w < 20e9)
    large = min(s for w, s in budgets.values() if w > 100e9)
    assert large > 2 * small, f"a 70B model gets {large}s, an 8B {small}s"


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_requests_fit_the_smallest_gpu_node(case_id):
    _, spec, region, values = _case(case_id)
    cpu = int(values["resources"]["requests"]["cpu"])
    memory_gib = int(values["resources"]["requests"]["memory"].removesuffix("Gi"))
    shm_gib = int(values["shm"]["sizeLimit"].removesuffix("Gi"))
    for pool in region.gpu_pools:
        it = hardware.instance_type(pool.instance_type)
        per_node = it.gpus // spec.model.tensor_parallel
        kube_reserved = 0.06 + 0.01 + 0.005 * 2 + 0.0025 * max(0, it.vcpus - 4)  # EKS AMI kube-reserved CPU formula
        daemonsets = 0.5  # aws-node, kube-proxy, EBS CSI node, device plugin, exporters (requests)
        assert cpu * per_node <= it.vcpus - kube_reserved - daemonsets, f"{case_id}/{pool.name}: {cpu} CPU x {per_node} on {it.name}"
        assert (memory_gib + 0) * per_node <= it.memory_mib / 1024 - 2.5, f"{case_id}/{pool.name}: memory"
        assert shm_gib < memory_gib, f"{case_id}/{pool.name}: /dev/shm counts against the memory limit"


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_service_pdb_and_monitor(rendered, case_id):
    objects = rendered[case_id]
    service = cr.one(objects, "Service")
    where = f"{case_id}: Service/{service['metadata']['name']}"
    # The ALB reaches the pods by IP (TargetGroupBinding): no node port, no kube-proxy hop to a terminating pod.
    assert service["spec"]["type"] == "ClusterIP" and "externalTrafficPolicy" not in service["spec"], where
    assert service["spec"]["ports"] == [{"name": "http", "port": 8000, "targetPort": "http", "protocol": "TCP"}], where
    deployment = cr.one(objects, "Deployment")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"], where
    pdb = cr.one(objects, "PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 1 and pdb["spec"]["selector"] == deployment["spec"]["selector"], where
    monitor = cr.one(objects, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics" and monitor["spec"]["endpoints"][0]["port"] == "http"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items(), where
    # Pulumi's helm.v3.Chart renders without test hooks and no helm release exists to `helm test`: none shipped.
    hooks = [o["metadata"]["name"] for o in objects if "helm.sh/hook" in (o["metadata"].get("annotations") or {})]
    assert not hooks and not cr.by_kind(objects, "Pod"), f"{where}: {hooks}"
    assert "helm test" not in (cr.CHART / "templates" / "NOTES.txt").read_text()


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_scaled_object_scales_on_vllm_metrics(rendered, case_id):
    _, spec, region, values = _case(case_id)
    scaled = cr.one(rendered[case_id], "ScaledObject")
    where = f"{case_id}: ScaledObject/{scaled['metadata']['name']}"
    low, high = spec.replicas_for(region)
    s = scaled["spec"]
    assert s["scaleTargetRef"]["name"] == cr.one(rendered[case_id], "Deployment")["metadata"]["name"], where
    assert (s["minReplicaCount"], s["maxReplicaCount"]) == (low, high), where
    assert s["fallback"]["failureThreshold"] >= 1 and 1 <= s["fallback"]["replicas"] <= high, where
    behavior = s["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] == spec.autoscaling.scale_down_stabilization_seconds, where
    assert behavior["scaleDown"]["policies"][0]["value"] == 1, f"{where}: scale down one replica at a time"
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 0, where
    triggers = {t["name"]: t for t in s["triggers"]}
    selector = f'namespace="{cr.NAMESPACE}",model_name="{spec.model.name}"'
    assert triggers["queue-waiting"]["metadata"]["query"] == f"sum(vllm:num_requests_waiting{{{selector}}})", where
    assert float(triggers["queue-waiting"]["metadata"]["threshold"]) == spec.autoscaling.target_queue_length, where
    kv = triggers["kv-cache-usage"]["metadata"]
    assert kv["query"] == f"sum(vllm:kv_cache_usage_perc{{{selector}}})", f"{where}: the pinned vLLM exports kv_cache_usage_perc"
    assert float(kv["threshold"]) == spec.autoscaling.target_kv_cache_usage, where
    assert all(t["metricType"] == "AverageValue" for t in s["triggers"]), f"{where}: fallback needs AverageValue"
    for t in s["triggers"]:
        if t["type"] == "prometheus":
            assert t["metadata"]["serverAddress"] == cr.PROMETHEUS_URL, where
    if case_id.endswith("scale-to-zero"):
        assert s["minReplicaCount"] == 0 and s["cooldownPeriod"] >= 300, where
        requests = triggers["alb-target-group-requests"]
        assert requests["type"] == "aws-cloudwatch", where
        assert requests["metadata"]["dimensionValue"] == f"{cr.LB_ARN_SUFFIX};{cr.TG_ARN_SUFFIX}", where
        assert requests["metadata"]["metricName"] == "RequestCount", where
        assert requests["metadata"]["awsRegion"] == region.region, where
        assert float(requests["metadata"]["activationTargetMetricValue"]) == 60 * spec.autoscaling.activation_requests_per_second
        assert triggers["alb-no-target-503s"]["metadata"]["dimensionValue"] == cr.LB_ARN_SUFFIX, where
        auth = cr.one(rendered[case_id], "TriggerAuthentication")
        assert requests["authenticationRef"]["name"] == auth["metadata"]["name"], where
        assert auth["spec"]["podIdentity"] == {"provider": "aws", "identityOwner": "keda"}, where
    else:
        assert set(triggers) == {"queue-waiting", "kv-cache-usage"}, where
        assert not cr.by_kind(rendered[case_id], "TriggerAuthentication"), where


def test_names_are_cut_at_63_characters():
    values = {**copy.deepcopy(CASES[-1][3]), "nameOverride": "n" * 63}  # the variant with every kind
    result = cr.helm("template", "r" * 53, str(cr.CHART), "--namespace", cr.NAMESPACE, values=values)
    assert result.returncode == 0, result.stderr
    for obj in (o for o in yaml.safe_load_all(result.stdout) if o):
        name = obj["metadata"]["name"]
        assert len(name) <= 63, f"{obj['kind']}/{name} is {len(name)} characters"


# ---------------------------------------------------------------- chart_values on its own


@pytest.mark.parametrize(
    ("setting", "tag", "expected"),
    [
        ("auto", "v0.9.1", "vllm:gpu_cache_usage_perc"),
        ("auto", "v0.8.5", "vllm:gpu_cache_usage_perc"),
        ("auto", "v0.9.2", "vllm:kv_cache_usage_perc"),
        ("auto", "v0.11.0", "vllm:kv_cache_usage_perc"),
        ("auto", "v1.0.0", "vllm:kv_cache_usage_perc"),
        ("auto", None, "vllm:kv_cache_usage_perc"),
        ("vllm:gpu_cache_usage_perc", "v0.11.0", "vllm:gpu_cache_usage_perc"),
    ],
)
def test_kv_cache_metric_follows_the_image_version(setting, tag, expected):
    image = "vllm/vllm-openai" + (f":{tag}" if tag else "") + "@sha256:" + "a" * 64
    assert chart_values.kv_cache_metric(setting, image) == expected


def test_startup_probe_seconds_is_sized_from_the_weights():
    assert chart_values.startup_probe_seconds(1e9) == chart_values.MIN_STARTUP_SECONDS
    eight_b, seventy_b = chart_values.startup_probe_seconds(16.06e9), chart_values.startup_probe_seconds(141.2e9)
    assert 600 <= eight_b <= 900 and 1800 <= seventy_b <= 3600, (eight_b, seventy_b)
    assert eight_b % chart_values.STARTUP_PROBE_PERIOD_SECONDS == 0


def test_cloudwatch_target_is_the_peak_request_rate_per_replica():
    spec = cr.stack("prod-us")
    per_replica = chart_values.peak_requests_per_minute_per_replica(spec, 6)
    expected = 20_000_000 / (730 * 60) * 3 / 6  # requestsPerMonth, peakToAverage, maxReplicas of prod-us
    assert per_replica == pytest.approx(expected, abs=0.01)
    assert chart_values.peak_requests_per_minute_per_replica(cr.stack("dev"), 2) >= 1.0


def test_split_image_refuses_a_tag_alone():
    with pytest.raises(ValueError, match="model.image"):
        chart_values.split_image("vllm/vllm-openai:v0.11.0")
    assert chart_values.split_image("vllm/vllm-openai@sha256:" + "b" * 64)["tag"] == ""


def test_notes_tell_how_to_reach_the_service(tmp_path):
    """helm renders NOTES.txt only on install (needs a cluster); a copy of the chart renders it through `tpl`."""
    chart = tmp_path / "vllm"
    shutil.copytree(cr.CHART, chart)
    shutil.copy(chart / "templates" / "NOTES.txt", chart / "notes-source.txt")
    (chart / "templates" / "notes-as-rendered.yaml").write_text(
        'notes: {{ tpl (.Files.Get "notes-source.txt") . | toJson }}\n')
    _, spec, _, values = CASES[0]
    result = cr.helm("template", cr.RELEASE, str(chart), "--namespace", cr.NAMESPACE,
                     "--show-only", "templates/notes-as-rendered.yaml", values=values)
    assert result.returncode == 0, result.stderr
    notes = yaml.safe_load(result.stdout)["notes"]
    assert f"port-forward svc/vllm 8000:8000" in notes, notes
    assert 'Authorization: Bearer $VLLM_API_KEY' in notes and "/v1/chat/completions" in notes, notes
    assert f'"model": "{spec.model.name}"' in notes and "(TargetGroupBinding vllm)" in notes, notes
    assert "NetworkPolicy vllm lets in only" in notes, notes
    assert f"get secret {chart_values.API_KEY_SECRET_NAME} -o jsonpath='{{.data.{chart_values.API_KEY_SECRET_KEY}}}'" in notes


def test_values_yaml_documents_every_key():
    """Every key of values.yaml (outside free-form maps and lists) has a `# --` comment right above it."""
    undocumented = []
    lines = (cr.CHART / "values.yaml").read_text().splitlines()
    list_indent = None
    for number, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if list_indent is not None and indent > list_indent:
            continue
        list_indent = None
        if stripped.startswith("- "):
            list_indent = indent
            continue
        key = re.match(r"^([A-Za-z][A-Za-z0-9]*):", stripped)
        if not key:
            continue
        block = []
        for previous in reversed(lines[:number]):
            if not previous.strip().startswith("#"):
                break
            block.insert(0, previous.strip())
        if not block or not block[0].startswith("# --"):
            undocumented.append(f"line {number + 1}: {key[1]}")
    assert not undocumented, f"values.yaml keys without a `# --` comment: {undocumented}"


def _merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def test_values_schema_knows_every_default_and_requires_the_model_pin():
    schema = json.loads((cr.CHART / "values.schema.json").read_text())
    defaults = yaml.safe_load((cr.CHART / "values.yaml").read_text())
    for _, _, _, values in CASES:
        jsonschema.validate(_merge(defaults, values), schema)
    missing = sorted({
        ".".join(map(str, e.absolute_path)) or e.message
        for e in jsonschema.Draft7Validator(schema).iter_errors(defaults)
    })
    assert missing == ["image.digest", "model.name", "model.revision", "model.source"], missing


def test_app_version_is_the_vllm_release_the_stacks_pin():
    chart = yaml.safe_load((cr.CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["version"] == "0.1.0"
    tags = {spec.model_for(region)[2].split("@")[0].rsplit(":", 1)[-1] for _, spec, region, _ in CASES}
    assert tags == {chart["appVersion"]}, f"stacks pin {tags}, Chart.yaml says {chart['appVersion']}"


def test_values_with_integers_as_floats_render_the_same():
    """Under Pulumi's engine (and its mocks) every number reaches helm as a float: the chart must not care."""

    def floats(value):
        if isinstance(value, bool) or not isinstance(value, (int, dict, list)):
            return value
        if isinstance(value, int):
            return float(value)
        if isinstance(value, dict):
            return {k: floats(v) for k, v in value.items()}
        return [floats(v) for v in value]

    for case_id, _, _, values in CASES:
        assert cr.render(floats(values)) == cr.render(values), f"{case_id}: float values render differently"


def test_pulumi_awaits_the_deployment_for_a_full_cold_start(rendered):
    """pulumi-kubernetes waits 10 minutes by default; a new replica needs a node, the image and the weights."""
    for case_id, spec, region, values in CASES:
        objects = rendered[case_id]
        deployment = cr.one(objects, "Deployment")
        probe = deployment["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
        startup = probe["periodSeconds"] * probe["failureThreshold"]
        timeout = int(deployment["metadata"]["annotations"]["pulumi.com/timeoutSeconds"])
        floor = chart_values.NODE_BOOT_SECONDS + chart_values.IMAGE_PULL_SECONDS + startup
        assert timeout >= floor > 600, f"{case_id}: Deployment await {timeout}s < node + pull + startup {floor}s"
        low, _ = spec.replicas_for(region)
        fill = values["weightsMirror"]["fill"]["pulumiTimeoutSeconds"] if values["weightsMirror"]["enabled"] else 0
        assert timeout == chart_values.rollout_timeout_seconds(spec.weight_bytes(), low) + fill, case_id
        service = cr.one(objects, "Service")
        assert service["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true", f"{case_id}: Service"


def test_rollout_timeout_counts_every_replica_replaced_in_turn():
    one = chart_values.rollout_timeout_seconds(16.06e9, 1)
    three = chart_values.rollout_timeout_seconds(16.06e9, 3)
    per_replica = chart_values.IMAGE_PULL_SECONDS + chart_values.startup_probe_seconds(16.06e9)
    assert three - one == 2 * per_replica
    assert chart_values.rollout_timeout_seconds(16.06e9, 0) == one


def test_rollout_cannot_stall_on_full_gpu_pools(rendered):
    """A surge pod needs a free GPU; when maxReplicas can fill the pools, replace in place instead."""
    for case_id, spec, region, _ in CASES:
        strategy = cr.one(rendered[case_id], "Deployment")["spec"]["strategy"]["rollingUpdate"]
        _, high = spec.replicas_for(region)
        full = high >= spec.pool_replica_capacity(region)
        expected = {"maxSurge": 0, "maxUnavailable": 1} if full else {"maxSurge": 1, "maxUnavailable": 0}
        assert strategy == expected, f"{case_id}: maxReplicas {high}, pool capacity {spec.pool_replica_capacity(region)}"


def test_rollout_surges_while_the_pools_have_room():
    spec = cr.stack("prod-us")
    region = spec.regions[0]
    full = region.model_copy(update={"gpu_pools": [p.model_copy(update={"max_nodes": spec.autoscaling.max_replicas})
                                                   for p in region.gpu_pools]})
    assert chart_values.rolling_update(spec, region) == {"maxSurge": 1, "maxUnavailable": 0}
    assert chart_values.rolling_update(spec, full) == {"maxSurge": 0, "maxUnavailable": 1}


def test_shipped_stacks_roll_out_with_no_replica_down():
    # Issue 5: `pulumi up` after a pin or rollback must not take a serving replica away.
    for case_id, spec, region, values in cr.cases():
        assert values["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}, case_id
