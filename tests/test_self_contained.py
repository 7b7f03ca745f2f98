"""The repository stands on its own: no tracked file refers to a file a user who clones it does not have.

The team's design notes and reference files live outside the repository; the public sources the numbers
rest on are in docs/sources.md, and citations name its entries. The patterns are assembled here so that
this file is scanned like every other one.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
from tests.paths import ROOT

SOURCES = ROOT / "docs" / "sources.md"

_MD = r"\.md"
OUTSIDE = re.compile("|".join([
    "shared" + "/reference",
    r"\.\./" + "shared",
    "/work" + "/",
    r"\bDESIGN" + _MD,
    r"\bSTYLE" + _MD,
    r"\binterfaces" + _MD,
    "prices-and-" + "throughput",
    "seed-" + "article",
]))


def tracked_files() -> list[pathlib.Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in out.decode().split("\0") if name]


def test_no_tracked_file_refers_outside_the_repository():
    files = tracked_files()
    assert len(files) > 50, "git ls-files found almost nothing: not run from a checkout?"
    found = []
    for path in files:
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:160]}")
    assert not found, "references to files outside the repository:\n" + "\n".join(found)


def test_the_pattern_catches_what_it_must():
    for line in ("see " + "shared/ref" + "erence/x.md", "(DES" + "IGN.md \"The estimate contract\")",
                 "inter" + "faces.md \"Node labels\"", "via prices-and-" + "throughput.md §C1", "../sha" + "red/x"):
        assert OUTSIDE.search(line), line
    assert not OUTSIDE.search('docs/sources.md "C1. vLLM v0.6.0 throughput anchors"')


def _entries() -> set[str]:
    """The `###` entry names of docs/sources.md, their short ids (`A2`, `C1`, ...), and their titles: the name
    without the id and without a closing parenthesis (`A2. AWS regional on-demand prices` -> `AWS regional
    on-demand prices`), as user-facing text cites them."""
    names = set()
    for line in SOURCES.read_text().splitlines():
        if line.startswith("### "):
            name = line[4:].strip()
            names.add(name)
            short = re.match(r"([A-Z]\d*)\.", name)
            if short:
                names.add(short.group(1))
            title = re.sub(r"^[A-Z]\d*\. ", "", name)
            names.update({title, re.sub(r" \([^()]*\)$", "", title)})
    return names


def test_citations_of_docs_sources_name_an_entry():
    """Every citation of a docs/sources.md entry (the file name, a space, the quoted name) names one that exists."""
    entries = _entries()
    cite = re.compile(r'docs/sources\.md \\?"([^"\\]+)\\?"')
    missing = []
    for path in tracked_files():
        if not path.is_file() or path == SOURCES:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for name in cite.findall(text):
            if name not in entries:
                missing.append(f"{path.relative_to(ROOT)}: {name!r}")
    assert not missing, "citations of docs/sources.md entries that do not exist:\n" + "\n".join(missing)
