"""Per-resource cost goldens (Infracost keeps one case per resource): for each priced record kind, a tiny
case of planned resources priced against the dev stack, and the line items they give, in
tests/golden/resources/<kind>.json. The whole-stack goldens (test_estimate_golden.py) show a change's sum;
these show which resource's costing moved. Regenerate after a deliberate change with
`UPDATE_GOLDENS=1 .venv/bin/python -m pytest tests/cli/test_resource_cost_goldens.py` and review the diff.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date

import pytest

from cli import estimate as est
from cli.estimate import costs, mapping
from cli.render.contract import line_item_document
from infra.price_catalog import default_catalog
from infra.spec import load_stack_file
from infra.weights_mirror_plan import PURPOSE_TAG_KEY, PURPOSE_TAG_VALUE
from tests.goldens import check_golden
from tests import paths
from tests.paths import ROOT

GOLDEN = paths.GOLDEN / "resources"
STACK = ROOT / "stacks" / "Pulumi.dev.yaml"
AS_OF = date(2026, 11, 24)
REGION = "us-east-1"
REQUESTS = 2_000_000
"""The dev stack's traffic raised so its GPU pool starts nodes every day (start-up, NAT and mirror reads show)."""
GPU_LABELS = {"tradeoff-infra.io/workload": "llm-inference", "tradeoff-infra.io/gpu-pool": "l4"}


@dataclass
class Planned:
    """A planned resource as the mapping reads it (cli.planned.PlannedResource has these fields)."""

    type: str
    name: str
    inputs: dict = field(default_factory=dict)
    region: str | None = REGION
    parent: str | None = "urn:case"

    @property
    def urn(self) -> str:
        return f"urn:pulumi:case::tradeoff-infra::{self.type}::{self.name}"


NAT = Planned("aws:ec2/natGateway:NatGateway", "use1-nat")

CASES: dict[str, list[Planned]] = {
    "ControlPlane": [Planned("aws:eks/cluster:Cluster", "use1-eks", {"version": "1.35"})],
    "NodeGroup": [
        Planned("aws:eks/nodeGroup:NodeGroup", "use1-gpu-l4", {
            "instanceTypes": ["g6.xlarge"], "capacityType": "SPOT", "diskSize": 100.0, "labels": GPU_LABELS,
            "scalingConfig": {"minSize": 0.0, "desiredSize": 1.0, "maxSize": 3.0}}),
        Planned("aws:eks/nodeGroup:NodeGroup", "use1-system", {
            "instanceTypes": ["m6i.large"], "labels": {"tradeoff-infra.io/workload": "system"},
            "scalingConfig": {"minSize": 2.0, "desiredSize": 2.0, "maxSize": 2.0}}),
    ],
    "NatGateway": [NAT],
    "PublicIpv4": [Planned("aws:ec2/eip:Eip", "use1-nat-eip")],
    "ElasticLoadBalancer": [Planned("aws:lb/loadBalancer:LoadBalancer", "use1-alb",
                             {"loadBalancerType": "application", "subnets": ["subnet-a", "subnet-b"]})],
    "GlobalAccelerator": [Planned("aws:globalaccelerator/accelerator:Accelerator", "global-ga")],
    "KmsKey": [Planned("aws:kms/key:Key", "use1-eks-secrets")],
    "MetricAlarm": [Planned("aws:cloudwatch/metricAlarm:MetricAlarm", "use1-alb-5xx", {"period": 60.0})],
    "LogGroup": [Planned("aws:cloudwatch/logGroup:LogGroup", "use1-eks-logs",
                         {"name": "/aws/eks/use1-eks/cluster", "retentionInDays": 14.0})],
    "InterfaceEndpoint": [Planned("aws:ec2/vpcEndpoint:VpcEndpoint", "use1-ecr-api", {
        "vpcEndpointType": "Interface", "serviceName": "com.amazonaws.us-east-1.ecr.api",
        "subnetIds": ["subnet-a", "subnet-b"]})],
    "BlockStorage": [Planned("kubernetes:helm.sh/v3:Release", "use1-monitoring", {
        "chart": "kube-prometheus-stack", "values": {"prometheus": {"prometheusSpec": {"storageSpec": {
            "volumeClaimTemplate": {"spec": {"resources": {"requests": {"storage": "20Gi"}}}}}}}}})],
    # the mirror's fills pass the region's NAT gateway: it is part of the case
    "WeightsMirrorBucket": [Planned("aws:s3/bucket:Bucket", "use1-weights",
                                    {"tags": {PURPOSE_TAG_KEY: PURPOSE_TAG_VALUE}}), NAT],
}


def priced(kind: str) -> dict:
    resources = CASES[kind]
    spec = load_stack_file(STACK)
    spec = spec.model_copy(update={"traffic": spec.traffic.model_copy(update={"requests_per_month": REQUESTS})})
    result = est.estimate("case", "case", spec, resources, default_catalog(), [], as_of=AS_OF, api_source="case")
    names = {r.name for r in resources}
    return {
        "kind": kind,
        "stack": "stacks/Pulumi.dev.yaml",
        "asOf": AS_OF.isoformat(),
        "requestsPerMonth": REQUESTS,
        "resources": [{k: v for k, v in asdict(r).items() if k != "parent"} for r in resources],
        # a record may be named after its resource (`use1-monitoring prometheus`)
        "lineItems": [line_item_document(li) for li in result.line_items
                      if li.resource in names or li.resource.split(" ")[0] in names],
    }


def test_every_priced_record_kind_has_a_case():
    """Adding a priced record kind means adding its case here (and its golden)."""
    assert {m.KIND.__name__ for m in costs.MODULES} == set(CASES)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_resource_golden(kind):
    doc = priced(kind)
    assert any(isinstance(rec, getattr(mapping, kind)) for m in mapping.classify(CASES[kind]) for rec in m.records)
    assert doc["lineItems"], f"the {kind} case prices nothing"
    actual = json.dumps(doc, indent=1, sort_keys=True) + "\n"
    check_golden(GOLDEN / f"{kind}.json", actual, f"priced {kind}", __file__)
