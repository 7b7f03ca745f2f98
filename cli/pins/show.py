"""What `model show` prints: the pin in force per region and the history, newest first."""

from __future__ import annotations

from typing import Any

import typer

from cli.pins.edits import Pin, pin_since, record_pin, region_pin, short_image, stack_pin
from cli.render.safe import clean, clean_text
from cli.stacks import StackRef
from infra.spec import PinRecord, StackSpec


def echo(message: Any = "", err: bool = False) -> None:
    """typer.echo with the control characters of stack names, paths and pin notes shown as escapes,
    never sent to the terminal raw."""
    typer.echo(clean_text(message), err=err)


def _pin_row(pin: Pin, pinned_at: str | None, note: str | None) -> dict[str, Any]:
    return {"source": pin.source, "revision": pin.revision, "image": pin.image, "pinnedAt": pinned_at, "note": note}


def show_data(ref: StackRef, spec: StackSpec) -> dict[str, Any]:
    """Everything `model show` prints, newest history entry first."""

    def history(records: list[PinRecord]) -> list[dict[str, Any]]:
        rows = []
        for number, rec in enumerate(reversed(records), start=1):
            row = _pin_row(record_pin(rec, spec.model.source), rec.pinned_at, rec.note)
            rows.append({"entry": number, **row, "replacedAt": rec.replaced_at})
        return rows

    regions = []
    for region in spec.regions:
        own = region.has_own_pin
        pinned_at, note = pin_since(spec, region)
        regions.append({
            "region": region.region,
            "follows": "own pin" if own else "stack-wide pin",
            **_pin_row(region_pin(spec, region), pinned_at, note),
            "history": history(region.model.history if region.model else []),
        })
    return {
        "stack": ref.name,
        "path": str(ref.path),
        "pin": _pin_row(stack_pin(spec), spec.model.pinned_at, spec.model.pin_note),
        "history": history(spec.model.history),
        "regions": regions,
    }


def _history_lines(rows: list[dict[str, Any]], current_source: str, width: int) -> list[str]:
    """The history as a table by the one column rule (cli/render/grid.py): an image, a revision and a date are never
    split (numeric columns), a note folds; too wide, the table is drawn in parts that each repeat the entry number."""
    from cli.render import grid

    cells = []
    for row in rows:
        revision = row["revision"][:12]
        if row["source"] != current_source:
            revision = f"{row['source']}@{revision}"
        cells.append([str(row["entry"]), revision, short_image(row["image"]), row["pinnedAt"] or "-",
                      row["replacedAt"] or "-", row["note"] or ""])
    columns = [grid.Column("#", "right", numeric=True), grid.Column("revision", numeric=True),
               grid.Column("image", numeric=True), grid.Column("pinned", numeric=True),
               grid.Column("replaced", numeric=True), grid.Column("note")]
    return grid.render("", columns, cells, width).removesuffix("\n").split("\n")


def _region_lines(regions: list[dict[str, Any]], current_source: str, width: int) -> list[str]:
    """One line a region (region, what it follows, revision, image, since), aligned; where that is wider than `width`,
    the image and the date go on a second line under it, wrapped with a hanging indent (a pin is never split)."""
    from cli.render.grid import hang

    region_w = max(len(r["region"]) for r in regions)
    follows_w = max(len(r["follows"]) for r in regions)
    lines = []
    for region in regions:
        mark = f"since {region['pinnedAt'] or '-'}" + (f"  note: {region['note']}" if region["note"] else "")
        source = "" if region["source"] == current_source else f"{region['source']}@"
        head = f"  {region['region']:<{region_w}}  {region['follows']:<{follows_w}}  {source}{region['revision'][:12]}"
        tail = f"{short_image(region['image'])}  {mark}"
        # too wide: the image and the date on lines of their own, and the head itself wrapped where a region's own
        # `source@revision` makes it wider than `width` (it stays aligned where it fits)
        lines += ([f"{head}  {tail}"] if len(head) + 2 + len(tail) <= width
                  else [*hang(head, width), *hang(f"    {tail}", width)])
    return lines


def show_text(data: dict[str, Any], arg: str | None = None, width: int = 100) -> str:
    """`arg`: the STACK argument the rollback hints print (`cli.stacks.shown_arg`: one that works from the cwd).
    `width`: the columns to fit (cli/render/width.py): lines wrap with a hanging indent (`grid.hang`), never through a
    pin, a revision or a date."""
    from cli.render.grid import hang

    arg = arg or data["stack"]
    pin = data["pin"]
    lines = [
        f"stack {data['stack']} ({data['path']})",
        "",
        "stack-wide pin",
        f"  source    {pin['source']}",
        f"  revision  {pin['revision']}",
        f"  image     {pin['image']}",
        f"  pinned    {pin['pinnedAt'] or '-'}" + (f"  note: {pin['note']}" if pin["note"] else ""),
        "",
        "in force per region",
    ]
    lines = [piece for line in lines for piece in hang(line, width)]
    lines += _region_lines(data["regions"], pin["source"], width) if data["regions"] else []
    lines += ["", *hang(f"history, newest first (restore with `tradeoff-infra model rollback {arg} --to N`)", width)]
    lines += _history_lines(data["history"], pin["source"], width) if data["history"] else ["  (none yet)"]
    for region in data["regions"]:
        if region["history"]:
            lines += ["", *hang(f"history of {region['region']}, newest first "
                                f"(`tradeoff-infra model rollback {arg} --region {region['region']} --to N`)", width)]
            lines += _history_lines(region["history"], pin["source"], width)
    # each entry is one line: a stack name, path or note with a line break in it shows it as \x0a (echo keeps the
    # text's own line breaks, so a file named "x\nerror: ..." printed raw would forge a line)
    return "\n".join(clean(line) for line in lines)


