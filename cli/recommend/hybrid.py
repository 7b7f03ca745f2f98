"""`recommend` for a stack with a gateway (or `--hybrid`): the hybrid split searched with the fleet (issue 15 item 1,
docs/recommend.md "Hybrid").

A gateway stack's fleet carries the self-hosted routes only, capped per region, with the overflow-enabled routes'
excess at their `overflowTo` offers and the API-served routes at theirs (`cli/estimate/hybrid.py`). So:

1. the analytic search (`search.search`) sizes every candidate fleet for the self-hosted routes' share of the
   requests, through its `Overflow` hook (the API-served routes' share, priced at their offers);
2. the `CANDIDATES` cheapest of those fleets (all of them in a space that small) are each priced by the hybrid
   model itself (`HybridModel.find_optimum`: the cheapest fleet cap per region, overflow at the offers' prices,
   restricted routes never overflow) on the stack's own priced records with the GPU pools, weights mirror and its
   key swapped for the candidate's (`costing.fleet_records`): the program does not run for them;
3. each option carries its caps (maxReplicas per region, and maxNodes with room for them) and `apiShare`; options
   are ranked by that hybrid total, and the winner is priced again on its own program run (`hybrid_total`), so
   `estimate` of the written stack reproduces it.

`--hybrid` on a stack without a gateway assumes one route, `general`, serving every request from the fleet with
the cheapest `apiComparison` offer as its overflow (`assumed_gateway`); a stack whose data may not leave the
network (`constraints.dataMayLeaveNetwork: false`) cannot overflow to an API, and is refused.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

from cli.estimate.usage import UsageAssumptions
from cli.recommend import costing, fleet
from cli.recommend.search import Option, Overflow
from cli.pricing.api import ApiOffer
from infra import hardware
from infra.price_catalog import PriceCatalog
from infra.spec import SELF_HOSTED, StackSpec

CANDIDATES = 24
"""How many of the analytic search's cheapest fleets the hybrid model prices (at least 4 x --top)."""
ASSUMED_ROUTE = "general"


class HybridRefused(ValueError):
    """`--hybrid` asked of a stack that cannot overflow to an API (the message names the key)."""


def assumed_gateway(spec: StackSpec, offers: list[ApiOffer]) -> StackSpec:
    """`spec` with the gateway `--hybrid` assumes: one general route, all requests, self-hosted with the cheapest
    apiComparison offer (at the stack's traffic) as overflow."""
    from infra.spec.models import GatewayRoute, GatewaySpec

    if spec.constraints.data_may_leave_network is False:
        raise HybridRefused("--hybrid: constraints.dataMayLeaveNetwork is false: no request may overflow to an API, "
                            "so there is no hybrid split to search (drop --hybrid, or set it true if the data may leave)")
    if not offers:
        raise HybridRefused("--hybrid: apiComparison is empty: there is no API offer to overflow to")
    requests = spec.traffic.requests_per_month
    cheapest = min(offers, key=lambda o: o.monthly_usd(requests))
    route = GatewayRoute(name=ASSUMED_ROUTE, share=1.0, overflow_to=cheapest.name)
    # no budget to enforce in the search: the API spend is what the options show
    return spec.model_copy(update={"gateway": GatewaySpec(routes=[route], api_budget_monthly_usd=1_000_000_000)})


def routed_overflow(spec: StackSpec, offers: list[ApiOffer]) -> Overflow:
    """The search's hook: the API-served routes' share of the requests (the fleet is sized for the rest), priced
    at their offers."""
    by_name = {o.name: o for o in offers}
    routed = [r for r in spec.gateway.routes if r.served_by != SELF_HOSTED]
    share = sum(r.share for r in routed)
    requests = spec.traffic.requests_per_month
    usd = float(sum((by_name[r.served_by].monthly_usd(requests * r.share) for r in routed if r.served_by in by_name),
                    start=0))
    return Overflow(shares=(share,), api_usd=lambda _share: usd)


def _swapped(records: list, spec: StackSpec) -> list:
    """The stack's priced records with its fleet's (GPU node groups, weights mirror and its key) replaced by
    `spec`'s, as the program would create them."""
    from cli.estimate import records as kinds

    def fleet_record(r) -> bool:
        return ((isinstance(r, kinds.NodeGroup) and r.gpu_pool is not None) or isinstance(r, kinds.WeightsMirrorBucket)
                or (isinstance(r, kinds.KmsKey) and r.purpose == "weights mirror"))

    new = [r for r in costing.fleet_records(spec) if not isinstance(r, kinds.NatGateway)]
    return [r for r in records if not fleet_record(r)] + new


def _with_room(spec: StackSpec, option: Option, caps: dict[str, int] | None) -> Option:
    """`option` with each region's maxReplicas at its cap (None: room for the whole fleet's peak) and maxNodes
    holding it plus a rollout's surge pod, as the search sizes pools."""
    regions = []
    for region, choice in zip(spec.regions, option.regions):
        per_node = costing.replicas_per_node(hardware.instance_type(choice.instance_type).gpus, option.tensor_parallel)
        cap = choice.max_replicas if caps is None else caps[region.region]
        floor = costing.floor_nodes(choice.min_replicas, per_node, spec.network.availability_zones)
        max_nodes = max(math.ceil((cap + 1) / per_node), floor, choice.min_nodes, 1)
        if choice.mixed:  # the floor pool keeps its k nodes; the spot pool holds the rest up to the cap
            regions.append(replace(choice, max_replicas=cap, burst_max_nodes=max(max_nodes - choice.max_nodes, 1)))
        else:
            regions.append(replace(choice, max_replicas=cap, max_nodes=max_nodes))
    return replace(option, regions=regions)


def price_option(spec: StackSpec, records: list, catalog: PriceCatalog, as_of: date, usage: UsageAssumptions,
                 offers: list[ApiOffer], option: Option):
    """The option's cheapest split: (option with its caps, the Split). Analytic: the hybrid price model on the
    stack's records with the candidate's fleet swapped in."""
    from cli.estimate.costs import CostModel
    from cli.estimate.hybrid import HybridModel

    # room for every cap the search may try: the fleet at the whole traffic's peak (no overflow) fits
    roomy = _with_room(spec, option, None)
    probe_spec = fleet.applied_spec(spec, roomy)
    model = HybridModel(probe_spec, CostModel(probe_spec, _swapped(records, probe_spec), catalog, as_of, usage), offers)
    ranges = model.ranges()
    roomy = _with_room(spec, option, {r: max(hi, c.max_replicas) for (r, (_, hi)), c in zip(ranges.items(), option.regions)})
    probe_spec = fleet.applied_spec(spec, roomy)
    model = HybridModel(probe_spec, CostModel(probe_spec, _swapped(records, probe_spec), catalog, as_of, usage), offers)
    optimal, _, _ = model.find_optimum()
    capped = _with_room(spec, option, optimal.caps)
    return replace(capped, api_share=round(optimal.api_share, 4), overflow_usd=float(optimal.api_monthly),
                   monthly_usd=float(optimal.total) + option.carried_usd), optimal


def hybrid_total(spec: StackSpec, records: list, catalog: PriceCatalog, as_of: date, usage: UsageAssumptions,
                 offers: list[ApiOffer]):
    """The split as configured (what `estimate` reports as `hybrid.monthlyUsd.expected`) of a spec and its
    program's records."""
    from cli.estimate.costs import CostModel
    from cli.estimate.hybrid import HybridModel

    return HybridModel(spec, CostModel(spec, records, catalog, as_of, usage), offers).price_split()
