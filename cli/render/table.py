"""The estimate's tables for the terminal, from the estimate contract dicts: the decision first (a summary
table across stacks when there are several, then per stack its decision block), then the details. Money
and quantities never wrap or truncate; text columns fold (`fitted_table`, by cli/render/grid.py's rule,
the one every command's tables follow)."""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text

from cli.render import grid
from cli.render.documents import caps_text, curve_points, decision, money, route_cells, total_rows, unit_price
from cli.render.safe import clean, clean_text
from cli.render.safe import markup as m
from cli.render.warnings import applies_to, labelled, shared_warnings
from cli.render.width import output_width


def requests(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _span(li: dict) -> str:
    return "" if li["monthlyUsdMin"] == li["monthlyUsdMax"] else f"{money(li['monthlyUsdMin'])}..{money(li['monthlyUsdMax'])}"


# Line-item columns `--fields` chooses from (like Infracost's `--fields`): name -> (header, numeric, cell).
# A numeric column (money, quantities) never wraps or truncates; a text column folds.
LINE_ITEM_FIELDS: dict[str, tuple[str, bool, object]] = {
    "region": ("region", False, lambda li: li["region"]),
    "resource": ("resource", False, lambda li: li["resource"]),
    "category": ("category", False, lambda li: li["category"]),
    "description": ("what", False, lambda li: li["description"]),
    "quantity": ("quantity", True, lambda li: f"{li['quantity']:,.2f} {li['unit']}"),
    "price": ("unit price", True, lambda li: unit_price(li["unitPriceUsd"])),
    "monthly": ("monthly", True, lambda li: money(li["monthlyUsd"])),
    "range": ("min..max", True, _span),
    "source": ("price source", False, lambda li: li.get("priceSource") or ""),
}
DEFAULT_FIELDS = ("resource", "description", "quantity", "monthly")


class FieldsError(ValueError):
    pass


def parse_fields(text: str) -> tuple[str, ...]:
    """`--fields` (a comma list of LINE_ITEM_FIELDS names, or `all`) as the fields in the order given."""
    import difflib

    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not names:
        raise FieldsError(f"--fields {text!r}: empty; choose from all, {', '.join(LINE_ITEM_FIELDS)}")
    if "all" in names:
        return tuple(LINE_ITEM_FIELDS)
    lower = {name.lower(): name for name in LINE_ITEM_FIELDS}
    for name in names:
        if name not in lower:
            near = difflib.get_close_matches(name, [*lower, "all"], n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise FieldsError(f"--fields: unknown field {name!r}{hint}; choose from all, {', '.join(LINE_ITEM_FIELDS)}")
    return tuple(dict.fromkeys(lower[n] for n in names))


def fitted_table(title: str, columns: list[tuple[str, str, bool]], rows: list[tuple[list[str], str]], width: int,
                 styles: bool = False, keys: tuple[int, ...] = (0,)) -> str:
    """The table as text by the one column rule of every command (cli/render/grid.py): a numeric column
    (money, quantities, counts; `(header, justify, True)`) keeps its widest cell and never wraps or
    truncates; the text columns fold into what is left, none below MIN_TEXT_COLUMN; when even that does
    not fit, the table is drawn as several, the `keys` columns (what names a row) in each: a number is never split.
    `rows`: (cells, style), cells plain text (no markup), made inert by `clean`. `styles`: keep the row styles (a
    terminal)."""
    return grid.render(title, [grid.Column(h, justify, numeric) for h, justify, numeric in columns], rows, width,
                       styles=styles, keys=keys)


def decision_text(doc: dict, width: int = 100, styles: bool = False) -> list:
    """The decision block: the verdict on the first line, then the numbers that decide it, each value
    wrapped under itself (a hanging indent); the numbers as text (cli/render/grid.py)."""
    d = decision(doc)
    colour = {"API": "cyan", "SELF-HOST": "green", "HYBRID": "magenta"}.get(d["verdict"], "yellow")
    head = Text.from_markup(f"[bold]verdict: [{colour}]{m(d['verdict'])}[/{colour}][/bold] — stack "
                            f"[bold]{m(doc['stack'])}[/bold] ({m(doc['stackFile'])})")
    split = (("hybrid", d["hybrid"], ""),) if d["hybrid"] else ()
    by = (("decided by", d["decidedBy"], "bold"),) if d["decidedBy"] else ()
    rows = (*by, *split, ("self-hosted", d["selfHosted"], ""), ("vs API", d["api"], ""), ("break-even", d["breakEven"], ""),
            ("budget", d["budget"], "red" if d["overBudget"] else ""),
            ("defaults", d["defaults"].removeprefix("defaults used "), ""))
    label = max(len(name) for name, _, _ in rows)
    paint = grid.painter(styles)
    lines = []
    for name, value, style in rows:
        for i, line in enumerate(grid.wrap(clean(value), max(width - label - 3, grid.MIN_TEXT_COLUMN))):
            lines.append(f" {name if i == 0 else '':<{label}} {paint(line, style)}".rstrip())
    return [head, "\n".join(lines) + "\n"]


def summary_table(docs: list[dict], width: int, styles: bool = False) -> str:
    """One row per stack: the decision blocks side by side."""
    rows = []
    for doc in docs:
        d = decision(doc)
        cells = [clean(c) for c in (doc["stack"], d["verdict"], d["comparedUsd"], d["apiShort"], d["breakEvenShort"],
                                    d["budgetShort"])]
        if d["byConstraint"]:  # a constraint, not cost, decided: said under the verdict (the column stays narrow)
            cells[1] += "\n" + clean(d["byConstraint"])
        rows.append((cells, "red" if d["overBudget"] else ""))
    columns = [("stack", "left", False), ("verdict", "left", True), ("self-hosted or hybrid", "right", True),
               ("cheapest API", "left", False), ("break-even", "right", True), ("budget", "left", False)]
    return grid.render(f"{len(docs)} stacks: monthly USD, expected; break-even in requests/month (details below)",
                       [grid.Column(h, justify, numeric) for h, justify, numeric in columns], rows, width,
                       styles=styles, cleaned=True)


def stack_parts(doc: dict, width: int, *, fields: tuple[str, ...] = DEFAULT_FIELDS, verbose: bool = False,
                shown_later: frozenset[str] = frozenset(), styles: bool = False) -> list:
    """The decision block, then the details: line items, totals, capacity, API offers, reasons, warnings
    (less those in `shown_later`: the ones several stacks share, printed once at the end)."""
    parts: list = decision_text(doc, width, styles)
    catalog = doc["priceCatalog"]
    stale = " [yellow](stale: older than 90 days)[/yellow]" if catalog["stale"] else ""
    oldest = (f": {m(catalog['oldestPriceItem'])}; instance prices as of {m(catalog['instancePricesAsOf'])}"
              if catalog.get("oldestPriceItem") else "")
    parts.append(Text.from_markup(
        f"priced {m(doc['asOf'])} with AWS prices as of "
        f"{m(catalog['oldestPriceUsed'])} ({m(catalog['ageDays'])} days, oldest price this stack uses{oldest}){stale}; "
        f"API prices: {m(doc['apiPrices']['source'])}"))

    if doc.get("hybrid"):
        parts.extend(hybrid_tables(doc["hybrid"], width, styles))
    cols = [(LINE_ITEM_FIELDS[f][0], "right" if LINE_ITEM_FIELDS[f][1] else "left", LINE_ITEM_FIELDS[f][1]) for f in fields]
    rows = [([str(LINE_ITEM_FIELDS[f][2](li)) for f in fields], "")
            for li in sorted(doc["lineItems"], key=lambda li: (-li["monthlyUsd"], li["region"], li["resource"]))
            if verbose or li["monthlyUsd"] >= 0.005]
    more = "" if "range" in fields else "; --fields all for min..max, unit price, region"
    # folded into several tables (--fields all at 80 columns), each names its rows by region and resource
    keys = tuple(i for i, f in enumerate(fields) if f in ("region", "resource")) or (0,)
    parts.append(fitted_table(f"line items (monthly, expected{more})", cols, rows, width, styles, keys))

    sh = doc["selfHosted"]
    rows = [([cat, money(v["min"]), money(v["expected"]), money(v["max"])], "") for cat, v in doc["categories"].items()]
    # the line items' total labelled for what it is, and the one cost compared in bold (documents.total_rows)
    rows += [([r["label"], money(r["min"]) if r["min"] is not None else "", money(r["expected"]),
               money(r["max"]) if r["max"] is not None else ""], "bold" if r["kind"] == "total" else "")
             for r in total_rows(doc)]
    parts.append(fitted_table("monthly totals", [("category", "left", False), ("min", "right", True),
                                                 ("expected", "right", True), ("max", "right", True)], rows, width, styles))

    rows = [([f"{c['region']} {c['pool']}", f"{c['instanceType']} ({c['gpu']}, TP{c['tensorParallel']})",
              f"{c['trafficShare']:.0%}", f"{c['averageOutputTokensPerSecond']:,.0f}",
              f"{c['outputTokensPerSecondPerReplica']:,.0f}" + (" (measured)" if c.get("throughputBasis") == "measured" else ""),
              f"{c['replicasAtAverage']}/{c['replicasAtPeak']}/{c['maxReplicas']}",
              f"{c['minNodes']}/{c['expectedNodes']:g}/{c['maxNodes']}", f"{c['queuedShare']:.1%}"], "")
            for c in doc["capacity"]]
    parts.append(fitted_table("capacity", [("region pool", "left", False), ("GPU", "left", False), ("share", "right", True),
                                           ("avg out\ntok/s", "right", True), ("tok/s per\nreplica", "right", True),
                                           ("replicas\navg/peak/max", "right", True), ("nodes\nmin/exp/max", "right", True),
                                           ("queued", "right", True)], rows, width, styles))

    rows = [(["self-hosted (compared)", "", "", money(sh["comparedMonthlyUsd"]), money(sh["comparedPerMillionTokensUsd"]),
              "", sh["comparedBasis"]], "bold")]
    for offer in doc["api"]:
        be = doc["breakEvenRequestsPerMonth"][offer["offer"]]
        rows.append(([offer["offer"], f"{offer['inputPerMTokUsd']:g}", f"{offer['outputPerMTokUsd']:g}",
                      money(offer["monthlyUsd"]), money(offer["perMillionTokensUsd"]), requests(be["requestsPerMonth"]),
                      be["note"] or ""], ""))
    parts.append(fitted_table(f"API comparison at {doc['traffic']['requestsPerMonth']:,} requests/month "
                              f"({doc['traffic']['tokensPerMonth']:,} tokens)",
                              [("offer", "left", False), ("$/1M\nin", "right", True), ("$/1M\nout", "right", True),
                               ("monthly", "right", True), ("$/1M\ntokens", "right", True),
                               ("break-even", "right", True), ("note", "left", False)], rows, width, styles))

    parts.extend(analysis_tables(doc, width, styles))

    verdict = doc["verdict"]
    lines = ["why:"] + [f"  - {m(r)}" for r in verdict["reasons"]]
    if doc["unpricedResources"]:
        lines.append("[red]not priced (unknown types):[/red] " + ", ".join(
            f"{m(u['type'])} {m(u['name'])}" for u in doc["unpricedResources"]))
    free = sum(n["count"] for n in doc["noCostResources"])
    lines.append(f"{free} resources of {len(doc['noCostResources'])} types cost nothing by themselves "
                 "(listed with reasons in --format json)")
    for w in doc["warnings"]:
        if w not in shown_later:
            lines.append(f"[yellow]warning[/yellow] {m(labelled(w))}")
    parts.append(Text.from_markup("\n".join(lines)))
    if "comparison" in doc:
        parts.append(comparison_table(doc["comparison"]))
    return parts


def hybrid_tables(h: dict, width: int, styles: bool = False) -> list:
    """A gateway stack's split: its routes (as configured), then the cost over the fleet cap (a short table)."""
    routes = fitted_table(f"hybrid split as configured: API share {h['apiShare']:.1%} of the tokens "
                          f"({money(h['apiMonthlyUsd'])} a month)",
                          [("route", "left", False), ("share", "right", True), ("served by", "left", False),
                           ("overflow to", "left", False), ("fallback to", "left", False), ("data", "left", False),
                           ("monthly", "right", True)],
                          [(route_cells(r), "") for r in h["routes"]], width, styles)
    best = h["optimalFleet"]["monthlyUsd"]
    rows = [([caps_text(p["maxReplicasByRegion"]), money(p["monthlyUsd"]) + (" *" if p["monthlyUsd"] == best else ""),
              f"{p['apiShare']:.1%}"], "bold" if p["monthlyUsd"] == best else "") for p in curve_points(h)]
    curve = fitted_table("split cost over the fleet cap",
                         [("maxReplicas\nper region", "right", True), ("monthly\n(* cheapest)", "right", True),
                          ("API share", "right", True)],
                         rows, width, styles)
    return [routes, curve]


def analysis_tables(doc: dict, width: int, styles: bool = False) -> list:
    """`--sensitivity` (what flips the verdict, the volume sweep) and `--growth`, when the document has them."""
    from cli.render.documents import growth_table, sensitivity_rows, sweep_table

    parts: list = []
    if doc.get("sensitivity"):
        parts.append(fitted_table("what flips the verdict (--sensitivity)",
                                  [("input", "left", False), ("today", "left", False),
                                   ("where the verdict changes", "left", False), ("note", "left", False)],
                                  [(row, "") for row in sensitivity_rows(doc)], width, styles))
        heads, rows = sweep_table(doc)
        # an offer's name in a column head folds after its provider and path (`together:` / `meta-llama/` / model)
        cols = [(h.replace(":", ":\n").replace("/", "/\n"), "right", True) for h in heads[:-1]] + [(heads[-1], "left", True)]
        parts.append(fitted_table("volume sweep: monthly USD from 1% to 100x of today's requests/month", cols,
                                  [(row, "") for row in rows], width, styles))
    if doc.get("growth"):
        rows, line, fleet = growth_table(doc)
        parts.append(fitted_table(f"growth (--growth): {line}",
                                  [("month", "right", True), ("requests/month", "right", True),
                                   ("self-hosted", "right", True), ("cheapest API", "left", False),
                                   ("verdict", "left", True)], [(row, "") for row in rows], width, styles))
        parts.append(Text(clean(fleet)))
    return parts


def comparison_table(cmp: dict) -> Text:
    """The change against `--compare-to`, as `tradeoff-infra diff` prints it (cli/estimate/diff.py)."""
    from cli.estimate.diff import text

    return Text(clean_text(text(cmp)))


def console_settings(terminal: bool) -> dict:
    """On a terminal keep its colours; in a file or a pipe, plain text. The width: the one rule of
    cli/render/width.py (COLUMNS if set, else the terminal's, else 100). No automatic highlighting or
    emoji codes: the tables' own markup is all the colour they need (~10 % faster)."""
    common = {"highlight": False, "emoji": False, "width": output_width(terminal)}
    if terminal:
        return {**common, "force_terminal": True}
    return {**common, "force_terminal": False, "color_system": None}


def _styled(settings: dict) -> bool:
    return bool(settings.get("force_terminal")) and settings.get("color_system", "auto") is not None


def stack_text(job: tuple) -> str:
    """One stack's decision block and details as text, then a blank line. `job`: (doc, console
    settings[, line-item fields]). The tables come as text (cli/render/grid.py) and are written as they are."""
    doc, settings, *rest = job
    fields = rest[0] if rest else DEFAULT_FIELDS
    shown_later = rest[1] if len(rest) > 1 else frozenset()
    buffer = io.StringIO()
    console = Console(file=buffer, **settings)
    for part in stack_parts(doc, settings["width"], fields=fields, shown_later=shown_later, styles=_styled(settings)):
        if isinstance(part, str):
            buffer.write(part)
        else:
            console.print(part, crop=False)
    buffer.write("\n")
    return buffer.getvalue()


def summary_text(docs: list[dict], settings: dict) -> str:
    return summary_table(docs, settings["width"], _styled(settings)) + "\n"


def render_tables(docs: list[dict], *, terminal: bool = False, fields: tuple[str, ...] = DEFAULT_FIELDS) -> str:
    """With several stacks, a summary table first; then every stack's decision block and details, in
    order; then the warnings several stacks share, once. (The tables are drawn as text by
    cli/render/grid.py: ~15 ms for the three shipped stacks, where rich took ~0.1 s and a forked child.)"""
    settings = console_settings(terminal)
    shared = shared_warnings(docs)
    later = frozenset(shared)
    head = summary_text(docs, settings) if len(docs) >= 2 else ""
    return head + "".join(stack_text((doc, settings, fields, later)) for doc in docs) + shared_text(shared, settings)


def shared_text(shared: dict[str, list[str]], settings: dict) -> str:
    """The warnings several stacks share, each once with the stacks it applies to."""
    if not shared:
        return ""
    buffer = io.StringIO()
    console = Console(file=buffer, **settings)
    console.print("warnings shared by several stacks:")
    for text, stacks in shared.items():
        console.print(Text.from_markup(f"[yellow]warning[/yellow] {m(labelled(text))} {m(applies_to(stacks))}"),
                      crop=False)
    console.print()
    return buffer.getvalue()
