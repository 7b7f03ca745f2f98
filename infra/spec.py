"""The typed stack spec: every key under `tradeoff-infra:` in `stacks/Pulumi.<stack>.yaml`.

Parsing is pydantic; cross-field checks (model fits the GPU, replicas fit the pools, regions are
real) run after parsing and report every problem with its key path, e.g.
`regions[1].gpuPools[0].instanceType`. This module never imports Pulumi: the CLI, the program
and the tests all call `parse_stack_config` / `load_stack_file`.
"""

from __future__ import annotations

import ipaddress
import json
import pathlib
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from infra import files, hardware
from infra.model_facts import Architecture, known_architecture
from infra.weights_mirror_plan import mirror_enabled

PROJECT = "tradeoff-infra"
NAMESPACE = f"{PROJECT}:"
# Config keys that hold secrets and are read by the program, not by the spec.
SECRET_KEYS = {"vllmApiKey", "huggingfaceToken"}
AWS_PROFILE_KEY = "aws:profile"
"""The one `aws:` key the program reads: the explicit per-region providers do not inherit the default
provider's config, so the program passes the profile to each of them and to the kubeconfigs."""
AWS_ROLE_KEYS = ("aws:assumeRoles", "aws:assumeRole", "aws:assumeRoleWithWebIdentity")
AWS_ROLE_MESSAGE = (
    "is not applied by this program: its per-region providers and the kubeconfigs' `aws eks get-token` "
    "take credentials from an AWS profile; put the role in a profile (role_arn and source_profile in "
    "~/.aws/config) and set aws:profile to it")
# Hugging Face repos that answer 401 without an accepted licence + token: every meta-llama repo (Llama
# licence click-through) and Mistral's 7B repos ("share your contact information",
# openvinotoolkit/openvino.genai#371, 2024-04-22). A prefix list, not exhaustive; read 2026-11-24.
GATED_SOURCE_PREFIXES = ("meta-llama/", "mistralai/Mistral-7B-")

COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
# The served model name is an argument of vLLM's command line in the chart, whose values schema is its home:
# a name `validate` accepted but the schema refuses (`llama #1`, `team: llama`, a newline) failed `pulumi up`.
MODEL_NAME_RE = re.compile(json.loads((pathlib.Path(__file__).resolve().parents[1] / "charts" / "vllm" / "values.schema.json")
                                      .read_text())["properties"]["model"]["properties"]["name"]["pattern"])
IMAGE_RE = re.compile(
    r"^(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?@(?P<digest>sha256:[0-9a-f]{64})$"
)
HF_REPO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
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
# validate warns when cluster.publicAccessCidrs together reach more public IPv4 addresses than this, a
# /12's worth (about 0.03 % of the public space): office and VPN ranges are /32 to /16; 0.0.0.0/0, or
# the same split as "0.0.0.0/1" + "128.0.0.0/1", or a handful of /8s is "the internet".
PUBLIC_ADDRESSES_WARNING = 2**20
# EKS versions the program is tested against (chart schemas, cluster-autoscaler image per minor).
# Standard support of 1.31-1.34 ends 2025-11-26 .. 2026-12-02 (EKS release calendar, read
# 2026-11-24); older ones still run, in extended support, and the estimate prices that.
KUBERNETES_VERSIONS = ("1.31", "1.32", "1.33", "1.34", "1.35")

# Bytes per weight for the dtype / quantization vLLM loads.
DTYPE_BYTES = {"bfloat16": 2.0, "float16": 2.0, "float32": 4.0}
QUANTIZATION_BYTES = {"fp8": 1.0, "awq": 0.5, "gptq": 0.5}
# vLLM's default --gpu-memory-utilization; the rest is CUDA context and fragmentation.
GPU_MEMORY_UTILIZATION = 0.90
# Activations, CUDA graphs and sampler buffers per GPU beyond weights and KV cache
# (vLLM profiles ~1-2 GiB for 7-70B models; 1.5 GiB is the planning reserve we use).
ACTIVATION_RESERVE_BYTES = 1.5 * hardware.GIB


class SpecModel(BaseModel):
    """Base: camelCase keys in the file, snake_case in Python, unknown keys refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, defer_build=True,
                              strict=True, allow_inf_nan=False)
    """strict: `maxNodes: true` or `requestsPerMonth: 1.0e+29` is refused, not coerced to 1 or to an int;
    allow_inf_nan: `.inf` / `.nan` are refused for every number. Every number also has a finite range
    (`le=`), so nothing the estimate multiplies can overflow (docs/stack-file.md, "Ranges")."""


# ---------------------------------------------------------------- model pin


class Architecture_(SpecModel):
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


def _check_revision(value: str) -> str:
    if not COMMIT_RE.match(value):
        raise ValueError(
            f"{value!r} is not a full 40-hex commit SHA; branch names, tags and short SHAs float "
            "and are refused (copy the full commit from the model repository's history)"
        )
    return value


def _check_image(value: str) -> str:
    if not IMAGE_RE.match(value):
        raise ValueError(
            f"{value!r} is not pinned by digest; use REPOSITORY[:TAG]@sha256:<64 hex> "
            "(a tag alone can be moved to other bytes)"
        )
    return value


def _check_source(value: str) -> str:
    if not HF_REPO_RE.match(value):
        raise ValueError(f"{value!r} is not a Hugging Face repository id of the form owner/name")
    return value


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
        return None if v is None else _check_source(v)

    @field_validator("revision")
    @classmethod
    def _revision(cls, v: str | None) -> str | None:
        return None if v is None else _check_revision(v)

    @field_validator("image")
    @classmethod
    def _image(cls, v: str | None) -> str | None:
        return None if v is None else _check_image(v)


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
    architecture: Architecture_ | None = None
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
        return _check_source(v)

    @field_validator("revision")
    @classmethod
    def _revision(cls, v: str) -> str:
        return _check_revision(v)

    @field_validator("image")
    @classmethod
    def _image(cls, v: str) -> str:
        return _check_image(v)

    @property
    def weight_bytes_per_parameter(self) -> float:
        if self.quantization:
            return QUANTIZATION_BYTES[self.quantization]
        return DTYPE_BYTES[self.dtype]

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


class GpuPool(SpecModel):
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
    def _measured(self) -> GpuPool:
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
    gpu_pools: list[GpuPool] = Field(min_length=1)
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
    private_access_cidrs: list[str] = []
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
    hostname: str | None = None
    hosted_zone_id: str | None = None
    allowed_cidrs: list[str] = ["0.0.0.0/0"]
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
ApiOffer = Annotated[
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
    the verdict (`cli/estimate.py` verdict())."""

    data_may_leave_network: bool | None = None
    ml_engineers_available: bool | None = None
    frontier_quality_needed: bool | None = None
    weeks_to_ship: int | None = Field(default=None, ge=0, le=520)


class StackSpec(SpecModel):
    model: ModelSpec
    regions: list[RegionSpec] = Field(min_length=1)
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    cluster: ClusterSpec = Field(default_factory=ClusterSpec)
    autoscaling: AutoscalingSpec = Field(default_factory=AutoscalingSpec)
    endpoint: EndpointSpec = Field(default_factory=EndpointSpec)
    monitoring: MonitoringSpec = Field(default_factory=MonitoringSpec)
    traffic: TrafficSpec
    api_comparison: list[ApiOffer] = []
    operations: OperationsSpec = Field(default_factory=OperationsSpec)
    budget: BudgetSpec | None = None
    constraints: ConstraintsSpec = Field(default_factory=ConstraintsSpec)

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

    def replicas_per_node(self, pool: GpuPool) -> int:
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

    def disk_size_gib(self, pool: GpuPool, source: str | None = None) -> int:
        """Node root volume: OS + images (~60 GiB) + model weights twice (cache and download); the
        weights are the stack's, or `source`'s (a canary region's own, see `model_for`)."""
        if pool.disk_gib:
            return pool.disk_gib
        weights = self.weight_bytes(source) or 0
        return int(max(100, 60 + 2 * weights / hardware.GIB + 0.999) // 10 * 10 + 10)

    @property
    def multi_region(self) -> bool:
        return len(self.regions) > 1


# ---------------------------------------------------------------- errors


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SpecError(Exception):
    """The stack file is wrong; `problems` names each offending key."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "CustomApiOffer") or str(part).startswith(("constrained-str", "function-")):
            continue  # union branch names pydantic adds to the location
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _pydantic_problems(err: ValidationError) -> list[Problem]:
    problems = []
    for e in err.errors():
        msg = e["msg"]
        msg = msg.removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling against docs/stack-file.md)"
        elif e["type"] == "missing":
            msg = "required key is missing"
        problems.append(Problem(_path(tuple(e["loc"])), msg))
    # One problem per key is enough: union branches repeat each other.
    seen, unique = set(), []
    for p in problems:
        if p.path not in seen:
            seen.add(p.path)
            unique.append(p)
    return unique


# ---------------------------------------------------------------- cross-field checks


def fit_report(spec: StackSpec, instance_type_name: str, source: str | None = None) -> tuple[float, float, float] | None:
    """(needed bytes per GPU, usable bytes per GPU, KV bytes for one full sequence) or None."""
    arch = spec.architecture_for(source)
    weights = spec.weight_bytes(source)
    if arch is None or weights is None:
        return None
    it = hardware.instance_type(instance_type_name)
    tp = spec.model.tensor_parallel
    kv_one_sequence = arch.kv_bytes_per_token(spec.model.kv_dtype_bytes) * spec.model.max_model_len / tp
    needed = weights / tp + kv_one_sequence + ACTIVATION_RESERVE_BYTES
    usable = it.gpu_memory_bytes * GPU_MEMORY_UTILIZATION
    return needed, usable, kv_one_sequence


def unknown_region_message(region: str) -> str:
    """A region code neither region table knows: said as what the snapshot lacks, with the nearest known code."""
    import difflib

    near = difflib.get_close_matches(region, hardware.aws_regions(), n=1)
    hint = f"; did you mean {near[0]}?" if near else " (e.g. us-east-1)"
    return (f"{region!r} is not in the {hardware.offerings_snapshot()} nor in its commercial region table "
            f"({hardware.regions_source()}){hint}")


def price_warnings(spec: StackSpec) -> list[str]:
    """What `estimate` could not price or size, named by the key to set: a region or instance type the price
    catalog has no price for, a GPU without sourced datasheet figures. `validate` reports these so that it and
    `estimate` agree on what a stack may use."""
    from infra.price_catalog import default_catalog

    catalog = default_catalog()
    out = []
    system = spec.cluster.system_nodes.instance_type
    for r_i, region in enumerate(spec.regions):
        name = region.region
        if name not in hardware.aws_regions():
            continue
        priced = catalog.data["instances"].get(name, {})
        if not hardware.offerings_known(name):
            out.append(f"regions[{r_i}] ({name}) is not in the {hardware.offerings_snapshot()}: whether its GPU pools' "
                       f"instance types are offered there is not checked (aws ec2 describe-instance-type-offerings "
                       f"--region {name})")
        if system not in priced:
            cpu = sorted(t for t in priced if not hardware.instance_types().get(t, None) or not hardware.instance_type(t).is_gpu)
            choice = (f"set cluster.systemNodes.instanceType to one it prices there ({', '.join(cpu)})" if cpu else
                      "it prices no system node type there: run `tradeoff-infra prices refresh` or give `--price-catalog`")
            out.append(f"cluster.systemNodes.instanceType: the price catalog has no price for {system} in {name}, so "
                       f"`estimate` cannot price this stack; {choice}")
        for p_i, pool in enumerate(region.gpu_pools):
            it = hardware.instance_types().get(pool.instance_type)
            if it is None or not it.is_gpu:
                continue
            key = f"regions[{r_i}].gpuPools[{p_i}].instanceType"
            if pool.instance_type not in priced:
                out.append(f"{key}: the price catalog has no price for {pool.instance_type} in {name}, so `estimate` "
                           "cannot price this stack; pick a type it prices there or run `tradeoff-infra prices refresh`")
            elif pool.capacity_type == "spot":
                try:
                    catalog.spot_savings(name, pool.instance_type)
                except LookupError as err:
                    out.append(f"regions[{r_i}].gpuPools[{p_i}].capacityType: spot is not priced ({err}), so `estimate` "
                               "cannot price this stack; use on-demand or run `tradeoff-infra prices refresh`")

            if it.gpu_model is None:
                out.append(f"{key}: {pool.instance_type}'s {it.gpu_name} GPU has no sourced datasheet figures (memory "
                           "bandwidth, dense BF16 TFLOPS), so `estimate` cannot size its throughput")
    return out

def _reserved_prices(spec: StackSpec) -> list[Problem]:
    """A reserved-1y pool needs a sourced reserved price: without one the commitment cannot be priced at all."""
    pools = [(r_i, p_i, region.region, pool) for r_i, region in enumerate(spec.regions)
             for p_i, pool in enumerate(region.gpu_pools) if pool.capacity_type == "reserved-1y"]
    if not pools:
        return []
    from infra.price_catalog import MissingPrice, default_catalog

    catalog = default_catalog()
    problems = []
    for r_i, p_i, name, pool in pools:
        try:
            catalog.reserved(name, pool.instance_type, pool.capacity_type)
        except MissingPrice:
            problems.append(Problem(
                f"regions[{r_i}].gpuPools[{p_i}].capacityType",
                f"reserved-1y: the price catalog has no 1-year reserved price for {pool.instance_type} in {name} "
                f"(reserved prices as of {catalog.data.get('reserved', {}).get('date', 'never')}); use on-demand or "
                "spot, or refresh the catalog (`tradeoff-infra prices refresh`)",
            ))
    return problems


def _vpc_overlaps(spec: StackSpec) -> list[Problem]:
    """Every region's VPC needs its own range: one network (Transit Gateway, VPN) must route to all."""
    problems = []
    for j, later in enumerate(spec.regions):
        if later.vpc_cidr is None:
            problems.append(Problem(f"regions[{j}].vpcCidr", "no default range past the 256th region; give one"))
            continue
        for i, earlier in enumerate(spec.regions[:j]):
            if earlier.vpc_cidr is None:
                continue
            if ipaddress.ip_network(later.vpc_cidr).overlaps(ipaddress.ip_network(earlier.vpc_cidr)):
                problems.append(Problem(
                    f"regions[{j}].vpcCidr",
                    f"{later.vpc_cidr} ({later.region}) overlaps regions[{i}].vpcCidr {earlier.vpc_cidr} ({earlier.region}): "
                    "every region needs its own range so one network can route to all of them; leave vpcCidr "
                    "out for the default 10.<region index>.0.0/16 or pick a range no other region uses",
                ))
                break
    return problems


def _api_reachability(spec: StackSpec) -> list[Problem]:
    """The Kubernetes API must be reachable on the first `pulumi up` (the Helm releases need it):
    through a public endpoint open to some internet address, or through each region's Transit
    Gateway to `cluster.privateAccessCidrs`. Nothing else connects to the VPCs the program creates."""
    cluster = spec.cluster
    if reaches_internet_clients(cluster.public_access_cidrs):
        return []
    if cluster.public_access_cidrs:
        return [Problem(
            "cluster.publicAccessCidrs",
            f"{', '.join(cluster.public_access_cidrs)} are private ranges, but the public endpoint sees public source "
            "addresses: nobody could reach it; list the public egress ranges `pulumi up` and kubectl run from, "
            "or leave it empty and reach the private endpoint through regions[].transitGatewayId",
        )]
    if not cluster.private_access_cidrs:
        return [Problem(
            "cluster.privateAccessCidrs",
            "cluster.publicAccessCidrs is empty (private API endpoint only), so list the CIDRs inside the network "
            "that `pulumi up` and kubectl run from (e.g. the VPN range) and connect them with "
            "regions[].transitGatewayId; nothing else can reach the Kubernetes API",
        )]
    problems = []
    for i, region in enumerate(spec.regions):
        if region.vpc_cidr is None:
            continue  # reported by _vpc_overlaps
        if region.transit_gateway_id is None:
            problems.append(Problem(
                f"regions[{i}].transitGatewayId",
                f"cluster.publicAccessCidrs is empty (private API endpoint only) and nothing connects the new VPC in "
                f"{region.region} to cluster.privateAccessCidrs, so nobody can reach its Kubernetes API and `pulumi up` "
                "times out at the first Helm release: name the region's Transit Gateway here (the program attaches the "
                "VPC and routes privateAccessCidrs through it), or list your public egress ranges in "
                "cluster.publicAccessCidrs until connectivity exists",
            ))
        elif not transit_routes(region.vpc_cidr, cluster.private_access_cidrs):
            problems.append(Problem(
                "cluster.privateAccessCidrs",
                f"no IPv4 range outside {region.region}'s own VPC ({region.vpc_cidr}): nothing to route through "
                f"regions[{i}].transitGatewayId, so nobody outside the VPC can reach the Kubernetes API",
            ))
            break
    return problems


def check(spec: StackSpec) -> list[Problem]:
    """Checks that need more than one key. Returns every problem found."""
    problems: list[Problem] = []
    regions = set(hardware.aws_regions())
    gpu_types = hardware.gpu_instance_types()
    tp = spec.model.tensor_parallel

    if spec.model.resolved_architecture() is None:
        problems.append(Problem(
            "model.source",
            f"{spec.model.source!r} is not in the known-model table; give model.parametersBillion and "
            "model.architecture {layers, kvHeads, headDim} from its config.json",
        ))
    seen_regions: set[str] = set()
    for r_i, region in enumerate(spec.regions):
        rp = f"regions[{r_i}]"
        if region.region not in regions:
            problems.append(Problem(f"{rp}.region", unknown_region_message(region.region)))
            continue
        if region.region in seen_regions:
            problems.append(Problem(f"{rp}.region", f"{region.region!r} appears twice"))
        seen_regions.add(region.region)
        pool_names: set[str] = set()
        for p_i, pool in enumerate(region.gpu_pools):
            pp = f"{rp}.gpuPools[{p_i}]"
            if pool.name in pool_names:
                problems.append(Problem(f"{pp}.name", f"pool name {pool.name!r} appears twice in {region.region}"))
            pool_names.add(pool.name)
            if pool.instance_type not in gpu_types:
                problems.append(Problem(
                    f"{pp}.instanceType",
                    f"{pool.instance_type!r} is not a GPU instance type tradeoff-infra knows; "
                    f"known: {', '.join(sorted(gpu_types))}",
                ))
                continue
            if hardware.offerings_known(region.region) and not hardware.offered_in(region.region, pool.instance_type):
                problems.append(Problem(f"{pp}.instanceType", f"{pool.instance_type} is not offered in {region.region} "
                                                              f"(per the {hardware.offerings_snapshot()})"))
            if pool.min_nodes > pool.max_nodes:
                problems.append(Problem(f"{pp}.minNodes", f"minNodes {pool.min_nodes} exceeds maxNodes {pool.max_nodes}"))
            if pool.desired_nodes is not None and not pool.min_nodes <= pool.desired_nodes <= pool.max_nodes:
                problems.append(Problem(
                    f"{pp}.desiredNodes",
                    f"desiredNodes {pool.desired_nodes} must lie between minNodes {pool.min_nodes} and maxNodes {pool.max_nodes}",
                ))
            it = gpu_types[pool.instance_type]
            if it.gpus % tp:
                problems.append(Problem(
                    "model.tensorParallel",
                    f"tensorParallel {tp} does not divide the {it.gpus} GPU(s) of {pool.instance_type} ({pp})",
                ))
                continue
            region_source = spec.model_for(region)[0]
            fit = fit_report(spec, pool.instance_type, region_source)
            if fit:
                needed, usable, kv = fit
                if needed > usable:
                    problems.append(Problem(
                        f"{pp}.instanceType",
                        f"{region_source} does not fit: needs {needed / hardware.GIB:.1f} GiB per GPU "
                        f"(weights {spec.weight_bytes(region_source) / tp / hardware.GIB:.1f} GiB at tensorParallel {tp}, KV cache for one "
                        f"{spec.model.max_model_len}-token sequence {kv / hardware.GIB:.1f} GiB, runtime reserve 1.5 GiB) "
                        f"but one {it.gpu_name} offers {usable / hardware.GIB:.1f} GiB at {GPU_MEMORY_UTILIZATION:.0%} "
                        "utilisation; pick a larger GPU, raise tensorParallel, quantize, or lower maxModelLen",
                    ))
        canary_source = spec.model_for(region)[0]
        if canary_source != spec.model.source and spec.architecture_for(canary_source) is None:
            problems.append(Problem(
                f"{rp}.model.source",
                f"{canary_source!r} is not in the known-model table, so its fit on {region.region}'s GPUs cannot be "
                "checked; canary other weights only with a known model, or pin them stack-wide with model.architecture",
            ))
        low, high = spec.replicas_for(region)
        key = f"{rp}.autoscaling" if region.autoscaling else "autoscaling"
        if low > high:
            problems.append(Problem(f"{key}.minReplicas", f"minReplicas {low} exceeds maxReplicas {high}"))
        capacity = spec.pool_replica_capacity(region) if all(p.instance_type in gpu_types and gpu_types[p.instance_type].gpus % tp == 0 for p in region.gpu_pools) else None
        if capacity is not None and high > capacity:
            problems.append(Problem(
                f"{key}.maxReplicas",
                f"maxReplicas {high} exceeds what the GPU pools of {region.region} can hold: {capacity} "
                f"(sum of maxNodes x GPUs per node / tensorParallel {tp}); raise maxNodes or lower maxReplicas",
            ))
    problems += _vpc_overlaps(spec) + _api_reachability(spec) + _reserved_prices(spec)
    if not spec.cluster.bootstrap_cluster_creator_admin_permissions and not spec.cluster.admin_principal_arns:
        problems.append(Problem(
            "cluster.adminPrincipalArns",
            "nobody could administer the cluster, and `pulumi up` itself could not reach its Kubernetes API: list the "
            "IAM role ARN(s) of the operators, including the one `pulumi up` runs as (see docs/operations.md, "
            "\"Cluster access\"), or set cluster.bootstrapClusterCreatorAdminPermissions: true",
        ))
    if spec.autoscaling.fallback_replicas > spec.autoscaling.max_replicas:
        problems.append(Problem("autoscaling.fallbackReplicas", "must not exceed autoscaling.maxReplicas"))
    if spec.endpoint.mode == "regional" and spec.multi_region:
        problems.append(Problem("endpoint.mode", "'regional' serves one region; a multi-region stack needs 'global-accelerator'"))
    if spec.endpoint.mode == "global-accelerator" and not spec.endpoint.hostname and not spec.endpoint.accept_plain_http_without_host_pin:
        problems.append(Problem(
            "endpoint.hostname",
            "a global-accelerator stack without a hostname serves the API over plain HTTP on port 80 (the API key "
            "travels in clear) and its load balancers cannot pin the Host header, which the pinned vLLM image's "
            "Starlette needs against CVE-2026-48710 (API-key bypass); set endpoint.hostname and "
            "endpoint.hostedZoneId for TLS, or accept both risks explicitly with "
            "endpoint.acceptPlainHttpWithoutHostPin: true",
        ))
    if spec.endpoint.hostname and not spec.endpoint.hosted_zone_id:
        problems.append(Problem("endpoint.hostedZoneId", "a hostname needs the Route 53 hosted zone that validates its TLS certificate"))
    given = [r.traffic_share for r in spec.regions if r.traffic_share is not None]
    if given and len(given) != len(spec.regions):
        missing = next(i for i, r in enumerate(spec.regions) if r.traffic_share is None)
        problems.append(Problem(f"regions[{missing}].trafficShare", "give trafficShare on every region or on none"))
    elif given and abs(sum(given) - 1) > 0.001:
        problems.append(Problem("regions", f"trafficShare values add up to {sum(given):.3f}, not 1"))
    if spec.multi_region and all(r.traffic_dial == 0 for r in spec.regions):
        problems.append(Problem("regions", "every region has trafficDial 0: the global endpoint would serve nothing"))
    for i, offer in enumerate(spec.api_comparison):
        if isinstance(offer, str) and ":" not in offer:
            problems.append(Problem(f"apiComparison[{i}]", "use provider:model"))
    return problems


def _network_warnings(spec: StackSpec) -> list[str]:
    out = []
    endpoint = spec.endpoint
    for i, region in enumerate(spec.regions):
        if region.vpc_cidr is None:
            continue
        vpc = ipaddress.ip_network(region.vpc_cidr)
        for cidr in spec.cluster.private_access_cidrs:
            if ipaddress.ip_network(cidr).overlaps(vpc):
                out.append(f"regions[{i}].vpcCidr {region.vpc_cidr} ({region.region}) overlaps cluster.privateAccessCidrs "
                           f"{cidr}: inside the VPC its own route wins, so the addresses both name cannot be reached "
                           "through the VPN or Transit Gateway; give the VPC a range outside your network's")
    if not reaches_internet_clients(endpoint.allowed_cidrs):
        if endpoint.mode == "global-accelerator":
            out.append("endpoint.allowedCidrs lists only private ranges, but Global Accelerator preserves client IP "
                       "addresses: the load balancers see each client's public egress address, so every user is locked "
                       "out; list the public egress ranges (NAT, proxy) your users come from")
        elif endpoint.load_balancer_scheme == "internet-facing":
            out.append("endpoint.allowedCidrs lists only private ranges on an internet-facing load balancer: clients "
                       "reach it with public addresses and are refused; list their public egress ranges, or set "
                       "endpoint.loadBalancerScheme: internal to serve a connected private network")
    if endpoint.load_balancer_scheme == "internal" and endpoint.mode == "regional" and not spec.regions[0].transit_gateway_id:
        out.append("endpoint.loadBalancerScheme is internal and regions[0].transitGatewayId is not set: the endpoint "
                   "answers only inside the VPC")
    return out


def public_ipv4_addresses(cidrs: list[str]) -> int:
    """How many public IPv4 addresses (not private, reserved, loopback, multicast ...) the CIDRs reach
    together, overlaps counted once."""
    nets = ipaddress.collapse_addresses(n for n in map(ipaddress.ip_network, cidrs) if n.version == 4)
    covered = 0
    for net in nets:
        covered += net.num_addresses - sum(
            (net if net.subnet_of(b) else b).num_addresses for b in _NON_PUBLIC_IPV4 if net.overlaps(b))
    return covered


# IANA special-purpose IPv4 blocks that are not reachable from the internet (RFC 6890 and its updates).
_NON_PUBLIC_IPV4 = list(ipaddress.collapse_addresses(ipaddress.ip_network(c) for c in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3")))
PUBLIC_IPV4_ADDRESSES = 2**32 - sum(n.num_addresses for n in _NON_PUBLIC_IPV4)


def warnings(spec: StackSpec) -> list[str]:
    """Things that are allowed but that a reviewer should see, including security relaxations."""
    out = []
    reach = public_ipv4_addresses(spec.cluster.public_access_cidrs)
    if reach > PUBLIC_ADDRESSES_WARNING:
        out.append(f"cluster.publicAccessCidrs {', '.join(spec.cluster.public_access_cidrs)} reach {reach:,} public IPv4 addresses ({reach / PUBLIC_IPV4_ADDRESSES:.1%} of "
                   "the internet; more than a /12): the Kubernetes API is exposed to the internet (authenticated, but "
                   "reachable); list your office/VPN ranges")
    if spec.cluster.bootstrap_cluster_creator_admin_permissions:
        out.append("cluster.bootstrapClusterCreatorAdminPermissions is true: whoever creates the cluster keeps a permanent "
                   "admin access entry that the stack does not show or manage")
    if spec.cluster.imds_hop_limit != 1:
        out.append(f"cluster.imdsHopLimit is {spec.cluster.imds_hop_limit}: relaxes the IMDSv2 hop-limit-1 baseline so pods can reach instance metadata")
    if not spec.endpoint.hostname:
        out.append("endpoint.hostname is not set: the load balancer listens on plain HTTP (port 80); set a hostname for TLS")
        if spec.endpoint.mode == "global-accelerator":
            out.append("endpoint.acceptPlainHttpWithoutHostPin is on: the API key travels in clear and the load balancers "
                       "cannot pin the Host header, which the pinned vLLM image's Starlette needs against CVE-2026-48710 "
                       "(API-key bypass); set a hostname")
    elif spec.endpoint.accept_plain_http_without_host_pin:
        out.append("endpoint.acceptPlainHttpWithoutHostPin has no effect: endpoint.hostname is set (TLS, Host pinned); remove it")
    out += _network_warnings(spec)
    for r_i, region in enumerate(spec.regions):
        for p_i, pool in enumerate(region.gpu_pools):
            if pool.capacity_type == "spot":
                out.append(f"regions[{r_i}].gpuPools[{p_i}] uses spot capacity: nodes can be reclaimed with 2 minutes' notice")
        capacity_known = all(p.instance_type in hardware.gpu_instance_types() for p in region.gpu_pools)
        if capacity_known and spec.replicas_for(region)[1] >= spec.pool_replica_capacity(region):
            out.append(f"regions[{r_i}] ({region.region}): maxReplicas fills the GPU pools, so a model rollout replaces "
                       "replicas in place (one down at a time) instead of surging; give maxNodes one node of headroom")
        if spec.multi_region and region.traffic_dial == 0:
            out.append(f"regions[{r_i}] ({region.region}) is drained: trafficDial 0")
        if region.has_own_pin:
            out.append(f"regions[{r_i}] ({region.region}) runs its own model pin {region.model.revision[:12]} (canary)")
    for source in spec.gated_sources():
        out.append(
            f"model.source {source} is gated on Hugging Face: set the secret tradeoff-infra:huggingfaceToken "
            "(pulumi config set --secret huggingfaceToken ...) from an account that accepted its licence, or the "
            "download answers 401: pods crash-loop, or, where the weights mirror is on, its fill Job fails and the pods "
            "wait for the weights (validate reads only the stack file and cannot see encrypted secrets)"
        )
    if spec.autoscaling.scale_to_zero:
        out.append("autoscaling.scaleToZero is on: the first request after idle waits for a GPU node and a model load (minutes)")
    return out + price_warnings(spec)


# ---------------------------------------------------------------- loading


def parse_stack_config(config: dict[str, Any], source: str = "stack") -> StackSpec:
    """Parse the `tradeoff-infra:` keys (namespace already stripped) and run every check. Keys of
    other namespaces (`aws:profile`, kept by `project_config`) are the program's, not the spec's."""
    data = {k: v for k, v in config.items() if k not in SECRET_KEYS and ":" not in k}
    try:
        spec = StackSpec.model_validate(data)
    except ValidationError as err:
        raise SpecError(source, _pydantic_problems(err)) from None
    problems = check(spec)
    if problems:
        raise SpecError(source, problems)
    return spec


def project_config(document: Any) -> dict[str, Any]:
    """The `tradeoff-infra:` keys of a Pulumi stack file's `config:` block, namespace stripped, plus
    `aws:profile` (under that name) when set. An `aws:` role key the program would not apply is refused,
    and so is a secret key written in clear text instead of `secure:`."""
    if document is not None and not isinstance(document, dict):
        raise SpecError("(file)", [Problem("(file)", "a stack file is a YAML mapping with a `config:` block")])
    config = (document or {}).get("config") or {}
    if not isinstance(config, dict):
        raise SpecError("config", [Problem("config", "must be a mapping of keys")])
    problems = [Problem(key, AWS_ROLE_MESSAGE) for key in AWS_ROLE_KEYS if key in config]
    for key in sorted(SECRET_KEYS):
        value = config.get(f"{NAMESPACE}{key}")
        if value is not None and not (isinstance(value, dict) and set(value) == {"secure"}):
            problems.append(Problem(f"{NAMESPACE}{key}", SECRET_IN_CLEAR_MESSAGE.format(key=key)))
        elif value is not None and not (isinstance(value["secure"], str) and value["secure"].strip()):
            # `secure: null`, `secure: 123` or `secure: [..]` is no ciphertext: `pulumi up` fails to decrypt it
            problems.append(Problem(f"{NAMESPACE}{key}.secure", "is not the ciphertext `pulumi config set --secret` "
                                    f"writes; delete the key and run `pulumi config set --secret {key} <value>`"))
    profile = config.get(AWS_PROFILE_KEY)
    if profile is not None and not (isinstance(profile, str) and profile.strip()):
        problems.append(Problem(AWS_PROFILE_KEY, f"{profile!r} is not a profile name"))
    if problems:
        raise SpecError("config", problems)
    ours = {k[len(NAMESPACE):]: v for k, v in config.items() if isinstance(k, str) and k.startswith(NAMESPACE)}
    return {**ours, AWS_PROFILE_KEY: profile} if profile else ours


def stack_name_from_path(path: pathlib.Path) -> str:
    name = path.name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name[len("Pulumi."):].rsplit(".", 1)[0]
    return path.stem


# A stack file is a few KB; 1 MiB is far beyond any real one and still parses in well under a second.
MAX_STACK_FILE_BYTES = files.MIB
SECRET_IN_CLEAR_MESSAGE = (
    "is written in clear text; a secret must be stored encrypted (`secure:`): delete this line and run "
    "`pulumi config set --secret {key} <value>`")


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: str, first: int, second: int):
        super().__init__(f"key {key!r} appears twice, on line {first} and line {second}: YAML would keep only "
                         "the last one and Pulumi refuses the file; keep one")


class _StackLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml when present: it also bounds the nesting depth), refusing duplicate keys."""

    def construct_object(self, node, deep=False):  # noqa: ANN001
        """A scalar the YAML resolver types but Python cannot build (`2026-02-30` as a date, `!!int abc`,
        an integer of more digits than `int()` converts) is a YAML error at the value's line, not a
        ValueError escaping as a traceback."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as err:
            if isinstance(err, yaml.YAMLError):
                raise
            raise yaml.constructor.ConstructorError(
                None, None, f"this {node.tag.rsplit(':', 1)[-1]} value cannot be read ({str(err).split(';')[0]})",
                node.start_mark) from None

    def construct_mapping(self, node, deep=False):  # noqa: ANN001
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode):  # a merge key `<<` twice is a duplicate too
                    continue
                key = key_node.value
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise _DuplicateKey(key, seen[key], line)
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(err: yaml.YAMLError) -> str:
    """The parser's reason and position, never a snippet of the file."""
    if isinstance(err, _DuplicateKey):
        return str(err)
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return f"not valid YAML: {err.problem or err.context}{where}"
    return "not valid YAML"


def parse_stack_text(text: str, source: str) -> dict[str, Any]:
    """A stack file's text -> its YAML document (a mapping). SpecError on invalid YAML, a duplicate key,
    nesting too deep or a document that is not a mapping."""
    try:
        document = yaml.load(text, Loader=_StackLoader)
    except yaml.YAMLError as err:
        raise SpecError(source, [Problem("(file)", _yaml_problem(err))]) from None
    except RecursionError:
        raise SpecError(source, [Problem("(file)", "nested too deeply to be a stack file")]) from None
    if not isinstance(document, dict):
        raise SpecError(source, [Problem("(file)", "a stack file is a YAML mapping with a `config:` block")])
    return document


def read_stack_text(path: str | pathlib.Path) -> str:
    """The text of a stack file: a regular file (a symlink only to a file in the same folder), at most
    MAX_STACK_FILE_BYTES, UTF-8. SpecError names the file and the reason."""
    try:
        return files.read_text(files.resolve_within_folder(path), MAX_STACK_FILE_BYTES)
    except files.UnreadableFile as err:
        raise SpecError(str(path), [Problem("(file)", err.reason)]) from None


def read_stack_config(path: str | pathlib.Path) -> dict[str, Any]:
    """The one reader of stack files for the CLI: `project_config` of the file's document."""
    try:
        return project_config(parse_stack_text(read_stack_text(path), str(path)))
    except SpecError as err:
        raise SpecError(str(path), err.problems) from None  # name the file, not "config"


def load_stack_file(path: str | pathlib.Path) -> StackSpec:
    config = read_stack_config(path)
    return parse_stack_config(config, str(path))
