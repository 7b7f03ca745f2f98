"""The vLLM chart's load-balancer path as helm renders it: TargetGroupBinding to IP targets, readiness
gates, and the NetworkPolicy that admits only the load balancer, Prometheus and the gateway.

The TargetGroupBinding has no @kubernetes-models package (npm has none for the AWS Load Balancer
Controller), so it is checked against the CRD's own OpenAPI schema from the pinned controller chart,
checked in under tests/data/crds with its source, made strict (an unknown field fails: the API server
would prune it silently).
"""

from __future__ import annotations

import copy
import ipaddress
import json

import jsonschema
import pytest

from infra import chart_values
from infra.components import load_balancer_controller as lbc
from infra.conventions import subnet_cidrs
from tests import chart_render as cr
from tests.builders import TARGET_GROUP_BINDING_CRD_FILE, strict_crd_schema

CASES = cr.cases()
CASE_IDS = [c[0] for c in CASES]
CRD_FILE = TARGET_GROUP_BINDING_CRD_FILE


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return {case_id: cr.render(values) for case_id, _, _, values in CASES}


def _case(case_id: str):
    return next(c for c in CASES if c[0] == case_id)


@pytest.fixture(scope="module")
def binding_validator() -> jsonschema.Draft7Validator:
    data = json.loads(CRD_FILE.read_text())
    assert "v3.5.0" in data["source"] and lbc.LOAD_BALANCER_CONTROLLER_CHART.version in data["source"], data["source"]
    crd = data["crd"]
    assert crd["spec"]["group"] == "elbv2.k8s.aws" and crd["spec"]["names"]["kind"] == "TargetGroupBinding"
    group, version = lbc.TARGET_GROUP_BINDING_API_VERSION.split("/")
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    assert served["served"] and served["storage"], "the chart must render the served storage version"
    schema = strict_crd_schema(served["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}  # ObjectMeta is checked by the API server, not the CRD
    return jsonschema.Draft7Validator(schema)


def _problems(validator, obj) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)]


def test_every_case_binds_the_target_group_to_the_service_by_ip(rendered, binding_validator):
    for case_id, objects in rendered.items():
        binding = cr.one(objects, "TargetGroupBinding")
        service = cr.one(objects, "Service")
        where = f"{case_id}: TargetGroupBinding/{binding['metadata']['name']}"
        assert binding["apiVersion"] == lbc.TARGET_GROUP_BINDING_API_VERSION, where
        assert not _problems(binding_validator, binding), f"{where}: {_problems(binding_validator, binding)}"
        spec = binding["spec"]
        assert spec["targetType"] == "ip", f"{where}: only IP targets are deregistered per pod"
        assert spec["targetGroupARN"] == cr.TG_ARN and spec["vpcID"] == cr.VPC_ID, where
        assert spec["serviceRef"] == {"name": service["metadata"]["name"], "port": service["spec"]["ports"][0]["port"]}
        # Every field the controller's mutating webhook defaults is stated, so a later apply changes none of them.
        assert {"targetType", "ipAddressType", "vpcID", "targetGroupProtocol"} <= set(spec), where
        assert binding["metadata"]["namespace"] == cr.NAMESPACE, where


def test_the_crd_check_catches_bad_bindings(rendered, binding_validator):
    original = cr.one(rendered[CASE_IDS[0]], "TargetGroupBinding")
    misspelt, wrong_enum, missing = (copy.deepcopy(original) for _ in range(3))
    misspelt["spec"]["targetGroupArn"] = misspelt["spec"].pop("targetGroupARN")
    wrong_enum["spec"]["targetType"] = "pod"
    del missing["spec"]["serviceRef"]
    assert any("targetGroupArn" in p for p in _problems(binding_validator, misspelt))
    assert any("targetType" in p for p in _problems(binding_validator, wrong_enum))
    assert any("serviceRef" in p for p in _problems(binding_validator, missing))


def test_pods_wait_for_their_target_to_be_healthy(rendered):
    """The readiness gate the controller flips once the ALB reports the pod's IP target healthy."""
    for case_id, objects in rendered.items():
        binding = cr.one(objects, "TargetGroupBinding")
        pod = cr.one(objects, "Deployment")["spec"]["template"]["spec"]
        expected = [{"conditionType": f"target-health.elbv2.k8s.aws/{binding['metadata']['name']}"}]
        assert pod.get("readinessGates") == expected, f"{case_id}: {pod.get('readinessGates')}"


def test_without_a_target_group_there_is_no_binding_and_no_gate():
    """A gate nothing ever sets would keep every pod unready: both come together or not at all."""
    _, spec, region, _ = CASES[0]
    values = chart_values.vllm_values(spec, region, prometheus_url=cr.PROMETHEUS_URL, gpu_hourly_price_usd=None)
    objects = cr.render(values)
    assert not cr.by_kind(objects, "TargetGroupBinding")
    assert "readinessGates" not in cr.one(objects, "Deployment")["spec"]["template"]["spec"]


def test_binding_without_an_arn_is_refused():
    values = copy.deepcopy(CASES[0][3])
    values["targetGroupBinding"]["targetGroupArn"] = ""
    assert "targetGroupArn" in cr.render_error(values)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_network_policy_admits_only_the_load_balancer_prometheus_and_the_gateway(rendered, case_id):
    _, spec, region, _ = _case(case_id)
    objects = rendered[case_id]
    policy = cr.one(objects, "NetworkPolicy")
    deployment = cr.one(objects, "Deployment")
    where = f"{case_id}: NetworkPolicy/{policy['metadata']['name']}"
    body = policy["spec"]
    assert body["podSelector"] == {"matchLabels": deployment["spec"]["selector"]["matchLabels"]}, where
    assert body["policyTypes"] == ["Ingress"], f"{where}: egress (weights, DNS) stays open"
    port = [{"protocol": "TCP", "port": chart_values.VLLM_CONTAINER_PORT}]
    assert all(rule["ports"] == port for rule in body["ingress"]), where
    peers = [peer for rule in body["ingress"] for peer in rule["from"]]
    # The ALB's nodes: exactly the region's public subnets, none of the private ones where the pods live; with a
    # gateway none at all (the ALB targets the gateway, which alone reaches vLLM).
    cidrs = [peer["ipBlock"]["cidr"] for peer in peers if "ipBlock" in peer]
    private, public = subnet_cidrs(region.vpc_cidr, spec.network.availability_zones)
    assert cidrs == ([] if spec.gateway else public), where
    for cidr in cidrs:
        network = ipaddress.ip_network(cidr)
        assert network.subnet_of(ipaddress.ip_network(region.vpc_cidr)), where
        assert not any(network.overlaps(ipaddress.ip_network(p)) for p in private), where
    assert all("except" not in peer.get("ipBlock", {}) for peer in peers), where
    selectors = [peer for peer in peers if "ipBlock" not in peer]
    assert selectors == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}},
        {"namespaceSelector": {"matchLabels": chart_values.GATEWAY_NAMESPACE_LABELS},
         "podSelector": {"matchLabels": chart_values.GATEWAY_POD_LABELS}},
    ], f"{where}: {selectors}"
    # No peer admits everything (an empty selector or 0.0.0.0/0 would reopen vLLM's keyless routes).
    for peer in peers:
        assert all(sel.get("matchLabels") for key, sel in peer.items() if key.endswith("Selector")), where
        assert ipaddress.ip_network(peer.get("ipBlock", {}).get("cidr", "10.0.0.0/8")).prefixlen >= 8, where


def test_monitoring_namespace_is_where_prometheus_runs():
    from infra.components import monitoring

    assert chart_values.MONITORING_NAMESPACE == monitoring.NAMESPACE
    assert cr.PROMETHEUS_URL.split(".")[1] == chart_values.MONITORING_NAMESPACE
