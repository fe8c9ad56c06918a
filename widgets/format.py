"""Small, pure formatting helpers for widgets: ages, durations, numbers and text sparklines."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

SPARK_CHARS = "▁▂▃▄▅▆▇█"


def format_ms(ms: int | None) -> str:
    """A millisecond timestamp as ``YYYY-MM-DD HH:MM:SS`` UTC, or ``-`` when absent."""
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def age(ms: int | None, now_ms: float) -> str:
    """How long ago ``ms`` was, compactly (``45s``, ``12m``, ``3h``, ``5d``, ``2y``)."""
    if ms is None:
        return "-"
    seconds = max(0.0, (now_ms - ms) / 1000)
    for unit, size in (("y", 365 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


def number(value: float | None) -> str:
    """A metric value: up to 6 significant digits; NaN and infinities spelled out."""
    if value is None:
        return "-"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.6g}"


def sparkline(values: Sequence[float | None], width: int = 24) -> str:
    """``values`` as a row of block characters, resampled to at most ``width`` buckets."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return ""
    if len(finite) > width:
        size = len(finite) / width
        finite = [
            sum(chunk) / len(chunk)
            for i in range(width)
            if (chunk := finite[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)])
        ]
    low, high = min(finite), max(finite)
    span = high - low
    if span == 0:
        return SPARK_CHARS[3] * len(finite)
    top = len(SPARK_CHARS) - 1
    return "".join(SPARK_CHARS[round((v - low) / span * top)] for v in finite)
