"""One way to compare with a golden file: UPDATE_GOLDENS=1 rewrites it, otherwise a diff fails the test."""

from __future__ import annotations

import difflib
import os
import pathlib

import pytest

from tests.paths import GOLDEN


def check_golden(path: pathlib.Path, actual: str, produced_by: str, regenerate: str) -> None:
    """`actual` against `path`; `produced_by` names the other side of the diff, `regenerate` the test file."""
    if os.environ.get("UPDATE_GOLDENS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
        return
    assert path.is_file(), f"no golden {path.name}: run UPDATE_GOLDENS=1 pytest {regenerate}"
    expected = path.read_text()
    if actual != expected:
        label = f"golden/{path.relative_to(GOLDEN)}"
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), label, produced_by, n=2))
        pytest.fail(f"{produced_by} differs from its golden (UPDATE_GOLDENS=1 to accept):\n{diff[:6000]}")
