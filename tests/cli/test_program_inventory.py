"""The recording-mocks runner itself, driven by a small stand-in program (no dependency on the real one)."""

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest

from cli import inventory
from infra import program as program_module
from infra.spec import SpecError


def _toy_program(spec, api_key, huggingface_token=None, aws_profile=None):
    for region in spec.regions:
        name = region.region
        component = pulumi.ComponentResource("tradeoff-infra:test:Region", name, None)
        provider = aws.Provider(f"{name}-aws", region=name, opts=pulumi.ResourceOptions(parent=component))
        child = pulumi.ResourceOptions(parent=component, provider=provider)
        zones = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOptions(provider=provider))
        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=region.vpc_cidr, opts=child)
        aws.ec2.Subnet(f"{name}-subnet", vpc_id=vpc.id, cidr_block=region.vpc_cidr,
                       availability_zone=zones.names[1], opts=child)
        cluster = aws.eks.Cluster(f"{name}-eks", role_arn="arn:aws:iam::123456789012:role/x",
                                  vpc_config={"subnet_ids": ["subnet-1"]}, opts=child)
        kube = k8s.Provider(f"{name}-k8s", kubeconfig=cluster.endpoint, opts=pulumi.ResourceOptions(parent=component))
        k8s.core.v1.Namespace(f"{name}-ns", metadata={"name": "vllm"}, opts=pulumi.ResourceOptions(parent=component, provider=kube))
        k8s.helm.v3.Chart(f"{name}-chart", k8s.helm.v3.LocalChartOpts(path="charts/x", namespace=f"ns-{name}"),
                          opts=pulumi.ResourceOptions(parent=component, provider=kube))
        pulumi.export(f"endpoint-{name}", cluster.endpoint)
    pulumi.export("apiKey", api_key)


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setattr(program_module, "build", _toy_program)


def _template(opts):
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-helm", "namespace": opts["namespace"]},
             "data": {"path": opts["path"]}}]


def test_records_types_regions_parents_and_outputs(toy, stack_configs):
    inv = inventory.run_program(stack_configs["prod-us"], "prod-us", helm_template=_template)
    subnets = inv.of_type("aws:ec2/subnet:Subnet")
    assert {(s.region, s.inputs["availabilityZone"]) for s in subnets} == {("us-east-1", "us-east-1b"), ("us-west-2", "us-west-2b")}
    for r in inv.resources:
        assert r.region in ("us-east-1", "us-west-2"), f"{r.urn} has no region"
    namespace = inv.of_type("kubernetes:core/v1:Namespace", region="us-west-2")[0]
    assert inv.by_urn(namespace.parent).type == "tradeoff-infra:test:Region", namespace.urn
    config_maps = inv.of_type("kubernetes:core/v1:ConfigMap")
    assert sorted(c.region for c in config_maps) == ["us-east-1", "us-west-2"]
    assert config_maps[0].inputs["data"] == {"path": "charts/x"}
    vpc = inv.of_type("aws:ec2/vpc:Vpc", region="us-east-1")[0]
    assert vpc.custom and vpc.inputs["cidrBlock"] == "10.0.0.0/16", vpc.urn
    assert inv.outputs["apiKey"] == "[secret]"
    assert inv.outputs["endpoint-us-east-1"].startswith("https://")
    assert [token for token, _ in inv.invokes].count("kubernetes:helm:template") == 2


def test_reruns_in_one_process_give_the_same_inventory(toy, stack_configs):
    first = inventory.run_program(stack_configs["dev"], "dev")
    second = inventory.run_program(stack_configs["dev"], "dev")
    assert [(r.urn, r.inputs) for r in first.resources] == [(r.urn, r.inputs) for r in second.resources]
    assert first.of_type("kubernetes:core/v1:ConfigMap") == [], "no helm_template answers with no objects"


def test_invalid_config_raises_spec_error_naming_the_key(toy, stack_configs):
    config = dict(stack_configs["dev"], network={"availabilityZones": 7})
    with pytest.raises(SpecError, match="network.availabilityZones"):
        inventory.run_program(config, "dev")


def test_unanswered_invoke_fails_loudly(monkeypatch, stack_configs):
    def program(spec, api_key, huggingface_token=None, aws_profile=None):
        provider = aws.Provider("p", region="us-east-1")
        aws.ec2.get_vpc_output(default=True, opts=pulumi.InvokeOptions(provider=provider))

    monkeypatch.setattr(program_module, "build", program)
    with pytest.raises(Exception, match="getVpc"):
        inventory.run_program(stack_configs["dev"], "dev")


def test_duplicate_urns_are_refused_like_the_engine_does(monkeypatch, stack_configs):
    def program(spec, api_key, huggingface_token=None, aws_profile=None):
        for region in ("us-east-1", "us-west-2"):
            component = pulumi.ComponentResource("tradeoff-infra:test:Region", region, None)
            # Same child name under two same-typed parents: the URNs collide (parent names are not in a URN).
            aws.Provider("aws", region=region, opts=pulumi.ResourceOptions(parent=component))

    monkeypatch.setattr(program_module, "build", program)
    with pytest.raises(Exception, match="duplicate resource URN"):
        inventory.run_program(stack_configs["dev"], "dev")

    # A failed run leaves nothing behind that breaks the next one.
    monkeypatch.setattr(program_module, "build", _toy_program)
    assert inventory.run_program(stack_configs["dev"], "dev").of_type("aws:ec2/vpc:Vpc")


def test_secret_config_keys_reach_the_program_as_secrets(monkeypatch, stack_configs):
    seen = {}

    def program(spec, api_key, huggingface_token=None, aws_profile=None):
        seen["api_key"], seen["hf"] = api_key, huggingface_token
        seen["model"] = pulumi.Config("tradeoff-infra").require_object("model")["name"]
        pulumi.export("key", api_key)

    monkeypatch.setattr(program_module, "build", program)
    inv = inventory.run_program(dict(stack_configs["dev"], vllmApiKey="k-123", huggingfaceToken="hf_abc"), "dev")
    assert inv.outputs == {"key": "[secret]"}
    assert isinstance(seen["hf"], pulumi.Output) and isinstance(seen["api_key"], pulumi.Output)
    assert seen["model"] == "llama-3.1-8b-instruct", "pulumi.Config sees the stack's config too"
    inventory.run_program(stack_configs["dev"], "dev")
    assert seen["hf"] is None, "no token in the config: the program gets None"


def test_program_log_messages_are_kept_not_printed(stack_configs, capfd):
    # The shipped stacks serve gated meta-llama weights and set no token: the program warns.
    inv = inventory.run_program(stack_configs["dev"], "dev")
    assert any(m.startswith("warning: ") and "huggingfaceToken" in m for m in inv.messages), inv.messages
    assert "huggingfaceToken" not in capfd.readouterr().err
