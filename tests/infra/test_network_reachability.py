"""Issue 9.1/9.2 and 10.2: every region its own VPC range, a Kubernetes API someone can reach on the
first `pulumi up`, allowed CIDRs that match what the load balancer sees behind Global Accelerator,
an internal-ALB option, and no plain-HTTP, unpinned global endpoint unless the stack accepts it."""

from __future__ import annotations

import copy
import ipaddress

import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app
from cli.reachability import reachability_lines
from infra.spec import (
    SpecError,
    default_vpc_cidr,
    parse_stack_config,
    project_config,
    reaches_internet_clients,
    transit_routes,
    warnings,
)
from tests.paths import ROOT

runner = CliRunner()
TGW = "tgw-0123456789abcdef{}"


def shipped(name: str) -> dict:
    return project_config(yaml.safe_load((ROOT / "stacks" / f"Pulumi.{name}.yaml").read_text()))


def problems_of(config: dict) -> dict[str, str]:
    with pytest.raises(SpecError) as info:
        parse_stack_config(config)
    return {p.path: p.message for p in info.value.problems}


def private_only(config: dict, *, transit: bool) -> dict:
    """The stack with the API's public endpoint off; with `transit`, a Transit Gateway per region."""
    config = copy.deepcopy(config)
    config["cluster"]["publicAccessCidrs"] = []
    config["cluster"]["privateAccessCidrs"] = ["172.16.0.0/12"]
    for i, region in enumerate(config["regions"]):
        region.pop("transitGatewayId", None)
        if transit:
            region["transitGatewayId"] = TGW.format(i)
    return config


def validate_file(tmp_path, config: dict, name: str = "case"):
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": {f"tradeoff-infra:{k}": v for k, v in config.items()}}))
    return runner.invoke(app, ["validate", str(path)], env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": "200"})


# ------------------------------------------------------------------ 9.1 (a) VPC ranges


def test_regions_without_vpc_cidr_get_distinct_ranges():
    config = shipped("prod-us")
    assert all("vpcCidr" not in r for r in config["regions"])
    spec = parse_stack_config(config)
    assert [r.vpc_cidr for r in spec.regions] == ["10.0.0.0/16", "10.1.0.0/16"]


def test_default_ranges_do_not_move_when_a_region_is_appended():
    config = shipped("prod-us")
    before = [r.vpc_cidr for r in parse_stack_config(config).regions]
    extra = copy.deepcopy(config["regions"][0])
    extra["region"] = "us-east-2"
    extra["gpuPools"][0]["instanceType"] = "g6e.xlarge"
    config["regions"].append(extra)
    after = [r.vpc_cidr for r in parse_stack_config(config).regions]
    assert after[:2] == before and after[2] == default_vpc_cidr(2) == "10.2.0.0/16"
    assert default_vpc_cidr(0) == "10.0.0.0/16"  # single-region stacks keep the range they had


def test_overlapping_vpc_cidrs_in_one_stack_are_refused_naming_the_key():
    config = shipped("prod-us")
    config["regions"][0]["vpcCidr"] = "10.4.0.0/16"
    config["regions"][1]["vpcCidr"] = "10.4.128.0/17"
    problems = problems_of(config)
    assert "regions[1].vpcCidr" in problems, problems
    assert "overlaps regions[0].vpcCidr 10.4.0.0/16" in problems["regions[1].vpcCidr"]
    # An explicit range may collide with another region's default too.
    config = shipped("prod-us")
    config["regions"][1]["vpcCidr"] = "10.0.0.0/20"
    assert "regions[1].vpcCidr" in problems_of(config)


def test_validate_exits_2_on_overlapping_vpcs(tmp_path):
    config = shipped("prod-us")
    for region in config["regions"]:
        region["vpcCidr"] = "10.0.0.0/16"  # what every region got before
    result = validate_file(tmp_path, config)
    assert result.exit_code == 2, result.output
    assert "regions[1].vpcCidr" in result.output and "Traceback" not in result.output


def test_vpc_overlapping_private_access_cidrs_is_warned():
    config = shipped("prod-us")
    config["cluster"]["privateAccessCidrs"] = ["10.0.0.0/8"]
    text = " ".join(warnings(parse_stack_config(config)))
    assert "regions[0].vpcCidr 10.0.0.0/16" in text and "regions[1].vpcCidr 10.1.0.0/16" in text
    assert "overlaps cluster.privateAccessCidrs 10.0.0.0/8" in text
    config["cluster"]["privateAccessCidrs"] = ["172.16.0.0/12"]
    assert "privateAccessCidrs" not in " ".join(warnings(parse_stack_config(config)))


# ------------------------------------------------------------------ 9.1 (b) API reachability


def test_private_only_api_without_connectivity_is_refused_naming_the_region_key(tmp_path):
    """The old prod-global: private endpoint, 443 from the VPN, and nothing connecting the VPN to the new VPCs."""
    config = private_only(shipped("prod-global"), transit=False)
    problems = problems_of(config)
    assert {"regions[0].transitGatewayId", "regions[1].transitGatewayId", "regions[2].transitGatewayId"} <= set(problems)
    assert "nobody can reach its Kubernetes API" in problems["regions[0].transitGatewayId"]
    result = validate_file(tmp_path, config)
    assert result.exit_code == 2 and "regions[0].transitGatewayId" in result.output, result.output


def test_one_region_without_a_transit_gateway_is_refused_alone():
    config = private_only(shipped("prod-global"), transit=True)
    config["regions"][1].pop("transitGatewayId")
    assert set(problems_of(config)) == {"regions[1].transitGatewayId"}


def test_public_endpoint_open_only_to_private_ranges_is_refused():
    config = shipped("dev")
    config["cluster"]["publicAccessCidrs"] = ["10.0.0.0/8", "192.168.0.0/16"]
    problems = problems_of(config)
    assert "cluster.publicAccessCidrs" in problems and "public source" in problems["cluster.publicAccessCidrs"]


def test_transit_gateway_needs_ranges_outside_the_vpc():
    config = private_only(shipped("dev"), transit=True)
    config["cluster"]["privateAccessCidrs"] = ["10.0.8.0/24"]  # inside dev's 10.0.0.0/16
    assert "cluster.privateAccessCidrs" in problems_of(config)


def test_bad_transit_gateway_id_names_the_key():
    config = private_only(shipped("dev"), transit=True)
    config["regions"][0]["transitGatewayId"] = "vpc-0123456789abcdef0"
    assert "regions[0].transitGatewayId" in problems_of(config)


def test_transit_routes_skip_ranges_inside_the_vpc_and_ipv6():
    assert transit_routes("10.1.0.0/16", ["172.16.0.0/12", "10.1.4.0/24", "10.0.0.0/8", "fd00::/8"]) == [
        "172.16.0.0/12", "10.0.0.0/8"]


def test_transit_gateway_attachment_and_routes_are_created_before_the_kubernetes_provider():
    from cli.inventory import run_program

    inv = run_program(private_only(shipped("prod-global"), transit=True), "prod-global")
    for i, region in enumerate(inv.spec.regions):
        (attachment,) = inv.of_type("aws:ec2transitgateway/vpcAttachment:VpcAttachment", region.region)
        assert attachment.inputs["transitGatewayId"] == TGW.format(i), attachment.urn
        private = [s for s in inv.of_type("aws:ec2/subnet:Subnet", region.region)
                   if "kubernetes.io/role/internal-elb" in s.inputs["tags"]]
        assert sorted(attachment.inputs["subnetIds"]) == sorted(s.id for s in private), attachment.urn
        tables = [t for t in inv.of_type("aws:ec2/routeTable:RouteTable", region.region) if "-private-rt-" in t.name]
        assert tables and not inv.of_type("aws:ec2/route:Route", region.region)  # inline routes only
        for table in tables:
            assert {"cidrBlock": "172.16.0.0/12", "transitGatewayId": TGW.format(i)} in table.inputs["routes"], table.urn
            assert attachment.urn in table.dependencies, table.urn
        (provider,) = [p for p in inv.of_type("pulumi:providers:kubernetes") if p.region == region.region]
        assert attachment.urn in provider.dependencies and all(t.urn in provider.dependencies for t in tables)
    lines = reachability_lines(inv.resources)
    assert len(lines) == 3 and all("via Transit Gateway" in line and "UNREACHABLE" not in line for line in lines)


def test_an_internal_alb_answers_the_network_behind_the_transit_gateway():
    """A regional internal ALB sits in the edge (public) subnets; its answers to a client behind the Transit
    Gateway leave through those subnets' route table, which therefore needs the same routes as the private
    ones (else they go to the internet gateway and are dropped, and the endpoint answers only inside the VPC)."""
    from cli.inventory import run_program

    config = copy.deepcopy(shipped("dev"))
    config["endpoint"]["loadBalancerScheme"] = "internal"
    config["endpoint"]["allowedCidrs"] = ["172.16.0.0/12"]
    config["cluster"]["privateAccessCidrs"] = ["172.16.0.0/12"]
    config["regions"][0]["transitGatewayId"] = TGW.format(0)
    inv = run_program(config, "dev")
    (alb,) = inv.of_type("aws:lb/loadBalancer:LoadBalancer")
    (attachment,) = inv.of_type("aws:ec2transitgateway/vpcAttachment:VpcAttachment")
    associations = inv.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    tables = {t.id: t for t in inv.of_type("aws:ec2/routeTable:RouteTable")}
    for subnet in alb.inputs["subnets"]:
        (association,) = [a for a in associations if a.inputs["subnetId"] == subnet]
        table = tables[association.inputs["routeTableId"]]
        assert {"cidrBlock": "172.16.0.0/12", "transitGatewayId": TGW.format(0)} in table.inputs["routes"], table.urn
        assert attachment.urn in table.dependencies, table.urn


def test_shipped_prod_global_has_distinct_vpcs_and_a_reachable_api(inventory_of):
    inv = inventory_of("prod-global")
    cidrs = [ipaddress.ip_network(v.inputs["cidrBlock"]) for v in inv.of_type("aws:ec2/vpc:Vpc")]
    assert len(cidrs) == 3 and not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1:]), cidrs
    for cluster in inv.of_type("aws:eks/cluster:Cluster"):
        vpc_config = cluster.inputs["vpcConfig"]
        assert vpc_config["endpointPublicAccess"] is True, cluster.urn
        assert reaches_internet_clients(vpc_config["publicAccessCidrs"]), cluster.urn
    lines = reachability_lines(inv.resources)
    assert len(lines) == 3 and not any("UNREACHABLE" in line for line in lines), lines


def test_inventory_command_prints_vpc_and_api_reachability():
    result = runner.invoke(app, ["inventory", "prod-global"], env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for region, cidr in (("us-east-1", "10.0.0.0/16"), ("eu-central-1", "10.1.0.0/16"), ("ap-northeast-1", "10.2.0.0/16")):
        assert f"{region}: VPC {cidr}; Kubernetes API: public endpoint from 198.51.100.0/24" in result.output


# ------------------------------------------------------------------ 9.2 client IPs behind Global Accelerator


def test_global_endpoint_allowing_only_private_ranges_is_warned():
    config = shipped("prod-us")
    config["endpoint"]["allowedCidrs"] = ["10.0.0.0/8", "172.16.0.0/12"]
    text = " ".join(warnings(parse_stack_config(config)))
    assert "endpoint.allowedCidrs lists only private ranges" in text and "preserves client IP" in text


def test_internet_facing_regional_endpoint_allowing_only_private_ranges_is_warned_internal_is_not():
    config = shipped("dev")
    config["endpoint"]["allowedCidrs"] = ["10.0.0.0/8"]
    assert "endpoint.allowedCidrs lists only private ranges" in " ".join(warnings(parse_stack_config(config)))
    config["endpoint"]["loadBalancerScheme"] = "internal"
    config["cluster"]["privateAccessCidrs"] = ["172.16.0.0/12"]
    config["regions"][0]["transitGatewayId"] = TGW.format(0)
    assert "allowedCidrs" not in " ".join(warnings(parse_stack_config(config)))


def test_documentation_ranges_count_as_internet_egress():
    # RFC 5737 ranges stand in for real egress ranges in the shipped stacks; Python calls them "private".
    assert reaches_internet_clients(["198.51.100.0/24"]) and ipaddress.ip_network("198.51.100.0/24").is_private
    assert not reaches_internet_clients(["10.0.0.0/8", "100.64.0.0/10", "fd00::/8"])
    assert reaches_internet_clients(["0.0.0.0/0"])


def test_shipped_prod_global_lets_its_users_in():
    spec = parse_stack_config(shipped("prod-global"))
    assert reaches_internet_clients(spec.endpoint.allowed_cidrs)
    assert not any("allowedCidrs" in w for w in warnings(spec))


def test_internal_scheme_alb_sits_where_the_network_policy_admits_it(inventory_of):
    """An internal ALB has no public address, and sits in the edge (public) subnets, which hold no pods: the vLLM
    NetworkPolicy admits the ALB by those subnets' ranges, so in the private subnets (the pods' ranges) it
    would either be refused or force the policy to admit every pod."""
    from infra.chart_values import load_balancer_source_cidrs

    inv = inventory_of("prod-global")
    spec = inv.spec
    assert spec.endpoint.load_balancer_scheme == "internal"
    subnets = {s.id: s for s in inv.of_type("aws:ec2/subnet:Subnet")}
    albs = inv.of_type("aws:lb/loadBalancer:LoadBalancer")
    assert len(albs) == 3
    for alb in albs:
        assert alb.inputs["internal"] is True, alb.urn
        sits_in = {subnets[i].inputs["cidrBlock"] for i in alb.inputs["subnets"]}
        region = next(r for r in spec.regions if r.region == alb.region)
        assert sits_in == set(load_balancer_source_cidrs(spec, region)), alb.urn
        assert all("kubernetes.io/role/internal-elb" not in subnets[i].inputs["tags"] for i in alb.inputs["subnets"]), alb.urn
    groups = inv.of_type("aws:globalaccelerator/endpointGroup:EndpointGroup")
    assert len(groups) == 3 and all(g.inputs["endpointConfigurations"][0]["clientIpPreservationEnabled"] for g in groups)


# ------------------------------------------------------------------ 10.2 no hostname on a global stack


def without_hostname(config: dict) -> dict:
    config = copy.deepcopy(config)
    config["endpoint"].pop("hostname")
    config["endpoint"].pop("hostedZoneId")
    return config


def test_global_stack_without_hostname_is_refused(tmp_path):
    config = without_hostname(shipped("prod-us"))
    problems = problems_of(config)
    assert "endpoint.hostname" in problems and "acceptPlainHttpWithoutHostPin" in problems["endpoint.hostname"]
    result = validate_file(tmp_path, config)
    assert result.exit_code == 2 and "endpoint.hostname" in result.output, result.output


def test_single_region_global_stack_without_hostname_is_refused_too():
    config = without_hostname(shipped("prod-us"))
    config["regions"] = config["regions"][:1]
    assert "endpoint.hostname" in problems_of(config)


def test_explicit_opt_out_is_accepted_with_a_warning():
    config = without_hostname(shipped("prod-us"))
    config["endpoint"]["acceptPlainHttpWithoutHostPin"] = True
    spec = parse_stack_config(config)
    text = " ".join(warnings(spec))
    assert "acceptPlainHttpWithoutHostPin is on" in text and "CVE-2026-48710" in text


def test_opt_out_is_a_strict_boolean():
    config = without_hostname(shipped("prod-us"))
    config["endpoint"]["acceptPlainHttpWithoutHostPin"] = "sure"
    assert "endpoint.acceptPlainHttpWithoutHostPin" in problems_of(config)


def test_with_a_hostname_the_api_is_served_over_tls_only(inventory_of):
    inv = inventory_of("prod-us")
    for region in inv.spec.regions:
        listeners = {r.inputs["port"]: r for r in inv.of_type("aws:lb/listener:Listener", region.region)}
        (rule,) = inv.of_type("aws:lb/listenerRule:ListenerRule", region.region)
        assert rule.inputs["listenerArn"] == listeners[443].outputs["arn"], rule.urn
        assert [a["type"] for a in listeners[80].inputs["defaultActions"]] == ["redirect"]
