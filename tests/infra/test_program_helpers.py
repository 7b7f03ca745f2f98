"""Pure helpers of the program: names, subnet layout, zone choice, kubeconfig."""

from __future__ import annotations

import ipaddress
import json

import pytest

from infra.components.cluster import kubeconfig
from infra.components.network import pick_zones
from infra.conventions import subnet_cidrs
from infra.naming import cluster_name
from infra.program import CONFIG_KEYS, region_prefix
from infra.spec import StackSpec
from tests.builders import run_entry_point


@pytest.mark.parametrize("region,prefix", [
    ("us-east-1", "use1"), ("us-west-2", "usw2"), ("eu-central-1", "euc1"),
    ("ap-northeast-1", "apne1"), ("ap-southeast-2", "apse2"), ("us-gov-west-1", "usgovw1"),
])
def test_region_prefix(region, prefix):
    assert region_prefix(region) == prefix


def test_region_prefixes_are_unique_over_all_known_regions():
    from infra import hardware

    regions = hardware.aws_regions()
    assert len({region_prefix(r) for r in regions}) == len(regions)


@pytest.mark.parametrize("bad", ["useast1", "us-east", "us-east-x"])
def test_region_prefix_refuses_non_region(bad):
    with pytest.raises(ValueError, match="region code"):
        region_prefix(bad)


def test_config_keys_are_the_spec_top_level_aliases():
    assert set(CONFIG_KEYS) == {f.alias or n for n, f in StackSpec.model_fields.items()}
    assert "apiComparison" in CONFIG_KEYS and "api_comparison" not in CONFIG_KEYS


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "10.20.0.0/20", "172.16.0.0/12"])
@pytest.mark.parametrize("zones", [2, 3])
def test_subnet_layout_fits_the_vpc_without_overlap(cidr, zones):
    private, public = subnet_cidrs(cidr, zones)
    assert len(private) == len(public) == zones
    nets = [ipaddress.ip_network(c) for c in private + public]
    vpc = ipaddress.ip_network(cidr)
    assert all(n.subnet_of(vpc) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])
    # Pods take VPC addresses: private subnets get the bulk of the range.
    assert all(ipaddress.ip_network(p).num_addresses == vpc.num_addresses // 4 for p in private)


def test_pick_zones_skips_zones_without_the_instance_types():
    available = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]
    locations = ["us-east-1a", "us-east-1c", "us-east-1d", "us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]
    offered = ["g6e.xlarge", "g6e.xlarge", "g6e.xlarge", "m6i.large", "m6i.large", "m6i.large", "m6i.large"]
    assert pick_zones(available, locations, ["g6e.xlarge", "m6i.large"], offered, 2) == ["us-east-1a", "us-east-1c"]
    with pytest.raises(ValueError, match="only 3 availability zone"):
        pick_zones(available, locations, ["g6e.xlarge", "m6i.large"], offered, 4)


def test_cluster_name_is_a_valid_eks_name():
    assert cluster_name("prod-us", "use1") == "tradeoff-infra-prod-us-use1"
    assert cluster_name("org/team.stack", "euc1") == "tradeoff-infra-org-team-stack-euc1"
    assert len(cluster_name("x" * 200, "use1")) == 100


def test_kubeconfig_uses_short_lived_aws_tokens():
    config = json.loads(kubeconfig("c1", "https://example.eks", "Q0E=", "eu-central-1"))
    assert config["clusters"][0]["cluster"] == {"server": "https://example.eks", "certificate-authority-data": "Q0E="}
    user = config["users"][0]["user"]
    assert set(user) == {"exec"}, "no static token or certificate in the kubeconfig"
    assert user["exec"]["command"] == "aws"
    assert user["exec"]["args"][:2] == ["eks", "get-token"]
    assert user["exec"]["args"][user["exec"]["args"].index("--cluster-name") + 1] == "c1"
    assert user["exec"]["args"][user["exec"]["args"].index("--region") + 1] == "eu-central-1"
    assert "env" not in user["exec"], "no profile: the default credentials, as the providers"


def test_kubeconfig_takes_the_stacks_aws_profile():
    user = json.loads(kubeconfig("c1", "https://example.eks", "Q0E=", "eu-central-1", "prod-admin"))["users"][0]["user"]
    assert user["exec"]["env"] == [{"name": "AWS_PROFILE", "value": "prod-admin"}]


def test_aws_profile_reaches_every_aws_provider_and_kubeconfig(stack_configs):
    from cli.inventory import run_program

    inv = run_program({**stack_configs["prod-global"], "aws:profile": "prod-admin"}, "prod-global")
    providers = inv.of_type("pulumi:providers:aws")
    assert len(providers) == 4, "three regions and the accelerator's"
    assert {p.inputs.get("profile") for p in providers} == {"prod-admin"}
    for k8s_provider in inv.of_type("pulumi:providers:kubernetes"):
        assert k8s_provider.inputs["kubeconfig"] == "[secret]"  # the program marks it secret
        user = json.loads(inv.secret_inputs[k8s_provider.urn]["kubeconfig"])["users"][0]["user"]
        assert user["exec"]["env"] == [{"name": "AWS_PROFILE", "value": "prod-admin"}], k8s_provider.urn

    plain = run_program(stack_configs["prod-global"], "prod-global")
    assert all("profile" not in p.inputs for p in plain.of_type("pulumi:providers:aws"))


def test_private_only_api_endpoint_needs_private_access_cidrs(stack_configs):
    """publicAccessCidrs: [] with nothing that can reach the private endpoint is refused, naming the key;
    with the CIDRs listed it also needs the Transit Gateway that connects them (tests/infra/test_network_reachability.py)."""
    from infra.spec import SpecError, parse_stack_config

    config = json.loads(json.dumps(stack_configs["prod-global"]))
    config["cluster"]["publicAccessCidrs"] = []
    for i, region in enumerate(config["regions"]):
        region["transitGatewayId"] = f"tgw-0123456789abcdef{i}"
    config["cluster"].pop("privateAccessCidrs")
    with pytest.raises(SpecError) as err:
        parse_stack_config(config)
    assert "cluster.privateAccessCidrs" in str(err.value)
    config["cluster"]["privateAccessCidrs"] = ["172.20.0.0/16"]
    assert parse_stack_config(config).cluster.private_access_cidrs == ["172.20.0.0/16"]
    config["cluster"]["privateAccessCidrs"] = ["172.20.0.1/16"]
    with pytest.raises(SpecError):
        parse_stack_config(config)


def test_gated_weights_without_token_stop_pulumi_up(stack_configs):
    import pulumi

    from infra.spec import parse_stack_config, warnings

    config = {**stack_configs["prod-us"], "vllmApiKey": "test-key"}
    assert config["model"]["source"].startswith("meta-llama/")
    assert any("tradeoff-infra:huggingfaceToken" in w for w in warnings(parse_stack_config(stack_configs["prod-us"])))
    with pytest.raises(pulumi.RunError, match="huggingfaceToken"):
        run_entry_point(config, preview=False)


def test_ungated_weights_need_no_token(stack_configs):
    from infra.spec import parse_stack_config, warnings

    spec = parse_stack_config(stack_configs["prod-us"])
    ungated = spec.model_copy(update={"model": spec.model.model_copy(update={"source": "Qwen/Qwen2.5-7B-Instruct"})})
    assert spec.gated_sources() == ["meta-llama/Llama-3.1-8B-Instruct"]
    assert ungated.gated_sources() == [] and not any("huggingfaceToken" in w for w in warnings(ungated))


def test_gpu_node_labels_and_taint_have_one_source():
    """The node groups, the vLLM chart values and the add-ons' selectors read the same constants."""
    from infra import chart_values
    from infra.components import addons, gpu_pool, monitoring

    assert chart_values.GPU_POOL_LABEL is gpu_pool.GPU_POOL_LABEL
    assert (chart_values.GPU_TAINT_KEY, chart_values.GPU_TAINT_VALUE, chart_values.GPU_TAINT_EFFECT) == gpu_pool.GPU_TAINT
    assert addons.GPU_NODE_SELECTOR is gpu_pool.GPU_NODE_SELECTOR is monitoring.GPU_NODE_SELECTOR
    assert monitoring.GPU_TAINT is addons.GPU_TAINT is gpu_pool.GPU_TAINT


def test_an_aws_role_key_stops_the_program_naming_it(stack_configs):
    from cli.inventory import run_program

    with pytest.raises(Exception, match="aws:assumeRoles is not applied by this program"):
        run_program({**stack_configs["dev"], "aws:assumeRoles": [{"roleArn": "arn:aws:iam::123456789012:role/x"}]}, "dev")


def test_components_import_shared_facts_from_their_home():
    """Issue 12.3: a label, taint, port or policy list is imported from its one home (infra/conventions.py,
    or the component that defines it), never through another component that re-exports it."""
    import ast

    from infra import conventions
    from tests.paths import ROOT

    facts = {name for name in vars(conventions) if not name.startswith("_")}
    offending = []
    for path in sorted((ROOT / "infra" / "components").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("infra.components."):
                source = ROOT / (node.module.replace(".", "/") + ".py")
                source_defined = {t.id for n in ast.parse(source.read_text()).body if isinstance(n, ast.Assign)
                                  for t in n.targets if isinstance(t, ast.Name)}
                offending += [f"{path.name}: {a.name} via {node.module}" for a in node.names
                              if a.name in facts or (a.name.isupper() and a.name not in source_defined)]
        assert "noqa: F401" not in path.read_text(), f"{path.name} re-exports an import"
    assert not offending, offending


def test_pulumi_up_of_a_stack_without_api_access_or_admins_stops_before_creating_anything(stack_configs):
    """A preview may leave the deploy-gate keys out (the estimate prices such a stack); `pulumi up` may not."""
    import pulumi

    config = {**stack_configs["prod-us"], "vllmApiKey": "test-key", "huggingfaceToken": "hf-test"}
    config["cluster"] = {k: v for k, v in config["cluster"].items()
                         if k not in ("publicAccessCidrs", "privateAccessCidrs", "adminPrincipalArns")}
    with pytest.raises(pulumi.RunError, match="cluster.privateAccessCidrs"):
        run_entry_point(config, preview=False)
