"""Layer 1 of the estimate (Infracost-style): planned Pulumi resource -> small priced record (`records.py`).

A mapping reads only the resource's wire inputs (camelCase, numbers as floats) and its region; it
knows nothing about prices. Every resource type lands in exactly one bucket: a priced record, a
documented no-cost type, or `unknown` (reported by the estimate, never dropped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from cli.estimate.records import (
    BlockStorage, ControlPlane, GlobalAccelerator, InterfaceEndpoint, KmsKey, ElasticLoadBalancer, LogGroup, MetricAlarm,
    NatGateway, NodeGroup, PricedRecord, PublicIpv4, WeightsMirrorBucket,
)
from infra.conventions import GPU_POOL_LABEL as POOL_LABEL
from infra.conventions import WORKLOAD_LABEL
from infra.sizing import GP3_INCLUDED_IOPS, GP3_INCLUDED_THROUGHPUT_MIBPS
from infra.weights_mirror_plan import PURPOSE_TAG_KEY, PURPOSE_TAG_VALUE

EKS_DEFAULT_DISK_GIB = 20  # EKS managed node group default diskSize without a launch template


class Resource(Protocol):
    """What the mappings need of a planned resource (cli.planned.PlannedResource has it)."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    region: str | None
    parent: str | None


@dataclass
class Mapped:
    resource: Resource
    records: list[PricedRecord] = field(default_factory=list)
    no_cost: str | None = None
    """Why a resource type costs nothing (listed, not hidden)."""
    unknown: bool = False


# ---------------------------------------------------------------- helpers


def _int(value: Any, default: int = 0) -> int:
    return int(value) if isinstance(value, (int, float)) else default


def _region(r: Resource) -> str:
    return r.region or "unknown-region"


def _dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def launch_template_disk(lt: Resource) -> tuple[float, str, float, float] | None:
    """Root volume (GiB, type, IOPS, throughput MiB/s) of a launch template's first EBS block device
    mapping; IOPS and throughput default to gp3's included baseline (`infra.sizing.GP3_INCLUDED_*`)."""
    for mapping in lt.inputs.get("blockDeviceMappings") or []:
        ebs = mapping.get("ebs") or {}
        if isinstance(ebs.get("volumeSize"), (int, float)):
            # pulumi-aws takes these as strings on launch templates; numbers under mocks
            iops = float(ebs.get("iops") or GP3_INCLUDED_IOPS)
            throughput = float(ebs.get("throughput") or GP3_INCLUDED_THROUGHPUT_MIBPS)
            return float(ebs["volumeSize"]), str(ebs.get("volumeType") or "gp3"), iops, throughput
    return None


def _launch_template_for(node_group: Resource, templates: list[Resource]) -> Resource | None:
    ref = node_group.inputs.get("launchTemplate") or {}
    by_name = [t for t in templates if ref.get("name") and t.inputs.get("name") == ref.get("name")]
    if by_name:
        return by_name[0]
    same_region = [t for t in templates if t.region == node_group.region]
    siblings = [t for t in same_region if t.parent == node_group.parent]
    if len(siblings) == 1:
        return siblings[0]
    # e.g. `use1-gpu-l4-lt` next to `use1-gpu-l4`: the longest shared name prefix wins
    prefixed = [t for t in same_region if t.name.startswith(node_group.name) or node_group.name.startswith(t.name.removesuffix("-lt"))]
    return prefixed[0] if len(prefixed) == 1 else None


# ---------------------------------------------------------------- mappings per type


def map_cluster(r: Resource, ctx: MappingContext) -> list[PricedRecord]:
    return [ControlPlane(r.name, _region(r), str(r.inputs.get("version") or "unknown"))]


def map_node_group(r: Resource, ctx: MappingContext) -> list[PricedRecord]:
    scaling = r.inputs.get("scalingConfig") or {}
    labels = r.inputs.get("labels") or {}
    lt = _launch_template_for(r, ctx.launch_templates)
    instance_types = r.inputs.get("instanceTypes") or ([lt.inputs.get("instanceType")] if lt and lt.inputs.get("instanceType") else [])
    if not instance_types:
        raise MappingError(r, "instanceTypes (nor a launch template instanceType) is set")
    disk = launch_template_disk(lt) if lt else None
    iops, throughput = float(GP3_INCLUDED_IOPS), float(GP3_INCLUDED_THROUGHPUT_MIBPS)
    if disk:
        disk_gib, disk_type, iops, throughput = disk
        disk_source = f"launch template {lt.name}"
    elif isinstance(r.inputs.get("diskSize"), (int, float)):
        disk_gib, disk_type, disk_source = float(r.inputs["diskSize"]), "gp3", "node group diskSize"
    else:
        disk_gib, disk_type, disk_source = float(EKS_DEFAULT_DISK_GIB), "gp3", "EKS default (no diskSize, no launch template volume)"
    capacity = str(r.inputs.get("capacityType") or "ON_DEMAND").lower().replace("_", "-")
    pool = labels.get(POOL_LABEL) if labels.get(WORKLOAD_LABEL) != "system" else None
    return [NodeGroup(
        name=r.name, region=_region(r), instance_type=str(instance_types[0]), capacity_type=capacity,
        min_nodes=_int(scaling.get("minSize")), desired_nodes=_int(scaling.get("desiredSize"), _int(scaling.get("minSize"))),
        max_nodes=_int(scaling.get("maxSize")), disk_gib=disk_gib, disk_type=disk_type, gpu_pool=pool,
        disk_source=disk_source, disk_iops=iops, disk_throughput_mibps=throughput,
    )]


def map_nat_gateway(r: Resource, ctx: MappingContext) -> list[PricedRecord]:
    return [NatGateway(r.name, _region(r))]  # public or private, a NAT gateway bills by the hour


def map_eip(r: Resource, ctx: MappingContext) -> list[PricedRecord]:
    return [PublicIpv4(r.name, _region(r), 1)]


def map_load_balancer(r: Resource, ctx: MappingContext) -> list[PricedRecord]:
    kind = str(r.inputs.get("loadBalancerType") or "application")
    subnets = len(r.inputs.get("subnets") or r.inputs.get("subnetMappings") or []) or 2
    internet_facing = not r.inputs.get("internal", False)
    return [ElasticLoadBalancer(r.name, _region(r), kind, internet_facing, subnets)]


def map_accelerator(r: Resource, ctx: MappingContext) -> list[PricedRecord]:
    return [GlobalAccelerator(r.name, _region(r))]


def _weights_mirror(r: Resource) -> bool:
    return (r.inputs.get("tags") or {}).get(PURPOSE_TAG_KEY) == PURPOSE_TAG_VALUE


def map_kms_key(r: Resource, ctx: MappingContext) -> list[PricedRecord]:
    return [KmsKey(r.name, _region(r), "weights mirror" if _weights_mirror(r) else "EKS secrets")]


def map_s3_bucket(r: Resource, ctx: MappingContext) -> list[PricedRecord]:
    return [WeightsMirrorBucket(r.name, _region(r))] if _weights_mirror(r) else []


def map_metric_alarm(r: Resource, ctx: MappingContext) -> list[PricedRecord]:
    queries = r.inputs.get("metricQueries") or []
    metrics = sum(1 for q in queries if q.get("metric")) if queries else 1
    high_res = _int(r.inputs.get("period"), 60) < 60
    return [MetricAlarm(r.name, _region(r), max(1, metrics), high_res)]


def map_log_group(r: Resource, ctx: MappingContext) -> list[PricedRecord]:
    name = str(r.inputs.get("name") or r.name)
    kind = "eks-control-plane" if name.startswith("/aws/eks/") and name.endswith("/cluster") else "other"
    retention = r.inputs.get("retentionInDays")
    return [LogGroup(r.name, _region(r), name, _int(retention) or None, kind)]


def map_vpc_endpoint(r: Resource, ctx: MappingContext) -> list[PricedRecord]:
    kind = str(r.inputs.get("vpcEndpointType") or "Gateway")
    if kind == "Gateway":
        return []
    zones = len(r.inputs.get("subnetIds") or []) or 1
    return [InterfaceEndpoint(r.name, _region(r), str(r.inputs.get("serviceName")), zones)]


def prometheus_storage(values: dict) -> float | None:
    """GiB kube-prometheus-stack's Prometheus asks for (volumeClaimTemplate), or None without persistence."""
    claim = _dig(values, "prometheus", "prometheusSpec", "storageSpec", "volumeClaimTemplate", "spec", "resources",
                 "requests", "storage")
    return parse_quantity_gib(claim) if claim else None


def parse_quantity_gib(quantity: Any) -> float:
    """Kubernetes quantity (`50Gi`, `100G`, `1Ti`) -> GiB."""
    text = str(quantity).strip()
    units = {"Ki": 1 / 1024**2, "Mi": 1 / 1024, "Gi": 1, "Ti": 1024, "K": 1e3 / 1024**3, "M": 1e6 / 1024**3,
             "G": 1e9 / 1024**3, "T": 1e12 / 1024**3}
    for suffix in sorted(units, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * units[suffix]
    return float(text) / 1024**3


def map_helm_release(r: Resource, ctx: MappingContext) -> list[PricedRecord]:
    values = r.inputs.get("values") or {}
    chart = str(r.inputs.get("chart") or "")
    records: list[PricedRecord] = []
    if "kube-prometheus-stack" in chart:
        gib = prometheus_storage(values)
        if gib:
            records.append(BlockStorage(f"{r.name} prometheus", _region(r), gib, "gp3", "Prometheus TSDB volume"))
        grafana = values.get("grafana") or {}
        if grafana.get("enabled", True) and _dig(grafana, "persistence", "enabled"):
            size = _dig(grafana, "persistence", "size") or "10Gi"
            records.append(BlockStorage(f"{r.name} grafana", _region(r), parse_quantity_gib(size), "gp3", "Grafana volume"))
        alertmanager_claim = _dig(values, "alertmanager", "alertmanagerSpec", "storage", "volumeClaimTemplate", "spec",
                                  "resources", "requests", "storage")
        if alertmanager_claim:
            records.append(BlockStorage(f"{r.name} alertmanager", _region(r), parse_quantity_gib(alertmanager_claim), "gp3",
                                        "Alertmanager volume"))
    return records


class MappingError(ValueError):
    def __init__(self, resource: Resource, message: str):
        super().__init__(f"{resource.type} {resource.name} ({resource.urn}): {message}")


@dataclass
class MappingContext:
    launch_templates: list[Resource]


Mapper = Callable[[Resource, MappingContext], list[PricedRecord]]

PRICED: dict[str, Mapper] = {
    "aws:eks/cluster:Cluster": map_cluster,
    "aws:eks/nodeGroup:NodeGroup": map_node_group,
    "aws:ec2/natGateway:NatGateway": map_nat_gateway,
    "aws:ec2/eip:Eip": map_eip,
    "aws:lb/loadBalancer:LoadBalancer": map_load_balancer,
    "aws:alb/loadBalancer:LoadBalancer": map_load_balancer,
    "aws:globalaccelerator/accelerator:Accelerator": map_accelerator,
    "aws:kms/key:Key": map_kms_key,
    "aws:s3/bucket:Bucket": map_s3_bucket,
    "aws:cloudwatch/metricAlarm:MetricAlarm": map_metric_alarm,
    "aws:cloudwatch/logGroup:LogGroup": map_log_group,
    "aws:ec2/vpcEndpoint:VpcEndpoint": map_vpc_endpoint,
    "kubernetes:helm.sh/v3:Release": map_helm_release,
}

# Types that cost nothing by themselves, with the reason (their cost, if any, is priced elsewhere).
NO_COST: dict[str, str] = {
    "aws:ec2/vpc:Vpc": "VPCs are free",
    "aws:ec2/subnet:Subnet": "subnets are free",
    "aws:ec2/internetGateway:InternetGateway": "internet gateways are free (egress priced as data transfer)",
    "aws:ec2/routeTable:RouteTable": "route tables are free",
    "aws:ec2/route:Route": "routes are free",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "free",
    "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation": "free",
    "aws:ec2/securityGroup:SecurityGroup": "security groups are free",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "free",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "free",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "free",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "free",
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": "free",
    "aws:ec2/launchTemplate:LaunchTemplate": "free; its root volume is priced with the node group that uses it",
    "aws:eks/addon:Addon": "EKS add-ons are free (their pods run on the system nodes)",
    "aws:eks/accessEntry:AccessEntry": "free",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": "free",
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": "free",
    "aws:iam/role:Role": "IAM is free",
    "aws:iam/policy:Policy": "IAM is free",
    "aws:iam/rolePolicy:RolePolicy": "IAM is free",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "IAM is free",
    "aws:iam/instanceProfile:InstanceProfile": "IAM is free",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "IAM is free",
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": "IAM is free",
    "aws:kms/alias:Alias": "aliases are free (the key is priced)",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "bucket settings are free (the bucket is priced)",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "bucket settings are free (the bucket is priced)",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        "bucket settings are free (the bucket and its KMS key are priced; S3 Bucket Keys keep KMS requests negligible)",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "bucket settings are free (the bucket is priced)",
    "aws:s3/bucketPolicy:BucketPolicy": "bucket policies are free",
    "aws:lb/targetGroup:TargetGroup": "free (the load balancer is priced)",
    "aws:lb/listener:Listener": "free (the load balancer is priced)",
    "aws:lb/listenerRule:ListenerRule": "free (rule evaluations are part of LCUs)",
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": "free",
    "aws:autoscaling/attachment:Attachment": "free",
    "aws:autoscaling/tag:Tag": "free",
    "aws:acm/certificate:Certificate": "public ACM certificates are free",
    "aws:acm/certificateValidation:CertificateValidation": "free",
    "aws:route53/record:Record": "alias records to AWS resources answer queries for free; validation CNAMEs cost "
                                 "$0.40 per million queries (negligible); the hosted zone is not created here",
    "aws:globalaccelerator/listener:Listener": "free (the accelerator is priced)",
    "aws:globalaccelerator/endpointGroup:EndpointGroup": "free (the accelerator is priced)",
    "aws:sns/topic:Topic": "SNS topics are free; first 1,000 email notifications a month are free",
    "aws:sns/topicSubscription:TopicSubscription": "free",
    "aws:sns/topicPolicy:TopicPolicy": "free",
    "aws:ec2/tag:Tag": "free",
    "aws:cloudwatch/dashboard:Dashboard": "first 3 dashboards are free",
    "pulumi:providers:aws": "a provider is not a resource in AWS",
    "pulumi:providers:kubernetes": "a provider is not a resource in AWS",
    "pulumi:pulumi:Stack": "the stack itself",
}
NO_COST_PREFIXES = {
    "kubernetes:": "Kubernetes objects run on nodes that are priced",
    "tradeoff-infra:": "a component groups resources that are priced one by one",
    "random:": "random values are free",
}


def classify(resources: Iterable[Resource]) -> list[Mapped]:
    resources = list(resources)
    ctx = MappingContext(launch_templates=[r for r in resources if r.type == "aws:ec2/launchTemplate:LaunchTemplate"])
    out = []
    for r in resources:
        mapper = PRICED.get(r.type)
        if mapper:
            records = mapper(r, ctx)
            out.append(Mapped(r, records, no_cost=None if records else _free_variant(r)))
        elif r.type in NO_COST:
            out.append(Mapped(r, no_cost=NO_COST[r.type]))
        elif reason := next((why for prefix, why in NO_COST_PREFIXES.items() if r.type.startswith(prefix)), None):
            out.append(Mapped(r, no_cost=reason))
        else:
            out.append(Mapped(r, unknown=True))
    return out


def _free_variant(r: Resource) -> str:
    if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint":
        return "gateway VPC endpoints (S3, DynamoDB) are free"
    if r.type == "aws:s3/bucket:Bucket":
        return "an S3 bucket other than the weights mirror: its storage and requests are not known, so not priced"
    if r.type == "kubernetes:helm.sh/v3:Release":
        return "a Helm release's pods run on nodes that are priced; it asks for no persistent volume"
    return "free in this configuration"
