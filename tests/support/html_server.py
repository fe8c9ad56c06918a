"""A real HTTP server on 127.0.0.1 that answers every request with the same response: by
default an HTML page, as a login proxy or a mistyped URL would (the console must not call that
"connected"); or any status, content type and body a fault test needs."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator

SIGN_IN = b"<html><body>Please sign in</body></html>"


class _Answering(http.server.BaseHTTPRequestHandler):
    status = 200
    content_type = "text/html"
    body = SIGN_IN

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(self.status)
        self.send_header("content-type", self.content_type)
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def answering_server(
    status: int = 200, content_type: str = "text/html", body: bytes = SIGN_IN
) -> Iterator[str]:
    """Yields the URL of a server answering every request alike; stops it on exit."""
    handler = type(
        "Handler", (_Answering,), {"status": status, "content_type": content_type, "body": body}
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def html_server() -> contextlib.AbstractContextManager[str]:
    """A server answering every request with a sign-in page (HTTP 200, text/html)."""
    return answering_server()
