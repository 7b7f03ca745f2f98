"""A recommendation as the JSON contract (issue 15), and as plain-text tables or markdown made from it.

Contract: `{"stack", "options": [{"rank", "monthlyUsd", "perMillionTokensUsd", "feasible", "apiShare",
"fleet": {"<region>": [{"instanceType", "tensorParallel", "quantization", "capacityType", "minNodes",
"maxNodes"}]}}], "rejected": [{"instanceType", "region", "reason"}]}`, options sorted by monthlyUsd; a mixed region
lists its floor pool, then its spot pool. Beyond it: per option `precision`, `exact` (the program ran for it),
`whyNotFeasible`, `reservationCarriedMonthlyUsd` and `notes` (a reservation of the stack the written file no
longer names, still billed less the on-demand hours it covers; reserved-1y nodes it adds, a new 1-year
commitment; regions it runs on spot alone where the stack keeps a non-spot floor, `search.floorless_spot_note`);
per pool the replicas, expected nodes, batch, TPOT and TTFT at the planned batch and the headroom against the peak;
per option `quotas`, the EC2 vCPU quotas its fleet (system nodes included) counts against per region, in the
shape of the estimate's (cli/quotas.py on the spec `--write` writes); per rejection its `kind`; and the stack's own
fleet's cost (`stackFleetMonthlyUsd`), its quotas (`stackQuotas`), the base, the budget and what was searched; top-level `notes` (the hybrid split, an assumed gateway, a stack fleet that cannot carry its traffic).
"""

from __future__ import annotations

import re
from collections import defaultdict

from cli.recommend import Recommendation
from cli.recommend.search import PRECISIONS, Option
from cli.render.safe import clean, markdown

VERSION = 1


def _quantization(option: Option, rec: Recommendation) -> str | None:
    spec = rec.result.spec
    if option.precision in PRECISIONS and option.precision != _own(rec):
        return PRECISIONS[option.precision]["quantization"]
    return spec.model.quantization


def _own(rec: Recommendation) -> str:
    from cli.recommend.search import precision_of

    return precision_of(rec.result.spec)


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _quotas(needs: dict) -> dict[str, list[dict]]:
    return {region: [need.document() for need in by_region] for region, by_region in needs.items()}


def contract(rec: Recommendation) -> dict:
    from cli.recommend import quota_needs
    from cli.recommend.search import floorless_spot_note

    spec = rec.result.spec
    options = []
    for rank, option in enumerate(rec.options, start=1):
        monthly = option.monthly_usd
        fleet: dict[str, list[dict]] = {}
        for c in option.regions:
            for pool in c.pools:  # a mixed region: its floor pool, then its spot pool (the order the planner fills)
                fleet.setdefault(c.region, []).append({
                    "instanceType": c.instance_type, "tensorParallel": option.tensor_parallel,
                    "quantization": _quantization(option, rec), "capacityType": pool.capacity_type,
                    "minNodes": pool.min_nodes, "maxNodes": pool.max_nodes,
                    "minReplicas": c.min_replicas, "maxReplicas": c.max_replicas,
                    "expectedNodes": _r(pool.expected_nodes, 4), "fleetMonthlyUsd": _r(pool.usd),
                    "outputTokensPerSecondPerReplica": _r(c.throughput.planning_tokens_per_second, 1),
                    "plannedBatch": c.batch, "tpotMsAtPlannedBatch": _r(c.tpot_ms, 1),
                    "ttftMsAtPlannedBatch": _r(c.ttft_ms, 1), "headroomAtPeak": _r(c.headroom, 4),
                    "measuredThroughput": c.measured,
                })
        options.append({
            "rank": rank, "monthlyUsd": _r(monthly), "perMillionTokensUsd": _r(monthly / rec.tokens_per_month * 1e6, 4)
            if monthly is not None and rec.tokens_per_month else None,
            "feasible": option.feasible, "whyNotFeasible": option.why_not, "apiShare": option.api_share,
            "precision": option.precision, "exact": option.exact, "fleet": fleet,
            "reservationCarriedMonthlyUsd": _r(option.carried_usd),
            "notes": option.notes + [note for note in (floorless_spot_note(spec, option),) if note],
            "quotas": _quotas(quota_needs(spec, option)),
        })
    return {
        "version": VERSION, "stack": rec.stack, "options": options,
        "rejected": [{"instanceType": r.instance_type, "region": r.region, "kind": r.kind, "reason": r.reason}
                     for r in rec.rejected],
        "stackFleetMonthlyUsd": _r(rec.stack_fleet_usd), "baseMonthlyUsd": _r(rec.base_usd),
        "budgetMonthlyUsd": spec.budget.monthly_usd if spec.budget else None,
        "targets": {"tpotMs": spec.traffic.tpot_target_ms, "ttftMs": spec.traffic.ttft_target_ms},
        "searched": rec.result.searched,
        "stackQuotas": _quotas(quota_needs(spec)),
        "hybrid": rec.hybrid,
        "notes": notes(rec),
    }


def notes(rec: Recommendation) -> list[str]:
    """What the reader must know about this search that the options do not say."""
    out = []
    if rec.hybrid:
        out.append("hybrid split searched (docs/recommend.md \"Hybrid\"): each fleet is sized for the self-hosted "
                   "routes and capped per region at its cheapest maxReplicas, the excess of overflow-enabled routes at "
                   "their overflowTo offer (restricted routes never overflow); monthly costs include the API spend "
                   "(apiShare: share of the tokens APIs serve); the stack's own fleet is its split as configured")
    if rec.own_queued:
        where = ", ".join(f"{region} {share:.0%}" for region, share in rec.own_queued.items())
        out.append(f"the stack's own fleet cannot carry the traffic: its maxReplicas/maxNodes leave a share of the "
                   f"output tokens queued ({where}), so stackFleetMonthlyUsd is the cost of that capped fleet, not of "
                   "one that serves the traffic the options are sized for")
    if rec.assumed_gateway:
        out.append("--hybrid: the stack has no gateway; one general route was assumed, all requests, overflowing to "
                   "the cheapest apiComparison offer (add a gateway block to deploy it: docs/hybrid.md)")
    return out


def _pool(p: dict, precision: str, hybrid: bool = False) -> str:
    cap = f" cap {p['maxReplicas']}" if hybrid else ""
    return (f"{p['instanceType']} {p['capacityType']} x{p['minNodes']}-{p['maxNodes']}{cap} "
            f"(TP{p['tensorParallel']}, {precision})")


def _fits(option: dict, hybrid: bool) -> str:
    fits = "yes" if option["feasible"] else "no"
    return f"{fits}, API {option['apiShare']:.1%}" if hybrid else fits


def _per_million(option: dict) -> str:
    return "-" if option["perMillionTokensUsd"] is None else f"{option['perMillionTokensUsd']:.3f}"


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.0f}"


_SMALL_SIZES = {"nano": 1, "micro": 2, "small": 3, "medium": 4, "large": 5}


def _natural(name: str) -> list:
    """Size order: the family's digits compared as numbers (`g5` before `g5g`, `p4d` before `p5`), then the size,
    `large` < `xlarge` < `2xlarge` < `12xlarge` < `metal` (a bare `xlarge` is one `xlarge`, not after `8xlarge`)."""
    family, _, size = name.partition(".")
    multiple = re.fullmatch(r"(\d*)xlarge", size)
    rank = 8 * int(multiple[1] or 1) if multiple else _SMALL_SIZES.get(size, 10**6)
    return [[int(part) if part.isdigit() else part for part in re.split(r"(\d+)", family)], rank, size]


def _grouped_rejections(doc: dict) -> list[tuple[str, str, str]]:
    """(instance types, kind, 'reason (regions)'): each instance type's regions gathered under one reason, then the
    instance types that share the reason and the regions on one line (`g7.2xlarge, g7.4xlarge: no sourced
    throughput figures ...`), every type named, in size order."""
    by: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for r in doc["rejected"]:
        reason = r["reason"].replace(r["region"], "REGION") if r["kind"] == "not-offered" else r["reason"]
        by[(r["instanceType"], r["kind"], reason)].append(r["region"])
    shared: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (name, kind, reason), regions in sorted(by.items()):
        shared[(kind, f"{reason} ({', '.join(regions)})")].append(name)
    lines = [(", ".join(sorted(names, key=_natural)), kind, reason) for (kind, reason), names in shared.items()]
    return sorted(lines, key=lambda line: _natural(line[0].split(",")[0]))


def _option_notes(doc: dict) -> list[tuple[str, str]]:
    """("rank 1" or "ranks 1, 2, 3", note): the options' notes, each text once with the ranks that carry it."""
    by: dict[str, list[int]] = {}
    for o in doc["options"]:
        for note in o.get("notes", []):
            by.setdefault(note, []).append(o["rank"])
    return [(f"rank{'s' if len(ranks) > 1 else ''} {', '.join(map(str, ranks))}", note) for note, ranks in by.items()]


def quota_line(doc: dict) -> str | None:
    """The EC2 vCPU quotas the winner needs at max size, per region, as one line; a quota the stack's own fleet does
    not count against in that region (a new family or purchase option) is marked new: it is the one most likely
    still at its default."""
    if not doc["options"] or not doc["options"][0].get("quotas"):
        return None
    best, own = doc["options"][0], doc.get("stackQuotas") or {}
    regions, new = [], False
    for region, needs in best["quotas"].items():
        used = {(q["quotaName"], q["purchaseOption"]) for q in own.get(region, [])}
        parts = []
        for i, q in enumerate(needs):
            code = q["quotaCode"] or "no code sourced"
            fresh = (q["quotaName"], q["purchaseOption"]) not in used
            new = new or fresh
            parts.append(f"{q['vcpusAtMaxSize']:,}{' vCPUs' if not i else ''} of '{q['quotaName']}' ({code}"
                         f"{'; new' if fresh else ''})")
        regions.append(f"{region} {', '.join(parts)}")
    why = ("; new: the stack's own fleet does not count against it there, so it is the quota most likely still at "
           "its default" if new else "")
    return (f"rank {best['rank']} needs, at max size: {'; '.join(regions)}{why}; check them before --write "
            "(docs/operations.md \"Service quotas\", the JSON's quotas for min size and node updates)")


def _summary(doc: dict) -> list[str]:
    lines = []
    if not doc["options"]:
        lines.append("No fleet meets the targets in every region (see the rejected instance types).")
        return lines + [f"Note: {note}" for note in doc["notes"]]
    best = doc["options"][0]
    own = doc["stackFleetMonthlyUsd"]
    saving = own - best["monthlyUsd"] if own is not None else None
    per_million = best["perMillionTokensUsd"]
    per_million = "no tokens" if per_million is None else f"${per_million:,.2f} per 1M tokens"
    lines.append(f"Recommended: {_money(best['monthlyUsd'])}/month ({per_million}), "
                 f"{'within' if best['feasible'] else 'NOT within'} budget {_money(doc['budgetMonthlyUsd'])}; "
                 f"the stack's own fleet: {_money(own)}/month"
                 + (f" ({_money(saving)} more)" if saving and saving > 0.005 else ""))
    lines.append(f"Targets: TPOT {doc['targets']['tpotMs']} ms, TTFT {doc['targets']['ttftMs']} ms; "
                 f"{doc['searched']:,} region choices priced.")
    lines += [f"Note: {note}" for note in doc["notes"]]
    return lines


COLUMNS = (("rank", "right", True), ("monthly", "right", True), ("$/1M tok", "right", True), ("fits", "left", False),
           ("region", "left", False), ("pool", "left", False), ("batch", "right", True), ("TPOT ms", "right", True),
           ("TTFT ms", "right", True), ("headroom", "right", True))
KEYS = (0, 4)
"""What names a row (its rank and region): repeated in each part of a table folded to fit the width."""


def table(doc: dict, width: int = 100, styles: bool = False) -> str:
    """The recommendation as text `width` columns wide: the verdict first, the options as a table by the one column
    rule (cli/render/grid.py: a number never split, a table too wide folded into parts naming their rows by rank and
    region), the notes and the rejected instance types wrapped with a hanging indent (`grid.hang`)."""
    from cli.render import grid

    def fit(line: str) -> list[str]:
        return grid.hang(clean(line), width)

    out = [*fit(f"recommend {doc['stack']}"), *(piece for line in _summary(doc) for piece in fit(line)), ""]
    hybrid = doc.get("hybrid", False)
    rows = []
    for o in doc["options"]:
        first = True
        for region, pools in o["fleet"].items():
            for p in pools:
                head = [str(o["rank"]), _money(o["monthlyUsd"]) + ("" if o["exact"] else "*"),
                        _per_million(o), _fits(o, hybrid)] if first else ["", "", "", ""]
                headroom = "-" if p["headroomAtPeak"] is None else f"{p['headroomAtPeak']:+.0%}"
                rows.append([*head, region, _pool(p, o["precision"], hybrid), str(p["plannedBatch"]),
                             f"{p['tpotMsAtPlannedBatch']:.0f}", f"{p['ttftMsAtPlannedBatch']:.0f}", headroom])
                first = False
    text = "\n".join(out) + "\n"
    out = []
    if doc["options"]:
        columns = [grid.Column(h, justify, numeric) for h, justify, numeric in COLUMNS]
        text += grid.render("fleets, cheapest first", columns, rows, width, styles=styles, keys=KEYS)
        out += [piece for ranks, note in _option_notes(doc) for piece in fit(f"{ranks}: {note}")]
        out += [piece for line in (quota_line(doc),) if line for piece in fit(line)]
        if len(doc["options"]) > 1 and hybrid:
            out += fit("* its cheapest split on the stack's priced resources with this fleet swapped in: the program "
                       "ran for the winner only")
        elif len(doc["options"]) > 1:
            out += fit("* the winner's estimate less its fleet, plus this fleet: the program ran for the winner only")
    rejected = _grouped_rejections(doc)
    if rejected:
        out += ["", "rejected:"]
        out += [piece for names, _, reason in rejected for piece in fit(f"  {names}: {reason}")]
    return text + "".join(line + "\n" for line in out)


def markdown_report(doc: dict) -> str:
    out = [f"### recommend `{markdown(doc['stack'])}`", "", *(markdown(line) for line in _summary(doc)), ""]
    if doc["options"]:
        out += ["| rank | monthly | $/1M tokens | feasible | region | pool | batch | TPOT ms | TTFT ms | headroom at peak |",
                "| ---: | ---: | ---: | --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for o in doc["options"]:
        for region, pools in o["fleet"].items():
            for p in pools:
                headroom = "-" if p["headroomAtPeak"] is None else f"{p['headroomAtPeak']:+.0%}"
                out.append(f"| {o['rank']} | {_money(o['monthlyUsd'])} | {_per_million(o)} | "
                           f"{markdown(_fits(o, doc.get('hybrid', False)))} | {markdown(region)} | "
                           f"{markdown(_pool(p, o['precision'], doc.get('hybrid', False)))} | "
                           f"{p['plannedBatch']} | {p['tpotMsAtPlannedBatch']:.0f} | {p['ttftMsAtPlannedBatch']:.0f} | "
                           f"{headroom} |")
    notes = [f"- {ranks}: {markdown(note)}" for ranks, note in _option_notes(doc)]
    notes += [f"- {markdown(line)}" for line in (quota_line(doc),) if line]
    if notes:
        out += ["", *notes]
    rejected = _grouped_rejections(doc)
    if rejected:
        out += ["", "<details><summary>Rejected instance types</summary>", ""]
        out += [f"- {markdown(name)}: {markdown(reason)}" for name, _, reason in rejected]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"
