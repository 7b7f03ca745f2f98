"""Rich tables for the terminal, from the estimate contract dicts: the decision first (a summary table
across stacks when there are several, then per stack its decision block), then the details. Money and
quantities never wrap or truncate; text columns fold (`fitted_table`)."""

from __future__ import annotations

import io
import os
import re
import threading

from rich.cells import cell_len
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from cli.render.documents import decision, money, unit_price
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


MIN_TEXT_COLUMN = 8
# A word of a text cell that is an amount or a count ("$736.51", "1,460.00", "(12%)"): the column stays
# at least that wide, so wrapping moves it to the next line whole instead of folding it.
_NUMBER_WORD = re.compile(r"[(]?[-+]?\$?\d[\d,]*(?:\.\d+)?(?:%|\.\.\$?\d[\d,]*(?:\.\d+)?)?[),;:.]?")


def _longest_number_word(cells: list[str]) -> int:
    return max((len(word) for cell in cells for word in cell.split() if _NUMBER_WORD.fullmatch(word)), default=0)


MAX_WORD = 20


def _shrink(widths: list[int], text: list[int], floor: dict[int, int], excess: int) -> None:
    """Take `excess` columns from the text columns, the widest first, none below its floor."""
    while excess > 0 and text:
        top = max(widths[i] for i in text)
        at_top = [i for i in text if widths[i] == top and widths[i] > floor[i]]
        if not at_top:
            break
        below = max([widths[i] for i in text if widths[i] < top] + [max(floor[i] for i in at_top)])
        step = min(top - below, -(-excess // len(at_top))) or 1
        for i in at_top:
            cut = min(step, widths[i] - floor[i], excess)
            widths[i] -= cut
            excess -= cut


def fitted_table(title: str, columns: list[tuple[str, str, bool]], rows: list[tuple[list[str], str]], width: int) -> Table:
    """A rich table whose column widths are decided here, not by rich: a numeric column (money,
    quantities, counts; `(header, justify, True)`) keeps its widest cell and never wraps or truncates;
    the text columns share what is left, the widest shrinking first, folding their text, none below
    MIN_TEXT_COLUMN. When even that does not fit, the table is wider than `width` (print it with
    crop=False): a number is never split. Fixed widths also spare rich measuring every cell (~1/3 of
    its time). `rows`: (cells, style). Cells are plain text (no markup), made inert by `clean`."""
    heads = [h for h, _, _ in columns]
    body = [([clean(c) for c in cells], style) for cells, style in rows]
    natural = []
    for i, head in enumerate(heads):
        lines = head.split("\n") + [line for cells, _ in body for line in cells[i].split("\n")]
        natural.append(max(cell_len(line) for line in lines) or 1)
    available = width - (3 * len(columns) + 1)  # a border before each column and after the last, a space each side
    widths = list(natural)
    text = [i for i, (_, _, numeric) in enumerate(columns) if not numeric]
    numbers = {i: _longest_number_word([cells[i] for cells, _ in body]) for i in text}
    words = {i: max((cell_len(w) for cells, _ in body for w in cells[i].split()), default=0) for i in text}
    # first keep every word whole (a word at most MAX_WORD wide); then fold the columns of sentences, keeping
    # columns of single names (a region, a source) whole; then fold any column down to MIN_TEXT_COLUMN
    for floor_of in (lambda i: min(words[i], MAX_WORD),
                     lambda i: min(words[i], MAX_WORD) if natural[i] == words[i] else MIN_TEXT_COLUMN,
                     lambda i: MIN_TEXT_COLUMN):
        floor = {i: max(min(natural[i], floor_of(i)), numbers[i]) for i in text}
        _shrink(widths, text, floor, sum(widths) - available)
    table = Table(title=title, title_justify="left")
    for (head, justify, numeric), w in zip(columns, widths):
        if numeric:
            table.add_column(head, justify=justify, width=w, no_wrap=True)  # w >= its widest cell: never cut
        else:
            table.add_column(head, justify=justify, width=w, overflow="fold")
    for cells, style in body:
        table.add_row(*(Text(c, style=style) for c in cells))
    needed = sum(widths) + 3 * len(columns) + 1
    if needed > width:
        table.width = needed
    return table


def decision_text(doc: dict) -> Group:
    """The decision block: the verdict on the first line, then the numbers that decide it, each value
    wrapped under itself (a hanging indent)."""
    d = decision(doc)
    colour = {"API": "cyan", "SELF-HOST": "green", "HYBRID": "magenta"}.get(d["verdict"], "yellow")
    head = Text.from_markup(f"[bold]verdict: [{colour}]{m(d['verdict'])}[/{colour}][/bold] — stack "
                            f"[bold]{m(doc['stack'])}[/bold] ({m(doc['stackFile'])})")
    grid = Table.grid(padding=(0, 1), pad_edge=True)
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value, style in (("self-hosted", d["selfHosted"], ""), ("vs API", d["api"], ""),
                                ("break-even", d["breakEven"], ""),
                                ("budget", d["budget"], "red" if d["overBudget"] else ""),
                                ("defaults", d["defaults"].removeprefix("defaults used "), "")):
        grid.add_row(Text(label), Text(clean(value), style=style))
    return Group(head, grid)


def summary_table(docs: list[dict], width: int) -> Table:
    """One row per stack: the decision blocks side by side."""
    rows = []
    for doc in docs:
        d = decision(doc)
        rows.append(([doc["stack"], d["verdict"], d["selfHostedUsd"], d["apiShort"], d["breakEvenShort"], d["budgetShort"]],
                     "red" if d["overBudget"] else ""))
    return fitted_table(f"{len(docs)} stacks: monthly USD, expected; break-even in requests/month (details below)",
                        [("stack", "left", False), ("verdict", "left", True), ("self-hosted", "right", True),
                         ("cheapest API", "left", False), ("break-even", "right", True),
                         ("budget", "left", False)],
                        rows, width)


def stack_parts(doc: dict, width: int, *, fields: tuple[str, ...] = DEFAULT_FIELDS, verbose: bool = False,
                shown_later: frozenset[str] = frozenset()) -> list:
    """The decision block, then the details: line items, totals, capacity, API offers, reasons, warnings
    (less those in `shown_later`: the ones several stacks share, printed once at the end)."""
    parts: list = [decision_text(doc)]
    catalog = doc["priceCatalog"]
    stale = " [yellow](stale: older than 90 days)[/yellow]" if catalog["stale"] else ""
    parts.append(Text.from_markup(
        f"priced {m(doc['asOf'])} with AWS prices as of "
        f"{m(catalog['oldestPriceUsed'])} ({m(catalog['ageDays'])} days, oldest price this stack uses){stale}; "
        f"API prices: {m(doc['apiPrices']['source'])}"))

    cols = [(LINE_ITEM_FIELDS[f][0], "right" if LINE_ITEM_FIELDS[f][1] else "left", LINE_ITEM_FIELDS[f][1]) for f in fields]
    rows = [([str(LINE_ITEM_FIELDS[f][2](li)) for f in fields], "")
            for li in sorted(doc["lineItems"], key=lambda li: (-li["monthlyUsd"], li["region"], li["resource"]))
            if verbose or li["monthlyUsd"] >= 0.005]
    more = "" if "range" in fields else "; --fields all for min..max, unit price, region"
    parts.append(fitted_table(f"line items (monthly, expected{more})", cols, rows, width))

    sh = doc["selfHosted"]
    rows = [([cat, money(v["min"]), money(v["expected"]), money(v["max"])], "") for cat, v in doc["categories"].items()]
    ops = "" if sh["operationsIncluded"] else " (operations excluded)"
    rows.append(([f"self-hosted total{ops}", money(sh["monthlyUsd"]["min"]), money(sh["monthlyUsd"]["expected"]),
                  money(sh["monthlyUsd"]["max"])], "bold"))
    parts.append(fitted_table("monthly totals", [("category", "left", False), ("min", "right", True),
                                                 ("expected", "right", True), ("max", "right", True)], rows, width))

    rows = [([f"{c['region']} {c['pool']}", f"{c['instanceType']} ({c['gpu']}, TP{c['tensorParallel']})",
              f"{c['trafficShare']:.0%}", f"{c['averageOutputTokensPerSecond']:,.0f}",
              f"{c['outputTokensPerSecondPerReplica']:,.0f}" + (" (measured)" if c.get("throughputBasis") == "measured" else ""),
              f"{c['replicasAtAverage']}/{c['replicasAtPeak']}/{c['maxReplicas']}",
              f"{c['minNodes']}/{c['expectedNodes']:g}/{c['maxNodes']}", f"{c['queuedShare']:.1%}"], "")
            for c in doc["capacity"]]
    parts.append(fitted_table("capacity", [("region pool", "left", False), ("GPU", "left", False), ("share", "right", True),
                                           ("avg out\ntok/s", "right", True), ("tok/s per\nreplica", "right", True),
                                           ("replicas\navg/peak/max", "right", True), ("nodes\nmin/exp/max", "right", True),
                                           ("queued", "right", True)], rows, width))

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
                               ("break-even", "right", True), ("note", "left", False)], rows, width))

    parts.extend(analysis_tables(doc, width))

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


def analysis_tables(doc: dict, width: int) -> list:
    """`--sensitivity` (what flips the verdict, the volume sweep) and `--growth`, when the document has them."""
    from cli.render.documents import growth_table, sensitivity_rows, sweep_table

    parts: list = []
    if doc.get("sensitivity"):
        parts.append(fitted_table("what flips the verdict (--sensitivity)",
                                  [("input", "left", False), ("today", "left", False),
                                   ("where the verdict changes", "left", False), ("note", "left", False)],
                                  [(row, "") for row in sensitivity_rows(doc)], width))
        heads, rows = sweep_table(doc)
        # an offer's name in a column head folds after its provider and path (`together:` / `meta-llama/` / model)
        cols = [(h.replace(":", ":\n").replace("/", "/\n"), "right", True) for h in heads[:-1]] + [(heads[-1], "left", True)]
        parts.append(fitted_table("volume sweep: monthly USD from 1% to 100x of today's requests/month", cols,
                                  [(row, "") for row in rows], width))
    if doc.get("growth"):
        rows, line, fleet = growth_table(doc)
        parts.append(fitted_table(f"growth (--growth): {line}",
                                  [("month", "right", True), ("requests/month", "right", True),
                                   ("self-hosted", "right", True), ("cheapest API", "left", False),
                                   ("verdict", "left", True)], [(row, "") for row in rows], width))
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


def stack_text(job: tuple) -> str:
    """One stack's decision block and details as text, then a blank line. `job`: (doc, console
    settings[, line-item fields])."""
    doc, settings, *rest = job
    fields = rest[0] if rest else DEFAULT_FIELDS
    shown_later = rest[1] if len(rest) > 1 else frozenset()
    buffer = io.StringIO()
    console = Console(file=buffer, **settings)
    for part in stack_parts(doc, settings["width"], fields=fields, shown_later=shown_later):
        console.print(part, crop=False)
    console.print()
    return buffer.getvalue()


def summary_text(docs: list[dict], settings: dict) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, **settings)
    console.print(summary_table(docs, settings["width"]), crop=False)
    console.print()
    return buffer.getvalue()


def render_tables(docs: list[dict], *, terminal: bool = False, fields: tuple[str, ...] = DEFAULT_FIELDS) -> str:
    """With several stacks, a summary table first; then every stack's decision block and details, in
    order. Laying out a big rich table is slow, so with two or more stacks and CPUs the biggest stack is
    laid out in a forked child while this process lays out the others; the text is the same either way
    (if the child fails, its stack is laid out here)."""
    settings = console_settings(terminal)
    shared = shared_warnings(docs)
    later = frozenset(shared)
    texts: list[str | None] = [None] * len(docs)
    if len(docs) >= 2 and (os.cpu_count() or 1) >= 2 and hasattr(os, "fork") and threading.active_count() == 1:
        big = max(range(len(docs)), key=lambda i: len(docs[i].get("lineItems", [])))

        def the_others() -> None:
            for i, doc in enumerate(docs):
                if i != big:
                    texts[i] = stack_text((doc, settings, fields, later))

        texts[big] = _in_child((docs[big], settings, fields, later), the_others)
    head = summary_text(docs, settings) if len(docs) >= 2 else ""
    return head + "".join(text if text is not None else stack_text((doc, settings, fields, later))
                          for text, doc in zip(texts, docs)) + shared_text(shared, settings)


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


def _in_child(job: tuple, meanwhile) -> str | None:
    """`stack_text(job)` computed in a forked child while `meanwhile()` runs here; None if the child failed."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: lay out, write, leave without running the parent's exit handlers
        code = 1
        try:
            os.close(read_fd)
            with os.fdopen(write_fd, "wb") as out:
                out.write(stack_text(job).encode())
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
