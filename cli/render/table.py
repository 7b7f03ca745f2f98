"""Rich tables for the terminal, from the estimate contract dicts."""

from __future__ import annotations

import io
import os
import threading

from rich.console import Console, Group
from rich.table import Table
from rich.markup import escape
from rich.text import Text

from cli.render.documents import defaults_line, unit_price
from cli.render.safe import clean_text, markup as m


def money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


def requests(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def stack_tables(doc: dict, *, verbose: bool = False) -> Group:
    parts: list = []
    catalog = doc["priceCatalog"]
    stale = " [yellow](stale: older than 90 days)[/yellow]" if catalog["stale"] else ""
    parts.append(Text.from_markup(
        f"[bold]stack {m(doc['stack'])}[/bold] ({m(doc['stackFile'])}) — priced {m(doc['asOf'])} with AWS prices as of "
        f"{m(catalog['oldestPriceUsed'])} ({m(catalog['ageDays'])} days, oldest price this stack uses){stale}; "
        f"API prices: {m(doc['apiPrices']['source'])}"))

    items = Table(title="line items (monthly, expected; min..max where autoscaling makes a range)", title_justify="left")
    for col, just in (("region", "left"), ("resource", "left"), ("category", "left"), ("what", "left"),
                      ("quantity", "right"), ("unit price", "right"), ("monthly", "right"), ("min..max", "right")):
        items.add_column(col, justify=just, overflow="fold")
    for li in sorted(doc["lineItems"], key=lambda li: (-li["monthlyUsd"], li["region"], li["resource"])):
        if li["monthlyUsd"] < 0.005 and not verbose:
            continue
        span = "" if li["monthlyUsdMin"] == li["monthlyUsdMax"] else f"{money(li['monthlyUsdMin'])}..{money(li['monthlyUsdMax'])}"
        items.add_row(*map(m, (li["region"], li["resource"], li["category"], li["description"],
                               f"{li['quantity']:,.2f} {li['unit']}", unit_price(li["unitPriceUsd"]), money(li["monthlyUsd"]),
                               span)))
    parts.append(items)

    totals = Table(title="monthly totals", title_justify="left")
    for col in ("category", "min", "expected", "max"):
        totals.add_column(col, justify="left" if col == "category" else "right")
    for cat, v in doc["categories"].items():
        totals.add_row(m(cat), money(v["min"]), money(v["expected"]), money(v["max"]))
    sh = doc["selfHosted"]
    ops = "" if sh["operationsIncluded"] else " (operations excluded)"
    totals.add_row(f"[bold]self-hosted total{ops}[/bold]", money(sh["monthlyUsd"]["min"]),
                   f"[bold]{money(sh['monthlyUsd']['expected'])}[/bold]", money(sh["monthlyUsd"]["max"]))
    parts.append(totals)

    cap = Table(title="capacity", title_justify="left")
    for col in ("region", "pool", "GPU", "share", "avg out tok/s", "tok/s per replica", "replicas avg/peak/max",
                "nodes min/expected/max", "queued"):
        cap.add_column(col, justify="left" if col in ("region", "pool", "GPU") else "right")
    for c in doc["capacity"]:
        cap.add_row(*map(m, (c["region"], c["pool"], f"{c['instanceType']} ({c['gpu']}, TP{c['tensorParallel']})",
                             f"{c['trafficShare']:.0%}", f"{c['averageOutputTokensPerSecond']:,.0f}",
                             f"{c['outputTokensPerSecondPerReplica']:,.0f}"
                             + (" (measured)" if c.get("throughputBasis") == "measured" else ""),
                             f"{c['replicasAtAverage']}/{c['replicasAtPeak']}/{c['maxReplicas']}",
                             f"{c['minNodes']}/{c['expectedNodes']:g}/{c['maxNodes']}", f"{c['queuedShare']:.1%}")))
    parts.append(cap)

    api = Table(title=f"API comparison at {doc['traffic']['requestsPerMonth']:,} requests/month "
                      f"({doc['traffic']['tokensPerMonth']:,} tokens)", title_justify="left")
    for col in ("offer", "$/1M in", "$/1M out", "monthly", "$/1M tokens", "break-even requests/month", "note"):
        api.add_column(col, justify="left" if col in ("offer", "note") else "right", overflow="fold")
    api.add_row("[bold]self-hosted (compared)[/bold]", "", "", money(sh["comparedMonthlyUsd"]),
                money(sh["comparedPerMillionTokensUsd"]), "", sh["comparedBasis"])
    for offer in doc["api"]:
        be = doc["breakEvenRequestsPerMonth"][offer["offer"]]
        api.add_row(*map(m, (offer["offer"], f"{offer['inputPerMTokUsd']:g}", f"{offer['outputPerMTokUsd']:g}",
                             money(offer["monthlyUsd"]), money(offer["perMillionTokensUsd"]),
                             requests(be["requestsPerMonth"]), be["note"])))
    parts.append(api)

    verdict = doc["verdict"]
    lines = [f"[bold]verdict: {m(verdict['choice'].upper())}[/bold] (self-hosted {money(sh['comparedMonthlyUsd'])} a month, "
             f"{m(sh['comparedBasis'])})"] + [f"  - {m(r)}" for r in verdict["reasons"]]
    if defaults_line(doc):
        lines.append(m(defaults_line(doc)))
    if doc["budget"]:
        b = doc["budget"]
        state = "[red]OVER budget[/red]" if b["overBudget"] else "[green]within budget[/green]"
        lines.append(f"budget: expected {money(b['expectedUsd'])} vs {money(b['monthlyUsd'])}: {state} "
                     f"(headroom {money(b['headroomUsd'])}; judged on the {m(b['basis'])})")
    if doc["unpricedResources"]:
        lines.append("[red]not priced (unknown types):[/red] " + ", ".join(
            f"{m(u['type'])} {m(u['name'])}" for u in doc["unpricedResources"]))
    free = sum(n["count"] for n in doc["noCostResources"])
    lines.append(f"{free} resources of {len(doc['noCostResources'])} types cost nothing by themselves "
                 "(listed with reasons in --format json)")
    for w in doc["warnings"]:
        lines.append(f"[yellow]warning:[/yellow] {m(w)}")
    parts.append(Text.from_markup("\n".join(lines)))
    if "comparison" in doc:
        parts.append(comparison_table(doc["comparison"]))
    return Group(*parts)


def comparison_table(cmp: dict) -> Text:
    """The change against `--compare-to`, as `tradeoff-infra diff` prints it (cli/estimate/diff.py)."""
    from cli.estimate.diff import text

    return Text(clean_text(text(cmp)))


def console_settings(terminal: bool) -> dict:
    """On a terminal keep its width and colours; in a file or a pipe, wide plain text. No automatic
    highlighting or emoji codes: the tables' own markup is all the colour they need (~10 % faster)."""
    common = {"highlight": False, "emoji": False}
    if terminal:
        return {**common, "force_terminal": True, "width": Console(file=io.StringIO(), force_terminal=True).width}
    return {**common, "force_terminal": False, "width": 200, "color_system": None}


def stack_text(job: tuple[dict, dict]) -> str:
    """One stack's tables as text, then a blank line."""
    doc, settings = job
    buffer = io.StringIO()
    console = Console(file=buffer, **settings)
    console.print(stack_tables(doc))
    console.print()
    return buffer.getvalue()


def render_tables(docs: list[dict], *, terminal: bool = False) -> str:
    """Every stack's tables, in order. Laying out a big rich table is slow (~1 ms a row: prod-global's
    ~150 rows take ~0.1 s), so with two or more stacks and CPUs the biggest stack is laid out in a
    forked child while this process lays out the others; the text is the same either way (if the
    child fails, its stack is laid out here)."""
    settings = console_settings(terminal)
    texts: list[str | None] = [None] * len(docs)
    if len(docs) >= 2 and (os.cpu_count() or 1) >= 2 and hasattr(os, "fork") and threading.active_count() == 1:
        big = max(range(len(docs)), key=lambda i: len(docs[i].get("lineItems", [])))

        def the_others() -> None:
            for i, doc in enumerate(docs):
                if i != big:
                    texts[i] = stack_text((doc, settings))

        texts[big] = _in_child(docs[big], settings, the_others)
    return "".join(text if text is not None else stack_text((doc, settings)) for text, doc in zip(texts, docs))


def _in_child(doc: dict, settings: dict, meanwhile) -> str | None:
    """`stack_text(doc)` computed in a forked child while `meanwhile()` runs here; None if the child failed."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: lay out, write, leave without running the parent's exit handlers
        code = 1
        try:
            os.close(read_fd)
            with os.fdopen(write_fd, "wb") as out:
                out.write(stack_text((doc, settings)).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    try:
        meanwhile()
    finally:
        with os.fdopen(read_fd, "rb") as inp:
            data = inp.read()
        _, status = os.waitpid(pid, 0)
    return data.decode() if status == 0 else None
