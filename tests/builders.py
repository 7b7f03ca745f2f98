"""Builders and fixtures several test modules share (one module: no test module imports another)."""

from __future__ import annotations

import copy
import json
import os
import pathlib
import re
import shutil
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser

import pytest

from infra.spec import parse_stack_config
from tests.paths import DATA, ROOT

# A model pin that passes the spec's checks and matches no shipped stack.
REVISION = "0" * 40
IMAGE = "vllm/vllm-openai:v0.11.0@sha256:" + "a" * 64

# The day the estimate tests price on (catalog prices are dated; a fixed day keeps results stable).
AS_OF = date(2026, 11, 24)


@dataclass
class Res:
    """A recorded resource stand-in: what the estimate's mapping reads of an inventory record."""

    type: str
    name: str
    inputs: dict = field(default_factory=dict)
    region: str | None = "us-east-1"
    parent: str | None = "urn:parent"

    @property
    def urn(self) -> str:
        return f"urn:pulumi:test::tradeoff-infra::{self.type}::{self.name}"


def spec_of(**over):
    """A one-region, one-pool stack spec; keyword arguments replace its region, instance, capacity, traffic..."""
    config = {
        "model": {"name": "m", "source": "meta-llama/Llama-3.1-8B-Instruct", "revision": REVISION, "image": IMAGE,
                  **({"weightsMirror": over.pop("weights_mirror")} if "weights_mirror" in over else {})},
        "regions": [{"region": over.pop("region", "us-east-1"), "gpuPools": [
            {"name": "l40s", "instanceType": over.pop("instance", "g6e.xlarge"), "minNodes": 1, "maxNodes": 4,
             "capacityType": over.pop("capacity", "on-demand")}]}],
        "endpoint": {"mode": "regional"},
        "autoscaling": {"minReplicas": 1, "maxReplicas": 4},
        "traffic": {"requestsPerMonth": over.pop("requests", 5_000_000),
                    "inputTokensPerRequest": over.pop("input_tokens", 600),
                    "outputTokensPerRequest": over.pop("output_tokens", 250),
                    "peakToAverage": over.pop("peak_to_average", 2)},
        "operations": over.pop("operations", {"engineerFte": 0.5, "loadedMonthlyCostUsd": 16000, "setupMonths": 2,
                                              "amortisationMonths": 24}),
        "constraints": over.pop("constraints", {}),
        "budget": {"monthlyUsd": 10000},
        "cluster": {"publicAccessCidrs": ["203.0.113.0/24"],  # someone must reach the Kubernetes API
                    "adminPrincipalArns": ["arn:aws:iam::111122223333:role/ops"]},  # and administer it
    }
    if "gateway" in over:  # a hybrid stack (cli/estimate/hybrid.py): its routes' offers are passed to the estimate
        config["gateway"] = over.pop("gateway")
        config["apiComparison"] = over.pop("api_comparison")
    assert not over, over
    return parse_stack_config(config)


def resources(region="us-east-1", instance="g6e.xlarge", capacity="ON_DEMAND", version="1.34"):
    """The priced resources of one region as the program records them: cluster, GPU and system pools, NAT, ALB."""
    return [
        Res("aws:eks/cluster:Cluster", "eks", {"version": version}, region=region),
        Res("aws:eks/nodeGroup:NodeGroup", "gpu-ng", {
            "instanceTypes": [instance], "capacityType": capacity, "diskSize": 100.0,
            "scalingConfig": {"minSize": 1.0, "desiredSize": 1.0, "maxSize": 4.0},
            "labels": {"tradeoff-infra.io/workload": "llm-inference", "tradeoff-infra.io/gpu-pool": "l40s"}}, region=region),
        Res("aws:eks/nodeGroup:NodeGroup", "sys-ng", {
            "instanceTypes": ["m6i.large"], "diskSize": 50.0,
            "scalingConfig": {"minSize": 2.0, "desiredSize": 2.0, "maxSize": 2.0},
            "labels": {"tradeoff-infra.io/workload": "system"}}, region=region),
        Res("aws:ec2/natGateway:NatGateway", "nat", {}, region=region),
        Res("aws:ec2/eip:Eip", "nat-eip", {}, region=region),
        Res("aws:lb/loadBalancer:LoadBalancer", "alb", {"loadBalancerType": "application", "subnets": ["a", "b"]},
            region=region),
        Res("aws:iam/role:Role", "role", {}, region=region),
    ]


def run_estimate(spec, res=None, offers=None, **kw):
    """`spec` estimated on `res` (default: `resources()`) with the shipped catalog, on AS_OF unless `as_of=`."""
    from cli import estimate as est
    from infra.price_catalog import default_catalog

    return est.estimate("t", "t.yaml", spec, res if res is not None else resources(), default_catalog(),
                        offers or [], as_of=kw.pop("as_of", AS_OF), api_source="test", **kw)


@pytest.fixture()
def project(tmp_path, monkeypatch) -> pathlib.Path:
    """A copy of the project's stacks in a temporary root, with a fixed clock."""
    from cli.pins import edits

    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    monkeypatch.setenv("TRADEOFF_INFRA_ROOT", str(tmp_path))
    monkeypatch.setenv(edits.NOW_ENV, "2026-11-24T03:00:00Z")
    return tmp_path


# The caps prod-global shipped with before it was sized for its own peak (maxNodes, maxReplicas per region): a fleet
# that cannot carry its peak (warning fleet-capped), so the estimate compares the fleet grown for the traffic and shows
# the configured fleet's total beside it, labelled.
CAPPED_GLOBAL_CAPS = {"us-east-1": (17, 16), "eu-central-1": (13, 12), "ap-northeast-1": (7, 6)}


def capped_global_root(root: pathlib.Path) -> pathlib.Path:
    """`root` made a project root holding the shipped stacks, with prod-global's pools and autoscaling set back to
    CAPPED_GLOBAL_CAPS: a multi-region stack whose configured fleet and compared cost differ. Returns `root`."""
    import yaml

    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", root / "stacks", dirs_exist_ok=True)
    path = root / "stacks" / "Pulumi.prod-global.yaml"
    doc = yaml.safe_load(path.read_text())
    regions = doc["config"]["tradeoff-infra:regions"]
    assert [r["region"] for r in regions] == list(CAPPED_GLOBAL_CAPS), regions
    for region in regions:
        max_nodes, max_replicas = CAPPED_GLOBAL_CAPS[region["region"]]
        (pool,) = region["gpuPools"]
        pool["maxNodes"] = max_nodes
        region["autoscaling"]["maxReplicas"] = max_replicas
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


@pytest.fixture(scope="module", autouse=True)
def cache_dir(tmp_path_factory):
    """One inventory cache for the module: each stack's program runs once. Autouse in every module that imports it."""
    path = tmp_path_factory.mktemp("cache")
    old = os.environ.get("TRADEOFF_INFRA_CACHE_DIR")
    os.environ["TRADEOFF_INFRA_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        del os.environ["TRADEOFF_INFRA_CACHE_DIR"]
    else:
        os.environ["TRADEOFF_INFRA_CACHE_DIR"] = old


# ---------------------------------------------------------------- the entry point as `pulumi up` runs it


class NoResources:
    """Mocks for a run that must stop before registering anything."""

    def new_resource(self, args):
        raise AssertionError(f"{args.name}: the program must stop before creating resources")

    def call(self, args):
        return {}


def run_entry_point(config: dict, *, preview: bool):
    """Run infra/__main__.py as `pulumi up` (preview=False) or a preview would, with `config` (the `tradeoff-infra:`
    keys, secrets included) and mocks that refuse every resource."""
    import contextvars
    import runpy

    import pulumi

    from cli.inventory import ENTRY_POINT
    from infra.spec import NAMESPACE, SECRET_KEYS

    def run():
        pulumi.runtime.set_all_config(
            {f"{NAMESPACE}{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()},
            [f"{NAMESPACE}{k}" for k in SECRET_KEYS],
        )
        pulumi.runtime.set_mocks(NoResources(), project="tradeoff-infra", stack="prod-us", preview=preview)
        runpy.run_path(str(ENTRY_POINT), run_name="__main__")

    return contextvars.copy_context().run(run)


# ---------------------------------------------------------------- CRD schemas

TARGET_GROUP_BINDING_CRD_FILE = DATA / "crds" / "targetgroupbindings.elbv2.k8s.aws.json"
"""The TargetGroupBinding CRD of the pinned load balancer controller chart (its source inside)."""


def strict_crd_schema(schema: dict) -> dict:
    """The CRD schema with unknown fields refused wherever it lists the fields (structural schemas prune them)."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node \
                    and not node.get("x-kubernetes-preserve-unknown-fields"):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


# ---------------------------------------------------------------- metric names the exporters export

PROMQL_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
                   "offset", "NaN", "Inf", "nan", "inf"}


def exported_metrics() -> set[str]:
    data = json.loads((DATA / "exported_metrics.json").read_text())
    names = set()
    for exporter in data["exporters"].values():
        assert exporter["source"] and exporter["retrievedOn"], "every metric list carries its source and date"
        names |= set(exporter.get("gauges", [])) | set(exporter.get("counters", []))
        for histogram in exporter.get("histograms", []):
            names |= {f"{histogram}_bucket", f"{histogram}_sum", f"{histogram}_count"}
    return names


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (functions, keywords, labels, numbers and $variables removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    text = re.sub(r"\$\{?\w+\}?", " ", text)  # Grafana variables
    text = re.sub(r"(?<![\w:])\d+(\.\d+)?([eE][+-]?\d+)?", " ", text)  # numbers
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        following = text[match.end():].lstrip()
        if following.startswith("(") or match[0] in PROMQL_KEYWORDS:
            continue
        names.add(match[0])
    return names


# ---------------------------------------------------------------- an HTML report's visible text


class _VisibleText(HTMLParser):
    """The body's visible text, one line per block element (h1-h3, p, li, tr; style, svg and head skipped)."""

    BLOCKS = {"h1", "h2", "h3", "p", "li", "tr", "table", "ul", "section", "div"}

    def __init__(self):
        super().__init__()
        self.lines, self.current, self.skip, self.in_body = [], [], 0, False

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.in_body = True
        if tag in ("style", "svg", "head", "title"):
            self.skip += 1
        if tag in self.BLOCKS:
            self.flush()
        if tag in ("td", "th"):
            self.current.append(" ")

    def handle_endtag(self, tag):
        if tag in ("style", "svg", "head", "title"):
            self.skip -= 1
        if tag in self.BLOCKS:
            self.flush()

    def handle_data(self, data):
        if self.in_body and not self.skip:
            self.current.append(data)

    def flush(self):
        text = " ".join("".join(self.current).split())
        if text:
            self.lines.append(text)
        self.current = []


def visible_lines(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    parser.flush()
    return parser.lines
