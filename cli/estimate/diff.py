"""What changed between two estimates, like `infracost diff`: per line item `+` added, `-` removed, `~` changed,
in dollars and percent; the expected totals; whether the verdict changed and where each break-even moved.

`tradeoff-infra diff OLD.json NEW.json` and `estimate --compare-to OLD.json` both build the change with
`compare` and print it with `text` / `markdown`, so the two read the same. Both documents are read through
the contract (`cli/estimate/contract.py`); this module only works on their parsed dicts.
"""

from __future__ import annotations

from typing import Any

from cli.render.documents import SPLIT_BASES, decided_by, headline_cost, money

SIGNS = {"added": "+", "removed": "-", "changed": "~", "same": " "}


def pct(before: float, after: float) -> float | None:
    """The change in percent of `before`; None when there was nothing before (a new cost has no percentage)."""
    if before == 0:
        return None if after != 0 else 0.0
    return round((after - before) / abs(before) * 100, 1)


def _key(li: dict) -> tuple:
    return (li["region"], li["resource"], li["category"], li["unit"])


def _sums(items: list[dict]) -> dict[tuple, float]:
    out: dict[tuple, float] = {}
    for li in items:
        out[_key(li)] = round(out.get(_key(li), 0.0) + li["monthlyUsd"], 2)
    return out


def _verdict(doc: dict) -> str | None:
    verdict = doc.get("verdict")
    return verdict.get("choice") if isinstance(verdict, dict) else None


def _break_even(doc: dict) -> dict[str, float | None]:
    found = doc.get("breakEvenRequestsPerMonth") or {}
    return {offer: (b or {}).get("requestsPerMonth") for offer, b in found.items()}


def compared_total(doc: dict, line_sum: float | None = None) -> tuple[float, str]:
    """The expected monthly total the verdict compares, and its basis: the one cost every headline and summary
    shows (`cli.render.documents.headline_cost`, by its `cost_basis` rule: for a `hybrid` verdict the split as configured with its API spend,
    else the compared self-hosted cost, the fleet grown for the traffic where maxNodes cannot carry it). A document
    saved without those falls back to the self-hosted expected total, then to the sum of its line items."""
    return headline_cost(doc, line_sum)


def compare(new: dict, old: dict, against: str) -> dict:
    """The change from `old` to `new` (two stacks' contract documents): line items matched on region,
    resource, category and unit (API spend, category `api`, among them); the expected totals the verdict compares
    (`compared_total`: with a gateway the hybrid total incl. API spend); the verdict; the break-even per API offer."""
    before, after = _sums(old.get("lineItems", [])), _sums(new["lineItems"])
    rows = []
    for k in sorted(set(before) | set(after)):
        b, a = before.get(k, 0.0), after.get(k, 0.0)
        # a line at $0.00 is no cost: from it to a cost is a new cost (`+`), from a cost to it a removed one (`-`)
        status = ("same" if a == b else "added" if k not in before or b == 0 else "removed" if k not in after or a == 0
                  else "changed")
        rows.append({"region": k[0], "resource": k[1], "category": k[2], "unit": k[3], "status": status,
                     "sign": SIGNS[status], "beforeUsd": b, "afterUsd": a, "changeUsd": round(a - b, 2),
                     "changePct": pct(b, a)})
    old_total, old_basis = compared_total(old, round(sum(before.values()), 2))
    new_total, new_basis = compared_total(new, round(sum(after.values()), 2))
    v_old, v_new = _verdict(old), _verdict(new)
    be_old, be_new = _break_even(old), _break_even(new)
    break_even = [{"offer": offer, "beforeRequestsPerMonth": be_old.get(offer), "afterRequestsPerMonth": be_new.get(offer),
                   "moved": offer not in be_old or offer not in be_new or be_old.get(offer) != be_new.get(offer),
                   "offerStatus": "added" if offer not in be_old else "removed" if offer not in be_new else "compared"}
                  for offer in sorted(set(be_old) | set(be_new))]
    # the decision first (verdict, the compared total), the line items last: what a reader of the JSON sees first
    verdict = new.get("verdict") if isinstance(new.get("verdict"), dict) else {}
    return {"stack": new.get("stack"), "against": against,
            "verdict": {"before": v_old, "after": v_new, "changed": v_old is not None and v_new is not None and v_old != v_new,
                        # a set constraint, not cost, decided the new verdict: said beside it, as everywhere else
                        "decidedBy": verdict.get("decidedBy"), "decidedByText": decided_by(new) if verdict else ""},
            "total": {"beforeUsd": old_total, "afterUsd": new_total, "changeUsd": round(new_total - old_total, 2),
                      "changePct": pct(old_total, new_total), "basisBefore": old_basis, "basisAfter": new_basis},
            # the line items' own sum: the configured fleet, another cost where the compared one is the grown fleet
            "lineItemsTotal": {"beforeUsd": round(sum(before.values()), 2), "afterUsd": round(sum(after.values()), 2)},
            "breakEven": break_even, "lineItems": rows}


def match(old_stacks: list[dict], doc: dict) -> tuple[dict | None, str | None]:
    """The old stack document to compare `doc` with: the one from the same stack file, else the one with the
    same stack name; (None, why) when there is none, or several from other files."""
    same_name = [s for s in old_stacks if s["stack"] == doc["stack"]]
    same_file = [s for s in same_name if s.get("stackFile") == doc.get("stackFile")]
    if same_file:
        return same_file[0], None
    if len(same_name) == 1:
        return same_name[0], None
    if not same_name:
        return None, f"has no stack {doc['stack']!r}: nothing to compare"
    files = ", ".join(sorted(str(s.get("stackFile")) for s in same_name))
    return None, (f"has {len(same_name)} stacks named {doc['stack']!r}, none from {doc.get('stackFile')} "
                  f"(from {files}): nothing to compare")


def diff_documents(old_stacks: list[dict], new_stacks: list[dict], against: str) -> dict:
    """Every stack of the new document against its match in the old one; stacks only in one of them listed."""
    changes, unmatched_new, used, added, files = [], [], set(), [], []
    for doc in new_stacks:
        entry, why = match(old_stacks, doc)
        if entry is None:
            unmatched_new.append({"stack": doc["stack"], "stackFile": doc.get("stackFile"), "why": why})
            added.append(doc)
            continue
        used.add(id(entry))
        changes.append(compare(doc, entry, against))
        files.append((doc.get("stackFile"), entry.get("stackFile")))
    removed = [s for s in old_stacks if id(s) not in used]
    only_old = [{"stack": s["stack"], "stackFile": s.get("stackFile")} for s in removed]
    # the summary lists every stack the text's summary lists, in its order: the compared, then those only in one file
    summary = ([summary_entry(c, *f) for c, f in zip(changes, files, strict=True)] + [only_entry(doc, "added") for doc in added]
               + [only_entry(doc, "removed") for doc in removed])
    return {"summary": summary, "against": against, "stacks": changes, "onlyInNew": unmatched_new, "onlyInOld": only_old}


def summary_entry(change: dict, stack_file: str | None = None, stack_file_before: str | None = None) -> dict:
    """One compared stack in a line, first in the JSON like `estimate`'s `summary` (its verdict on line 5): the
    verdict now and before, and the compared expected total before -> after. The same keys as `only_entry`:
    `stackFile` is the new document's file, `stackFileBefore` the old one's where it differs (a stack matched on
    its name from another file), else null."""
    t, v = change["total"], change["verdict"]
    return {"stack": change["stack"], "verdict": v["after"], "change": "compared", "verdictBefore": v["before"],
            "verdictChanged": v["changed"], "decidedBy": v.get("decidedBy"),
            "totalBeforeUsd": t["beforeUsd"], "totalAfterUsd": t["afterUsd"], "changeUsd": t["changeUsd"],
            "changePct": t["changePct"], "stackFile": stack_file,
            "stackFileBefore": stack_file_before if stack_file_before != stack_file else None}


def only_entry(doc: dict, change: str) -> dict:
    """A stack found in only one of the two documents as a summary entry, the same keys as a compared one:
    `change` `added` (only in the new: its verdict and compared total after, nothing before) or `removed` (only in
    the old: its verdict and total before, nothing after); `stackFile` names its file, as the text's row does
    (`stackFileBefore` null: there is no other)."""
    verdict = doc.get("verdict") if isinstance(doc.get("verdict"), dict) else {}
    total = compared_total(doc, round(sum(_sums(doc.get("lineItems", [])).values()), 2))[0]
    new = change == "added"
    return {"stack": doc["stack"], "verdict": _verdict(doc) if new else None, "change": change,
            "verdictBefore": None if new else _verdict(doc), "verdictChanged": False,
            "decidedBy": verdict.get("decidedBy"), "totalBeforeUsd": None if new else total,
            "totalAfterUsd": total if new else None, "changeUsd": None, "changePct": None,
            "stackFile": doc.get("stackFile"), "stackFileBefore": None}


def _verdict_text(change: dict) -> str:
    v = change["verdict"]
    if v["after"] is None:
        return "verdict unknown"
    by = " by constraint" if v.get("decidedByText") else ""  # as the estimate's summary row says it
    if v["before"] is None:
        return f"{v['after'].upper()}{by} (before: unknown)"
    return f"{v['before'].upper()} -> {v['after'].upper()}{by}" if v["changed"] else f"{v['after'].upper()}{by} (unchanged)"


def _only_text(entry: dict) -> tuple[str, str]:
    """A stack found in only one of the two documents (a summary entry, `change` added or removed): its verdict and
    compared expected total in the file it is in, as the JSON summary has them (`only in new: SELF-HOST`,
    `$2,763.49`)."""
    new = entry["change"] == "added"
    verdict = entry["verdict"] if new else entry["verdictBefore"]
    by = " by constraint" if entry.get("decidedBy") not in (None, "", "cost") else ""  # as a compared row says it
    where = "only in new" if new else "only in old"
    total = entry["totalAfterUsd"] if new else entry["totalBeforeUsd"]
    return (f"{where}: {verdict.upper()}{by}" if verdict else f"{where}: verdict unknown",
            "-" if total is None else money(total))


def _only_rows(result: dict, shown) -> list[tuple[str, str, str]]:
    """The stacks found in only one of the two documents, as summary rows (stack, where and its verdict, its compared
    total and its file), in the JSON summary's order."""
    rows = []
    for entry in result["summary"]:
        if entry["change"] in ("added", "removed"):
            where, total = _only_text(entry)
            rows.append((shown(entry["stack"]), where, f"{total} ({shown(entry.get('stackFile'))})"))
    return rows


def summary_lines(result: dict, md: bool) -> list[str]:
    """With several stacks (compared, or found in only one of the documents), one line (a markdown table row) per
    stack first: its verdict and its expected total's change, or `only in old/new`, so every stack is read before the
    first stack's line items."""
    from cli.render.safe import clean

    shown = _md if md else clean  # a user's value on one line: a newline in a stack name shows as \x0a
    compared = [(shown(c["stack"]), _verdict_text(c), f"{money(c['total']['beforeUsd'])} -> {money(c['total']['afterUsd'])} "
                 f"({signed_money(c['total']['changeUsd'])}, {pct_text(c['total']['changePct'])})")
                for c in result["stacks"]]
    only = _only_rows(result, shown)
    rows = compared + only
    if len(rows) < 2:
        return []
    if md:
        return (["| stack | verdict | expected total |", "| --- | --- | --- |"]
                + [f"| {s} | {v} | {t} |" for s, v, t in rows] + [""])
    width, v_width = max(len(s) for s, _, _ in rows), max(len(v) for _, v, _ in rows)
    besides = f", {len(only)} in only one of the two" if only else ""
    stacks = "stack" if len(compared) == 1 else "stacks"  # one compared beside one in only one file: `1 stack`
    return ([f"{len(compared)} {stacks} compared against {result['against']}{besides} (verdict; expected total):"]
            + [f"  {s.ljust(width)}  {v.ljust(v_width)}  {t}" for s, v, t in rows] + [""])


def increase_over(change: dict, limit_pct: float) -> bool:
    """True when the expected total rose by more than `limit_pct` percent (any rise from $0 counts)."""
    t = change["total"]
    if t["changeUsd"] <= 0:
        return False
    return t["changePct"] is None or t["changePct"] > limit_pct


def signed_money(value: float) -> str:
    return f"{'+' if value > 0 else '-' if value < 0 else '±'}${abs(value):,.2f}"


def pct_text(value: float | None) -> str:
    return "new" if value is None else f"{value:+.1f}%"


def requests_text(value: Any) -> str:
    return "never" if value is None else f"{value:,.0f} requests/month"


def headline(change: dict) -> list[str]:
    """The total, the verdict and the break-evens, one line each (the lines a reader needs first)."""
    t = change["total"]
    before, after = t.get("basisBefore", "self-hosted"), t.get("basisAfter", "self-hosted")
    basis = (f" ({after}{', incl. API spend' if after in SPLIT_BASES else ''})" if before == after
             else f" ({before} -> {after}: the bases differ)")
    lines = [f"expected total{basis}: {money(t['beforeUsd'])} -> {money(t['afterUsd'])} "
             f"({signed_money(t['changeUsd'])}, {pct_text(t['changePct'])})"]
    items = change.get("lineItemsTotal")
    if items and (round(abs(items["beforeUsd"] - t["beforeUsd"]), 2) >= 0.01
                  or round(abs(items["afterUsd"] - t["afterUsd"]), 2) >= 0.01):
        moved = round(items["afterUsd"] - items["beforeUsd"], 2)
        lines.append(f"line items as configured (not the cost compared): {money(items['beforeUsd'])} -> "
                     f"{money(items['afterUsd'])} ({signed_money(moved)}, "
                     f"{pct_text(pct(items['beforeUsd'], items['afterUsd']))})")
    v = change["verdict"]
    by = f" (decided by {v['decidedByText']})" if v.get("decidedByText") else ""
    if v["before"] is None or v["after"] is None:
        lines.append("verdict: unknown in the saved document (saved before the verdict was recorded)")
    elif v["changed"]:
        lines.append(f"verdict changed: {v['before'].upper()} -> {v['after'].upper()}{by}")
    else:
        lines.append(f"verdict unchanged: {v['after'].upper()}{by}")
    for b in change["breakEven"]:
        status = b.get("offerStatus", "compared")
        if status == "removed":
            was = b["beforeRequestsPerMonth"]
            lines.append(f"offer removed from the stack ({b['offer']}): " + (
                "it had no break-even" if was is None else f"its break-even was {requests_text(was)}"))
        elif status == "added":
            now = b["afterRequestsPerMonth"]
            lines.append(f"offer added to the stack ({b['offer']}): " + (
                "no break-even against it" if now is None else f"break-even {requests_text(now)}"))
        elif b["moved"]:
            lines.append(f"break-even moved ({b['offer']}): {requests_text(b['beforeRequestsPerMonth'])} -> "
                         f"{requests_text(b['afterRequestsPerMonth'])}")
    return lines


def _changed_rows(change: dict) -> list[dict]:
    return [r for r in change["lineItems"] if r["status"] != "same"]


def text(change: dict) -> str:
    """One stack's change as plain text: headline lines, then one line per changed line item."""
    from cli.render.safe import clean

    lines = [f"{clean(change['stack'])}: change against {clean(change['against'])}"]
    lines += [f"  {line}" for line in headline(change)]
    rows = _changed_rows(change)
    if not rows:
        lines.append("  no line item changed")
    for r in rows:
        lines.append(f"  {r['sign']} {r['region']} {r['resource']} ({r['category']}, {r['unit']}): "
                     f"{money(r['beforeUsd'])} -> {money(r['afterUsd'])} "
                     f"({signed_money(r['changeUsd'])}, {pct_text(r['changePct'])})")
    return "\n".join(lines) + "\n"


def _md(value: Any) -> str:
    from cli.render.safe import markdown as inert  # a user value that renders as it reads, on one line

    return inert(value)


def markdown(change: dict) -> str:
    """One stack's change as GitHub markdown: the headline lines, then a table of the changed line items."""
    lines = [f"**{_md(change['stack'])}: change against {_md(change['against'])}**", ""]
    # our own arrow stays a plain `->` (as in the summary table; GitHub shows it as it reads): escaped whole, the
    # headline read `-&gt;`. No `<` is unescaped, so no tag can open.
    lines += [f"- {_md(line).replace(' -&gt; ', ' -> ')}" for line in headline(change)]
    rows = _changed_rows(change)
    lines.append("")
    if not rows:
        lines.append("No line item changed.")
    else:
        lines += ["| | region | resource | category | before | after | change | % |",
                  "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |"]
        lines += [f"| `{r['sign']}` | {_md(r['region'])} | {_md(r['resource'])} | {_md(r['category'])} | "
                  f"{money(r['beforeUsd'])} | {money(r['afterUsd'])} | {signed_money(r['changeUsd'])} | "
                  f"{pct_text(r['changePct'])} |" for r in rows]
    return "\n".join(lines) + "\n"


def fit(text_out: str, width: int) -> str:
    """Plain text wrapped to `width` columns at spaces, each continuation under its line's text plus two (a hanging
    indent, cli/render/grid.py `hang`), so a terminal never soft-wraps a line through a `$31,472.79` or a `+20.5%`.
    A word is never split (a path longer than the width keeps its own line)."""
    from cli.render.grid import hang

    return "\n".join(piece for line in text_out.split("\n") for piece in hang(line, width))


def render(result: dict, fmt: str, width: int | None = None) -> str:
    """`diff`'s output in `table` (plain text, wrapped to `width` columns when given), `json` or `markdown`."""
    if fmt == "json":
        import json

        return json.dumps(result, indent=2) + "\n"
    from cli.render.safe import clean, clean_text

    md = fmt == "markdown"
    shown = _md if md else clean
    head = summary_lines(result, md)
    parts = (["\n".join(head)] if head else []) + [(markdown if md else text)(change) for change in result["stacks"]]
    bullet = "- " if md else ""
    if not head:  # else the summary lists them (`only in old/new`), first
        for entry in result["summary"]:
            if entry["change"] in ("added", "removed"):
                sign, which = ("+", "new") if entry["change"] == "added" else ("-", "old")
                where, total = _only_text(entry)
                verdict = where.split(": ", 1)[1]
                parts.append(f"{bullet}{sign} {shown(entry['stack'])} ({shown(entry.get('stackFile'))}): only in the "
                             f"{which} estimate: {verdict}, expected total {total}\n")
    out = "\n".join(parts)
    if md:
        return out
    return fit(clean_text(out), width) if width else clean_text(out)
