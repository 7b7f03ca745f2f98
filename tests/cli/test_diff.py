"""`tradeoff-infra diff OLD.json NEW.json` and `estimate --compare-to`: + / - / ~ per line item in $ and %,
the totals, a changed verdict, moved break-evens, `--fail-on-increase` (issue 13 item 5)."""

from __future__ import annotations

import copy
import json
import re

import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.render.documents import money
from tests.builders import cache_dir  # noqa: F401  (autouse: one inventory cache for the module)

AS_OF = ["--as-of", "2026-11-24"]
runner = CliRunner()


def invoke(*args):
    # wide: these tests read the words; the wrapping to the width (pytest-xdist sets COLUMNS=80) has its own test
    return runner.invoke(app, list(args), env={"COLUMNS": "1000"})


@pytest.fixture(scope="module")
def saved() -> dict:
    result = invoke("estimate", "dev", "--format", "json", *AS_OF)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def changed(doc: dict) -> dict:
    """The same estimate with the EKS control plane doubled, one line item gone, the verdict flipped, the
    first break-even halved and the expected (compared) total 30 % higher."""
    new = copy.deepcopy(doc)
    stack = new["stacks"][0]
    eks = next(li for li in stack["lineItems"] if li["category"] == "control-plane")
    eks["monthlyUsd"] *= 2
    stack["lineItems"].pop()
    stack["verdict"]["choice"] = "self-host" if stack["verdict"]["choice"] == "api" else "api"
    offer = next(o for o, b in stack["breakEvenRequestsPerMonth"].items() if b["requestsPerMonth"])
    stack["breakEvenRequestsPerMonth"][offer]["requestsPerMonth"] //= 2
    stack["selfHosted"]["monthlyUsd"]["expected"] = round(stack["selfHosted"]["monthlyUsd"]["expected"] * 1.3, 2)
    # the cost the verdict compares (dev's fleet carries its traffic: the same total)
    stack["selfHosted"]["comparedMonthlyUsd"] = stack["selfHosted"]["monthlyUsd"]["expected"]
    return new


def write(tmp_path, name, doc) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_diff_shows_dollars_percent_verdict_and_break_even(tmp_path, saved):
    old, new = write(tmp_path, "old.json", saved), write(tmp_path, "new.json", changed(saved))
    before = saved["stacks"][0]["verdict"]["choice"].upper()
    after = changed(saved)["stacks"][0]["verdict"]["choice"].upper()
    result = invoke("diff", old, new)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"verdict changed: {before} -> {after}" in out
    assert "break-even moved" in out
    assert "(+$73.00, +100.0%)" in out  # the EKS control plane, $73 -> $146
    assert "\n  ~ us-east-1" in out and "\n  - us-east-1" in out
    assert "+30.0%)" in out  # the expected total


def test_diff_of_a_document_with_itself_changes_nothing(tmp_path, saved):
    old = write(tmp_path, "old.json", saved)
    out = invoke("diff", old, old).stdout
    assert "verdict unchanged" in out and "no line item changed" in out and "break-even moved" not in out


def test_diff_json_and_markdown(tmp_path, saved):
    old, new = write(tmp_path, "old.json", saved), write(tmp_path, "new.json", changed(saved))
    doc = json.loads(invoke("diff", old, new, "--format", "json").stdout)
    stack = doc["stacks"][0]
    assert stack["verdict"]["changed"] is True and stack["total"]["changePct"] == 30.0
    assert {r["sign"] for r in stack["lineItems"]} >= {"~", "-"}
    md = invoke("diff", old, new, "--format", "markdown").stdout
    assert "| `~` |" in md and "+100.0%" in md and "verdict changed" in md


def test_fail_on_increase(tmp_path, saved):
    old, new = write(tmp_path, "old.json", saved), write(tmp_path, "new.json", changed(saved))
    over = invoke("diff", old, new, "--fail-on-increase", "10")
    assert over.exit_code == 1 and "+30.0%" in over.stderr
    assert invoke("diff", old, new, "--fail-on-increase", "50").exit_code == 0
    assert invoke("diff", new, old, "--fail-on-increase", "0").exit_code == 0  # a decrease


def test_estimate_compare_to_renders_like_diff(tmp_path, saved):
    old = write(tmp_path, "old.json", changed(saved))
    result = invoke("estimate", "dev", "--compare-to", old, *AS_OF)
    assert result.exit_code == 0, result.output
    assert "verdict changed:" in result.stdout and "(-23.1%)" in result.stdout.replace("-$829.05, ", "")
    md = invoke("estimate", "dev", "--compare-to", old, "--format", "markdown", *AS_OF).stdout
    assert "verdict changed:" in md and "| `~` |" in md
    gate = invoke("estimate", "dev", "--compare-to", write(tmp_path, "same.json", saved), "--fail-on-increase", "0", *AS_OF)
    assert gate.exit_code == 0


def test_estimate_fail_on_increase_needs_compare_to():
    result = invoke("estimate", "dev", "--fail-on-increase", "5", *AS_OF)
    assert result.exit_code == 2 and "--compare-to" in result.output


def test_fail_over_budget_states_both_amounts(tmp_path):
    import yaml

    from tests.paths import ROOT

    doc = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    doc["config"]["tradeoff-infra:budget"] = {"monthlyUsd": 100}
    path = tmp_path / "Pulumi.small.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = invoke("estimate", str(path), "--fail-over-budget", *AS_OF)
    assert result.exit_code == 1
    assert "budget $100.00" in result.stderr and "expected $" in result.stderr


@pytest.mark.parametrize("content,needle", [
    ("not json", "not JSON"),
    ('{"stacks": [{"stack": "dev"}]}', "stacks[0].lineItems: missing"),
])
def test_diff_bad_input_exits_2_naming_the_argument(tmp_path, saved, content, needle):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = invoke("diff", str(bad), write(tmp_path, "ok.json", saved))
    assert result.exit_code == 2 and "OLD" in result.output and needle in result.output
    assert "Traceback" not in result.output
    neg = invoke("diff", str(bad), str(bad), "--fail-on-increase", "-3")
    assert neg.exit_code == 2


@pytest.fixture(scope="module")
def saved_hybrid() -> dict:
    result = invoke("estimate", "stacks/Pulumi.hybrid.yaml", "--format", "json", *AS_OF)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_only_api_spend_moving_trips_fail_on_increase(tmp_path, saved_hybrid):
    """A gateway stack's compared total is the hybrid one (fleet, gateway and API spend): a rise in API spend alone
    (the self-hosted lines unchanged) is a cost increase, and diff shows the `api` line item as changed (~)."""
    new = copy.deepcopy(saved_hybrid)
    stack = new["stacks"][0]
    api = next(li for li in stack["lineItems"] if li["category"] == "api" and li["resource"] == "premium")
    rise = round(api["monthlyUsd"] * 9, 2)  # the premium offer's price x 10
    api["monthlyUsd"] = round(api["monthlyUsd"] + rise, 2)
    stack["hybrid"]["monthlyUsd"]["expected"] = round(stack["hybrid"]["monthlyUsd"]["expected"] + rise, 2)
    stack["hybrid"]["apiMonthlyUsd"] = round(stack["hybrid"]["apiMonthlyUsd"] + rise, 2)
    old_path, new_path = write(tmp_path, "old.json", saved_hybrid), write(tmp_path, "new.json", new)
    result = invoke("diff", old_path, new_path, "--fail-on-increase", "5")
    assert result.exit_code == 1, result.output
    out = result.stdout
    before = saved_hybrid["stacks"][0]["hybrid"]["monthlyUsd"]["expected"]
    assert f"expected total (hybrid, incl. API spend): ${before:,.2f} -> ${before + rise:,.2f}" in out
    assert "~ global premium (api, MTok)" in out
    assert "cost increase above 5.0%" in result.stderr
    data = json.loads(invoke("diff", old_path, new_path, "--format", "json").stdout)
    total = data["stacks"][0]["total"]
    assert total["basisAfter"] == "hybrid" and total["changeUsd"] == pytest.approx(rise, abs=0.02)
    # estimate --compare-to compares the same total
    result = invoke("estimate", "stacks/Pulumi.hybrid.yaml", "--compare-to", new_path, *AS_OF, "--fail-on-increase", "0")
    assert "expected total (hybrid, incl. API spend)" in result.stdout
    assert result.exit_code == 0, result.output  # the estimate is cheaper than the dearer saved one


def test_an_offer_dropped_from_the_stack_is_said_removed_not_moved_to_never(tmp_path, saved):
    new = copy.deepcopy(saved)
    stack = new["stacks"][0]
    offer, be = next((o, b) for o, b in stack["breakEvenRequestsPerMonth"].items() if b["requestsPerMonth"])
    del stack["breakEvenRequestsPerMonth"][offer]
    out = invoke("diff", write(tmp_path, "old.json", saved), write(tmp_path, "new.json", new)).stdout
    assert f"offer removed from the stack ({offer}): its break-even was {be['requestsPerMonth']:,} requests/month" in out
    assert f"break-even moved ({offer})" not in out and "-> never" not in out
    back = invoke("diff", write(tmp_path, "new.json", new), write(tmp_path, "old.json", saved)).stdout
    assert f"offer added to the stack ({offer}): break-even {be['requestsPerMonth']:,} requests/month" in back
    doc = json.loads(invoke("diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--format", "json").stdout)
    entry = next(b for b in doc["stacks"][0]["breakEven"] if b["offer"] == offer)
    assert entry["offerStatus"] == "removed" and entry["moved"]


def test_a_line_from_nothing_to_a_cost_is_added_like_any_new_line(tmp_path, saved):
    old = copy.deepcopy(saved)
    li = max(old["stacks"][0]["lineItems"], key=lambda li: li["monthlyUsd"])
    cost = li["monthlyUsd"]
    li["monthlyUsd"] = 0.0  # the line was there, at $0.00
    out = invoke("diff", write(tmp_path, "old.json", old), write(tmp_path, "new.json", saved)).stdout
    line = next(x for x in out.splitlines() if f" {li['resource']} ({li['category']}, {li['unit']})" in x)
    assert line.lstrip().startswith("+ ") and f"$0.00 -> ${cost:,.2f} (+${cost:,.2f}, new)" in line, line
    back = invoke("diff", str(tmp_path / "new.json"), str(tmp_path / "old.json")).stdout
    line = next(x for x in back.splitlines() if f" {li['resource']} ({li['category']}, {li['unit']})" in x)
    assert line.lstrip().startswith("- ") and "-100.0%" in line, line


def several(doc: dict) -> dict:
    """`doc` with its one stack followed by two more copies under other names (a saved `estimate --all`)."""
    out = copy.deepcopy(doc)
    for name in ("second", "third"):
        extra = copy.deepcopy(doc["stacks"][0])
        extra["stack"] = name
        out["stacks"].append(extra)
    return out


def test_diff_json_starts_with_a_summary_whose_verdict_is_on_line_five(tmp_path, saved):
    """Like `estimate --format json`: the first key is `summary`, one entry per compared stack with its verdict
    before and after and the compared totals; the first stack's verdict on line 5, before any line item."""
    old, new = write(tmp_path, "old.json", saved), write(tmp_path, "new.json", changed(saved))
    text = invoke("diff", old, new, "--format", "json").stdout
    doc = json.loads(text)
    assert list(doc)[0] == "summary", list(doc)
    after = changed(saved)["stacks"][0]["verdict"]["choice"]
    assert text.splitlines()[4].strip() == f'"verdict": "{after}",', text.splitlines()[:6]
    entry, stack = doc["summary"][0], doc["stacks"][0]
    assert entry["stack"] == stack["stack"]
    assert (entry["verdictBefore"], entry["verdict"], entry["verdictChanged"]) == (
        stack["verdict"]["before"], stack["verdict"]["after"], True)
    assert (entry["totalBeforeUsd"], entry["totalAfterUsd"], entry["changePct"]) == (
        stack["total"]["beforeUsd"], stack["total"]["afterUsd"], 30.0)
    assert list(stack).index("verdict") < list(stack).index("lineItems")


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_a_diff_of_several_stacks_starts_with_every_verdict(tmp_path, saved, fmt):
    """Three stacks: one summary line (or table row) per stack with its verdict and total change comes first, so
    the third stack's verdict is not 20 lines down behind the first stack's line items."""
    old, new = write(tmp_path, "old.json", several(saved)), write(tmp_path, "new.json", several(changed(saved)))
    out = invoke("diff", old, new, "--format", fmt).stdout
    lines = [line for line in out.splitlines() if line.strip()]
    after = changed(saved)["stacks"][0]["verdict"]["choice"].upper()
    for i, name in enumerate(["dev", "second", "third"]):
        row = next(line for line in lines[:6] if name in line)
        assert after in row and "+30.0%" in row, (name, lines[:6])


def test_diff_text_fits_the_width_without_splitting_a_number(tmp_path, saved, monkeypatch):
    """`diff`'s plain text wraps to the one width rule (COLUMNS) at spaces, with a hanging indent: no line wider
    than the terminal, so the terminal never soft-wraps a `$31,472.79` or `+20.5%` in two."""
    import re

    write(tmp_path, "old.json", saved), write(tmp_path, "new.json", changed(saved))
    monkeypatch.chdir(tmp_path)  # short names: no word wider than the width (a path that is gets folded)
    old, new = "old.json", "new.json"
    wide = runner.invoke(app, ["diff", old, new], env={"COLUMNS": "1000"}).stdout
    result = runner.invoke(app, ["diff", old, new], env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in wide.splitlines()) > 60  # the test needs a line to wrap
    assert all(len(line) <= 60 for line in lines), [line for line in lines if len(line) > 60]
    tokens = re.compile(r"[+-]?\$[\d,.]+|[+-]\d+\.\d%|\d{1,3}(?:,\d{3})+")
    assert sorted(tokens.findall(wide)) == sorted(tokens.findall(result.stdout))  # every number whole
    assert " ".join(wide.split()) == " ".join(result.stdout.split())  # the same words, only the breaks moved


def test_a_verdict_a_constraint_decides_says_so_in_the_diff(tmp_path):
    """prod-global reads SELF-HOST because constraints.dataMayLeaveNetwork is false (on cost alone: API): the diff's
    verdict line says the constraint decided, as the decision block and the summary do; dev's (cost) does not."""
    result = invoke("estimate", "prod-global", "--format", "json", *AS_OF)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["stacks"][0]["verdict"]["decidedBy"] == "constraints.dataMayLeaveNetwork"
    old = write(tmp_path, "old.json", doc)
    out = " ".join(invoke("diff", old, old).stdout.split())
    assert "verdict unchanged: SELF-HOST (decided by constraints.dataMayLeaveNetwork is false" in out, out
    assert "not cost (on cost alone: API))" in out
    md = " ".join(invoke("diff", old, old, "--format", "markdown").stdout.split())
    assert "verdict unchanged: SELF-HOST (decided by constraints.dataMayLeaveNetwork is false" in md
    summary = json.loads(invoke("diff", old, old, "--format", "json").stdout)["summary"][0]
    assert summary["decidedBy"] == "constraints.dataMayLeaveNetwork"


def test_a_verdict_cost_decides_names_no_constraint_in_the_diff(tmp_path, saved):
    old = write(tmp_path, "old.json", saved)
    assert "decided by" not in invoke("diff", old, old).stdout


def test_estimate_compare_to_in_html_shows_the_change(tmp_path, saved):
    """`--compare-to` with `--format html` (and `render` of what it saved): the change is in the report, as in
    table and markdown — the verdict change, the total's $ and %, each changed line item — not silently dropped."""
    from tests.builders import visible_lines

    old = write(tmp_path, "old.json", changed(saved))
    result = invoke("estimate", "dev", "--compare-to", old, "--format", "html", *AS_OF)
    assert result.exit_code == 0, result.output
    text = "\n".join(visible_lines(result.stdout))
    after = saved["stacks"][0]["verdict"]["choice"].upper()
    before = changed(saved)["stacks"][0]["verdict"]["choice"].upper()
    assert f"verdict changed: {before} -> {after}" in text, text[-3000:]
    assert "(-$829.05, -23.1%)" in text
    assert "use1-cluster-eks" in text and "-$73.00" in text and "-50.0%" in text


def test_a_stack_name_with_a_line_break_stays_on_its_line_in_the_text(tmp_path, saved):
    """A saved document is user input: a stack name with a newline (or an escape) is shown escaped (`\\x0a`) on its
    own line of the summary and of its change, never breaking the text into a fake line."""
    doc = several(saved)
    doc["stacks"][0]["stack"] = "dev\n# injected"
    old = write(tmp_path, "old.json", doc)
    out = invoke("diff", old, old).stdout
    assert not any(line.startswith("# injected") for line in out.splitlines()), out
    assert out.count("dev\\x0a# injected") == 2, out  # the summary row and the change's header


def test_markdown_writes_every_arrow_as_a_plain_arrow(tmp_path, saved):
    """The summary table wrote `->` while the headline lines escaped theirs to `-&gt;`: one plain `->` (GitHub
    shows it as it reads; no `<` is unescaped, so no tag can open), in `diff` and in `estimate --compare-to`."""
    old, new = write(tmp_path, "old.json", several(saved)), write(tmp_path, "new.json", several(changed(saved)))
    md = invoke("diff", old, new, "--format", "markdown").stdout
    assert "-&gt;" not in md
    before, after = (d["stacks"][0]["verdict"]["choice"].upper() for d in (saved, changed(saved)))
    assert f"- verdict changed: {before} -> {after}" in md and f"| {before} -> {after} |" in md
    compare = invoke("estimate", "dev", "--compare-to", old, "--format", "markdown", *AS_OF).stdout
    assert "-&gt;" not in compare and "- expected total (self-hosted): $" in compare


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_stacks_in_only_one_file_are_in_the_summary(tmp_path, saved, fmt):
    """A multi-stack diff listed a stack found in only one of the two files at the end, after every stack's line
    items: the summary lists it (`only in old` / `only in new`) with the compared stacks."""
    old_doc, new_doc = several(saved), several(changed(saved))
    gone = old_doc["stacks"].pop(1)  # `second` only in the new file
    new_doc["stacks"].pop(2)  # `third` only in the old file
    out = invoke("diff", write(tmp_path, "old.json", old_doc), write(tmp_path, "new.json", new_doc),
                 "--format", fmt).stdout
    summary = out.split("change against")[0]
    assert re.search(r"second\s*\|?\s*only in new", summary), summary
    assert re.search(r"third\s*\|?\s*only in old", summary), summary
    assert "only in the new estimate" not in out and "only in the old estimate" not in out  # not again at the end
    assert gone["stack"] == "second"


def test_stacks_in_only_one_file_are_in_the_json_summary_too(tmp_path, saved):
    """The text's summary listed a stack found in only one file (`only in new` / `only in old`), the JSON's only the
    compared ones: the JSON summary lists the same stacks in the same order, `change` added / removed with the verdict
    and compared total the stack has in the file it is in."""
    from cli.estimate.diff import compared_total

    old_doc, new_doc = several(saved), several(changed(saved))
    old_doc["stacks"].pop(1)  # `second` only in the new file
    new_doc["stacks"].pop(2)  # `third` only in the old file
    third = old_doc["stacks"][1]
    assert third["stack"] == "third"
    old, new = write(tmp_path, "old.json", old_doc), write(tmp_path, "new.json", new_doc)
    doc = json.loads(invoke("diff", old, new, "--format", "json").stdout)
    text = invoke("diff", old, new).stdout.split("change against")[0]
    listed = [line.split()[0] for line in text.splitlines()[1:] if line.startswith("  ")]
    assert [entry["stack"] for entry in doc["summary"]] == listed == [saved["stacks"][0]["stack"], "second", "third"]
    compared, added, removed = doc["summary"]
    assert compared["change"] == "compared"
    second = new_doc["stacks"][1]
    assert added == {"stack": "second", "verdict": second["verdict"]["choice"], "change": "added", "verdictBefore": None,
                     "verdictChanged": False, "decidedBy": second["verdict"]["decidedBy"], "totalBeforeUsd": None,
                     "totalAfterUsd": compared_total(second)[0], "changeUsd": None, "changePct": None,
                     "stackFile": second["stackFile"], "stackFileBefore": None}
    assert (removed["change"], removed["verdict"], removed["verdictBefore"], removed["totalBeforeUsd"],
            removed["totalAfterUsd"]) == ("removed", None, third["verdict"]["choice"], compared_total(third)[0], None)
    assert [s["stack"] for s in doc["onlyInNew"]] == ["second"] and [s["stack"] for s in doc["onlyInOld"]] == ["third"]


def test_every_summary_entry_names_its_stack_file_with_the_same_keys(tmp_path, saved):
    """Added and removed entries carried `stackFile`, compared ones did not: every entry now has the same keys,
    `stackFile` (the file the stack is from, the new one's for a compared stack) and `stackFileBefore` (the old
    document's file where a compared stack was matched by name from another file, else null)."""
    old_doc, new_doc = several(saved), several(changed(saved))
    old_doc["stacks"].pop(1)  # `second` only in the new file
    new_doc["stacks"].pop(2)  # `third` only in the old file
    old, new = write(tmp_path, "old.json", old_doc), write(tmp_path, "new.json", new_doc)
    summary = json.loads(invoke("diff", old, new, "--format", "json").stdout)["summary"]
    assert [e["change"] for e in summary] == ["compared", "added", "removed"]
    assert len({tuple(e) for e in summary}) == 1, [list(e) for e in summary]
    compared, added, removed = summary
    assert (compared["stackFile"], compared["stackFileBefore"]) == (new_doc["stacks"][0]["stackFile"], None)
    assert (added["stackFile"], added["stackFileBefore"]) == (new_doc["stacks"][1]["stackFile"], None)
    assert (removed["stackFile"], removed["stackFileBefore"]) == (old_doc["stacks"][1]["stackFile"], None)
    moved = copy.deepcopy(saved)
    moved["stacks"][0]["stackFile"] = "stacks/Pulumi.moved.yaml"  # the same stack name from another file
    entry = json.loads(invoke("diff", write(tmp_path, "a.json", saved), write(tmp_path, "b.json", moved),
                              "--format", "json").stdout)["summary"][0]
    assert (entry["change"], entry["stackFile"], entry["stackFileBefore"]) == (
        "compared", "stacks/Pulumi.moved.yaml", saved["stacks"][0]["stackFile"])


def test_a_stack_in_only_one_file_says_its_verdict_and_compared_total_in_the_text_too(tmp_path, saved):
    """The JSON summary gave a stack found in only one file its verdict and compared total (`change` added /
    removed); the text's line said only `only in new (file)`: it now says both, the same as the JSON."""
    old_doc, new_doc = several(saved), several(changed(saved))
    old_doc["stacks"].pop(1)  # `second` only in the new file
    new_doc["stacks"].pop(2)  # `third` only in the old file
    new_doc["stacks"][1]["verdict"]["choice"] = "api"  # the two differ from the compared stack's, and each other
    old, new = write(tmp_path, "old.json", old_doc), write(tmp_path, "new.json", new_doc)
    summary = {e["stack"]: e for e in json.loads(invoke("diff", old, new, "--format", "json").stdout)["summary"]}
    text = invoke("diff", old, new).stdout.split("change against")[0]
    added, removed = summary["second"], summary["third"]
    assert (added["change"], removed["change"]) == ("added", "removed")
    assert re.search(rf"second +only in new: {added['verdict'].upper()} +"
                     rf"{re.escape(money(added['totalAfterUsd']))} \({re.escape(added['stackFile'])}\)", text), text
    assert re.search(rf"third +only in old: {removed['verdictBefore'].upper()} +"
                     rf"{re.escape(money(removed['totalBeforeUsd']))} \({re.escape(removed['stackFile'])}\)", text), text


def test_a_renamed_stack_is_said_in_only_one_file_each(tmp_path, saved):
    """Nothing compared (the stack was renamed): the summary says so and lists both, old and new."""
    other = copy.deepcopy(saved)
    other["stacks"][0]["stack"] = "renamed"
    other["stacks"][0]["stackFile"] = "stacks/Pulumi.renamed.yaml"
    out = invoke("diff", write(tmp_path, "old.json", saved), write(tmp_path, "new.json", other)).stdout
    assert out.startswith("0 stacks compared against ") and ", 2 in only one of the two" in out
    assert re.search(r"renamed +only in new: [A-Z-]+ +\$[\d,.]+ \(stacks/Pulumi.renamed.yaml\)", out), out
    assert re.search(r"dev +only in old: [A-Z-]+ +\$[\d,.]+ \(stacks/Pulumi.dev.yaml\)", out), out


def test_one_compared_stack_is_said_in_the_singular(tmp_path, saved):
    """One stack compared and one in only one file (a stack added): the summary read `1 stacks compared`."""
    old_doc, new_doc = copy.deepcopy(saved), several(saved)
    new_doc["stacks"] = new_doc["stacks"][:2]
    out = invoke("diff", write(tmp_path, "old.json", old_doc), write(tmp_path, "new.json", new_doc)).stdout
    assert out.startswith("1 stack compared against ") and ", 1 in only one of the two" in out, out
    assert "1 stacks" not in out


@pytest.mark.parametrize("where", ["OLD", "NEW"])
def test_a_saved_estimate_holding_a_stack_twice_is_bad_input(tmp_path, saved, where):
    """A document listing the same stack (same stack file) twice: `render` refuses it, but `diff` compared both copies
    against the one stack of the other file, and its text and JSON summary listed that stack twice. Exit 2 naming the
    argument, as render does."""
    twice = copy.deepcopy(saved)
    twice["stacks"].append(copy.deepcopy(saved["stacks"][0]))
    one, two = write(tmp_path, "one.json", saved), write(tmp_path, "twice.json", twice)
    for fmt in ("table", "json"):
        result = invoke("diff", *((two, one) if where == "OLD" else (one, two)), "--format", fmt)
        assert result.exit_code == 2, result.output
        assert result.output.startswith(f"error: {where} {two}: holds stack 'dev' (from stacks/Pulumi.dev.yaml) twice"), \
            result.output
    result = invoke("estimate", "dev", "--compare-to", two, *AS_OF)
    assert result.exit_code == 2 and "error: --compare-to" in result.output, result.output
