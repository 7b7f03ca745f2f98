"""The EC2 vCPU service quotas a stack needs, per region, before `pulumi up` (or a scale-up) hits them.

EC2 limits running instances per account and region by vCPUs, one quota per group of instance families and
purchase option: On-Demand ("Running On-Demand G and VT instances") and Spot ("All G and VT Spot Instance
Requests"). A managed node group that would pass its quota fails to launch nodes (VcpuLimitExceeded; the node
group goes CREATE_FAILED or the autoscaler cannot scale up). A `reserved-1y` pool launches as on-demand: a
Reserved Instance or Savings Plan is a billing discount and counts against, never raises, the On-Demand quota.
The first `pulumi up` launches each node group at its desired size (a GPU pool's `desiredNodes`, else `minNodes`:
infra/components/gpu_pool.py `desired_size`), which can be above the minimum: a pool with `minNodes: 0,
desiredNodes: 1` needs one node's vCPUs of a quota whose default may be 0 before it ever scales.
A node update needs more for a while: EKS first raises a managed node group's maximum and desired size by the larger
of twice its Availability Zones and its maxUnavailable (1 here, infra/components), launches the new nodes, then
drains the old ones (`NODE_UPDATE_SURGE_PER_ZONE`).
Names, codes and families: docs/sources.md "EC2 vCPU service quotas"; how to check and raise one: docs/operations.md "Service quotas".

Pure: `needs` takes the node groups (the inventory's, `from_records`, or the spec's, `from_spec`, which
tests/cli/test_quotas.py holds equal to the inventory for every shipped stack) and an instance type's vCPUs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cli.estimate.records import NodeGroup
    from infra.spec import StackSpec

ON_DEMAND, SPOT = "on-demand", "spot"
# EKS "Managed node update behavior": an update first adds up to two nodes per Availability Zone of the node group
# (or maxUnavailable, if larger: the program sets 1) on top of its size; docs/sources.md "EC2 vCPU service quotas"
NODE_UPDATE_SURGE_PER_ZONE = 2

# (quota name, code or None where no source gives one) per (quota group, purchase option); docs/sources.md "EC2 vCPU service quotas"
QUOTAS: dict[tuple[str, str], tuple[str, str | None]] = {
    ("standard", ON_DEMAND): ("Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", "L-1216C47A"),
    ("standard", SPOT): ("All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", "L-34B43A08"),
    ("g", ON_DEMAND): ("Running On-Demand G and VT instances", "L-DB2E81BA"),
    ("g", SPOT): ("All G and VT Spot Instance Requests", "L-3819A6DF"),
    ("p", ON_DEMAND): ("Running On-Demand P instances", "L-417A185B"),
    ("p4", SPOT): ("All P4, P3 and P2 Spot Instance Requests", None),
    ("p5", SPOT): ("All P5 Spot Instance Requests", None),
    ("f", ON_DEMAND): ("Running On-Demand F instances", None),
    ("f", SPOT): ("All F Spot Instance Requests", None),
    ("x", ON_DEMAND): ("Running On-Demand X instances", None),
    ("x", SPOT): ("All X Spot Instance Requests", None),
    ("inf", SPOT): ("All Inf Spot Instance Requests", None),
    ("dl", SPOT): ("All DL Spot Instance Requests", None),
    ("trn", SPOT): ("All Trn Spot Instance Requests", None),
}

# an instance type's family letters (`g6e.12xlarge` -> `g`, `p6-b200.48xlarge` -> `p`, `m6i.large` -> `m`) -> its group
GROUPS = {**{letter: "standard" for letter in "acdhimrtz"}, "g": "g", "gr": "g", "vt": "g", "p": "p", "f": "f",
          "x": "x", "inf": "inf", "dl": "dl", "trn": "trn"}


@dataclass(frozen=True)
class Nodes:
    """One node group as the quota sees it."""

    region: str
    instance_type: str
    capacity_type: str
    """The spec's: `on-demand`, `spot` or `reserved-1y` (the system node group: `on-demand`)."""
    min_nodes: int
    max_nodes: int
    zones: int = 2
    """Availability Zones its subnets span (the stack's `network.availabilityZones`): the update surge's size."""
    desired_nodes: int | None = None
    """The size the first `pulumi up` launches it at (a pool's `desiredNodes`); None: `min_nodes`."""

    @property
    def first_up_nodes(self) -> int:
        return self.min_nodes if self.desired_nodes is None else self.desired_nodes

    @property
    def update_surge(self) -> int:
        """Nodes an update may launch above `max_nodes` (none for a node group that can hold no node)."""
        return NODE_UPDATE_SURGE_PER_ZONE * self.zones if self.max_nodes else 0


@dataclass(frozen=True)
class QuotaNeed:
    """What one region needs of one quota, summed over its node groups."""

    region: str
    name: str
    code: str | None
    """The Service Quotas code; None where no source gives one (the name alone then)."""
    purchase: str
    """`on-demand` (reserved-1y pools too) or `spot`."""
    vcpus_min: int
    """At every node group's minimum size."""
    vcpus_max: int
    """At every node group's maximum size."""
    vcpus_update: int
    """At most while the node groups update (each at maximum size plus its update surge)."""
    vcpus_first_up: int
    """At the first `pulumi up`: every node group at its desired size (`desiredNodes`, else its minimum)."""
    instance_types: tuple[str, ...]
    capacity_types: tuple[str, ...]
    """The spec's capacity types counted here (`reserved-1y` with `on-demand`)."""

    def document(self) -> dict:
        return {"quotaName": self.name, "quotaCode": self.code, "purchaseOption": self.purchase,
                "vcpusAtMinSize": self.vcpus_min, "vcpusAtMaxSize": self.vcpus_max,
                "vcpusDuringNodeUpdate": self.vcpus_update, "vcpusAtFirstUp": self.vcpus_first_up,
                "instanceTypes": list(self.instance_types), "capacityTypes": list(self.capacity_types)}


def quota_for(instance_type: str, capacity_type: str) -> tuple[str, str | None, str]:
    """(name, code, purchase option) of the quota an instance type of a capacity type counts against."""
    purchase = SPOT if capacity_type == SPOT else ON_DEMAND
    family = instance_type.split(".", 1)[0]
    letters = re.match(r"[a-z]*", family).group(0)
    group = GROUPS.get(letters)
    if group == "p" and purchase == SPOT:  # EC2 splits P spot requests by generation
        generation = re.match(r"p(\d+)", family)
        group = {"5": "p5", "4": "p4", "3": "p4", "2": "p4"}.get(generation.group(1) if generation else "", None)
    found = QUOTAS.get((group, purchase)) if group else None
    if found is None:
        kind = "Spot Instance Requests" if purchase == SPOT else "On-Demand instances"
        return (f"the {kind} quota of {family} (not in the sourced list: see the Service Quotas console)", None,
                purchase)
    return found[0], found[1], purchase


def needs(nodes: Iterable[Nodes], vcpus: Callable[[str], int] | None = None) -> dict[str, list[QuotaNeed]]:
    """Per region (in the order first seen), the quotas its node groups count against, biggest need first."""
    if vcpus is None:
        from infra import hardware

        def vcpus(name: str) -> int:
            return hardware.instance_type(name).vcpus
    sums: dict[str, dict[tuple[str, str | None, str], list]] = {}
    for ng in nodes:
        key = quota_for(ng.instance_type, ng.capacity_type)
        entry = sums.setdefault(ng.region, {}).setdefault(key, [0, 0, 0, [], [], 0])
        per_node = vcpus(ng.instance_type)
        entry[0] += per_node * ng.min_nodes
        entry[1] += per_node * ng.max_nodes
        entry[2] += per_node * (ng.max_nodes + ng.update_surge)
        entry[5] += per_node * ng.first_up_nodes
        for seen, value in ((entry[3], ng.instance_type), (entry[4], ng.capacity_type)):
            if value not in seen:
                seen.append(value)
    return {region: sorted((QuotaNeed(region, name, code, purchase, low, high, update, first, tuple(types),
                                      tuple(capacities))
                            for (name, code, purchase), (low, high, update, types, capacities, first)
                            in by_quota.items()),
                           key=lambda need: (-need.vcpus_max, need.name))
            for region, by_quota in sums.items()}


def from_records(records: Iterable[NodeGroup], spec: StackSpec) -> list[Nodes]:
    """The inventory's node groups (cli/estimate/records.py); a GPU pool's capacity type is the spec's, since a
    reserved-1y pool's node group launches ON_DEMAND and cannot tell itself from an on-demand one."""
    pools = {(r.region, p.name): p.capacity_type for r in spec.regions for p in r.gpu_pools}
    order = {r.region: i for i, r in enumerate(spec.regions)}  # the stack file's region order
    zones = spec.network.availability_zones  # each node group spans the region's private subnets, one per zone
    return [Nodes(ng.region, ng.instance_type, pools.get((ng.region, ng.gpu_pool), ng.capacity_type),
                  ng.min_nodes, ng.max_nodes, zones, ng.desired_nodes)
            for ng in sorted(records, key=lambda ng: order.get(ng.region, len(order)))]


def from_spec(spec: StackSpec) -> list[Nodes]:
    """The node groups the program creates, read off the spec (for `validate`, which runs no program): per region
    the system node group (fixed size, on-demand) and a node group per GPU pool (minNodes..maxNodes)."""
    system, zones = spec.cluster.system_nodes, spec.network.availability_zones
    out = []
    for region in spec.regions:
        out.append(Nodes(region.region, system.instance_type, ON_DEMAND, system.nodes, system.nodes, zones,
                         system.nodes))
        out += [Nodes(region.region, p.instance_type, p.capacity_type, p.min_nodes, p.max_nodes, zones,
                      p.initial_nodes)
                for p in region.gpu_pools]
    return out


HOW_TO_CHECK = ("quotas are per account and region, shared with whatever else runs there: aws service-quotas "
                "get-service-quota --service-code ec2 --quota-code CODE --region REGION shows one "
                "(docs/operations.md \"Service quotas\")")


def line(need: QuotaNeed) -> str:
    """One (region, quota) as one sentence: `validate` prints it, the reports show it."""
    code = f" ({need.code})" if need.code else ""
    if need.vcpus_min == need.vcpus_max:
        at_min = "fixed size"
    elif need.vcpus_first_up == need.vcpus_min:
        at_min = f"{need.vcpus_min:,} at min size and at the first pulumi up"
    else:
        at_min = f"{need.vcpus_min:,} at min size, {need.vcpus_first_up:,} at the first pulumi up"
    if need.vcpus_update != need.vcpus_max:
        at_min += f", up to {need.vcpus_update:,} during a node update"
    reserved = ", reserved-1y pools included: a reservation is billing, it launches on demand" \
        if "reserved-1y" in need.capacity_types else ""
    return (f"{need.region} needs {need.vcpus_max:,} vCPUs of '{need.name}'{code} at max size ({at_min}; "
            f"{', '.join(need.instance_types)}{reserved})")
