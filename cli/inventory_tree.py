"""The resources a program registers as the parent/child tree `pulumi preview` prints: a plain function
over `PlannedResource`s (no Pulumi), used by `tradeoff-infra inventory`'s table."""

from __future__ import annotations

from collections.abc import Iterable

from cli.planned import PlannedResource

STACK_TYPE = "pulumi:pulumi:Stack"


def stack_urn_of(resources: Iterable[PlannedResource]) -> str | None:
    """The stack's own URN (the parent no recorded resource has), or None."""
    urns = {r.urn for r in resources}
    return next((r.parent for r in resources if r.parent and r.parent not in urns), None)


def tree_rows(resources: list[PlannedResource]) -> list[tuple[str, PlannedResource]]:
    """Each resource with the box-drawing prefix of its depth, parents before children, siblings by name then
    type; a resource whose parent is not recorded (the stack) is a top-level row."""
    urns = {r.urn for r in resources}
    children: dict[str | None, list[PlannedResource]] = {}
    for r in resources:
        children.setdefault(r.parent if r.parent in urns else None, []).append(r)
    for kids in children.values():
        kids.sort(key=lambda r: (r.name, r.type))
    rows: list[tuple[str, PlannedResource]] = []

    def walk(parent: str | None, indent: str) -> None:
        kids = children.get(parent, [])
        for i, r in enumerate(kids):
            last = i == len(kids) - 1
            rows.append((f"{indent}{'└─' if last else '├─'} ", r))
            walk(r.urn, indent + ("   " if last else "│  "))

    walk(None, "")
    shown = {r.urn for _, r in rows}
    rows += [("?  ", r) for r in resources if r.urn not in shown]  # a parent cycle: never dropped silently
    return rows


def summary(resources: list[PlannedResource]) -> str:
    """`Resources: + N to create` as `pulumi preview` ends, with the split into cloud resources and components."""
    custom = sum(1 for r in resources if r.custom)
    return (f"Resources:\n    + {len(resources)} to create ({custom} cloud resources, "
            f"{len(resources) - custom} components)")


def folded(prefix: str, text: str, width: int, height: int = 1) -> str:
    """A tree row's cell (`prefix` + the resource type) folded to `width` columns with the tree's guide lines
    carried down (`│  ` under a `├─`), and down to `height` lines (the row's other cells may wrap), so a
    narrow terminal keeps the tree readable; the text unfolded if the tree is too deep to leave it 8 columns."""
    room = width - len(prefix)
    guide = prefix[:-3] + ("│  " if prefix.endswith("├─ ") else "   ")
    if len(prefix) + len(text) <= width or room < 8:
        lines = [prefix + text]
    else:
        chunks = [text[i:i + room] for i in range(0, len(text), room)]
        lines = [prefix + chunks[0], *(guide + chunk for chunk in chunks[1:])]
    lines += [guide.rstrip()] * (height - len(lines))
    return "\n".join(lines)
