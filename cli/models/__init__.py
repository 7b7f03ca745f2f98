"""Split into `cli/pins/` (edits, show, apply) and `cli/commands/model.py`; `cli.models` keeps
re-exporting their names for code written against the old path. A package, not a file, so git
follows the move of the old file (to `cli/pins/edits.py`)."""

from cli.commands.model import app, pin, rollback_command, show  # noqa: F401
from cli.pins.apply import ApplyTarget, apply_target, pulumi_up  # noqa: F401
from cli.pins.edits import *  # noqa: F401,F403
from cli.pins.show import echo, show_data, show_text  # noqa: F401
from cli.errors import CliError as InputError  # noqa: F401  (the old name of a bad-input error)
