"""The shipped prod-global carries its own peak: each region's maxReplicas is the replicas its peak needs (the
estimate's capacity section) and maxNodes one more for a rollout's surge pod, as the stack file's comments say. It
shipped with caps of 17/16, 13/12 and 7/6 nodes/replicas, so a real `pulumi up` queued 12 %, 9 % and 2 % of the
month's tokens (warning fleet-capped) and the estimate compared a grown fleet ($241,777.39) with line items summing
to $219,434.19. The capped behaviour keeps its tests on a copy (tests/builders.py: capped_global_root)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.main import app
from tests.builders import cache_dir  # noqa: F401  (autouse: one inventory cache for the module)
from tests.builders import CAPPED_GLOBAL_CAPS, capped_global_root
from tests.paths import ROOT

AS_OF = ["--as-of", "2026-11-24"]
runner = CliRunner()


def estimate(root, stack: str = "prod-global") -> dict:
    result = runner.invoke(app, ["estimate", stack, "--format", "json", *AS_OF], env={"TRADEOFF_INFRA_ROOT": str(root)})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["stacks"][0]


def test_prod_global_carries_its_peak_with_one_surge_node_per_region():
    doc = estimate(ROOT)
    assert "fleet-capped" not in doc["warningIds"], doc["warnings"]
    for pool in doc["capacity"]:
        assert pool["queuedShare"] == 0, pool
        assert pool["maxReplicas"] == pool["replicasAtPeak"], pool
        assert pool["maxNodes"] == pool["maxReplicas"] + 1, pool
    # one cost: the configured line items are what the verdict and the budget compare
    assert round(sum(li["monthlyUsd"] for li in doc["lineItems"]), 2) == doc["selfHosted"]["comparedMonthlyUsd"]
    assert doc["selfHosted"]["comparedBasis"] == "self-hosted expected total"
    assert doc["verdict"]["choice"] == "self-host"
    assert doc["verdict"]["decidedBy"] == "constraints.dataMayLeaveNetwork"


def test_the_capped_copy_is_capped_where_prod_global_was(tmp_path):
    doc = estimate(capped_global_root(tmp_path))
    assert "fleet-capped" in doc["warningIds"]
    caps = {p["region"]: (p["maxNodes"], p["maxReplicas"]) for p in doc["capacity"]}
    assert caps == CAPPED_GLOBAL_CAPS
    assert all(p["queuedShare"] > 0 and p["replicasAtPeak"] > p["maxReplicas"] for p in doc["capacity"]), doc["capacity"]
    assert round(sum(li["monthlyUsd"] for li in doc["lineItems"]), 2) < doc["selfHosted"]["comparedMonthlyUsd"]
