"""Pure parts of the edge components (policies, chart values, tag maps), without Pulumi."""

from __future__ import annotations

import ipaddress

import pytest

from infra.components import (
    alarms, autoscaling, global_endpoint, load_balancer, load_balancer_controller, monitoring, vllm,
)
from infra.spec import GpuPoolSpec, MonitoringSpec, StackSpec
from tests.paths import DATA

OIDC_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
TOPIC_ARN = "arn:aws:sns:eu-central-1:123456789012:alarms"


def _spec(stack_configs, name: str) -> StackSpec:
    from infra.spec import parse_stack_config

    return parse_stack_config(stack_configs[name], name)


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _assert_no_wildcard_action(policy: dict, what: str) -> None:
    for statement in policy["Statement"]:
        for action in _actions(statement):
            assert "*" not in action, f"{what}: wildcard action {action!r} in {statement}"


# ---------------------------------------------------------------- IAM


def test_keda_policy_is_cloudwatch_read_only():
    policy = autoscaling.keda_operator_policy()
    _assert_no_wildcard_action(policy, "keda-operator")
    actions = {a for s in policy["Statement"] for a in _actions(s)}
    assert actions == {"cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics"}


def test_cluster_autoscaler_writes_only_to_its_own_tagged_groups():
    policy = autoscaling.cluster_autoscaler_policy("prod-use1", "us-east-1", OIDC_ARN)
    _assert_no_wildcard_action(policy, "cluster-autoscaler")
    writes = {"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}
    for statement in policy["Statement"]:
        actions = set(_actions(statement))
        if actions & writes:
            assert actions <= writes, f"write statement mixes other actions: {statement}"
            assert statement["Condition"] == {
                "StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/prod-use1": "owned"}
            }, statement
        elif "eks:DescribeNodegroup" in actions:
            assert statement["Resource"] == "arn:aws:eks:us-east-1:123456789012:nodegroup/prod-use1/*", statement
        else:
            assert all(a.split(":")[1].startswith(("Describe", "Get")) for a in actions), statement
    granted = {a for s in policy["Statement"] for a in _actions(s)}
    assert writes <= granted and "eks:DescribeNodegroup" in granted


def test_cluster_autoscaler_policy_refuses_an_arn_without_account():
    with pytest.raises(ValueError, match="account"):
        autoscaling.cluster_autoscaler_policy("c", "us-east-1", "not-an-arn")


# ---------------------------------------------------------------- cluster-autoscaler


def test_scale_from_zero_tags_describe_a_gpu_node():
    pool = GpuPoolSpec(name="l40s-x4", instance_type="g6e.12xlarge", min_nodes=0, max_nodes=4)
    tags = autoscaling.scale_from_zero_tags(pool)
    prefix = "k8s.io/cluster-autoscaler/node-template"
    assert tags == {
        f"{prefix}/label/tradeoff-infra.io/workload": "llm-inference",
        f"{prefix}/label/tradeoff-infra.io/gpu-pool": "l40s-x4",
        f"{prefix}/label/tradeoff-infra.io/gpu": "L40S",
        f"{prefix}/label/k8s.amazonaws.com/accelerator": "nvidia-l40s",  # cluster-autoscaler's GPU label
        f"{prefix}/label/nvidia.com/gpu.present": "true",
        f"{prefix}/taint/nvidia.com/gpu": "true:NoSchedule",
        f"{prefix}/resources/nvidia.com/gpu": "4",
    }
    suffixes = [autoscaling.tag_resource_suffix(k) for k in tags]
    assert len(set(suffixes)) == len(suffixes), suffixes
    assert all(len(k) <= 128 for k in tags), "AWS tag keys are at most 128 characters"


def test_cluster_autoscaler_values(stack_configs):
    spec = _spec(stack_configs, "prod-global")
    values = autoscaling.cluster_autoscaler_values(spec, "eu-central-1", "prod-euc1", "arn:aws:iam::1:role/ca")
    assert values["autoDiscovery"] == {"clusterName": "prod-euc1"}
    assert values["awsRegion"] == "eu-central-1"
    assert values["image"]["tag"] == "v1.35.2", "image minor must match cluster.kubernetesVersion 1.35"
    assert values["rbac"]["serviceAccount"]["name"] == autoscaling.CLUSTER_AUTOSCALER_SERVICE_ACCOUNT
    assert values["rbac"]["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/ca"}
    args = values["extraArgs"]
    assert args["balance-similar-node-groups"] is True
    assert args["balancing-ignore-label_1"] == "tradeoff-infra.io/gpu-pool"
    assert args["skip-nodes-with-system-pods"] is False
    assert args["skip-nodes-with-local-storage"] is False
    assert args["expander"] in ("least-waste", "priority")
    assert args["scale-down-unneeded-time"] == f"{spec.autoscaling.node_scale_down_unneeded_minutes}m"
    assert args["scale-down-delay-after-add"] == "10m"
    assert values["nodeSelector"] == {"tradeoff-infra.io/workload": "system"}


def test_cluster_autoscaler_image_for_unknown_kubernetes_version_names_the_key():
    with pytest.raises(ValueError, match="cluster.kubernetesVersion '1.40'"):
        autoscaling.cluster_autoscaler_image_tag("1.40")


def test_keda_values_use_irsa_on_system_nodes():
    values = autoscaling.keda_values("arn:aws:iam::1:role/keda")
    assert values["podIdentity"]["aws"]["irsa"] == {"enabled": True, "roleArn": "arn:aws:iam::1:role/keda",
                                                   "stsRegionalEndpoints": "true"}
    assert values["serviceAccount"]["operator"]["name"] == autoscaling.KEDA_OPERATOR_SERVICE_ACCOUNT
    assert values["nodeSelector"] == {"tradeoff-infra.io/workload": "system"}


@pytest.mark.parametrize("chart", [autoscaling.KEDA_CHART, autoscaling.CLUSTER_AUTOSCALER_CHART,
                                   monitoring.KUBE_PROMETHEUS_STACK_CHART, monitoring.DCGM_EXPORTER_CHART,
                                   load_balancer_controller.LOAD_BALANCER_CONTROLLER_CHART])
def test_charts_are_pinned_with_a_source(chart):
    assert chart.version[0].isdigit() and chart.version.count(".") == 2, chart
    assert chart.repo.startswith("https://"), chart
    assert "commit" in chart.source and "20" in chart.source, chart


# ---------------------------------------------------------------- monitoring


def _kps_values(spec: MonitoringSpec) -> dict:
    return monitoring.kube_prometheus_stack_values(
        spec, region="eu-central-1", alarm_topic_arn=TOPIC_ARN, alertmanager_role_arn="arn:aws:iam::1:role/am"
    )


def test_kube_prometheus_stack_values_follow_the_spec():
    spec = MonitoringSpec(retention_days=30, storage_gib=200, grafana=True)
    values = _kps_values(spec)
    prometheus = values["prometheus"]["prometheusSpec"]
    assert prometheus["retention"] == "30d"
    assert prometheus["retentionSize"] == "170GiB", "TSDB capped below the volume size"
    claim = prometheus["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "gp3-encrypted"
    assert claim["resources"]["requests"]["storage"] == "200Gi"
    assert prometheus["serviceMonitorSelectorNilUsesHelmValues"] is False
    assert prometheus["ruleSelectorNilUsesHelmValues"] is False
    dashboards = values["grafana"]["sidecar"]["dashboards"]
    assert values["grafana"]["enabled"] is True
    assert (dashboards["label"], dashboards["labelValue"], dashboards["searchNamespace"]) == ("grafana_dashboard", "1", "ALL")
    system = {"tradeoff-infra.io/workload": "system"}
    for path in (("prometheusOperator",), ("prometheus", "prometheusSpec"), ("alertmanager", "alertmanagerSpec"),
                 ("grafana",), ("kube-state-metrics",), ("prometheusOperator", "admissionWebhooks", "patch")):
        node = values
        for key in path:
            node = node[key]
        assert node["nodeSelector"] == system, f"{'.'.join(path)} must run on system nodes"


def test_kube_state_metrics_exports_the_node_labels_actuals_counts_by():
    """`actuals` counts GPU node-hours by instance type, capacity type and pool from kube_node_labels; the chart's
    kube-state-metrics exports no node label unless its metricLabelsAllowlist names it."""
    allow = _kps_values(MonitoringSpec())["kube-state-metrics"]["metricLabelsAllowlist"]
    assert allow == ["nodes=[node.kubernetes.io/instance-type,eks.amazonaws.com/capacityType,tradeoff-infra.io/gpu-pool]"]


def test_grafana_follows_its_switch():
    assert _kps_values(MonitoringSpec(grafana=False))["grafana"]["enabled"] is False
    assert _kps_values(MonitoringSpec(enabled=False))["grafana"]["enabled"] is False


def test_grafana_admin_password_is_generated_not_a_chart_default():
    """kube-prometheus-stack < 79 shipped admin password "prom-operator"; from 79 Grafana generates one."""
    major = int(monitoring.KUBE_PROMETHEUS_STACK_CHART.version.split(".")[0])
    assert major >= monitoring.GRAFANA_RANDOM_PASSWORD_SINCE_MAJOR, monitoring.KUBE_PROMETHEUS_STACK_CHART.version
    grafana = _kps_values(MonitoringSpec(grafana=True))["grafana"]
    assert "adminPassword" not in grafana and "existingSecret" not in grafana.get("admin", {}), grafana


def test_alertmanager_sends_warning_and_critical_to_the_alarm_topic():
    alertmanager = _kps_values(MonitoringSpec())["alertmanager"]
    assert alertmanager["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/am"}
    config = alertmanager["config"]
    receivers = {r["name"]: r for r in config["receivers"]}
    assert receivers["sns"]["sns_configs"] == [{"topic_arn": TOPIC_ARN, "sigv4": {"region": "eu-central-1"}, "send_resolved": True}]
    assert config["route"]["receiver"] == "null", "unmatched alerts (info) stay silent"
    routes = config["route"]["routes"]
    assert routes[0] == {"receiver": "null", "matchers": ['alertname =~ "Watchdog|InfoInhibitor"']}
    assert routes[1]["receiver"] == "sns" and 'severity =~ "warning|critical"' in routes[1]["matchers"]
    assert all(r["receiver"] in receivers for r in routes)


def test_alertmanager_may_publish_to_its_topic_only():
    policy = monitoring.alertmanager_publish_policy(TOPIC_ARN)
    assert policy["Statement"] == [{"Sid": "PublishAlerts", "Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC_ARN}]


def test_prometheus_url_is_the_charts_service():
    # kube-prometheus-stack names the Service `<fullname>-prometheus` on port 9090.
    assert monitoring.prometheus_url() == "http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090"
    assert len(monitoring.FULLNAME) <= 26, "the chart cuts fullnameOverride at 26 characters"


def test_dcgm_exporter_runs_on_gpu_nodes_only():
    values = monitoring.dcgm_exporter_values()
    assert values["nodeSelector"] == {"tradeoff-infra.io/workload": "llm-inference"}
    assert values["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert values["serviceMonitor"]["enabled"] is True
    security = values["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] != 0, security
    # `add: []`, not absent: Helm would merge the chart default's SYS_ADMIN back in (test_dcgm_exporter_render.py).
    assert security["capabilities"] == {"add": [], "drop": ["ALL"]}, security
    assert security["allowPrivilegeEscalation"] is False


def test_dcgm_exporter_needs_no_profiling_metrics():
    """Non-root without SYS_ADMIN drops only DCGM_FI_PROF_*: nothing the dashboard or alerts may use is one."""
    import json

    data = json.loads((DATA / "exported_metrics.json").read_text())
    dcgm = data["exporters"]["dcgm-exporter"]
    names = [n for kind in ("gauges", "counters", "histograms") for n in dcgm.get(kind, [])]
    assert names and not [n for n in names if n.startswith("DCGM_FI_PROF_")]


# ---------------------------------------------------------------- load balancer


def test_listener_ports_and_ingress(stack_configs):
    dev, prod = _spec(stack_configs, "dev"), _spec(stack_configs, "prod-us")
    assert load_balancer.listener_ports(dev) == [80]
    assert load_balancer.listener_ports(prod) == [80, 443]
    assert load_balancer.ingress_rules(prod) == [{"port": 80, "cidr_ipv4": "0.0.0.0/0"}, {"port": 443, "cidr_ipv4": "0.0.0.0/0"}]
    assert load_balancer.ingress_rules(dev) == [{"port": 80, "cidr_ipv4": "203.0.113.0/24"}]
    for rule in load_balancer.ingress_rules(_spec(stack_configs, "prod-global")):
        assert not ipaddress.ip_network(rule["cidr_ipv4"]).prefixlen == 0, rule


def test_ipv6_cidrs_get_the_ipv6_field(stack_configs):
    config = {**stack_configs["dev"], "endpoint": {"mode": "regional", "allowedCidrs": ["2001:db8::/32"]}}
    from infra.spec import parse_stack_config

    assert load_balancer.ingress_rules(parse_stack_config(config)) == [{"port": 80, "cidr_ipv6": "2001:db8::/32"}]


def test_deletion_protection_spares_dev_stacks_only():
    assert load_balancer.deletion_protected("prod-us") is True
    assert load_balancer.deletion_protected("dev") is False
    assert load_balancer.deletion_protected("dev-alice") is False


def test_the_load_balancer_module_holds_no_alarm():
    """Issue 12.6: the alarms are alarms.py's; load_balancer.py re-exporting their names kept a second import path."""
    assert not [name for name in vars(load_balancer) if name.startswith(("ERROR_RATE", "NO_HEALTHY")) or name == "error_rate_queries"]


def test_error_rate_counts_alb_and_target_5xx():
    queries = alarms.error_rate_queries("app/x/1")
    returned = [q for q in queries if q["return_data"]]
    assert len(returned) == 1 and "elb5xx" in returned[0]["expression"] and "target5xx" in returned[0]["expression"]
    metrics = {q["metric"]["metric_name"] for q in queries if "metric" in q}
    assert metrics == {"RequestCount", "HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count"}
    assert all(q["metric"]["dimensions"] == {"LoadBalancer": "app/x/1"} for q in queries if "metric" in q)


# ---------------------------------------------------------------- global endpoint, vLLM


def test_endpoint_group_settings(stack_configs):
    spec = _spec(stack_configs, "prod-us")
    settings = global_endpoint.endpoint_group_settings(spec, spec.regions[1])
    assert settings["endpoint_group_region"] == "us-west-2"
    assert settings["traffic_dial_percentage"] == spec.regions[1].traffic_dial
    # An ALB endpoint's health is its target health; GA's own health-check settings do nothing for it.
    assert not [k for k in settings if k.startswith("health_check") or k == "threshold_count"], settings


def test_chart_fullname_matches_the_chart_helper():
    assert vllm.chart_fullname("use1-vllm") == "use1-vllm"
    assert vllm.chart_fullname("use1") == "use1-vllm"
    assert len(vllm.chart_fullname("x" * 80)) <= 63


def test_chart_objects_inherit_the_services_prerequisites():
    import pulumi

    class Earlier(pulumi.Resource):
        def __init__(self):  # a stand-in; never registered
            pass

    crds, namespace = Earlier(), Earlier()
    opts = pulumi.ResourceOptions()
    opts.depends_on = [namespace]
    vllm._depend_on([crds])({"kind": "ScaledObject"}, opts)
    assert opts.depends_on == [namespace, crds]


def test_cluster_autoscaler_has_an_image_for_every_supported_kubernetes_version():
    from infra.components.autoscaling import CLUSTER_AUTOSCALER_IMAGE_TAGS
    from infra.spec import KUBERNETES_VERSIONS

    for version in KUBERNETES_VERSIONS:
        assert CLUSTER_AUTOSCALER_IMAGE_TAGS[version].startswith(f"v{version}."), version
