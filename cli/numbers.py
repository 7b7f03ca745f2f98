"""The one home for a count a reader takes in at a glance (issue 13 item 6): 950, 1K, 1.5M, 10M, 100B —
never `1e11`. Used by the estimate's own notes (cli/estimate/decision.py) and every renderer
(cli/render/documents.py: tables, chart axes, markers). Pure: no imports."""

from __future__ import annotations


def human(value: float) -> str:
    """A count for an axis, a table cell or a note: 950, 1K, 1.5M, 10M, 1B, 100B (never 1e6)."""
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            text = f"{value / size:.3g}"
            return (text if "e" not in text else f"{value / size:,.0f}") + suffix
    return f"{value:.3g}" if value != int(value) else f"{int(value)}"
