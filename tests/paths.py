"""Where the tests' files are: one home, so a test module's place in the tree never changes a path."""

from __future__ import annotations

import pathlib

TESTS = pathlib.Path(__file__).resolve().parent
ROOT = TESTS.parent  # the repository root
DATA = TESTS / "data"  # checked-in fixtures (recorded responses, stand-in charts, pinned facts)
GOLDEN = TESTS / "golden"  # golden files, compared by tests.goldens.check_golden
