"""Where the stack's requests go, from the stack spec alone (pure, no Pulumi): each region's share.

The capacity model (`cli/capacity.py`) sizes each region's fleet for its share and the gateway's overflow rule
(`infra/gateway_overflow.py`) reserves each region's fleet for its share of the routes that cannot leave: one home."""

from __future__ import annotations

from infra.spec import StackSpec


def traffic_shares(spec: StackSpec) -> dict[str, float]:
    """Each region's share of the requests it serves.

    Users reach the region nearest them (`trafficShare`, equal when not given); Global Accelerator
    serves `trafficDial`% of that there and sends the rest to the other regions, in proportion to
    what they serve themselves.
    """
    if spec.endpoint.mode != "global-accelerator" or len(spec.regions) == 1:
        return {r.region: (1.0 if i == 0 else 0.0) for i, r in enumerate(spec.regions)}
    equal = 1 / len(spec.regions)
    base = {r.region: r.traffic_share if r.traffic_share is not None else equal for r in spec.regions}
    served = {r.region: base[r.region] * r.traffic_dial / 100 for r in spec.regions}
    spill = sum(base.values()) - sum(served.values())
    total_served = sum(served.values())
    if total_served == 0:
        return {r: 0.0 for r in served}
    return {r: v + spill * v / total_served for r, v in served.items()}
