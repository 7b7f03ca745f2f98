"""Layer 1: each Pulumi resource type maps to a priced record, a documented no-cost type, or `unknown`."""

from __future__ import annotations

import pytest

from cli.estimate import mapping
from tests.builders import Res


def records_of(*resources):
    return {m.resource.name: m for m in mapping.classify(resources)}


def test_cluster_maps_to_control_plane_with_version():
    m = records_of(Res("aws:eks/cluster:Cluster", "use1-eks", {"version": "1.32"}))["use1-eks"]
    assert m.records == [mapping.ControlPlane("use1-eks", "us-east-1", "1.32")]


def test_gpu_node_group_reads_scaling_capacity_pool_and_launch_template_disk():
    lt = Res("aws:ec2/launchTemplate:LaunchTemplate", "use1-gpu-l4-lt",
             {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 110.0, "volumeType": "gp3"}}]},
             parent="urn:pool")
    ng = Res("aws:eks/nodeGroup:NodeGroup", "use1-gpu-l4-ng", {
        "instanceTypes": ["g6.xlarge"], "capacityType": "SPOT",
        "scalingConfig": {"minSize": 0.0, "desiredSize": 1.0, "maxSize": 2.0},
        "labels": {"tradeoff-infra.io/workload": "llm-inference", "tradeoff-infra.io/gpu-pool": "l4"},
        "launchTemplate": {"id": "lt-123", "version": "1"}}, parent="urn:pool")
    m = records_of(lt, ng)["use1-gpu-l4-ng"]
    (record,) = m.records
    assert record == mapping.NodeGroup("use1-gpu-l4-ng", "us-east-1", "g6.xlarge", "spot", 0, 1, 2, 110.0, "gp3", "l4",
                                       "launch template use1-gpu-l4-lt")
    assert records_of(lt)["use1-gpu-l4-lt"].no_cost  # its volume is priced with the node group


def test_provisioned_gp3_iops_and_throughput_are_read_from_the_launch_template():
    lt = Res("aws:ec2/launchTemplate:LaunchTemplate", "use1-gpu-l4-lt",
             {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {
                 "volumeSize": 110.0, "volumeType": "gp3", "iops": 6000.0, "throughput": 500.0}}]}, parent="urn:pool")
    ng = Res("aws:eks/nodeGroup:NodeGroup", "use1-gpu-l4-ng", {
        "instanceTypes": ["g6.xlarge"], "scalingConfig": {"minSize": 1.0, "desiredSize": 1.0, "maxSize": 2.0},
        "labels": {"tradeoff-infra.io/workload": "llm-inference", "tradeoff-infra.io/gpu-pool": "l4"}}, parent="urn:pool")
    (record,) = records_of(lt, ng)["use1-gpu-l4-ng"].records
    assert (record.disk_iops, record.disk_throughput_mibps) == (6000.0, 500.0)


def test_system_node_group_has_no_pool_and_falls_back_to_disk_size():
    ng = Res("aws:eks/nodeGroup:NodeGroup", "use1-system-ng", {
        "instanceTypes": ["m6i.large"], "scalingConfig": {"minSize": 2.0, "desiredSize": 2.0, "maxSize": 2.0},
        "labels": {"tradeoff-infra.io/workload": "system"}, "diskSize": 60.0})
    (record,) = records_of(ng)["use1-system-ng"].records
    assert record.gpu_pool is None and record.capacity_type == "on-demand" and record.disk_gib == 60.0


def test_node_group_without_instance_type_is_an_error_naming_it():
    with pytest.raises(mapping.MappingError, match="use1-x-ng"):
        mapping.classify([Res("aws:eks/nodeGroup:NodeGroup", "use1-x-ng", {"scalingConfig": {}})])


def test_nat_eip_lb_accelerator_kms():
    got = records_of(
        Res("aws:ec2/natGateway:NatGateway", "nat0", {"connectivityType": "public"}),
        Res("aws:ec2/eip:Eip", "eip0", {"domain": "vpc"}),
        Res("aws:lb/loadBalancer:LoadBalancer", "alb", {"loadBalancerType": "application", "internal": False,
                                                         "subnets": ["a", "b", "c"]}),
        Res("aws:globalaccelerator/accelerator:Accelerator", "ga", region="us-west-2"),
        Res("aws:kms/key:Key", "key"),
    )
    assert got["nat0"].records == [mapping.NatGateway("nat0", "us-east-1")]
    assert got["eip0"].records == [mapping.PublicIpv4("eip0", "us-east-1", 1)]
    assert got["alb"].records == [mapping.ElasticLoadBalancer("alb", "us-east-1", "application", True, 3)]
    assert got["ga"].records == [mapping.GlobalAccelerator("ga", "us-west-2")]
    assert got["key"].records == [mapping.KmsKey("key", "us-east-1")]


def test_metric_alarm_counts_metrics_and_resolution():
    got = records_of(
        Res("aws:cloudwatch/metricAlarm:MetricAlarm", "simple", {"metricName": "X", "period": 60.0}),
        Res("aws:cloudwatch/metricAlarm:MetricAlarm", "math", {"metricQueries": [
            {"id": "a", "metric": {"metricName": "A", "period": 60.0}}, {"id": "b", "metric": {"metricName": "B"}},
            {"id": "e", "expression": "a/b"}]}),
        Res("aws:cloudwatch/metricAlarm:MetricAlarm", "fast", {"metricName": "X", "period": 10.0}),
    )
    assert got["simple"].records[0].metrics == 1 and not got["simple"].records[0].high_resolution
    assert got["math"].records[0].metrics == 2
    assert got["fast"].records[0].high_resolution


def test_log_group_kind_and_retention():
    (record,) = records_of(Res("aws:cloudwatch/logGroup:LogGroup", "logs", {
        "name": "/aws/eks/c/cluster", "retentionInDays": 90.0}))["logs"].records
    assert record.kind == "eks-control-plane" and record.retention_days == 90


def test_gateway_vpc_endpoint_is_free_interface_is_priced():
    got = records_of(
        Res("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {"vpcEndpointType": "Gateway", "serviceName": "com.amazonaws.us-east-1.s3"}),
        Res("aws:ec2/vpcEndpoint:VpcEndpoint", "ecr", {"vpcEndpointType": "Interface", "serviceName": "ecr.api",
                                                        "subnetIds": ["a", "b"]}),
    )
    assert got["s3"].records == [] and "free" in got["s3"].no_cost
    assert got["ecr"].records == [mapping.InterfaceEndpoint("ecr", "us-east-1", "ecr.api", 2)]


def test_kube_prometheus_stack_pvc_becomes_gp3_storage():
    values = {"prometheus": {"prometheusSpec": {"storageSpec": {"volumeClaimTemplate": {"spec": {
        "resources": {"requests": {"storage": "50Gi"}}}}}}}}
    got = records_of(
        Res("kubernetes:helm.sh/v3:Release", "kps", {"chart": "kube-prometheus-stack", "values": values}),
        Res("kubernetes:helm.sh/v3:Release", "keda", {"chart": "keda", "values": {}}),
    )
    assert got["kps"].records == [mapping.BlockStorage("kps prometheus", "us-east-1", 50.0, "gp3", "Prometheus TSDB volume")]
    assert got["keda"].records == [] and got["keda"].no_cost


@pytest.mark.parametrize("quantity,gib", [("50Gi", 50), ("1Ti", 1024), ("512Mi", 0.5), ("100G", 100e9 / 2**30)])
def test_quantity_parsing(quantity, gib):
    assert mapping.parse_quantity_gib(quantity) == pytest.approx(gib)


@pytest.mark.parametrize("type_", ["aws:iam/role:Role", "aws:ec2/subnet:Subnet", "aws:ec2/securityGroup:SecurityGroup",
                                   "aws:route53/record:Record", "aws:acm/certificate:Certificate",
                                   "kubernetes:core/v1:Namespace", "tradeoff-infra:network:Network"])
def test_free_types_are_listed_with_a_reason(type_):
    (m,) = mapping.classify([Res(type_, "x")])
    assert not m.records and m.no_cost and not m.unknown


def test_unknown_type_is_reported_not_dropped():
    (m,) = mapping.classify([Res("aws:rds/instance:Instance", "db")])
    assert m.unknown and not m.records and m.no_cost is None
