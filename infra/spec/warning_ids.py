"""Short stable ids for the estimate's warnings, so a stack can acknowledge one it accepts
(`acknowledgedWarnings`, docs/stack-file.md) and the output can show which id to write (issue 13 item 7).

A warning is plain text built where its fact is known (cli/estimate, cli/capacity.py); its id is read off
that text here. tests/cli/test_noise.py holds every warning the shipped stacks print to an id other than
`other`, so a reworded warning that no longer matches fails there. Pure: no Pulumi, no CLI."""

from __future__ import annotations

import re

# id -> what identifies its text; first match wins
WARNING_IDS: dict[str, re.Pattern[str]] = {
    "stale-prices": re.compile(r"^the price catalog is \d+ days old"),
    "old-instance-prices": re.compile(r"^instance prices for .+ are older than the catalog's"),
    "derived-price": re.compile(r"has no published price in the catalog; it is derived"),
    "spot-price": re.compile(r" is spot: priced at the expected Spot Advisor discount"),
    "reserved-commitment": re.compile(r" is reserved-1y: "),
    "us-east-1-rates": re.compile(r"^platform items priced at us-east-1 rates"),
    "tpot-out-of-reach": re.compile(r"traffic\.tpotTargetMs \S+ ms is out of reach"),
    "fleet-capped": re.compile(r"of the month's tokens would queue"),
    "idle-floor": re.compile(r"the floor fleet .* mostly idle"),
    "eks-extended-support": re.compile(r"left EKS standard support"),
    "gateway-budget-per-pod": re.compile(r"apiBudgetMonthlyUsd \S+ holds while the gateway runs at its minReplicas"),
    "gateway-provider-budget": re.compile(r"^the split pays \S+ \$[\d,.]+ a month but "),
    "replica-concurrency-above-batch": re.compile(r"gateway\.replicaConcurrency \d+ exceeds the capacity model's planned"),
    "not-deployable": re.compile(r"^priced, but not deployable as is: "),
    "eks-version-unknown": re.compile(r"EKS version \S+ is not in the catalog's support calendar"),
    "gateway-system-nodes": re.compile(r"the gateway's \d+ pods at most .* take more than half of the "),
    "split-queues": re.compile(r"the fleet as configured \(maxReplicas/maxNodes\) leaves \S+ of the tokens of routes"),
    "gateway-api-budget": re.compile(r"^the split .+ spends \$[\d,.]+ a month on APIs, above gateway\.apiBudgetMonthlyUsd"),
}
# the id of every other warning; not acknowledgeable (it would silence warnings nobody has read)
OTHER = "other"


def warning_id(text: str) -> str:
    """The id of a warning's text: `stale-prices`, ..., or `other`."""
    return next((wid for wid, pattern in WARNING_IDS.items() if pattern.search(text)), OTHER)


def acknowledged(warnings: list[str], ids: list[str] | tuple[str, ...]) -> list[str]:
    """`warnings` less those whose id is in `ids`."""
    return [w for w in warnings if warning_id(w) not in ids]
