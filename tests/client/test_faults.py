"""Fault injection through ``httpx.MockTransport``: timeouts, resets, 5xx, odd bodies, a server
that dies mid-listing. Every failure is an ``MlflowError``; reads retry, writes never do.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from console.mlflow.client import MlflowRestClient, RetryPolicy
from console.mlflow.errors import (
    BadResponse,
    MlflowError,
    PermissionDenied,
    ServerError,
    Timeout,
    Unauthorized,
    Unreachable,
)

URL = "http://127.0.0.1:9"
FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01)


class Server:
    """A scripted fake server: each call pops the next behaviour (the last one repeats)."""

    def __init__(self, *steps):
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        return step(request) if callable(step) else step


def client(server: Server, **kwargs) -> MlflowRestClient:
    kwargs.setdefault("retry", FAST)
    return MlflowRestClient(URL, transport=httpx.MockTransport(server), **kwargs)


def ok(doc: dict) -> httpx.Response:
    return httpx.Response(200, json=doc)


RUN = {"info": {"run_id": "r1", "experiment_id": "1"}, "data": {}}


async def bounded(coro, seconds: float = 5.0):
    """Nothing may hang: every call must finish (or fail) quickly."""
    return await asyncio.wait_for(coro, seconds)


async def test_connect_timeouts_are_retried_then_reported():
    server = Server(httpx.ConnectTimeout("slow"))
    async with client(server) as c:
        with pytest.raises(Timeout, match=r"timed out on http://127\.0\.0\.1:9"):
            await bounded(c.get_run("r1"))
    assert len(server.requests) == 3


async def test_read_timeout_is_not_retried():
    server = Server(httpx.ReadTimeout("slow"))
    async with client(server) as c:
        with pytest.raises(Timeout) as info:
            await bounded(c.get_run("r1"))
    assert len(server.requests) == 1
    assert "MLOPS_CONSOLE_REQUEST_TIMEOUT" in str(info.value)


async def test_connection_reset_then_success():
    server = Server(httpx.ReadError("Connection reset by peer"), ok({"run": RUN}))
    async with client(server) as c:
        run = await bounded(c.get_run("r1"))
    assert run.run_id == "r1" and len(server.requests) == 2


@pytest.mark.parametrize("status", [408, 429, 502, 503, 504])
async def test_retryable_status_then_success(status):
    server = Server(httpx.Response(status, text="busy"), ok({"run": RUN}))
    async with client(server) as c:
        assert (await bounded(c.get_run("r1"))).run_id == "r1"
    assert len(server.requests) == 2


async def test_persistent_503_gives_up_after_the_attempts():
    server = Server(httpx.Response(503, json={"error_code": "TEMPORARILY_UNAVAILABLE"}))
    async with client(server) as c:
        with pytest.raises(ServerError, match="TEMPORARILY_UNAVAILABLE"):
            await bounded(c.get_run("r1"))
    assert len(server.requests) == 3


async def test_retry_after_is_honoured_when_small():
    assert FAST.delay(1, "0.005") == 0.005
    assert FAST.delay(1, "120") <= FAST.max_delay  # a long Retry-After is not waited for


async def test_500_is_not_retried():
    server = Server(httpx.Response(500, json={"error_code": "INTERNAL_ERROR", "message": "boom"}))
    async with client(server) as c:
        with pytest.raises(ServerError, match="boom"):
            await bounded(c.get_run("r1"))
    assert len(server.requests) == 1


async def test_writes_are_never_retried():
    for failure in (httpx.Response(503, text="busy"), httpx.ConnectError("refused")):
        server = Server(failure, httpx.Response(200, json={}))
        async with client(server) as c:
            with pytest.raises(MlflowError):
                await bounded(c.set_model_alias("m", "champion", 2))
        assert len(server.requests) == 1


async def test_delete_alias_sends_a_json_body():
    server = Server(httpx.Response(200, json={}))
    async with client(server) as c:
        await c.delete_model_alias("m", "champion")
    (request,) = server.requests
    assert request.method == "DELETE"
    assert json.loads(request.content) == {"name": "m", "alias": "champion"}
    assert request.headers["content-type"] == "application/json"


async def test_html_error_page_from_a_proxy():
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    server = Server(httpx.Response(502, html=page))
    async with client(server) as c:
        with pytest.raises(ServerError, match="HTML page") as info:
            await bounded(c.get_run("r1"))
    assert "<html" not in str(info.value)


async def test_html_instead_of_json_on_success():
    server = Server(httpx.Response(200, html="<html>login</html>"))
    async with client(server) as c:
        with pytest.raises(BadResponse, match="expected JSON"):
            await bounded(c.get_run("r1"))


async def test_html_404_means_no_such_endpoint():
    server = Server(httpx.Response(404, html="<!doctype html><title>404</title>"))
    async with client(server) as c:
        with pytest.raises(BadResponse, match="endpoint does not exist"):
            await bounded(c.get_run("r1"))


async def test_garbage_json_body():
    garbage = httpx.Response(
        200, content=b"{not json", headers={"content-type": "application/json"}
    )
    async with client(Server(garbage)) as c:
        with pytest.raises(BadResponse, match="not valid JSON"):
            await bounded(c.get_run("r1"))


async def test_wrong_shape_is_a_bad_response():
    async with client(Server(ok({"runs": "not a list"}))) as c:
        with pytest.raises(BadResponse, match="expected a list"):
            await bounded(c.search_runs_page("1"))
    async with client(Server(ok({"run": {"info": {"start_time": "yesterday"}}}))) as c:
        with pytest.raises(BadResponse, match="unexpected response"):
            await bounded(c.get_run("r1"))


async def test_basic_auth_text_bodies():
    denied = httpx.Response(401, text="You are not authenticated. Please see ...")
    async with client(Server(denied)) as c:
        with pytest.raises(Unauthorized, match="HTTP 401: You are not authenticated"):
            await bounded(c.get_run("r1"))
    forbidden = httpx.Response(403, text="Permission denied")
    async with client(Server(forbidden)) as c:
        with pytest.raises(PermissionDenied):
            await bounded(c.set_model_alias("m", "a", 1))


async def test_redirect_is_reported_not_followed():
    moved = httpx.Response(302, headers={"location": "https://user:pw@mlflow.example/x?token=1"})
    async with client(Server(moved)) as c:
        with pytest.raises(BadResponse, match=r"redirects to https://mlflow\.example/x") as info:
            await bounded(c.get_run("r1"))
    assert "pw" not in str(info.value) and "token" not in str(info.value)


def _runs_page(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    token = body.get("page_token")
    start = int(token) if token else 0
    runs = [{"info": {"run_id": f"r{start + i}"}} for i in range(body["max_results"])]
    return ok({"runs": runs, "next_page_token": str(start + len(runs))})


async def test_server_dies_mid_iteration():
    server = Server(_runs_page, _runs_page, httpx.ConnectError("refused"))
    seen = []
    async with client(server) as c:
        with pytest.raises(Unreachable, match=r"after 4 runs"):
            async for run in c.iter_runs("1", page_size=2):
                seen.append(run.run_id)
    assert seen == ["r0", "r1", "r2", "r3"]
    assert len(server.requests) == 2 + FAST.attempts


async def test_a_repeated_page_token_ends_the_listing():
    stuck = ok({"runs": [{"info": {"run_id": "r"}}], "next_page_token": "same"})
    async with client(Server(stuck)) as c:
        runs = [r async for r in c.iter_runs("1", page_size=1)]
    assert len(runs) == 2  # first page, then the repeated token is noticed


async def test_concurrency_is_bounded():
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return ok({"run": RUN})

    async with MlflowRestClient(
        URL, transport=httpx.MockTransport(handler), max_concurrency=2
    ) as c:
        await bounded(asyncio.gather(*(c.get_run("r1") for _ in range(8))))
    assert peak == 2


async def test_secrets_stay_out_of_reprs_and_errors():
    server = Server(httpx.ConnectError("refused"))
    c = MlflowRestClient(
        "http://alice:hunter2@127.0.0.1:9/",
        username="alice",
        password="s3cret-pw",
        token="tok-123",
        transport=httpx.MockTransport(server),
        retry=FAST,
    )
    async with c:
        with pytest.raises(Unreachable) as info:
            await bounded(c.get_run("r1"))
    shown = f"{c!r} {info.value} {c.auth!r} {c.server}"
    for secret in ("hunter2", "s3cret-pw", "tok-123"):
        assert secret not in shown
    assert "basic user=alice" in repr(c)
    # Basic wins over the token, as in MLflow's own client
    assert server.requests[0].headers["authorization"].startswith("Basic ")


async def test_token_only_is_bearer():
    server = Server(ok({"run": RUN}))
    async with client(server, token="tok-123") as c:
        await c.get_run("r1")
    assert server.requests[0].headers["authorization"] == "Bearer tok-123"


async def test_no_auth_server_answers_current_user():
    server = Server(httpx.Response(404, html="<!doctype html><title>404 Not Found</title>"))
    async with client(server) as c:
        user = await c.current_user()
        permission = await c.can_edit_model("m")
    assert user.auth_enabled is False
    assert permission.allowed is True and "no auth" in permission.reason


async def test_from_settings_uses_mlflow_environment_variables(tmp_path):
    from console.settings import load_settings

    settings = load_settings(
        env={
            "MLFLOW_TRACKING_URI": "http://127.0.0.1:9",
            "MLFLOW_TRACKING_TOKEN": "tok-xyz",
            "MLOPS_CONSOLE_REQUEST_TIMEOUT": "3",
            "MLOPS_CONSOLE_HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path),
        }
    )
    server = Server(ok({"run": RUN}))
    c = MlflowRestClient.from_settings(settings, transport=httpx.MockTransport(server), retry=FAST)
    async with c:
        await c.get_run("r1")
    assert server.requests[0].headers["authorization"] == "Bearer tok-xyz"
    assert c.timeout == 3 and c.server == "http://127.0.0.1:9"
    assert "tok-xyz" not in repr(c)
