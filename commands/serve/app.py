"""The predict service's HTTP application (Starlette): MLflow's scoring protocol and operations.

``POST /invocations`` (``dataframe_records`` or ``dataframe_split``), ``GET /ping``,
``GET /version``, ``GET /schema``, ``GET /metrics`` (Prometheus text), ``POST /reload`` (only
with ``Authorization: Bearer <token>``, the token of ``--reload-token-file``; 401 without it,
403 for a service started without a token file).
Every refusal is a 4xx whose ``message`` names the field and the problem (MLflow's error body:
``{"error_code", "message"}`` plus ``errors`` per row and field): 400 malformed, 413 too large
(bytes or rows), 415 not JSON, 422 rows that do not fit the schema. A model failing on rows that
passed validation is the only 500, and says so in one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import math
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError, field_validator
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from commands.serve import inference_log as ilog
from commands.serve import loader
from commands.serve.metrics import ServiceMetrics
from commands.serve.schema import RequestError

log = logging.getLogger("mlops.serve")

ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    413: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "INVALID_PARAMETER_VALUE",
    500: "INTERNAL_ERROR",
}
FORMATS = ("dataframe_records", "dataframe_split")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass
class ServiceState:
    """Everything the running service holds; ``served`` is swapped whole by a reload."""

    served: loader.ServedModel
    deployment: str
    alias: str
    tracking_uri: str | None
    model_dir: str | None
    max_body_bytes: int
    max_rows: int
    metrics: ServiceMetrics
    inference_log: ilog.InferenceLog | None = None
    # what POST /reload must send as "Authorization: Bearer <token>"; None: /reload is refused
    reload_token: str | None = None
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def version_doc(self) -> dict[str, Any]:
        return {
            "model": self.served.model,
            "version": self.served.version,
            "alias": self.alias,
            "deployment": self.deployment,
            "loaded_at": self.served.loaded_at.isoformat(timespec="seconds"),
            "input_schema": self.served.inputs.source,
        }


def error(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> JSONResponse:
    code = ERROR_CODES.get(status, "BAD_REQUEST")
    body: dict[str, Any] = {"error_code": code, "message": message}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(body: bytes) -> Any:
    """The request body as JSON; NaN, Infinity and overflowing numbers are refused."""
    try:
        return json.loads(body, parse_float=_finite_float, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise RequestError(
            400, f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise RequestError(400, f"body is not valid JSON: {str(exc)[:120]}") from None


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it exceeds ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise RequestError(400, "Content-Length is not a number") from None
        if size > limit:
            raise RequestError(413, f"body of {size} bytes; the limit is {limit} bytes")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise RequestError(413, f"body larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def rows_of(payload: Any, max_rows: int) -> list[Any]:
    """The rows of an MLflow scoring payload (records or split), checked for shape and count."""
    if not isinstance(payload, dict):
        raise RequestError(
            400, "body must be a JSON object with 'dataframe_records' or 'dataframe_split'"
        )
    given = [k for k in FORMATS if k in payload]
    unknown = [k for k in payload if k not in FORMATS]
    if unknown:
        shown = repr(str(unknown[0]))[:60]
        hint = " (only dataframe_records and dataframe_split are served)"
        raise RequestError(400, f"field {shown}: not part of the scoring protocol{hint}")
    if len(given) != 1:
        raise RequestError(400, "give exactly one of 'dataframe_records' or 'dataframe_split'")
    if given[0] == "dataframe_records":
        rows = payload["dataframe_records"]
        if not isinstance(rows, list):
            raise RequestError(400, "field 'dataframe_records': must be a list of row objects")
        _count(len(rows), max_rows, "dataframe_records")
        return rows
    split = payload["dataframe_split"]
    if not isinstance(split, dict):
        raise RequestError(400, "field 'dataframe_split': must be an object with columns, data")
    extra = [k for k in split if k not in ("columns", "data", "index")]
    if extra:
        raise RequestError(400, f"field 'dataframe_split.{str(extra[0])[:40]}': not expected")
    columns, data = split.get("columns"), split.get("data")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise RequestError(400, "field 'dataframe_split.columns': must be a list of strings")
    if len(set(columns)) != len(columns):
        raise RequestError(400, "field 'dataframe_split.columns': names must be unique")
    if not isinstance(data, list):
        raise RequestError(400, "field 'dataframe_split.data': must be a list of rows")
    _count(len(data), max_rows, "dataframe_split.data")
    out = []
    for i, values in enumerate(data):
        if not isinstance(values, list) or len(values) != len(columns):
            raise RequestError(
                400,
                f"field 'dataframe_split.data', row {i}: must be a list of {len(columns)} values",
            )
        out.append(dict(zip(columns, values, strict=True)))
    return out


def _count(n: int, limit: int, where: str) -> None:
    if n == 0:
        raise RequestError(400, f"field '{where}': no rows")
    if n > limit:
        raise RequestError(413, f"field '{where}': {n} rows; the limit is {limit} per request")


class ReloadBody(BaseModel):
    """``POST /reload``: the version to load; optionally a new (loopback) tracking URI."""

    version: str
    tracking_uri: str | None = None

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        value = value.strip().removeprefix("v")
        if not value.isdigit():
            raise ValueError("must be a version number")
        return value

    @field_validator("tracking_uri")
    @classmethod
    def _loopback(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^http://(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}/?$", value):
            raise ValueError("only a loopback http URL may replace the tracking URI")
        return value.rstrip("/")


def build_app(state: ServiceState) -> Starlette:
    async def ping(request: Request) -> Response:
        return PlainTextResponse("\n")

    async def version(request: Request) -> Response:
        return JSONResponse(state.version_doc())

    async def schema(request: Request) -> Response:
        return JSONResponse(
            {"input": state.served.inputs.describe(), "output": state.served.outputs.source}
        )

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(
            state.metrics.render(state.served.version),
            media_type="text/plain; version=0.0.4; charset=utf-8",
        )

    async def invocations(request: Request) -> Response:
        started = time.perf_counter()
        served = state.served  # one version for the whole request, even across a reload
        header_id = request.headers.get("x-request-id", "")
        request_id = header_id if _REQUEST_ID.match(header_id) else uuid.uuid4().hex
        rows: list[dict[str, Any]] = []
        try:
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/json":
                raise RequestError(415, "Content-Type must be application/json")
            body = await read_body(request, state.max_body_bytes)
            rows = served.inputs.validate(rows_of(parse_json(body), state.max_rows))
            try:
                predictions = await run_in_threadpool(loader.predict, served, rows)
            except ValidationError as exc:
                why = exc.errors()[0]["msg"]
                raise _ModelFailure(f"output does not fit the schema: {why}") from None
            except Exception as exc:  # noqa: BLE001 - the model's own failure: one line
                # MLflow's own schema enforcement refusing the rows is the caller's problem
                bad_input = getattr(exc, "error_code", "") == "INVALID_PARAMETER_VALUE"
                raise _ModelFailure(_model_error(exc), 422 if bad_input else 500) from None
        except RequestError as exc:
            state.metrics.observe(exc.status, time.perf_counter() - started)
            return error(exc.status, exc.message, exc.errors)
        except _ModelFailure as exc:
            state.metrics.observe(exc.status, time.perf_counter() - started)
            return error(exc.status, exc.message)
        seconds = time.perf_counter() - started
        state.metrics.observe(200, seconds, len(rows))
        if state.inference_log is not None:
            at = datetime.now(UTC)
            ms = seconds * 1000.0
            state.inference_log.add(
                [
                    ilog.row(
                        at=at,
                        request_id=request_id,
                        deployment=state.deployment,
                        model=served.model,
                        version=served.version,
                        alias=state.alias,
                        inputs=json.dumps(r, separators=(",", ":"), default=str),
                        outputs=json.dumps(p, separators=(",", ":"), default=str),
                        latency_ms=ms,
                    )
                    for r, p in zip(rows, predictions, strict=True)
                ]
            )
        return JSONResponse(
            {"predictions": predictions},
            headers={"x-request-id": request_id, "x-model-version": served.version},
        )

    async def reload(request: Request) -> Response:
        refused = _reload_refusal(state.reload_token, request.headers.get("authorization", ""))
        if refused is not None:
            log.warning("refused a reload from %s: %s", _peer(request), refused[1])
            return error(*refused)
        try:
            body = await read_body(request, 4096)
            doc = parse_json(body)
            wanted = ReloadBody.model_validate(doc)
        except RequestError as exc:
            return error(exc.status, exc.message)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "body"
            return error(400, f"field '{where}': {first.get('msg', 'invalid')}")
        async with state.reload_lock:
            previous = state.served.version
            uri = wanted.tracking_uri or state.tracking_uri
            try:
                fresh = await run_in_threadpool(
                    loader.load, state.served.model, wanted.version, tracking_uri=uri
                )
            except loader.LoadError as exc:
                return error(422, str(exc))
            state.served = fresh  # the swap: requests in flight finish on the old version
            state.tracking_uri = uri
        log.warning("reloaded %s: v%s -> v%s", fresh.model, previous, fresh.version)
        return JSONResponse({**state.version_doc(), "previous": previous})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if state.inference_log is not None:
            await run_in_threadpool(state.inference_log.start)
        try:
            yield
        finally:
            if state.inference_log is not None:
                await run_in_threadpool(state.inference_log.close)

    routes = [
        Route("/ping", ping, methods=["GET"]),
        Route("/health", ping, methods=["GET"]),
        Route("/version", version, methods=["GET"]),
        Route("/schema", schema, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/invocations", invocations, methods=["POST"]),
        Route("/reload", reload, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _reload_refusal(token: str | None, authorization: str) -> tuple[int, str] | None:
    """None when ``authorization`` carries the service's reload token, else (status, reason).

    Compared in constant time. A service without a token (a container started by hand) has no
    reload: the image is rebuilt for a new version.
    """
    if not token:
        return 403, "reload is disabled: this service was started without --reload-token-file"
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return 401, "reload needs 'Authorization: Bearer <the deployment's reload token>'"
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return 401, "reload refused: wrong token"
    return None


def _peer(request: Request) -> str:
    client = request.client
    return f"{client.host}:{client.port}" if client else "?"


class _ModelFailure(Exception):
    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _model_error(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if getattr(exc, "error_code", "") == "INVALID_PARAMETER_VALUE":
        return f"the model's signature refused the rows: {text[:200]}"
    return f"the model failed on valid rows: {type(exc).__name__}: {text[:200]}"
