"""docs/recommend.md shows `recommend` runs of the shipped stacks: the figure each prints for the stack's own fleet is
that stack's estimate, which its golden holds, so a change that moves a golden total moves the page with it."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import STACK_NAMES
from tests.paths import ROOT

PAGE = (ROOT / "docs" / "recommend.md").read_text()


def _sections() -> dict[str, str]:
    parts = re.split(r"^### (\S+)\n", PAGE, flags=re.M)
    return {name: body for name, body in zip(parts[1::2], parts[2::2]) if name in STACK_NAMES}


@pytest.mark.parametrize("stack", sorted(_sections()))
def test_the_stacks_own_fleet_in_each_example_is_its_golden_estimate(stack):
    golden = json.loads((ROOT / "tests" / "golden" / f"{stack}.json").read_text())
    own = (golden.get("hybrid") or {}).get("monthlyUsd", {}).get("expected") or golden["selfHosted"]["comparedMonthlyUsd"]
    shown = re.findall(r"the stack's own fleet: \$([\d,]+)/month", _sections()[stack])
    assert shown, stack
    assert {int(s.replace(",", "")) for s in shown} == {round(own)}, (stack, shown, own)


def test_every_shipped_stack_with_an_example_is_checked():
    assert {"dev", "prod-us", "prod-global", "hybrid"} <= set(_sections())
