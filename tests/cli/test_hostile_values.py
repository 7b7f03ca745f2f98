"""Hostile values (issue 10: 4, 6, 8): markup, control characters and markdown/HTML in names, file names,
offers and notes; numbers at and past their ranges; types that used to be coerced; the EKS API opened
to the world by split CIDRs; the cluster's administrators. Each case exits 2 naming the key (or prints
the value as it reads), with no traceback and no file changed."""

from __future__ import annotations

import json
import pathlib
import re

import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app
from cli.render import safe
from tests.builders import cache_dir  # noqa: F401  (autouse: one inventory cache for the module)
from tests.paths import ROOT

AS_OF = ["--as-of", "2026-11-24"]
runner = CliRunner()
OSC_TITLE = "\x1b]0;pwned\x07"
CLEAR_SCREEN = "\x1b[2J\x1b[H"


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": "200"})


def stack_file(folder: pathlib.Path, name: str = "hostile", base: str = "dev", **edits) -> pathlib.Path:
    """A copy of a shipped stack; each edit `a/b/0/c=value` sets `tradeoff-infra:a` -> b -> [0] -> c."""
    doc = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{base}.yaml").read_text())
    for dotted, value in edits.items():
        *keys, last = dotted.split("/")
        node = doc["config"]
        for i, key in enumerate(keys):
            key = f"tradeoff-infra:{key}" if i == 0 else key
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        last = f"tradeoff-infra:{last}" if not keys else last
        node[int(last) if isinstance(node, list) else last] = value
    path = folder / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return path


def sane(result, code: int) -> str:
    """The run's output, after checking the exit code, that no exception escaped and nothing raw reached it."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", result.output), repr(result.output)
    return result.output


# ---------------------------------------------------------------- terminal: markup and control characters


def test_markup_in_the_model_name_is_bad_input_printed_as_written(tmp_path):
    """The chart's values schema refuses such a served model name (`pulumi up` failed on a stack `validate` passed);
    the value is echoed as written, never read as markup."""
    path = stack_file(tmp_path, **{"model/name": "llama[/bold]"})
    before = path.read_bytes()
    for command in (["validate"], ["estimate", *AS_OF], ["model", "show"]):
        out = sane(invoke(*command[:1 if command[0] != "model" else 2], str(path), *command[1 if command[0] != "model" else 2:]), 2)
        assert "model.name: 'llama[/bold]' is not a served model name the chart accepts" in out
    assert path.read_bytes() == before


@pytest.mark.parametrize("name", ["llama #1", "team: llama", "llama\n", "llama\n  - --trust-remote-code", " llama"])
def test_a_model_name_the_chart_refuses_is_refused_by_validate(tmp_path, name):
    path = stack_file(tmp_path, **{"model/name": name})
    assert "model.name:" in sane(invoke("validate", str(path)), 2)


def test_markup_in_a_stack_file_name_is_printed_as_written(tmp_path):
    path = stack_file(tmp_path, name="[red]llama[bold]")
    out = sane(invoke("validate", str(path)), 0)
    assert "✓ [red]llama[bold] is valid" in out


def test_markup_in_a_pool_name_is_bad_input_naming_the_key(tmp_path):
    path = stack_file(tmp_path, **{"regions/0/gpuPools/0/name": "[/x]"})
    before = path.read_bytes()
    out = sane(invoke("validate", str(path)), 2)
    assert "regions[0].gpuPools[0].name: '[/x]'" in out
    assert path.read_bytes() == before
    out = sane(invoke("estimate", str(path), *AS_OF), 2)
    assert "regions[0].gpuPools[0].name: '[/x]'" in out


def test_link_markup_does_not_hide_text(tmp_path):
    path = stack_file(tmp_path, **{"model/name": "[link=https://evil.example]shown[/link]"})
    out = sane(invoke("validate", str(path)), 2)
    assert "model.name: '[link=https://evil.example]shown[/link]'" in out


def test_markup_in_a_stack_argument_is_printed_as_written():
    out = sane(invoke("validate", "[/]oops"), 2)
    assert "[/]oops" in out


@pytest.fixture(scope="module")
def hostile_stack(tmp_path_factory) -> pathlib.Path:
    """A stack file whose name, model name and custom offer carry markup, control characters and
    markdown/HTML that would inject headings, images and <details> into a PR comment."""
    folder = tmp_path_factory.mktemp("hostile")
    return stack_file(
        folder, name=f"# <details>[x](y) {OSC_TITLE}",
        **{"model/pinNote": f"why {CLEAR_SCREEN}",
           "apiComparison/2/name": f"[/]oops # <img src=x> ![i](u.png) | <details>{CLEAR_SCREEN}"})


def test_hostile_values_in_the_estimate_table(hostile_stack):
    before = hostile_stack.read_bytes()
    out = sane(invoke("estimate", str(hostile_stack), *AS_OF), 0)
    assert "[/]oops # <img src=x>" in out
    assert "\\x1b]0;pwned\\x07" in out  # shown, never sent: the stack name came from the file name
    assert hostile_stack.read_bytes() == before


def test_hostile_values_in_validate_and_inventory(hostile_stack):
    assert "\\x1b]0;pwned\\x07" in sane(invoke("validate", str(hostile_stack)), 0)
    assert "\\x1b]0;pwned\\x07" in sane(invoke("inventory", str(hostile_stack)), 0)


def test_control_characters_in_a_pin_note_are_shown_not_sent(hostile_stack):
    out = sane(invoke("model", "show", str(hostile_stack)), 0)
    assert "note: why \\x1b[2J\\x1b[H" in out


def test_control_characters_in_a_problem_are_shown_not_sent(tmp_path):
    path = stack_file(tmp_path, **{"regions/0/region": f"us-east-1{CLEAR_SCREEN}"})
    assert "\\x1b[2J" in sane(invoke("validate", str(path)), 2)


def test_safe_helpers():
    assert safe.clean("a\x1b[2Jb\x9b\u202ec") == "a\\x1b[2Jb\\x9b\\u202ec"
    assert safe.clean_text("a\nb\x07") == "a\nb\\x07"
    assert safe.markup("[/bold]") == "\\[/bold]"
    assert safe.markdown("# <b>![i](u) | `x` *y*") == "\\# &lt;b&gt;\\!\\[i\\](u) \\| \\`x\\` \\*y\\*"


# ---------------------------------------------------------------- reports: markdown and HTML


def test_markdown_escapes_every_user_value(hostile_stack):
    out = sane(invoke("estimate", str(hostile_stack), "--format", "markdown", *AS_OF), 0)
    # the template's own structure only: one heading per stack, one <details> per stack, no image
    assert [line for line in out.splitlines() if line.startswith("#")] == [
        "## tradeoff-infra estimate",
        next(line for line in out.splitlines() if line.startswith("### ")),
    ]
    assert out.count("<details>") == 1 and "<img" not in out and "![" not in out
    assert "\\[/\\]oops \\# &lt;img src=x&gt; \\!\\[i\\](u.png) \\| &lt;details&gt;" in out
    offer_rows = [line for line in out.splitlines() if "oops" in line and line.startswith("|")]
    assert offer_rows and all(len(re.findall(r"(?<!\\)\|", row)) == 5 for row in offer_rows), offer_rows


def test_html_escapes_every_user_value(hostile_stack):
    out = sane(invoke("estimate", str(hostile_stack), "--format", "html", *AS_OF), 0)
    assert "<img" not in out and "<details>" not in out
    assert "&lt;img src=x&gt;" in out


def test_two_stacks_with_one_name_get_their_own_sections_and_charts(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    path = stack_file(other, name="dev", **{"cluster/systemNodes": {"instanceType": "m6i.large", "nodes": 6}})
    out = sane(invoke("estimate", "dev", str(path), "--format", "html", *AS_OF), 0)
    ids = re.findall(r'<section id="([^"]+)"', out)
    assert len(ids) == 2 and len(set(ids)) == 2, ids
    sections = out.split("<section ")[1:]
    assert "stacks/Pulumi.dev.yaml" in sections[0] and str(path) in sections[1]
    charts = [re.search(r"<svg.*?</svg>", s, re.S).group() for s in sections]
    assert charts[0] != charts[1], "each stack file gets its own chart"
    md = sane(invoke("estimate", "dev", str(path), "--format", "markdown", *AS_OF), 0)
    headings = [line for line in md.splitlines() if line.startswith("### ")]
    assert len(headings) == 2 and headings[0] != headings[1], headings


# ---------------------------------------------------------------- numbers: ranges and strict types


NUMBER_CASES = {
    "inf-peak": ("traffic/peakToAverage", float("inf"), "traffic.peakToAverage"),
    "nan-peak": ("traffic/peakToAverage", float("nan"), "traffic.peakToAverage"),
    "huge-budget": ("budget/monthlyUsd", 1e308, "budget.monthlyUsd"),
    "inf-budget": ("budget/monthlyUsd", float("inf"), "budget.monthlyUsd"),
    "huge-price": ("apiComparison/2/outputPerMTokUsd", 1e308, "apiComparison[2].outputPerMTokUsd"),
    "inf-fte": ("operations/engineerFte", float("inf"), "operations.engineerFte"),
    "huge-salary": ("operations/loadedMonthlyCostUsd", 1e308, "operations.loadedMonthlyCostUsd"),
    "requests-float": ("traffic/requestsPerMonth", 1e29, "traffic.requestsPerMonth"),
    "requests-int": ("traffic/requestsPerMonth", 10**29, "traffic.requestsPerMonth"),
    "max-nodes-huge": ("regions/0/gpuPools/0/maxNodes", 10**27, "regions[0].gpuPools[0].maxNodes"),
    "max-nodes-true": ("regions/0/gpuPools/0/maxNodes", True, "regions[0].gpuPools[0].maxNodes"),
    "max-nodes-float": ("regions/0/gpuPools/0/maxNodes", 3.0, "regions[0].gpuPools[0].maxNodes"),
    "ttft-huge": ("traffic/ttftTargetMs", 10**26, "traffic.ttftTargetMs"),
    "tensor-parallel-true": ("model/tensorParallel", True, "model.tensorParallel"),
    "scale-to-zero-int": ("autoscaling/scaleToZero", 1, "autoscaling.scaleToZero"),
    "amortisation-huge": ("operations/amortisationMonths", 10**9, "operations.amortisationMonths"),
}


@pytest.mark.parametrize("case", sorted(NUMBER_CASES))
def test_a_number_out_of_range_is_bad_input_naming_the_key(tmp_path, case):
    key, value, shown = NUMBER_CASES[case]
    path = stack_file(tmp_path, **{key: value})
    before = path.read_bytes()
    out = sane(invoke("validate", str(path)), 2)
    assert f"{shown}:" in out, out
    assert "should be a valid string" not in out, "only the problem of the value given, not of another union branch"
    assert path.read_bytes() == before
    out = sane(invoke("estimate", str(path), "--format", "json", *AS_OF), 2)
    assert f"{shown}:" in out, out


def test_numbers_at_their_limits_give_a_finite_estimate(tmp_path):
    path = stack_file(tmp_path, **{
        "traffic/requestsPerMonth": 100_000_000_000, "traffic/peakToAverage": 100.0, "traffic/ttftTargetMs": 600_000,
        "traffic/tpotTargetMs": 10_000, "apiComparison/2/inputPerMTokUsd": 10_000.0,
        "apiComparison/2/outputPerMTokUsd": 10_000.0, "budget/monthlyUsd": 1e9, "operations/engineerFte": 1000.0,
        "operations/loadedMonthlyCostUsd": 1_000_000.0, "operations/setupMonths": 120.0,
        "operations/amortisationMonths": 1, "regions/0/gpuPools/0/maxNodes": 1000})
    doc = json.loads(sane(invoke("estimate", str(path), "--format", "json", *AS_OF), 0))["stacks"][0]
    total = doc["selfHosted"]["monthlyUsd"]["expected"]
    assert 0 < total < 1e15
    alb = [li["monthlyUsd"] for li in doc["lineItems"] if li["category"] == "load-balancer"]
    assert alb and max(alb) < 1e12, alb


# ---------------------------------------------------------------- alarm e-mail


@pytest.mark.parametrize("email", ["not-an-address", "a@b", "ops@example.com\nBcc: x@example.com", "@example.com"])
def test_alarm_email_must_be_an_address(tmp_path, email):
    path = stack_file(tmp_path, **{"monitoring/alarmEmail": email})
    assert "monitoring.alarmEmail:" in sane(invoke("validate", str(path)), 2)


def test_a_real_alarm_email_is_accepted(tmp_path):
    path = stack_file(tmp_path, **{"monitoring/alarmEmail": "oncall+llm@example.com"})
    sane(invoke("validate", str(path)), 0)


# ---------------------------------------------------------------- the EKS API's public exposure


@pytest.mark.parametrize("cidrs, warned", [
    (["0.0.0.0/0"], True),
    (["0.0.0.0/1", "128.0.0.0/1"], True),
    (["8.0.0.0/8", "9.0.0.0/8"], True),
    (["52.0.0.0/11"], True),
    (["52.0.0.0/12"], False),
    (["203.0.113.0/24"], False),
])
def test_public_api_coverage_warns_above_a_slash_12(tmp_path, cidrs, warned):
    path = stack_file(tmp_path, **{"cluster/publicAccessCidrs": cidrs})
    out = sane(invoke("validate", str(path)), 0)
    assert (f"cluster.publicAccessCidrs {', '.join(cidrs)} reach" in out) is warned, out


# ---------------------------------------------------------------- who administers the cluster


def test_without_admins_or_bootstrap_nobody_could_administer_the_cluster(tmp_path):
    path = stack_file(tmp_path, **{"cluster/adminPrincipalArns": []})
    out = sane(invoke("validate", str(path)), 2)
    assert "cluster.adminPrincipalArns: nobody could administer the cluster" in out


def test_an_sts_session_arn_is_refused_with_the_role_to_use(tmp_path):
    path = stack_file(tmp_path, **{"cluster/adminPrincipalArns": ["arn:aws:sts::111122223333:assumed-role/admin/me"]})
    out = sane(invoke("validate", str(path)), 2)
    assert "cluster.adminPrincipalArns:" in out and "role/<name>" in out


def test_bootstrap_creator_admin_is_a_reported_choice(tmp_path):
    path = stack_file(tmp_path, **{"cluster/adminPrincipalArns": [], "cluster/bootstrapClusterCreatorAdminPermissions": True})
    out = sane(invoke("validate", str(path)), 0)
    assert "bootstrapClusterCreatorAdminPermissions is true" in out


def test_admins_get_access_entries_the_kubernetes_provider_waits_for():
    from cli.inventory import run_program
    from infra.spec import project_config

    config = project_config(yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text()))
    config["cluster"] = {**config["cluster"], "adminPrincipalArns": [
        "arn:aws:iam::111122223333:role/platform-admin", "arn:aws-us-gov:iam::111122223333:user/ops"]}
    inv = run_program(config, "dev")
    (cluster,) = inv.of_type("aws:eks/cluster:Cluster")
    assert cluster.inputs["accessConfig"]["bootstrapClusterCreatorAdminPermissions"] is False
    entries = inv.of_type("aws:eks/accessEntry:AccessEntry")
    associations = inv.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert sorted(e.inputs["principalArn"] for e in entries) == sorted(config["cluster"]["adminPrincipalArns"])
    policies = {a.inputs["principalArn"]: a.inputs["policyArn"] for a in associations}
    assert policies == {
        "arn:aws:iam::111122223333:role/platform-admin": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        "arn:aws-us-gov:iam::111122223333:user/ops":
            "arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    }
    assert all(a.inputs["accessScope"] == {"type": "cluster"} for a in associations)
    (provider,) = inv.of_type("pulumi:providers:kubernetes")
    assert {a.urn for a in associations} <= set(provider.dependencies), "Kubernetes calls must wait for the access"


@pytest.mark.parametrize("value", ["1" + "0" * 400, "1.0e+300", "1000001"])
def test_a_usage_number_beyond_its_range_is_bad_input(tmp_path, value):
    """A 400-digit integer raised OverflowError in the finiteness check, and 1e300 bytes per token
    decimal.InvalidOperation when the egress line was rounded to cents: both tracebacks."""
    usage = tmp_path / "usage.yaml"
    usage.write_text(f"bytesPerOutputToken: {value}\n")
    out = sane(invoke("estimate", "dev", "--usage", str(usage), *AS_OF), 2)
    assert "--usage" in out and "bytesPerOutputToken: must be a number from 0 to 1,000,000" in out


def test_usage_numbers_at_their_limits_give_a_finite_estimate(tmp_path):
    from cli.estimate.usage import USAGE_KEYS, USAGE_LIMIT, USAGE_LIMITS

    path = stack_file(tmp_path, **{"traffic/requestsPerMonth": 100_000_000_000, "regions/0/gpuPools/0/maxNodes": 1000})
    usage = tmp_path / "usage.yaml"
    usage.write_text("".join(f"{key}: {USAGE_LIMITS.get(key, USAGE_LIMIT)}\n" for key in USAGE_KEYS))
    doc = json.loads(sane(invoke("estimate", str(path), "--usage", str(usage), "--format", "json", *AS_OF), 0))["stacks"][0]
    assert 0 < doc["selfHosted"]["monthlyUsd"]["max"] < 1e20


def test_more_regions_than_exist_is_refused_at_once(tmp_path):
    """Every region appears once, yet the list was unbounded: 4,000 regions with their own vpcCidr in a 0.5 MB
    stack file kept `validate` in the quadratic VPC-overlap check for minutes (1,500 here: ~15 s before)."""
    import ipaddress
    import time

    nets = list(ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=20))
    pool = {"name": "a", "instanceType": "g6.xlarge", "minNodes": 0, "maxNodes": 1}
    path = stack_file(tmp_path, **{"regions": [{"region": "us-east-1", "vpcCidr": str(nets[i]), "gpuPools": [pool]}
                                               for i in range(1500)]})
    started = time.monotonic()
    out = sane(invoke("validate", str(path)), 2)
    assert time.monotonic() - started < 5
    assert "regions: 1500 regions, but each region appears once" in out


@pytest.mark.parametrize("key, cidrs, shown", [
    ("cluster/privateAccessCidrs", ["172.16.0.0/12", "172.16.0.0/12"], "cluster.privateAccessCidrs: '172.16.0.0/12' appears twice"),
    ("endpoint/allowedCidrs", ["203.0.113.0/24", "203.0.113.0/24"], "endpoint.allowedCidrs: '203.0.113.0/24' appears twice"),
    ("endpoint/allowedCidrs", ["2001:db8::/32", "2001:0db8::/32"], "endpoint.allowedCidrs: '2001:0db8::/32' appears twice (as '2001:db8::/32')"),
    ("cluster/publicAccessCidrs", ["203.0.113.0/24", "203.0.113.0/24"], "cluster.publicAccessCidrs: '203.0.113.0/24' appears twice"),
])
def test_a_cidr_listed_twice_is_bad_input(tmp_path, key, cidrs, shown):
    """validate passed it; estimate and inventory then ended in `ValueError: duplicate resource URN` (one
    security-group rule per CIDR), and AWS refuses the duplicate rule."""
    path = stack_file(tmp_path, **{key: cidrs})
    for command in (["validate"], ["estimate", *AS_OF], ["inventory"]):
        assert shown in sane(invoke(command[0], str(path), *command[1:]), 2)


@pytest.mark.parametrize("key, shown", [("cluster/privateAccessCidrs", "cluster.privateAccessCidrs"),
                                        ("endpoint/allowedCidrs", "endpoint.allowedCidrs")])
def test_more_cidrs_than_security_group_rules_is_refused(tmp_path, key, shown):
    """40,000 privateAccessCidrs (0.7 MB) passed validate and kept `inventory` building one rule each for minutes;
    AWS caps the rules reaching one network interface at 1,000."""
    import ipaddress

    cidrs = [str(n) for n in ipaddress.ip_network("172.16.0.0/12").subnets(new_prefix=28)][:1001]
    path = stack_file(tmp_path, **{key: cidrs})
    out = sane(invoke("validate", str(path)), 2)
    assert f"{shown}:" in out and "at most 1000 items" in out
