"""Platform prices are dated by the newest reading that still prints them (docs/sources.md "Platform prices re-read").

Before: every platform price was dated by the commit or page it was first read from, so every shipped stack read
"AWS prices as of 2024-02-01 (... oldest price this stack uses: us-east-1 publicIpv4Hour)" although infracost's
goldens print the same prices at a 2026-08-21 commit.
"""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from typer.testing import CliRunner

from cli.main import app
from infra.price_catalog import default_catalog
from tests.paths import ROOT

SECTION = "### Platform prices re-read"


def _section() -> str:
    text = (ROOT / "docs" / "sources.md").read_text()
    assert SECTION in text
    rest = text.split(SECTION, 1)[1]
    return re.split(r"\n##+ ", rest, maxsplit=1)[0]


def _cited() -> dict[str, tuple[str, str]]:
    """source key -> (commit, date) of its "re-read unchanged at <commit> (<date>)" bullet."""
    cited = {}
    for bullet in _section().split("\n- ")[1:]:
        key = re.match(r"\*\*`([a-z0-9-]+)`\*\*", bullet)
        at = re.search(r"re-read unchanged at ([0-9a-f]{12,40}) \((\d{4}-\d{2}-\d{2})\)", bullet)
        if key and at:
            cited[key.group(1)] = at.groups()
    return cited


def _platform_entries():
    platform = default_catalog().data["platform"]
    yield from (("us-east-1", k, e) for k, e in platform["default"].items())
    for region, items in platform["regions"].items():
        yield from ((region, k, e) for k, e in items.items())


def test_every_entry_of_a_re_read_source_is_dated_by_the_commit_docs_cite():
    cited = _cited()
    assert {"infracost", "infracost-eks", "infracost-data-transfer", "infracost-s3", "aws-ipv4"} <= set(cited)
    sources = default_catalog().data["sources"]
    seen = set()
    for key, (commit, day) in cited.items():
        src = sources[key]
        assert src["date"] == day and src["firstRead"] < day, key
        assert commit[:12] in src["reread"] and day in src["reread"], key
    for region, name, entry in _platform_entries():
        if entry["source"] in cited:
            seen.add(entry["source"])
            assert entry["date"] == cited[entry["source"]][1], f"{region} {name}"
    assert seen == set(cited)  # each cited re-read dates at least one entry


def test_an_entry_confirmed_by_a_later_source_is_dated_by_it_and_keeps_its_first_reading():
    sources = default_catalog().data["sources"]
    confirmed = [(r, k, e) for r, k, e in _platform_entries() if "confirmedBy" in e]
    assert {(r, k) for r, k, _ in confirmed} == {("us-west-2", "natGatewayHour"), ("us-west-2", "albHour")}
    for region, name, entry in confirmed:
        later = sources[entry["confirmedBy"]]
        assert entry["date"] == later["date"] and entry["firstRead"] == sources[entry["source"]]["date"]
        assert entry["firstRead"] < entry["date"], f"{region} {name}"


# catalog key -> (quantity, the monthly cost the re-read golden prints for it): each re-dated value must still be
# the one that line prints (a re-date may never carry a changed price)
PRINTED = {
    "albHour": (730, "16.43"), "albLcuHour": (730, "5.84"), "nlbHour": (730, "16.43"), "nlbLcuHour": (730, "4.38"),
    "natGatewayHour": (730, "32.85"), "natGatewayPerGb": (1, "0.045"),
    "ebsGp3GbMonth": (40, "3.20"), "ebsGp3ThroughputMonth": (5, "0.20"), "ebsGp3IopsMonth": (1000, "5.00"),
    "ebsGp2GbMonth": (10, "1.00"), "cloudwatchLogsIngestedPerGb": (1, "0.50"), "cloudwatchLogsArchivedGbMonth": (1, "0.03"),
    "cloudwatchAlarmMonth": (1, "0.10"), "cloudwatchHighResAlarmMonth": (1, "0.30"),
    "eksClusterHour": (730, "73.00"), "eksClusterExtendedSupportHour": (730, "438.00"),
    "s3StandardGbMonth": (10000, "230.00"), "s3PutPer1000": (10, "0.05"), "s3GetPer1000": (1, "0.0004"),
    "publicIpv4Hour": (730, "3.65"),
}


@pytest.mark.parametrize("key", sorted(PRINTED))
def test_a_re_dated_price_is_the_one_the_re_read_line_prints(key):
    quantity, printed = PRINTED[key]
    entry = default_catalog().data["platform"]["default"][key]
    assert entry["source"] in _cited(), key
    cents = Decimal(printed).as_tuple().exponent
    assert (Decimal(entry["usd"]) * quantity).quantize(Decimal(1).scaleb(cents), ROUND_HALF_UP) == Decimal(printed)
    assert f"${printed}" in _section(), key


def test_a_us_east_1_stack_ages_from_its_instance_prices_not_from_a_first_reading():
    """dev runs in us-east-1 only: every platform price it uses is re-read at least as recently as its instance
    prices, so its price date is theirs and no platform item is named as the oldest."""
    result = CliRunner().invoke(app, ["estimate", "dev", "--format", "json", "--as-of", "2026-11-30"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    catalog = (doc["stacks"][0] if "stacks" in doc else doc)["priceCatalog"]
    assert catalog["oldestPriceItem"] is None, catalog
    assert catalog["oldestPriceUsed"] == catalog["instancePricesAsOf"] == default_catalog().retrieved_on
