"""The envelope of `estimate --format json`: `{"summary": [...], "version": 1, "currency": "USD", "stacks": [...]}`.

Its own module, plain Python, so that printing a saved or cached estimate as JSON loads neither the estimate
package nor the contract's pydantic models (`cli/estimate/contract.py`, which re-exports these names and
parses saved estimates against the typed contract).

The decision comes first, as in every format (docs/estimate.md "Output: the decision first"): `summary`, one
short entry per stack, is the document's first key, and each stack's document starts with its decision keys,
so the pretty-printed JSON names the verdict by its fifth line. Both are derived from the stacks' documents
here, whenever a document is written (a fresh estimate, a cached one, `render` of a saved one, saved before
`summary` existed): they carry nothing the stacks do not.
"""

from __future__ import annotations

CONTRACT_VERSION = 1
"""Raise when a key the readers rely on changes meaning or goes away (adding keys keeps the version)."""
CURRENCY = "USD"

DECISION_KEYS = ("stack", "stackFile", "verdict", "selfHosted", "api", "breakEvenRequestsPerMonth", "budget",
                 "defaultsUsed")
"""A stack document's keys that decide, first and in the decision block's order; the others follow as built."""


def _amount(value: object) -> float | int | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def cheapest_offer(doc: dict) -> dict | None:
    """The API offer with the lowest monthly cost at the stack's traffic (the first of equals, as the verdict picks);
    an entry without a monthly amount (a damaged saved estimate) is passed over. The summary and every format's
    decision block (cli/render/documents.py) name this one."""
    priced = [o for o in doc.get("api") or [] if isinstance(o, dict) and _amount(o.get("monthlyUsd")) is not None]
    return min(priced, key=lambda o: o["monthlyUsd"]) if priced else None


def summary_entry(doc: dict) -> dict:
    """A stack's decision in one flat entry: verdict (and what decided it), the compared self-hosted monthly cost
    (and for a gateway stack the split's), the cheapest API offer and its monthly cost, break-even against it,
    budget status. A key its document lacks (a saved estimate older than it) is null."""
    def part(key: str) -> dict:
        value = doc.get(key)
        return value if isinstance(value, dict) else {}

    verdict, self_hosted, budget, hybrid = part("verdict"), part("selfHosted"), part("budget"), part("hybrid")
    cheapest = cheapest_offer(doc)
    break_even = part("breakEvenRequestsPerMonth").get(cheapest.get("offer")) if cheapest else None
    over = budget.get("overBudget")
    return {
        "stack": doc.get("stack"),
        "verdict": verdict.get("choice"),
        "decidedBy": verdict.get("decidedBy"),
        "selfHostedMonthlyUsd": _amount(self_hosted.get("comparedMonthlyUsd")),
        "hybridMonthlyUsd": _amount((hybrid.get("monthlyUsd") or {}).get("expected")) if hybrid else None,
        "cheapestApiOffer": cheapest.get("offer") if cheapest else None,
        "cheapestApiMonthlyUsd": cheapest["monthlyUsd"] if cheapest else None,
        "breakEvenRequestsPerMonth": break_even.get("requestsPerMonth") if isinstance(break_even, dict) else None,
        "budgetMonthlyUsd": _amount(budget.get("monthlyUsd")),
        "budgetStatus": "over" if over is True else "within" if over is False else "none",
    }


def decision_first(doc: dict) -> dict:
    """The stack's document with DECISION_KEYS first (those it has); every key and value kept."""
    first = {key: doc[key] for key in DECISION_KEYS if key in doc}
    return {**first, **{key: value for key, value in doc.items() if key not in first}}


def envelope(stacks: list[dict]) -> dict:
    """The document `--format json` writes around the stacks' documents: the summary first."""
    return {"summary": [summary_entry(doc) for doc in stacks], "version": CONTRACT_VERSION, "currency": CURRENCY,
            "stacks": [decision_first(doc) for doc in stacks]}
