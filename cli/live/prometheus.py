"""A small Prometheus HTTP API client (`/api/v1/query` only) and the `--prometheus-url` / `--since` parsers.

Standard library only (urllib): `actuals` is the one caller and needs instant queries at a given time. Every
failure (unreachable, HTTP error, an error answer, a body that is not the API's JSON) is a `PrometheusError`
naming the URL; the command turns it into exit 1 (the server failed) or 2 (the URL given is not one).
"""

from __future__ import annotations

import difflib
import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# One query may scan a month of samples; a real server answers in seconds, a dead one should not hang the CLI.
QUERY_TIMEOUT_S = 60.0
# The biggest answer read (a month of a large fleet's per-series vectors is far below this).
MAX_ANSWER_BYTES = 64 * 1024 * 1024
DURATION_RE = re.compile(r"^(\d+)(m|h|d|w)$")
DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Longest window read: Prometheus keeps `monitoring.retentionDays` (at most a year of samples is ever asked for).
MAX_WINDOW_S = 366 * 86400
# Largest sample magnitude taken: Prometheus stores float64, which counts whole tokens and requests exactly only up
# to 2**53 (~9e15, far above any fleet's month); a larger value (or +/-Inf) is a broken exporter or not a
# Prometheus, and would overflow the per-month arithmetic downstream.
MAX_SAMPLE = float(2**53)


class PrometheusError(Exception):
    """A query that got no usable answer; the message names the server."""


Series = tuple[tuple[str, str], ...]
"""A series' labels, sorted, without `__name__`: the key the per-series answers are joined on."""


def series_key(metric: dict[str, str]) -> Series:
    return tuple(sorted((k, v) for k, v in metric.items() if k != "__name__"))


@dataclass(frozen=True)
class Prometheus:
    """One region's Prometheus at `url` (its root: `http://host:9090`, or an API server's service proxy path)."""

    url: str
    opener: Callable[..., object] | None = None
    """`urllib.request.urlopen` unless given (the API server's service proxy passes an authenticated one)."""

    def query(self, expr: str, at: datetime) -> dict[Series, float]:
        """An instant vector at `at`: value per series (NaN and missing values dropped)."""
        params = urllib.parse.urlencode({"query": expr, "time": f"{at.timestamp():.3f}"})
        endpoint = f"{self.url.rstrip('/')}/api/v1/query?{params}"
        open_ = self.opener or urllib.request.urlopen
        try:
            with open_(endpoint, timeout=QUERY_TIMEOUT_S) as answer:  # type: ignore[operator]
                body = answer.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as err:
            raise PrometheusError(f"{self.url}: HTTP {err.code} for {expr!r}: {_error_text(err)}") from None
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, "reason", err)
            raise PrometheusError(f"{self.url}: cannot reach Prometheus: {reason}") from None
        if len(body) > MAX_ANSWER_BYTES:
            raise PrometheusError(f"{self.url}: the answer to {expr!r} is over {MAX_ANSWER_BYTES // 2**20} MiB")
        try:
            doc = json.loads(body)
        except ValueError:
            raise PrometheusError(f"{self.url}: the answer is not JSON: is this Prometheus's root URL?") from None
        if not isinstance(doc, dict) or doc.get("status") != "success":
            raise PrometheusError(f"{self.url}: query {expr!r} failed: {str(doc.get('error') if isinstance(doc, dict) else doc)[:300]}")
        data = doc.get("data") or {}
        if not isinstance(data, dict):
            raise PrometheusError(f"{self.url}: query {expr!r} answered no `data` object: is this Prometheus's root URL?")
        if data.get("resultType") == "scalar":
            return {(): self._sample(expr, data.get("result"))}
        if data.get("resultType") != "vector":
            raise PrometheusError(f"{self.url}: query {expr!r} answered {data.get('resultType')!r}, not a vector")
        rows = data.get("result") or []
        if not isinstance(rows, list):
            raise PrometheusError(f"{self.url}: query {expr!r} answered a `result` that is not a list")
        out: dict[Series, float] = {}
        for row in rows:
            metric = row.get("metric") if isinstance(row, dict) else None
            if not isinstance(metric, dict) or not all(isinstance(v, str) for v in metric.values()):
                raise PrometheusError(f"{self.url}: a series of {expr!r} has no `metric` object of labels")
            value = self._sample(expr, row.get("value"))
            if not math.isnan(value):
                out[series_key(metric)] = value
        return out

    def _sample(self, expr: str, pair: object) -> float:
        """A `[time, "value"]` pair's value: NaN passes (dropped by the caller); +/-Inf or a magnitude over
        MAX_SAMPLE is an answer no exporter of these series gives."""
        try:
            value = float(pair[1])  # type: ignore[index]
        except (KeyError, IndexError, TypeError, ValueError):
            raise PrometheusError(f"{self.url}: a sample of {expr!r} is not [time, value]") from None
        if not math.isnan(value) and not abs(value) <= MAX_SAMPLE:
            raise PrometheusError(f"{self.url}: a sample of {expr!r} is {pair[1]!r}, not a plausible value "  # type: ignore[index]
                                  "(at most 2**53 in magnitude)")
        return value


def _error_text(err: urllib.error.HTTPError) -> str:
    try:
        doc = json.loads(err.read(65536))
        return str(doc.get("error", doc))
    except (ValueError, OSError, AttributeError):
        return str(err.reason)


def parse_duration(text: str, option: str = "--since") -> timedelta:
    """`30d`, `12h`, `90m`, `2w`: a positive window of at most a year."""
    match = DURATION_RE.match(text.strip())
    if not match:
        raise ValueError(f"{option} {text!r} is not a duration like 30d, 12h, 90m or 2w")
    seconds = int(match.group(1)) * DURATION_UNITS[match.group(2)]
    if seconds <= 0 or seconds > MAX_WINDOW_S:
        raise ValueError(f"{option} {text!r}: the window must be more than 0 and at most 366 days")
    return timedelta(seconds=seconds)


def parse_time(text: str, option: str = "--until") -> datetime:
    """An ISO 8601 date or time (UTC when it names no zone)."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{option} {text!r} is not a date or time like 2026-11-30 or 2026-11-30T12:00:00Z") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _check_url(url: str, option: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{option} {url!r} is not an http(s) URL like http://127.0.0.1:9090")
    return url


def region_urls(values: Iterable[str], regions: list[str]) -> dict[str, str]:
    """`--prometheus-url` values -> URL per region.

    A one-region stack takes one bare URL; otherwise each value is `REGION=URL` and every region needs one
    (a region name written wrong is named, with the nearest region of the stack)."""
    values = list(values)
    if not values:
        raise ValueError("--prometheus-url is needed: the Prometheus of each region (`kubectl -n monitoring port-forward "
                         "svc/kube-prometheus-stack-prometheus 9090` and --prometheus-url http://127.0.0.1:9090)")
    out: dict[str, str] = {}
    for value in values:
        region, sep, url = value.partition("=")
        if not sep or "://" in region:
            if len(regions) != 1 or len(values) != 1:
                raise ValueError(f"--prometheus-url {value!r}: this stack has regions {', '.join(regions)}: give "
                                 "REGION=URL for each")
            return {regions[0]: _check_url(value, "--prometheus-url")}
        if region not in regions:
            near = difflib.get_close_matches(region, regions, n=1)
            hint = f" (did you mean {near[0]}?)" if near else f" (the stack's regions: {', '.join(regions)})"
            raise ValueError(f"--prometheus-url {value!r}: region {region!r} is not one of the stack's{hint}")
        if region in out:
            raise ValueError(f"--prometheus-url: region {region} given twice")
        out[region] = _check_url(url, f"--prometheus-url {region}=")
    missing = [r for r in regions if r not in out]
    if missing:
        raise ValueError(f"--prometheus-url: no URL for region(s) {', '.join(missing)} (REGION=URL for each region)")
    return out
