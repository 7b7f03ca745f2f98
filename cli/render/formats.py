"""One estimate report in a chosen format from the stacks' contract documents: what `estimate` prints after
pricing and what `render` prints from saved `--format json` documents (one home for the dispatch)."""

from __future__ import annotations


def render_report(docs: list[dict], fmt: str, *, terminal: bool = False, fields: tuple[str, ...] | None = None) -> str:
    """`fmt` is json, markdown, html or table; each format's module is imported only when it is asked for."""
    if fmt == "json":
        from cli.render.documents import json_document

        return json_document(docs)
    if fmt == "markdown":
        from cli.render.documents import markdown

        return markdown(docs)
    if fmt == "html":
        from cli.render.documents import html

        return html(docs)
    from cli.render.table import DEFAULT_FIELDS, render_tables

    return render_tables(docs, terminal=terminal, fields=fields or DEFAULT_FIELDS)
