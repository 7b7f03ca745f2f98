"""Cost components per priced record kind (Infracost's rule: one module per resource carries all of its
components, fixed and usage-based). Each module in `MODULES` has:

- `KIND`: the record type (`cli/estimate/records.py`) it prices;
- `fixed(record, ctx) -> list[LineItem]`: what the record costs whatever the traffic (priced once);
- `usage(record, ctx, run) -> list[LineItem]`: what it costs at one traffic volume (`Run`), if anything;
- `USAGE`: when its usage lines come in the estimate: `fleet` (node groups, in record order), `region`
  (per region of the capacity plan, modules in `MODULES` order) or `global` (after every region);
- optionally `FIXED_LAST = True`: its fixed lines follow every other record's (the weights mirror's);
- optionally `usage_key(record, run) -> hashable`: its usage lines depend on the run only through this key
  (`CostModel.total` prices each key once), or `USAGE_CONSTANT = True`: they do not depend on the run at all.

Costs of the stack rather than of a record live beside them: `data_transfer` (internet egress of
responses, per region) and `operations` (people). `CostModel` runs them all for one traffic volume.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from cli import capacity
from cli.estimate import records
from cli.estimate.costs import (
    block_storage, control_plane, data_transfer, global_accelerator, interface_endpoint, kms_key, load_balancer,
    log_group, metric_alarm, nat_gateway, node_group, operations, public_ipv4, weights_mirror,
)
from cli.estimate.line_item import GB, HOURS, LineItem
from cli.estimate.prices import PriceBook
from cli.estimate.usage import UsageAssumptions
from infra.price_catalog import PriceCatalog
from infra.spec import StackSpec

MODULES = (node_group, nat_gateway, weights_mirror, load_balancer, log_group, global_accelerator, control_plane,
           public_ipv4, kms_key, metric_alarm, interface_endpoint, block_storage)
"""Every priced record kind's cost module. Fixed lines come in inventory order; usage lines in this order
(within a region: data transfer first, then these)."""
BY_KIND = {module.KIND: module for module in MODULES}


class CostContext:
    """What a cost module may read: the stack, the usage assumptions, the prices, and the other records
    (a NAT gateway's processed bytes depend on whether its region has a weights mirror). Set at construction."""

    def __init__(self, spec: StackSpec, records_: list[records.PricedRecord], book: PriceBook, as_of: date,
                 usage: UsageAssumptions):
        self.spec, self.records, self.book, self.as_of, self.usage = spec, records_, book, as_of, usage
        self.warnings: list[str] = []
        self.memo: dict = {}
        """Per-estimate values a module computes once (keyed by the module's own tuples)."""
        t = spec.traffic
        self.out_gb_per_request = Decimal(t.output_tokens_per_request * usage.bytes_per_output_token + 1000) / GB
        self.in_gb_per_request = Decimal(t.input_tokens_per_request * usage.bytes_per_input_token + 1000) / GB
        self._by_kind: dict[tuple[type, str | None], list] = {}
        self._mirrors: dict[str, records.WeightsMirrorBucket] = {}
        for record in records_:
            self._by_kind.setdefault((type(record), None), []).append(record)
            self._by_kind.setdefault((type(record), record.region), []).append(record)
            if isinstance(record, records.WeightsMirrorBucket):
                self._mirrors[record.region] = record

    def of(self, kind: type, region: str | None = None) -> list:
        """The records of one kind (in inventory order), in one region when given."""
        return self._by_kind.get((kind, region), [])

    def mirror(self, region: str) -> records.WeightsMirrorBucket | None:
        """The weights mirror a region serves from (one per region)."""
        return self._mirrors.get(region)

    def weights_bytes(self, region: str) -> float:
        """Weight bytes a region serves (its own pin's source for a canary)."""
        spec_region = next((r for r in self.spec.regions if r.region == region), None)
        source = self.spec.model_for(spec_region)[0] if spec_region else None
        return self.spec.weight_bytes(source) or 0.0


@dataclass(frozen=True)
class Run:
    """One traffic volume: requests a month and the capacity plans for it (`floors`: the plans at zero
    traffic, the low end of every fleet range)."""

    requests: float
    plans: dict[str, capacity.RegionCapacity]
    floors: dict[str, capacity.RegionCapacity] = field(default_factory=dict)
    _starts: dict[str, Decimal] = field(default_factory=dict, compare=False, repr=False)

    def region_requests(self, region: str) -> Decimal:
        return Decimal(str(self.requests * self.plans[region].traffic_share))

    def node_starts(self, region: str) -> Decimal:
        """GPU node starts a month in a region (every pool; counted once per run)."""
        if region not in self._starts:
            self._starts[region] = Decimal(sum(p.node_starts_per_day for p in self.plans[region].pools)) * HOURS / 24
        return self._starts[region]


class CostModel:
    """Turns the priced records into line items for one traffic volume; what does not depend on traffic is
    priced once, here, at construction."""

    def __init__(self, spec: StackSpec, records_: list[records.PricedRecord], catalog: PriceCatalog, as_of: date,
                 usage: UsageAssumptions):
        self.book = PriceBook(catalog)
        self.ctx = CostContext(spec, records_, self.book, as_of, usage)
        self.fixed_items: list[LineItem] = []
        for last in (False, True):
            for record in records_:
                module = BY_KIND[type(record)]
                if getattr(module, "FIXED_LAST", False) is last:
                    self.fixed_items.extend(module.fixed(record, self.ctx))
        self.fixed_items.extend(operations.items(self.ctx))
        self.throughput: dict = {}
        """Each replica's predicted throughput, filled by the capacity plan (`throughput_band` replaces it)."""
        self.floors = {p.region: p for p in capacity.plan(spec, 0, throughput_cache=self.throughput)}
        node_group.resolve_prices(self.ctx)
        self._fleet = [(BY_KIND[type(r)], r) for r in records_ if BY_KIND[type(r)].USAGE == "fleet"]
        self._regional = [m for m in MODULES if m.USAGE == "region"]
        self._global = [(m, r) for m in MODULES if m.USAGE == "global" for r in self.ctx.of(m.KIND)]
        self._fixed_total = {ops: sum((li.monthly for li in self.fixed_items if ops or li.category != "operations"),
                                      Decimal(0)) for ops in (False, True)}
        self._usage_memo: dict = {}

    @property
    def warnings(self) -> list[str]:
        return self.ctx.warnings

    def run(self, requests_per_month: float, *, unbounded: bool = False, throughput_cache: dict | None = None,
            fleet_requests: float | None = None,
            max_replicas: dict[str, int] | None = None) -> tuple[list[LineItem], list[capacity.RegionCapacity]]:
        """Line items and plans at `requests_per_month`; `throughput_cache` replaces the replicas' predicted
        throughput (the band's ends, `throughput_band`). The hybrid estimate (cli/estimate/hybrid.py) sizes the
        GPU fleet for `fleet_requests` only (the self-hosted routes' share; the load balancer and egress still
        carry every request, the gateway answers them all) and caps it at `max_replicas` per region."""
        cache = self.throughput if throughput_cache is None else throughput_cache
        fleet = requests_per_month if fleet_requests is None else fleet_requests
        plans = capacity.plan(self.ctx.spec, fleet, unbounded=unbounded, throughput_cache=cache, max_replicas=max_replicas)
        run = Run(requests_per_month, {p.region: p for p in plans}, self.floors)
        ctx, items = self.ctx, list(self.fixed_items)
        for module, record in self._fleet:
            items.extend(module.usage(record, ctx, run))
        for plan in plans:
            items.extend(data_transfer.egress(ctx, run, plan.region))
            for module in self._regional:
                for record in ctx.of(module.KIND, plan.region):
                    items.extend(module.usage(record, ctx, run))
        for module, record in self._global:
            items.extend(module.usage(record, ctx, run))
        return items, plans

    def total(self, requests_per_month: float, *, unbounded: bool = False, include_operations: bool = True,
              throughput_cache: dict | None = None) -> Decimal:
        """What `run` costs in all, without its line-item list: the sum of the same line items' monthly amounts
        (operations left out unless `include_operations`), each line rounded as `run` rounds it. The fixed
        items are summed once; a module's usage lines are priced once per `usage_key` (or once, when
        `USAGE_CONSTANT`). The break-even and the flip points call this ~40 times a stack."""
        cache = self.throughput if throughput_cache is None else throughput_cache
        plans = capacity.plan(self.ctx.spec, requests_per_month, unbounded=unbounded, throughput_cache=cache)
        run = Run(requests_per_month, {p.region: p for p in plans}, self.floors)
        ctx, memo = self.ctx, self._usage_memo
        total = self._fixed_total[include_operations]

        def usage(module, record) -> Decimal:
            keyed = getattr(module, "usage_key", None)
            if throughput_cache is not None or (keyed is None and not getattr(module, "USAGE_CONSTANT", False)):
                # memoised only with the model's own throughput (another cache's lines differ, its id may be reused)
                return sum((li.monthly for li in module.usage(record, ctx, run)), Decimal(0))
            key = (id(record), None if keyed is None else keyed(record, run))
            if key not in memo:
                memo[key] = sum((li.monthly for li in module.usage(record, ctx, run)), Decimal(0))
            return memo[key]

        for module, record in self._fleet:
            total += usage(module, record)
        for plan in plans:
            total += sum((li.monthly for li in data_transfer.egress(ctx, run, plan.region)), Decimal(0))
            for module in self._regional:
                for record in ctx.of(module.KIND, plan.region):
                    total += usage(module, record)
        for module, record in self._global:
            total += usage(module, record)
        return total
