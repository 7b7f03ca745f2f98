"""One width rule and one column rule for every command's tables (issue 13 item 2): `estimate`, `inventory`,
`prices show` and `validate` lay their tables out to `COLUMNS` (else the terminal's width, else 100 columns
when piped) by cli/render/grid.py; money and quantities never wrap or truncate, long text folds."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner

from cli.inventory_tree import folded
from cli.main import app
from cli.render import grid, width
from infra.price_catalog import default_catalog
from tests.builders import cache_dir  # noqa: F401  (autouse: one inventory cache for the module)
from tests.paths import ROOT

runner = CliRunner()


def invoke(*args: str, columns: str | None) -> str:
    env = {"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": columns}
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def widest(text: str) -> int:
    return max(len(line.rstrip()) for line in text.splitlines())


def rich_text(title: str, columns: list[grid.Column], rows: list[list[str]], widths: list[int]) -> str:
    table = Table(title=title, title_justify="left")
    for column, w in zip(columns, widths):
        if column.numeric:
            table.add_column(column.header, justify=column.justify, width=w, no_wrap=True)
        else:
            table.add_column(column.header, justify=column.justify, width=w, overflow="fold")
    for row in rows:
        table.add_row(*row)
    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None, highlight=False).print(table, crop=False)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


ROWS = [["us-east-1", "g6e.12xlarge (4x L40S)", "$19,155.23", "1,460.00 hours"],
        ["eu-central-1", "a description long enough to fold over several lines of its column", "$7,500.00", "3 nodes"],
        ["ap-northeast-1", "short", "$0.01", "1.00 GB-month"]]
COLUMNS = [grid.Column("region"), grid.Column("what"), grid.Column("monthly", "right", numeric=True),
           grid.Column("quantity\nper month", "right", numeric=True)]


@pytest.mark.parametrize("table_width", [200, 90, 70])
def test_the_grid_draws_what_rich_draws(table_width):
    """The text tables look as rich drew them (box, padding, wrapped text, bottom-aligned headers) for the
    widths the rule chose."""
    widths = grid.column_widths(COLUMNS, ROWS, table_width)
    assert grid.render("a title", COLUMNS, ROWS, table_width) == rich_text("a title", COLUMNS, ROWS, widths)


def test_numbers_keep_their_width_and_text_folds():
    widths = grid.column_widths(COLUMNS, ROWS, 50)
    assert widths[2:] == [len("$19,155.23"), len("1,460.00 hours")]  # never below their widest cell
    text = grid.render("", COLUMNS, ROWS, 50)
    assert "$19,155.23" in text and "1,460.00 hours" in text and "$7,500.00" in text
    # too narrow even with text at its minimum: the columns fold into a second table (the first column, what names
    # the row, in both), never a number cut and never a line wider than asked for
    assert widest(text) <= 50
    assert text.count("┏") == 2 and text.count("us-east-1") == 2 and "1,460.00 hours" in text


def test_a_numeric_header_wraps_at_its_spaces_before_text_folds():
    """A numeric column was as wide as its header line: "self-hosted or hybrid" held 21 columns over "$2,763.49"."""
    columns = [grid.Column("stack"), grid.Column("self-hosted or hybrid", "right", numeric=True), grid.Column("note")]
    widths = grid.column_widths(columns, [["dev", "$2,763.49", "a note"]], 30)
    assert widths[1] == len("self-hosted") and widths[0] == len("stack")


def test_a_word_wider_than_its_column_folds_and_line_breaks_stay():
    assert grid.wrap("aaaaaaaaaaaa bb", 5) == ("aaaaa", "aaaaa", "aa bb")
    assert grid.wrap("  lead\nsecond", 10) == ("  lead", "second")
    assert grid.wrap("hello   world this", 10) == ("hello", "world this")


def test_cells_are_inert():
    text = grid.render("t\x1b[2J", [grid.Column("a")], [["x\x1b]0;owned\x07"]], 40)
    assert "\x1b" not in text and "\\x1b" in text


def test_the_tree_keeps_its_guides_when_the_type_folds():
    cell = folded("│  ├─ ", "kubernetes:storage.k8s.io/v1:StorageClass", 20, height=4)
    # folded under its own guide, then the guide carried down to the row's height (another cell wrapped)
    assert cell.split("\n") == ["│  ├─ kubernetes:sto", "│  │  rage.k8s.io/v1", "│  │  :StorageClass", "│  │"]
    assert folded("└─ ", "aws:iam/role:Role", 40, height=2) == "└─ aws:iam/role:Role\n"


@pytest.mark.parametrize("columns", ["80", "100", "120", None])
def test_inventory_fits_the_width(columns):
    """The old inventory table was always 200 columns wide, piped or not."""
    text = invoke("inventory", "prod-global", columns=columns)
    assert widest(text.split("Resources:")[0]) <= int(columns or width.PIPED_WIDTH)
    rows = [line for line in text.splitlines() if line.startswith("│ + │")]
    assert len(rows) == int(re.search(r"(\d+) resources planned", text).group(1)) + 1  # the stack row too
    assert all(region in text for region in ("us-east-1", "eu-central-1", "ap-northeast-1"))


@pytest.mark.parametrize("columns", ["100", "120", None])
def test_prices_show_fits_the_width_and_keeps_every_price_whole(columns):
    """The old price table was 200 columns wide whatever the terminal."""
    text = invoke("prices", "show", "--region", "eu-central-1", columns=columns)
    assert widest(text) <= int(columns or width.PIPED_WIDTH)
    catalog = default_catalog()
    for name in catalog.data["instances"]["eu-central-1"]:
        price = f"{catalog.instance('eu-central-1', name, 'on-demand').usd_per_hour:.6g}"
        assert any(f" {price} │" in line for line in text.splitlines()), (name, price)


def test_prices_show_at_80_columns_grows_rather_than_split_a_price():
    text = invoke("prices", "show", "--region", "eu-central-1", columns="80")
    catalog = default_catalog()
    for name in catalog.data["instances"]["eu-central-1"]:
        price = f"{catalog.instance('eu-central-1', name, 'on-demand').usd_per_hour:.6g}"
        assert any(f" {price} │" in line for line in text.splitlines()), (name, price)


@pytest.mark.parametrize("columns", ["80", "100", "120", None])
def test_validate_fits_the_width_and_never_truncates(columns):
    """Piped, validate used rich's 80 columns and cut regions to `eu-centr…`; now the one rule (100 piped)."""
    text = invoke("validate", "prod-global", columns=columns)
    table = text.split("model:")[0]
    assert widest(table) <= int(columns or width.PIPED_WIDTH)
    assert "…" not in text
    for counts in ("2/2/23", "8/92", "2/22", "2/2/17", "8/68", "1/1/8"):  # nodes, GPUs, replicas: whole on their row
        assert re.search(rf"│ +{re.escape(counts)} │", table), counts
    if columns != "80":
        assert all(region in table for region in ("us-east-1", "eu-central-1", "ap-northeast-1"))


def test_a_name_column_at_its_floor_does_not_stop_the_others_from_folding():
    """The shrink stopped as soon as the widest text column was at its floor (a name kept whole): the other
    text columns kept their width and the names were folded instead (`eu-centr` / `al-1`, `vantage-rese` /
    `rved` in `prices show` at 100 columns)."""
    columns = [grid.Column("region"), grid.Column("instance type"), grid.Column("$/h", "right", numeric=True),
               grid.Column("basis"), grid.Column("source"), grid.Column("date"), grid.Column("conf."),
               grid.Column("derivation / spot")]
    rows = [["eu-central-1", "g5.12xlarge", "4.46848", "source", "vantage-reserved", "2026-01-21", "A", ""]]
    text = grid.render("", columns, rows, 100)
    assert widest(text) <= 100
    for word in ("eu-central-1", "g5.12xlarge", "vantage-reserved", "2026-01-21", "conf."):
        assert word in text, word


def test_a_date_is_never_folded():
    columns = [grid.Column("what"), grid.Column("date")]
    rows = [["a sentence long enough to be folded over several lines", "undated snapshot, after 2025-06-01"]]
    assert "2025-06-01" in grid.render("", columns, rows, 40)


def test_a_table_handed_to_a_rich_console_prints_as_drawn():
    """`fitted_table` used to return a rich Table that callers `console.print`; it returns text now, and text
    handed to `console.print` must not be read as markup (`[red]` in a stack name) nor re-wrapped."""
    table = grid.render("title [bold]x[/bold]", COLUMNS, [["[red]not markup[/red]", "y", "$1.00", "2"]], 60)
    buffer = io.StringIO()
    Console(file=buffer, width=30, color_system=None).print(table, crop=False)
    assert buffer.getvalue() == table


def _too_wide(text: str, columns: int) -> list[str]:
    """The lines wider than `columns` that are more than one unbreakable token (a pin, a path)."""
    return [line for line in text.splitlines() if len(line.rstrip()) > columns and len(line.split()) > 1]


STACK_ARGS = [("--all",), *((path.name.removeprefix("Pulumi.").removesuffix(".yaml"),)
                            for path in sorted((ROOT / "stacks").glob("Pulumi.*.yaml")))]


@pytest.mark.parametrize("columns", ["100", "120"])
@pytest.mark.parametrize("args", STACK_ARGS, ids=lambda a: a[0])
def test_validate_text_lines_fit_the_width_too(args, columns):
    """The table fitted, but piped the `pin ...` lines and the warnings ran to 426 columns (soft-wrapped): now
    every line is wrapped by the one rule (a hanging indent, never a word split)."""
    text = invoke("validate", *args, columns=columns)
    assert _too_wide(text, int(columns)) == []
    assert "vllm/vllm-openai:v0.31.0@sha256:" in text  # the pin's image whole on a line
    assert re.search(r"^  \S", text, re.M)  # a continuation hangs under its line's text


def test_validate_problems_fit_the_width(tmp_path):
    """The problems of an invalid stack (stderr) follow the same rule."""
    stack = tmp_path / ("a-folder-name-long-enough-to-make-the-header-line-wide-" * 2) / "Pulumi.bad.yaml"
    stack.parent.mkdir()
    stack.write_text((ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
                     .replace("instanceType: g6.xlarge", "instanceType: g6.xlarg")
                     .replace("maxModelLen: 8192", "maxModelLen: 8192\n    madeUpKeyWithALongName: 1"))
    result = runner.invoke(app, ["validate", str(stack)], env={"TRADEOFF_INFRA_ROOT": str(ROOT), "COLUMNS": "100"})
    assert result.exit_code == 2, result.output
    assert "g6.xlarge" in result.stderr and "is invalid" in result.stderr
    assert _too_wide(result.stderr, 100) == []


def test_validate_problems_fit_the_terminal_that_shows_them(tmp_path):
    """`validate bad.yaml > out.txt` on a 40-column terminal: the problems go to stderr, the terminal, but were
    wrapped to the width of stdout's terminal (fd 1, a file here: 100 columns), so the terminal soft-wrapped them."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text('config:\n  tradeoff-infra:model:\n    name: "has spaces in a served model name that is long"\n')
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 40, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"TRADEOFF_INFRA_ROOT": str(ROOT)}
    with open(tmp_path / "out.txt", "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "cli.main", "validate", str(bad)], stdout=out, stderr=follower,
                                stdin=subprocess.DEVNULL, env=env, cwd=ROOT)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower closed: all read
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 2
    text = re.sub(r"\x1b\[[0-9;]*m", "", shown.decode())
    assert "model.name" in text
    # a word is never split: the tmp path, wider than 40, keeps a line of its own
    assert all(grid.cells(line) <= 40 or len(line.split()) == 1 for line in text.splitlines()), text


_MONEY = re.compile(r"\$\d{1,3}(?:,\d{3})*(?:\.\d+)?")


def _money_split(text: str) -> list[str]:
    """The `$` amounts that are not whole (`$19,1` over `55.23`, a `$` alone at the end of a cell's line)."""
    bad = []
    for line in text.splitlines():
        for cell in re.split(r"[│┃]", line):
            if cell.rstrip().endswith("$"):
                bad.append(line)
            for digits in re.findall(r"\$([\d,.]+)", cell):
                if not _MONEY.fullmatch("$" + digits.rstrip(",.")):
                    bad.append(f"${digits} in {line!r}")
    return bad


@pytest.mark.parametrize("args", STACK_ARGS, ids=lambda a: a[0])
def test_estimate_tables_fit_80_columns_and_keep_every_amount_whole(args):
    """At COLUMNS=80 the `--all` summary was 93 wide and every stack's capacity table 91: numeric columns are never
    wrapped, so the table grew. A numeric header now wraps at its spaces, and a table that still does not fit folds
    its columns into several tables: every line fits, no number is split."""
    text = invoke("estimate", *args, "--format", "table", columns="80")
    assert widest(text) <= 80, [line for line in text.splitlines() if len(line.rstrip()) > 80][:5]
    assert _money_split(text) == []
    assert re.search(r"\$\d", text)


@pytest.mark.parametrize("columns", ["100", "80"])
@pytest.mark.parametrize("args", STACK_ARGS, ids=lambda a: a[0])
def test_fields_all_fits_the_width(args, columns):
    """`--fields all` drew nine columns 137 wide at any width (the terminal wrapped every line): the line items fold
    into several tables that fit, each naming its rows by region and resource, every column still shown."""
    text = invoke("estimate", *args, "--fields", "all", columns=columns)
    assert widest(text) <= int(columns), [line for line in text.splitlines() if len(line.rstrip()) > int(columns)][:5]
    assert _money_split(text) == []
    items = text.split("line items (monthly, expected)")
    assert len(items) > 2  # the table and its continuation(s), per stack
    for header in ("category", "quantity", "unit price", "monthly", "min..max", "price source"):
        assert re.search(rf"┃ +{re.escape(header)} +┃", text), header
    for part in items[1:]:
        head = next(line for line in part.splitlines() if line.startswith("┃") and line.strip("┃ "))
        assert re.match(r"┃ region +┃ resource +┃", head), head  # each part names its rows


def _logical(lines: list[str]) -> list[str]:
    """Lines wrapped by `grid.hang` joined again: a continuation is indented two more than its line's text."""
    out: list[str] = []
    for line in lines:
        lead = len(line) - len(line.lstrip(" "))
        if out and lead >= len(out[-1]) - len(out[-1].lstrip(" ")) + 2:
            out[-1] += " " + line.strip()
        else:
            out.append(line)
    return out


SHIPPED = [args[0] for args in STACK_ARGS if args[0] != "--all"]


@pytest.mark.parametrize("columns", ["80", "100"])
@pytest.mark.parametrize("stack", SHIPPED)
def test_recommend_text_fits_the_width_and_keeps_every_number_whole(stack, columns):
    """At COLUMNS=80 `recommend prod-us` printed 38 lines over 80: a 110-wide options table, notes of 300+
    characters and the `rejected:` lines. The options are a table by the one column rule (folded into parts that
    each name their rows by rank and region), the notes and the rejections wrapped with a hanging indent; the verdict
    stays first and no number or `$` amount is split."""
    import json

    text = invoke("recommend", stack, columns=columns)
    doc = json.loads(invoke("recommend", stack, "--format", "json", columns=columns))
    assert widest(text) <= int(columns), [line for line in text.splitlines() if len(line.rstrip()) > int(columns)][:5]
    assert _money_split(text) == []
    assert text.splitlines()[1].startswith("Recommended: ") or text.splitlines()[1].startswith("No fleet")
    for o in doc["options"]:  # every option's figures whole, on a line of the table
        assert re.search(rf"│ +{re.escape('$' + format(round(o['monthlyUsd']), ','))}\*? │", text), o["monthlyUsd"]
        if o["perMillionTokensUsd"] is not None:
            assert re.search(rf"│ +{o['perMillionTokensUsd']:.3f} │", text), o["perMillionTokensUsd"]
        for pools in o["fleet"].values():
            for p in pools:
                if p["headroomAtPeak"] is not None:
                    assert re.search(rf"│ +{re.escape(format(p['headroomAtPeak'], '+.0%'))} │", text)
    rejected = "\n".join(_logical(text.split("\nrejected:\n", 1)[1].splitlines())) if doc["rejected"] else ""
    for r in doc["rejected"]:  # every rejected type named, with its regions
        assert re.search(rf"(^  |, ){re.escape(r['instanceType'])}(,|:) .*\b{re.escape(r['region'])}\b", rejected,
                         re.M), r


def test_rejected_types_that_share_a_reason_and_regions_are_one_line():
    """The six g7 sizes each said `no sourced throughput figures for its RTX PRO 4500 GPU (us-east-1, us-west-2)` on a
    line of their own: types with the same reason in the same regions are one line naming each of them (in size
    order); a type rejected for another reason, or in other regions, keeps its own line."""
    from cli.recommend.render import table

    reason = "no sourced throughput figures for its RTX PRO 4500 GPU"
    sizes = ["g7.2xlarge", "g7.4xlarge", "g7.8xlarge", "g7.12xlarge", "g7.24xlarge", "g7.48xlarge"]
    rejected = [{"instanceType": name, "region": region, "kind": "no-figures", "reason": reason}
                for name in reversed(sizes) for region in ("us-east-1", "us-west-2")]
    rejected += [{"instanceType": "g7e.24xlarge", "region": "us-east-1", "kind": "no-figures", "reason": reason},
                 {"instanceType": "p5.48xlarge", "region": "us-east-1", "kind": "over-budget",
                  "reason": "over budget: its cheapest fleet costs $58,460, budget.monthlyUsd is $40,000"},
                 {"instanceType": "p5.48xlarge", "region": "us-west-2", "kind": "over-budget",
                  "reason": "over budget: its cheapest fleet costs $63,123, budget.monthlyUsd is $40,000"}]
    doc = {"stack": "prod-us", "options": [], "notes": [], "rejected": rejected, "stackFleetMonthlyUsd": 1.0,
           "budgetMonthlyUsd": 40000, "targets": {"tpotMs": 50, "ttftMs": 1500}, "searched": 1, "hybrid": False}
    lines = _logical(table(doc).split("\nrejected:\n", 1)[1].splitlines())
    assert f"  {', '.join(sizes)}: {reason} (us-east-1, us-west-2)" in lines, lines
    assert f"  g7e.24xlarge: {reason} (us-east-1)" in lines
    assert sum("p5.48xlarge" in line for line in lines) == 2  # two reasons: two lines
    assert len(lines) == 4


@pytest.mark.parametrize("columns", ["80", "100"])
@pytest.mark.parametrize("stack", SHIPPED)
def test_inventory_text_under_the_table_fits_the_width(stack, columns):
    """The table fitted, but the reachability lines under it ran to 140 columns at COLUMNS=80: they are wrapped by
    the same rule (a hanging indent, an address never split)."""
    text = invoke("inventory", stack, columns=columns)
    assert widest(text) <= int(columns), [line for line in text.splitlines() if len(line.rstrip()) > int(columns)][:5]
    tail = _logical(text.rsplit("┘\n", 1)[1].splitlines())
    assert any(re.match(r"[a-z]+-[a-z]+-\d: VPC \d+\.\d+\.\d+\.\d+/\d+; ", line) for line in tail), tail


def test_a_fold_that_cannot_fit_draws_each_part_once_wider_than_asked():
    """With two key columns (region, resource) a part of a folded table is three columns; when even that part is
    wider than the width (a long resource name at COLUMNS=40, here 30), `render` folded the part again into the same part,
    forever: `estimate --fields all` at COLUMNS=40 ended in a RecursionError traceback. The part is drawn once, as
    narrow as it goes, every row and column once."""
    columns = [grid.Column("region"), grid.Column("resource"), grid.Column("monthly", "right", numeric=True),
               grid.Column("source")]
    rows = [["ap-southeast-2", "aws:eks/nodeGroup:NodeGroup-gpu-pool", "$12,345.67", "AWS bulk 2025-06-01"],
            ["us-east-1", "aws:ec2/natGateway:NatGateway", "$32.85", "AWS bulk 2025-06-01"]]
    text = grid.render("line items", columns, rows, 30, keys=(0, 1))
    assert "line items (continued)" in text
    for row in rows:
        for cell in row[2:]:
            assert text.count(cell.split()[0]) >= 1
    assert text.count("$12,345.67") == 1 and text.count("$32.85") == 1
    assert _money_split(text) == []


def test_fields_all_at_40_columns_is_no_traceback():
    """The command behind the test above: exit 0 and every line item priced."""
    text = invoke("estimate", "dev", "--fields", "all", columns="40")
    assert "line items (monthly, expected) (continued)" in text and _money_split(text) == []


def test_a_command_in_backticks_is_not_split_from_its_argument():
    """`recommend prod-us` at COLUMNS=80 (and 200) printed "`--capacity-types" at the end of one line and its value
    on the next: copied into a shell, the flag runs without its list. A backtick span that fits the width keeps its
    words on one line; one wider than the width still wraps at its spaces (nothing is lost)."""
    note = ("a reclaim wave can take a region's whole fleet down; `--capacity-types "
            "on-demand,reserved-1y,on-demand+spot,reserved-1y+spot` keeps a floor (a floor pool with a spot burst)")
    span = len("`--capacity-types on-demand,reserved-1y,on-demand+spot,reserved-1y+spot`")
    for width in range(60, 140):
        lines = grid.hang(note, width)
        assert " ".join(line.strip() for line in lines) == note
        assert all(len(line) <= width for line in lines), (width, lines)
        kept = any("`--capacity-types on-demand," in line for line in lines)
        assert kept == (width >= span + 2), (width, lines)  # whole wherever a continuation line holds it
    wide = "see `" + " ".join(["word"] * 30) + "` here"
    assert " ".join(line.strip() for line in grid.hang(wide, 40)) == wide
    assert all(len(line) <= 40 for line in grid.hang(wide, 40))
    for columns in ("80", "200"):
        text = invoke("recommend", "prod-us", columns=columns)
        assert "--capacity-types" in text and not re.search(r"`--capacity-types *\n", text), columns


def test_grouped_rejected_types_are_in_size_order():
    """`recommend hybrid` grouped `g5.2xlarge, g5.4xlarge, g5.8xlarge, g5.xlarge` (and `g6.2xlarge, g6.4xlarge,
    g6.xlarge`): the digits compared as numbers, but `xlarge` sorted after `8xlarge`. Size order is large, xlarge,
    2xlarge ... 48xlarge, metal, in a line and between lines."""
    from cli.recommend.render import markdown_report, table

    reason = "no FP8 tensor cores on its A10G"
    names = ["g5.8xlarge", "g5.xlarge", "g5.metal", "g5.2xlarge", "g5.4xlarge", "g5.large"]
    rejected = [{"instanceType": n, "region": "us-east-1", "kind": "no-fp8", "reason": reason} for n in names]
    rejected += [{"instanceType": n, "region": "us-east-1", "kind": "over-budget", "reason": "over budget"}
                 for n in ("g5.12xlarge",)]
    doc = {"stack": "s", "options": [], "notes": [], "rejected": rejected, "stackFleetMonthlyUsd": 1.0,
           "budgetMonthlyUsd": 40000, "targets": {"tpotMs": 50, "ttftMs": 1500}, "searched": 1, "hybrid": False}
    order = "g5.large, g5.xlarge, g5.2xlarge, g5.4xlarge, g5.8xlarge, g5.metal"
    lines = _logical(table(doc, width=200).split("\nrejected:\n", 1)[1].splitlines())
    assert lines[0] == f"  {order}: {reason} (us-east-1)", lines
    assert f"- {order}: {reason} (us-east-1)" in markdown_report(doc)


@pytest.mark.parametrize("columns", ["²", "١٢٠", "-5", "0", "wide"])
def test_a_columns_value_that_is_not_a_plain_whole_number_is_ignored(monkeypatch, columns):
    """`COLUMNS=²` passed `str.isdigit` and then crashed `int` (a traceback on every command that prints); a value
    that is not ASCII digits is ignored like any other unusable `COLUMNS` (the terminal, else 100)."""
    monkeypatch.setenv("COLUMNS", columns)
    assert width.output_width(False) == width.PIPED_WIDTH
    assert width.message_width(False) is None
