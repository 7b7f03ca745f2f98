"""The calibration file `actuals --write-calibration FILE` writes and `estimate --calibration FILE` reads.

    {"calibration": 1, "stack": "dev", "since": "...", "until": "...", "source": "...",
     "pools": [{"region": "us-east-1", "pool": "l4", "outputTokensPerSecondPerReplica": 41.2, ...}]}

Each entry replaces the capacity model's prediction for its pool exactly as the stack file's own
`measuredOutputTokensPerSecond` + `measuredSource` do (`cli/capacity.py`): the estimate shows the pool's throughput
as measured, with the file and window as its source. A file that is not this shape is bad input naming the key.
"""

from __future__ import annotations

import difflib
import json
import math
import pathlib

from infra import files
from infra.spec import StackSpec

VERSION = 1
MAX_BYTES = files.MIB
# The spec's bound on measuredOutputTokensPerSecond (infra/spec/models.py GpuPoolSpec).
MAX_TOKENS_PER_SECOND = 10_000_000
TOP_KEYS = ("calibration", "stack", "since", "until", "source", "pools")
POOL_KEYS = ("region", "pool", "instanceType", "outputTokensPerSecondPerReplica", "outputTokens", "replicaHours")


class CalibrationError(ValueError):
    """A calibration file that cannot be used; the message names the file and the key."""


def calibration_document(stack: str, since: str, until: str, pools: list[dict]) -> dict:
    return {"calibration": VERSION, "stack": stack, "since": since, "until": until,
            "source": f"tradeoff-infra actuals {stack}: observed load {since} .. {until}", "pools": pools}


def _unknown(where: str, keys: object, known: tuple[str, ...]) -> None:
    for key in keys:  # type: ignore[union-attr]
        if key not in known:
            near = difflib.get_close_matches(str(key), known, n=1)
            raise CalibrationError(f"{where}{key}: unknown key" + (f" (did you mean {near[0]}?)" if near else ""))


def load(path: pathlib.Path) -> dict:
    """The file, checked: version, stack, and every pool entry's region, pool and a positive finite rate."""
    try:
        text = files.read_text(path, MAX_BYTES)
    except files.UnreadableFile as err:
        raise CalibrationError(str(err)) from None
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise CalibrationError(f"{path}: not JSON ({err})") from None
    if not isinstance(doc, dict):
        raise CalibrationError(f"{path}: not a calibration object")
    _unknown(f"{path}: ", doc, TOP_KEYS)
    if doc.get("calibration") != VERSION:
        raise CalibrationError(f"{path}: calibration: must be {VERSION} (the file format's version)")
    for key in ("stack", "source"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise CalibrationError(f"{path}: {key}: must be a non-empty string")
    pools = doc.get("pools")
    if not isinstance(pools, list) or not pools:
        raise CalibrationError(f"{path}: pools: must be a non-empty list")
    seen = set()
    for i, entry in enumerate(pools):
        where = f"{path}: pools[{i}]"
        if not isinstance(entry, dict):
            raise CalibrationError(f"{where}: must be an object")
        _unknown(f"{where}.", entry, POOL_KEYS)
        for key in ("region", "pool"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise CalibrationError(f"{where}.{key}: must be a non-empty string")
        rate = entry.get("outputTokensPerSecondPerReplica")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) \
                or not 0 < rate <= MAX_TOKENS_PER_SECOND:
            raise CalibrationError(f"{where}.outputTokensPerSecondPerReplica: must be a number > 0 and <= "
                                   f"{MAX_TOKENS_PER_SECOND:,} (output tokens/s of one replica), not {rate!r}")
        if (entry["region"], entry["pool"]) in seen:
            raise CalibrationError(f"{where}: region {entry['region']} pool {entry['pool']} given twice")
        seen.add((entry["region"], entry["pool"]))
    return doc


def apply(spec: StackSpec, doc: dict, path: pathlib.Path) -> StackSpec:
    """The spec with each calibrated pool's throughput as measured (a region or pool the stack lacks is bad input)."""
    regions = {r.region: r for r in spec.regions}
    new_regions = list(spec.regions)
    for i, entry in enumerate(doc["pools"]):
        where = f"{path}: pools[{i}]"
        region = regions.get(entry["region"])
        if region is None:
            near = difflib.get_close_matches(entry["region"], list(regions), n=1)
            raise CalibrationError(f"{where}.region: {entry['region']!r} is not a region of stack {doc['stack']}"
                                   + (f" (did you mean {near[0]}?)" if near else ""))
        names = [p.name for p in region.gpu_pools]
        if entry["pool"] not in names:
            near = difflib.get_close_matches(entry["pool"], names, n=1)
            raise CalibrationError(f"{where}.pool: {entry['pool']!r} is not a GPU pool of {entry['region']}"
                                   + (f" (did you mean {near[0]}?)" if near else f" (its pools: {', '.join(names)})"))
        r_i = next(k for k, r in enumerate(new_regions) if r.region == entry["region"])
        current = new_regions[r_i]
        pools = [p.model_copy(update={"measured_output_tokens_per_second": float(entry["outputTokensPerSecondPerReplica"]),
                                      "measured_source": f"calibration {path.name}: {doc['source']}"[:500]})
                 if p.name == entry["pool"] else p for p in current.gpu_pools]
        new_regions[r_i] = current.model_copy(update={"gpu_pools": pools})
    return spec.model_copy(update={"regions": new_regions})
