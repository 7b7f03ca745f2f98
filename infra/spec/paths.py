"""A stack's name from its file's name: light (no pydantic, no YAML), so the CLI resolves STACK arguments and keys its
caches without building the spec's models."""

from __future__ import annotations

import pathlib


def stack_name_from_path(path: pathlib.Path) -> str:
    name = path.name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name[len("Pulumi."):].rsplit(".", 1)[0]
    return path.stem
