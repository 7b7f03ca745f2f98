"""`inventory` prints the parent/child tree like `pulumi preview`, ending `+ N to create` (issue 13 item 8)."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from cli.inventory_tree import summary, tree_rows
from cli.main import app
from cli.planned import PlannedResource
from tests.builders import cache_dir  # noqa: F401  (autouse: one inventory cache for the module)

STACK = "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev"


def res(name, parent, custom=True, type_="aws:ec2/vpc:Vpc"):
    return PlannedResource(urn=f"urn:{name}", type=type_, name=name, inputs={}, custom=custom, region="us-east-1",
                           parent=parent)


def test_children_follow_their_parent_with_tree_prefixes():
    region = res("use1", STACK, custom=False, type_="t:region:R")
    items = [res("b-vpc", "urn:use1"), region, res("a-net", "urn:use1", custom=False, type_="t:net:N"),
             res("subnet", "urn:a-net"), res("ga", STACK)]
    rows = [(prefix, r.name) for prefix, r in tree_rows(items)]
    assert rows == [("├─ ", "ga"), ("└─ ", "use1"), ("   ├─ ", "a-net"), ("   │  └─ ", "subnet"), ("   └─ ", "b-vpc")]
    assert summary(items) == "Resources:\n    + 5 to create (3 cloud resources, 2 components)"


def test_a_parent_cycle_still_lists_every_resource():
    items = [res("a", "urn:b"), res("b", "urn:a"), res("c", None)]
    assert sorted(r.name for _, r in tree_rows(items)) == ["a", "b", "c"]


def test_inventory_table_is_a_tree_with_a_create_summary():
    result = CliRunner().invoke(app, ["inventory", "dev"], env={"COLUMNS": "200"})  # wide: no type folded
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "pulumi:pulumi:Stack" in out and "└─ tradeoff-infra:region:RegionalDeployment" in out
    assert "│  ├─ " in out
    assert re.search(r"Resources:\n    \+ \d+ to create \(\d+ cloud resources, \d+ components\)", out)
