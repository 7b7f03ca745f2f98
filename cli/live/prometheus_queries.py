"""What `actuals` reads from one region's Prometheus, as exact totals over a window.

Counters (vLLM's tokens and requests, histogram buckets, LiteLLM's spend) are summed per series as the last value
in the window minus the value at its start (0 for a series that starts in the window), so the totals are the
counters' own, not `increase()`'s extrapolation to the window's edges; a series whose counter reset in the window
(its container restarted) falls back to `increase()` and is counted in a warning.

GPU node-hours come from kube-state-metrics: a node counts from its creation (`kube_node_created`, or the window's
start) until its last `kube_node_labels` sample (or the window's end while it still runs), so they do not depend
on the scrape interval. The metric and label names are vLLM v0.31.0's, DCGM exporter's, kube-state-metrics' and
LiteLLM's (docs/sources.md "actuals").
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from cli.live.prometheus import Prometheus, Series
from infra.conventions import CAPACITY_TYPE_LABEL, GPU_POOL_LABEL, INSTANCE_TYPE_LABEL, VLLM_NAMESPACE
from infra.gateway_config import METRIC_DEPLOYMENT_SUCCESS, METRIC_SPEND, SELF_HOSTED_PROVIDER

# vLLM's Prometheus metrics (vllm/v1/metrics/loggers.py at v0.31.0): counters and latency histograms.
VLLM_REQUESTS = "vllm:request_success_total"
VLLM_PROMPT_TOKENS = "vllm:prompt_tokens_total"
VLLM_GENERATION_TOKENS = "vllm:generation_tokens_total"
VLLM_TTFT = "vllm:time_to_first_token_seconds"
VLLM_TPOT = "vllm:inter_token_latency_seconds"
# dcgm-exporter's default counters: GPU utilisation in percent, per GPU.
DCGM_GPU_UTIL = "DCGM_FI_DEV_GPU_UTIL"
# kube-state-metrics: a node's allowlisted labels (value 1) and its creation time (unix seconds).
KSM_NODE_LABELS = "kube_node_labels"
KSM_NODE_CREATED = "kube_node_created"
KSM_POD_INFO = "kube_pod_info"
# LiteLLM proxy: spend in USD, and successful calls per deployment with the provider that served them; the names and
# the self-hosted deployments' provider label are the gateway config's (infra/gateway_config.py renders those
# deployments): every other provider is an API.
LITELLM_SPEND = METRIC_SPEND
LITELLM_DEPLOYMENT_SUCCESS = METRIC_DEPLOYMENT_SUCCESS
PERCENTILES = (0.5, 0.95, 0.99)
# Step of the subqueries that find a node's last sample: Prometheus's default lookback (5 minutes): the first step at or
# after a sample still sees it, so no last sample is missed.
NODE_STEP = "5m"

_INVALID = re.compile(r"[^a-zA-Z0-9_]")
_CAPS = re.compile(r"([a-z0-9])([A-Z])")


def ksm_label(key: str) -> str:
    """The label kube-state-metrics writes for a Kubernetes label key: `label_` + the key with invalid characters as
    `_`, camelCase to snake_case (`eks.amazonaws.com/capacityType` -> `label_eks_amazonaws_com_capacity_type`)."""
    return "label_" + _CAPS.sub(r"\1_\2", _INVALID.sub("_", key)).lower()


INSTANCE_TYPE = ksm_label(INSTANCE_TYPE_LABEL)
CAPACITY_TYPE = ksm_label(CAPACITY_TYPE_LABEL)
POOL = ksm_label(GPU_POOL_LABEL)
VLLM_SELECTOR = f'namespace="{VLLM_NAMESPACE}"'
GPU_NODES = f'{KSM_NODE_LABELS}{{{POOL}!=""}}'


@dataclass
class RegionMeasurement:
    """One region's totals over the window."""

    region: str
    requests: float
    input_tokens: float
    output_tokens: float
    ttft_seconds: dict[float, float | None]
    tpot_seconds: dict[float, float | None]
    gpu_utilisation: float | None
    """Mean over every GPU sample of the window, 0-1 (None without DCGM series)."""
    node_hours: dict[tuple[str, str, str], float]
    """(instance type, capacity type as EKS labels it, GPU pool) -> hours."""
    pool_output_tokens: dict[str, float]
    """Output tokens served by pods on each GPU pool's nodes ("" for pods on no known pool node)."""
    gateway: dict | None
    """{"requests", "apiRequests", "spendUsd"} over the window, or None when no LiteLLM series exist."""
    warnings: list[str] = field(default_factory=list)


def _labels(series: Series) -> dict[str, str]:
    return dict(series)


class Window:
    """Queries over (since, until] against one Prometheus."""

    def __init__(self, prom: Prometheus, since: datetime, until: datetime):
        self.prom, self.since, self.until = prom, since, until
        self.range = f"{round((until - since).total_seconds())}s"
        self.restarted = 0

    def counter(self, selector: str) -> dict[Series, float]:
        """Per series: the counter's increase over the window, exact where it did not reset."""
        last = self.prom.query(f"max_over_time({selector}[{self.range}])", self.until)
        if not last:
            return {}
        start = self.prom.query(selector, self.since)
        resets = {k for k, v in self.prom.query(f"resets({selector}[{self.range}])", self.until).items() if v > 0}
        fallback = self.prom.query(f"increase({selector}[{self.range}])", self.until) if resets else {}
        self.restarted += len(resets)
        return {k: (fallback.get(k, 0.0) if k in resets else v - start.get(k, 0.0)) for k, v in last.items()}

    def total(self, selector: str) -> float:
        return sum(self.counter(selector).values())


def bucket_quantile(q: float, buckets: dict[float, float]) -> float | None:
    """Prometheus's `histogram_quantile` on cumulative bucket counts {upper bound: count}: linear inside the bucket
    the rank falls in; the +Inf bucket answers the highest finite bound. None without observations."""
    bounds = sorted(buckets)
    if not bounds or bounds[-1] != float("inf") or buckets[bounds[-1]] <= 0:
        return None
    counts = [buckets[b] for b in bounds]
    for i in range(1, len(counts)):  # counters read at slightly different times: keep them monotonic
        counts[i] = max(counts[i], counts[i - 1])
    rank = q * counts[-1]
    i = next(i for i, c in enumerate(counts) if c >= rank)
    if i == len(bounds) - 1:
        return bounds[-2] if len(bounds) > 1 else None
    start, below = (0.0, 0.0) if i == 0 else (bounds[i - 1], counts[i - 1])
    if i == 0 and bounds[0] <= 0:
        return bounds[0]
    inside = counts[i] - below
    return bounds[i] if inside <= 0 else start + (bounds[i] - start) * (rank - below) / inside


def histogram_percentiles(window: Window, metric: str) -> dict[float, float | None]:
    by_le: dict[float, float] = defaultdict(float)
    for series, value in window.counter(f"{metric}_bucket{{{VLLM_SELECTOR}}}").items():
        le = _labels(series).get("le")
        if le is not None:
            by_le[float(le)] += value
    return {q: bucket_quantile(q, dict(by_le)) for q in PERCENTILES}


def node_hours(window: Window) -> tuple[dict[tuple[str, str, str], float], dict[str, str], list[str]]:
    """(hours per (instance type, capacity type, pool), node -> pool, warnings)."""
    by = f"node, {INSTANCE_TYPE}, {CAPACITY_TYPE}, {POOL}"
    prom, r = window.prom, window.range
    last = prom.query(f"max by ({by}) (max_over_time(timestamp({GPU_NODES})[{r}:{NODE_STEP}]))", window.until)
    warnings: list[str] = []
    if not last:
        if prom.query(f"count({KSM_NODE_LABELS})", window.until):
            warnings.append(f"no node of kube_node_labels carries {POOL}: kube-state-metrics does not export the GPU "
                            "pool label (its metricLabelsAllowlist, set by the program since `actuals` exists: run "
                            "`pulumi up`); GPU node-hours are 0")
        return {}, {}, warnings
    created = {_labels(k).get("node"): v for k, v in
               prom.query(f"max by (node) (max_over_time({KSM_NODE_CREATED}[{r}]))", window.until).items()}
    first: dict = {}
    if any(_labels(k).get("node") not in created for k in last):  # no creation time: from its first sample seen
        first = prom.query(f"min by ({by}) (min_over_time(timestamp({GPU_NODES})[{r}:{NODE_STEP}]))", window.until)
    running = {_labels(k).get("node") for k in prom.query(f"max by (node) ({GPU_NODES})", window.until)}
    since, until = window.since.timestamp(), window.until.timestamp()
    hours: dict[tuple[str, str, str], float] = defaultdict(float)
    pools: dict[str, str] = {}
    unlabelled = set()
    for series, last_seen in last.items():
        labels = _labels(series)
        node = labels.get("node", "")
        begin = created.get(node, first.get(series, last_seen))
        end = until if node in running else last_seen
        key = (labels.get(INSTANCE_TYPE, ""), labels.get(CAPACITY_TYPE, ""), labels.get(POOL, ""))
        if not key[0] or not key[1]:
            unlabelled.add(node)
        hours[key] += max(0.0, end - max(since, begin)) / 3600
        pools[node] = key[2]
    if unlabelled:
        warnings.append(f"{len(unlabelled)} GPU node(s) have no {INSTANCE_TYPE} or {CAPACITY_TYPE} on kube_node_labels "
                        "(kube-state-metrics' metricLabelsAllowlist): their hours cannot be priced")
    return dict(hours), pools, warnings


def pod_pools(window: Window, node_pool: dict[str, str]) -> dict[str, str]:
    """vLLM pod -> the GPU pool of the node it ran on."""
    rows = window.prom.query(f'max by (pod, node) (max_over_time({KSM_POD_INFO}{{{VLLM_SELECTOR}, node!=""}}[{window.range}]))',
                             window.until)
    return {_labels(k).get("pod", ""): node_pool.get(_labels(k).get("node", ""), "") for k in rows}


def gateway(window: Window) -> dict | None:
    calls = window.counter(LITELLM_DEPLOYMENT_SUCCESS)
    spend = window.counter(LITELLM_SPEND)
    if not calls and not spend:
        return None
    api = sum(v for k, v in calls.items() if _labels(k).get("api_provider") != SELF_HOSTED_PROVIDER)
    return {"requests": sum(calls.values()), "apiRequests": api, "spendUsd": sum(spend.values())}


def measure(region: str, prom: Prometheus, since: datetime, until: datetime) -> RegionMeasurement:
    """Everything `actuals` reads from one region's Prometheus for (since, until]."""
    window = Window(prom, since, until)
    generation = window.counter(f"{VLLM_GENERATION_TOKENS}{{{VLLM_SELECTOR}}}")
    hours, node_pool, warnings = node_hours(window)
    pods = pod_pools(window, node_pool) if generation else {}
    per_pool: dict[str, float] = defaultdict(float)
    for series, value in generation.items():
        per_pool[pods.get(_labels(series).get("pod", ""), "")] += value
    util_sum = sum(prom.query(f"sum(sum_over_time({DCGM_GPU_UTIL}[{window.range}]))", until).values())
    util_count = sum(prom.query(f"sum(count_over_time({DCGM_GPU_UTIL}[{window.range}]))", until).values())
    m = RegionMeasurement(
        region=region,
        requests=window.total(f"{VLLM_REQUESTS}{{{VLLM_SELECTOR}}}"),
        input_tokens=window.total(f"{VLLM_PROMPT_TOKENS}{{{VLLM_SELECTOR}}}"),
        output_tokens=sum(generation.values()),
        ttft_seconds=histogram_percentiles(window, VLLM_TTFT),
        tpot_seconds=histogram_percentiles(window, VLLM_TPOT),
        gpu_utilisation=util_sum / util_count / 100 if util_count else None,
        node_hours=hours, pool_output_tokens=dict(per_pool), gateway=gateway(window), warnings=warnings,
    )
    if window.restarted:
        m.warnings.append(f"{window.restarted} counter series reset in the window (a container restarted): their "
                          "share is Prometheus's increase(), extrapolated, not exact")
    if not generation:
        m.warnings.append(f"no {VLLM_GENERATION_TOKENS} series in namespace {VLLM_NAMESPACE}: no traffic, or this is "
                          "not the region's Prometheus")
    return m
