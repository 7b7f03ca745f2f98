"""The HTML report (issue 13 item 6): a budget row and a total row (the cost compared) under the line items, axes in human
numbers, a marker at the stack's own request volume, legend labels that fit, equal-priced offers told
apart, a table of contents with several stacks. Checked on the parsed DOM, not on substrings."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from typer.testing import CliRunner

from cli.main import app
from cli.render.documents import LEGEND_CHAR_PX, human, money, svg_chart
from tests.builders import cache_dir  # noqa: F401  (autouse: one inventory cache for the module)
from tests.paths import ROOT

runner = CliRunner()


def invoke(*args) -> str:
    result = runner.invoke(app, [*args, "--as-of", "2026-11-24"], env={"TRADEOFF_INFRA_ROOT": str(ROOT)})
    assert result.exit_code == 0, result.output
    return result.stdout


class Dom(HTMLParser):
    """Elements as (tag, attrs, text) with the id of the section they sit in; svg <text> kept apart."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.section: str | None = None
        self.rows: list[tuple[str | None, dict, list[str]]] = []  # (section, tr attrs, cell texts)
        self.axis: list[str] = []
        self.markers: list[str | None] = []
        self.links: list[str] = []
        self.sections: list[str] = []
        self.ids: list[str] = []  # every element's id, in document order
        self.in_toc = False
        self._row = None
        self._cell: list[str] | None = None
        self._svg_text: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "section":
            self.section = a.get("id")
            self.sections.append(a["id"])
        elif tag == "nav" and a.get("class") == "toc":
            self.in_toc = True
        elif tag == "a" and self.in_toc:
            self.links.append(a["href"])
        elif tag == "tr":
            self._row = (self.section, a, [])
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "g" and a.get("class") == "marker":
            self.markers.append(self.section)
        elif tag == "text":
            self._svg_text = []

    def handle_endtag(self, tag):
        if tag == "nav":
            self.in_toc = False
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row[2].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "text" and self._svg_text is not None:
            self.axis.append("".join(self._svg_text))
            self._svg_text = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._svg_text is not None:
            self._svg_text.append(data)


def parse(text: str) -> Dom:
    dom = Dom()
    dom.feed(text)
    return dom


def test_every_stack_section_has_total_and_budget_rows_a_marker_and_a_toc_entry():
    dom = parse(invoke("estimate", "--all", "--format", "html"))
    docs = json.loads(invoke("estimate", "--all", "--format", "json"))["stacks"]
    assert len(docs) > 1 and dom.sections == [f"stack-{i}" for i in range(1, len(docs) + 1)]
    assert dom.links[:len(docs)] == [f"#{s}" for s in dom.sections]  # the table of contents links each section
    assert dom.markers == dom.sections  # one marker at the stack's own request volume per chart
    for section, doc in zip(dom.sections, docs):
        rows = [(a, cells) for sec, a, cells in dom.rows if sec == section]
        # every total row shows the one cost compared (the verdict's, the budget's); the line items' own sum, where
        # it is another (the configured fleet below the fleet grown for the traffic), in a row labelled as such
        total = [cells for a, cells in rows if a.get("class") == "total"]
        compared = (doc["hybrid"]["monthlyUsd"]["expected"] if doc["verdict"]["choice"] == "hybrid"
                    else doc["selfHosted"]["comparedMonthlyUsd"])
        assert total and all(money(compared) in cells for cells in total), total
        line_items = round(sum(li["monthlyUsd"] for li in doc["lineItems"]), 2)
        if line_items != compared:
            configured = [cells for a, cells in rows if a.get("class") == "configured"]
            assert any(money(line_items) in cells and "configured" in cells[0] for cells in configured), configured
        budget = [cells for a, cells in rows if a.get("class") == "budget"]
        assert budget, rows[-3:]
        word = "OVER budget" if doc["budget"]["overBudget"] else "within budget"
        assert word in budget[0][1] and money(doc["budget"]["monthlyUsd"]) in budget[0][0], budget
    marker_labels = [t for t in dom.axis if t.startswith("this stack:")]
    assert [t for t in marker_labels] == [f"this stack: {human(d['traffic']['requestsPerMonth'])}/month" for d in docs]


def test_no_axis_label_uses_scientific_notation():
    dom = parse(invoke("estimate", "--all", "--format", "html"))
    assert dom.axis and not [t for t in dom.axis if re.search(r"\de[+-]?\d|\b1e\d", t)], dom.axis
    assert "1M" in dom.axis or "10M" in dom.axis


def test_human_numbers():
    assert [human(v) for v in (950, 1_000, 1_500, 1e6, 1e7, 2.5e7, 1e9, 1e11, 0.1)] == \
        ["950", "1K", "1.5K", "1M", "10M", "25M", "1B", "100B", "0.1"]


def _chart(api: dict[str, list]) -> dict:
    return {"requestsPerMonth": [1_000, 10_000, 100_000], "selfHostedUsd": [100.0, 100.0, 100.0],
            "selfHostedMaxNodesLiftedUsd": [], "maxServableRequestsPerMonth": 100_000, "apiUsd": api}


def test_equal_priced_offers_share_one_line_with_a_combined_label():
    svg = parse(svg_chart(_chart({"a:one": [1.0, 10.0, 100.0], "b:two": [1.0, 10.0, 100.0], "c:three": [2.0, 20.0, 200.0]})))
    assert "a:one = b:two" in svg.axis and "c:three" in svg.axis and "a:one" not in svg.axis


def test_a_long_legend_label_fits_inside_the_chart():
    name = "together:meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo-with-a-much-longer-name"
    text = svg_chart(_chart({name: [1.0, 10.0, 100.0]}), requests=10_000)
    width = float(re.search(r'<svg[^>]*width="(\d+)"', text).group(1))
    x = float(re.search(rf'<text x="([\d.]+)" y="[\d.]+">{re.escape(name)}</text>', text).group(1))
    assert x + LEGEND_CHAR_PX * len(name) <= width
    assert "this stack: 10K/month" in parse(text).axis


def test_the_table_of_contents_links_the_shared_warnings():
    """The warnings several stacks share sit in their own block at the end (`#shared-warnings`, linked from each
    stack's warnings) but the table of contents left it out: it is the last entry, and every entry's target exists."""
    dom = parse(invoke("estimate", "--all", "--format", "html"))
    assert "shared-warnings" in dom.ids  # the shipped stacks share warnings
    assert dom.links[-1] == "#shared-warnings"
    assert dom.links == [*(f"#{s}" for s in dom.sections), "#shared-warnings"]
    assert all(link.removeprefix("#") in dom.ids for link in dom.links)
    assert dom.ids.index("shared-warnings") > dom.ids.index(dom.sections[-1])  # after the last stack, as listed
