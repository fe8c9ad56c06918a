"""A real HTTP server on 127.0.0.1 that answers every request with an HTML page, as a login
proxy or a mistyped URL would: the console must not call that "connected"."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator


class _Html(http.server.BaseHTTPRequestHandler):
    def _page(self) -> None:
        body = b"<html><body>Please sign in</body></html>"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _page

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def html_server() -> Iterator[str]:
    """Yields the server's URL; stops it on exit."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Html)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
