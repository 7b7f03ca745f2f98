"""The stack spec's models: every key under `tradeoff-infra:` in `stacks/Pulumi.<stack>.yaml`, typed.

Parsing is pydantic (one field's own rules live on its model); the checks that need more than one
key are `infra/spec/checks.py`, reviewer warnings `infra/spec/advice.py`, reading a stack file
`infra/spec/loading.py`. This module never imports Pulumi.
"""

from __future__ import annotations

import ipaddress
import json
import pathlib
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator
from pydantic.alias_generators import to_camel

from infra import hardware, sizing
from infra.model_facts import Architecture, known_architecture
from infra.pins import IMAGE_RE, require_commit, require_digest_image, require_hf_repo
from infra.sizing import DTYPE_BYTES
from infra.spec.warning_ids import WARNING_IDS
from infra.weights_mirror_plan import mirror_enabled

# Hugging Face repos that answer 401 without an accepted licence + token: every meta-llama repo (Llama
# licence click-through) and Mistral's 7B repos ("share your contact information",
# openvinotoolkit/openvino.genai#371, 2024-04-22). A prefix list, not exhaustive; read 2026-11-24.
GATED_SOURCE_PREFIXES = ("meta-llama/", "mistralai/Mistral-7B-")

DNS_NAME_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")
TRANSIT_GATEWAY_RE = re.compile(r"^tgw-[0-9a-f]{8,17}$")
# Address ranges no internet client's packet can come from: RFC 1918, RFC 6598 shared (carrier-grade
# NAT) space, loopback, link-local, IPv6 unique-local and link-local. Deliberately not Python's
# `is_private`, which also counts the RFC 5737 documentation ranges the shipped stacks use as
# stand-ins for real public egress ranges.
NON_INTERNET_RANGES = tuple(ipaddress.ip_network(c) for c in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "fc00::/7", "fe80::/10", "::1/128",
))
# A "valid e-mail address" as the WHATWG HTML standard defines it (input type=email), with at least one
# dot in the domain: SNS sends the subscription confirmation there.
EMAIL_RE = re.compile(
    r"^(?=.{3,254}$)[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
# An IAM role or user ARN: what an EKS access entry names (not an STS assumed-role session).
IAM_PRINCIPAL_RE = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)/[A-Za-z0-9+=,.@_/-]{1,512}$")
# The EKS access policy that grants cluster-admin through an access entry (EKS user guide, "Review
# access policy permissions"); the ARN's partition is the cluster's.
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
# EKS versions the program is tested against (chart schemas, cluster-autoscaler image per minor).
# Standard support of 1.31-1.34 ends 2025-11-26 .. 2026-12-02 (EKS release calendar, read
# 2026-11-24); older ones still run, in extended support, and the estimate prices that.
KUBERNETES_VERSIONS = ("1.31", "1.32", "1.33", "1.34", "1.35")

class SpecModel(BaseModel):
    """Base: camelCase keys in the file, snake_case in Python, unknown keys refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, defer_build=True,
                              strict=True, allow_inf_nan=False)
    """strict: `maxNodes: true` or `requestsPerMonth: 1.0e+29` is refused, not coerced to 1 or to an int;
    allow_inf_nan: `.inf` / `.nan` are refused for every number. Every number also has a finite range
    (`le=`), so nothing the estimate multiplies can overflow (docs/stack-file.md, "Ranges")."""


# ---------------------------------------------------------------- model pin


class ArchitectureSpec(SpecModel):
    """`model.architecture`: the shape figures of `infra.model_facts.Architecture` a stack gives for an unknown model."""

    layers: int = Field(gt=0, le=1000)
    kv_heads: int = Field(gt=0, le=1024)
    head_dim: int = Field(gt=0, le=4096)


class PinRecord(SpecModel):
    """An earlier pin, kept in `model.history` (newest last) by `tradeoff-infra model`."""

    revision: str
    image: str
    source: str | None = None
    pinned_at: str | None = None
    """ISO-8601 UTC time the pin was made."""
    replaced_at: str | None = None
    """ISO-8601 UTC time another pin replaced it."""
    note: str | None = None
    """Why the pin was made (its `pinNote` while it was in force)."""


class ModelOverride(SpecModel):
    """A region's own pin (a canary): replaces revision/image (and optionally source) there.

    With `history` alone the region follows the stack-wide pin and keeps the record of its canaries.
    """

    revision: str | None = None
    image: str | None = None
    source: str | None = None
    pinned_at: str | None = None
    pin_note: str | None = None
    history: list[PinRecord] = []

    @model_validator(mode="after")
    def _whole_pin(self) -> ModelOverride:
        if (self.revision is None) != (self.image is None):
            missing = "image" if self.image is None else "revision"
            raise ValueError(f"{missing} is missing: a region's own pin needs both revision and image")
        if self.source is not None and self.revision is None:
            raise ValueError("source without revision and image: a region's own pin needs all of them")
        return self

    @field_validator("source")
    @classmethod
    def _source(cls, v: str | None) -> str | None:
        return None if v is None else require_hf_repo(v)

    @field_validator("revision")
    @classmethod
    def _revision(cls, v: str | None) -> str | None:
        return None if v is None else require_commit(v)

    @field_validator("image")
    @classmethod
    def _image(cls, v: str | None) -> str | None:
        return None if v is None else require_digest_image(v)


# The served model name is an argument of vLLM's command line in the chart, whose values schema is its home:
# a name `validate` accepted but the schema refuses (`llama #1`, `team: llama`, a newline) failed `pulumi up`.
_CHART_SCHEMA = json.loads((pathlib.Path(__file__).resolve().parents[2] / "charts" / "vllm" / "values.schema.json").read_text())
MODEL_NAME_RE = re.compile(_CHART_SCHEMA["properties"]["model"]["properties"]["name"]["pattern"])
# Replica counts are chart values too (`autoscaling.minReplicas/maxReplicas`, its schema's bounds): a count `validate`
# accepted but the schema refuses (maxReplicas 500) failed `helm install` at `pulumi up`. `validate` refuses them
# (infra/spec/checks.py `chart_limits`); the estimate prices them with a "not deployable as is" warning.
_CHART_AUTOSCALING = _CHART_SCHEMA["properties"]["autoscaling"]["properties"]
CHART_MIN_REPLICAS_MAX: int = _CHART_AUTOSCALING["minReplicas"]["maximum"]
CHART_MAX_REPLICAS_MAX: int = _CHART_AUTOSCALING["maxReplicas"]["maximum"]


class ModelSpec(SpecModel):
    name: str = Field(min_length=1, max_length=128)
    """Served model name (what clients put in `model`): letters, digits and `._/:@+-`, as the chart's schema allows."""
    source: str
    """Hugging Face repository id of the weights."""
    revision: str
    """Full 40-hex commit of the weights."""
    image: str
    """vLLM image pinned by `@sha256:` digest."""
    tensor_parallel: int = Field(default=1, ge=1, le=64)
    max_model_len: int = Field(default=8192, ge=256, le=10_485_760)
    dtype: Literal["bfloat16", "float16", "float32"] = "bfloat16"
    quantization: Literal["fp8", "awq", "gptq"] | None = None
    parameters_billion: float | None = Field(default=None, gt=0, le=10_000)
    architecture: ArchitectureSpec | None = None
    weights_mirror: Literal["auto", True, False] = "auto"
    """In-region S3 mirror of the weights (`infra/weights_mirror_plan.py`): true, false, or "auto" (on for
    weights of 20 GB or more)."""
    pinned_at: str | None = None
    """ISO-8601 UTC time the current pin was made (written by `tradeoff-infra model`)."""
    pin_note: str | None = None
    """Why the current pin was made."""
    history: list[PinRecord] = []

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not MODEL_NAME_RE.fullmatch(v):  # fullmatch: `$` alone would let a trailing newline through
            raise ValueError(f"{v!r} is not a served model name the chart accepts: letters, digits and ._/:@+- "
                             "(no spaces), starting with a letter or digit")
        return v

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        return require_hf_repo(v)

    @field_validator("revision")
    @classmethod
    def _revision(cls, v: str) -> str:
        return require_commit(v)

    @field_validator("image")
    @classmethod
    def _image(cls, v: str) -> str:
        return require_digest_image(v)

    @property
    def weight_bytes_per_parameter(self) -> float:
        return sizing.weight_bytes_per_parameter(self.dtype, self.quantization)

    @property
    def kv_dtype_bytes(self) -> float:
        return DTYPE_BYTES[self.dtype] if self.dtype != "float32" else 4.0

    def resolved_architecture(self) -> Architecture | None:
        known = known_architecture(self.source)
        params = self.parameters_billion or (known.parameters_billion if known else None)
        if self.architecture and params:
            a = self.architecture
            return Architecture(params, a.layers, a.kv_heads, a.head_dim)
        if known:
            return Architecture(params, known.layers, known.kv_heads, known.head_dim)
        return None

    @property
    def image_tag(self) -> str | None:
        match = IMAGE_RE.match(self.image)
        return match.group("tag") if match else None


# ---------------------------------------------------------------- regions


class GpuPoolSpec(SpecModel):
    """One `regions[].gpuPools[]` entry (the node group itself is `infra.components.gpu_pool.GpuPool`)."""

    name: str
    instance_type: str
    min_nodes: int = Field(ge=0, le=1000)
    max_nodes: int = Field(ge=0, le=1000)
    desired_nodes: int | None = Field(default=None, ge=0, le=1000)
    capacity_type: Literal["on-demand", "spot", "reserved-1y"] = "on-demand"
    """`reserved-1y`: launched on demand, billed at the 1-year reserved rate (a Reserved Instance or EC2 Instance
    Savings Plan bought separately covers minNodes; nodes above it bill on demand)."""
    disk_gib: int | None = Field(default=None, ge=50, le=16384, alias="diskGiB")
    """Root volume per node; default sized from the model weights (see `disk_size_gib`)."""
    measured_output_tokens_per_second: float | None = Field(default=None, gt=0, le=10_000_000)
    """The stack's own load test: saturated output tok/s of one replica on this pool, for the stack's
    input/output lengths; replaces the capacity model's prediction (`cli/capacity.py`)."""
    measured_source: str | None = Field(default=None, min_length=1, max_length=500)
    """Where `measuredOutputTokensPerSecond` comes from (tool, date, vLLM version, settings): required with it."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise ValueError(f"{v!r} must be lower-case letters, digits and '-', at most 32 characters")
        return v

    @model_validator(mode="after")
    def _measured(self) -> GpuPoolSpec:
        if (self.measured_output_tokens_per_second is None) != (self.measured_source is None):
            given, missing = (("measuredOutputTokensPerSecond", "measuredSource")
                              if self.measured_source is None else ("measuredSource", "measuredOutputTokensPerSecond"))
            raise ValueError(f"{given} needs {missing}: a load-test result is used only with where it comes from "
                             "(tool, date, vLLM version, settings)")
        return self

    @property
    def initial_nodes(self) -> int:
        return self.desired_nodes if self.desired_nodes is not None else self.min_nodes


class RegionScaling(SpecModel):
    min_replicas: int | None = Field(default=None, ge=0, le=10_000)
    max_replicas: int | None = Field(default=None, ge=1, le=10_000)


def default_vpc_cidr(index: int) -> str:
    """The VPC range of the stack's `index`-th region when `vpcCidr` is not given: 10.<index>.0.0/16.

    Distinct for every region of a stack (so one network can route to all of them), the same as
    before for the first region (single-region stacks keep 10.0.0.0/16), and unchanged for existing
    regions when one is appended. Removing or reordering regions renumbers those after it, which
    would replace their VPCs: give `vpcCidr` explicitly before doing that (docs/stack-file.md)."""
    if not 0 <= index <= 255:
        raise ValueError(f"no default VPC range for region index {index}")
    return f"10.{index}.0.0/16"


def reaches_internet_clients(cidrs: list[str]) -> bool:
    """True when some CIDR covers addresses an internet client can have (see NON_INTERNET_RANGES)."""
    for cidr in cidrs:
        net = ipaddress.ip_network(cidr)
        if not any(net.version == r.version and net.subnet_of(r) for r in NON_INTERNET_RANGES):
            return True
    return False


def transit_routes(vpc_cidr: str, private_access_cidrs: list[str]) -> list[str]:
    """`cluster.privateAccessCidrs` a region's private route tables send to its Transit Gateway.

    IPv4 only (the VPC has no IPv6 range), and none that lies inside the VPC itself: that traffic
    stays on the VPC's local route (and AWS refuses a route more specific than it)."""
    vpc = ipaddress.ip_network(vpc_cidr)
    out = []
    for cidr in private_access_cidrs:
        net = ipaddress.ip_network(cidr)
        if net.version == 4 and not net.subnet_of(vpc):
            out.append(cidr)
    return out


class RegionSpec(SpecModel):
    region: str
    gpu_pools: list[GpuPoolSpec] = Field(min_length=1)
    vpc_cidr: str | None = None
    """The region's VPC range; `StackSpec` fills it with `default_vpc_cidr(index)` when not given."""
    transit_gateway_id: str | None = None
    """An existing Transit Gateway in this region: the program attaches the VPC to it and routes
    `cluster.privateAccessCidrs` through it, so the private API endpoint is reachable on the first run."""
    traffic_dial: int = Field(default=100, ge=0, le=100)
    """Share of this region's traffic the global endpoint sends (0 drains the region)."""
    traffic_share: float | None = Field(default=None, ge=0, le=1)
    """Share of all requests that come from users nearest this region (Global Accelerator routes
    by proximity); give it on every region or none (none: equal shares)."""
    autoscaling: RegionScaling | None = None
    model: ModelOverride | None = None

    @property
    def has_own_pin(self) -> bool:
        """True when the region runs its own pin (a canary) instead of the stack-wide one."""
        return self.model is not None and self.model.revision is not None

    @field_validator("transit_gateway_id")
    @classmethod
    def _tgw(cls, v: str | None) -> str | None:
        if v is not None and not TRANSIT_GATEWAY_RE.match(v):
            raise ValueError(f"{v!r} is not a Transit Gateway id (tgw- and 8 or 17 hex digits)")
        return v

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, v: str | None) -> str | None:
        if v is None:
            return v
        net = ipaddress.ip_network(v, strict=True)
        if net.version != 4 or net.prefixlen > 20 or not net.is_private:
            raise ValueError(f"{v!r} must be a private IPv4 range of /20 or larger")
        return v


# ---------------------------------------------------------------- platform


# Each CIDR of cluster.privateAccessCidrs and endpoint.allowedCidrs becomes a security-group rule; AWS caps the
# rules reaching one network interface at 1,000 (rules per security group x security groups per interface,
# docs/sources.md), so a longer list can never deploy. Without the bound, 40,000 CIDRs passed `validate` in a
# second and kept `inventory` and `estimate` building rules for minutes.
MAX_SECURITY_GROUP_RULES = 1000


def _distinct_cidrs(cidrs: list[str]) -> list[str]:
    """Valid CIDRs, none twice (also not spelt two ways, `::1/128` and `0::1/128`): the program makes one
    security-group rule per CIDR, and a second rule for one range is a duplicate resource (`estimate` and
    `inventory` ended in a duplicate-URN traceback) and a duplicate rule AWS refuses."""
    seen: dict[Any, str] = {}
    for cidr in cidrs:
        net = ipaddress.ip_network(cidr, strict=True)
        if net in seen:
            raise ValueError(f"{cidr!r} appears twice" + (f" (as {seen[net]!r})" if seen[net] != cidr else ""))
        seen[net] = cidr
    return cidrs


class NetworkSpec(SpecModel):
    availability_zones: int = Field(default=2, ge=2, le=3)
    nat_gateways: Literal["single", "per-az"] = "single"


class SystemNodes(SpecModel):
    instance_type: str = "m6i.large"
    nodes: int = Field(default=2, ge=1, le=10)


class ClusterSpec(SpecModel):
    kubernetes_version: str = "1.35"
    public_access_cidrs: list[str] = []
    """Public CIDRs allowed to reach the EKS public API endpoint; empty turns the public endpoint off."""
    private_access_cidrs: list[str] = Field(default=[], max_length=MAX_SECURITY_GROUP_RULES)
    """CIDRs inside the network (VPN, on-premises) allowed to reach the private API endpoint on 443 and
    routed through `regions[].transitGatewayId`: without a public endpoint, `pulumi up` and kubectl
    must run from one of them, over those gateways (`check` refuses a stack nobody can reach)."""
    log_retention_days: int = 30
    system_nodes: SystemNodes = Field(default_factory=SystemNodes)
    imds_hop_limit: int = Field(default=1, ge=1, le=2)
    """Relaxation key: 2 only for an add-on that needs IMDS from a pod; `validate` reports it."""
    admin_principal_arns: list[str] = Field(default=[], max_length=20)
    """IAM role/user ARNs given cluster-admin through an EKS access entry (AmazonEKSClusterAdminPolicy);
    the identity `pulumi up` runs as must be one of them (docs/operations.md, "Cluster access")."""
    bootstrap_cluster_creator_admin_permissions: bool = False
    """Relaxation key: true keeps EKS's hidden, permanent admin entry for whoever created the cluster."""

    @field_validator("admin_principal_arns")
    @classmethod
    def _admins(cls, v: list[str]) -> list[str]:
        for arn in v:
            if not IAM_PRINCIPAL_RE.match(arn):
                hint = (" (an STS session; give the role's arn:aws:iam::<account>:role/<name>)"
                        if ":assumed-role/" in arn else "")
                raise ValueError(f"{arn!r} is not an IAM role or user ARN{hint}")
        if len(set(v)) != len(v):
            raise ValueError("an ARN appears twice")
        return v

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, v: str) -> str:
        if v not in KUBERNETES_VERSIONS:
            raise ValueError(
                f"{v!r} is not a Kubernetes version this project supports on EKS; pick one of {', '.join(KUBERNETES_VERSIONS)}"
            )
        return v

    @field_validator("public_access_cidrs", "private_access_cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        return _distinct_cidrs(v)

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, v: int) -> int:
        allowed = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653}
        if v not in allowed:
            raise ValueError(f"{v} is not a CloudWatch Logs retention; pick one of {sorted(allowed)}")
        return v


KvCacheMetric = Literal["auto", "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"]


class AutoscalingSpec(SpecModel):
    min_replicas: int = Field(default=1, ge=0, le=10_000)
    max_replicas: int = Field(default=2, ge=1, le=10_000)
    """A stack may price more (a what-if), but `validate` refuses more than the vLLM chart's values schema allows
    (CHART_MAX_REPLICAS_MAX, which helm enforces; infra/spec/checks.py `chart_limits`)."""
    target_queue_length: float = Field(default=4, gt=0, le=10_000)
    """`vllm:num_requests_waiting` per replica that KEDA aims for."""
    target_kv_cache_usage: float = Field(default=0.8, gt=0, le=1)
    """KV-cache use (0-1) per replica that KEDA aims for."""
    kv_cache_metric: KvCacheMetric = "auto"
    scale_to_zero: bool = False
    activation_requests_per_second: float = Field(default=0.1, gt=0, le=100_000)
    """With scale-to-zero: request rate at the load balancer that wakes the fleet."""
    scale_down_stabilization_seconds: int = Field(default=900, ge=0, le=7200)
    fallback_replicas: int = Field(default=1, ge=1, le=10_000)
    node_scale_down_unneeded_minutes: int = Field(default=15, ge=1, le=240)


class EndpointSpec(SpecModel):
    mode: Literal["global-accelerator", "regional"] = "global-accelerator"
    """Left out of a stack file: derived from the number of regions (StackSpec._endpoint_mode_from_regions)."""
    hostname: str | None = None
    hosted_zone_id: str | None = None
    allowed_cidrs: list[str] = Field(default=["0.0.0.0/0"], max_length=MAX_SECURITY_GROUP_RULES)
    """Who may reach the load balancer's listener ports: the addresses the ALB sees, which behind
    Global Accelerator (client IP preservation) are the clients' own public egress addresses."""
    load_balancer_scheme: Literal["internet-facing", "internal"] = "internet-facing"
    """`internal` puts each region's ALB in the private subnets: reachable only through Global
    Accelerator (which supports internal ALB endpoints) or from networks connected to the VPC."""
    accept_plain_http_without_host_pin: bool = False
    """Opt-out key: a global-accelerator stack without `hostname` serves the API over plain HTTP
    (the API key in clear) with no Host pinning (CVE-2026-48710 key bypass); refused unless true."""
    idle_timeout_seconds: int = Field(default=300, ge=60, le=4000)

    @field_validator("hostname")
    @classmethod
    def _hostname(cls, v: str | None) -> str | None:
        if v is not None and not DNS_NAME_RE.match(v):
            raise ValueError(f"{v!r} is not a lower-case DNS name")
        return v

    @field_validator("allowed_cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("at least one CIDR is needed, or nobody can reach the endpoint")
        return _distinct_cidrs(v)


class AlertThresholds(SpecModel):
    queue_waiting_per_replica: float = Field(default=10, gt=0, le=100_000)
    kv_cache_usage: float = Field(default=0.95, gt=0, le=1)
    gpu_idle_hours: float = Field(default=2, gt=0, le=720)
    gpu_idle_utilization_percent: float = Field(default=5, ge=0, le=100)


class MonitoringSpec(SpecModel):
    enabled: bool = True
    retention_days: int = Field(default=15, ge=1, le=365)
    storage_gib: int = Field(default=50, ge=10, le=16384, alias="storageGiB")
    grafana: bool = True
    alerts: AlertThresholds = Field(default_factory=AlertThresholds)
    alarm_email: str | None = None
    """Optional address subscribed to the regional CloudWatch alarms' SNS topic."""

    @field_validator("alarm_email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not EMAIL_RE.match(v):
            raise ValueError(f"{v!r} is not an e-mail address (name@example.com)")
        return v


class TrafficSpec(SpecModel):
    requests_per_month: int = Field(ge=0, le=100_000_000_000)
    input_tokens_per_request: int = Field(ge=0, le=10_485_760)
    output_tokens_per_request: int = Field(ge=1, le=10_485_760)
    peak_to_average: float = Field(default=3.0, ge=1, le=100)
    ttft_target_ms: int = Field(default=2000, gt=0, le=600_000)
    """p95 time-to-first-token the service must meet; the TTFT alert fires above it."""
    tpot_target_ms: int = Field(default=50, gt=0, le=10_000)
    """Mean time per output token the service must meet; sets the usable batch size."""


class CustomApiOffer(SpecModel):
    name: str = Field(min_length=1, max_length=64)
    input_per_m_tok_usd: float = Field(ge=0, le=10_000)
    output_per_m_tok_usd: float = Field(ge=0, le=10_000)


# A mapping is a custom offer, anything else a `provider:model` string: only that branch's errors are
# reported (not "should be a valid string" next to a custom offer's real problem).
ApiOfferSpec = Annotated[
    Annotated[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+:[A-Za-z0-9_./:-]+$")], Tag("str")]
    | Annotated[CustomApiOffer, Tag("CustomApiOffer")],
    Discriminator(lambda v: "CustomApiOffer" if isinstance(v, (dict, CustomApiOffer)) else "str"),
]


class OperationsSpec(SpecModel):
    engineer_fte: float = Field(default=0.5, ge=0, le=1000)
    loaded_monthly_cost_usd: float = Field(default=15000, ge=0, le=1_000_000)
    setup_months: float = Field(default=2, ge=0, le=120)
    amortisation_months: int = Field(default=24, ge=1, le=240)
    include: bool = True


class BudgetSpec(SpecModel):
    monthly_usd: float = Field(gt=0, le=1_000_000_000)


class ConstraintsSpec(SpecModel):
    """The user's own constraints. A key left out is unknown, not a default: only a set key votes in
    the verdict (`cli/estimate/decision.py` verdict())."""

    data_may_leave_network: bool | None = None
    ml_engineers_available: bool | None = None
    frontier_quality_needed: bool | None = None
    weeks_to_ship: int | None = Field(default=None, ge=0, le=520)


# ---------------------------------------------------------------- the hybrid gateway

SELF_HOSTED = "self-hosted"
"""`gateway.routes[].servedBy` for the stack's own vLLM fleet (anything else names an `apiComparison` offer)."""
DATA_CLASSES = ("general", "restricted")
# Share of the month the self-hosted fleet is assumed unable to answer a request it should (spot reclaims before
# a replacement is ready, rollouts, a region failing over): 0.5%, about 3.6 hours a month. An assumption of this
# project, not a measurement; a stack states its own with `gateway.expectedUnavailability` (docs/hybrid.md).
DEFAULT_EXPECTED_UNAVAILABILITY = 0.005
# In-flight requests one vLLM replica is taken to serve before the gateway sends an overflow-enabled route's
# further requests to its `overflowTo` offer. An assumption of this project (well under vLLM v0.31's default
# batch cap of 256 sequences, where latency targets are met for chat-sized requests); a stack states its own
# with `gateway.replicaConcurrency` (docs/gateway.md "Overflow").
DEFAULT_REPLICA_CONCURRENCY = 32


def offer_provider(offer: str) -> str:
    """The provider of a `provider:model` offer name (what `providerApiKeys` and provider budgets are keyed by)."""
    return offer.split(":", 1)[0]


class GatewayRoute(SpecModel):
    """One `gateway.routes[]` entry: a model name clients call, and what serves it."""

    name: str = Field(min_length=1, max_length=128)
    """The name clients put in `model` (the same characters as `model.name`)."""
    served_by: str = SELF_HOSTED
    """`self-hosted` (the stack's vLLM fleet) or the name of an `apiComparison` offer (`provider:model`)."""
    share: float = Field(gt=0, le=1)
    """Share of the stack's requests (`traffic.requestsPerMonth`) that call this route; all routes add up to 1."""
    overflow_to: str | None = None
    """An `apiComparison` offer that takes this route's requests the self-hosted fleet has no room for (saturated)."""
    fallback_to: list[str] = Field(default=[], max_length=8)
    """`apiComparison` offers tried in order when the self-hosted fleet fails (errors, timeouts, a region down)."""
    data_class: Literal["general", "restricted"] = "general"
    """`restricted`: the data never leaves the self-hosted fleet, not on overflow nor on an outage (fails closed)."""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not MODEL_NAME_RE.fullmatch(v):
            raise ValueError(f"{v!r} is not a model name clients can call: letters, digits and ._/:@+- (no spaces), "
                             "starting with a letter or digit")
        return v

    @model_validator(mode="after")
    def _restricted_stays_home(self) -> GatewayRoute:
        if self.data_class == "restricted":
            leaks = [k for k, v in (("servedBy", self.served_by != SELF_HOSTED), ("overflowTo", self.overflow_to),
                                    ("fallbackTo", self.fallback_to)) if v]
            if leaks:
                raise ValueError(f"a restricted route never leaves the self-hosted fleet, but it sets {', '.join(leaks)}: "
                                 "serve it self-hosted with no overflowTo and no fallbackTo (it fails closed), or make it "
                                 "dataClass general")
        if self.served_by != SELF_HOSTED and (self.overflow_to or self.fallback_to):
            raise ValueError("overflowTo and fallbackTo relieve the self-hosted fleet; a route served by an API offer "
                             "takes neither")
        if len(set(self.fallback_to)) != len(self.fallback_to):
            raise ValueError("fallbackTo names an offer twice")
        return self

    @property
    def reaches_api(self) -> bool:
        """True when some of this route's requests may be answered by an API offer."""
        return self.served_by != SELF_HOSTED or bool(self.overflow_to) or bool(self.fallback_to)

    def api_offers(self) -> list[str]:
        """Every offer this route may send requests to, in the order it would (served, overflow, fallback)."""
        named = ([self.served_by] if self.served_by != SELF_HOSTED else []) + (
            [self.overflow_to] if self.overflow_to else []) + self.fallback_to
        return list(dict.fromkeys(named))


class GatewaySpec(SpecModel):
    """`gateway`: a gateway (LiteLLM's proxy) in front of each region's vLLM, routing by model name to the
    self-hosted fleet or API offers (docs/hybrid.md). A stack without it deploys and prices as before."""

    routes: list[GatewayRoute] = Field(min_length=1, max_length=32)
    api_budget_monthly_usd: float | None = Field(default=None, gt=0, le=1_000_000_000)
    """API spend per month the gateway allows across all routes; past it, requests to API offers are refused
    (restricted routes never use one). Required when any route may reach an API."""
    expected_unavailability: float = Field(default=DEFAULT_EXPECTED_UNAVAILABILITY, ge=0, le=1)
    """Share of the month the self-hosted fleet fails requests (spot reclaims, rollouts, region failover): what
    the estimate sends to `fallbackTo` offers. Default 0.005, an assumption (docs/hybrid.md)."""
    min_replicas: int = Field(default=2, ge=2, le=100)
    """Gateway pods per region at least (two: one may be disrupted, the PodDisruptionBudget keeps one)."""
    max_replicas: int = Field(default=6, ge=1, le=100)
    """Gateway pods per region at most (the gateway scales on CPU)."""
    provider_budgets_monthly_usd: dict[str, float] | None = None
    """Optional split of `apiBudgetMonthlyUsd` by provider (the `provider` of `provider:model`): USD a month each
    provider may be paid. Left out, the budget is split evenly over the providers the routes may call, which can
    starve the provider that carries the overflow (the estimate warns when a provider's share is below its spend)."""
    alert_api_share_above: float | None = Field(default=None, gt=0, le=1)
    """The "API share above plan" alert fires when the share of requests answered by API offers over a day
    exceeds this (set it to the estimate's `hybrid.apiShare` plus a margin). Default: derived from the routes
    (`infra/gateway_monitoring.py` `api_share_alert_threshold`)."""
    replica_concurrency: int = Field(default=DEFAULT_REPLICA_CONCURRENCY, ge=1, le=100_000)
    """In-flight requests one vLLM replica serves at its planned load: a region's fleet has `maxReplicas` x this
    slots; the routes that cannot leave keep what they hold at the peak and overflow-enabled routes share the rest,
    sending further requests to their `overflowTo` (`infra/gateway_overflow.py`, docs/gateway.md "Overflow"). Set it
    to the capacity model's planned batch (the estimate warns above it). Default 32, an assumption (the estimate lists
    it in `defaultsUsed`)."""

    @field_validator("routes")
    @classmethod
    def _distinct(cls, v: list[GatewayRoute]) -> list[GatewayRoute]:
        names = [r.name for r in v]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"route name {twice[0]!r} appears twice: clients pick a route by its name")
        total = sum(r.share for r in v)
        if abs(total - 1) > 0.001:
            raise ValueError(f"route shares add up to {total:.3f}, not 1: every request calls exactly one route")
        return v

    @model_validator(mode="after")
    def _bounds(self) -> GatewaySpec:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"minReplicas {self.min_replicas} exceeds maxReplicas {self.max_replicas}")
        return self

    @property
    def reaches_api(self) -> bool:
        return any(r.reaches_api for r in self.routes)

    def api_offers(self) -> list[str]:
        """Every API offer some route may use, each once, in route order."""
        return list(dict.fromkeys(o for r in self.routes for o in r.api_offers()))

    def providers(self) -> list[str]:
        """The providers of those offers (`offer_provider`), each once, in route order."""
        return list(dict.fromkeys(offer_provider(o) for o in self.api_offers() if ":" in o))


class StackSpec(SpecModel):
    model: ModelSpec
    regions: list[RegionSpec] = Field(min_length=1)
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    cluster: ClusterSpec = Field(default_factory=ClusterSpec)
    autoscaling: AutoscalingSpec = Field(default_factory=AutoscalingSpec)
    endpoint: EndpointSpec = Field(default_factory=EndpointSpec)
    monitoring: MonitoringSpec = Field(default_factory=MonitoringSpec)
    traffic: TrafficSpec
    api_comparison: list[ApiOfferSpec] = []
    operations: OperationsSpec = Field(default_factory=OperationsSpec)
    budget: BudgetSpec | None = None
    constraints: ConstraintsSpec = Field(default_factory=ConstraintsSpec)
    gateway: GatewaySpec | None = None
    # warning ids (infra/spec/warning_ids.py) this stack accepts: `estimate` does not print them
    acknowledged_warnings: list[str] = Field(default=[], max_length=len(WARNING_IDS))

    @field_validator("acknowledged_warnings")
    @classmethod
    def _known_warning_ids(cls, v: list[str]) -> list[str]:
        import difflib

        unknown = {}  # every unknown id in one message, each with its own suggestion (not one typo per run)
        for wid in v:
            if wid not in WARNING_IDS:
                near = difflib.get_close_matches(wid, list(WARNING_IDS), n=1)
                unknown[wid] = f"did you mean {near[0]}?" if near else None
        what = "(the [id] estimate shows next to a warning)"
        known = f"known: {', '.join(WARNING_IDS)}"
        if len(unknown) == 1:
            (wid, hint), = unknown.items()
            raise ValueError(f"unknown warning id {wid!r} {what}; {hint or known}")
        if unknown:
            each = "; ".join(f"{wid!r}" + (f" ({hint})" if hint else "") for wid, hint in unknown.items())
            tail = f"; {known}" if None in unknown.values() else ""
            raise ValueError(f"{len(unknown)} unknown warning ids {what}: {each}{tail}")
        return v

    @field_validator("regions", mode="before")
    @classmethod
    def _region_count(cls, v: Any) -> Any:
        """Each region may appear once, so a list longer than the region table is wrong before any entry is read;
        refused here, because the cross-region checks (VPC overlaps) grow with its square: 4,000 regions with
        their own vpcCidr kept `validate` busy for minutes."""
        known = len(hardware.aws_regions())
        if isinstance(v, list) and len(v) > known:
            raise ValueError(f"{len(v)} regions, but each region appears once and there are {known} (the region table)")
        return v

    @model_validator(mode="before")
    @classmethod
    def _default_vpc_cidrs(cls, data: Any) -> Any:
        """Give each region without `vpcCidr` its own range, `default_vpc_cidr(its index)`."""
        if not isinstance(data, dict) or not isinstance(data.get("regions"), list):
            return data
        regions = []
        for index, region in enumerate(data["regions"]):
            if isinstance(region, dict) and region.get("vpcCidr", region.get("vpc_cidr")) is None and index <= 255:
                region = {**{k: v for k, v in region.items() if k != "vpc_cidr"}, "vpcCidr": default_vpc_cidr(index)}
            regions.append(region)
        return {**data, "regions": regions}

    @model_validator(mode="after")
    def _endpoint_mode_from_regions(self) -> StackSpec:
        """`endpoint.mode` left out: `global-accelerator` for several regions (one address in front of all),
        `regional` for one (its load balancer is the endpoint; an accelerator in front of a single region
        adds its fixed hourly fee, data-transfer premium and a hop for nothing). Kept out of the keys the stack set,
        so `defaultsUsed` lists it with the value it took."""
        if "mode" not in self.endpoint.model_fields_set:
            # the model is frozen; this is its own endpoint object, still being validated
            self.endpoint.__dict__["mode"] = "global-accelerator" if self.multi_region else "regional"
        return self

    # -- derived views the program and the estimate share

    def model_for(self, region: RegionSpec) -> tuple[str, str, str]:
        """(source, revision, image) in force in a region: its override, else the stack pin."""
        if region.has_own_pin:
            return (region.model.source or self.model.source, region.model.revision, region.model.image)
        return (self.model.source, self.model.revision, self.model.image)

    def gated_sources(self) -> list[str]:
        """Weights repos of this stack (stack pin and regional pins) known to need `huggingfaceToken`."""
        sources = dict.fromkeys(self.model_for(r)[0] for r in self.regions) or {self.model.source: None}
        return [s for s in sources if s.startswith(GATED_SOURCE_PREFIXES)]

    def weights_mirror_for(self, region: RegionSpec) -> bool:
        """Whether the region serves its weights from an in-region S3 mirror (`model.weightsMirror`)."""
        return mirror_enabled(self.model.weights_mirror, self.weight_bytes(self.model_for(region)[0]))

    def replicas_for(self, region: RegionSpec) -> tuple[int, int]:
        over = region.autoscaling or RegionScaling()
        low = over.min_replicas if over.min_replicas is not None else self.autoscaling.min_replicas
        high = over.max_replicas if over.max_replicas is not None else self.autoscaling.max_replicas
        if self.autoscaling.scale_to_zero:
            low = 0
        return low, high

    def replicas_per_node(self, pool: GpuPoolSpec) -> int:
        return hardware.instance_type(pool.instance_type).gpus // self.model.tensor_parallel

    def pool_replica_capacity(self, region: RegionSpec) -> int:
        return sum(pool.max_nodes * self.replicas_per_node(pool) for pool in region.gpu_pools)

    def architecture_for(self, source: str | None = None) -> Architecture | None:
        """Architecture of the stack's weights, or of a canary region's other `source`."""
        if source is None or source == self.model.source:
            return self.model.resolved_architecture()
        return known_architecture(source)

    def weight_bytes(self, source: str | None = None) -> float | None:
        arch = self.architecture_for(source)
        if not arch:
            return None
        return arch.parameters_billion * 1e9 * self.model.weight_bytes_per_parameter

    def disk_size_gib(self, pool: GpuPoolSpec, source: str | None = None) -> int:
        """Node root volume: OS + images (~60 GiB) + model weights twice (cache and download); the
        weights are the stack's, or `source`'s (a canary region's own, see `model_for`)."""
        if pool.disk_gib:
            return pool.disk_gib
        return sizing.disk_size_gib(self.weight_bytes(source) or 0)

    @property
    def multi_region(self) -> bool:
        return len(self.regions) > 1
