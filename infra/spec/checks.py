"""The checks that need more than one key: each a small function yielding the problems it finds, run in
order by `check()` (the order is the order `validate` prints them in).

A stack-wide check takes the spec (`CHECKS`); a region's checks take the spec, the region's key path
and the region (`REGION_CHECKS`, run for each known region); a pool's fit is checked only once its
instance type is known (`_pool_problems`). Adding a check is adding a function to one of the tuples.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator

from infra import hardware, sizing
from infra.sizing import GPU_MEMORY_UTILIZATION
from infra.spec.errors import Problem
from infra.spec.models import (SELF_HOSTED, CustomApiOffer, GpuPoolSpec, RegionSpec, StackSpec, reaches_internet_clients,
                               offer_provider, transit_routes)


def fit_report(spec: StackSpec, instance_type_name: str, source: str | None = None) -> tuple[float, float, float] | None:
    """(needed bytes per GPU, usable bytes per GPU, KV bytes for one full sequence) or None (`sizing.fit`)."""
    arch = spec.architecture_for(source)
    weights = spec.weight_bytes(source)
    if arch is None or weights is None:
        return None
    return sizing.fit(weights, arch.kv_bytes_per_token(spec.model.kv_dtype_bytes), spec.model.max_model_len,
                      spec.model.tensor_parallel, hardware.instance_type(instance_type_name).gpu_memory_bytes)


def unknown_region_message(region: str) -> str:
    """A region code neither region table knows: said as what the snapshot lacks, with the nearest known code."""
    import difflib

    near = difflib.get_close_matches(region, hardware.aws_regions(), n=1)
    hint = f"; did you mean {near[0]}?" if near else " (e.g. us-east-1)"
    return (f"{region!r} is not in the {hardware.offerings_snapshot()} nor in its commercial region table "
            f"({hardware.regions_source()}){hint}")


# ---------------------------------------------------------------- the model


def _model_known(spec: StackSpec) -> Iterator[Problem]:
    if spec.model.resolved_architecture() is None:
        yield Problem(
            "model.source",
            f"{spec.model.source!r} is not in the known-model table; give model.parametersBillion and "
            "model.architecture {layers, kvHeads, headDim} from its config.json",
        )


# ---------------------------------------------------------------- regions and their pools


def _pool_problems(spec: StackSpec, region: RegionSpec, pp: str, pool: GpuPoolSpec) -> Iterator[Problem]:
    """One pool's instance type, node counts and the model's fit on its GPUs (`pp`: the pool's key path)."""
    gpu_types = hardware.gpu_instance_types()
    tp = spec.model.tensor_parallel
    if pool.instance_type not in gpu_types:
        yield Problem(f"{pp}.instanceType", unknown_instance_type_message(pool.instance_type))
        return
    if hardware.offerings_known(region.region) and not hardware.offered_in(region.region, pool.instance_type):
        same_gpu = [t for t in offered_gpu_types(region.region) if gpu_types[t].gpu_name == gpu_types[pool.instance_type].gpu_name]
        there = (f"; {region.region} offers these {gpu_types[pool.instance_type].gpu_name} types: {', '.join(same_gpu)}"
                 if same_gpu else f"; {region.region} offers no {gpu_types[pool.instance_type].gpu_name} type; its GPU types: "
                 f"{', '.join(offered_gpu_types(region.region)) or 'none'}")
        yield Problem(f"{pp}.instanceType", f"{pool.instance_type} is not offered in {region.region} "
                                            f"(per the {hardware.offerings_snapshot()}){there}")
    if pool.min_nodes > pool.max_nodes:
        yield Problem(f"{pp}.minNodes", f"minNodes {pool.min_nodes} exceeds maxNodes {pool.max_nodes}")
    if pool.desired_nodes is not None and not pool.min_nodes <= pool.desired_nodes <= pool.max_nodes:
        yield Problem(
            f"{pp}.desiredNodes",
            f"desiredNodes {pool.desired_nodes} must lie between minNodes {pool.min_nodes} and maxNodes {pool.max_nodes}",
        )
    it = gpu_types[pool.instance_type]
    if it.gpus % tp:
        yield Problem(
            "model.tensorParallel",
            f"tensorParallel {tp} does not divide the {it.gpus} GPU(s) of {pool.instance_type} ({pp}); "
            f"{_tp_fixes(spec, region, pool.instance_type)}",
        )
        return
    region_source = spec.model_for(region)[0]
    fit = fit_report(spec, pool.instance_type, region_source)
    if fit:
        needed, usable, kv = fit
        if needed > usable:
            yield Problem(
                f"{pp}.instanceType",
                f"{region_source} does not fit: needs {needed / hardware.GIB:.1f} GiB per GPU "
                f"(weights {spec.weight_bytes(region_source) / tp / hardware.GIB:.1f} GiB at tensorParallel {tp}, KV cache for one "
                f"{spec.model.max_model_len}-token sequence {kv / hardware.GIB:.1f} GiB, runtime reserve 1.5 GiB) "
                f"but one {it.gpu_name} offers {usable / hardware.GIB:.1f} GiB at {GPU_MEMORY_UTILIZATION:.0%} "
                f"utilisation; {_fit_fixes(spec, region, pool.instance_type, region_source)}",
            )


def _fitting_types(spec: StackSpec, region: RegionSpec, source: str) -> list[str]:
    """Instance types offered in the region whose GPUs tensorParallel divides and the model fits on (smallest first)."""
    tp = spec.model.tensor_parallel
    gpu_types = hardware.gpu_instance_types()
    fits = []
    for name in offered_gpu_types(region.region):
        if gpu_types[name].gpus % tp:
            continue
        report = fit_report(spec, name, source)
        if report is None or report[0] <= report[1]:
            fits.append(name)
    return sorted(fits, key=lambda t: (gpu_types[t].gpus, gpu_types[t].gpu_memory_bytes, t))


def _tp_fixes(spec: StackSpec, region: RegionSpec, instance_type: str) -> str:
    """What fixes a tensorParallel the instance's GPUs cannot split into: instance types it fits on in the
    region at this tensorParallel, or a tensorParallel that divides the instance's GPUs."""
    tp = spec.model.tensor_parallel
    gpus = hardware.gpu_instance_types()[instance_type].gpus
    fits = _fitting_types(spec, region, spec.model_for(region)[0])
    fixes = ([f"use an instance type with {tp}, or a multiple of {tp}, GPUs it fits on in {region.region}: "
              f"{', '.join(fits[:6])}"] if fits else [])
    divisors = [d for d in (1, 2, 4, 8) if d <= gpus and gpus % d == 0]
    fixes.append(f"or set model.tensorParallel to {' or '.join(map(str, divisors))} for {instance_type}")
    return "; ".join(fixes)


def _fit_fixes(spec: StackSpec, region: RegionSpec, instance_type: str, source: str) -> str:
    """What would make the model fit: instance types offered in the region it fits on at this tensorParallel
    (smallest first), a higher tensorParallel only where the instance has the GPUs for it."""
    tp = spec.model.tensor_parallel
    gpu_types = hardware.gpu_instance_types()
    fits = [t for t in _fitting_types(spec, region, source) if fit_report(spec, t, source)]
    fixes = [f"use an instance type it fits on in {region.region}: {', '.join(fits[:6])}"] if fits else []
    if gpu_types[instance_type].gpus > tp:
        fixes.append(f"raise model.tensorParallel (up to {gpu_types[instance_type].gpus} on {instance_type})")
    fixes.append("quantize, or lower maxModelLen")
    return "; ".join(fixes)


def unknown_instance_type_message(name: str) -> str:
    """A GPU instance type tradeoff-infra does not know, with the nearest known names."""
    import difflib

    known = sorted(hardware.gpu_instance_types())
    near = difflib.get_close_matches(name, known, n=3)
    hint = f"did you mean {' or '.join(near)}?" if near else f"known: {', '.join(known)}"
    return f"{name!r} is not a GPU instance type tradeoff-infra knows; {hint}"


def offered_gpu_types(region: str) -> list[str]:
    """The GPU instance types the offerings snapshot lists in a region (every known one where it has no data)."""
    known = hardware.gpu_instance_types()
    if not hardware.offerings_known(region):
        return sorted(known)
    return sorted(t for t in known if hardware.offered_in(region, t))


def _pools(spec: StackSpec, rp: str, region: RegionSpec) -> Iterator[Problem]:
    pool_names: set[str] = set()
    for p_i, pool in enumerate(region.gpu_pools):
        pp = f"{rp}.gpuPools[{p_i}]"
        if pool.name in pool_names:
            yield Problem(f"{pp}.name", f"pool name {pool.name!r} appears twice in {region.region}")
        pool_names.add(pool.name)
        yield from _pool_problems(spec, region, pp, pool)


def _canary_source(spec: StackSpec, rp: str, region: RegionSpec) -> Iterator[Problem]:
    canary_source = spec.model_for(region)[0]
    if canary_source != spec.model.source and spec.architecture_for(canary_source) is None:
        yield Problem(
            f"{rp}.model.source",
            f"{canary_source!r} is not in the known-model table, so its fit on {region.region}'s GPUs cannot be "
            "checked; canary other weights only with a known model, or pin them stack-wide with model.architecture",
        )


def _replicas(spec: StackSpec, rp: str, region: RegionSpec) -> Iterator[Problem]:
    gpu_types = hardware.gpu_instance_types()
    tp = spec.model.tensor_parallel
    low, high = spec.replicas_for(region)
    key = f"{rp}.autoscaling" if region.autoscaling else "autoscaling"
    if low > high:
        yield Problem(f"{key}.minReplicas", f"minReplicas {low} exceeds maxReplicas {high}")
    sized = all(p.instance_type in gpu_types and gpu_types[p.instance_type].gpus % tp == 0 for p in region.gpu_pools)
    capacity = spec.pool_replica_capacity(region) if sized else None
    if capacity is not None and high > capacity:
        yield Problem(
            f"{key}.maxReplicas",
            f"maxReplicas {high} exceeds what the GPU pools of {region.region} can hold: {capacity} "
            f"(sum of maxNodes x GPUs per node / tensorParallel {tp}); raise maxNodes or lower maxReplicas",
        )


RegionCheck = Callable[[StackSpec, str, RegionSpec], Iterable[Problem]]
REGION_CHECKS: tuple[RegionCheck, ...] = (_pools, _canary_source, _replicas)


def _regions(spec: StackSpec) -> Iterator[Problem]:
    """Each region is known and named once, then its REGION_CHECKS (an unknown region gets no more)."""
    known = set(hardware.aws_regions())
    seen: set[str] = set()
    for r_i, region in enumerate(spec.regions):
        rp = f"regions[{r_i}]"
        if region.region not in known:
            yield Problem(f"{rp}.region", unknown_region_message(region.region))
            # a bad region must not hide a bad instance type: names are checked without the region
            gpu_types = hardware.gpu_instance_types()
            for p_i, pool in enumerate(region.gpu_pools):
                if pool.instance_type not in gpu_types:
                    yield Problem(f"{rp}.gpuPools[{p_i}].instanceType", unknown_instance_type_message(pool.instance_type))
            continue
        if region.region in seen:
            yield Problem(f"{rp}.region", f"{region.region!r} appears twice")
        seen.add(region.region)
        for region_check in REGION_CHECKS:
            yield from region_check(spec, rp, region)


# ---------------------------------------------------------------- networks and the cluster


def _vpc_overlaps(spec: StackSpec) -> Iterator[Problem]:
    """Every region's VPC needs its own range: one network (Transit Gateway, VPN) must route to all."""
    for j, later in enumerate(spec.regions):
        if later.vpc_cidr is None:
            yield Problem(f"regions[{j}].vpcCidr", "no default range past the 256th region; give one")
            continue
        for i, earlier in enumerate(spec.regions[:j]):
            if earlier.vpc_cidr is None:
                continue
            if ipaddress.ip_network(later.vpc_cidr).overlaps(ipaddress.ip_network(earlier.vpc_cidr)):
                yield Problem(
                    f"regions[{j}].vpcCidr",
                    f"{later.vpc_cidr} ({later.region}) overlaps regions[{i}].vpcCidr {earlier.vpc_cidr} ({earlier.region}): "
                    "every region needs its own range so one network can route to all of them; leave vpcCidr "
                    "out for the default 10.<region index>.0.0/16 or pick a range no other region uses",
                )
                break


def _api_reachability(spec: StackSpec) -> Iterator[Problem]:
    """The Kubernetes API must be reachable on the first `pulumi up` (the Helm releases need it):
    through a public endpoint open to some internet address, or through each region's Transit
    Gateway to `cluster.privateAccessCidrs`. Nothing else connects to the VPCs the program creates."""
    cluster = spec.cluster
    if reaches_internet_clients(cluster.public_access_cidrs):
        return
    if cluster.public_access_cidrs:
        yield Problem(
            "cluster.publicAccessCidrs",
            f"{', '.join(cluster.public_access_cidrs)} are private ranges, but the public endpoint sees public source "
            "addresses: nobody could reach it; list the public egress ranges `pulumi up` and kubectl run from, "
            "or leave it empty and reach the private endpoint through regions[].transitGatewayId",
        )
        return
    if not cluster.private_access_cidrs:
        yield Problem(
            "cluster.privateAccessCidrs",
            "cluster.publicAccessCidrs is empty (private API endpoint only), so list the CIDRs inside the network "
            "that `pulumi up` and kubectl run from (e.g. the VPN range) and connect them with "
            "regions[].transitGatewayId; nothing else can reach the Kubernetes API",
        )
        return
    for i, region in enumerate(spec.regions):
        if region.vpc_cidr is None:
            continue  # reported by _vpc_overlaps
        if region.transit_gateway_id is None:
            yield Problem(
                f"regions[{i}].transitGatewayId",
                f"cluster.publicAccessCidrs is empty (private API endpoint only) and nothing connects the new VPC in "
                f"{region.region} to cluster.privateAccessCidrs, so nobody can reach its Kubernetes API and `pulumi up` "
                "times out at the first Helm release: name the region's Transit Gateway here (the program attaches the "
                "VPC and routes privateAccessCidrs through it), or list your public egress ranges in "
                "cluster.publicAccessCidrs until connectivity exists",
            )
        elif not transit_routes(region.vpc_cidr, cluster.private_access_cidrs):
            yield Problem(
                "cluster.privateAccessCidrs",
                f"no IPv4 range outside {region.region}'s own VPC ({region.vpc_cidr}): nothing to route through "
                f"regions[{i}].transitGatewayId, so nobody outside the VPC can reach the Kubernetes API",
            )
            return


def _reserved_prices(spec: StackSpec) -> Iterator[Problem]:
    """A reserved-1y pool needs a sourced reserved price: without one the commitment cannot be priced at all."""
    pools = [(r_i, p_i, region.region, pool) for r_i, region in enumerate(spec.regions)
             for p_i, pool in enumerate(region.gpu_pools) if pool.capacity_type == "reserved-1y"]
    if not pools:
        return
    from infra.price_catalog import MissingPrice, default_catalog

    catalog = default_catalog()
    for r_i, p_i, name, pool in pools:
        try:
            catalog.reserved(name, pool.instance_type, pool.capacity_type)
        except MissingPrice:
            yield Problem(
                f"regions[{r_i}].gpuPools[{p_i}].capacityType",
                f"reserved-1y: the price catalog has no 1-year reserved price for {pool.instance_type} in {name} "
                f"(reserved prices as of {catalog.data.get('reserved', {}).get('date', 'never')}); use on-demand or "
                "spot, or refresh the catalog (`tradeoff-infra prices refresh`)",
            )


def _cluster_admins(spec: StackSpec) -> Iterator[Problem]:
    if not spec.cluster.bootstrap_cluster_creator_admin_permissions and not spec.cluster.admin_principal_arns:
        yield Problem(
            "cluster.adminPrincipalArns",
            "nobody could administer the cluster, and `pulumi up` itself could not reach its Kubernetes API: list the "
            "IAM role ARN(s) of the operators, including the one `pulumi up` runs as (see docs/operations.md, "
            "\"Cluster access\"), or set cluster.bootstrapClusterCreatorAdminPermissions: true",
        )


def _fallback_replicas(spec: StackSpec) -> Iterator[Problem]:
    if spec.autoscaling.fallback_replicas > spec.autoscaling.max_replicas:
        yield Problem("autoscaling.fallbackReplicas", "must not exceed autoscaling.maxReplicas")


# ---------------------------------------------------------------- the endpoint and traffic


def _endpoint_mode(spec: StackSpec) -> Iterator[Problem]:
    if spec.endpoint.mode == "regional" and spec.multi_region:
        yield Problem("endpoint.mode", "'regional' serves one region; a multi-region stack needs 'global-accelerator'")


def _plain_http(spec: StackSpec) -> Iterator[Problem]:
    endpoint = spec.endpoint
    if endpoint.mode == "global-accelerator" and not endpoint.hostname and not endpoint.accept_plain_http_without_host_pin:
        yield Problem(
            "endpoint.hostname",
            "a global-accelerator stack without a hostname serves the API over plain HTTP on port 80 (the API key "
            "travels in clear) and its load balancers cannot pin the Host header, which the pinned vLLM image's "
            "Starlette needs against CVE-2026-48710 (API-key bypass); set endpoint.hostname and "
            "endpoint.hostedZoneId for TLS, or accept both risks explicitly with "
            "endpoint.acceptPlainHttpWithoutHostPin: true",
        )


def _hosted_zone(spec: StackSpec) -> Iterator[Problem]:
    if spec.endpoint.hostname and not spec.endpoint.hosted_zone_id:
        yield Problem("endpoint.hostedZoneId", "a hostname needs the Route 53 hosted zone that validates its TLS certificate")


def _traffic_shares(spec: StackSpec) -> Iterator[Problem]:
    given = [r.traffic_share for r in spec.regions if r.traffic_share is not None]
    if given and len(given) != len(spec.regions):
        missing = next(i for i, r in enumerate(spec.regions) if r.traffic_share is None)
        yield Problem(f"regions[{missing}].trafficShare", "give trafficShare on every region or on none")
    elif given and abs(sum(given) - 1) > 0.001:
        yield Problem("regions", f"trafficShare values add up to {sum(given):.3f}, not 1")


def _traffic_dials(spec: StackSpec) -> Iterator[Problem]:
    if spec.multi_region and all(r.traffic_dial == 0 for r in spec.regions):
        yield Problem("regions", "every region has trafficDial 0: the global endpoint would serve nothing")


def _api_comparison(spec: StackSpec) -> Iterator[Problem]:
    for i, offer in enumerate(spec.api_comparison):
        if isinstance(offer, str) and ":" not in offer:
            yield Problem(f"apiComparison[{i}]", "use provider:model", offer)


def offer_name(offer: str | CustomApiOffer) -> str:
    """How a stack names an `apiComparison` offer elsewhere (a gateway route): `provider:model`, or a custom offer's name."""
    return offer.name if isinstance(offer, CustomApiOffer) else offer


def _gateway_targets(spec: StackSpec) -> Iterator[Problem]:
    """Every offer a gateway route names is a `provider:model` offer of `apiComparison` (the estimate prices the
    split with it, the gateway calls that provider); a custom offer has a price but no endpoint to call."""
    if spec.gateway is None:
        return
    import difflib

    offers = {offer_name(o): o for o in spec.api_comparison}
    for i, route in enumerate(spec.gateway.routes):
        named = [("servedBy", route.served_by)] if route.served_by != SELF_HOSTED else []
        named += [("overflowTo", route.overflow_to)] if route.overflow_to else []
        named += [(f"fallbackTo[{j}]", o) for j, o in enumerate(route.fallback_to)]
        for key, name in named:
            path = f"gateway.routes[{i}].{key}"
            if name not in offers:
                near = difflib.get_close_matches(name, [*offers, *([SELF_HOSTED] if key == "servedBy" else [])], n=1)
                hint = f"; did you mean {near[0]}?" if near else (
                    f"; apiComparison has {', '.join(offers)}" if offers else "; apiComparison lists no offer")
                yield Problem(path, f"{name!r} is not an apiComparison offer: add it there (the estimate prices "
                                    f"the route with it){hint}")
            elif isinstance(offers[name], CustomApiOffer):
                yield Problem(path, f"{name!r} is a custom offer (a price, no endpoint the gateway can call); "
                                    "name a provider:model offer")


def _gateway_providers(spec: StackSpec) -> Iterator[Problem]:
    """Every provider a gateway route may call is one LiteLLM can call with a key (`gateway_config.LITELLM_PROVIDERS`):
    the program could not render a deployment for any other, and `pulumi up` would stop half-way."""
    if spec.gateway is None:
        return
    import difflib

    # imported here: infra.gateway_config imports the spec package (a module-level import would be a cycle)
    from infra.gateway_config import LITELLM_PROVIDERS, unsupported_providers

    unsupported = set(unsupported_providers(spec))
    if not unsupported:
        return
    listed = {o for o in spec.api_comparison if isinstance(o, str)}
    for i, route in enumerate(spec.gateway.routes):
        named = [("servedBy", route.served_by)] if route.served_by != SELF_HOSTED else []
        named += [("overflowTo", route.overflow_to)] if route.overflow_to else []
        named += [(f"fallbackTo[{j}]", o) for j, o in enumerate(route.fallback_to)]
        for key, offer in named:
            provider = offer_provider(offer)
            # an offer apiComparison does not list is _gateway_targets' problem (one message per key)
            if provider not in unsupported or offer not in listed:
                continue
            near = difflib.get_close_matches(provider, list(LITELLM_PROVIDERS), n=1)
            hint = f"; did you mean {near[0]}?" if near else ""
            yield Problem(f"gateway.routes[{i}].{key}",
                          f"the gateway cannot call provider {provider!r} (offer {offer!r}): LiteLLM routes it calls "
                          f"with a key need one of {', '.join(sorted(LITELLM_PROVIDERS))}{hint}")


def _gateway_data_stays(spec: StackSpec) -> Iterator[Problem]:
    """`constraints.dataMayLeaveNetwork: false`: no route may send a request to an API."""
    if spec.gateway is None or spec.constraints.data_may_leave_network is not False:
        return
    for i, route in enumerate(spec.gateway.routes):
        if route.reaches_api:
            yield Problem(f"gateway.routes[{i}]", f"route {route.name!r} may send requests to "
                          f"{', '.join(route.api_offers())}, but constraints.dataMayLeaveNetwork is false: make it "
                          "dataClass restricted, served self-hosted with no overflowTo or fallbackTo")


def _gateway_budget(spec: StackSpec) -> Iterator[Problem]:
    g = spec.gateway
    if g is not None and g.reaches_api and g.api_budget_monthly_usd is None:
        yield Problem("gateway.apiBudgetMonthlyUsd", "routes may send requests to API offers; give the monthly API "
                      "spend the gateway allows (past it, API requests are refused)")
    if g is None or g.provider_budgets_monthly_usd is None:
        return
    import difflib

    key = "gateway.providerBudgetsMonthlyUsd"
    called = g.providers()
    given = g.provider_budgets_monthly_usd
    for provider, usd in given.items():
        if provider not in called:
            near = difflib.get_close_matches(provider, called, n=1)
            hint = f"; did you mean {near[0]}?" if near else f"; the routes call {', '.join(called) or 'no provider'}"
            yield Problem(f"{key}.{provider}", f"no route may call provider {provider!r}{hint}")
        if not (isinstance(usd, (int, float)) and 0 <= usd <= 1_000_000_000):
            yield Problem(f"{key}.{provider}", f"{usd!r} is not a monthly USD amount between 0 and 1,000,000,000")
    missing = [p for p in called if p not in given]
    if missing:
        yield Problem(key, f"gives no budget for {', '.join(missing)}, which the routes may call: list every provider "
                           "(0 refuses it), or leave the key out to split apiBudgetMonthlyUsd evenly")
    total = sum(v for v in given.values() if isinstance(v, (int, float)))
    if g.api_budget_monthly_usd is not None and total > g.api_budget_monthly_usd + 1e-6:
        yield Problem(key, f"adds up to ${total:,.2f}, above gateway.apiBudgetMonthlyUsd ${g.api_budget_monthly_usd:,.2f}")


Check = Callable[[StackSpec], Iterable[Problem]]
CHECKS: tuple[Check, ...] = (
    _model_known, _regions, _vpc_overlaps, _api_reachability, _reserved_prices, _cluster_admins, _fallback_replicas,
    _endpoint_mode, _plain_http, _hosted_zone, _traffic_shares, _traffic_dials, _api_comparison, _gateway_targets,
    _gateway_providers, _gateway_data_stays, _gateway_budget,
)


def _no_api_access_set(spec: StackSpec) -> bool:
    return not spec.cluster.public_access_cidrs and not spec.cluster.private_access_cidrs


DEPLOY_GATE: dict[Check, Callable[[StackSpec], bool]] = {_api_reachability: _no_api_access_set,
                                                        _cluster_admins: lambda spec: True}
"""Checks that only say what a stack must set before `pulumi up` (who reaches and administers the
Kubernetes API), when the condition holds: the keys are left out, which changes no price. `check(spec,
deploy=False)` (estimate, inventory) skips them; a value that is set and wrong is refused either way."""


def deploy_gate(spec: StackSpec) -> list[Problem]:
    """What a stack priced with `deploy=False` must still set before `pulumi up`."""
    return [problem for one_check, unset in DEPLOY_GATE.items() if unset(spec) for problem in one_check(spec)]


def chart_limits(spec: StackSpec) -> list[Problem]:
    """Replica counts the vLLM chart's values schema refuses (helm fails at `pulumi up`): `validate` refuses them;
    `check(deploy=False)` leaves them out, so a what-if fleet above the chart's limit can still be priced (the
    estimate warns it is not deployable as is)."""
    from infra.spec.models import CHART_MAX_REPLICAS_MAX, CHART_MIN_REPLICAS_MAX

    out = []
    for r_i, region in enumerate(spec.regions):
        low, high = spec.replicas_for(region)
        over = region.autoscaling
        for name, value, limit in (("minReplicas", low, CHART_MIN_REPLICAS_MAX), ("maxReplicas", high, CHART_MAX_REPLICAS_MAX)):
            own = over is not None and getattr(over, "min_replicas" if name == "minReplicas" else "max_replicas") is not None
            key = f"regions[{r_i}].autoscaling.{name}" if own else f"autoscaling.{name}"
            if value > limit and all(p.path != key for p in out):
                out.append(Problem(key, f"{name} {value} is more than the vLLM chart allows ({limit}, its values "
                                        "schema charts/vllm/values.schema.json): helm would refuse it at `pulumi up`; "
                                        "lower it (a larger GPU carries more per replica)"))
    return out


def check(spec: StackSpec, *, deploy: bool = True) -> list[Problem]:
    """Checks that need more than one key. Returns every problem found, in CHECKS order, then `chart_limits`;
    `deploy=False` leaves out the DEPLOY_GATE problems of keys the stack left out and the chart's limits (to
    price it, not to deploy it)."""
    skip = set() if deploy else {c for c, unset in DEPLOY_GATE.items() if unset(spec)}
    found = [problem for one_check in CHECKS if one_check not in skip for problem in one_check(spec)]
    return found + (chart_limits(spec) if deploy else [])
