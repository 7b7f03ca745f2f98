"""Sizing facts and maths shared by the spec's checks, the program, the chart values and the estimate.

Bytes per weight, vLLM's GPU memory utilisation, whether a model fits a GPU, a node's root disk and
gp3's included performance. Plain numbers only (no Pulumi, no pydantic): the CLI imports this on its
start-up path.
"""

from __future__ import annotations

from infra.hardware import GIB

# Bytes per weight for the dtype / quantization vLLM loads.
DTYPE_BYTES = {"bfloat16": 2.0, "float16": 2.0, "float32": 4.0}
QUANTIZATION_BYTES = {"fp8": 1.0, "awq": 0.5, "gptq": 0.5}
# vLLM's default --gpu-memory-utilization; the rest is CUDA context and fragmentation. The chart's own
# default (`charts/vllm/values.yaml` vllm.gpuMemoryUtilization) is the same number (tests/infra/test_pins.py).
GPU_MEMORY_UTILIZATION = 0.90
# Activations, CUDA graphs and sampler buffers per GPU beyond weights and KV cache
# (vLLM profiles ~1-2 GiB for 7-70B models; 1.5 GiB is the planning reserve we use).
ACTIVATION_RESERVE_BYTES = 1.5 * GIB

# A gp3 volume's price includes 3,000 IOPS and 125 MiB/s; only what is provisioned above them bills
# (EBS pricing; docs/sources.md). A launch template that sets neither gets exactly these.
GP3_INCLUDED_IOPS = 3000
GP3_INCLUDED_THROUGHPUT_MIBPS = 125
# Root volume of GPU nodes (the program's launch templates; the estimate and `recommend` price it): the startup
# budget (infra/chart_values.py) assumes the weights load from disk at ~250 MB/s, double gp3's 125 MiB/s baseline.
# gp3 allows up to 1000 MiB/s and 16000 IOPS, with at most 0.25 MiB/s per provisioned IOPS (EBS user guide
# "General Purpose SSD volumes", read 2026-11-24).
GPU_ROOT_VOLUME_THROUGHPUT_MIBPS = 500
GPU_ROOT_VOLUME_IOPS = 6000

# What the Hugging Face Hub is assumed to deliver to an EC2 node in an AWS region (not measured here; no
# network): the vLLM startup budget and launch-to-ready time (infra/chart_values.py) and the weights
# mirror's fill time (infra/weights_mirror_plan.py) both read it.
HUGGING_FACE_DOWNLOAD_BYTES_PER_SECOND = 200e6


def weight_bytes_per_parameter(dtype: str, quantization: str | None) -> float:
    return QUANTIZATION_BYTES[quantization] if quantization else DTYPE_BYTES[dtype]


def fit(weight_bytes: float, kv_bytes_per_token: float, max_model_len: int, tensor_parallel: int,
        gpu_memory_bytes: float) -> tuple[float, float, float]:
    """(needed bytes per GPU, usable bytes per GPU, KV bytes for one full sequence per GPU): the weights
    and one `max_model_len` sequence's KV cache split over `tensor_parallel` GPUs, plus the runtime
    reserve, against a GPU's memory at vLLM's utilisation."""
    kv_one_sequence = kv_bytes_per_token * max_model_len / tensor_parallel
    needed = weight_bytes / tensor_parallel + kv_one_sequence + ACTIVATION_RESERVE_BYTES
    usable = gpu_memory_bytes * GPU_MEMORY_UTILIZATION
    return needed, usable, kv_one_sequence


def disk_size_gib(weight_bytes: float) -> int:
    """Node root volume: OS + images (~60 GiB) + the model weights twice (cache and download), at least
    100 GiB, then up to the next multiple of 10 GiB above it."""
    return int(max(100, 60 + 2 * weight_bytes / GIB + 0.999) // 10 * 10 + 10)
