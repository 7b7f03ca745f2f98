"""What the program cannot know (usage assumptions a reviewer can challenge, docs/estimate.md) and which
defaults fed a number of the estimate."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from infra import files
from infra.spec import StackSpec


# Every usage number has a finite range, so that no product the estimate forms with the stack's own largest
# values (1e11 requests a month) leaves the range of a Decimal rounded to cents: a 400-digit integer raised
# OverflowError in math.isfinite, and bytesPerOutputToken 1e300 decimal.InvalidOperation, both tracebacks.
USAGE_LIMIT = 1_000_000
USAGE_LIMITS = {"logArchiveCompression": 1}
"""A fraction of the raw size."""


def _in_range(value: Any, limit: float) -> Any:
    # compared, never converted to float: NaN fails both comparisons, inf and huge integers the upper one
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= limit:
        raise ValueError(f"must be a number from 0 to {limit:,}")
    return value


Number = Annotated[int | float, BeforeValidator(lambda v: _in_range(v, USAGE_LIMIT))]
"""A usage figure as written (an int stays an int in the JSON contract)."""
Fraction = Annotated[int | float, BeforeValidator(lambda v: _in_range(v, USAGE_LIMITS["logArchiveCompression"]))]


class UsageAssumptions(BaseModel):
    """The usage file's keys (camelCase aliases) over these defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)

    bytes_per_output_token: Number = Field(200, alias="bytesPerOutputToken")
    """Streamed responses: one OpenAI-style `chat.completion.chunk` SSE event (~200 bytes) per token."""
    bytes_per_input_token: Number = Field(4, alias="bytesPerInputToken")
    """~4 characters of English per token (OpenAI tokenizer guide)."""
    image_gb_per_node_start: Number = Field(10.0, alias="imageGbPerNodeStart")
    """vLLM OpenAI image pulled through NAT by every new GPU node (assumption, ~10 GB)."""
    control_plane_log_gb_per_day: Number = Field(1.0, alias="controlPlaneLogGbPerDay")
    """EKS api/audit/authenticator logs per cluster and day (assumption; audit dominates)."""
    log_archive_compression: Fraction = Field(0.15, alias="logArchiveCompression")
    """CloudWatch bills archived logs compressed (gzip); JSON logs shrink to ~15 % (assumption)."""
    other_log_gb_per_day: Number = Field(0.1, alias="otherLogGbPerDay")
    """Log groups other than the EKS control plane's (e.g. VPC flow logs of a quiet VPC), per group and day
    (assumption)."""
    weights_pins_per_month: Number = Field(1.0, alias="weightsPinsPerMonth")
    """New weight revisions filled into a weights mirror per month (each is one fill through NAT; assumption)."""
    weights_revisions_kept: Number = Field(2.0, alias="weightsRevisionsKept")
    """Revisions a weights mirror holds: the pin in force and the one a rollback returns to (older prefixes are
    pruned by hand, docs/operations.md; assumption)."""


USAGE_KEYS = {info.alias: name for name, info in UsageAssumptions.model_fields.items()}
"""Usage file key (camelCase) -> attribute, in the contract's order."""


def usage_from(data: dict) -> UsageAssumptions:
    """A usage file's camelCase keys over the defaults; raises ValueError naming the first bad key."""
    if not isinstance(data, dict):
        raise ValueError("a usage file is a YAML mapping of the keys " + ", ".join(USAGE_KEYS))
    for key in data:
        if key not in USAGE_KEYS:
            raise ValueError(f"{key}: unknown usage key (known: {', '.join(USAGE_KEYS)})")
    try:
        return UsageAssumptions.model_validate(data)
    except ValidationError as err:
        bad = {e["loc"][0] for e in err.errors() if e["loc"]}
        key = next(k for k in data if k in bad)
        raise ValueError(f"{key}: must be a number from 0 to {USAGE_LIMITS.get(key, USAGE_LIMIT):,}, "
                         f"got {files.short_repr(data[key])}") from None


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
    "gateway.expectedUnavailability", "gateway.minReplicas", "gateway.maxReplicas", "gateway.replicaConcurrency",
)


DEPLOY_GATE_DEFAULT = "unset: priced without it (changes no cost); set it before `pulumi up` (validate says how)"


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
    from infra.spec.checks import deploy_gate  # cost-neutral keys a price may leave out, `pulumi up` may not

    out += [(problem.path, DEPLOY_GATE_DEFAULT) for problem in deploy_gate(spec)]
    base = UsageAssumptions()
    out += [(f"usage.{key}", getattr(usage, attr)) for key, attr in USAGE_KEYS.items()
            if getattr(usage, attr) == getattr(base, attr)]
    return out
