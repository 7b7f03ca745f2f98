"""Rebuild infra/data/aws_instance_facts.json from moto's offline EC2 tables.

moto ships snapshots of EC2 DescribeInstanceTypes and DescribeInstanceTypeOfferings
(per region). We keep only the instance types the project supports, so the program
does not need moto at run time. Run: .venv/bin/python scripts/refresh_hardware_data.py
"""

from __future__ import annotations

import gzip
import json
import pathlib
from importlib import metadata

import moto

SUPPORTED = [
    # GPU instance types a stack may name in gpuPools[].instanceType
    "g5.xlarge", "g5.2xlarge", "g5.4xlarge", "g5.8xlarge", "g5.12xlarge", "g5.48xlarge",
    "g6.xlarge", "g6.2xlarge", "g6.4xlarge", "g6.12xlarge", "g6.48xlarge",
    "g6e.xlarge", "g6e.2xlarge", "g6e.4xlarge", "g6e.8xlarge", "g6e.12xlarge", "g6e.48xlarge",
    "p4d.24xlarge", "p4de.24xlarge", "p5.4xlarge", "p5.48xlarge", "p5en.48xlarge",
    # CPU instance types for the system node group
    "m6i.large", "m6i.xlarge", "m7i.large", "m7i.xlarge",
]

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "infra" / "data" / "aws_instance_facts.json"


def main() -> None:
    resources = pathlib.Path(moto.__file__).parent / "ec2" / "resources"
    types = json.load(gzip.open(resources / "instance_types.json.gz"))
    facts = {}
    for name in SUPPORTED:
        raw = types[name]
        gpu = (raw.get("GpuInfo") or {}).get("Gpus") or [{}]
        facts[name] = {
            "vcpus": raw["VCpuInfo"]["DefaultVCpus"],
            "memoryMiB": raw["MemoryInfo"]["SizeInMiB"],
            "gpuModel": gpu[0].get("Name"),
            "gpus": gpu[0].get("Count", 0),
            "gpuMemoryMiB": (gpu[0].get("MemoryInfo") or {}).get("SizeInMiB", 0),
        }
    offerings = {}
    for path in sorted((resources / "instance_type_offerings" / "region").glob("*.json.gz")):
        region = path.name.removesuffix(".json.gz")
        offered = {row["InstanceType"] for row in json.load(gzip.open(path))}
        offerings[region] = [name for name in SUPPORTED if name in offered]
    document = {
        "source": f"moto {metadata.version('moto')} ec2/resources (snapshots of EC2 DescribeInstanceTypes "
        "and DescribeInstanceTypeOfferings by region)",
        "retrievedOn": "2026-11-24",
        "instanceTypes": facts,
        "offeringsByRegion": offerings,
    }
    OUT.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(facts)} instance types, {len(offerings)} regions")


if __name__ == "__main__":
    main()
