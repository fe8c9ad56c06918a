"""Send rows to a deployment as MLflow scoring requests (``POST /invocations``, dataframe_records).

Used by ``demo advance`` to replay a week of traffic against the embedded deployments. Only
loopback URLs are accepted: demo traffic never leaves the machine. httpx only.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from console.errors import ConsoleError

DEFAULT_BATCH = 8


class TrafficError(ConsoleError):
    """Traffic could not be sent at all (bad URL)."""


class TrafficResult(BaseModel):
    """What the deployment answered: one prediction per row (None where its batch failed)."""

    url: str
    rows: int = 0
    answered: int = 0
    requests: int = 0
    failed_requests: int = 0
    errors: list[str] = Field(default_factory=list)
    predictions: list[Any] = Field(default_factory=list)
    latencies_ms: list[float] = Field(default_factory=list)


def _check_loopback(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"} or not host:
        raise TrafficError(f"deployment URL {url!r} is not an http(s) URL")
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise TrafficError(f"demo traffic goes only to loopback deployments, not {host}")
    return url.rstrip("/")


def _predictions(body: Any, count: int) -> list[Any]:
    """MLflow's answer ``{"predictions": [...]}`` (or a bare list) as one value per row."""
    values = body.get("predictions") if isinstance(body, dict) else body
    if isinstance(values, dict):  # a column-oriented answer: {"bucket": [...]}
        columns = list(values)
        values = [
            dict(zip(columns, row, strict=True)) for row in zip(*values.values(), strict=True)
        ]
    if not isinstance(values, list) or len(values) != count:
        raise ValueError(f"expected {count} predictions, got {type(values).__name__}")
    return values


def send_traffic(
    url: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    batch_size: int = DEFAULT_BATCH,
    timeout: float = 10.0,
    headers: Mapping[str, str] | None = None,
) -> TrafficResult:
    """POST ``rows`` in batches to ``url``/invocations; a 4xx/5xx is counted, never raised."""
    import httpx

    base = _check_loopback(url)
    result = TrafficResult(url=base, rows=len(rows))
    with httpx.Client(timeout=timeout, headers=dict(headers or {})) as http:
        for start in range(0, len(rows), max(1, batch_size)):
            batch = [dict(r) for r in rows[start : start + batch_size]]
            result.requests += 1
            began = time.perf_counter()
            try:
                answer = http.post(f"{base}/invocations", json={"dataframe_records": batch})
                elapsed = (time.perf_counter() - began) * 1000
                if answer.status_code != 200:
                    raise ValueError(f"HTTP {answer.status_code}: {answer.text[:200]}")
                values = _predictions(answer.json(), len(batch))
            except (httpx.HTTPError, ValueError) as exc:
                result.failed_requests += 1
                if len(result.errors) < 5:
                    result.errors.append(" ".join(str(exc).split())[:300] or type(exc).__name__)
                result.predictions += [None] * len(batch)
                continue
            result.answered += len(batch)
            result.predictions += values
            result.latencies_ms.append(round(elapsed, 3))
    return result
