"""The cached whole estimate (cli/cache.py, cli/commands/estimate.py `docs_key`): a warm `estimate` reads the
contract documents it computed before for the same code, inputs, date and options; any change to one of
them is a miss, computed again, never a stale document."""

from __future__ import annotations

import json
import pathlib
import shutil
from datetime import date

import pytest
from typer.testing import CliRunner

from cli import cache
from cli.commands import estimate as estimate_command
from cli.main import app
from cli.stacks import StackRef
from infra.price_catalog import CATALOG_PATH
from tests.builders import cache_dir  # noqa: F401  (autouse: one cache for the module)
from tests.paths import ROOT

runner = CliRunner()
AS_OF = ["--as-of", "2026-11-24"]


def run(*args: str) -> dict:
    result = runner.invoke(app, ["estimate", *args, "--format", "json"], env={"TRADEOFF_INFRA_ROOT": str(ROOT)})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def entries() -> set[pathlib.Path]:
    return set(cache.cache_dir(ROOT).glob("estimate-*.json"))


@pytest.fixture
def dev(tmp_path) -> pathlib.Path:
    path = tmp_path / "Pulumi.dev.yaml"
    shutil.copy(ROOT / "stacks" / "Pulumi.dev.yaml", path)
    return path


def test_a_warm_estimate_is_the_document_computed_cold(dev):
    cold = run(str(dev), *AS_OF, "--no-cache")
    stored = entries()
    assert stored  # written by the cold run
    warm = run(str(dev), *AS_OF)
    assert warm == cold and entries() == stored  # a hit: nothing new written


def expected(doc: dict) -> float:
    return doc["stacks"][0]["selfHosted"]["monthlyUsd"]["expected"]


def test_a_stack_file_edited_in_place_is_a_miss(dev):
    before = run(str(dev), *AS_OF)
    dev.write_text(dev.read_text().replace("requestsPerMonth: 100000", "requestsPerMonth: 900000"))
    after = run(str(dev), *AS_OF)
    assert after["stacks"][0]["traffic"]["requestsPerMonth"] == 900000 != before["stacks"][0]["traffic"]["requestsPerMonth"]
    assert after == run(str(dev), *AS_OF, "--no-cache")


def test_a_usage_file_edited_in_place_is_a_miss(dev, tmp_path):
    usage = tmp_path / "usage.yaml"
    usage.write_text("controlPlaneLogGbPerDay: 1.0\n")
    before = run(str(dev), "--usage", str(usage), *AS_OF)
    usage.write_text("controlPlaneLogGbPerDay: 900\n")
    after = run(str(dev), "--usage", str(usage), *AS_OF)
    assert expected(after) > expected(before)
    assert after == run(str(dev), "--usage", str(usage), *AS_OF, "--no-cache")


def test_a_price_catalog_edited_in_place_is_a_miss(dev, tmp_path):
    catalog = tmp_path / "prices.json"
    shutil.copy(CATALOG_PATH, catalog)
    before = run(str(dev), "--price-catalog", str(catalog), *AS_OF)
    data = json.loads(catalog.read_text())
    for entry in data["instances"]["us-east-1"].values():  # every instance in the stack's region twice the price
        entry["usdPerHour"] = str(float(entry["usdPerHour"]) * 2)
    catalog.write_text(json.dumps(data))
    after = run(str(dev), "--price-catalog", str(catalog), *AS_OF)
    assert expected(after) > expected(before)
    assert after == run(str(dev), "--price-catalog", str(catalog), *AS_OF, "--no-cache")


@pytest.mark.parametrize("option", [["--exclude-operations"], ["--as-of", "2026-12-24"]])
def test_an_option_that_changes_the_document_is_a_miss(dev, option):
    plain = run(str(dev), *AS_OF)
    changed = run(str(dev), *AS_OF, *option) if option[0] != "--as-of" else run(str(dev), *option)
    assert changed != plain
    fresh = (run(str(dev), *AS_OF, *option, "--no-cache") if option[0] != "--as-of"
             else run(str(dev), *option, "--no-cache"))
    assert changed == fresh


def test_an_option_added_later_is_in_the_key_unless_listed(dev):
    """An option the estimate command gains later (a flag that adds a block to the document) is keyed without
    anyone remembering to: only the options named in NOT_IN_DOCS_KEY are left out."""
    refs = [StackRef("dev", dev)]
    key = lambda **params: estimate_command.docs_key(params, refs, ROOT, date(2026, 11, 24),  # noqa: E731
                                                    estimate_command.Format.json)
    assert key(sensitivity=False) != key(sensitivity=True)
    assert key(fields="all", out=None) == key(fields=None, out="x.json")  # printing only: the same documents
    # JSON and HTML documents both carry the chart's points (`render` draws it from a saved JSON): one entry;
    # a table needs none
    assert key() == estimate_command.docs_key({}, refs, ROOT, date(2026, 11, 24), estimate_command.Format.html)
    assert key() != estimate_command.docs_key({}, refs, ROOT, date(2026, 11, 24), estimate_command.Format.table)


def test_the_code_is_in_the_key(monkeypatch, tmp_path):
    extra = tmp_path / "extra.py"
    extra.write_text("A = 1\n")
    real = cache._files
    monkeypatch.setattr(cache, "_files", lambda folder: real(folder) + ([extra] if folder.name == "cli" else []))
    before = cache.code_digest()
    extra.write_text("A = 2\n")
    assert cache.code_digest() != before


def test_a_tampered_estimate_entry_is_a_miss(dev):
    good = run(str(dev), *AS_OF)
    for entry in entries():
        header, body = entry.read_text().split("\n", 1)
        docs = json.loads(body)
        for doc in docs:
            doc["selfHosted"]["monthlyUsd"]["expected"] = 1.0
        entry.write_text(header + "\n" + json.dumps(docs))
    result = runner.invoke(app, ["estimate", str(dev), *AS_OF, "--format", "json"], env={"TRADEOFF_INFRA_ROOT": str(ROOT)})
    assert result.exit_code == 0
    assert json.loads(result.stdout) == good
    assert "does not match its digest" in result.stderr


def test_a_stack_file_that_cannot_be_keyed_is_not_cached(tmp_path):
    """A FIFO is never read for a key (reading it would consume it): no entry, and the loader reports it."""
    import os

    fifo = tmp_path / "Pulumi.fifo.yaml"
    os.mkfifo(fifo)
    assert estimate_command.docs_key({}, [StackRef("fifo", fifo)], ROOT, date(2026, 11, 24),
                                     estimate_command.Format.json) is None


def test_a_file_option_the_key_does_not_read_is_never_cached(dev, tmp_path):
    """`--calibration FILE` (and any file option added later) is not read by the key: editing the file in place
    must never hit a stale estimate, so such a run is computed every time."""
    refs = [StackRef("dev", dev)]
    key = lambda **params: estimate_command.docs_key(params, refs, ROOT, date(2026, 11, 24),  # noqa: E731
                                                    estimate_command.Format.json)
    assert key(calibration=tmp_path / "calibration.json") is None
    assert key(calibration=None) is not None


def test_an_analysis_option_is_not_answered_from_the_plain_entry(dev):
    plain = run(str(dev), *AS_OF)
    assert "sensitivity" not in plain["stacks"][0]
    flips = run(str(dev), *AS_OF, "--sensitivity")
    assert "sensitivity" in flips["stacks"][0] and "volumeSweep" in flips["stacks"][0]
