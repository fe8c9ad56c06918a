"""A small TCP proxy on 127.0.0.1 for fault injection: delays every chunk, or holds responses.

``DelayProxy(target_port, delay=0.4)`` forwards both directions, sleeping ``delay`` seconds before
each chunk (a slow link between one console and the server). ``hold_after`` names a byte pattern
of a request (e.g. ``b"POST /api/2.0/mlflow/registered-models/alias"``): once a request holding
it has been forwarded, ``seen`` is set and responses are held back (the write reached the server,
its client never hears back) — the moment to kill the client; ``released`` ends the holding for
connections made afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading


class DelayProxy:
    def __init__(
        self, target_port: int, *, delay: float = 0.0, hold_after: bytes | None = None
    ) -> None:
        self.target_port = target_port
        self.delay = delay
        self.hold_after = hold_after
        self.seen = threading.Event()
        self.released = threading.Event()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.base_events.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _pump(self, reader, writer, *, upstream: bool) -> None:
        try:
            while chunk := await reader.read(65536):
                if self.delay:
                    await asyncio.sleep(self.delay)
                if not upstream and self.seen.is_set() and not self.released.is_set():
                    await asyncio.sleep(3600)  # held: the client never hears back
                writer.write(chunk)
                await writer.drain()
                if upstream and self.hold_after is not None and self.hold_after in chunk:
                    self.seen.set()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _handle(self, client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            client_writer.close()
            return
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(
                self._pump(client_reader, server_writer, upstream=True),
                self._pump(server_reader, client_writer, upstream=False),
            )
