"""Markdown (pull-request comment) and HTML (one self-contained file with a break-even chart),
rendered with jinja2 from the same contract dicts as the JSON output."""

from __future__ import annotations

import json
import math
from html import escape

from cli.envelope import cheapest_offer
from cli.numbers import human  # noqa: F401  (its one home; the templates' `human`)
from cli.render import safe

PALETTE = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"]


def money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


def unit_price(value: float | None) -> str:
    """A unit price with the digits it has: at least cents, at most 6 decimals ($0.10, $1.861, $0.000015)."""
    if value is None:
        return "—"
    text = f"{value:,.6f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"${whole}.{frac.ljust(2, '0')}"


def defaults_line(doc: dict) -> str:
    """The short line every format prints: each default that fed a number, with its value."""
    used = doc.get("defaultsUsed") or []
    if not used:
        return ""
    return ("defaults used (not set in the stack or usage file): "
            + ", ".join(f"{d['key']}={json.dumps(d['value']) if isinstance(d['value'], bool) else d['value']}"
                        for d in used))


def decided_by(doc: dict) -> str:
    """When a set constraint, not cost, decides the verdict: which, what it says, and what cost alone would choose
    (`verdict.decidedBy`); "" when cost decides (or a saved estimate predates the key)."""
    v = doc["verdict"]
    key = v.get("decidedBy")
    if not key or key == "cost":
        return ""
    alone = (v.get("onCostAlone") or "").upper()
    return f"{v.get('constraint') or key} — not cost" + (f" (on cost alone: {alone})" if alone else "")


def decision(doc: dict) -> dict:
    """The short decision block every format prints first, as plain strings: verdict (upper case),
    self-hosted expected (the compared cost) vs the cheapest API offer, break-even, budget, defaults used."""
    sh = doc["selfHosted"]
    cheap = cheapest_offer(doc)
    requests = doc["traffic"]["requestsPerMonth"]
    if cheap is None:
        api, break_even = "no API offer to compare (apiComparison is empty)", "—"
        api_short, break_even_short = "—", "—"
    else:
        be = doc["breakEvenRequestsPerMonth"][cheap["offer"]]
        api = f"{money(cheap['monthlyUsd'])}/month for {cheap['offer']}, the cheapest API offer"
        api_short = f"{money(cheap['monthlyUsd'])} {cheap['offer']}"
        if be["requestsPerMonth"]:
            break_even = f"{be['requestsPerMonth']:,} requests/month against {cheap['offer']} ({be['note']})"
            break_even_short = f"{be['requestsPerMonth']:,}"
        else:
            break_even = f"none against {cheap['offer']}: {be['note']}"
            break_even_short = "none"
    b = doc["budget"]
    # judged on the cost the self-hosted line shows: said so, not its basis again (the configured fleet's total once)
    basis = (b or {}).get("basis")
    judged = ("compared self-hosted cost above" if basis is not None and basis == sh.get("comparedBasis")
              and b["expectedUsd"] == sh.get("comparedMonthlyUsd") else basis)
    if not b:
        budget, budget_short, over = "no budget set (budget.monthlyUsd)", "—", None
    elif b["overBudget"]:
        budget = (f"OVER budget: expected {money(b['expectedUsd'])} vs {money(b['monthlyUsd'])}, "
                  f"over by {money(-b['headroomUsd'])} (judged on the {judged})")
        budget_short, over = f"OVER by {money(-b['headroomUsd'])}", True
    else:
        budget = (f"within budget: expected {money(b['expectedUsd'])} vs {money(b['monthlyUsd'])}, "
                  f"headroom {money(b['headroomUsd'])} (judged on the {judged})")
        budget_short, over = f"within, {money(b['headroomUsd'])} left", False
    ops = "" if sh["operationsIncluded"] else ", operations excluded"
    used = doc.get("defaultsUsed") or []
    split = hybrid_lines(doc)
    by = decided_by(doc)
    return {
        **split,
        "verdict": doc["verdict"]["choice"].upper(),
        "decidedBy": by, "byConstraint": "by constraint" if by else "",
        "selfHostedUsd": money(sh["comparedMonthlyUsd"]),
        "comparedUsd": compared_usd(doc),
        "selfHosted": f"{money(sh['comparedMonthlyUsd'])}/month ({sh['comparedBasis']}{ops}) at {requests:,} requests/month",
        "api": api, "apiShort": api_short,
        "breakEven": break_even, "breakEvenShort": break_even_short,
        "budget": budget, "budgetShort": budget_short, "overBudget": over,
        "defaults": defaults_line(doc) if used else "defaults used: none (every number comes from the stack or usage file)",
    }


SPLIT_BASES = ("hybrid", "split as configured")
"""`cost_basis` values whose cost is the split as configured with its API spend (`hybrid.monthlyUsd.expected`)."""


def cost_basis(choice: str | None, has_gateway: bool) -> str:
    """THE rule for which cost of a stack the budget, every headline and total row, the summary and `diff` show
    (docs/estimate.md `budget.basis`, docs/hybrid.md "How the split is priced"): `self-hosted` (the compared self-hosted cost:
    without a gateway always; with one when the verdict is `self-host`, the pure self-hosted cost it compares),
    `hybrid` (a gateway stack whose verdict is `hybrid`, or a saved one without a verdict: the split as configured
    with its API spend), `split as configured` (a gateway stack whose verdict is `api` or `undecided`: the verdict
    runs no fleet of this stack, so the cost judged is what the stack as written deploys, its fleet and its routes
    with their API spend, labelled as such; never the pure API bill the verdict prefers, which no stack deploys)."""
    if not has_gateway or choice == "self-host":
        return "self-hosted"
    return "hybrid" if choice in ("hybrid", None) else "split as configured"


def headline_cost(doc: dict, line_sum: float | None = None) -> tuple[float, str]:
    """The one cost of a stack every headline, summary, total row, budget and `diff` shows: (USD a month, basis), by
    `cost_basis` — the split as configured with its API spend (`hybrid.monthlyUsd.expected`) for a basis in
    SPLIT_BASES, else the compared self-hosted cost (`selfHosted.comparedMonthlyUsd`: the fleet grown for the traffic
    where maxNodes cannot carry it; with a gateway, pure self-hosted). A document saved before those fields falls
    back to the self-hosted expected total, then to the sum of its line items (`line_sum`)."""
    h = doc.get("hybrid")
    verdict = doc.get("verdict")
    choice = verdict.get("choice") if isinstance(verdict, dict) else None
    has_split = isinstance(h, dict) and isinstance(h.get("monthlyUsd"), dict)
    basis = cost_basis(choice, has_split)
    if basis in SPLIT_BASES:
        return h["monthlyUsd"]["expected"], basis
    sh = doc.get("selfHosted") or {}
    if sh.get("comparedMonthlyUsd") is not None:
        return sh["comparedMonthlyUsd"], "self-hosted"
    expected = (sh.get("monthlyUsd") or {}).get("expected")
    return (expected if expected is not None else line_sum or 0.0), "self-hosted"


def compared_usd(doc: dict) -> str:
    """The summary's cost of a stack (`headline_cost`) as money."""
    return money(headline_cost(doc)[0])


def line_sum(doc: dict) -> float:
    return round(sum(li["monthlyUsd"] for li in doc["lineItems"]), 2)


def total_rows(doc: dict) -> list[dict]:
    """The rows under the category totals, the same in every format: the line items' total, labelled for what it is,
    and the one cost compared (`kind` "total") where that is another. {label, min, expected, max, kind}; a cost
    with no range has None for min and max. A stack whose fleet is grown for the traffic (maxNodes cannot carry it):
    the configured fleet (the line items, maxNodes as set), then the compared total; a gateway stack: the split's
    self-hosted side and the split with its API spend (the line items)."""
    sh = doc["selfHosted"]
    ops = "" if sh["operationsIncluded"] else " (operations excluded)"
    rng = sh["monthlyUsd"]
    cost, basis = headline_cost(doc, line_sum(doc))
    h = doc.get("hybrid")
    if h:
        split = {"hybrid": "hybrid total as configured (with API spend)",
                 "split as configured": "split total as configured (with API spend): what this stack deploys, verdict "
                                        f"{doc['verdict']['choice']}"}.get(basis, "split as configured, with API spend "
                                                                               "(not the cost compared)")
        rows = [{"label": f"split's self-hosted side (fleet capped at maxReplicas){ops}",
                 "min": rng["min"], "expected": rng["expected"], "max": rng["max"], "kind": "part"},
                {"label": split, **h["monthlyUsd"], "kind": "total" if basis in SPLIT_BASES else "part"}]
        if basis not in SPLIT_BASES:
            rows.append({"label": "self-hosted total, compared (pure self-hosted, grown for the traffic)", "min": None,
                         "expected": cost, "max": None, "kind": "total"})
        return rows
    if round(abs(cost - rng["expected"]), 2) >= 0.01:
        return [{"label": f"configured fleet (line items, maxNodes as set; not compared){ops}", "min": rng["min"],
                 "expected": rng["expected"], "max": rng["max"], "kind": "configured"},
                {"label": f"self-hosted total, compared (fleet grown for the traffic){ops}", "min": None, "expected": cost, "max": None, "kind": "total"}]
    return [{"label": f"self-hosted total{ops}", "min": rng["min"], "expected": rng["expected"], "max": rng["max"],
             "kind": "total"}]


def line_item_footer(doc: dict) -> list[dict]:
    """The rows under the line items (HTML): their sum, and where the one cost compared is another (the fleet grown
    for the traffic), that sum labelled as the configured fleet's and the compared total after it.
    {label, usd, kind} with kind "total" for the one compared."""
    items = len(doc["lineItems"])
    total = line_sum(doc)
    cost, basis = headline_cost(doc, total)
    what = ("split as configured, incl. API spend" + ("" if basis == "hybrid" else ": what this stack deploys")
            if doc.get("hybrid") and basis in SPLIT_BASES else "")
    if round(abs(cost - total), 2) < 0.01:
        return [{"label": f"total ({items} line items{', ' + what if what else ''})", "usd": total, "kind": "total"}]
    configured = ("the split as configured, incl. API spend" if doc.get("hybrid")
                  else "the configured fleet, maxNodes as set")
    return [{"label": f"{items} line items: {configured} (not the cost compared)", "usd": total, "kind": "configured"},
            {"label": ("total compared (pure self-hosted, grown for the traffic): what the verdict and the budget use"
                       if doc.get("hybrid")
                       else "total compared (fleet grown for the traffic): what the verdict and the budget use"),
             "usd": cost, "kind": "total"}]


def caps_text(by_region: dict[str, int]) -> str:
    """Fleet caps by region: one number when every region has the same, else `region n, ...`."""
    values = set(by_region.values())
    return str(values.pop()) if len(values) == 1 else ", ".join(f"{r} {n}" for r, n in by_region.items())


def hybrid_lines(doc: dict) -> dict:
    """A gateway stack's split for the decision block: `hybrid` (the split as configured and at its cheapest cap,
    against both pure choices); None for a stack without a gateway."""
    h = doc.get("hybrid")
    if not h:
        return {"hybrid": None}
    opt = h["optimalFleet"]
    pure_api = ("no price" if h["pureApiMonthlyUsd"] is None else money(h["pureApiMonthlyUsd"])
                + ("" if h["pureApiAllowed"] else " (not an option: restricted routes)"))
    text = (f"{money(h['monthlyUsd']['expected'])}/month as configured (maxReplicas {caps_text(h['configuredFleet']['maxReplicasByRegion'])}, "
            f"API share {h['apiShare']:.1%}); cheapest split {money(opt['monthlyUsd'])} at maxReplicas "
            f"{caps_text(opt['maxReplicasByRegion'])} (API share {opt['apiShare']:.1%}); pure self-hosted "
            f"{money(h['pureSelfHostedMonthlyUsd'])}, pure API {pure_api}")
    return {"hybrid": text}


def curve_points(h: dict, rows: int = 12) -> list[dict]:
    """The cost curve over the fleet cap for a short table: at most `rows` points, evenly spread, always the
    ends and the cheapest."""
    curve = h["costCurve"]
    if len(curve) <= rows:
        return curve
    best = min(range(len(curve)), key=lambda i: curve[i]["monthlyUsd"])
    picks = {round(i * (len(curve) - 1) / (rows - 2)) for i in range(rows - 1)} | {best}
    return [curve[i] for i in sorted(picks)]


def route_cells(r: dict) -> list[str]:
    """One route of the split as table cells: route, share, served by, overflow, fallback, data class, monthly."""
    return [r["route"], f"{r['share']:.0%}", r["servedBy"], r["overflowTo"] or "—", ", ".join(r["fallbackTo"]) or "—",
            r["dataClass"], money(r["monthlyUsd"])]


def sensitivity_rows(doc: dict) -> list[list[str]]:
    """`--sensitivity`: per input [what, today, where the verdict changes (or that it never does in the range
    searched), note], the same strings in every format."""
    rows = []
    for e in doc.get("sensitivity") or []:
        note = e.get("note") or ""
        be = e.get("breakEven")
        if be:
            at = f"{be['requestsPerMonth']:,} requests/month" if be["requestsPerMonth"] else "none"
            note = (note + "; " if note else "") + f"cost break-even against {be['offer']}: {at} ({be['note']})"
        rows.append([e["label"], e["today"], e["changes"], note])
    return rows


def sweep_table(doc: dict) -> tuple[list[str], list[list[str]]]:
    """`--sensitivity`'s volume sweep: (headers, rows) of requests/month, x today, each series, the verdict."""
    sweep = doc.get("volumeSweep")
    if not sweep:
        return [], []
    names = list(sweep["seriesUsd"])
    heads = ["requests/month", "x today"] + names + ["verdict"]
    rows = [[f"{r:,}", f"{f:g}x"] + [money(sweep["seriesUsd"][n][i]) for n in names] + [sweep["verdict"][i]]
            for i, (r, f) in enumerate(zip(sweep["requestsPerMonth"], sweep["factors"]))]
    return heads, rows


def sweep_chart(doc: dict) -> dict | None:
    """The volume sweep as the chart `svg_chart` draws (self-hosted, then every other series as a line)."""
    sweep = doc.get("volumeSweep")
    if not sweep:
        return None
    series = dict(sweep["seriesUsd"])
    return {"requestsPerMonth": sweep["requestsPerMonth"], "selfHostedUsd": series.pop("self-hosted"),
            "apiUsd": series, "maxServableRequestsPerMonth": doc.get("maxServableRequestsPerMonth")}


GROWTH_ROWS = 25


def growth_table(doc: dict) -> tuple[list[list[str]], str, str]:
    """`--growth`: (rows of month, requests/month, self-hosted, cheapest API, verdict; the line; the fleet then).
    A long projection shows every k-th month, the month the verdict changes and the last."""
    g = doc.get("growth")
    if not g:
        return [], "", ""
    table = g["table"]
    step = max(1, math.ceil(len(table) / GROWTH_ROWS))
    keep = {0, len(table) - 1, g["verdictChangesInMonth"] or 0} | set(range(0, len(table), step))
    rows, named = [], None
    for row in table:
        if row["month"] not in keep:
            continue
        api = "—" if row["cheapestApi"] is None else money(row["apiUsd"])
        if row["cheapestApi"] is not None and row["cheapestApi"] != named:  # the offer's name where it changes
            api, named = f"{api} {row['cheapestApi']}", row["cheapestApi"]
        rows.append([str(row["month"]), f"{row['requestsPerMonth']:,}", money(row["selfHostedUsd"]), api, row["verdict"]])
    fleet = g["fleetThen"] if g["fleetThen"] is not None else g["fleetAtEnd"]
    when = (f"month {g['verdictChangesInMonth']}" if g["verdictChangesInMonth"] is not None
            else f"month {g['months']} (the end)")
    recommended = bool(fleet) and fleet[0].get("source") == "recommend"
    fleet_text = (f"fleet `recommend` picks at {when}" if recommended else f"fleet the estimate plans at {when}") + ": " + "; ".join(
        f"{f['region']} {f['pool']} ({f['instanceType']}"
        + (f" {f['capacityType']}, TP{f['tensorParallel']} {f['precision']}, cap {f['maxReplicas']}" if f.get("source") == "recommend" else "")
        + f"): {f['replicasAtPeak']} replicas at the peak, "
        f"{f['expectedNodes']:g} nodes expected, {f['peakNodes']} at the peak"
        + (f" (beyond maxNodes {f['maxNodes']}: raise it)" if f["beyondMaxNodes"] else f" (maxNodes {f['maxNodes']})")
        for f in fleet)
    return rows, g["line"], fleet_text


def _env(autoescape: bool):
    """Markdown (autoescape off) or HTML (on). Every `{{ value }}` passes `finalize` first: for markdown a
    string is escaped there (safe.markdown: no heading, image, link or HTML tag can come from a stack
    name, a file name or an offer); for HTML its control characters are shown (autoescape does the rest)."""
    # jinja2 costs ~30 ms to import: only markdown and html need it, not the JSON a CI gate reads.
    from jinja2 import Environment, PackageLoader, StrictUndefined
    from markupsafe import Markup

    from cli.render.warnings import applies_to
    from infra.spec.warning_ids import warning_id

    def finalize(value):
        if not isinstance(value, str) or isinstance(value, Markup):
            return value
        return safe.clean(value) if autoescape else safe.markdown(value)

    env = Environment(loader=PackageLoader("cli.render", "templates"), autoescape=autoescape, finalize=finalize,
                      undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False, keep_trailing_newline=True)
    env.globals.update(
        money=money, unit_price=unit_price, human=human, defaults_line=defaults_line, diff_markdown=_diff_markdown,
        decision=decision, curve_points=curve_points, caps_text=caps_text, route_cells=route_cells,
        sensitivity_rows=sensitivity_rows, sweep_table=sweep_table, growth_table=growth_table,
        total_rows=total_rows, line_item_footer=line_item_footer,
        warning_id=warning_id,  # the id `acknowledgedWarnings` accepts (docs/stack-file.md)
        applies_to=applies_to,  # `(3 stacks: dev, prod-us, prod-global)`, as the table prints it
        diff_headline=_diff_part("headline"), diff_rows=_diff_part("_changed_rows"),  # --compare-to, as `diff` says it
        diff_money=_diff_part("signed_money"), diff_pct=_diff_part("pct_text"),
    )
    return env


def _diff_part(name: str):
    """A function of cli/estimate/diff.py, imported when the template calls it (only a --compare-to report does)."""
    def call(*args):
        from cli.estimate import diff

        return getattr(diff, name)(*args)
    return call


def _diff_markdown(change: dict) -> str:
    from markupsafe import Markup

    from cli.estimate.diff import markdown as diff_markdown  # the change as `diff --format markdown` shows it

    return Markup(diff_markdown(change))  # its user values are made inert there: not escaped twice


MARKDOWN_MARKER = "<!-- tradeoff-infra-estimate -->"  # a CI job finds and updates its previous comment by it
GITHUB_COMMENT_LIMIT = 65_536  # characters GitHub accepts in one issue or pull-request comment


def markdown(docs: list[dict], limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The pull-request comment: starts with MARKDOWN_MARKER and stays under `limit` characters. When the
    full report is longer, the folded details (line items, capacity, warnings) are left out, last stack
    first, with a note naming the stacks; if the decision blocks alone are still longer, the text is cut
    with a note saying so."""
    from cli.render.warnings import shared_warnings

    template = _env(False).get_template("estimate.md.j2")
    shared = shared_warnings(docs)  # shown once, after the stacks, with the stacks they apply to
    folded: list[int] = []  # indices of stacks whose details are left out
    while True:
        text = template.render(stacks=docs, folded=set(folded), marker=MARKDOWN_MARKER, limit=limit, shared=shared,
                               folded_names=[f"{docs[i]['stack']} ({docs[i]['stackFile']})" for i in sorted(folded)])
        if len(text) < limit or len(folded) == len(docs):
            break
        folded.append(len(docs) - 1 - len(folded))
    if len(text) < limit:
        return text
    note = (f"\n\n**Cut here: the report is longer than GitHub's {limit:,}-character comment limit; the rest of "
            "the stacks are left out. Run `tradeoff-infra estimate --format html` or `--format json` for all of it.**\n")
    # the cut falls in the stacks' blocks, not on the end: the warnings several stacks share (shown once, only
    # there) and the note naming what was left out stay, as does the summary of every verdict before the blocks
    ends = [i for i in (text.rfind("\n**Warnings shared by several stacks**"), text.rfind("\n> **Left out**")) if i >= 0]
    if ends:
        tail = text[min(ends):]
        room = limit - len(note) - len(tail) - 1
        first_block = text.find("\n### ")
        if 0 <= first_block < room:
            return text[:room].rsplit("\n", 1)[0] + note + tail
    return text[: limit - len(note) - 1].rsplit("\n", 1)[0] + note


def _api_series(api: dict[str, list]) -> dict[str, list]:
    """The API offers' lines, offers with the same cost at every point merged into one line whose
    label names them all ("a = b"): two equal lines drawn on top of each other would hide one."""
    merged: dict[tuple, list[str]] = {}
    for name, vs in api.items():
        merged.setdefault(tuple(vs), []).append(name)
    return {" = ".join(names): list(vs) for vs, names in merged.items()}


LEGEND_CHAR_PX = 7  # a generous width per character at the chart's 11px font: a legend label is never cut


def svg_chart(chart: dict, requests: float | None = None, width: int = 900, height: int = 420) -> str:
    """Log-log chart: monthly cost vs requests/month, self-hosted (step line up to what maxNodes
    serves) and a straight line per API offer (equal-priced offers share one line and one label), a
    marker at the stack's own request volume. Axes in human numbers (1K, 1M, $10K). Pure SVG, no scripts."""
    xs = chart["requestsPerMonth"]
    series = {"self-hosted": chart["selfHostedUsd"],
              "self-hosted, maxNodes lifted": chart.get("selfHostedMaxNodesLiftedUsd") or [],
              **_api_series(chart["apiUsd"])}
    values = [v for vs in series.values() for v in vs if v]
    if not xs or not values:
        return "<p>no chart data</p>"
    # the legend sits right of the plot: as wide as its longest label, the plot keeps its width
    legend = 45 + LEGEND_CHAR_PX * max(len(safe.clean(name)) for name in series)
    plot = width - 80 - 190
    right = max(190, legend)
    width = 80 + plot + right
    height = max(height, 20 + 18 * len(series) + 70)
    left, top, bottom = 80, 20, 50
    x0, x1 = math.log10(xs[0]), math.log10(xs[-1])
    y0, y1 = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    y1 = max(y1, y0 + 1)

    def px(x: float) -> float:
        return left + (math.log10(x) - x0) / (x1 - x0) * (width - left - right)

    def py(y: float) -> float:
        return top + (1 - (math.log10(y) - y0) / (y1 - y0)) * (height - top - bottom)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             'aria-label="monthly cost versus requests per month">',
             f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" fill="none" stroke="#999"/>']
    for e in range(math.ceil(x0), math.floor(x1) + 1):
        x = px(10**e)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - bottom}" stroke="#eee"/>'
                     f'<text x="{x:.1f}" y="{height - bottom + 15}" text-anchor="middle">{human(10**e)}</text>')
    for e in range(y0, y1 + 1):
        y = py(10**e)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#eee"/>'
                     f'<text x="{left - 5}" y="{y + 4:.1f}" text-anchor="end">${human(10**e)}</text>')
    parts.append(f'<text x="{(left + width - right) / 2}" y="{height - 10}" text-anchor="middle">requests per month</text>'
                 f'<text x="15" y="{(top + height - bottom) / 2}" transform="rotate(-90 15 {(top + height - bottom) / 2})" '
                 'text-anchor="middle">USD per month</text>')
    for i, (name, vs) in enumerate(series.items()):
        color = PALETTE[0] if name.startswith("self-hosted") else PALETTE[i % len(PALETTE)]
        points = " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in zip(xs, vs) if v)
        dash = {"self-hosted": "", "self-hosted, maxNodes lifted": ' stroke-dasharray="2 3"'}.get(
            name, ' stroke-dasharray="6 3"')
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{points}"/>')
        ly = top + 15 + 18 * i
        parts.append(f'<line x1="{width - right + 10}" y1="{ly}" x2="{width - right + 30}" y2="{ly}" stroke="{color}" '
                     f'stroke-width="2"{dash}/><text x="{width - right + 35}" y="{ly + 4}">{escape(safe.clean(name))}</text>')
    servable = chart.get("maxServableRequestsPerMonth")
    if servable and xs[0] <= servable <= xs[-1]:
        x = px(servable)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - bottom}" stroke="#555" stroke-dasharray="2 2"/>'
                     f'<text x="{x + 3:.1f}" y="{top + 12}">maxNodes limit</text>')
    if requests and xs[0] <= requests <= xs[-1]:
        x = px(requests)
        parts.append(f'<g class="marker"><line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - bottom}" stroke="#000" '
                     f'stroke-width="1.5"/><text x="{x + 3:.1f}" y="{top + 26}">this stack: {human(requests)}/month</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def svg_cap_chart(h: dict, width: int = 700, height: int = 300) -> str:
    """Linear chart of the split's monthly cost over the fleet cap (maxReplicas per region), the cheapest cap
    marked, the pure self-hosted and pure API costs as flat reference lines. Pure SVG, no scripts."""
    # the caps every region shares (where regions' searches differ, their mixed caps are in the JSON and tables)
    curve = [p for p in h["costCurve"] if len(set(p["maxReplicasByRegion"].values())) == 1] or h["costCurve"]
    refs = {"pure self-hosted": h["pureSelfHostedMonthlyUsd"], "pure API": h["pureApiMonthlyUsd"]}
    refs = {k: v for k, v in refs.items() if v is not None}
    if not curve:
        return "<p>no curve</p>"
    xs = [p["maxReplicas"] for p in curve]
    ys = [p["monthlyUsd"] for p in curve] + list(refs.values())
    left, right, top, bottom = 80, 150, 20, 45
    x0, x1 = min(xs), max(max(xs), min(xs) + 1)
    y0, y1 = min(ys) * 0.98, max(ys) * 1.02

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (width - left - right)

    def py(y: float) -> float:
        return top + (1 - (y - y0) / ((y1 - y0) or 1)) * (height - top - bottom)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             'aria-label="split monthly cost versus fleet cap">',
             f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" fill="none" stroke="#999"/>']
    for i in range(5):
        y = y0 + (y1 - y0) * i / 4
        parts.append(f'<line x1="{left}" y1="{py(y):.1f}" x2="{width - right}" y2="{py(y):.1f}" stroke="#eee"/>'
                     f'<text x="{left - 5}" y="{py(y) + 4:.1f}" text-anchor="end">${human(y)}</text>')
    for x in sorted({x0, x1, *xs[:: max(1, len(xs) // 8)]}):
        parts.append(f'<text x="{px(x):.1f}" y="{height - bottom + 15}" text-anchor="middle">{x}</text>')
    parts.append(f'<text x="{(left + width - right) / 2}" y="{height - 8}" text-anchor="middle">fleet cap: maxReplicas per region</text>')
    points = " ".join(f"{px(p['maxReplicas']):.1f},{py(p['monthlyUsd']):.1f}" for p in curve)
    parts.append(f'<polyline fill="none" stroke="{PALETTE[3]}" stroke-width="2" points="{points}"/>')
    legend = [("hybrid split", PALETTE[3], "")]
    for i, (name, value) in enumerate(refs.items()):
        color = PALETTE[0] if name == "pure self-hosted" else PALETTE[1]
        parts.append(f'<line x1="{left}" y1="{py(value):.1f}" x2="{width - right}" y2="{py(value):.1f}" stroke="{color}" '
                     'stroke-dasharray="6 3"/>')
        legend.append((name, color, ' stroke-dasharray="6 3"'))
    best = min(curve, key=lambda p: p["monthlyUsd"])
    parts.append(f'<circle cx="{px(best["maxReplicas"]):.1f}" cy="{py(best["monthlyUsd"]):.1f}" r="4" fill="#000"/>'
                 f'<text x="{px(best["maxReplicas"]) + 6:.1f}" y="{py(best["monthlyUsd"]) - 6:.1f}">cheapest: '
                 f'{best["maxReplicas"]}</text>')
    for i, (name, color, dash) in enumerate(legend):
        ly = top + 15 + 18 * i
        parts.append(f'<line x1="{width - right + 10}" y1="{ly}" x2="{width - right + 30}" y2="{ly}" stroke="{color}" '
                     f'stroke-width="2"{dash}/><text x="{width - right + 35}" y="{ly + 4}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def html(docs: list[dict]) -> str:
    # one chart per stack document, in order: two stack files may share a stack name
    charts = [svg_chart(d["chart"], d["traffic"]["requestsPerMonth"]) if d.get("chart") else "" for d in docs]
    cap_charts = [svg_cap_chart(d["hybrid"]) if d.get("hybrid") else "" for d in docs]
    sweeps = [svg_chart(sweep_chart(d), d["traffic"]["requestsPerMonth"]) if d.get("volumeSweep") else "" for d in docs]
    from cli.render.warnings import shared_warnings

    return _env(True).get_template("estimate.html.j2").render(stacks=docs, charts=charts, sweeps=sweeps,
                                                               cap_charts=cap_charts, shared=shared_warnings(docs))


def json_document(docs: list[dict]) -> str:
    """The JSON contract: version, currency and the stacks' documents (cli/envelope.py, cli/estimate/contract.py)."""
    from cli.envelope import envelope

    return json.dumps(envelope([with_warning_ids(d) for d in docs]), indent=2) + "\n"


def with_warning_ids(doc: dict) -> dict:
    """The stack's document with `warningIds` right after `warnings`: the id of each warning, in the same order
    (`stale-prices`, ..., or `other`; infra/spec/warning_ids.py). `warnings` stays a list of strings for its
    readers; computed when the JSON is written, so a warning added after pricing (`--compare-to`) has its id too."""
    from infra.spec.warning_ids import warning_id

    out: dict = {}
    for key, value in doc.items():
        if key == "warningIds":
            continue
        out[key] = value
        if key == "warnings":
            out["warningIds"] = [warning_id(w) for w in value]
    return out
