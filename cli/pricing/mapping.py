"""Moved to `cli/estimate/mapping.py` (records in `cli/estimate/records.py`); this name stays for old imports.
`cli/pricing/` holds price sources only (catalog refresh, bulk offer files, API prices)."""

from cli.estimate.mapping import *  # noqa: F401,F403
from cli.estimate.mapping import _free_variant, _launch_template_for  # noqa: F401
