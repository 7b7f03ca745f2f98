"""One home per pin rule: the chart's schema and defaults agree with `infra/pins.py` and `infra/sizing.py`.

The chart validates its own values (`charts/vllm/values.schema.json`) so that a hand-written values file
is held to the same pins as a stack file; these tests fail the moment either side changes alone.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from infra import pins, sizing
from infra.spec import NAME_RE, SpecError, parse_stack_config
from infra.spec.models import ModelSpec
from tests.paths import ROOT

SCHEMA = json.loads((ROOT / "charts" / "vllm" / "values.schema.json").read_text())
CHART_DEFAULTS = yaml.safe_load((ROOT / "charts" / "vllm" / "values.yaml").read_text())


def schema_pattern(*path: str) -> str:
    node = SCHEMA
    for key in path:
        node = node["properties"][key]
    return node["pattern"]


def anchored(pattern: str, *, empty_allowed: bool = False) -> str:
    """A pin piece as the chart schema writes it: anchored, plain groups (JSON Schema has no `(?:`)."""
    whole = "^" + pattern.replace("(?:", "(") + "$"
    return "^$|" + whole if empty_allowed else whole


@pytest.mark.parametrize(("path", "expected"), [
    (("model", "source"), anchored(pins.HF_REPO_PATTERN)),
    (("model", "revision"), anchored(pins.COMMIT_PATTERN)),
    (("image", "repository"), anchored(pins.IMAGE_REPOSITORY_PATTERN)),
    (("image", "tag"), anchored(pins.IMAGE_TAG_PATTERN, empty_allowed=True)),
    (("image", "digest"), anchored(pins.IMAGE_DIGEST_PATTERN)),
    (("weightsMirror", "objectPrefix"), anchored(f"{pins.HF_REPO_PATTERN}/{pins.COMMIT_PATTERN}", empty_allowed=True)),
], ids=lambda v: ".".join(v) if isinstance(v, tuple) else None)
def test_chart_schema_patterns_equal_the_pin_rules(path, expected):
    assert schema_pattern(*path) == expected


def test_chart_schema_mirror_uri_ends_in_the_pinned_repo_and_commit():
    assert schema_pattern("weightsMirror", "modelUri").endswith(f"/{pins.HF_REPO_PATTERN}/{pins.COMMIT_PATTERN}$")


def test_chart_schema_pool_names_equal_the_spec_rule():
    assert SCHEMA["properties"]["scheduling"]["properties"]["gpuPools"]["items"]["pattern"] == NAME_RE.pattern


def test_image_re_is_built_from_the_schema_pieces():
    """The whole-image regex is the three pieces joined, so the piece comparison above covers it."""
    image = "vllm/vllm-openai:v0.11.0@sha256:" + "a" * 64
    match = pins.IMAGE_RE.match(image)
    assert match and match.group("repository") == "vllm/vllm-openai" and match.group("tag") == "v0.11.0"
    for group, piece in (("repository", pins.IMAGE_REPOSITORY_PATTERN), ("tag", pins.IMAGE_TAG_PATTERN),
                         ("digest", pins.IMAGE_DIGEST_PATTERN)):
        assert re.fullmatch(piece, match.group(group)), group
    assert not pins.IMAGE_RE.match("vllm/vllm-openai:v0.11.0"), "a tag without a digest floats"


def test_chart_default_memory_utilisation_is_the_sizing_one():
    assert CHART_DEFAULTS["model"]["gpuMemoryUtilization"] == sizing.GPU_MEMORY_UTILIZATION


@pytest.mark.parametrize(("key", "value", "needle"), [
    ("revision", "main", "40-hex"),
    ("image", "vllm/vllm-openai:v0.11.0", pins.IMAGE_FORM),
    ("source", "not a repo", "owner/name"),
])
def test_spec_validators_use_the_pin_rules(key, value, needle):
    """The stack spec refuses what the pin rules refuse, with the pin rules' own message."""
    base = {"name": "m", "source": "org/model", "revision": "0" * 40, "image": "vllm/vllm-openai@sha256:" + "0" * 64}
    ModelSpec.model_validate(base)
    with pytest.raises(ValueError) as spec_err:
        ModelSpec.model_validate({**base, key: value})
    require = {"revision": pins.require_commit, "image": pins.require_digest_image, "source": pins.require_hf_repo}[key]
    with pytest.raises(ValueError) as rule_err:
        require(value)
    assert needle in str(rule_err.value) and str(rule_err.value) in str(spec_err.value)


def test_a_bad_pin_in_a_stack_is_a_spec_error_naming_the_key(stack_configs):
    config = {**stack_configs["dev"], "model": {**stack_configs["dev"]["model"], "revision": "v1.0"}}
    with pytest.raises(SpecError) as info:
        parse_stack_config(config)
    assert any(p.path == "model.revision" and "40-hex" in p.message for p in info.value.problems)


def test_pin_rules_and_sizing_facts_have_one_import_path():
    """Issue 12.3: the pin regexes are infra/pins.py's and the sizing facts infra/sizing.py's; `infra.spec`
    re-exporting them "under their old names" gave each fact a second import path."""
    import infra.spec

    again = {"COMMIT_RE", "HF_REPO_RE", "IMAGE_RE", "ACTIVATION_RESERVE_BYTES", "DTYPE_BYTES", "GPU_MEMORY_UTILIZATION",
             "QUANTIZATION_BYTES"} & (set(vars(infra.spec)) | set(infra.spec.__all__))
    assert not again, again
