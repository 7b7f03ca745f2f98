"""Issue 13 item 7: warnings and reasons a user reads cite docs/sources.md entries by a name they can find,
and say the seed article's rule in words."""
import json
import re

import pytest

from typer.testing import CliRunner

from cli.main import app
from tests.builders import cache_dir, project  # noqa: F401  (autouse cache; a copy of the stacks)
from tests.paths import ROOT
from infra.spec.warning_ids import warning_id

runner = CliRunner()


def estimate(*args, env_columns: str = "100"):
    result = runner.invoke(app, ["estimate", *args, "--as-of", "2026-11-24"],
                           env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": env_columns})
    assert result.exit_code == 0, result.output
    return result.stdout


CITATION = re.compile(r'docs/sources\.md ((?:"[^"\n]+"(?:, )?)+)')


def _cited_names(text: str) -> list[str]:
    text = text.replace('\\"', '"')
    return [name for m in CITATION.finditer(text) for name in re.findall(r'"([^"\n]+)"', m.group(1))]


def test_code_and_data_cite_sources_by_name_not_by_section_code():
    """tests/test_self_contained.py checks each cited entry exists; here: by a name a user can find."""
    files = [p for d in ("cli", "infra") for p in (ROOT / d).rglob("*") if p.suffix in (".py", ".json")]
    cited = [(str(p.relative_to(ROOT)), n) for p in files for n in _cited_names(p.read_text())]
    assert len(cited) > 5, "the scan found (almost) no citations"
    codes = [(p, n) for p, n in cited if re.fullmatch(r"[A-Z][0-9]*", n)]
    assert not codes, sorted(set(codes))


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


def test_every_warning_the_shipped_stacks_print_has_an_id():
    from infra.spec.warning_ids import OTHER, warning_id
    docs = json.loads(estimate("--all", "--format", "json"))["stacks"]
    unnamed = [w for doc in docs for w in doc["warnings"] if warning_id(w) == OTHER]
    assert not unnamed
    text = estimate("--stack", "dev")
    assert "warning [stale-prices]: the price catalog is" in " ".join(text.split())


def _acknowledge(project, ids: str) -> None:
    path = project / "stacks" / "Pulumi.dev.yaml"
    text = path.read_text()
    assert "\nconfig:\n" in text
    path.write_text(text.replace("\nconfig:\n", f"\nconfig:\n  tradeoff-infra:acknowledgedWarnings: {ids}\n", 1))


def _run(*args):
    return runner.invoke(app, ["estimate", *args, "--as-of", "2026-11-24"], env={"COLUMNS": "100"})


def test_a_stack_acknowledges_a_warning_it_accepts(project):
    before = json.loads(_run("dev", "--format", "json").stdout)["stacks"][0]["warnings"]
    assert any(w.startswith("the price catalog is") for w in before)
    _acknowledge(project, "[stale-prices]")
    result = _run("dev", "--format", "json")
    assert result.exit_code == 0, result.output
    after = json.loads(result.stdout)["stacks"][0]["warnings"]
    assert after == [w for w in before if not w.startswith("the price catalog is")]
    assert "stale-prices" not in _run("dev").stdout


def test_an_unknown_warning_id_is_exit_2_naming_the_key_with_a_near_name(project):
    _acknowledge(project, "[stale-price]")
    result = _run("dev")
    assert result.exit_code == 2, result.output
    assert "acknowledgedWarnings" in result.output and "did you mean stale-prices?" in result.output
    assert "Traceback" not in result.output


def test_every_unknown_warning_id_is_reported_at_once_each_with_its_near_name(project):
    """Two typos in acknowledgedWarnings: both named in one run (not one per run), each with its own suggestion."""
    _acknowledge(project, "[stale-price, not-deployable, notdeployable]")
    result = _run("dev")
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert "'stale-price'" in out and "did you mean stale-prices?" in out, out
    assert "'notdeployable'" in out and "did you mean not-deployable?" in out, out
    assert "Traceback" not in result.output


def test_markdown_and_html_show_each_warnings_id():
    assert "- ⚠️ `[stale-prices]` the price catalog is" in estimate("--stack", "dev", "--format", "markdown")
    assert '<li class="warn"><code>[stale-prices]</code> the price catalog is' in estimate("--stack", "dev",
                                                                                          "--format", "html")


def _shared_by_text(docs: list[dict]) -> dict[str, list[str]]:
    by_text: dict[str, list[str]] = {}
    for doc in docs:
        for w in dict.fromkeys(doc["warnings"]):
            by_text.setdefault(w, []).append(doc["stack"])
    return {w: s for w, s in by_text.items() if len(s) >= 2}


def test_markdown_and_html_show_a_warning_several_stacks_share_once_with_its_stacks():
    """Issue 13 item 7 in every text format: grouped as the table groups them, not repeated per stack."""
    docs = json.loads(estimate("--all", "--format", "json"))["stacks"]
    shared = _shared_by_text(docs)
    assert shared, "the shipped stacks share no warning: this test needs one"
    from cli.render import safe
    md = estimate("--all", "--format", "markdown")
    html = estimate("--all", "--format", "html")
    from markupsafe import escape  # as jinja2's autoescape writes it
    for w, stacks in shared.items():
        in_md = safe.markdown(w)
        assert md.count(in_md) == 1, w
        assert f"`[{warning_id(w)}]` {in_md} ({len(stacks)} stacks: {', '.join(stacks)})" in md
        in_html = str(escape(safe.clean(w)))
        assert html.count(in_html) == 1, w
        assert f'{in_html} <span class="stacks">({len(stacks)} stacks: {", ".join(stacks)})</span>' in html
    assert "\n**Warnings shared by several stacks**\n" in md and 'id="shared-warnings"' in html
    # a stack's own warnings stay under it; those it shares are pointed to
    own = next(w for doc in docs for w in doc["warnings"] if w not in shared)
    assert md.count(safe.markdown(own)) == 1
    assert "more warning(s) this stack shares with others" in md


def test_json_warnings_stay_strings_and_carry_their_ids_in_a_parallel_list():
    docs = json.loads(estimate("--all", "--format", "json"))["stacks"]
    for doc in docs:
        assert all(isinstance(w, str) for w in doc["warnings"])
        assert doc["warningIds"] == [warning_id(w) for w in doc["warnings"]]
        keys = list(doc)
        assert keys[keys.index("warnings") + 1] == "warningIds"
    assert "stale-prices" in docs[0]["warningIds"]


def test_a_minimal_stacks_warnings_all_have_ids_and_can_be_acknowledged(tmp_path):
    import yaml
    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    for key in ("publicAccessCidrs", "adminPrincipalArns"):
        doc["config"]["tradeoff-infra:cluster"].pop(key)
    path = tmp_path / "Pulumi.minimal.yaml"
    path.write_text(yaml.safe_dump(doc))
    stack = json.loads(estimate(str(path), "--format", "json"))["stacks"][0]
    gated = [w for w in stack["warnings"] if w.startswith("priced, but not deployable as is: cluster.privateAccessCidrs")]
    assert gated and {warning_id(w) for w in gated} == {"not-deployable"}
    assert "other" not in stack["warningIds"], [w for w in stack["warnings"] if warning_id(w) == "other"]
    doc["config"]["tradeoff-infra:acknowledgedWarnings"] = ["not-deployable"]
    path.write_text(yaml.safe_dump(doc))
    after = json.loads(estimate(str(path), "--format", "json"))["stacks"][0]
    assert not [w for w in after["warnings"] if "not deployable" in w]


def test_docs_list_every_warning_id():
    from infra.spec.warning_ids import WARNING_IDS
    text = (ROOT / "docs" / "stack-file.md").read_text()
    section = text.split("## `acknowledgedWarnings`", 1)[1].split("\n## ", 1)[0]
    assert all(f"`{wid}`" in section for wid in WARNING_IDS), [w for w in WARNING_IDS if f"`{w}`" not in section]


@pytest.mark.parametrize(("text", "wid"), [
    ("us-east-1: EKS version 1.40 is not in the catalog's support calendar; priced at standard support",
     "eks-version-unknown"),
    ("us-east-1: the gateway's 6 pods at most (500m CPU, 1Gi each) take more than half of the 2 x m6i.large system "
     "nodes the other system pods need: raise cluster.systemNodes.nodes or its instanceType", "gateway-system-nodes"),
    ("us-east-1: the fleet as configured (maxReplicas/maxNodes) leaves 3.0% of the tokens of routes that cannot leave "
     "it (restricted, or no overflowTo) queueing at the peaks; the cheapest split caps it at 9 replicas", "split-queues"),
    ("the split as configured spends $1,234.50 a month on APIs, above gateway.apiBudgetMonthlyUsd $1,000: past the "
     "budget the gateway refuses API calls", "gateway-api-budget"),
])
def test_the_gateway_and_calendar_warnings_have_ids(text, wid):
    assert warning_id(text) == wid
