"""The MLflow client's exception family and the mapping from HTTP responses to it.

Every failure says what was being done, on which server (URL without credentials) and what to do.
Errors come from MLflow's JSON ``error_code``, else the HTTP status, else the shape of the body
(HTML from a proxy, plain text from basic auth). Server text is cut short and never trusted.
"""

from __future__ import annotations

import json
from typing import Any

from console.errors import ConsoleError

# how much of a server's own message or body to quote in ours
_QUOTE_LIMIT = 300


class MlflowError(ConsoleError):
    """A call to the MLflow tracking server failed."""

    default_hint: str | None = None

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        server: str | None = None,
        status: int | None = None,
        error_code: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint if hint is not None else self.default_hint)
        self.server = server
        self.status = status
        self.error_code = error_code


class NotFound(MlflowError):
    default_hint = (
        "check the name or id (`mlops-console models`, `versions MODEL` and `experiments` "
        "list them)"
    )


class Unauthorized(MlflowError):
    default_hint = (
        "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN) "
        "to valid credentials for this server"
    )


class PermissionDenied(MlflowError):
    default_hint = "ask an administrator of the MLflow server for EDIT permission on this resource"


class InvalidRequest(MlflowError):
    default_hint = "check the arguments (filter syntax, names, versions) and try again"


class AlreadyExists(InvalidRequest):
    default_hint = "choose another name, or use the existing one"


class ServerError(MlflowError):
    default_hint = "the server failed; look at its logs, or retry in a moment"


class Unreachable(MlflowError):
    default_hint = "check that the server is running and the tracking URI is right"


class Timeout(MlflowError):
    default_hint = (
        "the server is slow or overloaded; retry, narrow the query, or raise "
        "MLOPS_CONSOLE_REQUEST_TIMEOUT"
    )


class BadResponse(MlflowError):
    default_hint = "check that the tracking URI points at an MLflow server (not a proxy page)"


_CODE_CLASSES: dict[str, type[MlflowError]] = {
    "RESOURCE_DOES_NOT_EXIST": NotFound,
    "NOT_FOUND": NotFound,
    "ENDPOINT_NOT_FOUND": BadResponse,
    "UNAUTHENTICATED": Unauthorized,
    "PERMISSION_DENIED": PermissionDenied,
    "RESOURCE_ALREADY_EXISTS": AlreadyExists,
    "INVALID_PARAMETER_VALUE": InvalidRequest,
    "BAD_REQUEST": InvalidRequest,
    "INVALID_STATE": InvalidRequest,
    "MALFORMED_REQUEST": InvalidRequest,
    "RESOURCE_LIMIT_EXCEEDED": ServerError,
    "REQUEST_LIMIT_EXCEEDED": ServerError,
    "TEMPORARILY_UNAVAILABLE": ServerError,
    "INTERNAL_ERROR": ServerError,
}


def quote(text: str, limit: int = _QUOTE_LIMIT) -> str:
    """Server text squeezed onto one line and cut at ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _class_for_status(status: int) -> type[MlflowError]:
    if status == 401:
        return Unauthorized
    if status == 403:
        return PermissionDenied
    if status == 404:
        return NotFound
    if status in (408, 504):
        return Timeout
    if status == 409:
        return AlreadyExists
    if 400 <= status < 500:
        return InvalidRequest
    return ServerError


def _json_error(content_type: str, body: bytes) -> dict[str, Any] | None:
    if "json" not in content_type:
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def error_from_response(
    what: str, server: str, status: int, content_type: str, body: bytes
) -> MlflowError:
    """The exception for a non-2xx response to ``what`` (e.g. "get run 'abc'")."""
    content_type = content_type.lower()
    doc = _json_error(content_type, body)
    where = f"{what} failed on {server}"
    if doc is not None and (doc.get("error_code") or doc.get("message")):
        code = str(doc.get("error_code") or "")
        cls = _CODE_CLASSES.get(code) or _class_for_status(status)
        detail = quote(str(doc.get("message") or code))
        return cls(
            f"{where}: {detail} (HTTP {status} {code})".replace(" )", ")"),
            server=server,
            status=status,
            error_code=code or None,
        )
    text = body.decode("utf-8", errors="replace")
    # basic auth labels plain sentences text/html, so judge HTML by the body, not the header
    if text.lstrip().startswith("<"):
        # an HTML page: a proxy, a login page, or a route the server does not have
        if status == 404:
            return BadResponse(
                f"{where}: HTTP 404 with an HTML page, so this endpoint does not exist there",
                hint="check the tracking URI (and any path prefix) and the MLflow server version",
                server=server,
                status=status,
            )
        cls = _class_for_status(status)
        return cls(
            f"{where}: HTTP {status} with an HTML page (from a proxy or login page?)",
            server=server,
            status=status,
        )
    cls = _class_for_status(status)
    detail = f": {quote(text, 120)}" if text.strip() else ""
    return cls(f"{where}: HTTP {status}{detail}", server=server, status=status)
