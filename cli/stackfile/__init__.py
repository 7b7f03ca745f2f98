"""Moved to `cli/pins/stackfile.py`; `cli.stackfile` stays importable (the same module object) for code
written against the old path. A package, not a file, so git follows the move of the old file."""

import sys

from cli.pins import stackfile

sys.modules[__name__] = stackfile
