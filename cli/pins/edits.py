"""Pinning and rolling back the model version (weights commit + image digest) in a stack file.

Semantics (docs/model-rollouts.md tells the story; this is the contract):
- A pin is (source, revision, image). The stack-wide pin is `model.{source,revision,image}` with
  `pinnedAt` / `pinNote`; a region's own pin (a canary) is `regions[i].model.{revision,image,source?}`.
- History is append-only, oldest first in the file, numbered newest first by `model show`
  (entry 1 = the pin in force just before the current one). Every pin or rollback appends the pin
  it replaces, with its `pinnedAt`, `note` (its `pinNote`) and `replacedAt` = now.
- `rollback` (= `--steps 1`) restores entry 1; `--steps N` restores entry N; `--to ENTRY` takes an
  entry number or a revision prefix (7+ hex characters) naming one distinct pin. The restored
  entry stays in history, and the pin rolled back from becomes the new entry 1, so rolling
  forward again is `rollback` once more.
- `--region R` acts on that region alone: its first own pin records the stack-wide pin it replaced
  in the region's history; a region pinned or rolled back to exactly the stack-wide pin follows the
  stack again: its revision/image are removed, its history stays, and its pinnedAt/pinNote say when
  and why it went back. A stack-wide pin that equals a region's own pin makes that region follow
  the stack (the canary is promoted).
- A pin equal to the one in force changes nothing (exit 0). Bad input exits 2 and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from typing import Any

from filelock import Timeout
from ruamel.yaml.error import YAMLError as RuamelYAMLError
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from cli import output
from cli.errors import CliError, failed
from cli.pins import stackfile
from cli.render.safe import shown_path
from cli.stacks import StackRef
from infra.pins import COMMIT_RE, HF_REPO_RE, IMAGE_RE
from infra.spec import (
    MAX_STACK_FILE_BYTES,
    NAMESPACE,
    PinRecord,
    RegionSpec,
    SpecError,
    StackSpec,
    parse_stack_config,
    parse_stack_text,
    project_config,
)

MODEL_KEY = f"{NAMESPACE}model"
REGIONS_KEY = f"{NAMESPACE}regions"
NOW_ENV = "TRADEOFF_INFRA_NOW"
# The keys of a region override that make it a pin; without them the region follows the stack.
PIN_FIELDS = ("revision", "image", "source", "pinnedAt", "pinNote")
# A revision prefix shorter than this matches too much to name one pin safely.
MIN_PREFIX = 7

# ------------------------------------------------------------------ pins


@dataclass(frozen=True)
class Pin:
    source: str
    revision: str
    image: str

    @property
    def short(self) -> str:
        return f"{self.revision[:12]} ({short_image(self.image)})"


def short_image(image: str) -> str:
    """`vllm-openai:v0.11.0@sha256:014a95f21c9e`: the last path part, tag and a 12-hex digest."""
    match = IMAGE_RE.match(image)
    if not match:
        return image
    name = match.group("repository").rsplit("/", 1)[-1]
    tag = f":{match.group('tag')}" if match.group("tag") else ""
    return f"{name}{tag}@{match.group('digest')[:19]}"


def now() -> str:
    """ISO-8601 UTC to the second; $TRADEOFF_INFRA_NOW overrides it (tests, reproducible docs)."""
    if fixed := os.environ.get(NOW_ENV):
        try:
            stamp = dt.datetime.fromisoformat(fixed.replace("Z", "+00:00"))
        except ValueError:
            raise CliError(f"${NOW_ENV} {fixed!r} is not an ISO-8601 time (e.g. 2026-11-24T14:00:00Z)") from None
        return stamp.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if stamp.tzinfo else fixed
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_revision(value: str, option: str = "--revision") -> str:
    value = value.strip()
    if COMMIT_RE.match(value.lower()):
        return value.lower()
    if re.fullmatch(r"[0-9a-fA-F]{4,39}", value):
        raise CliError(
            f"{option} {value!r} is a short SHA ({len(value)} characters): it can grow ambiguous; "
            "give the full 40-hex commit of the weights"
        )
    raise CliError(
        f"{option} {value!r} is a branch or tag name, not a commit: it floats (the repository owner can "
        "move it); give the full 40-hex commit of the weights (Hugging Face: Files and versions -> History)"
    )


def check_image(value: str, option: str = "--image") -> str:
    value = value.strip()
    if IMAGE_RE.match(value):
        return value
    if "@" not in value:
        raise CliError(
            f"{option} {value!r} has no digest: a tag can be moved to other bytes; give "
            "REPOSITORY[:TAG]@sha256:<64 hex> (`docker buildx imagetools inspect IMAGE` prints the digest)"
        )
    raise CliError(f"{option} {value!r} is not an image reference of the form REPOSITORY[:TAG]@sha256:<64 hex>")


def check_source(value: str, option: str = "--source") -> str:
    value = value.strip()
    if not HF_REPO_RE.match(value):
        raise CliError(f"{option} {value!r} is not a Hugging Face repository id of the form owner/name")
    return value



# ------------------------------------------------------------------ reading a stack


def spec_of_text(text: str, source: str) -> StackSpec:
    """The spec of a stack file's text, read as every command reads it (duplicate keys refused)."""
    return parse_stack_config(project_config(parse_stack_text(text, source)), source)


def region_index(spec: StackSpec, region: str) -> int:
    for i, r in enumerate(spec.regions):
        if r.region == region:
            return i
    known = ", ".join(r.region for r in spec.regions)
    raise CliError(f"--region {region!r} is not a region of this stack (its regions: {known})")


def stack_pin(spec: StackSpec) -> Pin:
    return Pin(spec.model.source, spec.model.revision, spec.model.image)


def region_pin(spec: StackSpec, region: RegionSpec) -> Pin:
    return Pin(*spec.model_for(region))


def record_pin(record: PinRecord, fallback_source: str) -> Pin:
    return Pin(record.source or fallback_source, record.revision, record.image)


@dataclass
class Scope:
    """Where a pin lives: the stack-wide model, or one region's override."""

    spec: StackSpec
    index: int | None = None

    @property
    def region(self) -> RegionSpec | None:
        return None if self.index is None else self.spec.regions[self.index]

    @property
    def key(self) -> str:
        return "model" if self.index is None else f"regions[{self.index}].model"

    @property
    def label(self) -> str:
        return "stack-wide" if self.region is None else f"region {self.region.region}"

    @property
    def current(self) -> Pin:
        return stack_pin(self.spec) if self.region is None else region_pin(self.spec, self.region)

    @property
    def history(self) -> list[PinRecord]:
        if self.region is None:
            return list(self.spec.model.history)
        return list(self.region.model.history) if self.region.model else []

    @property
    def since(self) -> tuple[str | None, str | None]:
        """(pinnedAt, note) of the pin in force here: since when and why it runs."""
        return pin_since(self.spec, self.region)

    def current_record(self, replaced_at: str) -> CommentedMap:
        """The history entry for the pin in force here, replaced at `replaced_at`."""
        pinned_at, note = self.since
        if self.region is not None and not self.region.has_own_pin:
            note = "stack-wide pin" + (f": {note}" if note else "")
        return history_entry(self.current, pinned_at, replaced_at, note)


def pin_since(spec: StackSpec, region: RegionSpec | None) -> tuple[str | None, str | None]:
    """(pinnedAt, note) of the pin in force in `region` (None: stack-wide).

    A region that follows the stack-wide pin may carry its own pinnedAt/pinNote: when and why it
    went back to the stack pin (a rollback); the later of that and the stack pin's own time counts.
    """
    stack = (spec.model.pinned_at, spec.model.pin_note)
    if region is None or region.model is None:
        return stack
    own = (region.model.pinned_at, region.model.pin_note)
    if region.has_own_pin or (own[0] or "") > (stack[0] or ""):
        return own
    return stack


def history_entry(pin: Pin, pinned_at: str | None, replaced_at: str, note: str | None) -> CommentedMap:
    entry = CommentedMap()
    entry["revision"] = pin.revision
    entry["image"] = pin.image
    entry["source"] = pin.source
    if pinned_at:
        entry["pinnedAt"] = DoubleQuotedScalarString(pinned_at)
    entry["replacedAt"] = DoubleQuotedScalarString(replaced_at)
    if note:
        entry["note"] = note
    return entry


# ------------------------------------------------------------------ editing the document


@dataclass
class Outcome:
    """What a pin or rollback did, for the message and the tests."""

    scope: str
    region: str | None
    before: Pin
    after: Pin
    changed: bool = True
    lines: list[str] = field(default_factory=list)


def _config(document: Any) -> CommentedMap:
    return document["config"]


def _append_history(mapping: CommentedMap, entry: CommentedMap) -> None:
    history = mapping.get("history")
    if isinstance(history, CommentedSeq):
        stackfile.append_item(history, entry)
    else:
        stackfile.set_key(mapping, "history", CommentedSeq([entry]))


def _write_pin_fields(mapping: CommentedMap, pin: Pin, at: str, note: str | None, source: str | None) -> None:
    """revision, image, (source), pinnedAt, pinNote in that order, before `history`."""
    stackfile.set_key(mapping, "revision", pin.revision, before="history")
    stackfile.set_key(mapping, "image", pin.image, before="history")
    if source is not None:
        stackfile.set_key(mapping, "source", source, before="pinnedAt" if "pinnedAt" in mapping else "history")
    else:
        stackfile.delete_key(mapping, "source")
    _write_since(mapping, at, note)


def _write_since(mapping: CommentedMap, at: str, note: str | None) -> None:
    stackfile.set_key(mapping, "pinnedAt", DoubleQuotedScalarString(at), before="history")
    if note:
        stackfile.set_key(mapping, "pinNote", note, before="history")
    else:
        stackfile.delete_key(mapping, "pinNote")


def _clear_region_pin(region: CommentedMap) -> None:
    """The region follows the stack-wide pin again; its history (if any) stays."""
    override = region.get("model")
    if override is None:
        return
    for key in PIN_FIELDS:
        stackfile.delete_key(override, key)
    if not override.get("history"):
        stackfile.delete_key(region, "model")


def set_pin(document: Any, scope: Scope, new: Pin, note: str | None, at: str) -> Outcome:
    """Make `new` the pin of `scope`, appending the replaced pin to that scope's history."""
    spec, old = scope.spec, scope.current
    outcome = Outcome(scope.label, scope.region.region if scope.region else None, old, new)
    if new == old:
        outcome.changed = False
        outcome.lines.append(f"{scope.label} pin is already {new.short}; nothing changed")
        return outcome
    config = _config(document)
    if scope.region is None:
        model = config[MODEL_KEY]
        _append_history(model, scope.current_record(at))
        _write_pin_fields(model, new, at, note, source=new.source)
        followers, keepers = [], []
        for i, region in enumerate(spec.regions):
            if not region.has_own_pin:
                followers.append(region.region)
            elif region_pin(spec, region) == new:
                _clear_region_pin(config[REGIONS_KEY][i])
                followers.append(region.region)
                outcome.lines.append(f"{region.region} ran this pin as its own (canary): it follows the stack-wide pin again")
            else:
                keepers.append(f"{region.region} ({region_pin(spec, region).short})")
                if new.source != old.source and region.model.source is None:
                    # Its revision belongs to the old repository: name it, or the pin would change meaning.
                    override = config[REGIONS_KEY][i]["model"]
                    stackfile.set_key(override, "source", old.source, before="pinnedAt" if "pinnedAt" in override else "history")
        outcome.lines.append(f"regions serving the new pin: {', '.join(followers) or 'none'}")
        if keepers:
            outcome.lines.append(f"regions keeping their own pin: {', '.join(keepers)} (see `model show`)")
        return outcome
    region_map = config[REGIONS_KEY][scope.index]
    override = region_map.get("model")
    fresh = override is None
    if fresh:  # filled before it joins the document, so the region's trailing comments stay below it
        override = CommentedMap()
    _append_history(override, scope.current_record(at))
    if new == stack_pin(spec):
        for key in ("revision", "image", "source"):
            stackfile.delete_key(override, key)
        _write_since(override, at, note)  # when and why the region went back to the stack pin
        outcome.lines.append(f"{scope.region.region} follows the stack-wide pin again")
    else:
        own_source = new.source if new.source != spec.model.source else None
        _write_pin_fields(override, new, at, note, source=own_source)
        outcome.lines.append(f"{scope.region.region} runs its own pin (canary); other regions are unchanged")
    if fresh:
        stackfile.set_key(region_map, "model", override)
    return outcome


def choose_entry(scope: Scope, steps: int | None, to: str | None) -> tuple[int, PinRecord]:
    """(entry number as `model show` prints it, the record) for a rollback."""
    history = scope.history
    if not history:
        where = f"{scope.key}.history"
        hint = "" if scope.region is None else "; to roll back every region omit --region"
        raise CliError(f"{where} is empty: there is no earlier pin to roll back to{hint}")
    if steps is not None and to is not None:
        raise CliError("give --steps or --to, not both")
    if to is None:
        steps = 1 if steps is None else steps
        if not 1 <= steps <= len(history):
            raise CliError(f"--steps {steps}: {scope.key}.history has entries 1..{len(history)} (see `model show`)")
        return steps, history[-steps]
    to = to.strip()
    if to.isdigit() and len(to) < MIN_PREFIX:
        number = int(to)
        if not 1 <= number <= len(history):
            raise CliError(f"--to {to}: {scope.key}.history has entries 1..{len(history)} (see `model show`)")
        return number, history[-number]
    if not re.fullmatch(r"[0-9a-fA-F]+", to) or len(to) < MIN_PREFIX:
        raise CliError(f"--to {to!r}: give an entry number from `model show` or at least {MIN_PREFIX} hex characters of a revision")
    matches = [(n, rec) for n, rec in enumerate(reversed(history), start=1) if rec.revision.startswith(to.lower())]
    if not matches:
        raise CliError(f"--to {to!r}: no entry of {scope.key}.history has a revision starting with it")
    distinct = {record_pin(rec, scope.current.source) for _, rec in matches}
    if len(distinct) > 1:
        numbers = ", ".join(str(n) for n, _ in matches)
        raise CliError(f"--to {to!r} matches different pins (entries {numbers}); give the entry number")
    return matches[0]


def rollback(document: Any, scope: Scope, steps: int | None, to: str | None, note: str | None, at: str) -> Outcome:
    number, record = choose_entry(scope, steps, to)
    position = len(scope.history) - number
    check_revision(record.revision, f"{scope.key}.history[{position}].revision")
    check_image(record.image, f"{scope.key}.history[{position}].image")
    target = record_pin(record, scope.current.source)
    from_pin = scope.current
    text = f"rolled back from {from_pin.revision[:12]} to entry {number}" + (f": {note}" if note else "")
    return set_pin(document, scope, target, text, at)


# ------------------------------------------------------------------ running an edit


def _key_path(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part).removeprefix(NAMESPACE))
    return out


def refuse_shared_pins(document: Any) -> None:
    """CliError when a mapping or list a pin edits (`model`, its `history`, a region, its `model` and that
    `history`) is shared with another place of the file: one YAML node reached through an anchor and its
    alias, or a mapping that takes keys from another through a merge key (`<<:`) or gives them to one. The
    edit would change both places (a canary pinned in one region would land in another too), or a key
    deleted here would still come in through the merge."""
    first: dict[int, tuple] = {}
    shared: dict[int, tuple] = {}  # node -> the other place that reads it

    def walk(node: Any, path: tuple) -> None:
        if not isinstance(node, (dict, list)):
            return
        if id(node) in first:
            shared.setdefault(id(node), path)
            return
        first[id(node)] = path
        for source in getattr(node, "merge", None) or []:
            shared.setdefault(id(source), path)
            shared.setdefault(id(node), first.get(id(source), path))
        for key, value in (node.items() if isinstance(node, dict) else enumerate(node)):
            walk(value, (*path, key))

    config = _config(document)
    walk(config, ())
    edited = []
    if isinstance(config.get(MODEL_KEY), dict):
        edited += [config[MODEL_KEY], config[MODEL_KEY].get("history")]
    for region in config.get(REGIONS_KEY) or []:
        override = region.get("model") if isinstance(region, dict) else None
        edited += [region, override, override.get("history") if isinstance(override, dict) else None]
    for node in edited:
        if node is not None and id(node) in shared:
            here, there = first[id(node)], shared[id(node)]
            raise CliError(
                f"{_key_path(here)} and {_key_path(there)} share YAML nodes (an anchor and its alias, or a merge key "
                "`<<:`): a pin or rollback would change both, or leave a merged key in force; write each out in full. "
                "Nothing was changed")


def edit_stack(ref: StackRef, operation) -> tuple[Outcome, bool]:
    """Validate, edit under the lock and write atomically; the result is validated before writing."""

    def change(document: Any) -> Outcome:
        spec = spec_of_text(stackfile.dump(document), str(ref.path))
        refuse_shared_pins(document)
        return operation(document, spec)

    def check(text: str) -> None:
        size = len(text.encode())
        if size > MAX_STACK_FILE_BYTES:  # every command, `rollback` too, would refuse to read the file
            raise CliError(f"{shown_path(ref.path)} would be {size:,} bytes after this change, over the {MAX_STACK_FILE_BYTES:,} every "
                           "command reads; shorten --note or move old model.history entries out, nothing was written")
        try:
            spec_of_text(text, str(ref.path))
        except SpecError as err:
            problems = "; ".join(str(p) for p in err.problems)
            raise CliError(f"the stack would be invalid after this change, nothing was written: {problems}") from None

    def precheck(text: str) -> None:  # before the round-trip parser: it has no depth bound, nor names both lines
        spec_of_text(text, str(ref.path))

    lock = stackfile.lock_path(stackfile.real_path(ref.path))
    try:
        result = stackfile.edit(ref.path, change, check, precheck=precheck)
    except Timeout:
        raise failed(
            f"another `tradeoff-infra model` command has held {lock} for "
            f"{stackfile.LOCK_TIMEOUT_SECONDS} s; nothing was changed. Wait for it (or find it: "
            f"`fuser {lock}`) and run this again"
        ) from None
    except output.ReadOnlyTarget as err:
        raise CliError(f"{shown_path(ref.path)}: {err.strerror}; nothing was changed") from None
    except RuamelYAMLError as err:
        raise CliError(f"{shown_path(ref.path)}: not valid YAML: {getattr(err, 'problem', None) or type(err).__name__}") from None
    except RecursionError:
        raise CliError(f"{shown_path(ref.path)}: nested too deeply to be a stack file; nothing was changed") from None
    except OSError as err:
        raise failed(f"cannot update {shown_path(ref.path)}: {err.strerror or err}; the file is unchanged") from None
    return result.value, result.changed


