"""Advice: what a stack may do but a reviewer should see (security relaxations, drained regions,
canaries, gated weights) and what `estimate` could not price. `validate` prints these; none of them
refuses a stack (that is `infra/spec/checks.py`)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from infra import hardware
from infra.spec.errors import Problem
from infra.spec.models import NON_INTERNET_RANGES, StackSpec, reaches_internet_clients

if TYPE_CHECKING:
    from infra.price_catalog import PriceCatalog

# validate warns when cluster.publicAccessCidrs together reach more public IPv4 addresses than this, a
# /12's worth (about 0.03 % of the public space): office and VPN ranges are /32 to /16; 0.0.0.0/0, or
# the same split as "0.0.0.0/1" + "128.0.0.0/1", or a handful of /8s is "the internet".
PUBLIC_ADDRESSES_WARNING = 2**20


def price_problems(spec: StackSpec, catalog: PriceCatalog | None = None) -> list[Problem]:
    """What `estimate` would refuse to price or size, named by the key to set: a region or instance type the
    price catalog (`catalog`, default the checked-in one) has no price for, spot without a sourced saving, a GPU
    without sourced datasheet figures. `validate` reports these as errors, and `estimate` checks them before it
    prices, so that both agree on what a stack may use (with the same `--price-catalog`)."""
    from infra.price_catalog import default_catalog

    catalog = catalog or default_catalog()
    out = []
    system = spec.cluster.system_nodes.instance_type
    for r_i, region in enumerate(spec.regions):
        name = region.region
        if name not in hardware.aws_regions():
            continue
        priced = catalog.data["instances"].get(name, {})
        if system not in priced:
            cpu = sorted(t for t in priced if not hardware.instance_types().get(t, None) or not hardware.instance_type(t).is_gpu)
            import difflib  # only for a stack estimate cannot price

            near = difflib.get_close_matches(system, cpu, n=1)
            choice = (f"set cluster.systemNodes.instanceType to one it prices there"
                      f"{f' (did you mean {near[0]}?)' if near else ''}: {', '.join(cpu)}" if cpu else
                      "it prices no system node type there: run `tradeoff-infra prices refresh` or give `--price-catalog`")
            out.append(Problem("cluster.systemNodes.instanceType",
                               f"the price catalog has no price for {system} in {name} (regions[{r_i}]), so "
                               f"`estimate` cannot price this stack; {choice}"))
        for p_i, pool in enumerate(region.gpu_pools):
            it = hardware.instance_types().get(pool.instance_type)
            if it is None or not it.is_gpu:
                continue
            key = f"regions[{r_i}].gpuPools[{p_i}].instanceType"
            if pool.instance_type not in priced:
                same_gpu = sorted(t for t in priced if t in hardware.gpu_instance_types()
                                  and hardware.instance_type(t).gpu_name == it.gpu_name)
                there = f" ({it.gpu_name} types it prices there: {', '.join(same_gpu)})" if same_gpu else ""
                out.append(Problem(key, f"the price catalog has no price for {pool.instance_type} in {name}, so "
                                        f"`estimate` cannot price this stack; pick a type it prices there{there} or run "
                                        "`tradeoff-infra prices refresh`"))
            elif pool.capacity_type == "spot":
                try:
                    catalog.spot_savings(name, pool.instance_type)
                except LookupError as err:
                    out.append(Problem(f"regions[{r_i}].gpuPools[{p_i}].capacityType",
                                       f"spot is not priced ({err}), so `estimate` cannot price this stack; use "
                                       "on-demand or run `tradeoff-infra prices refresh`"))
            if it.gpu_model is None:
                out.append(Problem(key, f"{pool.instance_type}'s {it.gpu_name} GPU has no sourced datasheet figures "
                                        "(memory bandwidth, dense BF16 TFLOPS), so `estimate` cannot size its throughput"))
    return out


def price_warnings(spec: StackSpec) -> list[str]:
    """What a reviewer should know about prices and offerings but `estimate` accepts: a region the
    offerings snapshot does not cover. (What `estimate` refuses is `price_problems`.)"""
    out = []
    for r_i, region in enumerate(spec.regions):
        name = region.region
        if name in hardware.aws_regions() and not hardware.offerings_known(name):
            out.append(f"regions[{r_i}] ({name}) is not in the {hardware.offerings_snapshot()}: whether its GPU pools' "
                       f"instance types are offered there is not checked (aws ec2 describe-instance-type-offerings "
                       f"--region {name})")
    return out



def _network_warnings(spec: StackSpec) -> list[str]:
    out = []
    endpoint = spec.endpoint
    for i, region in enumerate(spec.regions):
        if region.vpc_cidr is None:
            continue
        vpc = ipaddress.ip_network(region.vpc_cidr)
        for cidr in spec.cluster.private_access_cidrs:
            if ipaddress.ip_network(cidr).overlaps(vpc):
                out.append(f"regions[{i}].vpcCidr {region.vpc_cidr} ({region.region}) overlaps cluster.privateAccessCidrs "
                           f"{cidr}: inside the VPC its own route wins, so the addresses both name cannot be reached "
                           "through the VPN or Transit Gateway; give the VPC a range outside your network's")
    if not reaches_internet_clients(endpoint.allowed_cidrs):
        if endpoint.mode == "global-accelerator":
            out.append("endpoint.allowedCidrs lists only private ranges, but Global Accelerator preserves client IP "
                       "addresses: the load balancers see each client's public egress address, so every user is locked "
                       "out; list the public egress ranges (NAT, proxy) your users come from")
        elif endpoint.load_balancer_scheme == "internet-facing":
            out.append("endpoint.allowedCidrs lists only private ranges on an internet-facing load balancer: clients "
                       "reach it with public addresses and are refused; list their public egress ranges, or set "
                       "endpoint.loadBalancerScheme: internal to serve a connected private network")
    if endpoint.load_balancer_scheme == "internal" and endpoint.mode == "regional" and not spec.regions[0].transit_gateway_id:
        out.append("endpoint.loadBalancerScheme is internal and regions[0].transitGatewayId is not set: the endpoint "
                   "answers only inside the VPC")
    return out


def public_ipv4_addresses(cidrs: list[str]) -> int:
    """How many public IPv4 addresses (not private, reserved, loopback, multicast ...) the CIDRs reach
    together, overlaps counted once."""
    nets = ipaddress.collapse_addresses(n for n in map(ipaddress.ip_network, cidrs) if n.version == 4)
    covered = 0
    for net in nets:
        covered += net.num_addresses - sum(
            (net if net.subnet_of(b) else b).num_addresses for b in _NON_PUBLIC_IPV4 if net.overlaps(b))
    return covered


# IANA special-purpose IPv4 blocks that are not reachable from the internet (RFC 6890 and its updates): the
# ranges no client's packet comes from (NON_INTERNET_RANGES), plus "this network", IETF protocol
# assignments, the documentation and benchmarking ranges and multicast/reserved space. Counting reach, the
# documentation ranges are not public; NON_INTERNET_RANGES keeps them apart on purpose (the shipped stacks
# use them as stand-ins for real egress ranges).
_NON_PUBLIC_IPV4 = list(ipaddress.collapse_addresses([
    *(r for r in NON_INTERNET_RANGES if r.version == 4),
    *(ipaddress.ip_network(c) for c in ("0.0.0.0/8", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
                                        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3")),
]))
PUBLIC_IPV4_ADDRESSES = 2**32 - sum(n.num_addresses for n in _NON_PUBLIC_IPV4)


def warnings(spec: StackSpec) -> list[str]:
    """Things that are allowed but that a reviewer should see, including security relaxations."""
    out = []
    reach = public_ipv4_addresses(spec.cluster.public_access_cidrs)
    if reach > PUBLIC_ADDRESSES_WARNING:
        out.append(f"cluster.publicAccessCidrs {', '.join(spec.cluster.public_access_cidrs)} reach {reach:,} public IPv4 addresses ({reach / PUBLIC_IPV4_ADDRESSES:.1%} of "
                   "the internet; more than a /12): the Kubernetes API is exposed to the internet (authenticated, but "
                   "reachable); list your office/VPN ranges")
    if spec.cluster.bootstrap_cluster_creator_admin_permissions:
        out.append("cluster.bootstrapClusterCreatorAdminPermissions is true: whoever creates the cluster keeps a permanent "
                   "admin access entry that the stack does not show or manage")
    if spec.cluster.imds_hop_limit != 1:
        out.append(f"cluster.imdsHopLimit is {spec.cluster.imds_hop_limit}: relaxes the IMDSv2 hop-limit-1 baseline so pods can reach instance metadata")
    if not spec.endpoint.hostname:
        out.append("endpoint.hostname is not set: the load balancer listens on plain HTTP (port 80); set a hostname for TLS")
        if spec.endpoint.mode == "global-accelerator":
            out.append("endpoint.acceptPlainHttpWithoutHostPin is on: the API key travels in clear and the load balancers "
                       "cannot pin the Host header, which the pinned vLLM image's Starlette needs against CVE-2026-48710 "
                       "(API-key bypass); set a hostname")
    elif spec.endpoint.accept_plain_http_without_host_pin:
        out.append("endpoint.acceptPlainHttpWithoutHostPin has no effect: endpoint.hostname is set (TLS, Host pinned); remove it")
    out += _network_warnings(spec)
    for r_i, region in enumerate(spec.regions):
        for p_i, pool in enumerate(region.gpu_pools):
            if pool.capacity_type == "spot":
                out.append(f"regions[{r_i}].gpuPools[{p_i}] uses spot capacity: nodes can be reclaimed with 2 minutes' notice")
        capacity_known = all(p.instance_type in hardware.gpu_instance_types() for p in region.gpu_pools)
        if capacity_known and spec.replicas_for(region)[1] >= spec.pool_replica_capacity(region):
            out.append(f"regions[{r_i}] ({region.region}): maxReplicas fills the GPU pools, so a model rollout replaces "
                       "replicas in place (one down at a time) instead of surging; give maxNodes one node of headroom")
        if spec.multi_region and region.traffic_dial == 0:
            out.append(f"regions[{r_i}] ({region.region}) is drained: trafficDial 0")
        if region.has_own_pin:
            out.append(f"regions[{r_i}] ({region.region}) runs its own model pin {region.model.revision[:12]} (canary)")
    for source in spec.gated_sources():
        out.append(
            f"model.source {source} is gated on Hugging Face: set the secret tradeoff-infra:huggingfaceToken "
            "(pulumi config set --secret huggingfaceToken ...) from an account that accepted its licence, or the "
            "download answers 401: pods crash-loop, or, where the weights mirror is on, its fill Job fails and the pods "
            "wait for the weights (validate reads only the stack file and cannot see encrypted secrets)"
        )
    if spec.autoscaling.scale_to_zero:
        out.append("autoscaling.scaleToZero is on: the first request after idle waits for a GPU node and a model load (minutes)")
    return out + price_warnings(spec)
