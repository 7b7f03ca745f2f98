"""`--price-catalog FILE` is read by one loader (cli/pricing `load_catalog`, also `prices --catalog`) in every command that takes it:
`recommend` and `status` had their own copies, and `status` caught only a bad catalog, not a file it cannot read
(a traceback). A missing, unreadable or corrupt file: exit 2 naming `--price-catalog`, never a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.paths import ROOT

runner = CliRunner()


def bad_catalog(tmp_path, kind: str):
    path = tmp_path / "prices.json"
    if kind == "missing":
        return tmp_path / "no-such-prices.json"
    if kind == "directory":  # unreadable as a file (chmod does not stop root)
        path.mkdir()
    elif kind == "corrupt":
        path.write_text('{"instances": ')
    elif kind == "binary":
        path.write_bytes(b"\xff\xfe\x00garbage")
    elif kind == "wrong-shape":
        path.write_text('["not", "a", "catalog"]')
    return path


@pytest.mark.parametrize("kind", ["missing", "directory", "corrupt", "binary", "wrong-shape"])
@pytest.mark.parametrize("command", [["recommend", "dev"], ["status", "dev"], ["estimate", "dev"], ["validate", "dev"]],
                         ids=lambda c: c[0])
def test_a_bad_price_catalog_exits_2_naming_the_option(tmp_path, command, kind):
    path = bad_catalog(tmp_path, kind)
    result = runner.invoke(app, [*command, "--price-catalog", str(path)], env={"TRADEOFF_INFRA_ROOT": str(ROOT)})
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "--price-catalog" in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception


def test_one_loader_reads_price_catalog():
    """One home for reading `--price-catalog` (and `prices --catalog`): no command that takes the option loads the
    file itself (recommend and status had their own copies, each catching a different set of errors; prices a
    twin for `--catalog`)."""
    home = ROOT / "cli" / "pricing" / "__init__.py"
    own_copies = [str(path.relative_to(ROOT)) for path in sorted((ROOT / "cli").rglob("*.py"))
                  if path != home and ("--price-catalog" in (text := path.read_text()) or "--catalog" in text)
                  and ("PriceCatalog.load(" in text or "default_catalog()" in text)]
    assert own_copies == []
