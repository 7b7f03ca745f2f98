"""`endpoint.mode` left out: regional for one region, global-accelerator for several, listed in
`defaultsUsed` with the value it took (issue 13 item 8: one region got a Global Accelerator by default)."""

from __future__ import annotations

import yaml

from cli.estimate.usage import UsageAssumptions, defaults_used
from infra.spec.loading import load_stack_file
from tests.paths import ROOT


def without_mode(tmp_path, name):
    doc = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{name}.yaml").read_text())
    endpoint = doc["config"]["tradeoff-infra:endpoint"]
    del endpoint["mode"]
    endpoint.pop("hostname", None)
    endpoint.pop("hostedZoneId", None)
    endpoint["acceptPlainHttpWithoutHostPin"] = True
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return load_stack_file(path)


def test_one_region_defaults_to_its_regional_load_balancer(tmp_path):
    spec = without_mode(tmp_path, "dev")
    assert len(spec.regions) == 1 and spec.endpoint.mode == "regional"
    assert ("endpoint.mode", "regional") in defaults_used(spec, UsageAssumptions())


def test_several_regions_default_to_global_accelerator(tmp_path):
    spec = without_mode(tmp_path, "prod-us")
    assert len(spec.regions) == 2 and spec.endpoint.mode == "global-accelerator"
    assert ("endpoint.mode", "global-accelerator") in defaults_used(spec, UsageAssumptions())


def test_a_mode_the_stack_sets_is_kept_and_not_a_default():
    spec = load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml")
    assert spec.endpoint.mode == "regional"
    assert all(key != "endpoint.mode" for key, _ in defaults_used(spec, UsageAssumptions()))
