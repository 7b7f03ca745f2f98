"""The vLLM image the project pins: the release checked in tests/data/vllm_release.json, everywhere.

The shipped stacks pinned vllm/vllm-openai:v0.11.0, whose FastAPI range keeps Starlette below 0.50, so it
carries CVE-2026-48710 (Host-header bypass of the API key, fixed in Starlette 1.0.1). The release record
says what was read at the new release's commit (docs/sources.md "vLLM v0.31.0 image"); these tests hold
the stacks, the chart, README and docs to it, and the chart's flags and metrics to what was checked.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml

from cli import capacity
from infra import hardware
from infra.pins import IMAGE_RE
from infra.sizing import QUANTIZATION_BYTES
from infra.spec import load_stack_file
from tests.paths import DATA, ROOT

RELEASE = json.loads((DATA / "vllm_release.json").read_text())
STACK_FILES = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
# A vllm-openai reference with a real-looking digest, as it appears in prose, YAML or shell examples.
PINNED_REF = re.compile(r"vllm/vllm-openai:(?P<tag>v[0-9][0-9A-Za-z.]*)@sha256:(?P<hex>[0-9a-f]{64})")


def _version(tag: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.match(r"v?(\d+)\.(\d+)\.(\d+)", tag).groups())


def _floor(requirement: str, package: str) -> tuple[int, ...]:
    match = re.fullmatch(rf"{re.escape(package)}\s*>=\s*(\d+\.\d+\.\d+)", requirement.strip())
    assert match, f"{package}: expected '{package} >= X.Y.Z', got {requirement!r}"
    return _version(match.group(1))


def test_every_shipped_stack_and_region_runs_the_checked_release():
    for path in STACK_FILES:
        spec = load_stack_file(path)
        for region in spec.regions:
            image = spec.model_for(region)[2]
            assert image == RELEASE["image"], f"{path.name} {region.region}: {image} is not the checked release"


def test_the_checked_release_requires_a_starlette_without_cve_2026_48710():
    assert IMAGE_RE.match(RELEASE["image"]).group("tag") == RELEASE["release"]
    floor = _floor(RELEASE["requirements"]["starlette"], "starlette")
    assert floor >= _version(RELEASE["starletteFixedIn"]["CVE-2026-48710"]), floor


def test_chart_app_version_is_the_checked_release():
    chart = yaml.safe_load((ROOT / "charts" / "vllm" / "Chart.yaml").read_text())
    assert chart["appVersion"] == RELEASE["release"]


def test_no_tracked_file_shows_another_real_looking_pin():
    """Examples use `<digest>` or a repeated-character placeholder; a real digest must be the checked one."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode()
    stale = []
    for name in filter(None, names.split("\0")):
        path = ROOT / name
        if not path.is_file() or path.suffix not in {".md", ".yaml", ".yml", ".json", ".py", ".sh", ".txt"}:
            continue
        for match in PINNED_REF.finditer(path.read_text(encoding="utf-8", errors="replace")):
            if len(set(match.group("hex"))) == 1:
                continue  # "a" * 64 and the like: a placeholder in a test or an example
            if match.group(0) != RELEASE["image"]:
                stale.append(f"{name}: {match.group(0)}")
    assert not stale, "pins other than the checked release:\n" + "\n".join(stale)


def test_chart_passes_only_flags_checked_at_the_release():
    template = (ROOT / "charts" / "vllm" / "templates" / "deployment.yaml").read_text()
    # The vLLM container's command (an init container, e.g. the weights mirror's wait, may come first).
    commands = re.findall(r"command:\s*\[(.*?)\]", template)
    assert any(RELEASE["checkedAtCommit"]["entrypoint"] in command for command in commands), commands
    flags = set(re.findall(r"^\s*- (--[a-z0-9-]+)=", template, re.MULTILINE))
    assert flags >= {"--model", "--revision", "--served-model-name"}, flags
    unchecked = flags - set(RELEASE["checkedAtCommit"]["flags"])
    assert not unchecked, f"flags the chart passes that were not checked at {RELEASE['release']}: {sorted(unchecked)}"
    assert template.count(f"path: {RELEASE['checkedAtCommit']['healthRoute']}") == 3, "startup, readiness, liveness"
    assert f"name: {RELEASE['checkedAtCommit']['apiKeyEnv']}" in template


def test_quantization_methods_the_spec_allows_exist_at_the_release():
    assert set(QUANTIZATION_BYTES) <= set(RELEASE["checkedAtCommit"]["quantization"])


def test_metric_list_is_the_checked_release():
    exported = json.loads((DATA / "exported_metrics.json").read_text())["exporters"]["vllm"]
    assert exported["version"].split()[0] == RELEASE["release"], exported["version"]


@pytest.mark.parametrize("instance,expected", [
    ("g6.xlarge", 256),      # L4 24 GB
    ("g6e.xlarge", 256),     # L40S 48 GB
    ("p4de.24xlarge", 256),  # A100 80 GB: excluded by name at v0.31.0
    ("p5.48xlarge", 1024),   # H100 80 GB
    ("p5en.48xlarge", 1024),  # H200 141 GB
])
def test_capacity_caps_the_batch_at_the_releases_default_max_num_seqs(instance, expected):
    assert capacity.max_num_seqs(hardware.instance_type(instance)) == expected
