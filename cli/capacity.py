"""Capacity model: output tokens/s one vLLM replica sustains, and how many replicas and nodes a
region needs for its share of the traffic, hour by hour over a day.

Every constant is sourced (docs/sources.md "GPU datasheet figures", "aiconfigurator-core 0.12.0 system files",
"Published saturated throughput", read 2026-11-30) or a named assumption; the
model's error against public measurements is in docs/capacity.md (the points: tests/data/capacity_points.json).

**Step model** (continuous batching at saturation, a roofline with three fitted efficiencies). A replica
holds B sequences; every engine step emits one token for each and, amortised, prefills B x in/out prompt
tokens (chunked prefill mixes them into the same steps). One step costs

    t_step(B) = t_memory + t_compute + t_allreduce + STEP_OVERHEAD_S
    t_memory  = (W + B x (in + out/2) x kv) / (TP x MEMORY_EFFICIENCY x bandwidth)
    t_compute = (2 x N x B x (1 + in/out) + attention FLOPs) / (TP x COMPUTE_EFFICIENCY x TFLOPS)
    t_allreduce (TP > 1) = 2 x layers x (ALLREDUCE_LATENCY_S + 2 (TP-1)/TP x tokens x hidden x 2 B / link)

with W the weight bytes (FP8: 1 byte a weight), kv the KV-cache bytes per token, N the parameters, TFLOPS
the GPU's dense FP8 rate for FP8 weights where it has FP8 tensor cores (L4, L40S, H100, H200, B200, B300)
and its BF16 rate otherwise, and `link` NVLink/NVSwitch or PCIe (g5/g6/g6e multi-GPU sizes have no NVLink:
their all-reduce crosses PCIe, `infra.hardware.InstanceType.interconnect_gbps`). Saturated output tok/s =
B / t_step(B) at the largest batch vLLM runs: min(--max-num-seqs, what the KV cache holds).

The efficiencies were fitted (grid search, docs/capacity.md) to 17 published measurements from 5 sources
(vLLM blog x2, Red Hat MLPerf v5.1, NVIDIA NIM, TensorRT-LLM) and are checked against 21 from 6, 8 of them vLLM
V1 (Krai's MLPerf v5.1 rows, whose input length is assumed, and an FP8-KV-cache row the model's structure
misses are evaluated, not fitted); fitting without one source at a time and predicting it gives the
uncertainty band (`BAND_MEASURED_GPU`), widened where no GPU of the class was measured (`BAND_ROOFLINE_ONLY`:
L4, A10G, B200, B300, fractional GPUs, and tensor parallelism over PCIe).

**Latency**: the TPOT target bounds the batch to the largest B with t_step(B) <= TPOT; that batch serves
B / t_step(B) tok/s. Replicas run at `TARGET_UTILISATION` of saturation at most.

A stack may replace the prediction for a pool with its own load test
(`regions[].gpuPools[].measuredOutputTokensPerSecond` + `measuredSource`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

from infra import hardware
from infra.model_facts import Architecture, known_architecture
from infra.price_catalog import HOURS_PER_MONTH  # the one constant; the catalog file is checked against it
from infra.sizing import ACTIVATION_RESERVE_BYTES, GPU_MEMORY_UTILIZATION
from infra.spec import GpuPoolSpec, RegionSpec, StackSpec
from infra.traffic import traffic_shares  # noqa: F401  (the capacity model's callers read it here; its home is infra)

SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600

# Fitted to the published points of docs/capacity.md that are in the fit (`FIT_GRID`, least median + worst/2
# error; a row whose shape rests on an assumption, or whose miss the model's structure explains, is evaluated,
# not fitted): the share of peak bandwidth a decode step reaches (aiconfigurator-core's systems/*.yaml use the
# same 0.8, `mem_bw_empirical_scaling_factor`), the share of dense peak TFLOPS the GEMMs reach, and a fixed cost
# per step (scheduler, sampler, launch gaps): the fit finds none at these batches.
MEMORY_EFFICIENCY = 0.8
COMPUTE_EFFICIENCY = 0.65
STEP_OVERHEAD_S = 0.0
FIT_GRID = ((0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9), (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8),
            (0.0, 0.001, 0.002, 0.003, 0.005))
# Latency of one all-reduce between GPUs (aiconfigurator-core systems/*.yaml `p2p_latency`, docs/sources.md "aiconfigurator-core 0.12.0 system files").
ALLREDUCE_LATENCY_S = 10e-6
# Bytes of one activation element the all-reduce moves (BF16).
ACTIVATION_BYTES = 2
# Uncertainty band of a prediction, as factors on it: published / predicted over the error table when each
# source is left out of the fit (docs/capacity.md "Band"), rounded outward; where no GPU of the class was
# measured, the +-40 % the table is held to.
BAND_MEASURED_GPU = (0.85, 1.25)
BAND_ROOFLINE_ONLY = (0.60, 1.40)
MEASURED_GPU_CLASSES = frozenset({"H100", "H200", "A100-40GB", "A100-80GB", "L40S"})
METHOD = ("roofline step model fitted to published vLLM/NIM/TensorRT-LLM measurements (docs/capacity.md); "
          "GPU figures docs/sources.md \"GPU datasheet figures\", \"aiconfigurator-core 0.12.0 system files\"")

# Share of saturated throughput a replica is planned at. C1 (8B, H100, ShareGPT): TTFT < 100 ms and TPOT
# 8-14 ms up to 32 QPS (of ~37 at saturation); at QPS = inf TTFT ~2.6 s, TPOT 55-60 ms. 0.7 keeps headroom
# for bursts inside the autoscaler's reaction time (assumption).
TARGET_UTILISATION = 0.7
# vLLM's default --max-num-seqs for the OpenAI server: the scheduler never batches more. v0.6-v0.11: 256
# on every GPU. The pinned v0.31.0 (`EngineArgs.get_batch_defaults` in vllm/engine/arg_utils.py, docs/sources.md
# "vLLM v0.31.0 image"): 1024 on a GPU with >= 160 GiB, or >= 70 GiB that is not an A100; else 256.
MAX_NUM_SEQS = 256
MAX_NUM_SEQS_LARGE_GPU = 1024
# vLLM's default --max-num-batched-tokens for the OpenAI server (the same `get_batch_defaults`, same GPU test,
# docs/sources.md "Default --max-num-batched-tokens"): tokens one engine step schedules, decode and prefill chunks
# together. Only the TTFT estimate (`ttft_seconds`) reads it.
MAX_NUM_BATCHED_TOKENS = 2048
MAX_NUM_BATCHED_TOKENS_LARGE_GPU = 8192
LARGE_GPU_GIB, ANY_LARGE_GPU_GIB = 70, 160
# Day profile resolution: 96 slots of 15 minutes (KEDA/cluster-autoscaler act within minutes).
SLOTS_PER_DAY = 96


class CapacityError(ValueError):
    """The model cannot be sized (unknown architecture, does not fit); names the stack key."""


def hidden_size(arch: Architecture) -> float:
    """Model width, derived: a dense decoder has ~12 x layers x hidden^2 parameters (Llama-3-8B: 4,573 for the
    real 4,096; 70B: 8,576 for 8,192). Only attention FLOPs and all-reduce bytes use it."""
    return math.sqrt(arch.parameters_billion * 1e9 / (12 * arch.layers))


@dataclass(frozen=True)
class Engine:
    """What one replica runs: the model on `tp` GPUs of `instance`, and the workload's lengths."""

    instance: hardware.InstanceType
    arch: Architecture
    weight_bytes: float
    fp8_compute: bool
    """FP8 weights and activations (vLLM's fp8 quantization): GEMMs at the GPU's FP8 rate where it has one."""
    kv_bytes_per_token: float
    tp: int
    input_tokens: float
    output_tokens: float

    @property
    def gpu(self) -> hardware.GpuModel:
        return self.instance.gpu_model

    @property
    def tflops(self) -> float:
        fp8 = self.gpu.fp8_dense_tflops
        return fp8 if self.fp8_compute and fp8 else self.gpu.bf16_dense_tflops

    def batch_by_memory(self) -> int:
        """Sequences of in + out tokens the KV cache left after weights holds."""
        room = self.tp * (self.instance.gpu_memory_bytes * GPU_MEMORY_UTILIZATION - ACTIVATION_RESERVE_BYTES) - self.weight_bytes
        return max(0, int(room // (self.kv_bytes_per_token * (self.input_tokens + self.output_tokens))))

    def step_bytes(self, batch: float) -> float:
        return self.weight_bytes + batch * (self.input_tokens + self.output_tokens / 2) * self.kv_bytes_per_token

    def step_seconds(self, batch: float) -> float:
        """One engine step at `batch` sequences: decode one token each plus their amortised prefill."""
        inp, out, tp, arch = self.input_tokens, self.output_tokens, self.tp, self.arch
        hidden = hidden_size(arch)
        memory = self.step_bytes(batch) / (tp * MEMORY_EFFICIENCY * self.gpu.memory_bandwidth_gbps * 1e9)
        tokens = batch * (1 + inp / out)
        context = inp + out / 2
        # causal prefill attention ~2 x layers x in^2 x hidden per request (amortised over its out steps),
        # decode attention 4 x layers x context x hidden per token
        attention = batch / out * 2 * arch.layers * inp * inp * hidden + batch * 4 * arch.layers * context * hidden
        compute, allreduce = self.compute_and_allreduce_seconds(tokens, attention, hidden)
        return memory + compute + allreduce + STEP_OVERHEAD_S

    def compute_and_allreduce_seconds(self, tokens: float, attention: float, hidden: float) -> tuple[float, float]:
        """One step's GEMM + attention time for `tokens` tokens (and `attention` FLOPs), and its tensor-parallel
        all-reduces over the instance's interconnect (NVLink, else PCIe); 0 for one GPU."""
        tp, arch = self.tp, self.arch
        compute = (2 * arch.parameters_billion * 1e9 * tokens + attention) / (tp * COMPUTE_EFFICIENCY * self.tflops * 1e12)
        allreduce = 0.0
        if tp > 1:
            link = (self.instance.interconnect_gbps or hardware.PCIE_GBPS) * 1e9
            allreduce = 2 * arch.layers * (ALLREDUCE_LATENCY_S + 2 * (tp - 1) / tp * tokens * hidden * ACTIVATION_BYTES / link)
        return compute, allreduce

    def chunk_step_seconds(self, batch: float, chunk: float, done: float) -> float:
        """One engine step at `batch` running sequences (one decode token each) that also prefills `chunk`
        tokens of a prompt whose first `done` tokens are already in the KV cache: the step `ttft_seconds`
        counts. Unlike `step_seconds` (every sequence's prefill amortised over its output), the chunk's own
        GEMM tokens and its causal attention over the prompt so far are in this step."""
        out, tp, arch = self.output_tokens, self.tp, self.arch
        hidden = hidden_size(arch)
        memory = (self.step_bytes(batch) + (done + chunk) * self.kv_bytes_per_token) / (
            tp * MEMORY_EFFICIENCY * self.gpu.memory_bandwidth_gbps * 1e9)
        tokens = batch + chunk
        context = self.input_tokens + out / 2
        attention = (2 * arch.layers * hidden * ((done + chunk) ** 2 - done ** 2)
                     + batch * 4 * arch.layers * context * hidden)
        compute, allreduce = self.compute_and_allreduce_seconds(tokens, attention, hidden)
        return memory + compute + allreduce + STEP_OVERHEAD_S

    def tokens_per_second(self, batch: int) -> float:
        return batch / self.step_seconds(batch) if batch else 0.0

    def batch_within(self, seconds: float, ceiling: int) -> int:
        """Largest batch <= `ceiling` whose step fits in `seconds` (0 when even one sequence does not)."""
        lo, hi = 0, ceiling
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if self.step_seconds(mid) <= seconds else (lo, mid - 1)
        return lo


def published_point_prediction(point: dict) -> tuple[float, int]:
    """(saturated output tok/s, batch) the step model predicts for one published measurement of
    tests/data/capacity_points.json: its model, instance, TP, precision, KV bytes, lengths and batch limits
    (`decodeOnly`: the published figure is 1 / inter-token latency, so the prediction leaves prefill out too)."""
    it = hardware.instance_type(point["instanceType"])
    arch = known_architecture(point["model"])
    fp8 = point["precision"] == "fp8"
    engine = Engine(it, arch, arch.parameters_billion * 1e9 * (1 if fp8 else 2), fp8,
                    arch.kv_bytes_per_token(point["kvCacheBytes"]), point["tensorParallel"], point["inputTokens"],
                    point["outputTokens"])
    batch = min(point["maxNumSeqs"], point["concurrency"] or point["maxNumSeqs"], engine.batch_by_memory())
    if point.get("decodeOnly"):
        # the source gives 1 / inter-token latency: decode steps only, the prompt's prefill (TTFT) is not in it
        return batch / engine.chunk_step_seconds(batch, 0, 0), batch
    return engine.tokens_per_second(batch), batch


def band(it: hardware.InstanceType, tp: int) -> tuple[float, float]:
    """(low, high) factors on a prediction on this instance at this tensorParallel (docs/capacity.md "Band"):
    the error table's band for a GPU class it measured, the wider one for the others and for tensor
    parallelism over PCIe (no published point measures it)."""
    over_pcie = tp > 1 and it.over_pcie
    return BAND_MEASURED_GPU if it.gpu_model.name in MEASURED_GPU_CLASSES and not over_pcie else BAND_ROOFLINE_ONLY


@dataclass(frozen=True)
class ReplicaThroughput:
    """What one replica of the stack's model sustains on one GPU type."""

    gpu: str
    tensor_parallel: int
    predicted_tokens_per_second: float
    """The step model's saturated output tok/s (kept when a measurement replaces it)."""
    roofline_tokens_per_second: float
    """Decode ceiling at the largest KV-cache batch and 100 % bandwidth, no compute."""
    saturated_tokens_per_second: float
    """What the fleet is sized from: the measurement where the stack gives one, else the prediction."""
    saturated_low_tokens_per_second: float
    saturated_high_tokens_per_second: float
    """The band the error table supports (equal to the measurement where one is given)."""
    latency_bound_tokens_per_second: float | None
    """Output tok/s with every sequence at the TPOT target; None when even batch 1 misses it."""
    planning_tokens_per_second: float
    """What the fleet is sized with: min(saturated x target utilisation, latency bound)."""
    max_batch_by_memory: int
    max_batch_by_tpot: int
    single_stream_tpot_ms: float
    measured_source: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def measured(self) -> bool:
        return self.measured_source is not None

    @property
    def source(self) -> str:
        if self.measured:
            return (f"measured by the stack: {self.measured_source} (the model predicted "
                    f"{self.predicted_tokens_per_second:,.0f} tok/s)")
        return METHOD

    def scaled(self, factor: float) -> ReplicaThroughput:
        """The same replica at `factor` x its throughput (the band's ends); a measurement does not move."""
        if self.measured or factor == 1:
            return self
        lb = self.latency_bound_tokens_per_second
        return replace(self, saturated_tokens_per_second=self.saturated_tokens_per_second * factor,
                       planning_tokens_per_second=self.planning_tokens_per_second * factor,
                       latency_bound_tokens_per_second=None if lb is None else lb * factor)

    def at_band(self, end: str) -> ReplicaThroughput:
        """`low` or `high` end of the band as a replica throughput."""
        target = self.saturated_low_tokens_per_second if end == "low" else self.saturated_high_tokens_per_second
        return self.scaled(target / self.saturated_tokens_per_second if self.saturated_tokens_per_second else 1)


def _large_gpu(it: hardware.InstanceType) -> bool:
    """vLLM v0.31.0's `get_batch_defaults` test for its larger defaults (see MAX_NUM_SEQS)."""
    gib = it.gpu_memory_mib / 1024
    return gib >= ANY_LARGE_GPU_GIB or (gib >= LARGE_GPU_GIB and not it.gpu_model.name.upper().startswith("A100"))


def max_num_seqs(it: hardware.InstanceType) -> int:
    """vLLM v0.31.0's default batch cap on this instance's GPUs (see MAX_NUM_SEQS)."""
    return MAX_NUM_SEQS_LARGE_GPU if _large_gpu(it) else MAX_NUM_SEQS


def max_num_batched_tokens(it: hardware.InstanceType) -> int:
    """vLLM's default token budget of one engine step on this instance's GPUs (see MAX_NUM_BATCHED_TOKENS)."""
    return MAX_NUM_BATCHED_TOKENS_LARGE_GPU if _large_gpu(it) else MAX_NUM_BATCHED_TOKENS


def engine_for(spec: StackSpec, instance_type: str, source: str | None = None) -> Engine:
    """The step model of one replica of the stack's weights (or a canary region's other `source`) on
    `instance_type` at the stack's tensorParallel, precision and request lengths."""
    it = hardware.instance_type(instance_type)
    arch = spec.architecture_for(source)
    weights = spec.weight_bytes(source)
    if arch is None or weights is None:
        raise CapacityError(f"model.source: {source or spec.model.source} has no known architecture; give "
                            "model.parametersBillion and model.architecture")
    traffic = spec.traffic
    return Engine(it, arch, weights, spec.model.quantization == "fp8", arch.kv_bytes_per_token(spec.model.kv_dtype_bytes),
                  spec.model.tensor_parallel, traffic.input_tokens_per_request, traffic.output_tokens_per_request)


def planned_batch(engine: Engine, tokens_per_second: float, ceiling: int) -> int:
    """Smallest batch (<= `ceiling`) at which one replica serves `tokens_per_second` (throughput grows with the batch)."""
    lo, hi = 1, max(1, ceiling)
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if engine.tokens_per_second(mid) >= tokens_per_second else (mid + 1, hi)
    return lo


def ttft_seconds(engine: Engine, batch: int) -> float:
    """Time to first token of a request joining a replica running `batch` sequences, queueing left out: chunked
    prefill gives its prompt what the step's token budget leaves after the running sequences' decode tokens, one
    chunk a step, each step carrying its chunk's tokens as well as the batch's decode (`Engine.chunk_step_seconds`;
    an average step, `step_seconds`, would price a 600-token prompt below what computing it takes)."""
    room = max(1, max_num_batched_tokens(engine.instance) - batch)
    prompt = max(1, math.ceil(engine.input_tokens))
    total, done = 0.0, 0
    while done < prompt:
        chunk = min(room, prompt - done)
        total += engine.chunk_step_seconds(batch, chunk, done)
        done += chunk
    return total


def replica_throughput(spec: StackSpec, instance_type: str, source: str | None = None,
                       pool: GpuPoolSpec | None = None) -> ReplicaThroughput:
    """One replica's output tokens/s on `instance_type`, for the stack's weights or a canary region's
    other `source` (`StackSpec.model_for`); `pool`'s own load test, when it states one, replaces the
    prediction."""
    it = hardware.instance_type(instance_type)
    gpu = it.gpu_model
    if gpu is None:
        if it.gpu_name:
            raise CapacityError(
                f"{instance_type}: no sourced datasheet figures (memory bandwidth, dense BF16 TFLOPS) for its "
                f"{it.gpu_name} GPU, so its throughput cannot be predicted; pick another instance type")
        raise CapacityError(f"{instance_type} has no GPU")
    engine = engine_for(spec, instance_type, source)
    weights, tp, traffic = engine.weight_bytes, engine.tp, spec.traffic
    inp, out = traffic.input_tokens_per_request, traffic.output_tokens_per_request
    seqs = max_num_seqs(it)
    batch_memory = min(seqs, engine.batch_by_memory())
    if batch_memory == 0:
        raise CapacityError(
            f"model.maxModelLen/traffic: one {inp + out}-token request does not fit the KV cache left on "
            f"{instance_type} at tensorParallel {tp}")
    bw = gpu.memory_bandwidth_gbps * 1e9
    roofline = batch_memory * tp * bw / engine.step_bytes(batch_memory)
    predicted = engine.tokens_per_second(batch_memory)
    low, high = band(it, tp)
    saturated, sat_low, sat_high = predicted, predicted * low, predicted * high
    measured = pool.measured_output_tokens_per_second if pool is not None else None
    if measured is not None:
        saturated = sat_low = sat_high = float(measured)
    scale = saturated / predicted  # a measurement moves the latency-bound rate in proportion

    warnings: list[str] = []
    tpot = traffic.tpot_target_ms / 1000
    single_tpot = engine.step_seconds(1)
    batch_tpot = engine.batch_within(tpot, batch_memory)
    if batch_tpot == 0:
        latency_bound = None
        planning = saturated * TARGET_UTILISATION
        warnings.append(
            f"traffic.tpotTargetMs {traffic.tpot_target_ms} ms is out of reach on {instance_type}: one stream alone needs "
            f"~{single_tpot * 1000:.0f} ms per token (weights {weights / 1e9:.1f} GB read per step at "
            f"{MEMORY_EFFICIENCY:.0%} of {gpu.memory_bandwidth_gbps:.0f} GB/s x {tp}); sized at "
            f"{TARGET_UTILISATION:.0%} of saturation instead")
    else:
        latency_bound = engine.tokens_per_second(batch_tpot) * scale
        planning = min(saturated * TARGET_UTILISATION, latency_bound)
    return ReplicaThroughput(
        gpu=gpu.name, tensor_parallel=tp, predicted_tokens_per_second=predicted, roofline_tokens_per_second=roofline,
        saturated_tokens_per_second=saturated, saturated_low_tokens_per_second=sat_low,
        saturated_high_tokens_per_second=sat_high, latency_bound_tokens_per_second=latency_bound,
        planning_tokens_per_second=planning, max_batch_by_memory=batch_memory, max_batch_by_tpot=batch_tpot,
        single_stream_tpot_ms=single_tpot * 1000,
        measured_source=(pool.measured_source if measured is not None else None), warnings=warnings,
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
    pool: GpuPoolSpec
    nodes_per_slot: list[int]

    @property
    def expected_nodes(self) -> float:
        return sum(self.nodes_per_slot) / len(self.nodes_per_slot)

    @property
    def node_starts_per_day(self) -> int:
        ns = self.nodes_per_slot
        return sum(now - before for before, now in zip(ns[-1:] + ns[:-1], ns) if now > before)  # slot 0 follows the last


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
    canary region may serve other weights). `throughput_cache` is keyed by (instance type, source, the pool's
    measurement and its source)."""
    cache = {} if throughput_cache is None else throughput_cache
    source = spec.model_for(region)[0]
    out = {}
    for pool in region.gpu_pools:
        key = (pool.instance_type, source, pool.measured_output_tokens_per_second, pool.measured_source)
        if key not in cache:
            cache[key] = replica_throughput(spec, pool.instance_type, source, pool)
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
                unbounded: bool = False, throughput_cache: dict | None = None,
                max_replicas: int | None = None) -> RegionCapacity:
    """Replicas and nodes per 15-minute slot for a region's share of `requests_per_month`.
    `unbounded` lifts maxNodes/maxReplicas (to find where break-even would lie with a bigger fleet);
    `max_replicas` caps the fleet at that many replicas instead of maxReplicas, the last pool growing past
    maxNodes when the cap needs it (the hybrid estimate's fleet cap, cli/estimate/hybrid.py)."""
    out_tokens = spec.traffic.output_tokens_per_request
    avg_tps = requests_per_month * share * out_tokens / SECONDS_PER_MONTH
    cache = {} if throughput_cache is None else throughput_cache
    tiers = region_tiers(spec, region, cache)
    throughput = pool_throughput(spec, region, cache)
    low, high = spec.replicas_for(region)
    per_node = {pool.name: spec.replicas_per_node(pool) for pool in region.gpu_pools}
    capacity = sum(p.max_nodes * per_node[p.name] for p in region.gpu_pools)
    cap = max_replicas
    max_replicas = min(high, capacity) if cap is None else cap
    lift_last = unbounded or (cap is not None and cap > capacity)
    if unbounded:
        max_replicas = 10**9
    # Pools fill in the order the stack lists them; each replica serves at its own pool's throughput.
    profile = day_profile(spec.traffic.peak_to_average)
    loads = [avg_tps * f for f in profile]
    if len(tiers) == 1:  # one pool: replicas_for_load is one ceiling (inlined: the break-even plans ~100 times)
        per_replica = tiers[0][1]
        needed = [math.ceil(load / per_replica - 1e-9) if load > 1e-9 else 0 for load in loads]
    else:
        needed = [replicas_for_load(load, tiers) for load in loads]
    hold = scale_down_delay_slots(spec)
    wrapped = needed[len(needed) - hold:] + needed if hold else needed  # the day repeats: slot 0 follows the last
    # slot i holds the most of slots i..i+hold of `wrapped` (one max per slot: the break-even plans ~100 times)
    held = list(map(max, *(wrapped[k:k + len(needed)] for k in range(hold + 1)))) if hold else needed
    floor, ceiling_replicas = min(low, max_replicas), max_replicas  # = min(max(n, low), max_replicas) per slot
    replicas = [floor if n < floor else (ceiling_replicas if n > ceiling_replicas else n) for n in held]

    fills: dict[int, list[int]] = {}  # replicas -> nodes per pool (a day repeats few replica counts)
    for r in set(replicas):
        remaining, fill = r, []
        for pool in region.gpu_pools:
            ceiling = 10**9 if lift_last and pool is region.gpu_pools[-1] else pool.max_nodes
            nodes = min(ceiling, max(pool.min_nodes, math.ceil(remaining / per_node[pool.name])))
            fill.append(nodes)
            remaining = max(0, remaining - nodes * per_node[pool.name])
        fills[r] = fill
    pools = [PoolPlan(pool, [fills[r][i] for r in replicas]) for i, pool in enumerate(region.gpu_pools)]

    served_cap = served_tokens_per_second(max_replicas, tiers)
    total_load = sum(loads)
    over = sum(load - served_cap for load in loads if load > served_cap)
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
         throughput_cache: dict | None = None, max_replicas: dict[str, int] | None = None) -> list[RegionCapacity]:
    """Every region's plan; `max_replicas` (region -> replicas) caps a region's fleet (see plan_region)."""
    requests = spec.traffic.requests_per_month if requests_per_month is None else requests_per_month
    shares = traffic_shares(spec)
    cache = {} if throughput_cache is None else throughput_cache
    caps = max_replicas or {}
    return [plan_region(spec, region, requests, shares[region.region], unbounded=unbounded, throughput_cache=cache,
                        max_replicas=caps.get(region.region))
            for region in spec.regions]


def replica_planned_batch(spec: StackSpec, region: RegionSpec, throughput_cache: dict | None = None) -> dict[str, int]:
    """Per GPU pool name: the batch one replica runs at its planning throughput (`planned_batch`), the requests a
    replica holds in flight when the fleet serves what it is sized for; the gateway's `replicaConcurrency` should not
    exceed it (docs/gateway.md "Overflow")."""
    out = {}
    source = spec.model_for(region)[0]
    throughput = pool_throughput(spec, region, throughput_cache)
    for pool in region.gpu_pools:
        th = throughput[pool.name]
        engine = engine_for(spec, pool.instance_type, source)
        scale = th.saturated_tokens_per_second / th.predicted_tokens_per_second
        out[pool.name] = planned_batch(engine, th.planning_tokens_per_second / scale, th.max_batch_by_memory)
    return out
