"""`tradeoff-infra actuals STACK --since 30d`: what the running fleet really served and cost, from each region's
Prometheus, beside the estimate's prediction; `--write-calibration FILE` for `estimate --calibration`.
Exit 0 ok, 1 a Prometheus that did not answer, 2 bad input."""

from __future__ import annotations

import json
import pathlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Annotated

import typer
from rich.console import Console

from cli import cache
from cli.errors import CliError, failed, print_warnings, reported
from cli.output import refuse_input_as_out
from cli.path_options import path_option
from cli.render.safe import say
from cli.live.options import ContextOpt, KubeconfigOpt
from cli.stacks import OneStackArgument, OneStackOption, StacksDirOption, load_stacks, one_stack, project_root

app = typer.Typer(add_completion=False)
# How far past this machine's clock --until may be (clocks disagree a little; a window in the future does not).
CLOCK_SKEW = timedelta(minutes=5)


class Format(str, Enum):
    table = "table"
    json = "json"


EPILOG = """Examples:

  kubectl -n monitoring port-forward svc/kube-prometheus-stack-prometheus 9090 &
  tradeoff-infra actuals dev --since 30d --prometheus-url http://127.0.0.1:9090
  tradeoff-infra actuals prod-global --since 7d --prometheus-url us-east-1=http://127.0.0.1:9090 \\
      --prometheus-url eu-west-1=http://127.0.0.1:9091 --format json
  tradeoff-infra actuals dev --since 30d --kubeconfig ~/.kube/config --context dev-admin
  tradeoff-infra actuals dev --since 30d --prometheus-url http://127.0.0.1:9090 --write-calibration dev-cal.json
  tradeoff-infra estimate dev --calibration dev-cal.json

Exit codes: 0 ok, 1 a Prometheus or cluster did not answer, 2 bad input (a stack, an option, a URL)."""


@app.command("actuals", epilog=EPILOG)
@reported()
def actuals_command(
    stack: OneStackArgument = None,
    stack_option: OneStackOption = None,
    since: Annotated[str, typer.Option("--since", help="The window: this long before --until (30d, 12h, 2w).")] = "30d",
    until: Annotated[str | None, typer.Option("--until", help="End of the window, ISO date or time (default: now).")] = None,
    prometheus_url: Annotated[list[str] | None, typer.Option(
        "--prometheus-url", metavar="[REGION=]URL",
        help="Each region's Prometheus: one URL for a one-region stack, REGION=URL (repeatable) otherwise. Without "
             "it: each region's Prometheus through its cluster's API server (--kubeconfig, else the stack's outputs).")] = None,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    fmt: Annotated[Format, typer.Option("--format", help="table (default) or json.")] = Format.table,
    write_calibration: Annotated[pathlib.Path | None, path_option(
        "--write-calibration", metavar="FILE",
        help="Write the measured output tokens/s per replica, per pool, for `estimate --calibration FILE`.")] = None,
    stacks_dir: StacksDirOption = None,
) -> None:
    """From Prometheus: requests, tokens, latency, GPU utilisation and node-hours; the actual monthly cost and
    $/1M tokens, the same traffic on each API offer, and the estimate's prediction beside them."""
    from cli.live.prometheus import PrometheusError, parse_duration, parse_time, region_urls

    err = Console(stderr=True)
    try:
        try:
            now = datetime.now(tz=UTC).replace(microsecond=0)
            end = parse_time(until) if until else now
            start = end - parse_duration(since)
            if end > now + CLOCK_SKEW:  # the hours past now have no samples but would still divide the totals
                raise ValueError(f"--until {until!r} is in the future (now is {now.isoformat()}); leave it out for now")
        except ValueError as e:
            raise CliError(str(e)) from None
        refs = [one_stack(stack, stack_option, stacks_dir)]
        refuse_input_as_out(write_calibration, [("stack file", refs[0].path)])
        root = project_root()
        loaded = load_stacks(refs, root, as_of=end.date())[0]
        regions = [r.region for r in loaded.spec.regions]
        if prometheus_url:
            if kubeconfig is not None or context:
                raise CliError("--prometheus-url and --kubeconfig/--context are two ways to reach Prometheus: give one")
            try:
                urls = region_urls(prometheus_url, regions)
            except ValueError as e:
                raise CliError(str(e)) from None
            proms = None
        else:  # through each region's API server: the service proxy to the monitoring namespace's Prometheus
            from cli.live import kube
            from cli.live.prometheus_proxy import prometheus_via_api_server

            try:
                clusters = kube.clusters(loaded.spec, loaded.ref.name, root, kubeconfig, context)
            except CliError as e:
                if kubeconfig is None:
                    e.message += "; or give --prometheus-url (e.g. after `kubectl port-forward`)"
                raise
            proms = {region: prometheus_via_api_server(clusters[region].client) for region in regions}
        from cli.commands.estimate import estimate_stack
        from cli.estimate.prices import PriceBook
        from cli.live.actuals import actuals_document, calibration_pools, observed_traffic
        from cli.live.actuals_calibration import calibration_document
        from cli.live.prometheus import Prometheus
        from cli.live.prometheus_queries import measure
        from infra.price_catalog import default_catalog

        catalog = default_catalog()
        predicted = estimate_stack(loaded, root, catalog, end.date(), with_chart=False)
        try:
            measured = [measure(region, proms[region] if proms else Prometheus(urls[region]), start, end)
                        for region in regions]
        except PrometheusError as e:
            raise failed(str(e)) from None
        traffic = observed_traffic(measured, start, end)
        at_observed = None
        if traffic is not None:  # the same estimate for the traffic the window saw
            spec = loaded.spec.model_copy(update={"traffic": loaded.spec.traffic.model_copy(update=traffic)})
            at_observed = estimate_stack(replace(loaded, spec=spec), root, catalog, end.date(), with_chart=False)
        doc, warnings = actuals_document(loaded.ref.name, loaded.spec, predicted, measured, PriceBook(catalog), start,
                                         end, at_observed)
        calibration = None
        if write_calibration is not None:
            pools, more = calibration_pools(loaded.spec, measured)
            warnings += more
            if not pools:
                raise failed("--write-calibration: no GPU pool ran and served in the window; nothing to calibrate")
            calibration = calibration_document(loaded.ref.name, doc["since"], doc["until"], pools)
        result = {"stacks": [doc]}
        if fmt is Format.json:
            text = json.dumps(result, indent=2) + "\n"
        else:
            import sys

            from cli.render.width import output_width

            text = table(doc, output_width(sys.stdout.isatty()))  # the one width rule, also piped
    finally:
        print_warnings(cache.take_warnings())
    print_warnings(warnings)
    if calibration is not None:
        from cli.output import write_out

        write_out(write_calibration, json.dumps(calibration, indent=2) + "\n")
        say(err, "wrote {}", write_calibration)
    typer.echo(text, nl=False)


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.2f}"


def _ms(values: dict) -> str:
    return " / ".join("-" if v is None else f"{v:,.0f}" for v in values.values())


def table(doc: dict, width: int = 100) -> str:
    """The stack's actuals as plain text `width` columns wide: a line too long wraps with a hanging indent
    (`grid.hang`), never through an amount."""
    from cli.render.grid import hang
    from cli.render.safe import clean

    lines = [f"{clean(doc['stack'])}: {doc['since']} .. {doc['until']} ({doc['windowHours']:,.1f} h)", ""]
    for r in doc["regions"]:
        util = "-" if r["gpuUtilisation"] is None else f"{r['gpuUtilisation']:.0%}"
        lines.append(f"  {r['region']}: {r['requests']:,} requests, {r['inputTokens']:,} input + {r['outputTokens']:,} "
                     f"output tokens, GPU utilisation {util}")
        lines.append(f"    TTFT p50/p95/p99 {_ms(r['ttftMs'])} ms; TPOT p50/p95/p99 {_ms(r['tpotMs'])} ms")
        for key, hours in r["gpuNodeHours"].items():
            lines.append(f"    {clean(key)}: {hours:,.2f} node-hours")
        if r["gateway"]:
            g = r["gateway"]
            share = "-" if g["apiShare"] is None else f"{g['apiShare']:.1%}"
            lines.append(f"    gateway: {g['requests']:,} calls, API share {share}, API spend {_money(g['spendUsd'])}")
    p = doc["predicted"]
    err = "-" if p["errorPercent"] is None else f"{p['errorPercent']:+.1f}%"
    lines += ["", f"  actual monthly cost   {_money(doc['actualMonthlyUsd'])}  (predicted {_money(p['monthlyUsd'])}, "
                  f"error {err})", f"    {doc['costBasis']}"]
    if p["atObservedTraffic"]:
        o = p["atObservedTraffic"]
        oerr = "-" if o["errorPercent"] is None else f"{o['errorPercent']:+.1f}%"
        lines.append(f"  at the observed traffic ({o['requestsPerMonth']:,} requests/month) the estimate says "
                     f"{_money(o['monthlyUsd'])}: error {oerr}")
    lines += [
              f"  per 1M tokens         {_money(doc['perMillionTokensUsd'])}  ({doc['tokensPerMonth']:,} tokens/month)",
              "", "  category            predicted      actual     error"]
    for cat, c in p["categories"].items():
        e = "-" if c["errorPercent"] is None else f"{c['errorPercent']:+.1f}%"
        lines.append(f"  {cat:<16} {_money(c['predictedUsd']):>12} {_money(c['actualUsd']):>11} {e:>9}"
                     + ("" if c["measured"] else "  (from the estimate)"))
    if doc["gateway"]:
        g = doc["gateway"]
        lines.append(f"  gateway API spend     {_money(g['apiSpendMonthlyUsd'])}/month; self-hosted + API "
                     f"{_money(g['hybridMonthlyUsd'])}/month")
        if g.get("predicted"):
            h = g["predicted"]
            herr = "-" if h["hybridErrorPercent"] is None else f"{h['hybridErrorPercent']:+.1f}%"
            share = "-" if g["apiShare"] is None else f"{g['apiShare']:.1%}"
            lines.append(f"    the hybrid estimate: {_money(h['hybridMonthlyUsd'])}/month (error {herr}), API spend "
                         f"{_money(h['apiMonthlyUsd'])}/month, API share {h['apiShare']:.1%} (actual {share})")
    if doc["api"]:
        lines += ["", "  the same traffic on each API offer (per month):"]
        lines += [f"    {clean(a['offer'])}: {_money(a['monthlyUsd'])}" for a in doc["api"]]
    return "".join(piece + "\n" for line in lines for piece in hang(line, width))
