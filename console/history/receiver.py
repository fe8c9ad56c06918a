"""The webhook receiver of the embedded server: MLflow registry events into the history inbox.

Run by the embedded supervisor (stdlib only) on 127.0.0.1: it registers one webhook
(``mlops-console-history``) with the embedded MLflow server, verifies each delivery's HMAC
signature (MLflow's ``X-MLflow-Signature``: ``v1,`` + base64 HMAC-SHA256 of
``delivery_id.timestamp.body``) and timestamp, and stores the few fields the history needs in the
``inbox`` table of ``history.db``. The console turns inbox rows into timeline events when it reads
a model. The HMAC secret and the key MLflow encrypts stored webhook secrets with live in
``<home>/history/`` with mode 0600; neither is ever logged or stored in the database.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.server
import json
import os
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from console.history import db as history_db

WEBHOOK_NAME = "mlops-console-history"
SECRET_FILE = "webhook-secret"
KEY_FILE = "webhook-encryption-key"
STATE_FILE = "receiver.json"
MAX_BODY = 256_000
MAX_SKEW_S = 300.0
REGISTER_WAIT_S = 300.0
EVENTS = [
    {"entity": "MODEL_VERSION_ALIAS", "action": "CREATED"},
    {"entity": "MODEL_VERSION_ALIAS", "action": "DELETED"},
    {"entity": "MODEL_VERSION", "action": "CREATED"},
    {"entity": "MODEL_VERSION_TAG", "action": "SET"},
]
# only these tag keys (the console's own promotion tags) are kept; other tag values may be secret
TAG_PREFIX = "mlops."

Log = Callable[[str], None]


def _private_file(path: Path, make: Callable[[], str]) -> str:
    """The content of ``path``, creating it (mode 0600, exclusively) with ``make()`` if absent."""
    history_db.private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text().strip()
        if value:
            return value
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        value = make()
        handle.write(value + "\n")
    return value


def webhook_secret(home: Path | str) -> str:
    """The HMAC secret shared with the embedded server (generated once per home)."""
    return _private_file(history_db.history_dir(home) / SECRET_FILE, lambda: secrets.token_hex(32))


def encryption_key(home: Path | str) -> str:
    """A Fernet key for ``MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY``, stable across server restarts.

    Without it MLflow picks a random key per process, and after a restart it can no longer decrypt
    the webhook secret it stored.
    """
    path = history_db.history_dir(home) / KEY_FILE
    return _private_file(path, lambda: base64.urlsafe_b64encode(os.urandom(32)).decode())


def server_env(home: Path | str) -> dict[str, str]:
    """What the embedded MLflow server needs to deliver webhooks to a loopback receiver.

    MLflow refuses webhook URLs that are not https or that resolve to private or loopback
    addresses unless told otherwise; this is set for the embedded server only.
    """
    return {
        "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
        "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
        "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": encryption_key(home),
        # the server caches the webhook list per event; a re-registered URL must apply quickly
        "MLFLOW_WEBHOOK_CACHE_TTL": "2",
    }


def signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """MLflow's signature of one delivery."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def inbox_row(body: bytes) -> dict | None:
    """The fields kept from one delivery, or None for events the history does not use."""
    doc = json.loads(body)
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        raise ValueError("not a webhook payload")
    entity, action, data = doc.get("entity"), doc.get("action"), doc["data"]
    if entity not in ("model_version_alias", "model_version", "model_version_tag"):
        return None
    row = {
        "entity": str(entity),
        "action": str(action),
        "time": str(doc.get("timestamp") or ""),
        "model": str(data.get("name") or ""),
        "version": None if data.get("version") is None else str(data["version"]),
        "alias": None if data.get("alias") is None else str(data["alias"]),
    }
    if entity == "model_version_tag":
        key = str(data.get("key") or "")
        if not key.startswith(TAG_PREFIX):
            return None
        row["key"] = key
        row["value"] = str(data.get("value") or "")[:2000]
    return row


class _Handler(http.server.BaseHTTPRequestHandler):
    # narrower than BaseRequestHandler's: only _ReceiverServer makes this handler
    server: _ReceiverServer  # pyright: ignore[reportIncompatibleVariableOverride]

    def log_message(self, format: str, *args: object) -> None:
        return None  # deliveries are not worth a log line each; failures are logged below

    def _reply(self, status: int, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._reply(200, "mlops-console history receiver\n")

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._reply(413, "body too large\n")
            return
        body = self.rfile.read(length)
        delivery = self.headers.get("X-MLflow-Delivery-Id") or ""
        stamp = self.headers.get("X-MLflow-Timestamp") or ""
        given = self.headers.get("X-MLflow-Signature") or ""
        expected = signature(self.server.secret, delivery, stamp, body)
        if not delivery or not hmac.compare_digest(given.encode(), expected.encode()):
            self.server.log("history receiver: rejected a delivery with a bad signature")
            self._reply(401, "bad signature\n")
            return
        try:
            skew = abs(time.time() - float(stamp))
        except ValueError:
            skew = float("inf")
        if skew > MAX_SKEW_S:
            self.server.log("history receiver: rejected a stale or undated delivery")
            self._reply(401, "stale delivery\n")
            return
        try:
            row = inbox_row(body)
        except ValueError:
            self._reply(400, "not a webhook payload\n")
            return
        if row is not None:
            try:
                self.server.store(delivery, row)
            except Exception as exc:  # noqa: BLE001 - MLflow retries on 5xx; say why in the log
                self.server.log(f"history receiver: cannot store a delivery: {exc}")
                self._reply(503, "cannot store\n")
                return
        self._reply(200, "ok\n")


class _ReceiverServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, home: Path, secret: str, log: Log) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.home = home
        self.secret = secret
        self.log = log
        self._lock = threading.Lock()

    def store(self, delivery_id: str, row: dict) -> None:
        with self._lock:
            conn = history_db.connect(self.home)
            try:
                conn.execute(
                    "INSERT OR IGNORE INTO inbox (delivery_id, received, payload) VALUES (?,?,?)",
                    (delivery_id, time.time(), json.dumps(row)),
                )
            finally:
                conn.close()


def _call(method: str, url: str, body: dict | None = None, timeout: float = 10.0) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read()
    return json.loads(raw) if raw else {}


def _healthy(server_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{server_url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def register(server_url: str, receiver_url: str, secret: str) -> str:
    """Create or update the console's webhook on the server; return its id."""
    api = f"{server_url}/api/2.0/mlflow/webhooks"
    ours: list[dict] = []
    token = None
    while True:
        page = _call("GET", api + (f"?page_token={token}" if token else ""))
        ours += [w for w in page.get("webhooks", []) if w.get("name") == WEBHOOK_NAME]
        token = page.get("next_page_token")
        if not token:
            break
    body = {"url": receiver_url, "events": EVENTS, "secret": secret, "status": "ACTIVE"}
    for extra in ours[1:]:
        with contextlib.suppress(OSError, ValueError):
            _call("DELETE", f"{api}/{extra['webhook_id']}")
    if ours:
        _call("PATCH", f"{api}/{ours[0]['webhook_id']}", body)
        return str(ours[0]["webhook_id"])
    created = _call(
        "POST",
        api,
        {
            "name": WEBHOOK_NAME,
            "description": "registry history of the mlops-console home that runs this server",
            **body,
        },
    )
    return str(created["webhook"]["webhook_id"])


class Receiver:
    """A running receiver: serves deliveries in a thread and registers itself with the server."""

    def __init__(self, home: Path | str, server_port: int, log: Log) -> None:
        self.home = Path(home)
        self.server_url = f"http://127.0.0.1:{server_port}"
        self.log = log
        self.http = _ReceiverServer(self.home, webhook_secret(self.home), log)
        self.port = self.http.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/mlflow-webhook"
        self.webhook_id: str | None = None
        self._serve = threading.Thread(target=self.http.serve_forever, daemon=True)
        self._register = threading.Thread(target=self._register_when_ready, daemon=True)

    def start(self) -> Receiver:
        self._serve.start()
        self._register.start()
        self._write_state()
        return self

    def _register_when_ready(self) -> None:
        deadline = time.monotonic() + REGISTER_WAIT_S
        while not _healthy(self.server_url):
            if time.monotonic() > deadline:
                self.log("history receiver: the server never answered; webhook not registered")
                return
            time.sleep(0.5)
        try:
            self.webhook_id = register(self.server_url, self.url, self.http.secret)
        except (OSError, ValueError, KeyError) as exc:
            detail = (
                exc.read().decode("utf-8", "replace")[:300]
                if isinstance(exc, urllib.error.HTTPError)
                else exc
            )
            self.log(f"history receiver: webhook registration failed: {detail}")
            return
        self._write_state()
        self.log(f"history receiver on {self.url} registered as webhook {self.webhook_id}")

    def _write_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "port": self.port,
            "url": self.url,
            "server": self.server_url,
            "webhook_id": self.webhook_id,
            "registered": self.webhook_id is not None,
            "updated_at": time.time(),
        }
        path = history_db.history_dir(self.home) / STATE_FILE
        tmp = path.with_suffix(".tmp")
        with contextlib.suppress(OSError):
            tmp.write_text(json.dumps(state))
            os.replace(tmp, path)

    def wait_registered(self, timeout: float) -> bool:
        self._register.join(timeout)
        return self.webhook_id is not None

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def read_state(home: Path | str) -> dict | None:
    """What ``receiver.json`` says (None when absent or unreadable)."""
    try:
        data = json.loads((history_db.history_dir(home) / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
