"""Facts per GPU instance type and GPU model, each with its source.

Instance facts (vCPU, memory, GPU count and memory per GPU, region offerings) come from
`data/aws_instance_facts.json`, rebuilt by `scripts/refresh_hardware_data.py` from moto's
offline snapshot of EC2 DescribeInstanceTypes. GPU memory is per GPU, in MiB, as EC2 reports it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True)
class GpuModel:
    """One GPU model's datasheet figures (dense, per GPU)."""

    name: str
    memory_bandwidth_gbps: float
    """HBM/GDDR bandwidth in GB/s (10^9 bytes): decode is bound by it."""
    bf16_dense_tflops: float
    source: str


# Source: NVIDIA datasheets as compiled by third parties, docs/sources.md "C4"
# (confidence C, read 2026-11-24). A10G bandwidth assumed equal to the A10 datasheet.
_DATASHEETS = "NVIDIA datasheets, third-party compilations (docs/sources.md \"C4\", 2026-11-24)"
GPU_MODELS: dict[str, GpuModel] = {
    "A10G": GpuModel("A10G", 600, 125, _DATASHEETS),
    "L4": GpuModel("L4", 300, 121, _DATASHEETS),
    "L40S": GpuModel("L40S", 864, 362, _DATASHEETS),
    "A100-40GB": GpuModel("A100-40GB", 1555, 312, _DATASHEETS),
    "A100-80GB": GpuModel("A100-80GB", 2039, 312, _DATASHEETS),
    "H100": GpuModel("H100", 3350, 989, _DATASHEETS),
    "H200": GpuModel("H200", 4800, 989, _DATASHEETS),
}


@dataclass(frozen=True)
class InstanceType:
    """One EC2 instance type as the program and the estimate see it."""

    name: str
    vcpus: int
    memory_mib: int
    gpus: int
    gpu_model: GpuModel | None
    gpu_memory_mib: int
    """Memory of one GPU, MiB."""

    @property
    def is_gpu(self) -> bool:
        return self.gpus > 0

    @property
    def gpu_memory_bytes(self) -> int:
        return self.gpu_memory_mib * MIB

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]


@cache
def _facts() -> dict:
    return json.loads(resources.files("infra").joinpath("data/aws_instance_facts.json").read_text())


def facts_source() -> str:
    data = _facts()
    return f"{data['source']}, retrieved {data['retrievedOn']}"


def _gpu_model_name(ec2_name: str | None, gpu_memory_mib: int) -> str | None:
    if ec2_name == "A100":  # EC2 names both A100 sizes "A100"; memory tells them apart
        return "A100-80GB" if gpu_memory_mib >= 80000 else "A100-40GB"
    return ec2_name


@cache
def instance_types() -> dict[str, InstanceType]:
    result = {}
    for name, raw in _facts()["instanceTypes"].items():
        model = _gpu_model_name(raw["gpuModel"], raw["gpuMemoryMiB"])
        result[name] = InstanceType(
            name=name,
            vcpus=raw["vcpus"],
            memory_mib=raw["memoryMiB"],
            gpus=raw["gpus"],
            gpu_model=GPU_MODELS[model] if model else None,
            gpu_memory_mib=raw["gpuMemoryMiB"],
        )
    return result


def gpu_instance_types() -> dict[str, InstanceType]:
    return {name: it for name, it in instance_types().items() if it.is_gpu}


def instance_type(name: str) -> InstanceType:
    return instance_types()[name]


def aws_regions() -> list[str]:
    """Commercial AWS regions known to the offline offerings snapshot."""
    return sorted(_facts()["offeringsByRegion"])


def offered_in(region: str, instance_type_name: str) -> bool:
    return instance_type_name in _facts()["offeringsByRegion"].get(region, [])
