"""Print (or check) the error table of docs/capacity.md from tests/data/capacity_points.json.

    .venv/bin/python scripts/capacity_table.py           # print the table
    .venv/bin/python scripts/capacity_table.py --write   # rewrite it between the markers in docs/capacity.md
    .venv/bin/python scripts/capacity_table.py --check   # exit 1 when docs/capacity.md differs

The predictions come from `cli.capacity.published_point_prediction`, so the table is what the model says today.
"""

from __future__ import annotations

import json
import pathlib
import statistics
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cli import capacity  # noqa: E402

POINTS = ROOT / "tests" / "data" / "capacity_points.json"
DOC = ROOT / "docs" / "capacity.md"
BEGIN, END = "<!-- capacity-table:begin (scripts/capacity_table.py --write) -->", "<!-- capacity-table:end -->"


def load() -> dict:
    return json.loads(POINTS.read_text())


def rows(data: dict) -> list[dict]:
    out = []
    for p in data["points"]:
        predicted, batch = capacity.published_point_prediction(p)
        published = p["publishedOutputTokensPerSecond"]
        aic = p.get("aiconfiguratorOutputTokensPerSecond")
        out.append({**p, "predicted": predicted, "batch": batch, "error": predicted / published - 1,
                    "aicError": (aic / published - 1) if aic else None})
    return out


def table(data: dict) -> str:
    rs = rows(data)
    lines = ["| # | model | GPU x TP | precision (KV bytes) | in / out | batch | published | source | predicted | error | aiconfigurator | its error |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for i, r in enumerate(rs, 1):
        model = r["model"].split("/")[-1]
        aic = f"{r['aiconfiguratorOutputTokensPerSecond']:,}" if r["aicError"] is not None else "-"
        aic_err = f"{r['aicError']:+.0%}" if r["aicError"] is not None else "-"
        mark = "" if r.get("inFit", True) else " (not fitted)"
        lines.append(f"| {i}{mark} | {model} | {r['gpu']} x {r['tensorParallel']} | {r['precision'].upper()} ({r['kvCacheBytes']}) | "
                     f"{r['inputTokens']:,} / {r['outputTokens']:,} | {r['batch']} | {r['publishedOutputTokensPerSecond']:,} | "
                     f"[{r['source']}](#{r['source']}) | {r['predicted']:,.0f} | {r['error']:+.0%} | {aic} | {aic_err} |")
    errors = [abs(r["error"]) for r in rs]
    aic_errors = [abs(r["aicError"]) for r in rs if r["aicError"] is not None]
    worst = max(rs, key=lambda r: abs(r["error"]))
    v1 = [r for r in rs if data["sources"][r["source"]]["vllmV1"]]
    v1_worst = max(v1, key=lambda r: abs(r["error"]))
    v1_aic = [abs(r["aicError"]) for r in v1 if r["aicError"] is not None]
    fitted = [r for r in rs if r.get("inFit", True)]
    lines += ["", f"Points: {len(rs)} from {len({r['source'] for r in rs})} sources, {len(fitted)} of them in the fit. Step model: median absolute error "
              f"**{statistics.median(errors):.1%}**, worst **{max(errors):.1%}** ({worst['id']}). On the {len(v1)} vLLM V1 "
              f"(vLLM >= 0.8) points: median **{statistics.median(abs(r['error']) for r in v1):.1%}**, worst "
              f"**{abs(v1_worst['error']):.1%}** ({v1_worst['id']}). aiconfigurator-core 0.12.0 on the {len(aic_errors)} points "
              f"it was run on: median {statistics.median(aic_errors):.1%}, worst {max(aic_errors):.1%}"
              + (f"; on the vLLM V1 ones median {statistics.median(v1_aic):.1%}, worst {max(v1_aic):.1%}." if v1_aic else "."),
              "",
              "| source | engine | points | median abs. error | worst |", "|---|---|---|---|---|"]
    for source, meta in data["sources"].items():
        errs = [abs(r["error"]) for r in rs if r["source"] == source]
        lines.append(f"| [{source}](#{source}) | {meta['engine']} | {len(errs)} | {statistics.median(errs):.1%} | {max(errs):.1%} |")
    return "\n".join(lines)


def render_doc(text: str, data: dict) -> str:
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table(data)}\n{END}{tail}"


def main(argv: list[str]) -> int:
    data = load()
    if "--write" in argv:
        DOC.write_text(render_doc(DOC.read_text(), data))
        return 0
    if "--check" in argv:
        text = DOC.read_text()
        if render_doc(text, data) != text:
            print("docs/capacity.md's table is stale: run scripts/capacity_table.py --write", file=sys.stderr)
            return 1
        return 0
    print(table(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
