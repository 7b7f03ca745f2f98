"""The capacity model against published measurements (docs/capacity.md): the error bounds, the acceptance
points, the band the estimate carries, and the doc's table, all from tests/data/capacity_points.json."""

from __future__ import annotations

import itertools
import json
import statistics
import sys

import pytest

from cli import capacity
from tests import paths
from tests.paths import ROOT

DATA = json.loads((paths.DATA / "capacity_points.json").read_text())
POINTS = DATA["points"]
FITTED = [p for p in POINTS if p.get("inFit", True)]


def _errors(points):
    return {p["id"]: capacity.published_point_prediction(p)[0] / p["publishedOutputTokensPerSecond"] - 1 for p in points}


def test_the_table_has_enough_cited_points():
    assert len(POINTS) >= 10
    sources = {p["source"] for p in POINTS}
    assert len(sources) >= 4
    for s in sources:
        assert DATA["sources"][s]["url"].startswith("https://"), s
    assert {p["gpu"] for p in POINTS} >= {"H100", "H200", "A100-80GB", "L40S"}
    assert {p["precision"] for p in POINTS} == {"bf16", "fp8"}


def test_median_error_within_20_and_none_worse_than_40_percent():
    errors = _errors(POINTS)
    assert statistics.median(abs(e) for e in errors.values()) <= 0.20, errors
    assert max(abs(e) for e in errors.values()) <= 0.40, errors
    v1 = [abs(e) for p, e in zip(POINTS, errors.values()) if DATA["sources"][p["source"]]["vllmV1"]]
    stated = (f"over all {len(errors)} rows the error is {statistics.median(abs(e) for e in errors.values()):.1%} median / "
              f"{max(abs(e) for e in errors.values()):.0%} worst, on the {len(v1)} V1 rows "
              f"{statistics.median(v1):.1%} / {max(v1):.0%}").replace("%", " %")
    assert stated in " ".join((ROOT / "docs" / "capacity.md").read_text().split()), stated


@pytest.mark.parametrize("point_id", ["8b-fp8-h100-mlperf", "8b-fp8-l40s-mlperf", "70b-fp8-2xh100-nim",
                                      "70b-fp8-2xh100-trt-5000"])
def test_acceptance_points_within_30_percent(point_id):
    """Issue 11: 8B on H100 and on L40S, 70B on 2 x H100, within 30 % of the cited measurement."""
    assert abs(_errors(POINTS)[point_id]) <= 0.30


def _fit(points):
    best = None
    for grid in itertools.product(*capacity.FIT_GRID):
        with pytest.MonkeyPatch.context() as mp:
            for name, value in zip(("MEMORY_EFFICIENCY", "COMPUTE_EFFICIENCY", "STEP_OVERHEAD_S"), grid):
                mp.setattr(capacity, name, value)
            errors = [abs(e) for e in _errors(points).values()]
        score = statistics.median(errors) + max(errors) / 2
        if best is None or score < best[0]:
            best = (score, grid)
    return best[1]


def test_the_constants_are_the_fit_over_every_fitted_point():
    assert _fit(FITTED) == (capacity.MEMORY_EFFICIENCY, capacity.COMPUTE_EFFICIENCY, capacity.STEP_OVERHEAD_S)


def test_the_table_rests_on_current_vllm():
    """The model sizes vLLM serving: the table holds at least 8 points measured on vLLM's V1 engine (vLLM >= 0.8)
    from at least 3 sources, a 70B one among them, and meets the error bounds on them alone."""
    v1 = [p for p in POINTS if DATA["sources"][p["source"]]["vllmV1"]]
    assert len(v1) >= 8 and len({p["source"] for p in v1}) >= 3
    assert any("70B" in p["model"] for p in v1)
    errors = _errors(v1)
    assert statistics.median(abs(e) for e in errors.values()) <= 0.20, errors
    assert max(abs(e) for e in errors.values()) <= 0.40, errors


def test_a_row_left_out_of_the_fit_says_why():
    """A row is evaluated but not fitted (inFit false) only for a reason in the data, never for its outcome: an
    input length the source does not publish (`assumption`), or a configuration no stack can run (`off-path`).
    The docs state what the fit would be with them in; that sensitivity is reported, not used as a gate."""
    left_out = [p for p in POINTS if not p.get("inFit", True)]
    assert left_out, "no row is left out of the fit"
    assert all(p["inFitReason"].split(":")[0] in ("assumption", "off-path") for p in left_out), left_out
    doc = (ROOT / "docs" / "capacity.md").read_text()
    for p in left_out:
        assert f"#{POINTS.index(p) + 1}" in doc or f"#{POINTS.index(p) + 1}-" in doc, p["id"]
    # The doc's statement of the fit with every row in is the real fit over every row.
    every = _fit(POINTS)
    assert f"With all {len(POINTS)} rows in the fit it would be ({every[0]}, {every[1]})" in " ".join(doc.split()), every


def test_a_published_inter_token_rate_is_compared_with_the_decode_step_alone():
    """The vLLM blog's single-request figure is 1 / its fitted inter-token latency: decode only, the prompt's
    prefill (TTFT) is not in it. Its prediction leaves prefill out too (decodeOnly), else the table compares a
    decode rate with an end-to-end one and understates the miss (+3 % shown for +7 %)."""
    point = next(p for p in POINTS if p["id"] == "8b-bf16-h100-c1")
    assert point.get("decodeOnly") is True, "the 1 / ITL row must be marked decodeOnly"
    decode, batch = capacity.published_point_prediction(point)
    end_to_end, _ = capacity.published_point_prediction({**point, "decodeOnly": False})
    assert batch == 1 and decode > end_to_end
    assert decode / point["publishedOutputTokensPerSecond"] - 1 == pytest.approx(0.07, abs=0.01)


def test_the_doc_states_how_far_every_mlperf_server_run_sits_below_offline():
    """The MLPerf rows are Offline (saturated); each carries its system's Server run (per replica), and
    docs/capacity.md states the gap from all of them: it once gave 6-27 % leaving out Krai's pre-quantized H200
    run (2.6 % lower), and called #1's 11.7 % "10 %"."""
    mlperf = [p for p in POINTS if "mlperf" in p["source"]]
    assert len(mlperf) == 5 and all(p.get("serverOutputTokensPerSecond") for p in mlperf), mlperf
    gaps = {p["id"]: 1 - p["serverOutputTokensPerSecond"] / p["publishedOutputTokensPerSecond"] for p in mlperf}
    text = " ".join((ROOT / "docs" / "capacity.md").read_text().split())
    assert f"runs {round(100 * min(gaps.values()))}-{round(100 * max(gaps.values()))} % lower" in text, gaps
    assert f"the Server scenario's 5,103 is {round(100 * gaps['8b-fp8-h100-mlperf'])} % lower" in text


def test_the_band_covers_every_point_predicted_with_its_source_left_out():
    low, high = capacity.BAND_MEASURED_GPU
    ratios = []
    for source in sorted(DATA["sources"]):
        grid = _fit([p for p in FITTED if p["source"] != source])
        with pytest.MonkeyPatch.context() as mp:
            for name, value in zip(("MEMORY_EFFICIENCY", "COMPUTE_EFFICIENCY", "STEP_OVERHEAD_S"), grid):
                mp.setattr(capacity, name, value)
            ratios += [1 / (1 + e) for e in _errors([p for p in POINTS if p["source"] == source]).values()]
    assert low <= min(ratios) and max(ratios) <= high, (min(ratios), max(ratios))
    doc = " ".join((ROOT / "docs" / "capacity.md").read_text().split())
    assert f"lies between {min(ratios):.3f} and {max(ratios):.3f}" in doc, (min(ratios), max(ratios))
    out_of_source = [abs(1 / r - 1) for r in ratios]
    assert (f"median absolute error is {statistics.median(out_of_source):.1%} and the worst "
            f"{max(out_of_source):.0%}").replace("%", " %") in doc, out_of_source
    assert min(ratios) - low < 0.05 and high - max(ratios) < 0.05, "band wider than the table supports"
    assert capacity.BAND_ROOFLINE_ONLY[0] <= low and capacity.BAND_ROOFLINE_ONLY[1] >= high


def test_the_docs_state_the_bands_the_code_carries():
    """docs/capacity.md and docs/estimate.md give the band in words; both follow capacity.BAND_* (docs/estimate.md
    kept 0.80x after the band's low end moved to 0.85)."""
    (low, high), (rlow, rhigh) = capacity.BAND_MEASURED_GPU, capacity.BAND_ROOFLINE_ONLY
    estimate = " ".join((ROOT / "docs" / "estimate.md").read_text().split())
    assert f"= {low:.2f}x / {high:.2f}x the prediction" in estimate
    assert f"{rlow:.2f}x / {rhigh:.2f}x on the others" in estimate
    doc = " ".join((ROOT / "docs" / "capacity.md").read_text().split())
    assert f"**{low:.2f} x to {high:.2f} x** (`capacity.BAND_MEASURED_GPU`)" in doc
    assert f"**{rlow:.2f} x to {rhigh:.2f} x** (`BAND_ROOFLINE_ONLY`)" in doc


def test_measured_gpu_classes_are_those_of_the_table():
    measured = {p["gpu"] for p in POINTS}
    assert measured <= capacity.MEASURED_GPU_CLASSES
    assert capacity.MEASURED_GPU_CLASSES - measured == {"A100-40GB"}  # the same silicon as A100-80GB, less bandwidth


def test_docs_capacity_table_is_generated_from_the_points():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import capacity_table
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    text = (ROOT / "docs" / "capacity.md").read_text()
    assert capacity_table.render_doc(text, DATA) == text, "run scripts/capacity_table.py --write"
    for s, meta in DATA["sources"].items():
        assert meta["url"] in (ROOT / "docs" / "sources.md").read_text(), f"{s} not cited in docs/sources.md"
