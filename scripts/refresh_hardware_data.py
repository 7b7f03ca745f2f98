"""Rebuild infra/data/aws_instance_facts.json from moto's offline EC2 tables and botocore's region list.

moto ships snapshots of EC2 DescribeInstanceTypes and DescribeInstanceTypeOfferings
(per region). We keep only the instance types the project supports, so the program
does not need moto at run time. Run: .venv/bin/python scripts/refresh_hardware_data.py
"""

from __future__ import annotations

import gzip
import json
import pathlib
from importlib import metadata

import botocore
import moto

SUPPORTED = [
    # GPU instance types a stack may name in gpuPools[].instanceType
    "g5.xlarge", "g5.2xlarge", "g5.4xlarge", "g5.8xlarge", "g5.12xlarge", "g5.48xlarge",
    "g6.xlarge", "g6.2xlarge", "g6.4xlarge", "g6.12xlarge", "g6.48xlarge",
    "g6e.xlarge", "g6e.2xlarge", "g6e.4xlarge", "g6e.8xlarge", "g6e.12xlarge", "g6e.48xlarge",
    "p4d.24xlarge", "p4de.24xlarge", "p5.4xlarge", "p5.48xlarge", "p5e.48xlarge", "p5en.48xlarge",
    "p6-b200.48xlarge", "p6-b300.48xlarge",
    # fractional L4 (a share of one GPU: GpuPartitionSize 1/8, 1/4, 1/2)
    "g6f.large", "g6f.xlarge", "g6f.2xlarge", "g6f.4xlarge", "gr6f.4xlarge",
    # Blackwell RTX PRO (g7: RTX PRO 4500, g7e: RTX PRO 6000 Server Edition)
    "g7.2xlarge", "g7.4xlarge", "g7.8xlarge", "g7.12xlarge", "g7.24xlarge", "g7.48xlarge",
    "g7e.2xlarge", "g7e.4xlarge", "g7e.8xlarge", "g7e.12xlarge", "g7e.24xlarge", "g7e.48xlarge",
    # CPU instance types for the system node group
    "m6i.large", "m6i.xlarge", "m7i.large", "m7i.xlarge",
]

# GPU-to-GPU path of the multi-GPU sizes, per family (informational; the capacity model reads it later).
# P: NVSwitch/NVLink per GPU as AWS lists it on its accelerated-computing instance pages, compiled in
# tsaol/aws-gpu data/<family>_instances.js `gpuInterconnect` @ 77fcd9fe1d06 (2026-01-21, from
# instances.vantage.sh); p6-b300: fifth-generation NVLink, 1.8 TB/s per Blackwell GPU
# (verda.com/blog/gb300-nvl72-architecture, read 2026-11-30). G: no NVLink; multi-GPU sizes talk over PCIe.
INTERCONNECT = {
    "p4d": "NVSwitch 600 GB/s", "p4de": "NVSwitch 600 GB/s", "p5": "NVSwitch 900 GB/s", "p5e": "NVSwitch 900 GB/s",
    "p5en": "NVSwitch 900 GB/s", "p6-b200": "NVLink 5 1800 GB/s", "p6-b300": "NVLink 5 1800 GB/s",
    "g5": "PCIe", "g6": "PCIe", "g6e": "PCIe", "g7": "PCIe", "g7e": "PCIe",
}

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "infra" / "data" / "aws_instance_facts.json"


def main() -> None:
    resources = pathlib.Path(moto.__file__).parent / "ec2" / "resources"
    types = json.load(gzip.open(resources / "instance_types.json.gz"))
    facts = {}
    for name in SUPPORTED:
        raw = types[name]
        gpu = (raw.get("GpuInfo") or {}).get("Gpus") or [{}]
        partition = gpu[0].get("GpuPartitionSize", 1.0)
        # a fractional GPU reports Count 0 and one logical GPU of `partition` of the card
        count = gpu[0].get("Count", 0) if partition >= 1 else gpu[0].get("LogicalGpuCount", 0)
        facts[name] = {
            "vcpus": raw["VCpuInfo"]["DefaultVCpus"],
            "memoryMiB": raw["MemoryInfo"]["SizeInMiB"],
            "gpuModel": gpu[0].get("Name"),
            "gpus": count,
            "gpuMemoryMiB": (gpu[0].get("MemoryInfo") or {}).get("SizeInMiB", 0),
        }
        if partition < 1:
            facts[name]["gpuPartition"] = partition
        if count > 1:
            facts[name]["interconnect"] = INTERCONNECT[name.split(".")[0]]
    offerings = {}
    for path in sorted((resources / "instance_type_offerings" / "region").glob("*.json.gz")):
        region = path.name.removesuffix(".json.gz")
        offered = {row["InstanceType"] for row in json.load(gzip.open(path))}
        offerings[region] = [name for name in SUPPORTED if name in offered]
    # Commercial regions: botocore's endpoint table of the `aws` partition. A region there that moto's
    # offerings snapshot does not have is known, with its offerings unknown (validate says so).
    endpoints = json.loads((pathlib.Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    partition = next(p for p in endpoints["partitions"] if p["partition"] == "aws")
    document = {
        "source": f"moto {metadata.version('moto')} ec2/resources (snapshots of EC2 DescribeInstanceTypes "
        "and DescribeInstanceTypeOfferings by region)",
        "retrievedOn": "2026-11-24",
        "instanceTypes": facts,
        "offeringsByRegion": offerings,
        "regions": {
            "source": f"botocore {metadata.version('botocore')} data/endpoints.json, partition aws (commercial regions)",
            "retrievedOn": "2026-11-30",
            "codes": sorted(partition["regions"]),
        },
    }
    OUT.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(facts)} instance types, {len(offerings)} regions with offerings, "
          f"{len(document['regions']['codes'])} regions")


if __name__ == "__main__":
    main()
