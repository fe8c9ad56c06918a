"""Prometheus metrics of the predict service: what it exposes, and how the console reads it back.

The exposition is Prometheus' text format 0.0.4 written here (a handful of lines; the service
needs no client library): requests by status, errors, rows scored, a latency histogram, and the
p50/p95 of the most recent requests as a summary. ``parse`` reads the same text back for
``deployments``. Stdlib only.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RECENT = 2048
PREFIX = "mlops_predict"


def _quantile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank quantile of an already sorted list (NaN when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(0, math.ceil(q * len(sorted_values)) - 1)
    return sorted_values[rank]


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass
class ServiceMetrics:
    """Counters of one service process; every method is thread-safe."""

    labels: dict[str, str] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)  # status code -> count
    errors: int = 0
    rows: int = 0
    bucket_counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    latency_sum: float = 0.0
    latency_count: int = 0
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT))
    started: float = field(default_factory=time.time)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(self, status: int, seconds: float, rows: int = 0) -> None:
        """One answered ``/invocations`` request; 4xx and 5xx count as errors."""
        with self._lock:
            key = str(status)
            self.requests[key] = self.requests.get(key, 0) + 1
            if status >= 400:
                self.errors += 1
            self.rows += rows
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self.bucket_counts[i] += 1
            self.latency_sum += seconds
            self.latency_count += 1
            self.recent.append(seconds)

    def render(self, served_version: str) -> str:
        with self._lock:
            base = {**self.labels, "version": served_version}
            label = ",".join(f'{k}="{_escape_label(v)}"' for k, v in sorted(base.items()))
            recent = sorted(self.recent)
            lines = [
                f"# HELP {PREFIX}_requests_total Answered /invocations requests by HTTP status.",
                f"# TYPE {PREFIX}_requests_total counter",
            ]
            for status, count in sorted(self.requests.items()):
                lines.append(f'{PREFIX}_requests_total{{{label},status="{status}"}} {count}')
            lines += [
                f"# HELP {PREFIX}_errors_total Requests answered with a 4xx or 5xx status.",
                f"# TYPE {PREFIX}_errors_total counter",
                f"{PREFIX}_errors_total{{{label}}} {self.errors}",
                f"# HELP {PREFIX}_rows_total Input rows scored.",
                f"# TYPE {PREFIX}_rows_total counter",
                f"{PREFIX}_rows_total{{{label}}} {self.rows}",
                f"# HELP {PREFIX}_latency_seconds Latency of /invocations requests.",
                f"# TYPE {PREFIX}_latency_seconds histogram",
            ]
            for bound, count in zip(BUCKETS, self.bucket_counts, strict=True):
                lines.append(f'{PREFIX}_latency_seconds_bucket{{{label},le="{bound}"}} {count}')
            lines += [
                f'{PREFIX}_latency_seconds_bucket{{{label},le="+Inf"}} {self.latency_count}',
                f"{PREFIX}_latency_seconds_sum{{{label}}} {self.latency_sum:.6f}",
                f"{PREFIX}_latency_seconds_count{{{label}}} {self.latency_count}",
                f"# HELP {PREFIX}_recent_latency_seconds Quantiles of the last {RECENT} requests.",
                f"# TYPE {PREFIX}_recent_latency_seconds summary",
            ]
            for q in (0.5, 0.95):
                value = _quantile(recent, q)
                shown = "NaN" if math.isnan(value) else f"{value:.6f}"
                lines.append(f'{PREFIX}_recent_latency_seconds{{{label},quantile="{q}"}} {shown}')
            lines += [
                f"# HELP {PREFIX}_start_time_seconds When the service process started.",
                f"# TYPE {PREFIX}_start_time_seconds gauge",
                f"{PREFIX}_start_time_seconds{{{label}}} {self.started:.3f}",
            ]
            return "\n".join(lines) + "\n"


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def parse(text: str, *, max_lines: int = 20_000) -> list[Sample]:
    """Samples of a Prometheus text exposition; lines that do not parse are skipped."""
    samples: list[Sample] = []
    for line in text.splitlines()[:max_lines]:
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if not match:
            continue
        try:
            value = float(match.group(4))
        except ValueError:
            continue
        labels = dict(_LABEL.findall(match.group(3) or ""))
        samples.append(Sample(match.group(1), labels, value))
    return samples


@dataclass(frozen=True)
class MetricsSummary:
    """What ``deployments`` shows from one service's ``/metrics``."""

    requests: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None


def summarize(text: str) -> MetricsSummary | None:
    """Requests, errors and recent p50/p95 from this service's metrics; None if absent."""
    samples = parse(text)
    requests = [s for s in samples if s.name == f"{PREFIX}_requests_total"]
    if not requests and not any(s.name == f"{PREFIX}_errors_total" for s in samples):
        return None
    errors = sum(s.value for s in samples if s.name == f"{PREFIX}_errors_total")
    quantiles = {
        s.labels.get("quantile"): s.value
        for s in samples
        if s.name == f"{PREFIX}_recent_latency_seconds"
    }

    def ms(q: str) -> float | None:
        value = quantiles.get(q)
        return None if value is None or math.isnan(value) else round(value * 1000.0, 3)

    return MetricsSummary(
        requests=int(sum(s.value for s in requests)),
        errors=int(errors),
        p50_ms=ms("0.5"),
        p95_ms=ms("0.95"),
    )
