"""Moved to `cli/commands/estimate.py`; `cli.estimate_cmd` stays importable (the same module object) for
code written against the old path. A package, not a file, so git follows the move of the old file."""

import sys

from cli.commands import estimate

sys.modules[__name__] = estimate
