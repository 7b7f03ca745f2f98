"""`tradeoff-infra recommend`: the cheapest fleets that meet a stack's targets, priced as `estimate` prices them.

`search.py` searches analytically (capacity model + PriceBook, no program run); `costing.py` prices a region's
fleet the way the estimate's cost modules do; `fleet.py` writes an option into the stack file; this module runs
the Pulumi program (under mocks, cached as `estimate` caches it) once, for the winner only, so the winner's
monthly cost is the estimate's own number, and derives every other option's from it (`recommend`).
"""

from __future__ import annotations

import pathlib
import tempfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from cli.estimate.usage import UsageAssumptions
from cli.recommend import costing, fleet
from cli.recommend.search import Option, Rejection, Result, Space, order, search
from cli.capacity import CapacityError
from infra.price_catalog import MissingPrice, PriceCatalog
from infra.spec import StackSpec, parse_stack_config, parse_stack_text, project_config

__all__ = ["Recommendation", "Space", "quota_needs", "recommend", "search"]


@dataclass
class Recommendation:
    stack: str
    result: Result
    base_usd: float
    """What the estimate prices apart from the fleet (control planes, NAT hours, load balancers, egress, people)."""
    stack_fleet_usd: float | None
    """The stack's own fleet's expected monthly total for the same traffic and targets (base + its fleet)."""
    winner_text: str | None
    """The stack file with the winner applied (what `--write` writes)."""
    tokens_per_month: float
    hybrid: bool = False
    """The options are hybrid splits: `stack_fleet_usd` is then the stack's own split as configured, and each option's
    monthly cost includes its API spend (`apiShare`)."""
    assumed_gateway: bool = False
    """`--hybrid` on a stack without a gateway: one general route with the cheapest offer as overflow was assumed."""
    own_queued: dict[str, float] = field(default_factory=dict)
    """Per region where the stack's own fleet cannot carry the traffic (its maxReplicas and maxNodes), the share of
    the output tokens it leaves queued (`capacity.RegionCapacity.queued_share`): `stack_fleet_usd` is that capped
    fleet's cost."""

    @property
    def options(self) -> list[Option]:
        return self.result.options

    @property
    def rejected(self) -> list[Rejection]:
        return self.result.rejected


def option_spec(text: str, source: str, spec: StackSpec, option: Option) -> tuple[str, StackSpec]:
    """The stack file's text with `option` applied, and its spec, checked as every command checks a stack."""
    new = fleet.applied_text(text, spec, option)
    return new, parse_stack_config(project_config(parse_stack_text(new, source)), source, deploy=False)


def program_records(root: pathlib.Path, stack: str, text: str, *, no_cache: bool = False) -> list:
    """The priced records of a stack file's text: its program's inventory (under mocks, cached by content as
    `estimate` caches it) classified as the estimate classifies it."""
    from cli import cache
    from cli.estimate import mapping

    with tempfile.TemporaryDirectory(prefix="tradeoff-infra-recommend-") as folder:
        path = pathlib.Path(folder) / f"Pulumi.{stack}.yaml"
        path.write_text(text, encoding="utf-8")
        config = project_config(parse_stack_text(text, str(path)))
        inventory, _ = cache.inventory_for(root, stack, path, config, no_cache=no_cache)
    return [record for m in mapping.classify(inventory.resources) for record in m.records]


def program_total(root: pathlib.Path, stack: str, text: str, spec: StackSpec, catalog: PriceCatalog, as_of: date,
                  usage: UsageAssumptions, *, no_cache: bool = False) -> Decimal:
    """The estimate's expected self-hosted monthly total of a stack file's text: its program's records priced by
    the estimate's cost model."""
    from cli.estimate.costs import CostModel

    records = program_records(root, stack, text, no_cache=no_cache)
    model = CostModel(spec, records, catalog, as_of, usage)
    items, _ = model.run(spec.traffic.requests_per_month)
    include = spec.operations.include
    return sum((li.monthly for li in items if include or li.category != "operations"), Decimal(0))


def recommend(stack: str, stack_file: pathlib.Path, text: str, spec: StackSpec, catalog: PriceCatalog, as_of: date, *,
              root: pathlib.Path, space: Space | None = None, top: int = 5, usage: UsageAssumptions | None = None,
              no_cache: bool = False, offers: list | None = None, hybrid: bool = False) -> Recommendation:
    """The cheapest fleets. A stack with a gateway (or any stack with `hybrid`, which assumes one: `offers` then
    names the overflow) is searched as its hybrid split (`cli/recommend/hybrid.py`); it needs `offers`, the
    stack's resolved `apiComparison` entries."""
    usage = usage or UsageAssumptions()
    if spec.gateway is not None or hybrid:
        return _recommend_hybrid(stack, stack_file, text, spec, catalog, as_of, root=root, space=space, top=top,
                                 usage=usage, no_cache=no_cache, offers=list(offers or []), assumed=spec.gateway is None)
    result = search(spec, catalog, space=space, top=top, usage=usage)
    t = spec.traffic
    tokens = float(t.requests_per_month * (t.input_tokens_per_request + t.output_tokens_per_request))
    try:
        own_fleet: float | None = float(costing.exact_fleet_cost(spec, catalog, as_of, usage))
        own_queued = own_queued_shares(spec)
    except (MissingPrice, CapacityError):  # the stack's own fleet cannot be priced (`estimate` refuses it too)
        own_fleet, own_queued = None, {}
    if not result.options:
        return Recommendation(stack, result, 0.0, None, None, tokens)
    winner = result.options[0]
    source = str(stack_file)
    winner_text, winner_spec = option_spec(text, source, spec, winner)
    total = float(program_total(root, stack, winner_text, winner_spec, catalog, as_of, usage, no_cache=no_cache))
    base = total - float(costing.exact_fleet_cost(winner_spec, catalog, as_of, usage))
    # a reservation the stack holds and the option leaves unused is billed on top (`search.commitments`)
    winner.monthly_usd, winner.exact = total + winner.carried_usd, True
    for option in result.options[1:]:
        option.monthly_usd = base + option.carried_usd + float(costing.exact_fleet_cost(
            fleet.applied_spec(spec, option), catalog, as_of, usage))
    result.options.sort(key=lambda o: order(spec, o, o.monthly_usd))
    budget = _mark_over_budget(result, spec)
    if budget is not None:
        result.rejected.extend(_over_budget(result, base, budget))
    return Recommendation(stack, result, base, None if own_fleet is None else base + own_fleet, winner_text, tokens,
                          own_queued=own_queued)


def quota_needs(spec: StackSpec, option: Option | None = None) -> dict:
    """Per region, the EC2 vCPU quotas (cli/quotas.py `QuotaNeed`) the fleet of `option` applied to `spec` counts
    against, the system node group included, as `estimate` of the written stack counts them; None: the stack's own
    fleet. Computed after the search, for the options shown only."""
    from cli import quotas

    return quotas.needs(quotas.from_spec(spec if option is None else fleet.applied_spec(spec, option)))


def own_queued_shares(spec: StackSpec) -> dict[str, float]:
    """Per region where the stack's own fleet leaves some of the traffic queued (capped by its maxReplicas and
    maxNodes), the share of the output tokens it does not serve."""
    from cli import capacity

    return {plan.region: plan.queued_share for plan in capacity.plan(spec, spec.traffic.requests_per_month)
            if plan.queued_share > 0.001}


def _recommend_hybrid(stack: str, stack_file: pathlib.Path, text: str, spec: StackSpec, catalog: PriceCatalog,
                      as_of: date, *, root: pathlib.Path, space: Space | None, top: int, usage: UsageAssumptions,
                      no_cache: bool, offers: list, assumed: bool) -> Recommendation:
    """The hybrid search (cli/recommend/hybrid.py): the analytic search's cheapest fleets for the self-hosted
    routes, each priced as its cheapest split; the winner priced again on its own program run."""
    from cli.recommend import hybrid

    priced = hybrid.assumed_gateway(spec, offers) if assumed else spec
    missing = sorted(set(priced.gateway.api_offers()) - {o.name for o in offers})
    if missing:
        raise ValueError(f"the gateway's offers {', '.join(missing)} were not resolved")
    t = spec.traffic
    tokens = float(t.requests_per_month * (t.input_tokens_per_request + t.output_tokens_per_request))
    records = program_records(root, stack, text, no_cache=no_cache)
    own = float(hybrid.hybrid_total(priced, records, catalog, as_of, usage, offers).total)
    result = search(priced, catalog, space=space, top=max(hybrid.CANDIDATES, 4 * top), usage=usage,
                    overflow=hybrid.routed_overflow(priced, offers))
    if not result.options:
        return Recommendation(stack, result, 0.0, own, None, tokens)
    options = [hybrid.price_option(priced, records, catalog, as_of, usage, offers, o)[0] for o in result.options]
    options.sort(key=lambda o: order(priced, o, o.monthly_usd))
    result.options = options[:top]
    winner_text = None
    # an assumed gateway is not in the file (the written stack could not run the split): analytic prices only.
    # Otherwise the cheapest is priced on its own program run, until the cheapest is one so priced (at most 3 runs)
    for _ in range(0 if assumed else 3):
        winner = result.options[0]
        if winner.exact:
            break
        text_of, winner_spec = option_spec(text, str(stack_file), spec, winner)
        exact = hybrid.hybrid_total(winner_spec, program_records(root, stack, text_of, no_cache=no_cache), catalog,
                                    as_of, usage, offers)
        winner.monthly_usd, winner.exact = float(exact.total) + winner.carried_usd, True
        winner.api_share = round(exact.api_share, 4)
        result.options.sort(key=lambda o: order(priced, o, o.monthly_usd))
    if not assumed and result.options[0].exact:
        winner_text = option_spec(text, str(stack_file), spec, result.options[0])[0]
    _mark_over_budget(result, spec)
    return Recommendation(stack, result, 0.0, own, winner_text, tokens, hybrid=True, assumed_gateway=assumed)


def _mark_over_budget(result: Result, spec: StackSpec) -> float | None:
    """Options above `budget.monthlyUsd` marked not feasible, saying why; returns the budget (None: none set)."""
    budget = spec.budget.monthly_usd if spec.budget else None
    for option in result.options if budget is not None else ():
        if option.monthly_usd > budget:
            option.feasible = False
            option.why_not = f"over budget: ${option.monthly_usd:,.0f} > budget.monthlyUsd ${budget:,.0f}"
    return budget


def _over_budget(result: Result, base: float, budget: float) -> list[Rejection]:
    """Families (instance type in a region) whose cheapest fleet, with each other region at its cheapest, costs
    more than the budget."""
    best: dict[tuple[str, str], float] = {}
    for (_, _), per_region in result.groups.items():
        if any(not choices for choices in per_region):
            continue
        floor = sum(choices[0].usd for choices in per_region)
        for choices in per_region:
            for choice in choices:
                total = base + floor - choices[0].usd + choice.usd
                key = (choice.instance_type, choice.region)
                best[key] = min(best.get(key, total), total)
    return [Rejection(name, region, "over-budget",
                      f"over budget: its cheapest fleet costs ${usd:,.0f}, budget.monthlyUsd is ${budget:,.0f}")
            for (name, region), usd in sorted(best.items()) if usd > budget]
