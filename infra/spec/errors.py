"""What a wrong stack file raises: `SpecError`, a list of `Problem`s each naming its key path
(`regions[1].gpuPools[0].instanceType`), and the translation of pydantic's errors into them."""

from __future__ import annotations

from dataclasses import dataclass, field

import typing

if typing.TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    value: object = field(default=None, compare=False)
    """The offending value where a caller may suggest a fix from data the spec does not read (an API offer name)."""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SpecError(Exception):
    """The stack file is wrong; `problems` names each offending key."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


def _branch(part: object) -> bool:
    """A union branch name pydantic adds to an error's location (not a key of the file)."""
    return not isinstance(part, int) and (part in ("str", "CustomApiOffer")
                                          or str(part).startswith(("constrained-str", "function-")))


def data_loc(loc: tuple) -> tuple:
    """An error's location as keys and indexes of the data (union branch names left out)."""
    return tuple(part for part in loc if not _branch(part))


def _path(loc: tuple) -> str:
    out = ""
    for part in data_loc(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _models_in(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models an annotation may hold (`X`, `X | None`, `list[X]`, `dict[str, X]`, unions)."""
    from pydantic import BaseModel  # here: `SpecError` alone (the CLI's error printer) does not load pydantic

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def known_keys(model: type[BaseModel] | None, loc: tuple) -> list[str]:
    """The keys (file spelling) the mapping at `loc` may hold: the model's fields found by walking `loc` from
    `model` (list indexes and union branch names skipped); empty when the walk loses its way."""
    models = [model] if model is not None else []
    for part in loc:
        if isinstance(part, int) or not models:
            continue
        found = []
        for m in models:
            for name, field in m.model_fields.items():
                if part in (name, field.alias):
                    found.extend(_models_in(field.annotation))
        if found:
            models = found
        elif not any(part == m.__name__ for m in models):  # pydantic's union branch name: stay on the model
            return []
    return sorted({field.alias or name for m in models for name, field in m.model_fields.items()})


def unknown_key_message(key: object, known: list[str]) -> str:
    import difflib  # only for a misspelt key

    near = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6) if known else []
    if near:
        return f"unknown key; did you mean {near[0]}?"
    return "unknown key (check its spelling against docs/stack-file.md)"


def problems_from_pydantic(err: ValidationError, model: type[BaseModel] | None = None) -> list[Problem]:
    """pydantic's errors as Problems; with `model` (the validated class) an unknown key names the nearest known one."""
    problems = []
    meant: set[str] = set()
    for e in err.errors():
        msg = e["msg"]
        msg = msg.removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            loc = tuple(e["loc"])
            msg = unknown_key_message(loc[-1], known_keys(model, loc[:-1]))
            if msg.startswith("unknown key; did you mean "):  # `minNode`: the missing `minNodes` is this one
                meant.add(_path((*loc[:-1], msg.removeprefix("unknown key; did you mean ").rstrip("?"))))
        elif e["type"] == "missing":
            msg = "required key is missing"
        problems.append(Problem(_path(tuple(e["loc"])), msg, e.get("input")))
    problems = [p for p in problems if not (p.path in meant and p.message == "required key is missing")]
    # One problem per key is enough: union branches repeat each other.
    seen, unique = set(), []
    for p in problems:
        if p.path not in seen:
            seen.add(p.path)
            unique.append(p)
    return unique
