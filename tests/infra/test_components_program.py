"""The edge components inside the real program, per shipped stack and region, under recording mocks.

The vLLM chart is rendered by the real `helm template` (answering the program's
`kubernetes:helm:template` invoke), so the chart objects the program would create are checked too.
"""

from __future__ import annotations

import copy
import ipaddress
import json

import pytest

from cli.inventory import Inventory, run_program
from infra.components import autoscaling, monitoring
from infra.components.node_role import NODE_POLICIES
from infra.program import region_prefix
from tests.chart_render import helm_template
from tests.conftest import STACK_NAMES

RELEASE = "kubernetes:helm.sh/v3:Release"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
CERTIFICATE = "aws:acm/certificate:Certificate"
RECORD = "aws:route53/record:Record"
REGION_TYPE = "tradeoff-infra:region:RegionalDeployment"
LOAD_BALANCER_TYPE = "tradeoff-infra:edge:LoadBalancer"
CERTIFICATE_TYPE = "tradeoff-infra:edge:Certificate"
ALARMS_TYPE = "tradeoff-infra:edge:Alarms"
NODE_ROLE_TYPE = "tradeoff-infra:cluster:NodeRole"
SYSTEM_NODES_TYPE = "tradeoff-infra:cluster:SystemNodeGroup"
# What pulumi-awsx's ApplicationLoadBalancer holds: its security group (and rules), the ALB, target group,
# listeners and listener rules. Nothing else belongs in the LoadBalancer component.
LOAD_BALANCER_CHILD_TYPES = {
    "aws:ec2/securityGroup:SecurityGroup", INGRESS, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup", "aws:lb/listener:Listener",
    "aws:lb/listenerRule:ListenerRule",
}


@pytest.fixture(scope="module")
def inventories(stack_configs) -> dict[str, Inventory]:
    return {name: run_program(stack_configs[name], name, helm_template=helm_template) for name in STACK_NAMES}


def _one(inv: Inventory, name: str, type_: str | None = None):
    found = [r for r in inv.resources if r.name == name and (type_ is None or r.type == type_)]
    assert len(found) == 1, f"{len(found)} resources named {name!r} ({type_ or 'any type'})"
    return found[0]


def _regions(inv: Inventory):
    return [(region, region_prefix(region.region)) for region in inv.spec.regions]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_releases_per_region(inventories, stack):
    inv = inventories[stack]
    spec = inv.spec
    for region, prefix in _regions(inv):
        kps = _one(inv, f"{prefix}-monitoring-kube-prometheus-stack", RELEASE)
        assert kps.region == region.region, kps.urn
        assert (kps.inputs["chart"], kps.inputs["version"]) == ("kube-prometheus-stack", monitoring.KUBE_PROMETHEUS_STACK_CHART.version)
        prometheus = kps.inputs["values"]["prometheus"]["prometheusSpec"]
        assert prometheus["retention"] == f"{spec.monitoring.retention_days}d", kps.urn
        claim = prometheus["storageSpec"]["volumeClaimTemplate"]["spec"]
        assert claim["resources"]["requests"]["storage"] == f"{spec.monitoring.storage_gib}Gi", kps.urn
        assert claim["storageClassName"] == "gp3-encrypted", kps.urn
        assert kps.inputs["values"]["grafana"]["enabled"] is spec.monitoring.grafana, kps.urn
        topic = _one(inv, f"{prefix}-monitoring-alarms")
        sns = kps.inputs["values"]["alertmanager"]["config"]["receivers"][1]["sns_configs"][0]
        assert sns["topic_arn"].startswith(f"arn:aws:sns:{region.region}:") and topic.name in sns["topic_arn"], kps.urn
        assert sns["sigv4"]["region"] == region.region, kps.urn

        dcgm = _one(inv, f"{prefix}-monitoring-dcgm-exporter")
        assert dcgm.inputs["values"]["serviceMonitor"]["enabled"] is True, dcgm.urn
        assert dcgm.inputs["values"]["tolerations"][0]["key"] == "nvidia.com/gpu", dcgm.urn

        keda = _one(inv, f"{prefix}-autoscaling-keda")
        assert keda.inputs["values"]["podIdentity"]["aws"]["irsa"]["roleArn"].startswith("arn:aws:iam::"), keda.urn
        assert keda.inputs["values"]["podIdentity"]["aws"]["irsa"]["enabled"] is True, keda.urn

        ca = _one(inv, f"{prefix}-autoscaling-cluster-autoscaler", RELEASE)
        cluster_name = inv.outputs["clusterNames"][region.region]
        assert ca.inputs["values"]["autoDiscovery"]["clusterName"] == cluster_name, ca.urn
        assert ca.inputs["values"]["awsRegion"] == region.region, ca.urn
        assert ca.inputs["values"]["extraArgs"]["scale-down-unneeded-time"] == f"{spec.autoscaling.node_scale_down_unneeded_minutes}m"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_irsa_roles_trust_one_service_account_and_grant_no_wildcard(inventories, stack):
    inv = inventories[stack]
    for region, prefix in _regions(inv):
        for role_name, subject in ((f"{prefix}-autoscaling-keda-operator-role", "system:serviceaccount:keda:keda-operator"),
                                   (f"{prefix}-monitoring-alertmanager-role", "system:serviceaccount:monitoring:alertmanager"),
                                   (f"{prefix}-autoscaling-cluster-autoscaler-role",
                                    "system:serviceaccount:kube-system:cluster-autoscaler")):
            role = _one(inv, role_name)
            trust = json.loads(role.inputs["assumeRolePolicy"])
            conditions = [s["Condition"]["StringEquals"] for s in trust["Statement"]]
            subjects = [v for c in conditions for k, v in c.items() if k.endswith(":sub")]
            assert subjects == [subject], f"{role.urn}: trusted by {subjects}"
            policy = json.loads(_one(inv, f"{role_name}-policy").inputs["policy"])
            for statement in policy["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert not any("*" in a for a in actions), f"{role.urn}: {statement}"
        ca_policy = json.loads(_one(inv, f"{prefix}-autoscaling-cluster-autoscaler-role-policy").inputs["policy"])
        cluster_name = inv.outputs["clusterNames"][region.region]
        scoped = [s for s in ca_policy["Statement"] if "Condition" in s]
        assert scoped and all(f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}" in s["Condition"]["StringEquals"]
                              for s in scoped), ca_policy


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_gpu_pool_asg_gets_scale_from_zero_tags(inventories, stack):
    inv = inventories[stack]
    tags = inv.of_type("aws:autoscaling/tag:Tag")
    for region, prefix in _regions(inv):
        for pool in region.gpu_pools:
            mine = [t for t in tags if t.name.startswith(f"{prefix}-autoscaling-{pool.name}-")]
            expected = autoscaling.scale_from_zero_tags(pool)
            assert {t.inputs["tag"]["key"]: t.inputs["tag"]["value"] for t in mine} == expected, f"{prefix} {pool.name}"
            assert all(t.inputs["tag"]["propagateAtLaunch"] is False for t in mine)
            asgs = {t.inputs["autoscalingGroupName"] for t in mine}
            assert len(asgs) == 1 and pool.name in next(iter(asgs)), asgs
    # The target group holds pod IPs (TargetGroupBinding), not the pools' instances.
    assert not inv.of_type("aws:autoscaling/attachment:Attachment"), "GPU ASGs must not be attached to the target group"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_load_balancer_per_region(inventories, stack):
    inv = inventories[stack]
    spec = inv.spec
    for region, prefix in _regions(inv):
        alb = _one(inv, f"{prefix}-lb-alb")
        assert alb.region == region.region, alb.urn
        internal = spec.endpoint.load_balancer_scheme == "internal"
        assert alb.inputs["internal"] is internal and alb.inputs["dropInvalidHeaderFields"] is True, alb.urn
        subnets = {s.id: s for s in inv.of_type("aws:ec2/subnet:Subnet", region.region)}
        # either scheme: the public (edge) subnets, which hold no pods (the vLLM NetworkPolicy admits their ranges)
        assert all("kubernetes.io/role/elb" in subnets[s].inputs["tags"] for s in alb.inputs["subnets"]), alb.urn
        assert alb.inputs["idleTimeout"] == spec.endpoint.idle_timeout_seconds, alb.urn
        assert alb.inputs["enableDeletionProtection"] is (not stack.startswith("dev")), alb.urn
        tg = _one(inv, f"{prefix}-lb-tg")
        # With a gateway the ALB's targets are the gateway's pods (LiteLLM's port and liveness path), else vLLM's.
        port, health = (4000, "/health/liveliness") if spec.gateway else (8000, "/health")
        assert tg.inputs["port"] == port and tg.inputs["targetType"] == "ip", tg.urn
        assert tg.inputs["healthCheck"]["path"] == health, tg.urn

        listeners = {r.inputs["port"]: r for r in inv.of_type("aws:lb/listener:Listener", region.region)}
        if spec.endpoint.hostname:
            assert set(listeners) == {80, 443}, listeners
            assert listeners[443].inputs["protocol"] == "HTTPS" and listeners[443].inputs["certificateArn"], listeners[443].urn
            assert listeners[80].inputs["defaultActions"][0]["type"] == "redirect", listeners[80].urn
            cert = _one(inv, f"{prefix}-lb-cert", CERTIFICATE)
            assert cert.inputs["domainName"] == spec.endpoint.hostname, cert.urn
            validation = _one(inv, f"{prefix}-lb-cert-validation", "aws:acm/certificateValidation:CertificateValidation")
            assert validation.inputs["validationRecordFqdns"], validation.urn
        else:
            assert set(listeners) == {80}, listeners
            assert not inv.of_type("aws:acm/certificate:Certificate", region.region)
        _assert_only_v1_is_forwarded(inv, region, prefix, listeners, spec.endpoint.hostname)

        sg = _one(inv, f"{prefix}-lb-sg")
        public_ports = set(listeners)
        for rule in inv.of_type(INGRESS, region.region):
            if rule.inputs.get("cidrIpv4") and ipaddress.ip_network(rule.inputs["cidrIpv4"]).prefixlen == 0:
                assert rule.inputs["fromPort"] == rule.inputs["toPort"] and rule.inputs["fromPort"] in public_ports, rule.urn
        alb_rules = [r for r in inv.of_type(INGRESS, region.region) if r.name.startswith(f"{prefix}-lb-sg-in-")]
        assert {(r.inputs["fromPort"], r.inputs["cidrIpv4"]) for r in alb_rules} == {
            (p, c) for p in public_ports for c in spec.endpoint.allowed_cidrs
        }, sg.urn
        pod_rule = _one(inv, f"{prefix}-lb-pods-in-alb")
        assert (pod_rule.inputs["fromPort"], pod_rule.inputs["toPort"]) == (port, port), pod_rule.urn
        assert "cidrIpv4" not in pod_rule.inputs and pod_rule.inputs["referencedSecurityGroupId"] == sg.id, pod_rule.urn
        egress = _one(inv, f"{prefix}-lb-sg-out-pods")
        assert (egress.inputs["fromPort"], egress.inputs["securityGroupId"]) == (port, sg.id), egress.urn
        assert egress.inputs["referencedSecurityGroupId"] == pod_rule.inputs["securityGroupId"], egress.urn


def _assert_only_v1_is_forwarded(inv, region, prefix, listeners, hostname):
    """vLLM's API key guards only /v1: the serving listener answers 404 by default and forwards /v1/* alone."""
    serving = listeners[443 if hostname else 80]
    (default,) = serving.inputs["defaultActions"]
    assert default["type"] == "fixed-response" and default["fixedResponse"]["statusCode"] == "404", serving.urn
    for listener in listeners.values():
        assert all(a["type"] != "forward" for a in listener.inputs["defaultActions"]), listener.urn
    (rule,) = inv.of_type("aws:lb/listenerRule:ListenerRule", region.region)
    assert rule.name == f"{prefix}-lb-forward-v1", rule.urn
    assert [a["type"] for a in rule.inputs["actions"]] == ["forward"], rule.urn
    assert rule.inputs["actions"][0]["targetGroupArn"], rule.urn
    conditions = {key: value["values"] for c in rule.inputs["conditions"] for key, value in c.items()}
    expected = {"pathPattern": ["/v1/*"]}
    if hostname:
        expected["hostHeader"] = [hostname]
    elif inv.spec.endpoint.mode == "regional":
        # no hostname: only the ALB's own name, so a crafted Host (CVE-2026-48710) never reaches vLLM
        expected["hostHeader"] = [_one(inv, f"{prefix}-lb-alb").outputs["dnsName"]]
    assert conditions == expected, rule.urn


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_alarms_notify_the_regions_topic(inventories, stack):
    inv = inventories[stack]
    for region, prefix in _regions(inv):
        topic = _one(inv, f"{prefix}-monitoring-alarms")
        alarms = {a.name: a for a in inv.of_type(ALARM, region.region)}
        low, _ = inv.spec.replicas_for(region)
        expected = {f"{prefix}-lb-error-rate"} | ({f"{prefix}-lb-no-healthy-targets"} if low > 0 else set())
        assert expected <= set(alarms), sorted(alarms)
        for name in expected:
            actions = alarms[name].inputs["alarmActions"]
            assert len(actions) == 1 and actions[0].startswith(f"arn:aws:sns:{region.region}:"), alarms[name].urn
        if low > 0:
            healthy = alarms[f"{prefix}-lb-no-healthy-targets"].inputs
            assert (healthy["metricName"], healthy["threshold"], healthy["evaluationPeriods"]) == ("HealthyHostCount", 1, 3)
            assert healthy["comparisonOperator"] == "LessThanThreshold"
        email = [s for s in inv.of_type("aws:sns/topicSubscription:TopicSubscription", region.region)]
        assert len(email) == (1 if inv.spec.monitoring.alarm_email else 0), topic.urn


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_global_endpoint(inventories, stack):
    inv = inventories[stack]
    spec = inv.spec
    groups = inv.of_type("aws:globalaccelerator/endpointGroup:EndpointGroup")
    if spec.endpoint.mode != "global-accelerator":
        assert not groups and not inv.of_type("aws:globalaccelerator/accelerator:Accelerator")
        if spec.endpoint.hostname:
            assert inv.of_type("aws:route53/record:Record")
        return
    assert len(inv.of_type("aws:globalaccelerator/accelerator:Accelerator", "us-west-2")) == 1
    by_region = {g.inputs["endpointGroupRegion"]: g for g in groups}
    assert sorted(by_region) == sorted(r.region for r in spec.regions)
    for region, prefix in _regions(inv):
        group = by_region[region.region]
        assert group.region == "us-west-2", f"{group.urn}: the accelerator API lives in us-west-2"
        assert group.inputs["trafficDialPercentage"] == region.traffic_dial, group.urn
        assert not [k for k in group.inputs if k.startswith("healthCheck") or k == "thresholdCount"], group.urn
        endpoint = group.inputs["endpointConfigurations"][0]
        assert endpoint["clientIpPreservationEnabled"] is True, group.urn
        assert endpoint["endpointId"].startswith(f"arn:aws:elasticloadbalancing:{region.region}:"), group.urn
    listener = inv.of_type("aws:globalaccelerator/listener:Listener")[0]
    ports = sorted(p["fromPort"] for p in listener.inputs["portRanges"])
    assert ports == ([80, 443] if spec.endpoint.hostname else [80]), listener.urn
    if spec.endpoint.hostname:
        alias = _one(inv, "global-dns")
        assert alias.inputs["name"] == spec.endpoint.hostname and alias.inputs["type"] == "A", alias.urn
        assert alias.inputs["aliases"][0]["name"].endswith(".awsglobalaccelerator.com"), alias.urn
        assert alias.inputs["zoneId"] == spec.endpoint.hosted_zone_id, alias.urn


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_vllm_chart_objects_per_region(inventories, stack):
    inv = inventories[stack]
    for region, prefix in _regions(inv):
        secret = _one(inv, f"{prefix}-vllm-api-key")
        assert secret.inputs["metadata"] == {"name": "vllm-api-key", "namespace": "vllm"}, secret.urn
        objects = [r for r in inv.resources if r.region == region.region and r.type.startswith("kubernetes:")
                   and r.inputs.get("metadata", {}).get("namespace") == "vllm"]
        kinds = {r.type.split(":")[-1] for r in objects}
        assert {"Deployment", "Service", "ScaledObject"} <= kinds, f"{prefix}: {sorted(kinds)}"
        service = next(r for r in objects if r.type == "kubernetes:core/v1:Service")
        assert service.inputs["metadata"]["name"] == f"{prefix}-vllm", service.urn
        assert service.inputs["spec"]["type"] == "ClusterIP" and "nodePort" not in service.inputs["spec"]["ports"][0]
        namespace = _one(inv, f"{prefix}-vllm-namespace")
        assert namespace.inputs["metadata"]["labels"]["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"
        # The ALB's targets: vLLM's pods, or with a gateway the gateway's (tests/infra/test_gateway_program.py).
        targets = objects if inv.spec.gateway is None else [
            r for r in inv.resources if r.region == region.region and r.type.startswith("kubernetes:")
            and r.inputs.get("metadata", {}).get("namespace") == "gateway"]
        target_service = next(r for r in targets if r.type == "kubernetes:core/v1:Service")
        binding = next(r for r in targets if r.type == "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding")
        tg = _one(inv, f"{prefix}-lb-tg")
        assert binding.inputs["spec"]["targetGroupARN"] == tg.outputs["arn"], binding.urn
        assert binding.inputs["spec"]["vpcID"] == tg.inputs["vpcId"], binding.urn
        assert binding.inputs["spec"]["serviceRef"]["name"] == target_service.inputs["metadata"]["name"], binding.urn
        assert binding.inputs["spec"]["serviceRef"]["port"] == tg.inputs["port"], binding.urn
        pod = next(r for r in targets if r.type == "kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]
        gate = f"target-health.elbv2.k8s.aws/{binding.inputs['metadata']['name']}"
        assert pod["readinessGates"] == [{"conditionType": gate}], pod.get("readinessGates")
        if inv.spec.gateway is not None:
            assert not any(r.type.endswith("TargetGroupBinding") for r in objects), f"{prefix}: vLLM must not be a target"
            vllm_pod = next(r for r in objects if r.type == "kubernetes:apps/v1:Deployment").inputs["spec"]["template"]
            assert "readinessGates" not in vllm_pod["spec"], f"{prefix}: no ALB target, no target-health gate"
        assert any(r.type == "kubernetes:networking.k8s.io/v1:NetworkPolicy" for r in objects), f"{prefix}: no NetworkPolicy"
        scaled = next(r for r in objects if r.type.endswith("ScaledObject"))
        text = json.dumps(scaled.inputs)
        assert monitoring.prometheus_url() in text, f"{scaled.urn}: KEDA must query the stack's Prometheus"


def test_scale_to_zero_regional_stack_with_hostname(stack_configs):
    """dev variant: scale to zero (no HealthyHostCount alarm; KEDA wakes on the ALB metric), TLS, DNS to the ALB,
    monitoring switched off (Prometheus stays for KEDA; no GPU exporter, no Grafana)."""
    config = {
        **stack_configs["dev"],
        "monitoring": {**stack_configs["dev"]["monitoring"], "enabled": False},
        "autoscaling": {**stack_configs["dev"]["autoscaling"], "scaleToZero": True},
        "endpoint": {"mode": "regional", "hostname": "llm.dev.example.com", "hostedZoneId": "Z0DEV"},
    }
    inv = run_program(config, "dev", helm_template=helm_template)
    names = {a.name for a in inv.of_type(ALARM)}
    assert names == {"use1-lb-error-rate"}, names
    record = _one(inv, "use1-lb-dns")
    assert record.inputs["aliases"][0]["name"].endswith(".elb.amazonaws.com"), record.urn
    assert record.inputs["name"] == "llm.dev.example.com" and record.inputs["zoneId"] == "Z0DEV", record.urn
    assert _one(inv, "use1-lb-cert-validation", "aws:route53/record:Record").inputs["zoneId"] == "Z0DEV"
    (rule,) = inv.of_type("aws:lb/listenerRule:ListenerRule")
    assert {"hostHeader": {"values": ["llm.dev.example.com"]}} in rule.inputs["conditions"], rule.urn
    scaled = next(r for r in inv.resources if r.type.endswith("ScaledObject"))
    alb = _one(inv, "use1-lb-alb")
    assert scaled.inputs["spec"]["minReplicaCount"] == 0, scaled.urn
    assert "app/use1-lb-alb" in json.dumps(scaled.inputs), f"{scaled.urn}: CloudWatch trigger must name {alb.urn}"
    releases = {r.name: r for r in inv.of_type(RELEASE)}
    assert "use1-monitoring-dcgm-exporter" not in releases, sorted(releases)
    assert releases["use1-monitoring-kube-prometheus-stack"].inputs["values"]["grafana"]["enabled"] is False
    kinds = {r.type.rsplit(":", 1)[-1] for r in inv.resources if r.type.startswith("kubernetes:")}
    assert "ServiceMonitor" in kinds, "KEDA's triggers need vLLM's metrics scraped even with monitoring off"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_accelerator_provider_is_tagged(inventories, stack):
    inv = inventories[stack]
    providers = [r for r in inv.resources if r.type == "pulumi:providers:aws" and r.name == "global-us-west-2"]
    if inv.spec.endpoint.mode != "global-accelerator":
        assert not providers, f"{stack}: a regional stack needs no accelerator provider"
        return
    (provider,) = providers
    assert provider.inputs["region"] == "us-west-2", provider.urn
    default_tags = provider.inputs["defaultTags"]
    tags = (json.loads(default_tags) if isinstance(default_tags, str) else default_tags)["tags"]
    assert tags["tradeoff-infra/stack"] == stack and tags["managed-by"] == "pulumi", provider.urn


def test_a_canary_region_with_other_weights_gets_their_root_volume(stack_configs):
    from cli.inventory import run_program

    config = copy.deepcopy(stack_configs["prod-global"])
    config["regions"][2]["model"] = {"revision": "1" * 40, "image": config["model"]["image"],
                                     "source": "Qwen/Qwen2.5-72B-Instruct"}
    inv = run_program(config, "prod-global")
    sizes = {}
    for template in inv.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        if "gpu" in template.name:
            (root,) = template.inputs["blockDeviceMappings"]
            sizes[template.region] = root["ebs"]["volumeSize"]
    pool = inv.spec.regions[2].gpu_pools[0]
    assert sizes["ap-northeast-1"] == inv.spec.disk_size_gib(pool, "Qwen/Qwen2.5-72B-Instruct") > sizes["us-east-1"], sizes
    assert sizes["us-east-1"] == sizes["eu-central-1"] == inv.spec.disk_size_gib(pool)


# ---------------------------------------------------------------- one job per edge component; moved resources keep state


def _hostname_variant(stack_configs) -> dict:
    """dev as a regional stack with a hostname: certificate, validation record and the alias record to the ALB."""
    return {**stack_configs["dev"],
            "endpoint": {"mode": "regional", "hostname": "llm.dev.example.com", "hostedZoneId": "Z0DEV"}}


@pytest.fixture(scope="module")
def tree_inventories(inventories, stack_configs) -> dict[str, Inventory]:
    """The shipped stacks plus `dev-hostname` (no helm: only the AWS resources matter here)."""
    return {**inventories, "dev-hostname": run_program(_hostname_variant(stack_configs), "dev")}


def _component(inv: Inventory, type_: str, name: str):
    return _one(inv, name, type_)


def _child_urn(parent_urn: str, type_: str, name: str) -> str:
    """The URN the engine gives a resource `name` of `type_` under `parent_urn` (the parent's type chain + its type)."""
    head, _, _ = parent_urn.rpartition("::")
    return f"{head}${type_}::{name}"


@pytest.mark.parametrize("stack", [*STACK_NAMES, "dev-hostname"])
def test_each_edge_component_holds_one_job(tree_inventories, stack):
    """LoadBalancer = what awsx's ApplicationLoadBalancer holds; the certificate, the alarms, the DNS alias and
    the node role live in their own homes, and both node kinds are given the one node role."""
    inv = tree_inventories[stack]
    spec = inv.spec
    for region, prefix in _regions(inv):
        lb = _component(inv, LOAD_BALANCER_TYPE, f"{prefix}-lb")
        assert {r.type for r in inv.children(lb.urn)} <= LOAD_BALANCER_CHILD_TYPES, sorted(r.urn for r in inv.children(lb.urn))

        alarms = _component(inv, ALARMS_TYPE, f"{prefix}-lb-alarms")
        assert {r.urn for r in inv.children(alarms.urn)} == {a.urn for a in inv.of_type(ALARM, region.region)}, alarms.urn

        listeners = {r.inputs["port"]: r for r in inv.of_type("aws:lb/listener:Listener", region.region)}
        certificates = [r for r in inv.of_type(CERTIFICATE_TYPE) if r.region == region.region]
        if spec.endpoint.hostname:
            (certificate,) = certificates
            children = {r.type: r for r in inv.children(certificate.urn)}
            first = region.region == spec.regions[0].region
            assert set(children) == {CERTIFICATE, "aws:acm/certificateValidation:CertificateValidation",
                                     *([RECORD] if first else [])}, certificate.urn
            # The HTTPS listener serves the validated certificate the component hands over as an ARN.
            assert listeners[443].inputs["certificateArn"] == children[CERTIFICATE].outputs["arn"], listeners[443].urn
        else:
            assert not certificates, certificates
        records = [r for r in inv.of_type(RECORD, region.region) if r.inputs.get("aliases")]
        if spec.endpoint.hostname and spec.endpoint.mode == "regional":
            (record,) = records
            region_component = _one(inv, prefix, REGION_TYPE)
            assert record.parent == region_component.urn, record.urn
            assert record.inputs["aliases"][0]["name"] == _one(inv, f"{prefix}-lb-alb").outputs["dnsName"], record.urn

        role_component = _component(inv, NODE_ROLE_TYPE, f"{prefix}-node-role")
        (role,) = [r for r in inv.children(role_component.urn) if r.type == "aws:iam/role:Role"]
        system = _component(inv, SYSTEM_NODES_TYPE, f"{prefix}-system")
        assert not [r for r in inv.descendants(system.urn) if r.type.startswith("aws:iam/")], system.urn
        groups = inv.of_type("aws:eks/nodeGroup:NodeGroup", region.region)
        assert len(groups) == 1 + len(region.gpu_pools)
        assert {g.inputs["nodeRoleArn"] for g in groups} == {role.outputs["arn"]}, [g.urn for g in groups]


@pytest.mark.parametrize("stack", [*STACK_NAMES, "dev-hostname"])
def test_moved_resources_carry_aliases_to_their_former_urns(tree_inventories, stack):
    """Every resource moved out of LoadBalancer (certificate, validation, alarms, DNS alias) or SystemNodeGroup
    (node role, policy attachments) keeps its name and names its former URN as an alias, so `pulumi up` on a
    stack created before moves its state instead of replacing it; no former URN is a live one."""
    inv = tree_inventories[stack]
    live = {r.urn for r in inv.resources}
    moved = 0
    for region, prefix in _regions(inv):
        region_urn = _one(inv, prefix, REGION_TYPE).urn
        lb_urn = _child_urn(region_urn, LOAD_BALANCER_TYPE, f"{prefix}-lb")
        system_urn = _child_urn(region_urn, SYSTEM_NODES_TYPE, f"{prefix}-system")
        assert {lb_urn, system_urn} <= live, "the former parents are still the program's LoadBalancer and SystemNodeGroup"
        expected: dict[str, tuple[str, set[str]]] = {
            NODE_ROLE_TYPE: (system_urn, {f"{prefix}-system-node-role"} | {f"{prefix}-system-{p}" for p in NODE_POLICIES}),
            ALARMS_TYPE: (lb_urn, {f"{prefix}-lb-error-rate"}
                          | ({f"{prefix}-lb-no-healthy-targets"} if inv.spec.replicas_for(region)[0] > 0 else set())),
        }
        if inv.spec.endpoint.hostname:
            expected[CERTIFICATE_TYPE] = (lb_urn, {f"{prefix}-lb-cert", f"{prefix}-lb-cert-validation"})
        for component_type, (former_parent, names) in expected.items():
            (component,) = [r for r in inv.of_type(component_type) if r.parent == region_urn]
            children = inv.children(component.urn)
            assert {r.name for r in children} == names, component.urn     # names unchanged
            for r in children:
                former = _child_urn(former_parent, r.type, r.name)
                assert former in inv.aliases.get(r.urn, []) and former not in live, (r.urn, inv.aliases.get(r.urn))
                moved += 1
        for record in (r for r in inv.of_type(RECORD, region.region) if r.parent == region_urn):
            assert record.name == f"{prefix}-lb-dns", record.urn
            assert _child_urn(lb_urn, RECORD, record.name) in inv.aliases.get(record.urn, []), record.urn
            moved += 1
    assert moved >= 2 * len(inv.spec.regions)
