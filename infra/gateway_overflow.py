"""The gateway's overflow rule: how a region's fleet is shared between routes that cannot leave it and routes that
may overflow to an API (pure, no Pulumi). One home: the rendered LiteLLM config (`infra/gateway_config.py`,
`max_parallel_requests`) deploys it and the hybrid estimate (`cli/estimate/hybrid.py`) prices it.

The rule (docs/gateway.md "Overflow", docs/hybrid.md):
- the fleet has `fleet_slots` = cap x `gateway.replicaConcurrency` requests in flight, the cap being `maxReplicas`
  within what the pools' `maxNodes` hold;
- the routes that cannot leave it (restricted routes, and self-hosted routes without `overflowTo`) come first: they
  get `reserved_slots`, the requests they hold in flight at the day's peak (their peak request rate, each request
  holding a slot for `slot_seconds`: its output tokens at the TPOT target), and no limit of
  their own: they may use any slot that is free, and past the whole fleet they queue;
- the overflow-enabled routes share what is left (`fleet_slots - reserved_slots`) in proportion to their shares;
  each gateway pod holds `1 / gateway.minReplicas` of it (LiteLLM counts in flight per process), at least 1 request
  a route; past its limit a route's request goes to its `overflowTo` offer at once.

LiteLLM (at `infra.gateway_config.LITELLM_VERSION`) has no priority between model groups (its scheduler queues per
model group) and no shared count between deployments of different groups, so a static reservation is how the gateway
can keep the fleet for the routes that cannot leave: at every slot of the day they find at least `reserved_slots`
free, and overflow-enabled routes never hold more than what is left at the peak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infra.price_catalog import HOURS_PER_MONTH
from infra.spec import SELF_HOSTED, RegionSpec, StackSpec
from infra.traffic import traffic_shares

SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600


def slot_seconds(spec: StackSpec) -> float:
    """Seconds one request holds a fleet slot: its output tokens at the TPOT target (prefill, a few engine steps at
    the planned batch, is left out). With `gateway.replicaConcurrency` at the capacity model's planned batch and that
    batch stepping at about the TPOT target, a replica's slots / slot_seconds is its planned request rate, so the
    reservation below is the share of the fleet the capacity model gives the routes that cannot leave at the peak."""
    t = spec.traffic
    return t.output_tokens_per_request * t.tpot_target_ms / 1000


def fleet_cap(spec: StackSpec, region: RegionSpec) -> int:
    """The region's replicas at most: maxReplicas within what its pools' maxNodes hold."""
    return min(spec.replicas_for(region)[1], spec.pool_replica_capacity(region))


@dataclass(frozen=True)
class OverflowPlan:
    """One region's fleet slots, how many the routes that cannot leave keep, and each overflow route's limit."""

    fleet_slots: int
    """Requests in flight the fleet takes: the cap x replicaConcurrency."""
    reserved_slots: int
    """Requests in flight the routes that cannot leave hold at the peak (at most fleet_slots)."""
    per_pod: dict[str, int]
    """Overflow-enabled route -> `max_parallel_requests` of its self-hosted deployment in one gateway pod."""
    pods: int
    """Gateway pods the limits are divided over (gateway.minReplicas)."""

    @property
    def overflow_slots(self) -> int:
        """Requests in flight the overflow-enabled routes may hold at the fleet, all pods together."""
        return sum(self.per_pod.values()) * self.pods

    @property
    def overflow_fraction(self) -> float:
        """The share of the fleet the overflow-enabled routes may hold (what the estimate prices)."""
        return min(1.0, self.overflow_slots / self.fleet_slots) if self.fleet_slots else 0.0


def overflow_plan(spec: StackSpec, region: RegionSpec, max_replicas: int | None = None) -> OverflowPlan:
    """The rule for `region` with its fleet capped at `max_replicas` (None: `fleet_cap`)."""
    gw = spec.gateway
    assert gw is not None
    cap = fleet_cap(spec, region) if max_replicas is None else max_replicas
    slots = cap * gw.replica_concurrency
    home = [r for r in gw.routes if r.served_by == SELF_HOSTED]
    stuck_share = sum(r.share for r in home if not r.overflow_to)
    t = spec.traffic
    peak_rps = (t.requests_per_month * stuck_share * traffic_shares(spec)[region.region] * t.peak_to_average
                / SECONDS_PER_MONTH)
    reserved = min(slots, math.ceil(peak_rps * slot_seconds(spec) - 1e-9))
    left = slots - reserved
    movers = [r for r in home if r.overflow_to]
    total = sum(r.share for r in movers)
    per_pod = {r.name: max(1, math.floor(left * r.share / total / gw.min_replicas)) for r in movers}
    return OverflowPlan(fleet_slots=slots, reserved_slots=reserved, per_pod=per_pod, pods=gw.min_replicas)


def share_slot(movable: float, fixed: float, served: float, overflow_fraction: float) -> tuple[float, float]:
    """One slot of the day, in output tokens per second: (what overflows to the API, what queues).

    `movable` is the overflow-enabled routes' load, `fixed` the load of the routes that cannot leave, `served` what
    the fleet serves at its cap. The overflow-enabled routes hold at most `overflow_fraction` of the fleet (their
    limit) and never more than their load; the rest goes to their overflow offer. The routes that cannot leave get
    the rest of the fleet; above it they queue."""
    on_fleet = min(movable, overflow_fraction * served)
    return movable - on_fleet, max(0.0, fixed - max(0.0, served - on_fleet))
