"""Facts per GPU instance type and GPU model, each with its source.

Instance facts (vCPU, memory, GPU count and memory per GPU, region offerings) come from
`data/aws_instance_facts.json`, rebuilt by `scripts/refresh_hardware_data.py` from moto's
offline snapshot of EC2 DescribeInstanceTypes. GPU memory is per GPU, in MiB, as EC2 reports it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

GIB = 1024**3
MIB = 1024**2
# PCIe Gen4 x16 one way, GB/s: what tensor-parallel GPUs without NVLink (g5, g6, g6e) share; aiconfigurator-core
# 0.12.0 systems/l4.yaml and l40s.yaml `intra_node_bw` (docs/sources.md "aiconfigurator-core 0.12.0 system files").
PCIE_GBPS = 32.0


@dataclass(frozen=True)
class GpuModel:
    """One GPU model's datasheet figures (dense, per GPU)."""

    name: str
    memory_bandwidth_gbps: float
    """HBM/GDDR bandwidth in GB/s (10^9 bytes): decode is bound by it."""
    bf16_dense_tflops: float
    source: str
    fp8_dense_tflops: float | None = None
    """Dense FP8 tensor TFLOPS; None where the GPU has no FP8 tensor cores (A10G, A100: vLLM runs FP8
    weights there as weight-only, computing at the BF16 rate)."""
    pcie_gbps: float | None = None
    """GPU-to-GPU bandwidth one way over PCIe, GB/s, where an instance has no NVLink; None: PCIE_GBPS (Gen4 x16)."""


# Source: NVIDIA datasheets as compiled by third parties, docs/sources.md "GPU datasheet figures"
# (confidence C, read 2026-11-24). A10G bandwidth assumed equal to the A10 datasheet.
# Dense FP8: the same compilations (C4) and NVIDIA's aiconfigurator-core 0.12.0 `systems/<gpu>.yaml`
# `fp8_tc_flops` (docs/sources.md "aiconfigurator-core 0.12.0 system files", read 2026-11-30).
_DATASHEETS = "NVIDIA datasheets, third-party compilations (docs/sources.md \"GPU datasheet figures\", 2026-11-24)"
GPU_MODELS: dict[str, GpuModel] = {
    "A10G": GpuModel("A10G", 600, 125, _DATASHEETS),
    "L4": GpuModel("L4", 300, 121, _DATASHEETS, fp8_dense_tflops=242),
    "L40S": GpuModel("L40S", 864, 362, _DATASHEETS, fp8_dense_tflops=733),
    "A100-40GB": GpuModel("A100-40GB", 1555, 312, _DATASHEETS),
    "A100-80GB": GpuModel("A100-80GB", 2039, 312, _DATASHEETS),
    "H100": GpuModel("H100", 3350, 989, _DATASHEETS, fp8_dense_tflops=1979),
    "H200": GpuModel("H200", 4800, 989, _DATASHEETS, fp8_dense_tflops=1979),
    # HGX (8-GPU baseboard) variants as AWS's P6 instances carry them: bandwidth and dense BF16 matrix TFLOPS
    # from NVIDIA's HGX figures as tabulated on glennklockwood.com/garden/processors/B200 and .../B300
    # (read 2026-11-30, confidence C: a compiled page, not NVIDIA's own datasheet); dense FP8 4,500 TFLOPS
    # from aiconfigurator-core 0.12.0 systems/b200_sxm.yaml and b300_sxm.yaml (docs/sources.md "aiconfigurator-core 0.12.0 system files").
    "B200": GpuModel("B200", 8000, 2250, "NVIDIA HGX B200 figures via glennklockwood.com/garden/processors/B200 (2026-11-30)",
                     fp8_dense_tflops=4500),
    "B300": GpuModel("B300", 8000, 2250, "NVIDIA HGX B300 figures via glennklockwood.com/garden/processors/B300 (2026-11-30)",
                     fp8_dense_tflops=4500),
    # g7e's RTX PRO 6000 Blackwell Server Edition (EC2 names it "RTX PRO Server 6000"): NVIDIA's aiconfigurator-core
    # 0.12.0 systems/rtx_pro_6000_server.yaml (docs/sources.md "RTX PRO 6000 Server figures of g7e", read 2026-11-30): mem_bw
    # 1.792 TB/s, dense bfloat16_tc_flops 467.8 and fp8_tc_flops 935.6 TFLOPS (scaled to the 2,430 MHz SM clock it
    # observed), intra_node_bw 64 GB/s one way (PCIe Gen5 x16). No published vLLM measurement: roofline only.
    "RTX PRO Server 6000": GpuModel(
        "RTX PRO Server 6000", 1792, 467.8,
        "NVIDIA aiconfigurator-core 0.12.0 systems/rtx_pro_6000_server.yaml (2026-11-30)",
        fp8_dense_tflops=935.6, pcie_gbps=64.0),
}
"""GPU models with sourced datasheet figures. EC2 also reports "RTX PRO 4500" (g7): no NVIDIA-published or
vendor-maintained dense BF16 figure was found for it, so it is left out and an instance type with it has
`gpu_model` None (validate warns; the estimate refuses to size it instead of guessing)."""


def _fraction(model: GpuModel, partition: float) -> GpuModel:
    """A fractional GPU (g6f/gr6f) as a share of the card: bandwidth and compute in proportion (derived)."""
    fp8 = model.fp8_dense_tflops * partition if model.fp8_dense_tflops else None
    return GpuModel(f"{model.name}-{partition:g}", model.memory_bandwidth_gbps * partition,
                    model.bf16_dense_tflops * partition,
                    f"{model.source}; x {partition:g}: the instance's GPU share (EC2 GpuPartitionSize), assumed to "
                    "get the same share of bandwidth and compute", fp8_dense_tflops=fp8, pcie_gbps=model.pcie_gbps)


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
    gpu_name: str | None = None
    """The GPU as EC2 names it (set even when `gpu_model` has no sourced figures)."""
    gpu_partition: float = 1.0
    """Share of one physical GPU (g6f/gr6f: 1/8 to 1/2); 1 for whole GPUs."""
    interconnect: str | None = None
    """GPU-to-GPU path of a multi-GPU size (NVSwitch/NVLink bandwidth or PCIe)."""

    @property
    def is_gpu(self) -> bool:
        return self.gpus > 0

    @property
    def over_pcie(self) -> bool:
        """True for a multi-GPU size whose GPUs talk over PCIe (G families, no NVLink/NVSwitch)."""
        return self.gpus > 1 and bool(self.interconnect) and not re.search(r"GB/s", self.interconnect)

    @property
    def interconnect_gbps(self) -> float | None:
        """GPU-to-GPU bandwidth one way, GB/s, for tensor-parallel all-reduce: half the bidirectional
        NVSwitch/NVLink figure EC2 quotes; the GPU's PCIe figure (`GpuModel.pcie_gbps`, PCIE_GBPS where none is
        sourced) where the GPUs talk over PCIe (G families, no NVLink); None for a single GPU."""
        if self.gpus < 2 or not self.interconnect:
            return None
        match = re.search(r"([0-9.]+)\s*GB/s", self.interconnect)
        if match:
            return float(match.group(1)) / 2
        return (self.gpu_model.pcie_gbps if self.gpu_model else None) or PCIE_GBPS

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
        partition = raw.get("gpuPartition", 1.0)
        gpu = GPU_MODELS.get(model) if model else None
        if gpu is not None and partition < 1:
            gpu = _fraction(gpu, partition)
        result[name] = InstanceType(
            name=name,
            vcpus=raw["vcpus"],
            memory_mib=raw["memoryMiB"],
            gpus=raw["gpus"],
            gpu_model=gpu,
            gpu_memory_mib=raw["gpuMemoryMiB"],
            gpu_name=model,
            gpu_partition=partition,
            interconnect=raw.get("interconnect"),
        )
    return result


def gpu_instance_types() -> dict[str, InstanceType]:
    return {name: it for name, it in instance_types().items() if it.is_gpu}


def instance_type(name: str) -> InstanceType:
    return instance_types()[name]


def aws_regions() -> list[str]:
    """Commercial AWS regions: botocore's region table plus those of the offerings snapshot."""
    data = _facts()
    return sorted(set(data["offeringsByRegion"]) | set(data.get("regions", {}).get("codes", [])))


def offerings_known(region: str) -> bool:
    """True when the offerings snapshot lists the region (False: a region it predates)."""
    return region in _facts()["offeringsByRegion"]


def offerings_snapshot() -> str:
    """The offerings snapshot, named and dated for messages."""
    data = _facts()
    return f"offerings snapshot of {data['retrievedOn']} ({data['source'].split(' ec2/')[0]})"


def regions_source() -> str:
    regions = _facts().get("regions")
    return f"{regions['source']}, read {regions['retrievedOn']}" if regions else facts_source()


def offered_in(region: str, instance_type_name: str) -> bool:
    return instance_type_name in _facts()["offeringsByRegion"].get(region, [])
