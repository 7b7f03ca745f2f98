"""A saved `estimate --format json` document read for `diff` and `estimate --compare-to`, and the
`--fail-on-increase` guardrail both commands apply (one home: command modules do not import each other)."""

from __future__ import annotations

import pathlib

from cli.errors import CliError
from cli.render.safe import paths_shown, shown_path
from infra import files

MAX_JSON_INPUT_BYTES = 64 * files.MIB
"""A saved estimate is a few MB."""


def load_saved(path: pathlib.Path, option: str) -> list[dict]:
    """The stacks of a saved `estimate --format json` document, parsed as the contract; bad input names
    `option` (the argument or option that named the file) and the first wrong key."""
    from cli.estimate.contract import ContractError, parse

    def bad(what: str) -> CliError:
        return CliError(f"{option} {shown_path(path)}: {what} (expected a saved `estimate --format json` document)")

    try:
        data = files.finite_json(files.read_text(path, MAX_JSON_INPUT_BYTES))
    except files.UnreadableFile as err:
        raise CliError(f"{option} {paths_shown(err, path)}") from None
    except ValueError as err:
        raise bad(f"not JSON ({err})") from None
    try:
        document = parse(data)
    except ContractError as err:
        raise bad(str(err)) from None
    # exclude_unset: a key the document leaves out (a stack without a gateway has no `hybrid`) stays out
    stacks = [_human_notes(stack.model_dump(exclude_unset=True)) for stack in document.stacks]
    seen: set[tuple[object, object]] = set()
    for stack in stacks:  # the same stack file twice (an edited or merged file): compared twice, listed twice
        key = (stack.get("stack"), stack.get("stackFile"))
        if key in seen:
            source = f" (from {shown_path(key[1])})" if key[1] else ""
            raise CliError(f"{option} {shown_path(path)}: holds stack {key[0]!r}{source} twice; save it again with "
                           "`tradeoff-infra estimate --format json`")
        seen.add(key)
    return stacks


def _human_notes(doc: dict) -> dict:
    """A document saved before human counts wrote the break-even note "... up to 1e11 requests/month": its counts
    in e-notation read as today's (100B, `cli.numbers.human`), so a re-rendered old estimate matches a fresh one."""
    import re

    from cli.numbers import human

    for entry in (doc.get("breakEvenRequestsPerMonth") or {}).values():
        note = entry.get("note") if isinstance(entry, dict) else None
        if isinstance(note, str):
            entry["note"] = re.sub(r"\b\d+(?:\.\d+)?e\+?\d+\b", lambda m: human(float(m.group())), note)
    return doc


def check_increase(changes: list[dict], limit_pct: float | None) -> list[str]:
    """The stacks whose expected total rose by more than `limit_pct` percent, with the amounts."""
    from cli.estimate.diff import increase_over, money, pct_text

    if limit_pct is None:
        return []
    return [f"{c['stack']} {money(c['total']['beforeUsd'])} -> {money(c['total']['afterUsd'])} "
            f"({pct_text(c['total']['changePct'])})" for c in changes if increase_over(c, limit_pct)]


def percent_option(value: float | None, option: str = "--fail-on-increase") -> float | None:
    if value is not None and not 0 <= value <= 1e6:
        raise CliError(f"{option} {value}: a percentage from 0 to 1000000")
    return value
