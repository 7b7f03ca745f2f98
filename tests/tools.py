"""Where the real tools the tests drive live (installed by `scripts/setup.sh --test`)."""

from __future__ import annotations

import os
import pathlib
import shutil
from tests.paths import ROOT

TOOLS = ROOT / ".tools"


class MissingTool(RuntimeError):
    pass


def _find(name: str, local: pathlib.Path) -> str:
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    if found:
        return found
    raise MissingTool(f"{name} not found at {local} or on PATH; run ./scripts/setup.sh --test")


def helm_path() -> str:
    return _find("helm", TOOLS / "bin" / "helm")


def promtool_path() -> str:
    return _find("promtool", TOOLS / "bin" / "promtool")


def node_path() -> str:
    return _find("node", TOOLS / "bin" / "node")


def node_modules_dir() -> pathlib.Path:
    modules = TOOLS / "node_modules"
    if not (modules / "@kubernetes-models").is_dir():
        raise MissingTool(f"CRD schema packages not found in {modules}; run ./scripts/setup.sh --test")
    return modules
