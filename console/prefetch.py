"""The first page of runs, asked for while the console is still importing Textual.

Opening the console costs about 0.2 s of imports before its first frame, and pydantic, the
settings and the REST client cost 0.3 s more before its first request. ``start`` forks a helper
before any of that (this module imports only the standard library). With ``http.client``, the
helper asks the server for the experiments and the newest runs (the requests the console's
landing makes) and writes the answers to a pipe.
The console shows them as soon as its panes exist, *provisionally*: the normal path (settings,
client, probe, pages) runs as before and replaces them, so the header's connection state, paging
and every action still rest on the client's answers alone.

The helper runs only where it would ask exactly what the client asks, as the client would: a
tracking URI from ``--tracking-uri``, the environment or the profile (else the embedded server
of the console's home, if one runs: the helper reads ``console.embedded.lifecycle.status``, which
starts nothing); Basic or Bearer credentials as ``console.mlflow.auth`` sends
them. Proxies, custom TLS settings and credentials in the URL mean no helper, and the console
starts as it always did. Secrets stay in the helper's memory; it writes only the server's answers,
never prints, and is gone within ``HELPER_DEADLINE_S`` whatever happens.

The console reads the answers into light wire views (``console.prefetch_views``) that the panes'
code draws without pydantic.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from console.errors import SettingsError
from console.http_auth import authorization
from console.overrides import CliOverrides
from console.settings_files import (
    PROFILE_SETTINGS,
    check_http_url,
    config_path,
    default_home,
    env_bool,
    env_value,
    read_profiles,
)

if TYPE_CHECKING:
    from console.prefetch_views import FirstAnswers

# the landing's requests (console.tui.data makes them with these too)
EXPERIMENT_PAGE = 200
RUN_PAGE = 100
RUN_ORDER = "attributes.start_time DESC"
EXPERIMENT_ORDER = ("last_update_time DESC", "name ASC")
API = "/api/2.0/mlflow"
USER_AGENT = "mlops-console"
# each request; the client's own timeout still governs the normal path
REQUEST_TIMEOUT_S = 5.0
# what the panes read of an experiment and of a run's info (console.prefetch_views)
EXPERIMENT_FIELDS = ("experiment_id", "name")
RUN_INFO_FIELDS = ("run_id", "run_uuid", "run_name", "experiment_id", "user_id", "status")
RUN_INFO_FIELDS += ("start_time", "end_time")
# the pipe's size (Linux caps it at /proc/sys/fs/pipe-max-size, 1 MiB by default)
PIPE_BYTES = 1 << 20
# the helper exits by then, answered or not (a console that never reads must not keep it)
HELPER_DEADLINE_S = 15.0
# an answer larger than this is not a first page: the helper gives up
MAX_ANSWER_BYTES = 32 * 1024 * 1024
# nor is a trimmed page larger than this (the console parses it on its UI thread)
MAX_HANDED_BYTES = 4 * 1024 * 1024
# httpx (trust_env) reads proxies as urllib does: any case of these names
PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy"})
TLS_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")


# --- where to ask -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The server to ask (``uri``), or the home whose embedded server to ask (``uri`` None)."""

    uri: str | None
    home: Path
    headers: dict[str, str] = field(default_factory=dict, repr=False)


def _plain_http_url(value: str) -> str | None:
    """``value`` as the settings normalise it, if the helper can use it as the client would:
    a URL the settings accept, without credentials, query or fragment."""
    value = value.strip()
    if not value.startswith(("http://", "https://")):
        return None
    try:
        check_http_url(value)
    except ValueError:
        return None
    parts = urlsplit(value)
    if "@" in parts.netloc or parts.query or parts.fragment:
        return None
    return value.rstrip("/")


def find_target(overrides: CliOverrides, env: Mapping[str, str]) -> Target | None:
    """Where the console will connect, resolved as ``console.settings.load_settings`` does,
    or None when the helper could not ask exactly as the client will."""
    try:
        profiles, default = read_profiles(config_path(env))
    except SettingsError:
        return None  # the settings will say what is wrong
    name = overrides.profile or env.get("MLOPS_CONSOLE_PROFILE") or default
    if name and name not in profiles:
        return None
    profile: Mapping[str, Any] = profiles.get(name, {}) if name else {}
    if set(profile) - PROFILE_SETTINGS:
        return None  # the settings will refuse the profile: no request before they do
    texts = [v for k, v in profile.items() if k.startswith("tracking_") and not k.endswith("_tls")]
    if any(not isinstance(v, str) for v in texts):
        return None  # a number or table where a URI or credential belongs: the settings refuse it

    def setting(key: str) -> Any:
        found = env_value(key, env)
        return found[0] if found else profile.get(key)

    try:
        insecure = setting("tracking_insecure_tls")
        if isinstance(insecure, str):
            insecure = env_bool("MLFLOW_TRACKING_INSECURE_TLS", insecure)
        elif insecure is not None and not isinstance(insecure, bool):
            return None
    except SettingsError:
        return None
    # any certificate setting at all, even an empty one (the client would read it as a path)
    certificates = ("tracking_server_cert_path", "tracking_client_cert_path")
    if insecure or any(setting(key) is not None for key in certificates):
        return None
    if any(value and name.lower() in PROXY_VARIABLES for name, value in env.items()):
        return None
    uri = overrides.tracking_uri if overrides.tracking_uri is not None else setting("tracking_uri")
    home = overrides.home if overrides.home is not None else setting("home")
    home_path = default_home(env) if home is None else Path(str(home)).expanduser()
    if not home_path.is_absolute():
        home_path = home_path.resolve()
    if uri is not None and not isinstance(uri, str):
        return None
    if uri:
        uri = _plain_http_url(uri)
        if uri is None:
            return None
        if uri.startswith("https://") and any(env.get(name) for name in TLS_VARIABLES):
            return None
    headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json"}
    headers |= authorization(
        setting("tracking_username"), setting("tracking_password"), setting("tracking_token")
    )
    return Target(uri or None, home_path, headers)


# --- the helper -------------------------------------------------------------------------------


class _Refused(Exception):
    """The server's answer is not one the helper can hand over."""


def _post(conn: Any, prefix: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    conn.request("POST", f"{prefix}{API}/{path}", json.dumps(body).encode(), headers)
    response = conn.getresponse()
    data = response.read(MAX_ANSWER_BYTES + 1)
    if response.status != 200 or len(data) > MAX_ANSWER_BYTES:
        raise _Refused(f"{path}: HTTP {response.status}")
    if "json" not in (response.getheader("Content-Type") or ""):
        raise _Refused(f"{path}: not JSON")
    doc = json.loads(data)
    if not isinstance(doc, dict):
        raise _Refused(f"{path}: not an object")
    return doc


def _connection(uri: str) -> tuple[Any, str]:
    import http.client

    parts = urlsplit(uri)
    if parts.hostname is None:
        raise _Refused("the tracking URI names no host")
    if parts.scheme == "https":
        import ssl

        try:
            import certifi  # httpx's default trust store, so both trust the same servers

            context = ssl.create_default_context(cafile=certifi.where())
        except ImportError:
            context = ssl.create_default_context()
        conn: Any = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=REQUEST_TIMEOUT_S, context=context
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT_S)
    return conn, parts.path.rstrip("/")


def fetch(target: Target) -> dict[str, Any] | None:
    """The landing's answers: the first page of experiments and the newest runs across them."""
    uri = target.uri
    if uri is None:
        from console.embedded.lifecycle import status

        current = status(target.home)
        uri = current.tracking_uri if current.running else None
        if not uri:
            return None
    conn, prefix = _connection(uri)
    try:
        found = _post(
            conn,
            prefix,
            "experiments/search",
            {"max_results": EXPERIMENT_PAGE, "order_by": list(EXPERIMENT_ORDER)},
            target.headers,
        )
        experiments = [
            e
            for e in found.get("experiments") or []
            if isinstance(e, dict) and e.get("experiment_id")
        ]
        if not experiments:
            return None
        runs = _post(
            conn,
            prefix,
            "runs/search",
            {
                "experiment_ids": [str(e["experiment_id"]) for e in experiments],
                "order_by": [RUN_ORDER],
                "max_results": RUN_PAGE,
            },
            target.headers,
        )
    finally:
        conn.close()
    return {
        "experiments": [{k: e.get(k) for k in EXPERIMENT_FIELDS} for e in experiments],
        "experiments_more": bool(found.get("next_page_token")),
        "runs": [_trimmed(r) for r in runs.get("runs") or [] if isinstance(r, dict)],
    }


def _trimmed(run: dict[str, Any]) -> dict[str, Any]:
    """The parts of a run the runs table reads, in the wire's shape: a page the pipe holds at
    once (a run's tags alone can be tens of kilobytes), so the helper need not wait for a
    console that is still painting to read it."""
    info = run.get("info")
    info = info if isinstance(info, dict) else {}
    data = run.get("data")
    data = data if isinstance(data, dict) else {}
    tags = data.get("tags")
    if isinstance(tags, list):
        tags = [t for t in tags if isinstance(t, dict) and t.get("key") == "mlflow.runName"]
    metrics = data.get("metrics")
    if isinstance(metrics, list):
        metrics = [
            {"key": m.get("key"), "value": m.get("value")} if isinstance(m, dict) else m
            for m in metrics
        ]
    return {
        "info": {k: info[k] for k in RUN_INFO_FIELDS if k in info},
        "data": {"params": data.get("params"), "metrics": metrics, "tags": tags},
    }


def _write_all(fd: int, data: bytes, deadline: float) -> None:
    view = memoryview(data)
    while view:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        _, writable, _ = select.select([], [fd], [], left)
        if writable:
            view = view[os.write(fd, view[: 1 << 16]) :]


def _helper(target: Target, fd: int) -> None:
    deadline = time.monotonic() + HELPER_DEADLINE_S
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(int(HELPER_DEADLINE_S) + 1)  # a hung DNS lookup or TLS handshake too
    answers = fetch(target)
    if answers is not None:
        data = json.dumps(answers).encode()
        if len(data) <= MAX_HANDED_BYTES:  # parsed on the console's UI thread: keep it small
            os.set_blocking(fd, False)
            _write_all(fd, data, deadline)


# --- the console's side -----------------------------------------------------------------------


class FirstPage:
    """The console's end of the helper: the pipe to read, and the process to reap."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd
        self._chunks: list[bytes] = []
        self._size = 0
        self.done = False

    def read_available(self) -> bool:
        """Read what the pipe holds now; True once the helper is finished (EOF or error)."""
        if self.done:
            return True
        try:
            while True:
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    self.done = True
                    break
                self._chunks.append(chunk)
                self._size += len(chunk)
                if self._size > MAX_ANSWER_BYTES:
                    self._chunks.clear()
                    self.done = True
                    break
        except BlockingIOError:
            pass
        except OSError:
            self._chunks.clear()
            self.done = True
        return self.done

    def result(self) -> FirstAnswers | None:
        """What the helper found, as wire views; None when it found nothing usable."""
        if not self.done or not self._chunks:
            return None
        from console.prefetch_views import FirstAnswers

        try:
            return FirstAnswers.from_doc(json.loads(b"".join(self._chunks)))
        except Exception:  # noqa: BLE001 - a server's answer: whatever it holds, no page
            return None

    def close(self) -> None:
        """Close the pipe and reap the helper (ended if it still runs); what was read stays."""
        self.done = True
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1
        if self.pid:
            with contextlib.suppress(OSError):
                if os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                    os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
            self.pid = 0


def start(overrides: CliOverrides, env: Mapping[str, str] | None = None) -> FirstPage | None:
    """Fork the helper if it can ask as the client will; call before importing Textual."""
    env = os.environ if env is None else env
    if env.get("MLOPS_CONSOLE_NO_PREFETCH"):
        return None
    target = find_target(overrides, env)
    if target is None:
        return None
    read_fd, write_fd = os.pipe()
    with contextlib.suppress(OSError, AttributeError):
        # room for the whole page: the helper writes it and exits while the console paints
        import fcntl

        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    # no SIGINT between the fork and the helper's own handler: a KeyboardInterrupt there would
    # send the helper back into the console's code
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pid = os.fork()
    except OSError:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:  # the helper: never returns into the console's code
        code = 0
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # ctrl+c ends it, no Python involved
            signal.pthread_sigmask(signal.SIG_SETMASK, mask - {signal.SIGALRM})
            os.close(read_fd)
            _helper(target, write_fd)
        except BaseException:  # noqa: BLE001 - whatever fails, the console starts as before
            code = 1
        finally:
            os._exit(code)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os.close(write_fd)
    os.set_blocking(read_fd, False)
    return FirstPage(pid, read_fd)
