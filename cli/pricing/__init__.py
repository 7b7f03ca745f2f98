"""Prices: the API offers (`api.py`), the AWS catalog's refresh (`bulk.py`, `refresh.py`, `seed.py`) and the one
loader of a catalog file a command is given (`load_catalog`)."""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

from cli.errors import CliError
from cli.render.safe import paths_shown, shown_path

if TYPE_CHECKING:
    from infra.price_catalog import PriceCatalog


def load_catalog(path: pathlib.Path | None, option: str = "--price-catalog") -> PriceCatalog:
    """The price catalog a command reads from its `option` (`--price-catalog` for estimate, validate, recommend and
    status; `--catalog` for `prices`), None: the checked-in one. The one loader: bad input names the option and,
    for a bad catalog, the key."""
    from infra.price_catalog import PriceCatalog, default_catalog

    try:
        return PriceCatalog.load(path) if path else default_catalog()
    except OSError as e:
        raise CliError(f"{option} {shown_path(path)}: cannot read: {e.strerror}") from None
    except ValueError as e:  # CatalogError names the file and the key
        raise CliError(f"{option}: {paths_shown(e, path)}") from None
