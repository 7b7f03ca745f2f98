"""The envelope of `estimate --format json`: `{"version": 1, "currency": "USD", "stacks": [...]}`.

Its own module, plain Python, so that printing a saved or cached estimate as JSON loads neither the estimate
package nor the contract's pydantic models (`cli/estimate/contract.py`, which re-exports these names and
parses saved estimates against the typed contract).
"""

from __future__ import annotations

CONTRACT_VERSION = 1
"""Raise when a key the readers rely on changes meaning or goes away (adding keys keeps the version)."""
CURRENCY = "USD"


def envelope(stacks: list[dict]) -> dict:
    """The document `--format json` writes around the stacks' documents."""
    return {"version": CONTRACT_VERSION, "currency": CURRENCY, "stacks": stacks}
