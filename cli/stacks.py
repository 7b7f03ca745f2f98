"""Finding and loading stack files: a STACK argument is a stack name in `stacks/` or a path to a file;
`load_stack` / `load_stacks` are the one loader every command reads a stack through (`LoadedStack`)."""

from __future__ import annotations

import os
import pathlib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from cli import cache
from cli.errors import CliError
from cli.pricing.api import ApiOffer, UnknownApiOffer, custom_offer, genai_prices_source
from cli.pricing.api import resolve as resolve_offer
from infra.spec import (
    CustomApiOffer,
    StackSpec,
    parse_stack_config,
    read_stack_config,
    stack_name_from_path,
)

UsageError = CliError
"""The old name of a bad STACK argument's error, kept for code written against it."""


@dataclass(frozen=True)
class StackRef:
    """A STACK argument resolved: the stack's name and its file (not read yet)."""

    name: str
    path: pathlib.Path


def project_root(start: pathlib.Path | None = None) -> pathlib.Path:
    """The folder holding Pulumi.yaml: $TRADEOFF_INFRA_ROOT, else upward from cwd, else the checkout."""
    if env := os.environ.get("TRADEOFF_INFRA_ROOT"):
        return pathlib.Path(env)
    here = (start or pathlib.Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file() and (folder / "stacks").is_dir():
            return folder
    return pathlib.Path(__file__).resolve().parents[1]


def stacks_dir() -> pathlib.Path:
    return project_root() / "stacks"


def _utf8_name(path: pathlib.Path | str, shown: str) -> None:
    """A file name whose bytes are not UTF-8 (`Pulumi.\\xff.yaml`) names no Pulumi stack and cannot be sent to
    the program under mocks (it raised UnicodeEncodeError in `estimate` and `inventory`): bad input."""
    try:
        str(path).encode()
    except UnicodeEncodeError:
        raise CliError(f"STACK {shown!r}: the file name is not UTF-8 text; rename the file") from None


def all_stacks() -> list[StackRef]:
    paths = sorted(stacks_dir().glob("Pulumi.*.yaml"))
    for p in paths:
        _utf8_name(p.name, str(p))
    return [StackRef(stack_name_from_path(p), p) for p in paths]


def _present(path: pathlib.Path, arg: str) -> bool:
    """Whether a stack file is there to read; a FIFO, a device or a symlink counts (the reader then says
    why it refuses it), a directory does not."""
    try:
        os.lstat(path)
        return not path.is_dir()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as err:  # a name longer than the file system allows, a loop of symlinks ...
        raise CliError(f"STACK {arg[:80]!r}{'...' if len(arg) > 80 else ''}: {err.strerror or err}") from None
    except ValueError:  # an embedded NUL byte
        raise CliError(f"STACK {arg[:80]!r}: not a file name") from None


def resolve(arg: str) -> StackRef:
    _utf8_name(pathlib.Path(arg).name, arg)
    candidate = pathlib.Path(arg)
    if candidate.suffix in (".yaml", ".yml") or os.sep in arg:
        if not _present(candidate, arg):
            raise CliError(f"STACK {arg!r}: no such file")
        return StackRef(stack_name_from_path(candidate), candidate)
    path = stacks_dir() / f"Pulumi.{arg}.yaml"
    if not _present(path, arg):
        known = ", ".join(ref.name for ref in all_stacks()) or "none"
        raise CliError(f"STACK {arg!r}: no stack file {path} (known stacks: {known})")
    return StackRef(arg, path)


def select(stacks: list[str] | None, all_: bool) -> list[StackRef]:
    if all_ and stacks:
        raise CliError("give STACK arguments or --all, not both")
    if all_:
        refs = all_stacks()
        if not refs:
            raise CliError(f"--all: no Pulumi.<stack>.yaml files in {stacks_dir()}")
        return refs
    if not stacks:
        raise CliError("name at least one STACK (a name in stacks/ or a path), or pass --all")
    return [resolve(s) for s in stacks]


# ------------------------------------------------------------------ loading


@dataclass(frozen=True)
class LoadedStack:
    """A stack file read and checked, with what the commands derive from it."""

    ref: StackRef
    spec: StackSpec
    config: dict
    """The Pulumi config the program reads (`config:` of the stack file)."""
    offers: tuple[ApiOffer, ...] = ()
    """Its `apiComparison` entries priced for its request size (`load_stacks(..., as_of=...)`)."""
    api_source: str = ""
    """Where the API prices come from (the genai-prices version)."""
    inventory: cache.CachedInventory | None = None
    """What its program would create (`load_stacks(..., inventory=True)`)."""
    from_cache: bool = False
    """The inventory came from the cache, not from a program run."""


def load_stack(ref: StackRef) -> LoadedStack:
    """The spec and config by the CLI's one stack-file reader (`infra.spec.read_stack_config`);
    SpecError names the file or key."""
    config = read_stack_config(ref.path)
    return LoadedStack(ref, parse_stack_config(config, str(ref.path)), config)


def load_stacks(refs: list[StackRef], root: pathlib.Path, *, as_of: date | None = None, inventory: bool = True,
                no_cache: bool = False, include_operations: bool | None = None) -> list[LoadedStack]:
    """Every stack of `refs`, in order: every file is checked, then (with `as_of`) every `apiComparison`
    entry priced, before any program runs, so bad input fails in seconds, not after minutes of runs;
    then the inventories (misses run in parallel). `include_operations=False` leaves people costs out."""
    # keyed by file, not by stack name: `estimate dev /tmp/alt/Pulumi.dev.yaml` names two stacks "dev"
    loaded = {ref.path.resolve(): load_stack(ref) for ref in refs}
    if include_operations is False:
        loaded = {where: replace(stack, spec=without_operations(stack.spec)) for where, stack in loaded.items()}
    if as_of is not None:
        for where, stack in loaded.items():
            offers, source = api_offers(root, stack.spec, as_of, no_cache)
            loaded[where] = replace(stack, offers=tuple(offers), api_source=source)
    if inventory:
        inventories = cache.inventories_for(root, [(ref.name, ref.path, loaded[ref.path.resolve()].config) for ref in refs],
                                            no_cache=no_cache)
        for where, (found, hit) in inventories.items():
            loaded[where] = replace(loaded[where], inventory=found, from_cache=hit)
    return [replace(loaded[ref.path.resolve()], ref=ref) for ref in refs]


def without_operations(spec: StackSpec) -> StackSpec:
    return spec.model_copy(update={"operations": spec.operations.model_copy(update={"include": False})})


def api_cache_entry(hit: object) -> bool:
    """A cached API offer has every field the estimate reads, prices as finite non-negative decimals."""
    if not isinstance(hit, dict) or not all(isinstance(hit.get(k), str) for k in ("name", "provider", "model", "source")):
        return False
    if not isinstance(hit.get("tiers"), (str, list, dict, type(None))):
        return False
    try:
        prices = [Decimal(hit[k]) for k in ("input_per_mtok_usd", "output_per_mtok_usd", "request_usd")]
    except (KeyError, TypeError, ArithmeticError):
        return False
    return all(p.is_finite() and p >= 0 for p in prices)


def api_offers(root: pathlib.Path, spec: StackSpec, as_of: date, no_cache: bool) -> tuple[list[ApiOffer], str]:
    """Offers priced for the stack's request size; genai-prices lookups cached by package version."""
    t = spec.traffic
    offers = []
    unknown: list[str] = []
    version = cache.package_version("genai-prices")
    for i, offer in enumerate(spec.api_comparison):
        if isinstance(offer, CustomApiOffer):
            offers.append(custom_offer(offer, t.input_tokens_per_request, t.output_tokens_per_request))
            continue
        key = cache.text_key("api", version, offer, str(t.input_tokens_per_request), str(t.output_tokens_per_request),
                             as_of.isoformat())
        hit = None if no_cache else cache.load_json(root, "api", key)
        if hit is not None and not api_cache_entry(hit):
            cache.warn(f"cache entry api-{key[:12]} is not a priced API offer; ignored, priced again")
            hit = None
        if hit is None:
            try:
                resolved = resolve_offer(offer, t.input_tokens_per_request, t.output_tokens_per_request,
                                         datetime(as_of.year, as_of.month, as_of.day, 12, tzinfo=UTC))
            except UnknownApiOffer as err:
                unknown.append(f"apiComparison[{i}]: {err}")  # every unknown offer is named, not just the first
                continue
            hit = {k: str(v) if v is not None else None for k, v in resolved.__dict__.items()}
            cache.store_json(root, "api", key, hit)
        offers.append(ApiOffer(
            name=hit["name"], provider=hit["provider"], model=hit["model"],
            input_per_mtok_usd=Decimal(hit["input_per_mtok_usd"]), output_per_mtok_usd=Decimal(hit["output_per_mtok_usd"]),
            source=hit["source"], request_usd=Decimal(hit["request_usd"]), tiers=hit["tiers"]))
    if unknown:
        raise CliError(unknown[0], details=tuple(unknown[1:]))
    return offers, genai_prices_source()
