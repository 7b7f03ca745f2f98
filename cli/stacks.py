"""Finding and loading stack files: a STACK argument is a stack name in `stacks/` or a path to a file;
`load_stack` / `load_stacks` are the one loader every command reads a stack through (`LoadedStack`)."""

from __future__ import annotations

import os
import pathlib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from cli import cache
from cli.errors import CliError, invalid_stacks
from cli.render.safe import shown_path
from cli.path_options import not_a_folder, path_option
from cli.pricing import load_catalog  # noqa: F401  (re-exported: the commands import it from here)
from cli.pricing.api import ApiOffer, UnknownApiOffer, custom_offer, genai_prices_source
from cli.pricing.api import resolve as resolve_offer
from infra.spec import Problem, SpecError, stack_name_from_path

if TYPE_CHECKING:
    from infra.price_catalog import PriceCatalog
    from infra.spec import StackSpec

StackOption = Annotated[list[str] | None, typer.Option(
    "--stack", "-s", help="A stack name (looked up in the stacks folder) or a path to a stack file; repeatable.")]
StacksDirOption = Annotated[pathlib.Path | None, path_option(
    "--stacks-dir", what="directory", help="Where stack names and --all are looked up (default: the stackConfigDir of the nearest "
                         "Pulumi.yaml above the current directory, else the tradeoff-infra checkout's stacks/).")]
OneStackArgument = Annotated[str | None, typer.Argument(
    help="A stack name (looked up in the stacks folder) or a path to a stack file; or --stack.")]
OneStackOption = Annotated[str | None, typer.Option(
    "--stack", "-s", help="The stack, as a name (looked up in the stacks folder) or a path (instead of STACK).")]
"""A command on one stack takes it as STACK or as `--stack NAME` (Pulumi's habit), and `--stacks-dir`: `one_stack`."""

@dataclass(frozen=True)
class StackRef:
    """A STACK argument resolved: the stack's name and its file (not read yet)."""

    name: str
    path: pathlib.Path


STACKS_DIR_ENV = "TRADEOFF_INFRA_STACKS_DIR"
"""Where stack names are looked up when no `--stacks-dir` is given (like `--stacks-dir`)."""
_stacks_dir_option: pathlib.Path | None = None


def project_root(start: pathlib.Path | None = None) -> pathlib.Path:
    """The folder holding Pulumi.yaml: $TRADEOFF_INFRA_ROOT, else upward from cwd, else the checkout."""
    if env := os.environ.get("TRADEOFF_INFRA_ROOT"):
        return pathlib.Path(env)
    here = (start or pathlib.Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file() and (folder / "stacks").is_dir():
            return folder
    return pathlib.Path(__file__).resolve().parents[1]


def _nearest_project(start: pathlib.Path) -> pathlib.Path | None:
    """The nearest folder at or above `start` holding a Pulumi.yaml (how the Pulumi CLI finds its project)."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return None


def _stack_config_dir(project: pathlib.Path) -> pathlib.Path:
    """A Pulumi project's stack files folder: its Pulumi.yaml's `stackConfigDir`, else the project folder."""
    import yaml

    try:
        document = yaml.safe_load((project / "Pulumi.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        document = None
    configured = document.get("stackConfigDir") if isinstance(document, dict) else None
    return project / configured if isinstance(configured, str) and configured.strip() else project


def use_stacks_dir(path: pathlib.Path | None) -> None:
    """`--stacks-dir`: where this command looks up stack names (and `--all`)."""
    global _stacks_dir_option
    if path is not None and (why := not_a_folder(path)):
        raise CliError(f"--stacks-dir {str(path)!r}: {why}")
    _stacks_dir_option = path


def stacks_dir() -> pathlib.Path:
    """Where stack names are looked up: `--stacks-dir`, else $TRADEOFF_INFRA_STACKS_DIR, else the stackConfigDir of
    $TRADEOFF_INFRA_ROOT's or the nearest Pulumi.yaml above the current directory, else the checkout's stacks/."""
    if _stacks_dir_option is not None:
        return _stacks_dir_option
    if env := os.environ.get(STACKS_DIR_ENV):
        return pathlib.Path(env)
    if env := os.environ.get("TRADEOFF_INFRA_ROOT"):
        root = pathlib.Path(env)
        return _stack_config_dir(root) if (root / "Pulumi.yaml").is_file() else root / "stacks"
    project = _nearest_project(pathlib.Path.cwd())
    return _stack_config_dir(project or pathlib.Path(__file__).resolve().parents[1])


def shown_arg(ref: StackRef) -> str:
    """The STACK argument that finds `ref` from where the user stands: its name when the name resolves to the
    same file without this command's `--stacks-dir`, else its path (relative to the current directory when under it)."""
    try:
        if _stacks_dir_option is None and (stacks_dir() / f"Pulumi.{ref.name}.yaml").resolve() == ref.path.resolve():
            return ref.name
    except OSError:
        pass
    path = ref.path.resolve()
    cwd = pathlib.Path.cwd().resolve()
    text = str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)
    return text if os.sep in text else f".{os.sep}{text}"


def _utf8_name(path: pathlib.Path | str, shown: str, option: str = "STACK") -> None:
    """A file name whose bytes are not UTF-8 (`Pulumi.\\xff.yaml`) names no Pulumi stack and cannot be sent to
    the program under mocks (it raised UnicodeEncodeError in `estimate` and `inventory`): bad input."""
    try:
        str(path).encode()
    except UnicodeEncodeError:
        raise CliError(f"{option} {shown!r}: the file name is not UTF-8 text; rename the file") from None


def all_stacks() -> list[StackRef]:
    folder = stacks_dir()  # one the system refuses (a name too long, from the environment) holds none: no traceback
    paths = [] if not_a_folder(folder) else sorted(folder.glob("Pulumi.*.yaml"))
    for p in paths:
        _utf8_name(p.name, str(p))
    return [StackRef(stack_name_from_path(p), p) for p in paths]


def _present(path: pathlib.Path, arg: str, option: str = "STACK") -> bool:
    """Whether a stack file is there to read; a FIFO, a device or a symlink counts (the reader then says
    why it refuses it), a directory does not."""
    try:
        os.lstat(path)
        return not path.is_dir()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as err:  # a name longer than the file system allows, a loop of symlinks ...
        raise CliError(f"{option} {arg[:80]!r}{'...' if len(arg) > 80 else ''}: {err.strerror or err}") from None
    except ValueError:  # an embedded NUL byte
        raise CliError(f"{option} {arg[:80]!r}: not a file name") from None


def _is_dir(path: pathlib.Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def resolve(arg: str, option: str = "STACK") -> StackRef:
    """A stack name or path as the user gave it with `option` (`STACK`, `--stack`): the errors name that option."""
    if not arg.strip():  # not a name: `Pulumi..yaml` in the stacks folder, or the installed project's with none here
        raise CliError(f"{option} {arg!r}: empty; give a stack name (looked up in the stacks folder) or a path to a "
                       "stack file")
    _utf8_name(pathlib.Path(arg).name, arg, option)
    candidate = pathlib.Path(arg)
    if candidate.suffix in (".yaml", ".yml") or os.sep in arg:
        if not _present(candidate, arg, option):
            what = "a directory, not a stack file" if _is_dir(candidate) else "no such file"
            raise CliError(f"{option} {arg!r}: {what}{_near_file(candidate)}")
        return StackRef(stack_name_from_path(candidate), candidate)
    path = stacks_dir() / f"Pulumi.{arg}.yaml"
    if not _present(path, arg, option):
        import difflib  # only for a name not found

        # the stack files only: a directory named like one is no stack to suggest (nor the name asked for)
        names = [ref.name for ref in all_stacks() if not _is_dir(ref.path)] if stacks_dir().is_dir() else []
        near = difflib.get_close_matches(arg, [name for name in names if name != arg], n=1)
        what = f"{shown_path(path)} is a directory, not a stack file" if _is_dir(path) else f"no stack file {shown_path(path)}"
        hint = f"did you mean {near[0]}? " if near else ""
        raise CliError(f"{option} {arg!r}: {what}; {hint}{'K' if hint else 'k'}nown stacks in {shown_path(stacks_dir())}: "
                       f"{', '.join(names) or 'none'} "
                       "(give a path to a stack file, or --stacks-dir)")
    return StackRef(arg, path)


def _near_file(candidate: pathlib.Path) -> str:
    """`; did you mean <path>?` for a misspelt stack file name in an existing folder (a stack file, not itself)."""
    try:
        siblings = ([p.name for p in candidate.parent.glob("Pulumi.*.y*ml") if p.name != candidate.name and not _is_dir(p)]
                    if candidate.parent.is_dir() else [])
    except OSError:
        return ""
    import difflib

    near = difflib.get_close_matches(candidate.name, siblings, n=1)
    return f"; did you mean {shown_path(candidate.parent / near[0])}?" if near else ""


def one_stack(stack: str | None, named: str | None, where: pathlib.Path | None = None) -> StackRef:
    """The stack a one-stack command works on: STACK (`OneStackArgument`) or `--stack` (`OneStackOption`), a
    name looked up in `--stacks-dir` (`where`) or the stacks folder, or a path; exactly one of them."""
    use_stacks_dir(where)
    if stack is None and named is None:
        raise CliError("name the stack: STACK or --stack NAME (a name in the stacks folder or a path to a stack file)")
    if stack is not None and named is not None and stack != named:
        raise CliError(f"STACK {stack!r} and --stack {named!r}: name one stack, as STACK or as --stack")
    return resolve(stack, "STACK") if stack is not None else resolve(named, "--stack")


def _identity(path: pathlib.Path) -> pathlib.Path:
    """The file `path` names, to read a stack given twice once; a loop of symlinks (Path.resolve raises RuntimeError
    on Python 3.11) is its own path here, and the reader then says it cannot read it."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return path.absolute()


def select(stacks: list[str] | None, all_: bool, named: list[str] | None = None,
           where: pathlib.Path | None = None) -> list[StackRef]:
    """The stacks a command works on: STACK arguments (names or paths), `--stack NAME`s, and with `--all` every
    stack in the stacks folder (`--stacks-dir`, `where`) besides; each file once, in the order given."""
    use_stacks_dir(where)
    wanted = [*((s, "STACK") for s in stacks or []), *((s, "--stack") for s in named or [])]
    refs = []
    if all_:
        refs = all_stacks()
        if not refs and not wanted:
            raise CliError(f"--all: no Pulumi.<stack>.yaml files in {shown_path(stacks_dir())} (give --stacks-dir or run it "
                           "from inside the project)")
    elif not wanted:
        raise CliError("name at least one STACK (a name in the stacks folder or a path), or pass --all")
    refs += [resolve(s, option) for s, option in wanted]
    seen: set[pathlib.Path] = set()
    unique = []
    for ref in refs:
        if (key := _identity(ref.path)) not in seen:
            seen.add(key)
            unique.append(ref)
    return unique


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


def suggested(problem: Problem) -> Problem:
    """A spec problem with the CLI's suggestion added where the spec cannot make one (API offer names are
    genai-prices', which the spec does not read): `gpt4o-mini` -> did you mean openai:gpt-4o-mini?"""
    import re

    if re.fullmatch(r"apiComparison\[\d+\]", problem.path) and isinstance(problem.value, str):
        from cli.pricing.api import near_offer_hint

        hint = near_offer_hint(problem.value).strip()
        if hint:
            return Problem(problem.path, f"{problem.value!r} is not provider:model; {hint}", problem.value)
    return problem


def load_stack(ref: StackRef, *, deploy: bool = True) -> LoadedStack:
    """The spec and config by the CLI's one stack-file reader (`infra.spec.read_stack_config`);
    SpecError names the file and each key (with the CLI's suggestions, `suggested`). `deploy=False` to price or
    preview: keys only `pulumi up` needs may be left out (infra.spec.checks.DEPLOY_GATE)."""
    from infra.spec import parse_stack_config, read_stack_config  # the models load here, not for naming a stack

    try:
        config = read_stack_config(ref.path)
        return LoadedStack(ref, parse_stack_config(config, str(ref.path), deploy=deploy), config)
    except SpecError as err:
        raise SpecError(err.source, [suggested(problem) for problem in err.problems]) from None


def check_stack(root: pathlib.Path, spec: StackSpec, as_of: date, catalog: PriceCatalog | None, *,
                no_cache: bool = False, store: bool = True) -> tuple[list[Problem], tuple[list[ApiOffer], str] | None]:
    """What `estimate` refuses of a stack the spec accepts, every problem at once: prices `catalog` lacks (None:
    not checked here), API offers genai-prices does not know (`api_offers`); and the offers priced, when all are
    known (else None)."""
    from infra.spec import price_problems

    problems = list(price_problems(spec, catalog)) if catalog is not None else []
    try:
        priced = api_offers(root, spec, as_of, no_cache, store=store)
    except CliError as e:
        priced = None
        for line in (e.message, *e.details):
            path, _, message = line.partition(": ")
            problems.append(Problem(path, message))
    return problems, priced


def load_stacks(refs: list[StackRef], root: pathlib.Path, *, as_of: date | None = None, inventory: bool = True,
                no_cache: bool = False, include_operations: bool | None = None,
                catalog: PriceCatalog | None = None) -> list[LoadedStack]:
    """Every stack of `refs`, in order: every file is checked, then (with `as_of`) every `apiComparison`
    entry priced and (with `catalog`) every region and instance type looked up in it, before any program runs,
    so bad input fails in seconds, not after minutes of runs; every stack's every problem is reported at once
    (`invalid_stacks`), nothing is returned then. Then the inventories (misses run in parallel, begun while the
    offers are priced). `include_operations=False` leaves people costs out."""
    # keyed by file, not by stack name: `estimate dev /tmp/alt/Pulumi.dev.yaml` names two stacks "dev"
    loaded: dict[pathlib.Path, LoadedStack] = {}
    problems: dict[pathlib.Path, tuple[StackRef, list[str]]] = {}
    for ref in refs:
        try:
            loaded[_identity(ref.path)] = load_stack(ref, deploy=False)
        except SpecError as err:
            problems[_identity(ref.path)] = (ref, [str(problem) for problem in err.problems])
    if include_operations is False:
        loaded = {where: replace(stack, spec=without_operations(stack.spec)) for where, stack in loaded.items()}
    # several missing inventories start now in a forked process (the SDK's imports, then the programs), while the
    # offers are priced here; one that fails to price stops them (`with`), so bad input still fails in seconds
    with cache.start_inventories(root, [(ref.name, ref.path, loaded[_identity(ref.path)].config) for ref in refs]
                                 if inventory and not problems else [], no_cache=no_cache) as pending:
        if as_of is not None:
            for where, stack in loaded.items():
                found, priced = check_stack(root, stack.spec, as_of, catalog, no_cache=no_cache)
                if found:
                    problems[where] = (stack.ref, [str(problem) for problem in found])
                if priced is not None:
                    loaded[where] = replace(stack, offers=tuple(priced[0]), api_source=priced[1])
        if problems:
            raise invalid_stacks([problems[where] for where in dict.fromkeys(_identity(r.path) for r in refs)
                                  if where in problems], len(refs))
        for where, (found, hit) in pending.wait().items():
            loaded[where] = replace(loaded[where], inventory=found, from_cache=hit)
    return [replace(loaded[_identity(ref.path)], ref=ref) for ref in refs]


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


def api_offers(root: pathlib.Path, spec: StackSpec, as_of: date, no_cache: bool, *,
               store: bool = True) -> tuple[list[ApiOffer], str]:
    """Offers priced for the stack's request size; genai-prices lookups cached by package version (`store=False`:
    read the cache, never write it, as `validate` does). Every unknown offer is named in one CliError."""
    from infra.spec import CustomApiOffer

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
            if store:
                cache.store_json(root, "api", key, hit)
        offers.append(ApiOffer(
            name=hit["name"], provider=hit["provider"], model=hit["model"],
            input_per_mtok_usd=Decimal(hit["input_per_mtok_usd"]), output_per_mtok_usd=Decimal(hit["output_per_mtok_usd"]),
            source=hit["source"], request_usd=Decimal(hit["request_usd"]), tiers=hit["tiers"]))
    if unknown:
        raise CliError(unknown[0], details=tuple(unknown[1:]))
    return offers, genai_prices_source()
