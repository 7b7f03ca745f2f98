"""Golden JSON per shipped stack: `estimate STACK --format json` against tests/golden/<stack>.json.

A change to the program, the catalog, the capacity model or the costing shows up here as a diff.
Regenerate after a deliberate change with `UPDATE_GOLDENS=1 .venv/bin/pytest tests/cli/test_estimate_golden.py`
and review the diff in the commit. Volatile fields (the date priced, the catalog's age, package
versions in source strings) are kept out; the date is fixed with --as-of.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.conftest import STACK_NAMES
from tests.goldens import check_golden
from tests.paths import GOLDEN

AS_OF = "2026-11-24"
VOLATILE = {"asOf", "apiPrices"}
VOLATILE_CATALOG = {"ageDays", "stale"}


def stable(doc: dict) -> dict:
    # the chart's points are the totals at other volumes (tests/cli/test_render_command.py draws them from a saved JSON)
    out = {k: v for k, v in doc.items() if k not in VOLATILE | {"chart"}}
    out["priceCatalog"] = {k: v for k, v in doc["priceCatalog"].items() if k not in VOLATILE_CATALOG}
    out["api"] = [{k: v for k, v in offer.items() if k != "source"} for offer in doc["api"]]
    kept = [i for i, w in enumerate(doc["warnings"]) if "price catalog is" not in w]
    out["warnings"] = [doc["warnings"][i] for i in kept]
    out["warningIds"] = [doc["warningIds"][i] for i in kept]
    return out


@pytest.fixture(scope="module")
def estimates(tmp_path_factory):
    env = {"TRADEOFF_INFRA_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}
    result = CliRunner().invoke(app, ["estimate", "--all", "--format", "json", "--as-of", AS_OF], env=env)
    assert result.exit_code == 0, result.output
    return {s["stack"]: stable(s) for s in json.loads(result.output)["stacks"]}


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_golden(stack, estimates):
    path = GOLDEN / f"{stack}.json"
    actual = json.dumps(estimates[stack], indent=1, sort_keys=True) + "\n"
    check_golden(path, actual, f"estimate {stack}", __file__)
