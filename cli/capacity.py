"""Capacity model: output tokens/s one vLLM replica sustains, and how many replicas and nodes a
region needs for its share of the traffic, hour by hour over a day.

Every constant is sourced (docs/sources.md "C1", "C4", "C5", read 2026-11-24) or a named assumption.

1. **Anchors** (C1, vLLM v0.6.0 blog, 2024-09-05): saturated request rates of Llama-3-8B on 1 x H100
   and Llama-3-70B on 4 x H100 for a decode-heavy (462 in / 256 out) and a prefill-heavy (462 / 16)
   workload. Two workloads give a linear time model per request at saturation:
   `t_request = out x a + in x c` (a: seconds of replica time per output token, c: per input token).
2. **Variable lengths**: the same model predicts the anchors' ShareGPT rate ~1.5x too high (real
   traffic has long tails); we multiply by the lowest measured/predicted ratio (`realism`).
3. **Scaling** to another model and GPU: decode is memory-bandwidth-bound, so `a` scales with weight
   bytes / (tensorParallel x bandwidth); prefill is compute-bound, so `c` scales with parameters /
   (tensorParallel x dense BF16 TFLOPS) (C4 datasheet figures in `infra.hardware`).
4. **Roofline cap** (C5): never above `B x TP x BW / (W + B x L x kv)`, the decode rate at the largest
   batch B the KV cache can hold, at 100 % bandwidth efficiency.
5. **Latency**: the TPOT target bounds the batch (`t_step(B) <= TPOT` at the measured bandwidth
   efficiency 0.77), and replicas run at `TARGET_UTILISATION` of saturation at most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

from infra import hardware
from infra.price_catalog import HOURS_PER_MONTH  # the one constant; the catalog file is checked against it
from infra.spec import ACTIVATION_RESERVE_BYTES, GPU_MEMORY_UTILIZATION, GpuPool, RegionSpec, StackSpec

SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
C1_SOURCE = ("vLLM blog 'vLLM v0.6.0: 2.7x Throughput Improvement and 5x Latency Reduction' (2024-09-05), "
             "figures perf-v060 read by eye (+-5%); docs/sources.md \"C1\"")

# Share of saturated throughput a replica is planned at. C1 (8B, H100, ShareGPT): TTFT < 100 ms and TPOT
# 8-14 ms up to 32 QPS (of ~37 at saturation); at QPS = inf TTFT ~2.6 s, TPOT 55-60 ms. 0.7 keeps headroom
# for bursts inside the autoscaler's reaction time (assumption).
TARGET_UTILISATION = 0.7
# Bandwidth efficiency of a decode step: the one measured point in C5 (A100-40GB, 8B batch 1).
DECODE_BANDWIDTH_EFFICIENCY = 0.77
# vLLM's default --max-num-seqs for the OpenAI server: the scheduler never batches more. v0.6-v0.11: 256
# on every GPU. The pinned v0.31.0 (`EngineArgs.get_batch_defaults` in vllm/engine/arg_utils.py, docs/sources.md
# "vLLM v0.31.0 image"): 1024 on a GPU with >= 160 GiB, or >= 70 GiB that is not an A100; else 256.
MAX_NUM_SEQS = 256
MAX_NUM_SEQS_LARGE_GPU = 1024
LARGE_GPU_GIB, ANY_LARGE_GPU_GIB = 70, 160
# Day profile resolution: 96 slots of 15 minutes (KEDA/cluster-autoscaler act within minutes).
SLOTS_PER_DAY = 96


@dataclass(frozen=True)
class Anchor:
    """One (model, GPU, TP) measured at saturation in C1: request rates per workload."""

    name: str
    parameters_billion: float
    weight_bytes: float
    gpu: str
    tensor_parallel: int
    decode_heavy_rps: float
    """462 input / 256 output tokens."""
    prefill_heavy_rps: float
    """462 input / 16 output tokens."""
    sharegpt_rps: float
    """202 input / 179 output tokens on average, variable lengths."""

    @property
    def seconds_per_output_token(self) -> float:
        return (1 / self.decode_heavy_rps - 1 / self.prefill_heavy_rps) / (256 - 16)

    @property
    def seconds_per_input_token(self) -> float:
        return (1 / self.prefill_heavy_rps - 16 * self.seconds_per_output_token) / 462

    def predicted_rps(self, input_tokens: float, output_tokens: float) -> float:
        return 1 / (output_tokens * self.seconds_per_output_token + input_tokens * self.seconds_per_input_token)

    @property
    def realism(self) -> float:
        """Measured / predicted ShareGPT rate: what variable lengths cost against fixed ones."""
        return self.sharegpt_rps / self.predicted_rps(202, 179)


# C1 anchors on H100 (the A100 in the blog is not sized; its rows serve as a check in the tests).
ANCHORS = [
    Anchor("Llama-3-8B BF16, 1x H100 (vLLM v0.6.0)", 8.03, 8.03e9 * 2, "H100", 1, 31.0, 59.0, 37.0),
    Anchor("Llama-3-70B BF16, 4x H100 TP4 (vLLM v0.6.0)", 70.6, 70.6e9 * 2, "H100", 4, 15.4, 25.3, 17.3),
]
# Lowest measured/predicted ShareGPT ratio over the anchors (least optimistic).
REALISM = min(a.realism for a in ANCHORS)


class CapacityError(ValueError):
    """The model cannot be sized (unknown architecture, does not fit); names the stack key."""


@dataclass(frozen=True)
class ReplicaThroughput:
    """What one replica of the stack's model sustains on one GPU type."""

    gpu: str
    tensor_parallel: int
    anchor: str
    time_model_tokens_per_second: float
    """Output tok/s from the scaled anchor time model, with the variable-length realism factor."""
    roofline_tokens_per_second: float
    """Decode ceiling at the largest KV-cache batch and 100 % bandwidth."""
    saturated_tokens_per_second: float
    """min(time model, roofline)."""
    latency_bound_tokens_per_second: float | None
    """Output tok/s with every sequence at the TPOT target; None when even batch 1 misses it."""
    planning_tokens_per_second: float
    """What the fleet is sized with: min(saturated x target utilisation, latency bound)."""
    max_batch_by_memory: int
    max_batch_by_tpot: int
    single_stream_tpot_ms: float
    warnings: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return f"{self.anchor}; {C1_SOURCE}; scaled by bandwidth/TFLOPS (C4), capped by the C5 roofline"


def max_num_seqs(it: hardware.InstanceType) -> int:
    """vLLM v0.31.0's default batch cap on this instance's GPUs (see MAX_NUM_SEQS)."""
    gib = it.gpu_memory_mib / 1024
    large = gib >= ANY_LARGE_GPU_GIB or (gib >= LARGE_GPU_GIB and not it.gpu_model.name.upper().startswith("A100"))
    return MAX_NUM_SEQS_LARGE_GPU if large else MAX_NUM_SEQS


def replica_throughput(spec: StackSpec, instance_type: str, source: str | None = None) -> ReplicaThroughput:
    """One replica's output tokens/s on `instance_type`, for the stack's weights or a canary region's
    other `source` (`StackSpec.model_for`)."""
    it = hardware.instance_type(instance_type)
    gpu = it.gpu_model
    if gpu is None:
        if it.gpu_name:
            raise CapacityError(
                f"{instance_type}: no sourced datasheet figures (memory bandwidth, dense BF16 TFLOPS) for its "
                f"{it.gpu_name} GPU, so its throughput cannot be predicted; pick another instance type")
        raise CapacityError(f"{instance_type} has no GPU")
    arch = spec.architecture_for(source)
    weights = spec.weight_bytes(source)
    if arch is None or weights is None:
        raise CapacityError(f"model.source: {source or spec.model.source} has no known architecture; give "
                            "model.parametersBillion and model.architecture")
    tp = spec.model.tensor_parallel
    traffic = spec.traffic
    inp, out = traffic.input_tokens_per_request, traffic.output_tokens_per_request
    anchor = min(ANCHORS, key=lambda a: abs(math.log(arch.parameters_billion / a.parameters_billion)))
    anchor_gpu = hardware.GPU_MODELS[anchor.gpu]
    bw = gpu.memory_bandwidth_gbps * 1e9
    a = anchor.seconds_per_output_token * (weights / anchor.weight_bytes) * (
        anchor.tensor_parallel * anchor_gpu.memory_bandwidth_gbps) / (tp * gpu.memory_bandwidth_gbps)
    c = anchor.seconds_per_input_token * (arch.parameters_billion / anchor.parameters_billion) * (
        anchor.tensor_parallel * anchor_gpu.bf16_dense_tflops) / (tp * gpu.bf16_dense_tflops)
    time_model = out / (out * a + inp * c) * REALISM

    kv_per_token = arch.kv_bytes_per_token(spec.model.kv_dtype_bytes)
    kv_room = tp * (it.gpu_memory_bytes * GPU_MEMORY_UTILIZATION - ACTIVATION_RESERVE_BYTES) - weights
    seqs = max_num_seqs(it)
    batch_memory = min(seqs, max(0, int(kv_room // (kv_per_token * (inp + out)))))
    context = inp + out / 2  # average tokens in a sequence's KV cache while it decodes
    step_bytes = lambda batch: weights + batch * context * kv_per_token  # noqa: E731
    roofline = batch_memory * tp * bw / step_bytes(batch_memory) if batch_memory else 0.0
    saturated = min(time_model, roofline)

    warnings: list[str] = []
    tpot = traffic.tpot_target_ms / 1000
    single_tpot = step_bytes(1) / (DECODE_BANDWIDTH_EFFICIENCY * tp * bw)
    batch_tpot = int((tpot * DECODE_BANDWIDTH_EFFICIENCY * tp * bw - weights) // (context * kv_per_token))
    batch_tpot = max(0, min(batch_tpot, seqs))
    if batch_memory == 0:
        raise CapacityError(
            f"model.maxModelLen/traffic: one {inp + out}-token request does not fit the KV cache left on "
            f"{instance_type} at tensorParallel {tp}")
    if batch_tpot == 0:
        latency_bound = None
        planning = saturated * TARGET_UTILISATION
        warnings.append(
            f"traffic.tpotTargetMs {traffic.tpot_target_ms} ms is out of reach on {instance_type}: one stream alone needs "
            f"~{single_tpot * 1000:.0f} ms per token (weights {weights / 1e9:.1f} GB read per step at "
            f"{DECODE_BANDWIDTH_EFFICIENCY:.0%} of {gpu.memory_bandwidth_gbps:.0f} GB/s x {tp}); sized at "
            f"{TARGET_UTILISATION:.0%} of saturation instead")
    else:
        latency_bound = min(batch_tpot, batch_memory) / tpot
        planning = min(saturated * TARGET_UTILISATION, latency_bound)
    return ReplicaThroughput(
        gpu=gpu.name, tensor_parallel=tp, anchor=anchor.name,
        time_model_tokens_per_second=time_model, roofline_tokens_per_second=roofline,
        saturated_tokens_per_second=saturated, latency_bound_tokens_per_second=latency_bound,
        planning_tokens_per_second=planning, max_batch_by_memory=batch_memory, max_batch_by_tpot=batch_tpot,
        single_stream_tpot_ms=single_tpot * 1000, warnings=warnings,
    )


# ---------------------------------------------------------------- traffic over a day


@lru_cache(maxsize=64)
def day_profile(peak_to_average: float, slots: int = SLOTS_PER_DAY) -> tuple[float, ...]:
    """Load per slot relative to the average (mean 1, max `peak_to_average`): a daily sine wave,
    clipped at zero when the peak is more than twice the average (quiet nights)."""
    p = peak_to_average
    if p <= 1:
        return (1.0,) * slots
    thetas = [2 * math.pi * (i + 0.5) / slots for i in range(slots)]
    if p <= 2:
        return tuple(1 + (p - 1) * math.sin(t) for t in thetas)
    # offset m with m + A = p and mean(max(0, m + A sin)) = 1: bisect on m in (-A, 1)
    lo, hi = -100.0 * p, 1.0  # m -> -inf narrows the peak; mean -> 0
    for _ in range(60):
        m = (lo + hi) / 2
        mean = sum(max(0.0, m + (p - m) * math.sin(t)) for t in thetas) / slots
        lo, hi = (m, hi) if mean < 1 else (lo, m)
    m = (lo + hi) / 2
    raw = [max(0.0, m + (p - m) * math.sin(t)) for t in thetas]
    scale = 1 / (sum(raw) / slots)
    return tuple(v * scale for v in raw)


@dataclass(frozen=True)
class PoolPlan:
    pool: GpuPool
    nodes_per_slot: list[int]

    @property
    def expected_nodes(self) -> float:
        return sum(self.nodes_per_slot) / len(self.nodes_per_slot)

    @property
    def node_starts_per_day(self) -> int:
        ns = self.nodes_per_slot
        return sum(max(0, ns[i] - ns[i - 1]) for i in range(len(ns)))  # i = 0 wraps to the previous day


@dataclass(frozen=True)
class RegionCapacity:
    region: str
    traffic_share: float
    average_output_tokens_per_second: float
    throughput: dict[str, ReplicaThroughput]
    """Per GPU pool name."""
    replicas_at_average: int
    replicas_at_peak: int
    min_replicas: int
    max_replicas: int
    """What the fleet can reach: min(autoscaling maxReplicas, pool capacity)."""
    pools: list[PoolPlan]
    queued_share: float
    """Share of the month's output tokens above what max replicas serve (they queue or fail)."""
    floor_utilisation: float
    """Average load / capacity of the floor fleet (minNodes / minReplicas)."""
    warnings: list[str] = field(default_factory=list)


def traffic_shares(spec: StackSpec) -> dict[str, float]:
    """Each region's share of the requests it serves.

    Users reach the region nearest them (`trafficShare`, equal when not given); Global Accelerator
    serves `trafficDial`% of that there and sends the rest to the other regions, in proportion to
    what they serve themselves.
    """
    if spec.endpoint.mode != "global-accelerator" or len(spec.regions) == 1:
        return {r.region: (1.0 if i == 0 else 0.0) for i, r in enumerate(spec.regions)}
    equal = 1 / len(spec.regions)
    base = {r.region: r.traffic_share if r.traffic_share is not None else equal for r in spec.regions}
    served = {r.region: base[r.region] * r.traffic_dial / 100 for r in spec.regions}
    spill = sum(base.values()) - sum(served.values())
    total_served = sum(served.values())
    if total_served == 0:
        return {r: 0.0 for r in served}
    return {r: v + spill * v / total_served for r, v in served.items()}


def _replicas_for_load(load_tps: float, per_replica: float) -> int:
    return math.ceil(load_tps / per_replica - 1e-9) if load_tps > 0 else 0


Tiers = list[tuple[float, float]]
"""Per GPU pool, in the order the stack lists them: (replicas it can hold, output tok/s per replica)."""


def replicas_for_load(load_tps: float, tiers: Tiers) -> int:
    """Replicas that carry `load_tps` when the pools fill in order, each replica at its own pool's
    throughput (a region may mix GPU types). Load beyond every pool is counted in replicas of the
    last pool: the demand keeps growing; `maxReplicas` and `maxNodes` cap it afterwards."""
    replicas, remaining = 0, load_tps
    for i, (room, per_replica) in enumerate(tiers):
        if remaining <= 1e-9:
            break
        n = _replicas_for_load(remaining, per_replica)
        if i < len(tiers) - 1:
            n = min(n, int(room))
        replicas += n
        remaining -= n * per_replica
    return replicas


def served_tokens_per_second(replicas: float, tiers: Tiers) -> float:
    """Output tok/s that `replicas` serve when they fill the pools in order."""
    served, left = 0.0, replicas
    for i, (room, per_replica) in enumerate(tiers):
        n = left if i == len(tiers) - 1 else min(left, room)
        served += n * per_replica
        left -= n
    return served


def pool_throughput(spec: StackSpec, region: RegionSpec, throughput_cache: dict | None = None) -> dict[str, ReplicaThroughput]:
    """Per GPU pool name: a replica's throughput there, for the weights in force in the region (a
    canary region may serve other weights). `throughput_cache` is keyed by (instance type, source)."""
    cache = {} if throughput_cache is None else throughput_cache
    source = spec.model_for(region)[0]
    out = {}
    for pool in region.gpu_pools:
        key = (pool.instance_type, source)
        if key not in cache:
            cache[key] = replica_throughput(spec, pool.instance_type, source)
        out[pool.name] = cache[key]
    return out


def region_tiers(spec: StackSpec, region: RegionSpec, throughput_cache: dict | None = None) -> Tiers:
    throughput = pool_throughput(spec, region, throughput_cache)
    return [(pool.max_nodes * spec.replicas_per_node(pool), throughput[pool.name].planning_tokens_per_second)
            for pool in region.gpu_pools]


def scale_down_delay_slots(spec: StackSpec) -> int:
    """Slots a node lingers after load drops: KEDA stabilisation + cluster-autoscaler unneeded time."""
    seconds = spec.autoscaling.scale_down_stabilization_seconds + spec.autoscaling.node_scale_down_unneeded_minutes * 60
    return math.ceil(seconds / (86400 / SLOTS_PER_DAY))


def plan_region(spec: StackSpec, region: RegionSpec, requests_per_month: float, share: float, *,
                unbounded: bool = False, throughput_cache: dict | None = None) -> RegionCapacity:
    """Replicas and nodes per 15-minute slot for a region's share of `requests_per_month`.
    `unbounded` lifts maxNodes/maxReplicas (to find where break-even would lie with a bigger fleet)."""
    out_tokens = spec.traffic.output_tokens_per_request
    avg_tps = requests_per_month * share * out_tokens / SECONDS_PER_MONTH
    cache = {} if throughput_cache is None else throughput_cache
    tiers = region_tiers(spec, region, cache)
    throughput = pool_throughput(spec, region, cache)
    low, high = spec.replicas_for(region)
    per_node = {pool.name: spec.replicas_per_node(pool) for pool in region.gpu_pools}
    capacity = sum(p.max_nodes * per_node[p.name] for p in region.gpu_pools)
    max_replicas = min(high, capacity)
    if unbounded:
        max_replicas = 10**9
    # Pools fill in the order the stack lists them; each replica serves at its own pool's throughput.
    profile = day_profile(spec.traffic.peak_to_average)
    needed = [replicas_for_load(avg_tps * f, tiers) for f in profile]
    hold = scale_down_delay_slots(spec)
    wrapped = needed[len(needed) - hold:] + needed if hold else needed  # the day repeats: slot 0 follows the last
    held = [max(wrapped[i:i + hold + 1]) for i in range(len(needed))]
    replicas = [min(max(n, low), max_replicas) for n in held]

    plans_nodes: dict[str, list[int]] = {p.name: [] for p in region.gpu_pools}
    for r in replicas:
        remaining = r
        for pool in region.gpu_pools:
            ceiling = 10**9 if unbounded and pool is region.gpu_pools[-1] else pool.max_nodes
            nodes = min(ceiling, max(pool.min_nodes, math.ceil(remaining / per_node[pool.name])))
            plans_nodes[pool.name].append(nodes)
            remaining = max(0, remaining - nodes * per_node[pool.name])
    pools = [PoolPlan(pool, plans_nodes[pool.name]) for pool in region.gpu_pools]

    served_cap = served_tokens_per_second(max_replicas, tiers)
    total_load = sum(avg_tps * f for f in profile)
    over = sum(max(0.0, avg_tps * f - served_cap) for f in profile)
    queued = over / total_load if total_load else 0.0
    floor_nodes = {p.name: max(p.min_nodes, 0) for p in region.gpu_pools}
    floor_replicas = max(low, sum(floor_nodes[n] * per_node[n] for n in floor_nodes))
    floor_capacity = served_tokens_per_second(floor_replicas, tiers)
    floor_util = avg_tps / floor_capacity if floor_capacity else 0.0
    at_avg = replicas_for_load(avg_tps, tiers)
    at_peak = replicas_for_load(avg_tps * max(profile), tiers)

    warnings = [f"{region.region}: {w}" for t in throughput.values() for w in t.warnings]
    if queued > 0:
        warnings.append(
            f"{region.region}: max {max_replicas} replicas ({', '.join(f'{p.name} maxNodes {p.max_nodes}' for p in region.gpu_pools)}"
            f", maxReplicas {high}) serve {served_cap:.0f} output tok/s but the peak needs {at_peak} replicas "
            f"({avg_tps * max(profile):.0f} tok/s): {queued:.1%} of the month's tokens would queue; raise maxNodes/maxReplicas")
    if floor_replicas and floor_util < 0.3 and avg_tps > 0:
        warnings.append(
            f"{region.region}: the floor fleet ({floor_replicas} replica(s) from minNodes/minReplicas) runs at "
            f"{floor_util:.0%} of its planned throughput on average traffic: mostly idle; consider lower "
                "minNodes/minReplicas, or autoscaling.scaleToZero")
    return RegionCapacity(
        region=region.region, traffic_share=share, average_output_tokens_per_second=avg_tps, throughput=throughput,
        replicas_at_average=at_avg, replicas_at_peak=at_peak, min_replicas=low, max_replicas=max_replicas,
        pools=pools, queued_share=queued, floor_utilisation=floor_util, warnings=warnings,
    )


def plan(spec: StackSpec, requests_per_month: float | None = None, *, unbounded: bool = False,
         throughput_cache: dict | None = None) -> list[RegionCapacity]:
    requests = spec.traffic.requests_per_month if requests_per_month is None else requests_per_month
    shares = traffic_shares(spec)
    cache = {} if throughput_cache is None else throughput_cache
    return [plan_region(spec, region, requests, shares[region.region], unbounded=unbounded, throughput_cache=cache)
            for region in spec.regions]
