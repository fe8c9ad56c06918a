"""The connection to MLflow: finding the server, saying truthfully whether it answers, and
following the embedded server when it moves.

A feature of the shell (``console.tui.shell``). The header's connection state is one of
``connecting…``, ``connected`` and ``unreachable since HH:MM:SS (why)``; it comes from a probe
only a real MLflow tracking server passes (``console.connection.probe``), run at the start and
every ``HEALTH_EVERY_S`` seconds in a worker. With the embedded server, each poll also reads its
``server.json``: when ``embedded stop`` + ``embedded start`` moved it to another port, the console
switches to the new address by itself; when it is not running, the header says how to start it
(``r`` starts it, as the first start did).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from console.errors import ConsoleError
from console.tui.jobs import Job

if TYPE_CHECKING:
    from console.tui.shell import Shell

HEALTH_EVERY_S = 5.0
TOUCH_EVERY_S = 60.0
EMBEDDED_START_HINT = "r or `mlops-console embedded start` starts it"


class EmbeddedDown(ConsoleError):
    """The embedded server of the console's home is not running."""


def why_not(error: BaseException) -> str:
    """A few words for the header: why the server does not count as connected."""
    from console.mlflow.errors import (
        BadResponse,
        PermissionDenied,
        Timeout,
        Unauthorized,
        Unreachable,
    )

    if isinstance(error, Unreachable):
        return "nothing answers"
    if isinstance(error, Timeout):
        return "no answer in time"
    if isinstance(error, BadResponse):
        return "it answers, but not as an MLflow server"
    if isinstance(error, Unauthorized):
        return "credentials refused"
    if isinstance(error, PermissionDenied):
        return "permission denied"
    if isinstance(error, EmbeddedDown):
        return "server stopped; r starts it"  # the banner has the whole hint
    if isinstance(error, ConsoleError):
        return error.message
    return type(error).__name__


class ConnectFeature:
    """Owns the client's lifecycle and the header's connection state."""

    def __init__(
        self,
        shell: Shell,
        client_factory: Callable[[str], Any],
        *,
        progress: Callable[[str], object],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.shell = shell
        self.client_factory = client_factory
        self._progress = progress  # thread-safe: posts a progress message to the app
        self.clock = clock
        # called once, the first time the server answers (load the panes)
        self.on_connected: Callable[[], None] = lambda: None
        # called when the server answers again, or answers at a new address (reload the panes)
        self.on_reconnected: Callable[[], None] = lambda: None
        # called each time the server does not answer (the prefetched page goes)
        self.on_down: Callable[[], None] = lambda: None
        self.connected = False
        self.loaded = False
        self.down_since: float | None = None
        self.embedded_down = False
        self._poller: Any = None

    @property
    def embedded(self) -> bool:
        return not self.shell.settings.tracking_uri

    # --- start ------------------------------------------------------------------------------

    def start(self) -> None:
        """Find the server (start the embedded one if needed), then probe it."""
        status = self.shell.main.status
        settings = self.shell.settings
        if settings.tracking_uri:
            from console.settings import show_url

            status.set_target(show_url(settings.tracking_uri) or "")
            status.set_connection("connecting…")
        else:
            status.set_target(f"embedded · {settings.home}")
            status.set_connection("starting the embedded MLflow server…")
        if self._poller is None:
            self._poller = self.shell.app.set_interval(HEALTH_EVERY_S, self.poll)
            if self.embedded:
                self.shell.app.set_interval(TOUCH_EVERY_S, self._touch_embedded)

        def resolve() -> str:
            # the client's imports (httpx, the models) cost a few hundred ms: pay them here,
            # off the UI thread, after the first frame
            import console.mlflow.client  # noqa: F401
            from console.connection import resolve_tracking_uri

            return resolve_tracking_uri(settings, self._progress)

        def failed(message: str) -> None:
            self._down(EmbeddedDown(message) if self.embedded else ConsoleError(message))

        self.shell.run(
            Job(
                "connect",
                "connecting to MLflow",
                resolve,
                self._resolved,
                on_fail=failed,
                thread=True,
            )
        )

    def _resolved(self, uri: str) -> None:
        self._use(uri)
        self.poll()

    def _use(self, uri: str) -> None:
        """Talk to ``uri`` from now on (a new client when the address changed)."""
        from console.mlflow.auth import redact_url

        connection = self.shell.connection
        old = connection.client
        if old is None or connection.tracking_uri != uri:
            connection.client = self.client_factory(uri)
            if old is not None and hasattr(old, "aclose"):
                self.shell.app.call_later(self._close, old)
        connection.tracking_uri = uri
        self.shell.main.status.set_target(redact_url(uri))

    @staticmethod
    async def _close(client: Any) -> None:
        with contextlib.suppress(Exception):
            await client.aclose()

    # --- health -----------------------------------------------------------------------------

    def poll(self) -> None:
        """Probe the server now (and, embedded, look where it runs); skipped while one runs."""
        jobs = self.shell.jobs
        if jobs.running("connect") or jobs.running("health"):
            return
        client, uri = self.shell.connection.client, self.shell.connection.tracking_uri
        if client is None:
            return
        home = self.shell.settings.home
        embedded = self.embedded

        async def check() -> str:
            from console.connection import embedded_tracking_uri, probe

            if embedded:
                now = await asyncio.to_thread(embedded_tracking_uri, home)
                if now is None:
                    raise EmbeddedDown("the embedded MLflow server is not running")
                if now != uri:
                    return now  # restarted on another port: switch to it, probe next time
            await probe(client)
            return uri or ""

        self.shell.run(
            Job(
                "health",
                "checking the MLflow server",
                check,
                self._answered,
                on_error=self._down,
                retry=False,
                banner=False,
            )
        )

    def _answered(self, uri: str) -> None:
        if uri != self.shell.connection.tracking_uri:
            self._use(uri)
            self.shell.notify(f"the embedded MLflow server moved to {uri}; reconnected")
            self.poll_soon()
            return
        was_down = self.down_since is not None
        self.shell.main.banner.clear("health")
        self.connected = True
        self.down_since = None
        self.embedded_down = False
        self.shell.main.status.set_connection("connected")
        if not self.loaded and was_down and self.shell.main.body_ready:
            self.shell.main.detail.show_message("connected; loading…")
        if not self.loaded:
            self.loaded = True
            self.on_connected()
        elif was_down:
            self.on_reconnected()

    def poll_soon(self) -> None:
        self.shell.app.call_later(self.poll)

    def _down(self, error: BaseException) -> None:
        from console.tui.jobs import describe_failure

        self.on_down()
        self.connected = False
        self.embedded_down = isinstance(error, EmbeddedDown)
        if self.down_since is None:
            self.down_since = self.clock()
        since = time.strftime("%H:%M:%S", time.localtime(self.down_since))
        self.shell.main.status.set_connection(f"unreachable since {since} ({why_not(error)})")
        if not self.loaded and self.shell.main.body_ready:
            # nothing loaded yet: the detail strip said `connecting…`; say what the header says
            self.shell.main.detail.show_message(
                f"unreachable since {since} ({why_not(error)}); r retries"
            )
        # the whole story (and what to do) in the banner, until the server answers
        if self.embedded_down:
            message = f"{error}; {EMBEDDED_START_HINT}"
        else:
            message = describe_failure("MLflow does not answer", error)
        self.shell.main.banner.report(
            "health",
            f"{message} — checking every {HEALTH_EVERY_S:g} s",
            retrying=True,
            pinned=True,
        )

    def retry(self) -> bool:
        """``r``: start the embedded server again if it is down, else probe now.

        True when nothing else should be reloaded (no client yet, or the server is down).
        """
        if self.shell.connection.client is None or (self.embedded and self.embedded_down):
            if not self.shell.jobs.running("connect"):
                self.start()
            return True
        if not self.connected:
            self.poll()
            return True
        return False

    def _touch_embedded(self) -> None:
        from console.embedded.lifecycle import touch

        with contextlib.suppress(OSError):
            touch(self.shell.settings.home)
