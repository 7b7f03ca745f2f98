"""The tests' own layout: they mirror the code (tests/infra, tests/chart, tests/cli), share builders through one
module (tests/builders.py) instead of importing each other, and take every path from tests/paths.py."""

from __future__ import annotations

import ast

from tests.paths import TESTS

AREAS = ("infra", "chart", "cli", "gateway")  # gateway: infra/gateway_config.py run in the real LiteLLM proxy
# Test modules that belong to no one area: they check the repository (or the tests) as a whole.
REPOSITORY_WIDE = {"test_self_contained.py", "test_layout.py"}
SOURCES = sorted(p for p in TESTS.rglob("*.py") if "data" not in p.relative_to(TESTS).parts)


def rel(path) -> str:
    return str(path.relative_to(TESTS.parent))


def imported_modules(tree: ast.AST) -> list[str]:
    """Every module an `import` / `from ... import` names, with `from tests.cli import test_x` as tests.cli.test_x."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.append(base)
            names += [f"{base}.{alias.name}" if base else alias.name for alias in node.names]
    return names


def test_no_test_module_imports_another():
    """Helpers two test modules share live in tests/builders.py; a test module imported by another would also
    run its fixtures and module-level code there, and ties one test file's layout to another's."""
    assert len([p for p in SOURCES if p.name.startswith("test_")]) > 40, "the scan found the test modules"
    offending = {}
    for path in SOURCES:
        names = imported_modules(ast.parse(path.read_text(), str(path)))
        if found := [name for name in names if name.rsplit(".", 1)[-1].startswith("test_")]:
            offending[rel(path)] = found
    assert not offending, f"test modules importing test modules (move the shared helper to tests/builders.py): {offending}"


def test_no_path_computed_from_file():
    """A path built from `__file__` breaks when a test moves; tests/paths.py holds ROOT, DATA and GOLDEN."""
    offending = {}
    for path in SOURCES:
        if path.name == "paths.py":
            continue
        tree = ast.parse(path.read_text(), str(path))
        if uses := [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
                    and any(isinstance(arg, ast.Name) and arg.id == "__file__" for arg in node.args)
                    and not (isinstance(node.func, ast.Name) and node.func.id == "check_golden")]:
            offending[rel(path)] = uses
    assert not offending, f"paths built from __file__ (import them from tests.paths), file: lines {offending}"


def test_tests_mirror_the_code():
    """Every test module sits in the folder of the code it tests (a package, so equal names cannot clash)."""
    misplaced = [rel(p) for p in TESTS.glob("test_*.py") if p.name not in REPOSITORY_WIDE]
    assert not misplaced, f"test modules outside tests/infra, tests/chart, tests/cli: {misplaced}"
    for area in AREAS:
        folder = TESTS / area
        assert (folder / "__init__.py").is_file(), f"tests/{area} is not a package"
        assert list(folder.glob("test_*.py")), f"tests/{area} holds no tests"
    strays = [rel(p) for p in TESTS.glob("*/test_*.py") if p.parent.name not in AREAS]
    assert not strays, f"test modules in a folder that mirrors no code area: {strays}"
