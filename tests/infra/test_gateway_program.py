"""The hybrid gateway inside the real program (stacks/Pulumi.hybrid.yaml under recording mocks): a digest-pinned
LiteLLM proxy in every region, its rendered config (restricted routes never leave the fleet), the load balancer
in front of it, only it reaching vLLM, its keys, scaling and monitoring objects, each validated like the chart's.
Stacks without `gateway` create none of it.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import logging
import warnings

import jsonschema
import kubernetes_validate
import pytest
import yaml

from infra import gateway_config, gateway_objects
from infra.components import monitoring
from infra.conventions import GATEWAY_NAMESPACE_LABELS, GATEWAY_POD_LABELS, MONITORING_NAMESPACE
from infra.pins import IMAGE_RE
from infra.program import region_prefix
from infra.spec import KUBERNETES_VERSIONS, SELF_HOSTED
from tests.builders import TARGET_GROUP_BINDING_CRD_FILE, run_entry_point, strict_crd_schema
from tests.conftest import STACK_NAMES

HYBRID = "hybrid"
NO_GATEWAY = [s for s in STACK_NAMES if s != HYBRID]
GATEWAY_TYPE = "tradeoff-infra:gateway:Gateway"
CORE_KINDS = {"Namespace", "ConfigMap", "Secret", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"}


@pytest.fixture(scope="module")
def hybrid(inventory_of):
    return inventory_of(HYBRID)


def _gateway_objects(inv, region: str) -> dict[str, dict]:
    """The gateway's Kubernetes objects of one region, as manifests (kind -> object; two ConfigMaps by name)."""
    out = {}
    for r in inv.resources:
        if r.region != region or not r.type.startswith("kubernetes:") or GATEWAY_TYPE not in r.urn:
            continue
        group_version, kind = r.type.split(":")[1], r.type.split(":")[2]
        obj = {"apiVersion": group_version.replace("core/", ""), "kind": kind, **copy.deepcopy(r.inputs)}
        obj.pop("__defaults", None)
        out[kind if kind != "ConfigMap" else f"ConfigMap/{obj['metadata']['name']}"] = obj
    return out


def _config(objects: dict) -> dict:
    return yaml.safe_load(objects[f"ConfigMap/{gateway_objects.NAME}"]["data"][gateway_config.CONFIG_FILE])


def test_hybrid_stack_has_a_digest_pinned_gateway_in_every_region(hybrid):
    spec = hybrid.spec
    assert spec.gateway is not None and len(spec.regions) == 3
    for region in spec.regions:
        prefix = region_prefix(region.region)
        objects = _gateway_objects(hybrid, region.region)
        assert set(objects) >= {"Deployment", "Service", "PodDisruptionBudget", "ScaledObject",
                                "NetworkPolicy", "ServiceMonitor", "PrometheusRule", "TargetGroupBinding", "Secret",
                                f"ConfigMap/{gateway_objects.NAME}", f"ConfigMap/{gateway_objects.NAME}-dashboard"}, prefix
        (container,) = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
        assert IMAGE_RE.match(container["image"]), container["image"]
        assert container["image"] == gateway_config.LITELLM_IMAGE
        resources = container["resources"]
        assert resources == {"requests": {"cpu": gateway_config.GATEWAY_CPU_REQUEST,
                                          "memory": gateway_config.GATEWAY_MEMORY_REQUEST},
                             "limits": {"memory": gateway_config.GATEWAY_MEMORY_LIMIT}}, prefix
        assert container["readinessProbe"]["httpGet"]["path"] == gateway_config.READINESS_PATH
        assert container["livenessProbe"]["httpGet"]["path"] == gateway_config.HEALTH_PATH
        assert container["startupProbe"]["httpGet"]["path"] == gateway_config.HEALTH_PATH
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert gateway_config.GATEWAY_ENV.items() <= env.items(), "the proxy must start offline, one worker"
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False and security["capabilities"] == {"drop": ["ALL"]}
        assert security["seccompProfile"] == {"type": "RuntimeDefault"} and security["privileged"] is False
        pod = objects["Deployment"]["spec"]["template"]
        # LiteLLM's default image runs as root (its Dockerfile's `USER root`): a runAsNonRoot pod would never start
        assert "runAsNonRoot" not in security and "runAsNonRoot" not in pod["spec"]["securityContext"]
        assert pod["spec"]["automountServiceAccountToken"] is False
        assert GATEWAY_POD_LABELS.items() <= pod["metadata"]["labels"].items(), prefix
        assert GATEWAY_NAMESPACE_LABELS.items() <= objects["Namespace"]["metadata"]["labels"].items(), prefix
        assert "replicas" not in objects["Deployment"]["spec"], "the autoscaler owns the replica count"
        scaling = objects["ScaledObject"]["spec"]
        assert scaling["scaleTargetRef"]["name"] == objects["Deployment"]["metadata"]["name"]
        assert (scaling["minReplicaCount"], scaling["maxReplicaCount"]) == (spec.gateway.min_replicas,
                                                                            spec.gateway.max_replicas)
        (trigger,) = scaling["triggers"]
        assert trigger["metadata"]["serverAddress"] == monitoring.prometheus_url()
        # 70% of one pod's CPU request (500m) per pod, on the gateway containers' CPU
        assert float(trigger["metadata"]["threshold"]) == pytest.approx(
            gateway_objects.cpu_cores(gateway_config.GATEWAY_CPU_REQUEST) * gateway_objects.HPA_CPU_UTILIZATION / 100)
        query = trigger["metadata"]["query"]
        assert 'container="litellm"' in query and 'namespace="gateway"' in query
        assert objects["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1


def test_rendered_config_points_at_vllm_and_restricted_routes_never_leave_the_fleet(hybrid):
    spec = hybrid.spec
    restricted = {r.name for r in spec.gateway.routes if r.data_class == "restricted"}
    assert restricted == {"support"}
    for region in spec.regions:
        prefix = region_prefix(region.region)
        config = _config(_gateway_objects(hybrid, region.region))
        vllm_url = f"http://{prefix}-vllm.vllm.svc.cluster.local:8000/v1"
        for route in restricted:
            deployments = [m["litellm_params"] for m in config["model_list"] if m["model_name"] == route]
            assert deployments and all(d["model"].startswith("hosted_vllm/") and d["api_base"] == vllm_url
                                       for d in deployments), deployments
            assert not [m for m in config["model_list"] if m["model_name"].startswith(f"{route}--")]
            settings = config.get("router_settings") or {}
            # an explicit empty chain (it shadows any generic "*" chain), and no other chain names the route
            assert [f[route] for f in settings["fallbacks"] if route in f] == [[]]
            for key in ("context_window_fallbacks", "content_policy_fallbacks"):
                assert not any(route in f for f in settings.get(key) or []), key
            assert not any(route in chain for f in settings["fallbacks"] for chain in f.values())
        self_hosted = [m for m in config["model_list"] if m["litellm_params"]["model"].startswith("hosted_vllm/")]
        assert {m["model_name"] for m in self_hosted} == {r.name for r in spec.gateway.routes
                                                          if r.served_by == SELF_HOSTED}
        callbacks = config["litellm_settings"]["callbacks"]
        assert callbacks.count("prometheus") == 1, "the ServiceMonitor needs LiteLLM's metrics, once"
        assert config["general_settings"]["master_key"] == f"os.environ/{gateway_config.MASTER_KEY_ENV}"


def test_the_load_balancer_targets_the_gateway_and_only_the_gateway_reaches_vllm(hybrid):
    for region in hybrid.spec.regions:
        prefix = region_prefix(region.region)
        objects = _gateway_objects(hybrid, region.region)
        (tg,) = [r for r in hybrid.resources if r.name == f"{prefix}-lb-tg"]
        binding = objects["TargetGroupBinding"]["spec"]
        assert binding["targetGroupARN"] == tg.outputs["arn"] and binding["serviceRef"] == {
            "name": gateway_objects.NAME, "port": gateway_config.GATEWAY_PORT}
        assert tg.inputs["port"] == gateway_config.GATEWAY_PORT
        (vllm_policy,) = [r for r in hybrid.resources if r.region == region.region
                          and r.type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"
                          and r.inputs["metadata"]["namespace"] == "vllm"]
        sources = [peer for rule in vllm_policy.inputs["spec"]["ingress"] for peer in rule["from"]]
        assert not [p for p in sources if "ipBlock" in p], "with a gateway the ALB must not reach vLLM"
        assert {"namespaceSelector": {"matchLabels": GATEWAY_NAMESPACE_LABELS},
                "podSelector": {"matchLabels": GATEWAY_POD_LABELS}} in sources
        assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}}} in sources
        own = objects["NetworkPolicy"]["spec"]
        cidrs = {p["ipBlock"]["cidr"] for rule in own["ingress"] for p in rule["from"] if "ipBlock" in p}
        public = {s.inputs["cidrBlock"] for s in hybrid.of_type("aws:ec2/subnet:Subnet", region.region)
                  if "kubernetes.io/role/elb" in s.inputs["tags"]}
        assert cidrs == public, (cidrs, public)
        assert all(rule["ports"] == [{"protocol": "TCP", "port": gateway_config.GATEWAY_PORT}] for rule in own["ingress"])


def test_gateway_keys_are_secrets_reused_client_key_and_provider_keys(stack_configs):
    from cli.inventory import run_program

    config = dict(stack_configs[HYBRID], providerApiKeys={"openai": "sk-openai-test", "together": "tg-test"})
    inv = run_program(config, HYBRID)
    for region in inv.spec.regions:
        (secret,) = [r for r in inv.resources if r.region == region.region and r.type == "kubernetes:core/v1:Secret"
                     and r.inputs["metadata"]["namespace"] == "gateway"]
        assert "sk-openai-test" not in json.dumps(secret.inputs), "no key may reach the inventory"
        revealed = inv.secret_inputs[secret.urn]["stringData"]
        assert revealed[gateway_config.provider_key_env("openai")] == "sk-openai-test"
        assert revealed[gateway_config.provider_key_env("together")] == "tg-test"
        # clients keep the key they sent vLLM: it is the gateway's master key, and the gateway's key for vLLM
        assert revealed[gateway_config.MASTER_KEY_ENV] == revealed[gateway_config.VLLM_KEY_ENV]
        (vllm_secret,) = [r for r in inv.resources if r.name == f"{region_prefix(region.region)}-vllm-api-key"]
        assert inv.secret_inputs[vllm_secret.urn]["stringData"]["api-key"] == revealed[gateway_config.MASTER_KEY_ENV]


@pytest.mark.parametrize("kube_version", KUBERNETES_VERSIONS)
def test_gateway_objects_validate_strict(hybrid, caplog, kube_version):
    problems = []
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        for region in hybrid.spec.regions:
            for key, obj in _gateway_objects(hybrid, region.region).items():
                if obj["kind"] not in CORE_KINDS:
                    continue
                if obj["kind"] == "Secret":  # its values are secrets, recorded as "[secret]": validate the keys' shape
                    obj["stringData"] = {k: "x" for k in gateway_objects.secret_keys(hybrid.spec)}
                try:
                    kubernetes_validate.validate(obj, kube_version, strict=True)
                except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as err:
                    problems.append(f"{region.region} {key}: {getattr(err, 'path', '')}: {err.message}")
    problems += [f"warning: {w.message}" for w in caught] + [f"log: {r.getMessage()}" for r in caplog.records]
    assert not problems, "\n".join(problems)


def test_gateway_custom_resources_validate_against_their_schemas(hybrid):
    """ServiceMonitor, PrometheusRule and ScaledObject with the @kubernetes-models packages (tools/validate_crds.mjs), the
    TargetGroupBinding with its CRD's schema made strict, as the chart's are."""
    import subprocess

    from tests import chart_render as cr
    from tests.tools import node_modules_dir, node_path

    data = json.loads(TARGET_GROUP_BINDING_CRD_FILE.read_text())
    (served,) = [v for v in data["crd"]["spec"]["versions"] if v["name"] == "v1beta1"]
    schema = strict_crd_schema(served["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}
    validator = jsonschema.Draft7Validator(schema)
    batch = []
    for region in hybrid.spec.regions:
        objects = _gateway_objects(hybrid, region.region)
        binding = objects["TargetGroupBinding"]
        assert not [e.message for e in validator.iter_errors(binding)]
        for kind in ("ServiceMonitor", "PrometheusRule", "ScaledObject"):
            obj = copy.deepcopy(objects[kind])
            obj["metadata"]["name"] = f"{region.region}.{obj['metadata']['name']}"
            batch.append(obj)
    result = subprocess.run([node_path(), str(cr.ROOT / "tools" / "validate_crds.mjs"), str(node_modules_dir())],
                            input="\n".join(json.dumps(o) for o in batch), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(batch)} valid, 0 invalid" in result.stdout


@pytest.mark.parametrize("stack", NO_GATEWAY)
def test_a_stack_without_gateway_creates_no_gateway(inventory_of, stack):
    inv = inventory_of(stack)
    assert inv.spec.gateway is None
    assert not [r.urn for r in inv.resources if GATEWAY_TYPE in r.urn or r.type == GATEWAY_TYPE]
    assert not [r.urn for r in inv.resources if r.type.startswith("kubernetes:")
                and (r.inputs.get("metadata") or {}).get("namespace") == "gateway"]
    for region in inv.spec.regions:
        (tg,) = [r for r in inv.resources if r.name == f"{region_prefix(region.region)}-lb-tg"]
        assert (tg.inputs["port"], tg.inputs["healthCheck"]["path"]) == (8000, "/health")


def _hybrid_up_config(stack_configs, **overrides) -> dict:
    config = {**stack_configs[HYBRID], "vllmApiKey": "sk-clients-key", "huggingfaceToken": "hf-test",
              "providerApiKeys": {"openai": "sk-o", "together": "tg"}}
    config.update(overrides)
    return config


def test_pulumi_up_stops_on_a_missing_provider_key_naming_it(stack_configs):
    import pulumi

    config = _hybrid_up_config(stack_configs, providerApiKeys={"openai": "sk-o"})
    with pytest.raises(pulumi.RunError, match=r"providerApiKeys\.together"):
        run_entry_point(config, preview=False)


def test_pulumi_up_accepts_a_client_key_without_sk_prefix(stack_configs):
    """The client key is LiteLLM's master key, which the proxy compares before its `sk-` rule for virtual keys
    (litellm/proxy/auth/user_api_key_auth.py at 1.103.0; tests/gateway runs the real proxy with such a key): a
    stack's existing vllmApiKey keeps working in front of a gateway."""
    run_entry_point(_hybrid_up_config(stack_configs, vllmApiKey="not-an-sk-key"), preview=False)


def test_pulumi_up_with_every_key_passes_the_gateway_checks(stack_configs):
    """The same stack with every key and an `sk-` client key is not stopped (the checks above can fail it)."""
    run_entry_point(_hybrid_up_config(stack_configs), preview=False)


def test_a_preview_without_provider_keys_only_warns(inventory_of):
    messages = inventory_of(HYBRID).messages
    for provider in ("openai", "together"):
        assert any(m.startswith("warning: ") and f"providerApiKeys.{provider}" in m for m in messages), messages


def test_inventory_command_shows_a_pinned_gateway_per_region_and_its_rendered_config(tmp_path, monkeypatch):
    """Issue 14's acceptance, through the command: `inventory stacks/Pulumi.hybrid.yaml --format json`."""
    from typer.testing import CliRunner

    from cli.main import app
    from tests.paths import ROOT

    monkeypatch.setenv("TRADEOFF_INFRA_CACHE_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["inventory", str(ROOT / "stacks" / "Pulumi.hybrid.yaml"), "--format", "json"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    resources = json.loads(result.stdout)["resources"]
    images = {r["region"]: r["inputs"]["spec"]["template"]["spec"]["containers"][0]["image"]
              for r in resources if r["type"] == "kubernetes:apps/v1:Deployment" and r["name"].endswith("-gateway-deployment")}
    configs = {r["region"]: yaml.safe_load(r["inputs"]["data"][gateway_config.CONFIG_FILE])
               for r in resources if r["type"] == "kubernetes:core/v1:ConfigMap" and r["name"].endswith("-gateway-config")}
    assert set(images) == set(configs) == {"us-east-1", "us-west-2", "us-east-2"}
    assert all(IMAGE_RE.match(image) for image in images.values()), images
    for config in configs.values():
        support = [m for m in config["model_list"] if m["model_name"].startswith("support")]
        assert [m["litellm_params"]["model"] for m in support] == ["hosted_vllm/llama-3.1-8b-instruct"]
        assert [f["support"] for f in config["router_settings"]["fallbacks"] if "support" in f] == [[]]
        assert all(not str(m["litellm_params"].get("order", "")) for m in support), "no overflow order"


def test_each_region_mounts_exactly_render_files_for_that_region(hybrid):
    """The ConfigMap holds every file `gateway_config.render_files` returns for its region (the config and the hook
    module beside it), byte for byte: the program and the real-proxy tests cannot drift apart."""
    spec = hybrid.spec
    configs = {}
    for region in spec.regions:
        prefix = region_prefix(region.region)
        objects = _gateway_objects(hybrid, region.region)
        data = objects[f"ConfigMap/{gateway_objects.NAME}"]["data"]
        vllm_url = f"http://{prefix}-vllm.vllm.svc.cluster.local:8000/v1"
        assert data == gateway_config.render_files(spec, vllm_base_url=vllm_url, region=region.region), prefix
        assert set(data) == {gateway_config.CONFIG_FILE, gateway_config.HOOK_FILE}
        configs[region.region] = yaml.safe_load(data[gateway_config.CONFIG_FILE])
        # mounted in one directory; the proxy runs on the config in it (LiteLLM loads the hook from beside it)
        pod = objects["Deployment"]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        (mount,) = container["volumeMounts"]
        (volume,) = pod["volumes"]
        assert mount["mountPath"] == gateway_config.CONFIG_DIR and volume["configMap"] == {"name": gateway_objects.NAME}
        assert volume["name"] == mount["name"] and "items" not in volume["configMap"]
        assert container["args"] == gateway_config.proxy_args(f"{gateway_config.CONFIG_DIR}/{gateway_config.CONFIG_FILE}")
        assert objects["Deployment"]["spec"]["template"]["metadata"]["annotations"]["checksum/config"] == \
            gateway_objects.config_checksum(data)


def test_overflow_limits_are_rendered_per_region(stack_configs):
    """A region with a lower maxReplicas gets a lower overflow limit in its own ConfigMap (render_files per region)."""
    from cli.inventory import run_program

    config = copy.deepcopy(stack_configs[HYBRID])
    config["regions"][1]["autoscaling"] = {"maxReplicas": 2}
    inv = run_program(config, HYBRID)
    limits = {}
    for region in inv.spec.regions:
        model_list = _config(_gateway_objects(inv, region.region))["model_list"]
        limits[region.region] = {m["model_name"]: m["litellm_params"]["max_parallel_requests"]
                                 for m in model_list if "max_parallel_requests" in m["litellm_params"]}
        assert limits[region.region] == gateway_config.overflow_limits(inv.spec, region), region.region
    assert limits["us-west-2"]["chat"] < limits["us-east-1"]["chat"], limits


def test_the_gateway_reaches_dns_vllm_and_https_only(hybrid):
    for region in hybrid.spec.regions:
        own = _gateway_objects(hybrid, region.region)["NetworkPolicy"]["spec"]
        assert set(own["policyTypes"]) == {"Ingress", "Egress"}
        egress = own["egress"]
        ports = sorted((p["protocol"], p["port"]) for rule in egress for p in rule["ports"])
        assert ports == [("TCP", 53), ("TCP", 443), ("TCP", 8000), ("UDP", 53)], ports
        by_port = {p["port"]: rule["to"] for rule in egress for p in rule["ports"]}
        assert by_port[8000] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "vllm"}},
                                  "podSelector": {"matchLabels": {"app.kubernetes.io/name": "vllm"}}}]
        assert by_port[53] == [gateway_objects.DNS_SELECTOR]
        (https,) = by_port[443]
        assert https["ipBlock"]["cidr"] == "0.0.0.0/0" and "10.0.0.0/8" in https["ipBlock"]["except"]
        (vpc,) = hybrid.of_type("aws:ec2/vpc:Vpc", region.region)
        inside = ipaddress.ip_network(vpc.inputs["cidrBlock"])
        assert any(inside.subnet_of(ipaddress.ip_network(c)) for c in https["ipBlock"]["except"]), \
            "HTTPS egress must not reach into the VPC"
