"""The pin drives the vLLM Deployment: chart values, rendered chart and the program under mocks, per region."""

from __future__ import annotations

import pathlib
import shutil

import yaml
from typer.testing import CliRunner

from cli.main import app
from infra import chart_values
from infra.chart_values import vllm_values
from infra.pins import IMAGE_RE
from infra.spec import load_stack_file, project_config
from tests import chart_render
from tests.conftest import helm_template
from tests.paths import ROOT

CANARY_REVISION = "b" * 40
CANARY_IMAGE = "vllm/vllm-openai:v0.11.1@sha256:" + "a" * 64
CANARY_DIGEST = "sha256:" + "a" * 64


def model(*args: str) -> None:
    result = CliRunner().invoke(app, ["model", *args], env={"TRADEOFF_INFRA_NOW": "2026-11-24T03:00:00Z"})
    assert result.exit_code == 0, f"model {' '.join(args)}: {result.output}"


def copy_of(tmp_path: pathlib.Path, stack: str) -> pathlib.Path:
    path = tmp_path / f"Pulumi.{stack}.yaml"
    shutil.copy(ROOT / "stacks" / f"Pulumi.{stack}.yaml", path)
    return path


def values_by_region(path: pathlib.Path) -> dict[str, dict]:
    spec = load_stack_file(path)
    return {
        r.region: vllm_values(spec, r, prometheus_url=chart_render.PROMETHEUS_URL,
                              gpu_hourly_price_usd=chart_render.GPU_NODE_PRICE_USD,
                              weights_mirror=chart_render.mirror_outputs(r))
        for r in spec.regions
    }


def test_chart_values_follow_the_pin_per_region_and_rollback_restores_them(tmp_path):
    path = copy_of(tmp_path, "prod-global")
    original = values_by_region(path)
    shipped = IMAGE_RE.match(load_stack_file(path).model.image)
    shipped_digest, shipped_tag = shipped.group("digest"), shipped.group("tag")

    model("pin", str(path), "--region", "eu-central-1", "--revision", CANARY_REVISION, "--image", CANARY_IMAGE)
    canary = values_by_region(path)
    for region, values in canary.items():
        expected = (CANARY_REVISION, CANARY_DIGEST, "v0.11.1") if region == "eu-central-1" else (
            original[region]["model"]["revision"], shipped_digest, shipped_tag)
        got = (values["model"]["revision"], values["image"]["digest"], values["image"]["tag"])
        assert got == expected, f"{region}: chart values {got} do not follow the pin {expected}"
    assert canary["us-east-1"] == original["us-east-1"], "a canary in one region must not touch the others"

    model("rollback", str(path), "--region", "eu-central-1")
    assert values_by_region(path) == original, "after the rollback every region's chart values must be the original ones"


def test_new_pin_renders_a_rolling_update_without_unavailable_replicas(tmp_path):
    path = copy_of(tmp_path, "prod-us")
    before = chart_render.one(chart_render.render(values_by_region(path)["us-west-2"]), "Deployment")
    model("pin", str(path), "--region", "us-west-2", "--revision", CANARY_REVISION, "--image", CANARY_IMAGE)
    after = chart_render.one(chart_render.render(values_by_region(path)["us-west-2"]), "Deployment")
    name = after["metadata"]["name"]
    strategy = after["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate", f"Deployment {name}: {strategy}"
    # Surge first while the pools have room; in place, one at a time, when maxReplicas can fill them (chart_values).
    spec = load_stack_file(path)
    region = next(r for r in spec.regions if r.region == "us-west-2")
    assert strategy["rollingUpdate"] == chart_values.rolling_update(spec, region), f"Deployment {name}: {strategy}"
    assert sum(strategy["rollingUpdate"].values()) == 1, f"Deployment {name} replaces one replica at a time"
    container = after["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].endswith("@" + CANARY_DIGEST), f"Deployment {name} image {container['image']}"
    assert f"--revision={CANARY_REVISION}" in container["args"], f"Deployment {name} args {container['args']}"
    # The pod template changes, so Kubernetes starts a new ReplicaSet: the rollout (and the rollback) is rolling.
    assert after["spec"]["template"] != before["spec"]["template"]
    assert after["spec"]["selector"] == before["spec"]["selector"], "a pin must not change the selector (that would replace the Deployment)"


def deployments(inventory) -> dict[str, tuple[str | None, str, list[str], dict]]:
    out = {}
    for r in inventory.of_type("kubernetes:apps/v1:Deployment"):
        if not r.name.endswith("-vllm"):
            continue
        container = r.inputs["spec"]["template"]["spec"]["containers"][0]
        revision = [a for a in container["args"] if a.startswith("--revision=")]
        out[r.name] = (r.region, container["image"], revision, r.inputs["spec"]["strategy"])
    return out


def test_program_under_mocks_deploys_the_pin_of_each_region(tmp_path, inventory_of):
    from cli.inventory import run_program

    stack = "prod-us"
    path = copy_of(tmp_path, stack)
    model("pin", str(path), "--region", "us-west-2", "--revision", CANARY_REVISION, "--image", CANARY_IMAGE)
    config = project_config(yaml.safe_load(path.read_text()))
    canary = deployments(run_program(config, stack, helm_template=helm_template))
    shipped = deployments(inventory_of(stack))
    assert set(canary) == set(shipped) and len(canary) == 2, f"vLLM Deployments: {sorted(canary)}"
    for name, (region, image, revision, strategy) in canary.items():
        if region == "us-west-2":
            assert image.endswith("@" + CANARY_DIGEST), f"{name}: image {image} is not the canary pin"
            assert revision == [f"--revision={CANARY_REVISION}"], f"{name}: {revision}"
        else:
            assert (region, image, revision) == shipped[name][:3], f"{name}: the canary leaked into {region}"
        assert sum(strategy["rollingUpdate"].values()) == 1, f"{name}: one replica at a time: {strategy}"

    # The rollback half: the chart-values test above shows a rollback restores every region's values exactly.
