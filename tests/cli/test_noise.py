"""Issue 13 item 7: warnings and reasons a user reads cite docs/sources.md entries by a name they can find,
and say the seed article's rule in words."""
import json
import re

from typer.testing import CliRunner

from cli.main import app
from tests.builders import cache_dir  # noqa: F401  (autouse: one inventory cache for the module)
from tests.paths import ROOT

runner = CliRunner()


def estimate(*args, env_columns: str = "100"):
    result = runner.invoke(app, ["estimate", *args, "--as-of", "2026-11-24"],
                           env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": env_columns})
    assert result.exit_code == 0, result.output
    return result.stdout
CITATION = re.compile(r'docs/sources\.md ((?:"[^"\n]+"(?:, )?)+)')


def _entry_names() -> list[str]:
    heads = [line.lstrip("#").strip() for line in (ROOT / "docs" / "sources.md").read_text().splitlines()
             if line.startswith("#")]
    return [re.sub(r"^[A-Z][0-9]*\. ", "", h) for h in heads]


def _cited_names(text: str) -> list[str]:
    text = text.replace('\\"', '"')
    return [name for m in CITATION.finditer(text) for name in re.findall(r'"([^"\n]+)"', m.group(1))]


def test_every_sources_citation_in_code_and_data_names_a_real_entry():
    entries = _entry_names()
    files = [p for d in ("cli", "infra") for p in (ROOT / d).rglob("*") if p.suffix in (".py", ".json")]
    cited = [(p.relative_to(ROOT), n) for p in files for n in _cited_names(p.read_text())]
    assert cited, "the scan found no citations at all"
    bad = [(str(p), n) for p, n in cited if not any(e.startswith(n) for e in entries)]
    assert not bad, f"citations that name no docs/sources.md heading: {sorted(set(bad))}"


def test_no_bare_section_code_in_user_strings():
    catalog = (ROOT / "infra" / "data" / "aws_prices.json").read_text()  # its notes reach warnings verbatim
    assert not re.search(r'\((?:[ABC][0-9])\)|\\"[ABC][0-9]\\"', catalog)


def test_rule_of_thumb_says_the_rule_and_names_its_source():
    text = json.dumps(json.loads(estimate("--stack", "dev", "--format", "json")))
    assert "seed article" not in text
    assert 'rule of thumb: above 20M requests/month self-hosting is usually cheaper' in text
    assert 'docs/sources.md \\"Seed article\\"' in text


def test_a_warning_several_stacks_share_is_printed_once_with_its_stacks():
    docs = json.loads(estimate("--all", "--format", "json"))["stacks"]
    by_text: dict[str, list[str]] = {}
    for doc in docs:
        for w in doc["warnings"]:
            by_text.setdefault(w, []).append(doc["stack"])
    shared = {w: s for w, s in by_text.items() if len(s) >= 2}
    assert shared, "the shipped stacks share no warning: this test needs one"
    text = " ".join(estimate("--all", env_columns="100000").split())  # one line per warning, any width
    for w, stacks in shared.items():
        flat = " ".join(w.split())
        assert text.count(flat) == 1, w
        assert f"{flat} ({len(stacks)} stacks: {', '.join(stacks)})" in text
    single = next(w for w, s in by_text.items() if len(s) == 1)
    assert text.count(" ".join(single.split())) == 1


def test_shared_warnings_groups_only_repeated_texts():
    from cli.render.warnings import applies_to, shared_warnings
    docs = [{"stack": "dev", "warnings": ["stale", "a", "a"]}, {"stack": "prod-us", "warnings": ["stale", "b"]},
            {"stack": "prod-global", "warnings": ["stale"]}]
    assert shared_warnings(docs) == {"stale": ["dev", "prod-us", "prod-global"]}
    assert applies_to(["dev", "prod-us", "prod-global"]) == "(3 stacks: dev, prod-us, prod-global)"
