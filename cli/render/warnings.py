"""Warnings shown once: with several stacks, a warning whose text repeats across stacks is printed once,
at the end, with the stacks it applies to and their count (issue 13 item 7). The JSON keeps every stack's
warnings unchanged; only the text formats group."""

from __future__ import annotations

from infra.spec.warning_ids import warning_id


def shared_warnings(docs: list[dict]) -> dict[str, list[str]]:
    """Warning text -> the stacks (in order) that have it, for texts two or more stacks share."""
    seen: dict[str, list[str]] = {}
    for doc in docs:
        for text in dict.fromkeys(doc["warnings"]):
            seen.setdefault(text, []).append(doc["stack"])
    return {text: stacks for text, stacks in seen.items() if len(stacks) >= 2}


def applies_to(stacks: list[str]) -> str:
    """`(3 stacks: dev, prod-us, prod-global)`."""
    return f"({len(stacks)} stacks: {', '.join(stacks)})"


def labelled(text: str) -> str:
    """`[stale-prices]: the price catalog is ...`: the id a stack's `acknowledgedWarnings` accepts it by
    (docs/stack-file.md); a warning of no known kind is shown as `[other]`, which cannot be acknowledged."""
    return f"[{warning_id(text)}]: {text}"
