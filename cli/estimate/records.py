"""Priced records (Infracost's "resources"): what the mapping reads off a planned resource and one cost
module (`cli/estimate/costs/<kind>.py`) prices, fixed and usage-based components together. Adding a priced
resource type means one record here, one mapper in `mapping.py` and one cost module."""

from __future__ import annotations

from dataclasses import dataclass

from infra.sizing import GP3_INCLUDED_IOPS, GP3_INCLUDED_THROUGHPUT_MIBPS

@dataclass(frozen=True)
class ControlPlane:
    name: str
    region: str
    kubernetes_version: str


@dataclass(frozen=True)
class NodeGroup:
    name: str
    region: str
    instance_type: str
    capacity_type: str
    """`on-demand` or `spot`."""
    min_nodes: int
    desired_nodes: int
    max_nodes: int
    disk_gib: float
    disk_type: str
    gpu_pool: str | None
    """The spec's pool name (label `tradeoff-infra.io/gpu-pool`); None for the system node group."""
    disk_source: str
    disk_iops: float = GP3_INCLUDED_IOPS
    """gp3 IOPS per volume (GP3_INCLUDED_IOPS are included in the GB price)."""
    disk_throughput_mibps: float = GP3_INCLUDED_THROUGHPUT_MIBPS
    """gp3 throughput per volume in MiB/s (GP3_INCLUDED_THROUGHPUT_MIBPS are included in the GB price)."""


@dataclass(frozen=True)
class NatGateway:
    name: str
    region: str


@dataclass(frozen=True)
class PublicIpv4:
    name: str
    region: str
    addresses: int


@dataclass(frozen=True)
class ElasticLoadBalancer:
    name: str
    region: str
    kind: str
    """`application` or `network`."""
    internet_facing: bool
    subnets: int


@dataclass(frozen=True)
class GlobalAccelerator:
    name: str
    region: str


@dataclass(frozen=True)
class KmsKey:
    name: str
    region: str
    purpose: str = "EKS secrets"


@dataclass(frozen=True)
class WeightsMirrorBucket:
    """The in-region S3 mirror of the model weights (its storage, fill and reads are priced from the spec)."""

    name: str
    region: str


@dataclass(frozen=True)
class MetricAlarm:
    name: str
    region: str
    metrics: int
    high_resolution: bool


@dataclass(frozen=True)
class LogGroup:
    name: str
    region: str
    log_group_name: str
    retention_days: int | None
    kind: str
    """`eks-control-plane` (named /aws/eks/<cluster>/cluster) or `other`."""


@dataclass(frozen=True)
class InterfaceEndpoint:
    name: str
    region: str
    service: str
    zones: int


@dataclass(frozen=True)
class BlockStorage:
    """A persistent volume a Helm release asks for (e.g. Prometheus' TSDB), priced as EBS."""

    name: str
    region: str
    gib: float
    volume_type: str
    what: str


PricedRecord = (ControlPlane | NodeGroup | NatGateway | PublicIpv4 | ElasticLoadBalancer | GlobalAccelerator | KmsKey
                | MetricAlarm | LogGroup | InterfaceEndpoint | BlockStorage | WeightsMirrorBucket)
