"""The pin rules: what a weights revision, a vLLM image and a weights repository id must look like.

One home for them: the stack spec's validators (`infra/spec/models.py`), `tradeoff-infra model pin`
(`cli/pins/edits.py`), the chart values (`infra/chart_values.py`) and the chart's own schema
(`charts/vllm/values.schema.json`, whose patterns `tests/infra/test_pins.py` holds equal to these) all
follow them. Plain data and `re` only: the CLI imports this on its start-up path.
"""

from __future__ import annotations

import re

# The pieces, unanchored, so the chart schema's patterns can be compared with them piece by piece.
COMMIT_PATTERN = r"[0-9a-f]{40}"
"""A full 40-hex git commit: branch names, tags and short SHAs float and are refused."""
HF_REPO_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*"
"""A Hugging Face repository id, owner/name."""
IMAGE_REPOSITORY_PATTERN = r"[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
IMAGE_TAG_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
IMAGE_DIGEST_PATTERN = r"sha256:[0-9a-f]{64}"
IMAGE_FORM = "REPOSITORY[:TAG]@sha256:<64 hex>"
"""How the messages spell an image pinned by digest."""

COMMIT_RE = re.compile(rf"^{COMMIT_PATTERN}$")
IMAGE_RE = re.compile(
    rf"^(?P<repository>{IMAGE_REPOSITORY_PATTERN})(?::(?P<tag>{IMAGE_TAG_PATTERN}))?@(?P<digest>{IMAGE_DIGEST_PATTERN})$"
)
HF_REPO_RE = re.compile(rf"^{HF_REPO_PATTERN}$")


def require_commit(value: str) -> str:
    """`value` if it is a full commit, else ValueError saying why a moving reference is refused."""
    if not COMMIT_RE.match(value):
        raise ValueError(
            f"{value!r} is not a full 40-hex commit SHA; branch names, tags and short SHAs float "
            "and are refused (copy the full commit from the model repository's history)"
        )
    return value


def require_digest_image(value: str) -> str:
    """`value` if it is an image reference pinned by digest, else ValueError."""
    if not IMAGE_RE.match(value):
        raise ValueError(f"{value!r} is not pinned by digest; use {IMAGE_FORM} (a tag can be moved to other bytes)")
    return value


def require_hf_repo(value: str) -> str:
    """`value` if it is a Hugging Face repository id, else ValueError."""
    if not HF_REPO_RE.match(value):
        raise ValueError(f"{value!r} is not a Hugging Face repository id of the form owner/name")
    return value
