"""The lean parts of the recording engine answer exactly as the SDK's own mock monitor would.

`cli/inventory.py` answers registrations and invokes without the SDK's serialise/deserialise round
trip, runs monitor calls inline instead of on worker threads, and tunes the garbage collector
(`cli/collector.py`). None of that may change what the program sees or what the inventory holds.
"""

import gc
import threading
import warnings

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.sync_await import _sync_await

from cli import collector, inventory
from infra import program as program_module


def _program(spec, api_key, huggingface_token=None, aws_profile=None):
    """Resources whose fake outputs have every special case: ids, ARNs, nested lists, an input
    echoed back, an output the inputs never set (unknown in a preview), a provider's region."""
    provider = aws.Provider("p", region="eu-central-1")
    opts = pulumi.ResourceOptions(provider=provider)
    zones = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOptions(provider=provider))
    vpc = aws.ec2.Vpc("vpc", cidr_block="10.1.0.0/16", enable_dns_support=True, tags={"a": "b"}, opts=opts)
    subnet = aws.ec2.Subnet("subnet", vpc_id=vpc.id, cidr_block="10.1.0.0/20", availability_zone=zones.names[2], opts=opts)
    cluster = aws.eks.Cluster("eks", role_arn="arn:aws:iam::123456789012:role/x", version="1.35",
                              vpc_config={"subnet_ids": [subnet.id], "endpoint_private_access": True}, opts=opts)
    group = aws.eks.NodeGroup("ng", cluster_name=cluster.name, node_role_arn="arn:aws:iam::123456789012:role/n",
                              subnet_ids=[subnet.id], scaling_config={"min_size": 0, "max_size": 3, "desired_size": 1},
                              opts=opts)
    lb = aws.lb.LoadBalancer("alb", load_balancer_type="application", subnets=[subnet.id], opts=opts)
    for name, resource in {"vpc": vpc, "subnet": subnet, "cluster": cluster, "group": group, "lb": lb}.items():
        cls = type(resource)
        for prop in dir(cls):  # every output property, as the program would read it
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the getters of deprecated properties warn
                out = getattr(resource, prop) if isinstance(getattr(cls, prop, None), property) else None
            if isinstance(out, pulumi.Output):
                pulumi.export(f"{name}.{prop}", out)
    pulumi.export("zones", zones.names)
    pulumi.export("zoneIds", zones.zone_ids)


def _stock_register(self, request):
    """The SDK's own RegisterResource, plus the one thing our mocks need from the monitor: which
    region each AWS provider is in."""
    response = pulumi_mocks.MockMonitor.RegisterResource(self, request)
    if request.type in inventory.AWS_PROVIDER_TYPES:
        self.mocks.provider_regions[response.urn] = rpc.deserialize_properties(request.object)["region"]
    return response


def _stock_invoke(self, request):
    return pulumi_mocks.MockMonitor.Invoke(self, request)


def test_program_sees_the_same_outputs_as_with_the_sdk_monitor(monkeypatch, stack_configs):
    monkeypatch.setattr(program_module, "build", _program)
    lean = inventory.run_program(stack_configs["dev"], "dev")
    with monkeypatch.context() as m:
        m.setattr(inventory._RecordingMonitor, "RegisterResource", _stock_register)
        m.setattr(inventory._RecordingMonitor, "Invoke", _stock_invoke)
        stock = inventory.run_program(stack_configs["dev"], "dev")
    assert stock.resources == [], "the stock path records nothing: it really ran the SDK's monitor"
    assert lean.outputs == stock.outputs
    assert len(lean.outputs) > 100
    assert lean.outputs["cluster.endpoint"].endswith(".eu-central-1.eks.amazonaws.com")
    assert lean.outputs["cluster.vpc_config"]["endpoint_private_access"] is True
    assert lean.outputs["subnet.availability_zone"] == "eu-central-1c"
    assert lean.outputs["group.resources"][0]["autoscaling_groups"][0]["name"].startswith("eks-ng-")
    assert lean.outputs["lb.dns_name"].endswith(".eu-central-1.elb.amazonaws.com")
    assert lean.outputs["vpc.tags"] == {"a": "b"}
    assert lean.outputs["vpc.ipv6_cidr_block"] == inventory.UNKNOWN, "an output nobody set stays unknown"
    assert len(lean.resources) == 6


@pytest.mark.parametrize("values", [
    {"a": None, "b": 1, "c": "x"},
    {"nested": {"keep": None, "list": [1, None, {"k": None}]}, "t": True, "f": 0.5},
    {},
])
def test_struct_matches_the_sdk_serialiser(values):
    assert inventory._struct(values) == _sync_await(rpc.serialize_properties(values, {}))


def test_a_run_starts_no_threads_and_leaves_the_collector_as_it_found_it(stack_configs):
    before = (threading.active_count(), gc.get_threshold(), gc.get_freeze_count(), gc.isenabled())
    inventory.run_program(stack_configs["dev"], "dev")
    assert (threading.active_count(), gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()) == before


def test_fewer_collections_nests_and_restores():
    saved = gc.get_threshold()
    with collector.fewer_collections():
        assert gc.get_threshold() == collector.THRESHOLDS
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with collector.fewer_collections():
            assert gc.get_freeze_count() == frozen, "an inner use neither freezes again nor thaws"
        assert gc.get_threshold() == collector.THRESHOLDS
    assert gc.get_threshold() == saved and gc.get_freeze_count() == 0


class _Component(pulumi.ComponentResource):
    def __init__(self, type_, name, opts=None):
        super().__init__(type_, name, None, opts)


def _aliased_program(spec, api_key, huggingface_token=None, aws_profile=None):
    """Resources with each form of alias; exports the URNs the SDK itself computes for them
    (`collapse_alias_to_urn`, what it sends an engine without alias specs)."""
    from pulumi.runtime.resource import collapse_alias_to_urn

    old, new = _Component("test:index:Old", "old"), _Component("test:index:New", "new")
    forms = {
        "moved": [pulumi.Alias(parent=old)],                                   # another parent, same name
        "moved-by-urn": [pulumi.Alias(parent=old.urn)],                        # the former parent as a URN
        "renamed": [pulumi.Alias(name="before")],                              # same parent, another name
        "was-top-level": [pulumi.Alias(parent=None)],                          # had no parent
        "retyped": [pulumi.Alias(type_="aws:ec2/vpc:Vpc", parent=old)],        # another type and parent
        "plain-urn": ["urn:pulumi:dev::tradeoff-infra::aws:sns/topic:Topic::literal"],
    }
    for name, aliases in forms.items():
        aws.sns.Topic(name, opts=pulumi.ResourceOptions(parent=new, aliases=aliases))
        pulumi.export(name, [collapse_alias_to_urn(a, name, "aws:sns/topic:Topic", new) for a in aliases])


def test_aliases_resolve_to_the_urns_the_sdk_computes(monkeypatch, stack_configs):
    monkeypatch.setattr(program_module, "build", _aliased_program)
    inv = inventory.run_program(stack_configs["dev"], "dev")
    by_name = {r.name: r.urn for r in inv.resources}
    for name, expected in inv.outputs.items():
        assert inv.aliases[by_name[name]] == expected, name
    assert inv.aliases[by_name["moved"]] == [by_name["moved"].replace("test:index:New$", "test:index:Old$")]
    assert by_name["old"] not in inv.aliases and len(inv.aliases) == 6
