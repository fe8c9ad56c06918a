"""The console's async client for MLflow's REST API: reads, registry writes and auth checks.

Speaks HTTP with httpx and returns ``console.model`` types; never imports the ``mlflow`` package.
Reads are bounded by a semaphore and retried briefly on connection errors and 408/429/502/503/504;
writes are sent exactly once. Every failure is an ``MlflowError`` naming the call and the server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError

from console.errors import ReadOnlyError, SettingsError
from console.mlflow import files
from console.mlflow._httpx import httpx
from console.mlflow.auth import AuthConfig, redact_url
from console.mlflow.errors import (
    BadResponse,
    InvalidRequest,
    NotFound,
    Timeout,
    Unreachable,
    error_from_response,
    quote,
)
from console.mlflow.paging import iterate_pages
from console.model import (
    CurrentUser,
    Experiment,
    LoggedModel,
    Metric,
    MetricHistory,
    ModelEditPermission,
    ModelFiles,
    ModelVersion,
    Page,
    RegisteredModel,
    Run,
    version_number,
)

log = logging.getLogger("console.mlflow")

M = TypeVar("M", bound=BaseModel)

API = "/api/2.0/mlflow/"
API3 = "/api/3.0/mlflow/"
RETRY_STATUS = frozenset({408, 429, 502, 503, 504})
STAGES = {"none": "None", "staging": "Staging", "production": "Production", "archived": "Archived"}
# permissions that allow changing a registered model (aliases, stages, tags)
EDIT_PERMISSIONS = frozenset({"EDIT", "MANAGE"})
# small model files only: the server copies the whole file before answering
DEFAULT_MAX_FILE_BYTES = 2_000_000
USER_AGENT = "mlops-console"


@dataclass(frozen=True)
class Reply:
    """A fully read response: status, headers and body."""

    status: int
    headers: httpx.Headers
    content: bytes


@dataclass(frozen=True)
class RetryPolicy:
    """Short, bounded retries for idempotent reads: ``attempts`` includes the first try."""

    attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 2.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Exponential backoff with jitter; a small ``Retry-After`` from the server wins."""
        if retry_after:
            try:
                wanted = float(retry_after)
            except ValueError:
                wanted = -1.0
            if 0 <= wanted <= self.max_delay:
                return wanted
        backoff = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return backoff * (0.5 + random.random() / 2)


NO_RETRY = RetryPolicy(attempts=1)


def _model_filter(name: str) -> str:
    """``name = '...'`` for registry searches, quoted so the name cannot change the filter."""
    if "'" not in name:
        return f"name = '{name}'"
    if '"' not in name:
        return f'name = "{name}"'
    raise InvalidRequest(f"model name {name!r} has both quote characters and cannot be searched")


def _listify(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


class MlflowRestClient:
    """Async client for one MLflow tracking server; use as ``async with MlflowRestClient(...)``.

    ``read_only`` refuses every write before it is sent (belt and braces behind the commands'
    own checks). ``transport`` replaces the network (tests inject faults with it).
    """

    def __init__(
        self,
        tracking_uri: str,
        *,
        username: str | None = None,
        password: str | SecretStr | None = None,
        token: str | SecretStr | None = None,
        insecure_tls: bool = False,
        server_cert_path: str | Path | None = None,
        client_cert_path: str | Path | None = None,
        timeout: float = 10.0,
        max_concurrency: int = 8,
        retry: RetryPolicy | None = None,
        read_only: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not tracking_uri.startswith(("http://", "https://")):
            raise SettingsError(
                f"tracking URI {redact_url(tracking_uri)!r} is not an http(s) URL",
                hint="set MLFLOW_TRACKING_URI or --tracking-uri to the MLflow server's URL",
            )
        self.auth = AuthConfig.create(
            username=username,
            password=password,
            token=token,
            insecure_tls=insecure_tls,
            server_cert_path=server_cert_path,
            client_cert_path=client_cert_path,
        )
        self.tracking_uri = tracking_uri.rstrip("/")
        self.server = redact_url(self.tracking_uri)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.read_only = read_only
        self._max_concurrency = max_concurrency
        self._semaphore: asyncio.Semaphore | None = None
        self._http = httpx.AsyncClient(
            base_url=self.tracking_uri,
            headers={"User-Agent": USER_AGENT, **self.auth.headers()},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            verify=self._ssl_context() if transport is None else True,
            transport=transport,
            follow_redirects=False,
            # the server's environment proxies apply, as with MLflow's requests-based client
            trust_env=True,
        )

    @classmethod
    def from_settings(
        cls, settings: Any, *, tracking_uri: str | None = None, **kwargs: Any
    ) -> MlflowRestClient:
        """A client configured from ``console.settings.Settings`` (URI overridable)."""
        uri = tracking_uri or settings.tracking_uri
        if not uri:
            raise SettingsError(
                "no MLflow tracking URI",
                hint="set MLFLOW_TRACKING_URI or --tracking-uri, or use the embedded server",
            )
        password = settings.tracking_password
        token = settings.tracking_token
        options: dict[str, Any] = {
            "username": settings.tracking_username,
            "password": password,
            "token": token,
            "insecure_tls": settings.tracking_insecure_tls,
            "server_cert_path": settings.tracking_server_cert_path,
            "client_cert_path": settings.tracking_client_cert_path,
            "timeout": settings.request_timeout,
            "read_only": settings.read_only,
        }
        options.update(kwargs)
        return cls(uri, **options)

    def _ssl_context(self) -> Any:
        if not self.tracking_uri.startswith("https://"):
            # plain http never uses TLS (redirects are not followed); skipping the CA bundle
            # saves ~0.1 s per client
            return False
        try:
            return httpx.create_ssl_context(
                verify=self.auth.verify(), cert=self.auth.cert(), trust_env=True
            )
        except (OSError, ValueError) as exc:
            raise SettingsError(
                f"cannot load the TLS certificates for {self.server}: {exc}",
                hint="check MLFLOW_TRACKING_SERVER_CERT_PATH / MLFLOW_TRACKING_CLIENT_CERT_PATH",
            ) from None

    def __repr__(self) -> str:
        return f"MlflowRestClient(server={self.server!r}, auth={self.auth.describe()!r})"

    async def __aenter__(self) -> MlflowRestClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- transport ------------------------------------------------------------------------

    @property
    def semaphore(self) -> asyncio.Semaphore:
        # created on first use so the client can be built outside a running loop
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self._max_concurrency)
        return self._semaphore

    async def _send_once(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
        max_bytes: int | None,
    ) -> Reply:
        """One request under the semaphore; transport failures become MlflowErrors."""
        async with self.semaphore:
            log.debug("%s %s", method, url)
            try:
                request = self._http.build_request(method, url, params=params, json=body)
                response = await self._http.send(request, stream=True)
                try:
                    content = bytearray()
                    async for chunk in response.aiter_bytes():
                        content += chunk
                        if max_bytes is not None and len(content) > max_bytes:
                            raise BadResponse(
                                f"{what} failed on {self.server}: the file is larger than "
                                f"{max_bytes:,} bytes",
                                hint="the console reads only small model files",
                                server=self.server,
                            )
                finally:
                    await response.aclose()
                return Reply(response.status_code, response.headers, bytes(content))
            except httpx.TimeoutException as exc:
                raise Timeout(
                    f"{what} timed out on {self.server} "
                    f"({type(exc).__name__} after {self.timeout:g} s)",
                    server=self.server,
                ) from None
            except httpx.TransportError as exc:
                raise Unreachable(
                    f"{what} failed: cannot reach {self.server} ({type(exc).__name__}: "
                    f"{quote(str(exc), 120) or 'connection failed'})",
                    server=self.server,
                ) from None
            except httpx.HTTPError as exc:
                raise BadResponse(
                    f"{what} failed on {self.server}: {type(exc).__name__}: {quote(str(exc), 120)}",
                    server=self.server,
                ) from None

    async def _request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        idempotent: bool,
        max_bytes: int | None = None,
    ) -> Reply:
        """Send a request; retry idempotent ones; return a 2xx response or raise MlflowError."""
        if params:
            params = {k: v for k, v in params.items() if v is not None}
        if not idempotent and self.read_only:
            raise ReadOnlyError(what)
        attempts = self.retry.attempts if idempotent else 1
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._send_once(
                    method, url, what=what, params=params, body=body, max_bytes=max_bytes
                )
            except (Unreachable, Timeout) as exc:
                # a read timeout means a slow server: retrying would only multiply the wait
                retryable = isinstance(exc, Unreachable) or "ReadTimeout" not in exc.message
                if attempt >= attempts or not retryable:
                    raise
                await asyncio.sleep(self.retry.delay(attempt))
                continue
            status = response.status
            if 200 <= status < 300:
                return response
            if status in RETRY_STATUS and attempt < attempts:
                log.debug("retrying %s after HTTP %s", what, status)
                await asyncio.sleep(self.retry.delay(attempt, response.headers.get("retry-after")))
                continue
            if 300 <= status < 400:
                target = redact_url(response.headers.get("location", "")) or "elsewhere"
                raise BadResponse(
                    f"{what} failed: {self.server} redirects to {target} (HTTP {status})",
                    hint="set the tracking URI to the address the server redirects to",
                    server=self.server,
                    status=status,
                )
            raise error_from_response(
                what,
                self.server,
                status,
                response.headers.get("content-type", ""),
                response.content,
            )

    async def _json(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        idempotent: bool,
        prefix: str = API,
    ) -> dict[str, Any]:
        response = await self._request(
            method, prefix + path, what=what, params=params, body=body, idempotent=idempotent
        )
        if not response.content.strip():
            return {}
        content_type = response.headers.get("content-type", "")
        if "json" not in content_type.lower():
            raise BadResponse(
                f"{what} failed on {self.server}: expected JSON, got "
                f"{quote(content_type, 60) or 'no content type'} (HTTP {response.status})",
                server=self.server,
                status=response.status,
            )
        try:
            doc = json.loads(response.content)
        except ValueError:
            raise BadResponse(
                f"{what} failed on {self.server}: the response is not valid JSON",
                server=self.server,
                status=response.status,
            ) from None
        if not isinstance(doc, dict):
            raise BadResponse(
                f"{what} failed on {self.server}: expected a JSON object",
                server=self.server,
                status=response.status,
            )
        return doc

    def _parse(self, model: type[M], data: Any, what: str) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise BadResponse(
                f"{what} failed on {self.server}: unexpected response ({where}: {first['msg']})",
                server=self.server,
            ) from None

    def _parse_list(self, model: type[M], items: Any, what: str) -> list[M]:
        if items is None:
            return []
        if not isinstance(items, list):
            raise BadResponse(
                f"{what} failed on {self.server}: expected a list", server=self.server
            )
        return [self._parse(model, item, what) for item in items]

    def _page(self, model: type[M], doc: dict[str, Any], key: str, what: str) -> Page[M]:
        return Page[model](
            items=self._parse_list(model, doc.get(key), what),
            next_page_token=doc.get("next_page_token") or None,
        )

    # --- server ---------------------------------------------------------------------------

    async def server_version(self) -> str:
        """The server's MLflow version (``GET /version``); also a cheap reachability check."""
        response = await self._request(
            "GET", "/version", what="read the server version", idempotent=True
        )
        return response.content.decode("utf-8", errors="replace").strip()

    # --- experiments ----------------------------------------------------------------------

    async def search_experiments_page(
        self,
        *,
        filter: str | None = None,
        order_by: str | Sequence[str] | None = None,
        page_size: int = 100,
        page_token: str | None = None,
        view_type: str = "ACTIVE_ONLY",
    ) -> Page[Experiment]:
        what = "search experiments"
        body = {
            "max_results": page_size,
            "filter": filter,
            "order_by": _listify(order_by),
            "page_token": page_token,
            "view_type": view_type,
        }
        doc = await self._json(
            "POST", "experiments/search", what=what, body=_compact(body), idempotent=True
        )
        return self._page(Experiment, doc, "experiments", what)

    def iter_experiments(
        self,
        *,
        filter: str | None = None,
        order_by: str | Sequence[str] | None = None,
        page_size: int = 500,
        max_items: int | None = None,
        view_type: str = "ACTIVE_ONLY",
    ) -> AsyncIterator[Experiment]:
        async def fetch(size: int, token: str | None) -> Page[Experiment]:
            return await self.search_experiments_page(
                filter=filter,
                order_by=order_by,
                page_size=size,
                page_token=token,
                view_type=view_type,
            )

        return iterate_pages(fetch, page_size=page_size, max_items=max_items, what="experiments")

    async def get_experiment(self, experiment_id: str) -> Experiment:
        what = f"get experiment {experiment_id!r}"
        doc = await self._json(
            "GET",
            "experiments/get",
            what=what,
            params={"experiment_id": experiment_id},
            idempotent=True,
        )
        return self._parse(Experiment, doc.get("experiment"), what)

    async def get_experiment_by_name(self, name: str) -> Experiment:
        what = f"get experiment {name!r}"
        doc = await self._json(
            "GET",
            "experiments/get-by-name",
            what=what,
            params={"experiment_name": name},
            idempotent=True,
        )
        return self._parse(Experiment, doc.get("experiment"), what)

    async def find_experiment(self, name_or_id: str) -> Experiment:
        """An experiment by name, else (if it looks like one) by id."""
        try:
            return await self.get_experiment_by_name(name_or_id)
        except NotFound:
            if not name_or_id.isdigit():
                raise
        return await self.get_experiment(name_or_id)

    # --- runs -----------------------------------------------------------------------------

    async def search_runs_page(
        self,
        experiment_ids: str | Sequence[str],
        *,
        filter: str | None = None,
        order_by: str | Sequence[str] | None = None,
        page_size: int = 100,
        page_token: str | None = None,
        view_type: str = "ACTIVE_ONLY",
    ) -> Page[Run]:
        what = "search runs"
        body = {
            "experiment_ids": _listify(experiment_ids),
            "filter": filter,
            "order_by": _listify(order_by),
            "max_results": page_size,
            "page_token": page_token,
            "run_view_type": view_type,
        }
        doc = await self._json(
            "POST", "runs/search", what=what, body=_compact(body), idempotent=True
        )
        return self._page(Run, doc, "runs", what)

    def iter_runs(
        self,
        experiment_ids: str | Sequence[str],
        *,
        filter: str | None = None,
        order_by: str | Sequence[str] | None = None,
        page_size: int = 500,
        max_items: int | None = None,
        view_type: str = "ACTIVE_ONLY",
    ) -> AsyncIterator[Run]:
        async def fetch(size: int, token: str | None) -> Page[Run]:
            return await self.search_runs_page(
                experiment_ids,
                filter=filter,
                order_by=order_by,
                page_size=size,
                page_token=token,
                view_type=view_type,
            )

        return iterate_pages(fetch, page_size=page_size, max_items=max_items, what="runs")

    async def get_run(self, run_id: str) -> Run:
        what = f"get run {run_id!r}"
        doc = await self._json(
            "GET", "runs/get", what=what, params={"run_id": run_id}, idempotent=True
        )
        return self._parse(Run, doc.get("run"), what)

    async def get_metric_history_page(
        self, run_id: str, key: str, *, page_size: int = 25_000, page_token: str | None = None
    ) -> Page[Metric]:
        what = f"get history of metric {key!r} of run {run_id!r}"
        params = {
            "run_id": run_id,
            "metric_key": key,
            "max_results": page_size,
            "page_token": page_token,
        }
        doc = await self._json(
            "GET", "metrics/get-history", what=what, params=params, idempotent=True
        )
        return self._page(Metric, doc, "metrics", what)

    async def get_metric_history(
        self, run_id: str, key: str, *, page_size: int = 25_000
    ) -> MetricHistory:
        """Every logged value of one metric, in the server's order (all pages)."""

        async def fetch(size: int, token: str | None) -> Page[Metric]:
            return await self.get_metric_history_page(run_id, key, page_size=size, page_token=token)

        points = [p async for p in iterate_pages(fetch, page_size=page_size, what="points")]
        return MetricHistory(run_id=run_id, key=key, points=points)

    # --- registered models ----------------------------------------------------------------

    async def search_registered_models_page(
        self,
        *,
        filter: str | None = None,
        order_by: str | Sequence[str] | None = None,
        page_size: int = 100,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        what = "search registered models"
        params = {
            "filter": filter,
            "order_by": _listify(order_by),
            "max_results": page_size,
            "page_token": page_token,
        }
        doc = await self._json(
            "GET", "registered-models/search", what=what, params=params, idempotent=True
        )
        return self._page(RegisteredModel, doc, "registered_models", what)

    def iter_registered_models(
        self,
        *,
        filter: str | None = None,
        order_by: str | Sequence[str] | None = None,
        page_size: int = 500,
        max_items: int | None = None,
    ) -> AsyncIterator[RegisteredModel]:
        async def fetch(size: int, token: str | None) -> Page[RegisteredModel]:
            return await self.search_registered_models_page(
                filter=filter, order_by=order_by, page_size=size, page_token=token
            )

        return iterate_pages(fetch, page_size=page_size, max_items=max_items, what="models")

    async def get_registered_model(self, name: str) -> RegisteredModel:
        what = f"get registered model {name!r}"
        doc = await self._json(
            "GET", "registered-models/get", what=what, params={"name": name}, idempotent=True
        )
        return self._parse(RegisteredModel, doc.get("registered_model"), what)

    # --- model versions -------------------------------------------------------------------

    async def _merge_aliases(
        self, versions: list[ModelVersion], cache: dict[str, dict[str, str]] | None = None
    ) -> None:
        """Fill ``aliases`` from each version's registered model (version search omits them)."""
        cache = {} if cache is None else cache
        missing = sorted({v.name for v in versions} - set(cache))

        async def load(name: str) -> None:
            try:
                cache[name] = (await self.get_registered_model(name)).aliases
            except NotFound:
                cache[name] = {}

        await asyncio.gather(*(load(name) for name in missing))
        for version in versions:
            aliases = cache.get(version.name, {})
            version.aliases = sorted(a for a, v in aliases.items() if v == version.version)

    async def search_model_versions_page(
        self,
        *,
        name: str | None = None,
        filter: str | None = None,
        order_by: str | Sequence[str] | None = None,
        page_size: int = 100,
        page_token: str | None = None,
        with_aliases: bool = True,
        _alias_cache: dict[str, dict[str, str]] | None = None,
    ) -> Page[ModelVersion]:
        """Versions (of model ``name``, and/or matching ``filter``), aliases merged in."""
        what = f"search versions of model {name!r}" if name else "search model versions"
        clauses = [c for c in (_model_filter(name) if name else None, filter) if c]
        params = {
            "filter": " AND ".join(clauses) or None,
            "order_by": _listify(order_by),
            "max_results": page_size,
            "page_token": page_token,
        }
        doc = await self._json(
            "GET", "model-versions/search", what=what, params=params, idempotent=True
        )
        page = self._page(ModelVersion, doc, "model_versions", what)
        if with_aliases and page.items:
            await self._merge_aliases(page.items, _alias_cache)
        return page

    def iter_model_versions(
        self,
        *,
        name: str | None = None,
        filter: str | None = None,
        order_by: str | Sequence[str] | None = None,
        page_size: int = 500,
        max_items: int | None = None,
        with_aliases: bool = True,
    ) -> AsyncIterator[ModelVersion]:
        # one alias lookup per model for the whole listing, not one per page
        cache: dict[str, dict[str, str]] = {}

        async def fetch(size: int, token: str | None) -> Page[ModelVersion]:
            return await self.search_model_versions_page(
                name=name,
                filter=filter,
                order_by=order_by,
                page_size=size,
                page_token=token,
                with_aliases=with_aliases,
                _alias_cache=cache,
            )

        return iterate_pages(fetch, page_size=page_size, max_items=max_items, what="versions")

    async def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        what = f"get version {version} of model {name!r}"
        try:
            version = version_number(version)
        except ValueError as exc:
            # refused here: the server answers "abc" with a 400 but a huge number with a 500
            raise InvalidRequest(
                f"{what}: {exc}", hint=f"`mlops-console versions {name}` lists the versions"
            ) from None
        doc = await self._json(
            "GET",
            "model-versions/get",
            what=what,
            params={"name": name, "version": str(version)},
            idempotent=True,
        )
        return self._parse(ModelVersion, doc.get("model_version"), what)

    async def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        what = f"get alias {alias!r} of model {name!r}"
        try:
            doc = await self._json(
                "GET",
                "registered-models/alias",
                what=what,
                params={"name": name, "alias": alias},
                idempotent=True,
            )
        except InvalidRequest as exc:
            # MLflow answers a missing alias with 400 INVALID_PARAMETER_VALUE, not 404
            if "not found" in exc.message.lower():
                raise NotFound(
                    exc.message, server=exc.server, status=exc.status, error_code=exc.error_code
                ) from None
            raise
        return self._parse(ModelVersion, doc.get("model_version"), what)

    # --- logged models --------------------------------------------------------------------

    async def get_logged_model(self, model_id: str) -> LoggedModel:
        what = f"get logged model {model_id!r}"
        doc = await self._json(
            "GET", f"logged-models/{_path_segment(model_id)}", what=what, idempotent=True
        )
        return self._parse(LoggedModel, doc.get("model"), what)

    async def search_logged_models_page(
        self,
        experiment_ids: str | Sequence[str],
        *,
        filter: str | None = None,
        order_by: Sequence[dict[str, Any]] | None = None,
        page_size: int = 100,
        page_token: str | None = None,
    ) -> Page[LoggedModel]:
        """``order_by`` is MLflow's structured form: ``[{"field_name": ..., "ascending": ...}]``."""
        what = "search logged models"
        body = {
            "experiment_ids": _listify(experiment_ids),
            "filter": filter,
            "order_by": list(order_by) if order_by else None,
            "max_results": page_size,
            "page_token": page_token,
        }
        doc = await self._json(
            "POST", "logged-models/search", what=what, body=_compact(body), idempotent=True
        )
        return self._page(LoggedModel, doc, "models", what)

    def iter_logged_models(
        self,
        experiment_ids: str | Sequence[str],
        *,
        filter: str | None = None,
        order_by: Sequence[dict[str, Any]] | None = None,
        page_size: int = 100,
        max_items: int | None = None,
    ) -> AsyncIterator[LoggedModel]:
        async def fetch(size: int, token: str | None) -> Page[LoggedModel]:
            return await self.search_logged_models_page(
                experiment_ids,
                filter=filter,
                order_by=order_by,
                page_size=size,
                page_token=token,
            )

        return iterate_pages(fetch, page_size=page_size, max_items=max_items, what="logged models")

    # --- model files ----------------------------------------------------------------------

    async def get_model_version_file(
        self,
        name: str,
        version: str | int,
        path: str,
        *,
        max_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> bytes:
        """One small file of a model version (e.g. ``MLmodel``), at most ``max_bytes``."""
        what = f"read {path!r} of version {version} of model {name!r}"
        response = await self._request(
            "GET",
            "/model-versions/get-artifact",
            what=what,
            params={"name": name, "version": str(version), "path": path},
            idempotent=True,
            max_bytes=max_bytes,
        )
        return response.content

    async def get_model_files(self, name: str, version: str | int) -> ModelFiles:
        """``MLmodel``, ``requirements.txt``, ``python_env.yaml`` and the input example.

        Files the server does not have are listed in ``missing``; other failures raise.
        """
        wanted = {
            "mlmodel": ("MLmodel", files.parse_mlmodel),
            "requirements": ("requirements.txt", files.parse_requirements),
            "python_env": ("python_env.yaml", files.parse_python_env),
            "input_example": ("input_example.json", files.parse_input_example),
        }

        async def fetch(path: str) -> bytes | None:
            try:
                return await self.get_model_version_file(name, version, path)
            except NotFound:
                return None

        raws = await asyncio.gather(*(fetch(path) for path, _ in wanted.values()))
        parsed: dict[str, Any] = {}
        missing: list[str] = []
        for (field, (path, parse)), raw in zip(wanted.items(), raws, strict=True):
            if raw is None:
                missing.append(path)
                continue
            try:
                parsed[field] = parse(raw)
            except BadResponse as exc:
                exc.message = f"version {version} of model {name!r}: {exc.message}"
                exc.server = self.server
                raise
        return ModelFiles(name=name, version=str(version), missing=missing, **parsed)

    # --- writes (never retried) -----------------------------------------------------------

    async def _write(self, method: str, path: str, what: str, body: dict[str, Any]) -> dict:
        return await self._json(method, path, what=what, body=body, idempotent=False)

    async def set_model_alias(self, name: str, alias: str, version: str | int) -> None:
        """Point ``alias`` at ``version`` (creating or moving it: MLflow has no compare-and-set)."""
        await self._write(
            "POST",
            "registered-models/alias",
            f"set alias {alias!r} of model {name!r} to version {version}",
            {"name": name, "alias": alias, "version": str(version)},
        )

    async def delete_model_alias(self, name: str, alias: str) -> None:
        # DELETE with a JSON body: MLflow reads DELETE parameters from the body
        await self._write(
            "DELETE",
            "registered-models/alias",
            f"delete alias {alias!r} of model {name!r}",
            {"name": name, "alias": alias},
        )

    async def transition_model_version_stage(
        self,
        name: str,
        version: str | int,
        stage: str,
        *,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        canonical = STAGES.get(stage.lower())
        if canonical is None:
            raise InvalidRequest(
                f"unknown stage {stage!r}", hint=f"use one of {', '.join(STAGES.values())}"
            )
        what = f"move version {version} of model {name!r} to stage {canonical}"
        doc = await self._write(
            "POST",
            "model-versions/transition-stage",
            what,
            {
                "name": name,
                "version": str(version),
                "stage": canonical,
                "archive_existing_versions": archive_existing_versions,
            },
        )
        return self._parse(ModelVersion, doc.get("model_version"), what)

    async def set_model_version_tag(
        self, name: str, version: str | int, key: str, value: str
    ) -> None:
        await self._write(
            "POST",
            "model-versions/set-tag",
            f"set tag {key!r} on version {version} of model {name!r}",
            {"name": name, "version": str(version), "key": key, "value": value},
        )

    async def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        await self._write(
            "DELETE",
            "model-versions/delete-tag",
            f"delete tag {key!r} of version {version} of model {name!r}",
            {"name": name, "version": str(version), "key": key},
        )

    async def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        await self._write(
            "POST",
            "registered-models/set-tag",
            f"set tag {key!r} on model {name!r}",
            {"name": name, "key": key, "value": value},
        )

    async def delete_registered_model_tag(self, name: str, key: str) -> None:
        await self._write(
            "DELETE",
            "registered-models/delete-tag",
            f"delete tag {key!r} of model {name!r}",
            {"name": name, "key": key},
        )

    async def set_run_tag(self, run_id: str, key: str, value: str) -> None:
        await self._write(
            "POST",
            "runs/set-tag",
            f"set tag {key!r} on run {run_id!r}",
            {"run_id": run_id, "key": key, "value": value},
        )

    async def delete_run_tag(self, run_id: str, key: str) -> None:
        await self._write(
            "POST",
            "runs/delete-tag",
            f"delete tag {key!r} of run {run_id!r}",
            {"run_id": run_id, "key": key},
        )

    # --- who am I -------------------------------------------------------------------------

    async def current_user(self) -> CurrentUser:
        """The authenticated user, or ``auth_enabled=False`` when the server has no auth app."""
        what = "look up the current user"
        try:
            doc = await self._json("GET", "users/current", what=what, idempotent=True)
        except (BadResponse, NotFound) as exc:
            if exc.status == 404:
                return CurrentUser(auth_enabled=False)
            raise
        user = doc.get("user") or {}
        return CurrentUser(
            auth_enabled=True,
            username=user.get("username"),
            is_admin=bool(user.get("is_admin")),
            user_id=user.get("id"),
        )

    async def can_edit_model(self, name: str) -> ModelEditPermission:
        """Whether the operator may change model ``name`` — asked, not tried."""
        user = await self.current_user()
        if not user.auth_enabled:
            return ModelEditPermission(
                model=name,
                auth_enabled=False,
                allowed=True,
                reason="no auth on this server: every client may edit every model",
            )
        if user.is_admin:
            return ModelEditPermission(
                model=name,
                auth_enabled=True,
                allowed=True,
                username=user.username,
                permission="MANAGE",
                reason=f"{user.username} is an administrator",
            )
        what = f"look up the permission of {user.username!r} on model {name!r}"
        try:
            doc = await self._json(
                "GET",
                "users/permissions/get",
                what=what,
                prefix=API3,
                idempotent=True,
                params={
                    "username": user.username,
                    "resource_type": "registered_model",
                    "resource_id": name,
                },
            )
        except (BadResponse, NotFound) as exc:
            if exc.status != 404:
                raise
            return ModelEditPermission(
                model=name,
                auth_enabled=True,
                allowed=None,
                username=user.username,
                reason="the server cannot tell permissions (no permissions endpoint)",
            )
        permission = str(doc.get("permission") or "NO_PERMISSIONS")
        allowed = permission in EDIT_PERMISSIONS
        verdict = "may edit" if allowed else "may not edit"
        return ModelEditPermission(
            model=name,
            auth_enabled=True,
            allowed=allowed,
            username=user.username,
            permission=permission,
            reason=f"{user.username} has {permission} on {name!r}, so {verdict} it",
        )


def _compact(body: dict[str, Any]) -> dict[str, Any]:
    """Drop unset fields: MLflow treats an explicit null differently from an absent field."""
    return {k: v for k, v in body.items() if v is not None}


def _path_segment(value: str) -> str:
    from urllib.parse import quote as url_quote

    return url_quote(value, safe="")
