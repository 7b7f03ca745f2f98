"""Application / network load balancer: its hours, the public IPv4 of its subnet nodes when internet-facing,
and the capacity units (LCU-hours) the region's traffic uses."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from cli import capacity
from cli.estimate.line_item import HOURS, LineItem
from cli.estimate.records import ElasticLoadBalancer
from infra.price_catalog import HOURS_PER_MONTH
from infra.spec import StackSpec

if TYPE_CHECKING:
    from cli.estimate.costs import CostContext, Run

KIND = ElasticLoadBalancer
USAGE = "region"


def fixed(record: ElasticLoadBalancer, ctx: CostContext) -> list[LineItem]:
    price, note = ctx.book.platform(record.region, "albHour" if record.kind == "application" else "nlbHour")
    out = [LineItem.fixed(record.region, record.name, "load-balancer", f"{record.kind} load balancer hours", "hours",
                          HOURS, price, note)]
    if record.internet_facing:
        ip_price, ip_note = ctx.book.platform(record.region, "publicIpv4Hour")
        out.append(LineItem.fixed(record.region, record.name, "load-balancer",
                                  f"public IPv4 of the load balancer's {record.subnets} subnet nodes", "address-hours",
                                  HOURS * record.subnets, ip_price, ip_note))
    return out


def usage(record: ElasticLoadBalancer, ctx: CostContext, run: Run) -> list[LineItem]:
    lcu = lcu_hours(run.region_requests(record.region), ctx.in_gb_per_request + ctx.out_gb_per_request, ctx.spec)
    price, note = ctx.book.platform(record.region, "albLcuHour" if record.kind == "application" else "nlbLcuHour")
    return [LineItem.fixed(record.region, record.name, "load-balancer",
                           "load balancer capacity units (new connections / processed bytes)", "LCU-hours", lcu, price,
                           note, usage_based=True)]


def lcu_hours(requests: Decimal, gb_per_request: Decimal, spec: StackSpec) -> Decimal:
    """ALB LCU-hours: per hour the largest of new connections/25 per s, processed GB/1 per h, active
    connections/3000 per min (AWS ELB pricing dimensions), hour by hour over the day profile."""
    per_hour = float(requests) / HOURS_PER_MONTH
    seconds_per_request = (spec.traffic.ttft_target_ms + spec.traffic.output_tokens_per_request * spec.traffic.tpot_target_ms) / 1000
    per_request_lcu = max(1 / 3600 / 25, float(gb_per_request), seconds_per_request / 60 / 60 / 3000)
    # every dimension is linear in the hour's requests, so the max is per request too
    profile = capacity.day_profile(spec.traffic.peak_to_average, 24)
    lcu = sum(per_hour * f * per_request_lcu for f in profile) / 24 * HOURS_PER_MONTH
    return Decimal(str(round(lcu, 4)))
