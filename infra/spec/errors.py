"""What a wrong stack file raises: `SpecError`, a list of `Problem`s each naming its key path
(`regions[1].gpuPools[0].instanceType`), and the translation of pydantic's errors into them."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SpecError(Exception):
    """The stack file is wrong; `problems` names each offending key."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "CustomApiOffer") or str(part).startswith(("constrained-str", "function-")):
            continue  # union branch names pydantic adds to the location
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def problems_from_pydantic(err: ValidationError) -> list[Problem]:
    problems = []
    for e in err.errors():
        msg = e["msg"]
        msg = msg.removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling against docs/stack-file.md)"
        elif e["type"] == "missing":
            msg = "required key is missing"
        problems.append(Problem(_path(tuple(e["loc"])), msg))
    # One problem per key is enough: union branches repeat each other.
    seen, unique = set(), []
    for p in problems:
        if p.path not in seen:
            seen.add(p.path)
            unique.append(p)
    return unique
