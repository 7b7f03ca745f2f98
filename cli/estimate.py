"""Layer 2 of the estimate: priced records + capacity plan + usage -> line items -> totals,
API comparison, break-even, verdict, budget. Pure: takes the spec, the planned resources and the
catalogs; the command (`cli/estimate_cmd.py`) finds, caches and renders.

Money is Decimal, 730 hours a month; each line item's monthly amounts are rounded to cents once (in
`LineItem`), and every category and total is a sum of those. A record the catalog cannot price raises
`MissingPrice`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from cli import capacity
from cli.pricing import mapping
from cli.pricing.api import ApiOffer
from infra import hardware
from infra import weights_mirror_plan as mirror_plan
from infra.price_catalog import HOURS_PER_MONTH, InstancePrice, PriceCatalog
from infra.sizing import GP3_INCLUDED_IOPS, GP3_INCLUDED_THROUGHPUT_MIBPS
from infra.spec import StackSpec

CATEGORIES = ["gpu-compute", "system-compute", "control-plane", "load-balancer", "nat", "storage",
              "data-transfer", "monitoring", "dns", "operations"]
HOURS = Decimal(HOURS_PER_MONTH)
GB = Decimal(10**9)
STALE_AFTER_DAYS = 90
NEVER_EXPIRE_DAYS_PRICED = 365
CENT = Decimal("0.01")


@dataclass(frozen=True)
class UsageAssumptions:
    """What the program cannot know, with defaults a reviewer can challenge (docs/estimate.md)."""

    bytes_per_output_token: int = 200
    """Streamed responses: one OpenAI-style `chat.completion.chunk` SSE event (~200 bytes) per token."""
    bytes_per_input_token: int = 4
    """~4 characters of English per token (OpenAI tokenizer guide)."""
    image_gb_per_node_start: float = 10.0
    """vLLM OpenAI image pulled through NAT by every new GPU node (assumption, ~10 GB)."""
    control_plane_log_gb_per_day: float = 1.0
    """EKS api/audit/authenticator logs per cluster and day (assumption; audit dominates)."""
    log_archive_compression: float = 0.15
    """CloudWatch bills archived logs compressed (gzip); JSON logs shrink to ~15 % (assumption)."""
    other_log_gb_per_day: float = 0.1
    """Log groups other than the EKS control plane's (e.g. VPC flow logs of a quiet VPC), per group and day
    (assumption)."""
    weights_pins_per_month: float = 1.0
    """New weight revisions filled into a weights mirror per month (each is one fill through NAT; assumption)."""
    weights_revisions_kept: float = 2.0
    """Revisions a weights mirror holds: the pin in force and the one a rollback returns to (older prefixes are
    pruned by hand, docs/operations.md; assumption)."""


USAGE_KEYS = {"bytesPerOutputToken": "bytes_per_output_token", "bytesPerInputToken": "bytes_per_input_token",
              "imageGbPerNodeStart": "image_gb_per_node_start", "controlPlaneLogGbPerDay": "control_plane_log_gb_per_day",
              "logArchiveCompression": "log_archive_compression", "otherLogGbPerDay": "other_log_gb_per_day",
              "weightsPinsPerMonth": "weights_pins_per_month", "weightsRevisionsKept": "weights_revisions_kept"}


def usage_from(data: dict) -> UsageAssumptions:
    """A usage file's camelCase keys over the defaults; raises ValueError naming a bad key."""
    if not isinstance(data, dict):
        raise ValueError("a usage file is a YAML mapping of the keys " + ", ".join(USAGE_KEYS))
    values = {}
    for key, value in data.items():
        if key not in USAGE_KEYS:
            raise ValueError(f"{key}: unknown usage key (known: {', '.join(USAGE_KEYS)})")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{key}: must be a finite number >= 0, got {value!r}")
        values[USAGE_KEYS[key]] = value
    return UsageAssumptions(**values)


# Stack keys whose defaults feed a number of the estimate (cost, capacity or verdict); `[]` walks a list.
PRICED_DEFAULTS = (
    "model.tensorParallel", "model.maxModelLen", "model.dtype",
    "regions[].gpuPools[].capacityType",
    "network.availabilityZones", "network.natGateways",
    "cluster.kubernetesVersion", "cluster.logRetentionDays", "cluster.systemNodes.instanceType", "cluster.systemNodes.nodes",
    "autoscaling.minReplicas", "autoscaling.maxReplicas", "autoscaling.scaleDownStabilizationSeconds",
    "autoscaling.nodeScaleDownUnneededMinutes",
    "endpoint.mode", "monitoring.enabled", "monitoring.storageGiB",
    "traffic.peakToAverage", "traffic.ttftTargetMs", "traffic.tpotTargetMs",
    "operations.engineerFte", "operations.loadedMonthlyCostUsd", "operations.setupMonths", "operations.amortisationMonths",
)


def _unset_keys(model, parts: list[str], prefix: str) -> list[tuple[str, object]]:
    name, rest = parts[0], parts[1:]
    many = name.endswith("[]")
    name = name.removesuffix("[]")
    attr = next(f for f, info in type(model).model_fields.items() if (info.alias or f) == name)
    value = getattr(model, attr)
    if many:
        return [hit for i, item in enumerate(value) for hit in _unset_keys(item, rest, f"{prefix}{name}[{i}].")]
    if rest:
        return [] if value is None else _unset_keys(value, rest, f"{prefix}{name}.")
    return [] if attr in model.model_fields_set else [(prefix + name, value)]


def defaults_used(spec: StackSpec, usage: UsageAssumptions) -> list[tuple[str, object]]:
    """Every default (a key the stack file or the usage file leaves out) that feeds a number, with its value.
    People-cost keys count only while operations are in the total and the key can move it."""
    ops = spec.operations
    out = [hit for path in PRICED_DEFAULTS for hit in _unset_keys(spec, path.split("."), "")]
    moot = set()
    if not ops.include:
        moot |= {"operations.engineerFte", "operations.loadedMonthlyCostUsd", "operations.setupMonths",
                 "operations.amortisationMonths"}
    if not ops.setup_months:
        moot.add("operations.amortisationMonths")
    if not ops.setup_months and not ops.engineer_fte:
        moot.add("operations.loadedMonthlyCostUsd")
    out = [(k, v) for k, v in out if k not in moot]
    base = UsageAssumptions()
    out += [(f"usage.{key}", getattr(usage, attr)) for key, attr in USAGE_KEYS.items()
            if getattr(usage, attr) == getattr(base, attr)]
    return out


@dataclass
class LineItem:
    region: str
    resource: str
    category: str
    description: str
    unit: str
    quantity: Decimal
    """Expected quantity per month."""
    unit_price: Decimal
    monthly: Decimal
    monthly_min: Decimal
    monthly_max: Decimal
    price_source: str
    usage_based: bool = False

    def __post_init__(self) -> None:
        # Rounded to cents once, here: categories and totals are sums of these, so they add up exactly.
        self.monthly, self.monthly_min, self.monthly_max = q(self.monthly), q(self.monthly_min), q(self.monthly_max)


@dataclass
class BreakEven:
    offer: str
    requests_per_month: float | None
    within_max_nodes: bool
    note: str


@dataclass
class Verdict:
    choice: str
    """`self-host`, `api` or `hybrid`."""
    reasons: list[str]


@dataclass
class StackEstimate:
    stack: str
    stack_file: str
    as_of: date
    catalog: PriceCatalog
    spec: StackSpec
    line_items: list[LineItem]
    capacity: list[capacity.RegionCapacity]
    offers: list[ApiOffer]
    break_even: list[BreakEven]
    verdict: Verdict
    max_servable_requests: float
    no_cost: dict[str, tuple[int, str]]
    unpriced: list[tuple[str, str, str | None]]
    warnings: list[str]
    api_source: str
    usage: UsageAssumptions = field(default_factory=lambda: UsageAssumptions())
    total_at: Callable[[float, bool], Decimal] | None = None
    """Self-hosted monthly total at another traffic volume (fleet grown with it; True lifts maxNodes)."""
    prices_date: str | None = None
    """Date of the oldest price the estimate uses (an undated snapshot counts from what it postdates)."""
    grown_expected: Decimal | None = None
    """Expected total with maxNodes/maxReplicas lifted, when the configured fleet cannot carry the traffic."""
    throughput_band: dict[str, Decimal] | None = None
    """The compared total with every replica at the low / high end of its throughput band (docs/capacity.md)."""
    defaults_used: list[tuple[str, object]] = field(default_factory=list)
    """Keys the stack (or usage) file leaves out whose defaults feed a number, with the value used."""

    @property
    def compared_expected(self) -> Decimal:
        """The one self-hosted monthly cost the verdict, the headline and the budget use: the fleet grown
        for the traffic when maxNodes/maxReplicas cannot carry it, else the configured fleet's total."""
        return self.grown_expected if self.grown_expected is not None else self.total()

    def total(self, which: str = "monthly", include_operations: bool | None = None) -> Decimal:
        include = self.spec.operations.include if include_operations is None else include_operations
        return sum((getattr(li, which) for li in self.line_items if include or li.category != "operations"), Decimal(0))

    @property
    def catalog_age_days(self) -> int:
        """Age of the oldest price used (never younger than the catalog's retrievedOn)."""
        return (self.as_of - date.fromisoformat(self.prices_date or self.catalog.retrieved_on)).days

    @property
    def tokens_per_month(self) -> int:
        t = self.spec.traffic
        return t.requests_per_month * (t.input_tokens_per_request + t.output_tokens_per_request)


class EstimateError(ValueError):
    """The stack cannot be estimated as written; the message names the key or resource."""


def q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _price_note(entry: dict) -> str:
    return f"{entry['source']} {entry['date']} (confidence {entry['confidence']})"


# ---------------------------------------------------------------- costing one scenario


class Costing:
    """Turns the mapped records into line items for one traffic volume."""

    def __init__(self, spec: StackSpec, mapped: list[mapping.Mapped], catalog: PriceCatalog, as_of: date,
                 usage: UsageAssumptions):
        self.spec, self.mapped, self.catalog, self.as_of, self.usage = spec, mapped, catalog, as_of, usage
        self.warnings: list[str] = []
        self.instance_dates: dict[str, InstancePrice] = {}
        """Every instance price used, by "type region": the estimate's age is its oldest."""

    def platform(self, region: str, key: str) -> tuple[Decimal, str]:
        entry, regional = self.catalog.platform_item(region, key)
        note = _price_note(entry)
        if not regional:
            note += f"; us-east-1 price used for {region} (no regional source)"
            self._proxy_regions.setdefault(region, set()).add(key)
        return Decimal(entry["usd"]), note

    def tiers(self, region: str) -> tuple[list[tuple[Decimal | None, Decimal]], str]:
        entry, regional = self.catalog.platform_item(region, "internetEgressTiers")
        tiers = [(Decimal(b) if b is not None else None, Decimal(p)) for b, p in entry["tiers"]]
        note = _price_note(entry) + ("" if regional else f"; us-east-1 tiers used for {region}")
        if not regional:
            self._proxy_regions.setdefault(region, set()).add("internetEgressTiers")
        return tiers, note

    def prepare(self) -> None:
        """Price what does not depend on traffic once; remember what usage lines need."""
        self._proxy_regions: dict[str, set[str]] = {}
        """Region -> catalog keys priced at the us-east-1 (default) rate there for want of a regional source."""
        self._lbs: dict[str, list[mapping.LoadBalancer]] = {}
        self._accelerators: list[mapping.GlobalAccelerator] = []
        self._log_groups: list[mapping.LogGroup] = []
        self._gpu_groups: list[mapping.NodeGroup] = []
        self._nat_by_region: dict[str, list[str]] = {}
        self._mirrors: dict[str, mapping.WeightsMirrorBucket] = {}
        self._throughput: dict = {}
        self._gpu_prices: dict = {}
        self.fixed_items: list[LineItem] = []
        for m in self.mapped:
            for record in m.records:
                if isinstance(record, mapping.NodeGroup) and record.gpu_pool is not None:
                    self._gpu_groups.append(record)
                    self._check_pool(record)
                    continue
                if isinstance(record, mapping.NatGateway):
                    self._nat_by_region.setdefault(record.region, []).append(record.name)
                if isinstance(record, mapping.WeightsMirrorBucket):
                    self._mirrors[record.region] = record
                    continue  # priced below, once the NAT gateways of its region are known
                self.fixed_items.extend(self.cost_record(record))
        for mirror in self._mirrors.values():
            self.fixed_items.extend(self.cost_weights_mirror(mirror))
        self.fixed_items.extend(self.operations_items())
        floor = capacity.plan(self.spec, 0, throughput_cache=self._throughput)
        self._floors = {p.region: p for p in floor}
        self._gpu_prices = {(ng.region, ng.name): self.catalog.instance(ng.region, ng.instance_type, ng.capacity_type)
                            for ng in self._gpu_groups}
        self._reserved = {(ng.region, ng.name): self.catalog.instance(ng.region, ng.instance_type, "reserved-1y")
                          for ng in self._gpu_groups if self._pool_capacity(ng) == "reserved-1y"}
        # GPU time from node launch to its first ready replica, per region (its weights); the program's own
        # boot / pull / load figures (infra/chart_values.py, pure), imported here, off the CLI's start-up path.
        from infra.chart_values import launch_to_ready_seconds

        self._startup = {}
        for region in self.spec.regions:
            weights = self.spec.weight_bytes(self.spec.model_for(region)[0]) or 0.0
            mirrored = self.spec.weights_mirror_for(region)
            self._startup[region.region] = (launch_to_ready_seconds(weights, mirrored), weights, mirrored)

    def run(self, requests_per_month: float, *, unbounded: bool = False,
            throughput_cache: dict | None = None) -> tuple[list[LineItem], list[capacity.RegionCapacity]]:
        """Line items and plans at `requests_per_month`; `throughput_cache` replaces the replicas' predicted
        throughput (the band's ends, `throughput_band`)."""
        cache = self._throughput if throughput_cache is None else throughput_cache
        plans = capacity.plan(self.spec, requests_per_month, unbounded=unbounded, throughput_cache=cache)
        by_region = {p.region: p for p in plans}
        items = list(self.fixed_items)
        for ng in self._gpu_groups:
            items.extend(self.cost_node_group(ng, by_region, self._floors))
        items.extend(self.usage_items(requests_per_month, plans))
        return items, plans

    def proxy_warning(self) -> list[str]:
        if not self._proxy_regions:
            return []
        where = "; ".join(f"{region}: {', '.join(sorted(keys))}" for region, keys in sorted(self._proxy_regions.items()))
        return [f"platform items priced at us-east-1 rates for want of a regional source in the catalog ({where}); "
                "usually within 10-25 %: `tradeoff-infra prices refresh` reads the real ones from the public AWS bulk "
                "offer files"]

    def _pool_capacity(self, ng: mapping.NodeGroup) -> str:
        """The spec's capacityType of a GPU node group's pool: a reservation launches as ON_DEMAND, so the node group
        alone cannot tell reserved-1y from on-demand."""
        region = next(r for r in self.spec.regions if r.region == ng.region)
        return next(p for p in region.gpu_pools if p.name == ng.gpu_pool).capacity_type

    def _check_pool(self, ng: mapping.NodeGroup) -> None:
        region = next((r for r in self.spec.regions if r.region == ng.region), None)
        if region is None or all(p.name != ng.gpu_pool for p in region.gpu_pools):
            raise EstimateError(f"node group {ng.name} in {ng.region} is labelled gpu-pool {ng.gpu_pool!r} but the "
                                "stack has no such pool there")

    # -- records

    def cost_record(self, record) -> list[LineItem]:
        fixed = self._fixed
        if isinstance(record, mapping.ControlPlane):
            ends = self.catalog.data["platform"]["default"]["eksStandardSupportEnds"]
            end = ends["versions"].get(record.kubernetes_version)
            key = "eksClusterHour"
            desc = f"EKS control plane {record.kubernetes_version}, standard support"
            if end and date.fromisoformat(end) <= self.as_of:
                key = "eksClusterExtendedSupportHour"
                desc = f"EKS control plane {record.kubernetes_version}, EXTENDED support (standard support ended {end})"
                self.warnings.append(
                    f"{record.region}: Kubernetes {record.kubernetes_version} left EKS standard support on {end}: the "
                    f"control plane bills extended support ($0.60/h instead of $0.10/h); set cluster.kubernetesVersion "
                    "to a version in standard support")
            elif end is None:
                self.warnings.append(f"{record.region}: EKS version {record.kubernetes_version} is not in the catalog's "
                                     "support calendar; priced at standard support")
            price, note = self.platform(record.region, key)
            return [fixed(record.region, record.name, "control-plane", desc, "cluster-hours", HOURS, price, note)]
        if isinstance(record, mapping.NodeGroup):
            return self.cost_node_group(record, {}, {})
        if isinstance(record, mapping.NatGateway):
            price, note = self.platform(record.region, "natGatewayHour")
            return [fixed(record.region, record.name, "nat", "NAT gateway hours", "hours", HOURS, price, note)]
        if isinstance(record, mapping.PublicIpv4):
            price, note = self.platform(record.region, "publicIpv4Hour")
            return [fixed(record.region, record.name, "nat", "public IPv4 address (Elastic IP of a NAT gateway)",
                          "address-hours", HOURS * record.addresses, price, note)]
        if isinstance(record, mapping.LoadBalancer):
            key = "albHour" if record.kind == "application" else "nlbHour"
            price, note = self.platform(record.region, key)
            out = [fixed(record.region, record.name, "load-balancer", f"{record.kind} load balancer hours", "hours",
                         HOURS, price, note)]
            if record.internet_facing:
                ip_price, ip_note = self.platform(record.region, "publicIpv4Hour")
                out.append(fixed(record.region, record.name, "load-balancer",
                                 f"public IPv4 of the load balancer's {record.subnets} subnet nodes", "address-hours",
                                 HOURS * record.subnets, ip_price, ip_note))
            self._lbs.setdefault(record.region, []).append(record)
            return out
        if isinstance(record, mapping.GlobalAccelerator):
            price, note = self.platform(record.region, "globalAcceleratorHour")
            self._accelerators.append(record)
            return [fixed(record.region, record.name, "load-balancer", "Global Accelerator fixed fee", "hours", HOURS,
                          price, note)]
        if isinstance(record, mapping.KmsKey):
            price, note = self.platform(record.region, "kmsKeyMonth")
            category = "storage" if record.purpose == "weights mirror" else "control-plane"
            return [fixed(record.region, record.name, category, f"KMS customer managed key ({record.purpose})",
                          "key-months", Decimal(1), price, note)]
        if isinstance(record, mapping.MetricAlarm):
            key = "cloudwatchHighResAlarmMonth" if record.high_resolution else "cloudwatchAlarmMonth"
            price, note = self.platform(record.region, key)
            return [fixed(record.region, record.name, "monitoring", "CloudWatch alarm", "alarm-metric-months",
                          Decimal(record.metrics), price, note)]
        if isinstance(record, mapping.LogGroup):
            self._log_groups.append(record)
            return []
        if isinstance(record, mapping.InterfaceEndpoint):
            price, note = self.platform(record.region, "vpcInterfaceEndpointAzHour")
            return [fixed(record.region, record.name, "nat", f"interface VPC endpoint {record.service}",
                          "endpoint-AZ-hours", HOURS * record.zones, price, note)]
        if isinstance(record, mapping.BlockStorage):
            price, note = self.platform(record.region, "ebsGp3GbMonth" if record.volume_type == "gp3" else "ebsGp2GbMonth")
            category = "monitoring" if any(w in record.what for w in ("Prometheus", "Grafana", "Alertmanager")) else "storage"
            return [fixed(record.region, record.name, category, f"{record.what} (EBS {record.volume_type})", "GB-months",
                          Decimal(str(round(record.gib, 3))), price, note)]
        raise TypeError(f"no costing for {type(record).__name__}")

    def weights_bytes(self, region: str) -> float:
        """Weight bytes a region serves (its own pin's source for a canary)."""
        spec_region = next((r for r in self.spec.regions if r.region == region), None)
        source = self.spec.model_for(spec_region)[0] if spec_region else None
        return self.spec.weight_bytes(source) or 0.0

    def cost_weights_mirror(self, mirror: mapping.WeightsMirrorBucket) -> list[LineItem]:
        """The mirror's storage (revisions kept), and each month's fills: NAT GB once per revision, PUT requests."""
        u, region = self.usage, mirror.region
        weight_bytes = self.weights_bytes(region)
        weights_gb = Decimal(str(weight_bytes / 1e9))
        kept, pins = Decimal(str(u.weights_revisions_kept)), Decimal(str(u.weights_pins_per_month))
        price, note = self.platform(region, "s3StandardGbMonth")
        items = [self._fixed(region, mirror.name, "storage",
                             f"weights mirror: {u.weights_revisions_kept:g} revisions x {weights_gb:.1f} GB in S3 Standard",
                             "GB-months", weights_gb * kept, price, note, usage_based=True)]
        nats = self._nat_by_region.get(region, [])
        if nats:
            gb = pins * (weights_gb + Decimal(str(u.image_gb_per_node_start)))
            price, note = self.platform(region, "natGatewayPerGb")
            items.append(self._fixed(region, nats[0], "nat",
                                     f"NAT processing of weights mirror fills: {u.weights_pins_per_month:g} revision(s)/month "
                                     f"x ({weights_gb:.1f} GB weights + {u.image_gb_per_node_start:g} GB image), once each",
                                     "GB", gb, price, note, usage_based=True))
        puts = Decimal(mirror_plan.fill_put_requests(weight_bytes)) * pins / 1000
        price, note = self.platform(region, "s3PutPer1000")
        items.append(self._fixed(region, mirror.name, "storage",
                                 f"weights mirror fills: PUT requests ({mirror_plan.MULTIPART_CHUNK_BYTES // 2**20} MiB parts)",
                                 "1k requests", puts, price, note, usage_based=True))
        return items

    def _fixed(self, region, resource, category, description, unit, quantity, price, note, usage_based=False) -> LineItem:
        monthly = quantity * price
        return LineItem(region, resource, category, description, unit, quantity, price, monthly, monthly, monthly, note,
                        usage_based)

    def cost_node_group(self, ng: mapping.NodeGroup, plans, floors) -> list[LineItem]:
        price = self._gpu_prices.get((ng.region, ng.name)) or self.catalog.instance(ng.region, ng.instance_type,
                                                                                     ng.capacity_type)
        note = f"{price.source} {price.dated} (confidence {price.confidence}, {price.basis})"
        self.instance_dates[f"{ng.instance_type} {ng.region}"] = price
        if price.derivation:
            note += f": {price.derivation}"
        if price.basis != "source":
            self.warnings.append(
                f"{ng.region}: {ng.instance_type} has no published price in the catalog; it is derived "
                f"({price.basis}, confidence {price.confidence}): {price.derivation}")
        if price.capacity_type == "spot":
            note += (f"; spot = on-demand {price.on_demand_usd_per_hour} less {price.spot_savings_percent}% "
                     f"({price.spot_savings_basis})")
            self.warnings.append(  # the same text on every run; de-duplicated at the end
                f"{ng.region}: {ng.name} is spot: priced at the expected Spot Advisor discount "
                f"({price.spot_savings_percent}%), not a guarantee; spot prices move and nodes can be reclaimed")
        if ng.gpu_pool is None:
            nodes_min = nodes_exp = nodes_max = Decimal(ng.desired_nodes)
            category, what = "system-compute", f"system nodes {ng.desired_nodes} x {ng.instance_type}"
        else:
            pool_plan = next(p for p in plans[ng.region].pools if p.pool.name == ng.gpu_pool)
            floor_plan = next(p for p in floors[ng.region].pools if p.pool.name == ng.gpu_pool)
            nodes_exp = Decimal(str(round(pool_plan.expected_nodes, 4)))
            nodes_min = Decimal(str(round(floor_plan.expected_nodes, 4)))
            nodes_max = Decimal(max(ng.max_nodes, max(pool_plan.nodes_per_slot)))
            category = "gpu-compute"
            gpu = hardware.instance_type(ng.instance_type)
            what = (f"GPU pool {ng.gpu_pool}: {ng.instance_type} ({gpu.gpus}x {gpu.gpu_model.name}) {ng.capacity_type}, "
                    f"{nodes_exp} nodes expected (min {nodes_min}, max {nodes_max})")
        unit_price = price.usd_per_hour
        reserved = self._reserved.get((ng.region, ng.name)) if ng.gpu_pool is not None else None
        if reserved is None:
            items = [LineItem(ng.region, ng.name, category, what, "node-hours", nodes_exp * HOURS, unit_price,
                              nodes_exp * HOURS * unit_price, nodes_min * HOURS * unit_price, nodes_max * HOURS * unit_price,
                              note, usage_based=ng.gpu_pool is not None)]
        else:
            items = self.reserved_items(ng, reserved, price, note, nodes_min, nodes_exp, nodes_max)
        if ng.gpu_pool is not None:
            items.extend(self.startup_items(ng, pool_plan, floor_plan, unit_price, note))
        disk_price, disk_note = self.platform(ng.region, "ebsGp3GbMonth" if ng.disk_type == "gp3" else "ebsGp2GbMonth")
        gb = Decimal(str(ng.disk_gib))
        items.append(LineItem(ng.region, ng.name, "storage", f"root volumes {ng.disk_gib:g} GiB {ng.disk_type} per node "
                              f"({ng.disk_source})", "GB-months", gb * nodes_exp, disk_price, gb * nodes_exp * disk_price,
                              gb * nodes_min * disk_price, gb * nodes_max * disk_price, disk_note,
                              usage_based=ng.gpu_pool is not None))
        if ng.disk_type == "gp3":
            # gp3 includes GP3_INCLUDED_IOPS and _THROUGHPUT_MIBPS; what a launch template provisions above bills per month
            for key, extra, unit, label in (
                ("ebsGp3IopsMonth", ng.disk_iops - GP3_INCLUDED_IOPS, "IOPS-months", f"provisioned IOPS above {GP3_INCLUDED_IOPS}"),
                ("ebsGp3ThroughputMonth", ng.disk_throughput_mibps - GP3_INCLUDED_THROUGHPUT_MIBPS, "MiBps-months",
                 f"provisioned throughput above {GP3_INCLUDED_THROUGHPUT_MIBPS} MiB/s"),
            ):
                if extra <= 0:
                    continue
                price, note = self.platform(ng.region, key)
                per_node = Decimal(str(extra))
                items.append(LineItem(ng.region, ng.name, "storage", f"root volumes: {label} ({extra:g} per node)",
                                      unit, per_node * nodes_exp, price, per_node * nodes_exp * price,
                                      per_node * nodes_min * price, per_node * nodes_max * price, note,
                                      usage_based=ng.gpu_pool is not None))
        return items

    def reserved_items(self, ng: mapping.NodeGroup, reserved: InstancePrice, on_demand: InstancePrice, note: str,
                       nodes_min: Decimal, nodes_exp: Decimal, nodes_max: Decimal) -> list[LineItem]:
        """capacityType reserved-1y: minNodes are reserved for a year and bill the reserved rate every hour, used or
        not; nodes the autoscaler adds above them bill on demand."""
        held = Decimal(ng.min_nodes)
        rate = reserved.usd_per_hour
        res_note = (f"{reserved.source} {reserved.dated} (confidence {reserved.confidence}): 1-year reserved, no upfront, "
                    f"effective ${rate}/h vs on-demand ${on_demand.usd_per_hour}/h")
        self.warnings.append(
            f"{ng.region}: {ng.name} is reserved-1y: {ng.min_nodes} x {ng.instance_type} (minNodes) are committed for a "
            "year and bill every hour whether used or not; the reservation (Reserved Instance or EC2 Instance Savings "
            "Plan) is bought separately, not by this program")
        items = [LineItem(ng.region, ng.name, "gpu-compute",
                          f"GPU pool {ng.gpu_pool}: {ng.min_nodes} x {ng.instance_type} reserved for 1 year (minNodes), "
                          "billed every hour", "node-hours", held * HOURS, rate, held * HOURS * rate,
                          held * HOURS * rate, held * HOURS * rate, res_note)]
        above = [max(n - held, Decimal(0)) for n in (nodes_min, nodes_exp, nodes_max)]
        if any(above):
            od = on_demand.usd_per_hour
            items.append(LineItem(ng.region, ng.name, "gpu-compute",
                                  f"GPU pool {ng.gpu_pool}: nodes above the reservation, on demand: {above[1]} expected "
                                  f"(min {above[0]}, max {above[2]})", "node-hours", above[1] * HOURS, od,
                                  above[1] * HOURS * od, above[0] * HOURS * od, above[2] * HOURS * od, note,
                                  usage_based=True))
        return items

    def startup_items(self, ng: mapping.NodeGroup, pool_plan: capacity.PoolPlan, floor_plan: capacity.PoolPlan,
                      unit_price: Decimal, note: str) -> list[LineItem]:
        """GPU time AWS bills from a node's launch until its replica serves (boot, image pull, weights,
        engine start): the capacity plan counts a node only while it serves, so every node start adds
        this much (starts from the day profile, `PoolPlan.node_starts_per_day`)."""
        seconds, weights, mirrored = self._startup.get(ng.region, (0.0, 0.0, False))
        hours = Decimal(str(round(seconds / 3600, 4)))
        per_month = HOURS / 24
        starts_exp = Decimal(pool_plan.node_starts_per_day) * per_month
        starts_min = Decimal(floor_plan.node_starts_per_day) * per_month
        if not hours or not (starts_exp or starts_min):
            return []
        per_start = hours * unit_price
        what = (f"GPU pool {ng.gpu_pool}: node start-up billed before serving, {hours:.2f} h ({seconds / 60:.0f} min) "
                f"launch-to-ready per start: boot, image pull, {weights / 1e9:.0f} GB weights "
                f"{'streamed from the S3 mirror' if mirrored else 'download and load'}, "
                "engine start (docs/estimate.md)")
        return [LineItem(ng.region, ng.name, "gpu-compute", what, "node-starts", starts_exp, per_start,
                         starts_exp * per_start, starts_min * per_start, max(starts_exp, starts_min) * per_start,
                         f"{hours} h x {unit_price}/h; {note}", usage_based=True)]

    # -- usage the program cannot know

    def usage_items(self, requests: float, plans: list[capacity.RegionCapacity]) -> list[LineItem]:
        spec, u = self.spec, self.usage
        t = spec.traffic
        items: list[LineItem] = []
        out_gb_per_request = Decimal(t.output_tokens_per_request * u.bytes_per_output_token + 1000) / GB
        in_gb_per_request = Decimal(t.input_tokens_per_request * u.bytes_per_input_token + 1000) / GB
        weights_gb = Decimal(str((spec.weight_bytes() or 0) / 1e9))
        for plan in plans:
            region = plan.region
            reqs = Decimal(str(requests * plan.traffic_share))
            # internet egress of responses
            egress_gb = reqs * out_gb_per_request
            tiers, tier_note = self.tiers(region)
            egress_usd = _tiered(egress_gb, tiers)
            unit = (egress_usd / egress_gb) if egress_gb else tiers[0][1]
            items.append(self._usage(region, f"{region} responses", "data-transfer",
                                     f"internet egress of responses: {t.output_tokens_per_request} tokens x "
                                     f"{u.bytes_per_output_token} B streamed, tiered", "GB", egress_gb, unit, tier_note,
                                     egress_usd))
            # NAT processing: every new GPU node pulls the image, and the weights unless a mirror serves them
            nat_names = self._nat_by_region.get(region, [])
            starts = Decimal(sum(p.node_starts_per_day for p in plan.pools)) * Decimal(HOURS_PER_MONTH) / 24
            mirror = self._mirrors.get(region)
            if nat_names and mirror:
                gb = starts * Decimal(str(u.image_gb_per_node_start))
                price, note = self.platform(region, "natGatewayPerGb")
                items.append(self._usage(region, nat_names[0], "nat",
                                         f"NAT processing: {starts:.0f} GPU node starts/month x {u.image_gb_per_node_start:g} GB "
                                         "image (weights from the in-region mirror over the S3 gateway endpoint)", "GB", gb,
                                         price, note))
            elif nat_names:
                gb = starts * (weights_gb + Decimal(str(u.image_gb_per_node_start)))
                price, note = self.platform(region, "natGatewayPerGb")
                items.append(self._usage(region, nat_names[0], "nat",
                                         f"NAT processing: {starts:.0f} GPU node starts/month x ({weights_gb:.1f} GB weights "
                                         f"+ {u.image_gb_per_node_start:g} GB image)", "GB", gb, price, note))
            if mirror:
                gets = starts * Decimal(mirror_plan.load_get_requests(self.weights_bytes(region))) / 1000
                price, note = self.platform(region, "s3GetPer1000")
                items.append(self._usage(region, mirror.name, "storage",
                                         f"weights mirror reads: {starts:.0f} GPU node starts/month x ranged GETs of "
                                         f"{mirror_plan.STREAMER_CHUNK_BYTES // 2**20} MiB (S3 to EC2 in-region: no transfer "
                                         "charge)", "1k requests", gets, price, note))
            # load balancer capacity units
            for lb in self._lbs.get(region, []):
                lcu = _alb_lcu_hours(reqs, in_gb_per_request + out_gb_per_request, spec)
                price, note = self.platform(region, "albLcuHour" if lb.kind == "application" else "nlbLcuHour")
                items.append(self._usage(region, lb.name, "load-balancer",
                                         "load balancer capacity units (new connections / processed bytes)", "LCU-hours",
                                         lcu, price, note))
            # control-plane logs
            for lg in (g for g in self._log_groups if g.region == region):
                per_day = Decimal(str(u.control_plane_log_gb_per_day if lg.kind == "eks-control-plane"
                                      else u.other_log_gb_per_day))
                ingest = per_day * Decimal(HOURS_PER_MONTH) / 24
                price, note = self.platform(region, "cloudwatchLogsIngestedPerGb")
                items.append(self._usage(region, lg.name, "monitoring", f"CloudWatch Logs ingestion {lg.log_group_name} "
                                         f"({per_day} GB/day assumed)", "GB", ingest, price, note))
                # never-expiring logs never reach a steady state: price the first year's accumulation, and say so
                stored_days = Decimal(lg.retention_days or NEVER_EXPIRE_DAYS_PRICED)
                stored = per_day * stored_days * Decimal(str(u.log_archive_compression))
                price, note = self.platform(region, "cloudwatchLogsArchivedGbMonth")
                held = (f"{lg.retention_days} days retention, at steady state" if lg.retention_days
                        else f"never expires: the first year's accumulation ({NEVER_EXPIRE_DAYS_PRICED} days); it keeps growing")
                items.append(self._usage(region, lg.name, "monitoring", f"CloudWatch Logs storage ({held}, compressed)",
                                         "GB-months", stored, price, note))
        for ga in self._accelerators:
            gb = Decimal(str(requests)) * max(out_gb_per_request, in_gb_per_request)
            price, note = self.platform(ga.region, "globalAcceleratorDtPremiumPerGb")
            items.append(self._usage("global", ga.name, "data-transfer",
                                     "Global Accelerator data transfer-premium (dominant direction)", "GB", gb, price, note))
        return items

    def _usage(self, region, resource, category, description, unit, quantity, price, note, monthly=None) -> LineItem:
        monthly = quantity * price if monthly is None else monthly
        return LineItem(region, resource, category, description, unit, quantity, price, monthly, monthly, monthly, note,
                        usage_based=True)

    def operations_items(self) -> list[LineItem]:
        ops = self.spec.operations
        loaded = Decimal(str(ops.loaded_monthly_cost_usd))
        fte = Decimal(str(ops.engineer_fte))
        items = [LineItem("global", "operations", "operations",
                          f"running it: {ops.engineer_fte:g} engineer FTE x ${ops.loaded_monthly_cost_usd:,.0f} loaded/month",
                          "FTE-months", fte, loaded, fte * loaded, fte * loaded, fte * loaded,
                          "stack file operations.engineerFte / loadedMonthlyCostUsd")]
        if ops.setup_months:
            setup_fte = max(fte, Decimal(1))
            months = Decimal(str(ops.setup_months)) * setup_fte / ops.amortisation_months
            items.append(LineItem("global", "operations", "operations",
                                  f"setup: {ops.setup_months:g} months x {setup_fte:g} engineer(s), amortised over "
                                  f"{ops.amortisation_months} months", "engineer-months", months, loaded, months * loaded,
                                  months * loaded, months * loaded, "stack file operations.setupMonths / amortisationMonths"))
        return items


def _tiered(gb: Decimal, tiers: list[tuple[Decimal | None, Decimal]]) -> Decimal:
    total, lower = Decimal(0), Decimal(0)
    for upper, price in tiers:
        top = gb if upper is None else min(gb, upper)
        if top > lower:
            total += (top - lower) * price
        if upper is None or gb <= upper:
            break
        lower = upper
    return total


def _alb_lcu_hours(requests: Decimal, gb_per_request: Decimal, spec: StackSpec) -> Decimal:
    """ALB LCU-hours: per hour the largest of new connections/25 per s, processed GB/1 per h, active
    connections/3000 per min (AWS ELB pricing dimensions), hour by hour over the day profile."""
    per_hour = float(requests) / HOURS_PER_MONTH
    seconds_per_request = (spec.traffic.ttft_target_ms + spec.traffic.output_tokens_per_request * spec.traffic.tpot_target_ms) / 1000
    per_request_lcu = max(1 / 3600 / 25, float(gb_per_request), seconds_per_request / 60 / 60 / 3000)
    # every dimension is linear in the hour's requests, so the max is per request too
    profile = capacity.day_profile(spec.traffic.peak_to_average, 24)
    lcu = sum(per_hour * f * per_request_lcu for f in profile) / 24 * HOURS_PER_MONTH
    return Decimal(str(round(lcu, 4)))


# ---------------------------------------------------------------- the whole estimate


def max_servable_requests(spec: StackSpec) -> float:
    """Requests a month the fleet serves at peak without queueing (binding region)."""
    shares = capacity.traffic_shares(spec)
    out = spec.traffic.output_tokens_per_request
    peak = max(capacity.day_profile(spec.traffic.peak_to_average))
    limits = []
    for region in spec.regions:
        share = shares[region.region]
        if share <= 0:
            continue
        low, high = spec.replicas_for(region)
        cap = min(high, spec.pool_replica_capacity(region))
        served = capacity.served_tokens_per_second(cap, capacity.region_tiers(spec, region))
        limits.append(served * capacity.SECONDS_PER_MONTH / (out * peak * share))
    return min(limits) if limits else 0.0


def break_even(total_at: Callable[[float, bool], Decimal], offer: ApiOffer, max_servable: float) -> BreakEven:
    """Requests/month where self-hosting (fleet grown for the traffic) costs no more than the offer.

    Bisection on a log scale between 1,000 requests/month and the upper end (what maxNodes serves;
    then, failing that, 1e11 with the pools' maxNodes lifted) to 0.1 %. The self-hosted cost is a
    step function, so on a knife edge this is *a* crossing, not necessarily the first."""
    if offer.request_usd <= 0:
        return BreakEven(offer.name, None, False, "the offer is free: self-hosting never breaks even")

    def cheaper(r: float, unbounded: bool) -> bool:
        return total_at(r, unbounded) <= offer.monthly_usd(r)

    def bisect(hi: float, unbounded: bool) -> int:
        lo = 1000.0
        if cheaper(lo, unbounded):
            return int(lo)
        while hi / lo > 1.001:  # 0.1 % is finer than any input's precision
            mid = math.sqrt(lo * hi)
            lo, hi = (lo, mid) if cheaper(mid, unbounded) else (mid, hi)
        return math.ceil(hi)

    if max_servable >= 1000 and cheaper(max_servable, False):
        return BreakEven(offer.name, bisect(max_servable, False), True, "within what maxNodes can serve")
    if cheaper(1e11, True):
        return BreakEven(offer.name, bisect(1e11, True), False,
                         f"beyond what maxNodes can serve ({max_servable:,.0f} requests/month): only with the GPU "
                         "pools' maxNodes/maxReplicas raised")
    return BreakEven(offer.name, None, False, "self-hosting stays more expensive up to 1e11 requests/month")


ARTICLE_VOLUME_RULE = 20_000_000
"""Seed article, "Decision Framework": above 20M requests/month self-hosting is usually cheaper."""
HYBRID_BAND = Decimal("0.15")


NO_OFFER = "undecided"
"""The verdict's choice when the stack compares no API offer and no set constraint decides."""


def verdict(spec: StackSpec, self_expected: Decimal, offers: list[ApiOffer], breaks: list[BreakEven], *,
            queued: dict[str, float] | None = None, capped_expected: Decimal | None = None,
            operations_excluded_usd: Decimal | None = None) -> Verdict:
    """The seed article's decision framework, in its order, with real costs for its volume step:
    data may not leave -> self-host; self-hosting clearly cheaper (beyond the 15 % band) -> self-host
    (hybrid when frontier quality is needed or the ship date is before the setup is done); then
    no ML engineers -> api; frontier quality -> api; ship date before setup -> api; within 15 % ->
    hybrid; else api. Only the constraints the stack sets vote (an unset one is unknown, not a
    default). With no API offer cost cannot decide: the verdict says so and is `undecided` unless a
    set constraint decides. `self_expected` is the fleet grown for the traffic when `queued` names
    regions whose maxNodes/maxReplicas cannot carry it (`capped_expected`: the fleet as configured)."""
    c = spec.constraints
    requests = spec.traffic.requests_per_month
    reasons: list[str] = []
    cheapest = min(offers, key=lambda o: o.monthly_usd(requests)) if offers else None
    api_cost = cheapest.monthly_usd(requests) if cheapest else None
    setup_weeks = spec.operations.setup_months * 4.35
    data_stays = c.data_may_leave_network is False
    no_engineers = c.ml_engineers_available is False
    needs_frontier = c.frontier_quality_needed is True
    ships_early = c.weeks_to_ship is not None and c.weeks_to_ship < setup_weeks
    if cheapest is None:
        reasons.append("no API offer to compare against (apiComparison is empty): cost cannot decide this verdict; "
                       "list offers under apiComparison to compare")
    if queued:
        where = ", ".join(f"{region} {share:.1%}" for region, share in queued.items())
        reasons.append(f"the fleet capped at maxNodes cannot carry the traffic ({where} of the month's tokens would queue): "
                       f"compared on the fleet grown for it (${q(self_expected):,} a month, not the capped "
                       f"${q(capped_expected or self_expected):,}); raise maxNodes/maxReplicas to serve it")
    if cheapest:
        cmp = "cheaper" if self_expected < api_cost else "dearer"
        reasons.append(f"cost: self-hosted ${q(self_expected):,} a month vs ${q(api_cost):,} for the cheapest offer "
                       f"({cheapest.name}): self-hosting is {cmp}")
        be = next(b for b in breaks if b.offer == cheapest.name)
        if be.requests_per_month:
            reasons.append(f"break-even against {cheapest.name} at {be.requests_per_month:,} requests/month ({be.note})")
    side = "above" if requests > ARTICLE_VOLUME_RULE else "not above"
    reasons.append(f"rule of thumb (seed article): above {ARTICLE_VOLUME_RULE // 1_000_000}M requests/month self-hosting "
                   f"is usually cheaper; this stack's {requests:,} is {side} it (the costs above decide)")
    if operations_excluded_usd is not None:
        reasons.append(f"people costs excluded (operations.include false or --exclude-operations): "
                       f"${q(operations_excluded_usd):,} a month of operations is not in the self-hosted side of the "
                       "verdict or the break-even")

    def done(choice: str, first: str | None = None, last: str | None = None) -> Verdict:
        return Verdict(choice, ([first] if first else []) + reasons + ([last] if last else []))

    no_ml = ("constraints.mlEngineersAvailable is false: self-hosting needs ML engineering capacity (GPUs, vLLM, model "
             "updates); the operations line assumes it is hired or contracted")
    frontier = "constraints.frontierQualityNeeded: frontier models are API-only (open models lag 6-12 months)"
    ship = (f"constraints.weeksToShip {c.weeks_to_ship} is shorter than the setup "
            f"({spec.operations.setup_months:g} months ~ {setup_weeks:.0f} weeks): ship on the API first")
    if data_stays:
        if no_engineers:
            reasons.append(no_ml)
        if needs_frontier:
            reasons.append("constraints.frontierQualityNeeded: open models lag frontier ones; check quality on your own evals")
        return done("self-host", "constraints.dataMayLeaveNetwork is false: prompts may not go to a third-party API")
    clearly_cheaper = api_cost is not None and self_expected < (1 - HYBRID_BAND) * api_cost
    if clearly_cheaper:
        if no_engineers:
            reasons.append(no_ml)
        if needs_frontier:
            return done("hybrid", frontier,
                        "hybrid: frontier tasks on the API, routine traffic on the cheaper self-hosted model")
        if ships_early:
            return done("hybrid", ship, "hybrid: launch on the API, move traffic to the self-hosted fleet once it is ready")
        return done("self-host", None, "self-hosting is cheaper by more than 15 %")
    if no_engineers:
        return done("api", "constraints.mlEngineersAvailable is false: nobody to run GPUs, vLLM and model updates")
    if needs_frontier:
        return done("api", frontier)
    if ships_early:
        return done("api", ship)
    if api_cost is None:
        return done(NO_OFFER)
    if abs(self_expected - api_cost) <= HYBRID_BAND * api_cost:
        return done("hybrid", None, "within 15 % on cost: run both (self-hosted primary, API as overflow and fallback)")
    return done("api")


def estimate(stack: str, stack_file: str, spec: StackSpec, resources: Iterable[mapping.Resource], catalog: PriceCatalog,
             offers: list[ApiOffer], *, as_of: date, api_source: str,
             usage: UsageAssumptions = UsageAssumptions()) -> StackEstimate:
    mapped = mapping.classify(resources)
    costing = Costing(spec, mapped, catalog, as_of, usage)
    costing.prepare()
    include_ops = spec.operations.include
    totals: dict[tuple[float, bool], Decimal] = {}

    def total_at(requests: float, unbounded: bool) -> Decimal:
        key = (requests, unbounded)
        if key not in totals:
            lines, _ = costing.run(requests, unbounded=unbounded)
            totals[key] = sum((li.monthly for li in lines if include_ops or li.category != "operations"), Decimal(0))
        return totals[key]

    servable = max_servable_requests(spec)
    breaks = [break_even(total_at, o, servable) for o in offers]
    items, plans = costing.run(spec.traffic.requests_per_month)
    warnings = list(costing.warnings) + costing.proxy_warning()
    for plan in plans:
        warnings.extend(plan.warnings)

    no_cost: dict[str, tuple[int, str]] = {}
    unpriced = []
    for m in mapped:
        if m.unknown:
            unpriced.append((m.resource.type, m.resource.name, m.resource.region))
        elif m.no_cost and not m.records:
            count, why = no_cost.get(m.resource.type, (0, m.no_cost))
            no_cost[m.resource.type] = (count + 1, why)
    if unpriced:
        warnings.append(f"{len(unpriced)} resource(s) of types the estimate does not know are NOT priced: "
                        + ", ".join(sorted({t for t, _, _ in unpriced})))
    age = (as_of - date.fromisoformat(catalog.retrieved_on)).days
    if age < 0:
        warnings.append(f"--as-of {as_of} is before the price catalog's date ({catalog.retrieved_on}): these prices "
                        "were not known then; an estimate as of that date needs a catalog from then")
    prices_date = min([catalog.retrieved_on] + [p.age_date for p in costing.instance_dates.values()])
    older = sorted(k for k, p in costing.instance_dates.items() if p.age_date < catalog.retrieved_on)
    if older:
        undated = sorted({f"{p.source} (undated snapshot, after {p.after})" for p in costing.instance_dates.values()
                          if p.date is None})
        warnings.append(f"instance prices for {', '.join(older)} are older than the catalog's {catalog.retrieved_on}"
                        f"{': ' + ', '.join(undated) if undated else ''}; this estimate's price age counts from "
                        f"{prices_date}")
    used_age = (as_of - date.fromisoformat(prices_date)).days
    if used_age > STALE_AFTER_DAYS:
        warnings.append(f"the price catalog is {used_age} days old for this stack (oldest price used: {prices_date}; "
                        f"catalog retrievedOn {catalog.retrieved_on}; older than {STALE_AFTER_DAYS} days): run "
                        "`tradeoff-infra prices refresh` (reads the public AWS bulk offer files, no credentials needed)")
    self_expected = sum((li.monthly for li in items if include_ops or li.category != "operations"), Decimal(0))
    queued = {p.region: p.queued_share for p in plans if p.queued_share > 0}
    # a fleet that cannot carry the traffic is not a price for it: compare the fleet grown for it
    grown = total_at(spec.traffic.requests_per_month, True) if queued else None
    ops_excluded = None if include_ops else sum((li.monthly for li in items if li.category == "operations"), Decimal(0))
    band = throughput_band(costing, spec.traffic.requests_per_month, unbounded=bool(queued), include_ops=include_ops)
    decision = verdict(spec, grown if grown is not None else self_expected, offers, breaks, queued=queued,
                       capped_expected=self_expected, operations_excluded_usd=ops_excluded)
    result = StackEstimate(
        total_at=total_at, usage=usage, grown_expected=grown, prices_date=prices_date, throughput_band=band,
        stack=stack, stack_file=stack_file, as_of=as_of, catalog=catalog, spec=spec, line_items=items,
        capacity=plans, offers=offers, break_even=breaks, verdict=decision,
        max_servable_requests=servable, no_cost=no_cost, unpriced=unpriced, warnings=_unique(warnings),
        api_source=api_source, defaults_used=defaults_used(spec, usage),
    )
    return result


def throughput_band(costing: Costing, requests: float, *, unbounded: bool, include_ops: bool) -> dict[str, Decimal]:
    """The compared self-hosted total with every replica at the low and at the high end of its throughput
    band (capacity.ReplicaThroughput.at_band): low throughput needs more nodes, so it is the dearer end."""
    out = {}
    for end in ("low", "high"):
        cache = {key: th.at_band(end) for key, th in costing._throughput.items()}
        lines, _ = costing.run(requests, unbounded=unbounded, throughput_cache=cache)
        out[end] = sum((li.monthly for li in lines if include_ops or li.category != "operations"), Decimal(0))
    return out


def _unique(items: list[str]) -> list[str]:
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
