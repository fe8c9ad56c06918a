"""Issue 20, findings 4–6, 8 and 9: faults around the audit trail, the lease and the history tags.

Real parts only: a real full filesystem (a 64 kB tmpfs mounted over ``<home>/audit``; skipped
with the reason where the machine does not allow mounts), a real MLflow server paused with
SIGSTOP during the second verification, leases and forged tags written with MLflow's own client,
a console process killed with SIGKILL, and the CLI run as a subprocess.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from commands.promote_lease import (
    LEASE_TAG,
    MAX_TTL,
    Lease,
    LeaseBroken,
    LeaseBusy,
    LeaseTiming,
    acquire,
    classify,
    home_id,
    process_gone,
    process_start,
)
from tests.promote.conftest import Seeder
from tests.safety.conftest import console_cli
from tests.support.servers import MlflowServer, start_mlflow_server

# --- helpers -------------------------------------------------------------------------------------


def _mount(args: list[str]) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"this machine does not allow mounts ({done.stderr.strip() or 'mount failed'})")


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str = "64k") -> Iterator[Path]:
    """A tiny real filesystem mounted over ``path`` (which is created)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    _mount(["-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)])
    try:
        yield path
    finally:
        _umount(path)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """``path`` bind-mounted read-only over itself."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root")
    path.mkdir(parents=True, exist_ok=True)
    _mount(["--bind", str(path), str(path)])
    try:
        _mount(["-o", "remount,bind,ro", str(path)])
        yield path
    finally:
        _umount(path)


def fill(directory: Path) -> None:
    """Fill the filesystem of ``directory`` until it refuses another byte.

    Also the slack of the last page of an existing audit log (blank lines, which the log skips),
    so the next record cannot fit anywhere.
    """
    with open(directory / "filler", "wb", buffering=0) as handle:
        for chunk in (65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    handle.write(b"\0" * chunk)
    log = directory / "audit.jsonl"
    if log.exists():
        with open(log, "ab", buffering=0) as handle, contextlib.suppress(OSError):
            while True:
                handle.write(b"\n")
    with pytest.raises(OSError) as caught, open(directory / "probe", "wb", buffering=0) as probe:
        probe.write(b"x" * 4096)
    assert caught.value.errno == errno.ENOSPC


def audit_records(home: Path) -> list[dict]:
    path = home / "audit" / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def mlops_tags(tags: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in tags.items() if k.startswith("mlops.")}


def model_tags(seeder: Seeder, name: str) -> dict[str, str]:
    doc = seeder.http.get("/api/2.0/mlflow/registered-models/get", params={"name": name}).json()
    return {t["key"]: t["value"] for t in doc["registered_model"].get("tags", [])}


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines() if line.startswith("mlops-console: error")]
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    return lines[0]


def mlflow_client(url: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=url, registry_uri=url)


# --- finding 4: a full audit disk -----------------------------------------------------------------


def test_full_audit_disk_refuses_a_promotion_before_any_write(mlflow_server, seeder, tmp_path):
    name = seeder.model([{}, {}])
    seeder.alias(name, "diskfull", "1")
    home = tmp_path / "home"
    with small_tmpfs(home / "audit") as audit:
        fill(audit)
        done = console_cli(
            home, "--tracking-uri", mlflow_server.url, "promote", name, "2",
            "--alias", "diskfull", "--yes",
        )  # fmt: skip
        assert done.returncode == 6, (done.stdout, done.stderr)
        line = one_error_line(done)
        assert "cannot write the audit record" in line
        assert "No space left on device" in line and "nothing was changed" in line
        assert "succeeded" not in done.stdout
    # nothing on the server: alias unmoved, no promotion tags, no lease left behind
    assert seeder.aliases(name) == {"diskfull": "1"}
    assert mlops_tags(seeder.version(name, "2")["tags"]) == {}
    assert LEASE_TAG not in model_tags(seeder, name)


def test_full_audit_disk_refuses_undo(mlflow_server, seeder, tmp_path):
    name = seeder.model([{}, {}])
    seeder.alias(name, "undone", "1")
    home = tmp_path / "home"
    common = ["--tracking-uri", mlflow_server.url]
    with small_tmpfs(home / "audit") as audit:
        done = console_cli(home, *common, "promote", name, "2", "--alias", "undone", "--yes")
        assert done.returncode == 0, done.stderr
        before = audit_records(home)
        fill(audit)
        done = console_cli(home, *common, "undo", name, "--yes")
        assert done.returncode == 6, (done.stdout, done.stderr)
        assert "nothing was changed" in one_error_line(done)
        after = audit_records(home)
    assert seeder.aliases(name) == {"undone": "2"}  # the undo wrote nothing
    assert len(after) == len(before)  # and no half record was left in the log
    assert seeder.version(name, "1")["tags"].get("mlops.promotion_audit_id") is None


def test_full_audit_disk_refuses_a_runbook_action(mlflow_server, seeder, tmp_path):
    name = seeder.model([{}, {}])
    seeder.alias(name, "rb", "1")
    books = tmp_path / "books"
    books.mkdir()
    (books / "move-alias.md").write_text(
        "---\nname: move-alias\ntitle: Move an alias\nsummary: one promotion\n"
        "when_to_use: in a test\nparameters:\n  model:\n    type: string\n    default: x\n---\n\n"
        "# Move an alias\n\n## Move it\n\nThe alias moves to v2.\n\n"
        "```step\nid: move\nkind: action\ncommand: retrain.promote\nargs:\n"
        '  model: "{{ params.model }}"\n  version: "2"\n  alias: rb\n  expect: "1"\n'
        "on_failure: the alias was not moved\n```\n"
    )
    home = tmp_path / "home"
    env = {"MLOPS_CONSOLE_RUNBOOKS": str(books)}
    with small_tmpfs(home / "audit") as audit:
        fill(audit)
        done = console_cli(
            home, "--tracking-uri", mlflow_server.url, "runbook", "run", "move-alias",
            "--set", f"model={name}", "--yes", "--json", env=env,
        )  # fmt: skip
        assert done.returncode != 0, (done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        assert done.stdout, done.stderr
        transcript = json.loads(done.stdout)
        [step] = transcript["steps"]
        assert step["state"] == "failed"
        assert "cannot write the audit record" in step["error"]
        assert "nothing was changed" in step["error"]
    assert seeder.aliases(name) == {"rb": "1"}
    assert mlops_tags(seeder.version(name, "2")["tags"]) == {}


class _StandInService(BaseHTTPRequestHandler):
    """A deployment stand-in: answers ``/version``, counts ``/reload``."""

    reloads: list[bytes] = []

    def do_GET(self) -> None:
        body = json.dumps({"version": "1"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        type(self).reloads.append(self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


def test_full_audit_disk_refuses_rollout_and_rollback(mlflow_server, seeder, tmp_path, monkeypatch):
    """A rollout reloads nothing and a rollback moves no alias when the audit is full."""
    from commands import rollout as rollout_module
    from commands.driver import TerminalDriver
    from console.audit import AuditUnavailable
    from console.deployment_model import DeploymentRecord
    from console.mlflow.client import MlflowRestClient
    from console.settings import Settings

    name = seeder.model([{}, {}])
    seeder.alias(name, "live", "2")
    _StandInService.reloads = []
    service = ThreadingHTTPServer(("127.0.0.1", 0), _StandInService)
    threading.Thread(target=service.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{service.server_address[1]}"
    record = DeploymentRecord(
        name="standin",
        url=url,
        model=name,
        version="1",
        alias="live",
        port=service.server_address[1],
        started=datetime.now(UTC),
        tracking_uri=mlflow_server.url,
        home=str(tmp_path / "home"),
        previous_version="1",
    )
    monkeypatch.setattr(rollout_module, "_record", lambda ctx, _name: (tmp_path / "r", record))
    home = tmp_path / "home"
    settings = Settings(home=home, tracking_uri=mlflow_server.url, promotion_settle_seconds=0.1)

    async def attempt(kind: str) -> None:
        async with MlflowRestClient(mlflow_server.url) as client:
            ctx = rollout_module.DeployContext.from_settings(settings, client, mlflow_server.url)
            driver = TerminalDriver(assume_yes=True)
            if kind == "rollout":
                await rollout_module.rollout(ctx, "standin", driver)
            else:
                await rollout_module.rollback(ctx, "standin", driver, to_version="1")

    try:
        with small_tmpfs(home / "audit") as audit:
            fill(audit)
            for kind in ("rollout", "rollback"):
                with pytest.raises(AuditUnavailable) as caught:
                    asyncio.run(attempt(kind))
                assert "nothing was changed" in str(caught.value)
                assert caught.value.exit_code == 6
    finally:
        service.shutdown()
    assert _StandInService.reloads == []  # nothing reloaded
    assert seeder.aliases(name) == {"live": "2"}  # nothing moved
    assert LEASE_TAG not in model_tags(seeder, name)


def test_audit_append_leaves_no_half_line_on_a_full_disk(tmp_path):
    from console.audit import AuditError, AuditLog, AuditRecord, os_actor

    with small_tmpfs(tmp_path / "audit", size="8k") as audit:
        log = AuditLog(audit)
        log.append(AuditRecord(action="t.first", outcome="succeeded", actor=os_actor()))
        fill(audit)
        (audit / "probe").unlink(missing_ok=True)
        size = (audit / "audit.jsonl").stat().st_size
        with pytest.raises(AuditError):
            log.append(
                AuditRecord(action="t.big", outcome="pending", actor=os_actor(), message="x" * 9000)
            )
        assert (audit / "audit.jsonl").stat().st_size == size
        read = log.read()
        assert [r.action for r in read.records] == ["t.first"] and read.unreadable_lines == 0


# --- finding 8: a read-only home or audit/ ------------------------------------------------------


def test_read_only_audit_directory_is_an_environment_error(mlflow_server, seeder, tmp_path):
    name = seeder.model([{}, {}])
    seeder.alias(name, "ro", "1")
    home = tmp_path / "home"
    (home / "audit").mkdir(parents=True)
    with read_only(home / "audit"):
        done = console_cli(
            home, "--tracking-uri", mlflow_server.url, "promote", name, "2", "--alias", "ro",
            "--yes",
        )  # fmt: skip
        assert done.returncode == 6, (done.stdout, done.stderr)
        line = one_error_line(done)
        assert "Read-only file system" in line and "nothing was changed" in line
    assert seeder.aliases(name) == {"ro": "1"}


def test_read_only_home_is_never_an_internal_error(mlflow_server, seeder, tmp_path):
    name = seeder.model([{}, {}])
    seeder.alias(name, "roh", "1")
    home = tmp_path / "home"
    common = ["--tracking-uri", mlflow_server.url]
    # a home that was used once (audit, history) and is then mounted read-only
    assert console_cli(home, *common, "history", name).returncode == 0
    with read_only(home):
        for args in (
            ["promote", name, "2", "--alias", "roh", "--yes"],
            ["history", name],
            ["undo", name, "--yes"],
            ["versions", name],
        ):
            done = console_cli(home, *common, *args)
            assert done.returncode != 70, (args, done.stderr)
            assert "internal error" not in done.stderr and "Traceback" not in done.stderr, args
            if done.returncode != 0:
                assert done.returncode == 6, (args, done.stderr)
                assert "Read-only file system" in one_error_line(done) or "cannot be written" in (
                    done.stderr
                )
    assert seeder.aliases(name) == {"roh": "1"}
    # a read-only database is not a corrupt one: it was not moved aside
    assert [p.name for p in (home / "history").iterdir() if "corrupt" in p.name] == []


def test_undo_with_an_empty_event_id_is_a_usage_error(mlflow_server, seeder, tmp_path):
    name = seeder.model([{}, {}])
    seeder.alias(name, "e", "1")
    home = tmp_path / "home"
    common = ["--tracking-uri", mlflow_server.url]
    assert console_cli(home, *common, "promote", name, "2", "--alias", "e", "--yes").returncode == 0
    done = console_cli(home, *common, "undo", name, "--event", "", "--yes")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "more than one" not in one_error_line(done)
    assert seeder.aliases(name) == {"e": "2"}


# --- finding 5: the server paused during the second verification --------------------------------


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[MlflowServer]:
    """A server of this test alone (it is paused; the session's server must not be)."""
    server = start_mlflow_server(tmp_path / "own-mlflow", timeout=300)
    try:
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.proc.pid, signal.SIGCONT)
        server.stop()


def test_paused_server_during_verification_says_the_write_may_have_happened(own_server, tmp_path):
    seeder = Seeder(own_server.url)
    name = seeder.model([{}, {}])
    seeder.alias(name, "paused", "1")
    home = tmp_path / "home"
    env = {
        "MLOPS_CONSOLE_PROMOTION_SETTLE_SECONDS": "4",
        "MLOPS_CONSOLE_REQUEST_TIMEOUT": "2",
    }
    cmd = [sys.executable, "-m", "console", "--home", str(home)]
    cmd += ["--tracking-uri", own_server.url, "promote", name, "2", "--alias", "paused", "--yes"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    proc = subprocess.Popen(
        cmd,
        cwd=Path(__file__).resolve().parents[2],
        env={**base, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while seeder.aliases(name).get("paused") != "2":
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the promotion never wrote"
            time.sleep(0.05)
        # the first verification follows the write at once; the second one comes after the
        # settle time (4 s): pause the server in between
        time.sleep(1.0)
        os.killpg(own_server.proc.pid, signal.SIGSTOP)
        out, err = proc.communicate(timeout=120)
    finally:
        os.killpg(own_server.proc.pid, signal.SIGCONT)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 7, (out, err)
    assert "unconfirmed" in out and "may have moved" in out, out
    assert f"mlops-console history {name}" in out
    assert "Traceback" not in err
    records = audit_records(home)
    [intent] = [r for r in records if r["outcome"] == "pending"]
    assert not [r for r in records if r["details"].get("intent_id") == intent["id"]]
    assert mlops_tags(seeder.version(name, "2")["tags"]) == {}  # not yet
    # the next read of the model resolves it: the audit gets the outcome, the version its tags
    done = console_cli(home, "--tracking-uri", own_server.url, "history", name)
    assert done.returncode == 0, done.stderr
    assert "resolved" in done.stderr
    [outcome] = [r for r in audit_records(home) if r["details"].get("intent_id") == intent["id"]]
    assert outcome["outcome"] == "succeeded"
    assert "the write took effect" in outcome["message"]
    tags = seeder.version(name, "2")["tags"]
    assert tags["mlops.promotion_audit_id"] == outcome["id"]
    assert tags["mlops.promotion"] == "alias paused"
    # and the history shows it as a verified console promotion
    shown = console_cli(home, "--tracking-uri", own_server.url, "history", name, "--json")
    events = [e for e in json.loads(shown.stdout) if e["kind"] == "alias" and e["to"] == "2"]
    assert events and all(not e["unverified"] for e in events)


# --- finding 6: leases ----------------------------------------------------------------------------


def test_lease_classification_and_processes():
    now = time.time()
    ok = Lease(token="t", holder="h", expires_at=now + MAX_TTL)
    assert classify(ok.model_dump_json(), now).broken is None
    far = Lease(token="t", holder="h", expires_at=datetime(2100, 1, 1, tzinfo=UTC).timestamp())
    seen = classify(far.model_dump_json(), now)
    assert seen.broken is not None and "2100-01-01" in seen.broken
    assert classify("not json", now).broken is not None
    assert classify('{"token": 1}', now).broken is not None
    assert classify(None, now).lease is None and classify(None, now).broken is None
    assert not process_gone(os.getpid(), process_start(os.getpid()))
    assert process_gone(os.getpid(), "1")  # same pid, other start time: a reused pid


def test_far_future_lease_is_refused_at_once_then_broken_with_a_reason(
    mlflow_server, seeder, tmp_path
):
    name = seeder.model([{}, {}])
    seeder.alias(name, "leased", "1")
    forever = Lease(
        token=uuid.uuid4().hex,
        holder="mallory@elsewhere",
        expires_at=datetime(2100, 1, 1, tzinfo=UTC).timestamp(),
    )
    mlflow_client(mlflow_server.url).set_registered_model_tag(
        name, LEASE_TAG, forever.model_dump_json()
    )
    home = tmp_path / "home"
    common = ["--tracking-uri", mlflow_server.url]
    started = time.monotonic()
    done = console_cli(home, *common, "promote", name, "2", "--alias", "leased", "--yes")
    assert time.monotonic() - started < 40  # not the 60 s wait for a live lease
    assert done.returncode == 4, (done.stdout, done.stderr)
    assert "broken" in done.stdout and "--break-lease" in done.stdout, done.stdout
    assert seeder.aliases(name) == {"leased": "1"}
    # a break needs a reason
    done = console_cli(
        home, *common, "promote", name, "2", "--alias", "leased", "--break-lease", "--yes"
    )
    assert done.returncode != 0 and "reason" in done.stderr
    assert seeder.aliases(name) == {"leased": "1"}
    done = console_cli(
        home, *common, "promote", name, "2", "--alias", "leased", "--yes",
        "--break-lease", "--reason", "x",
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert seeder.aliases(name) == {"leased": "2"}
    assert LEASE_TAG not in model_tags(seeder, name)  # released after the promotion
    [broke] = [r for r in audit_records(home) if r["action"] == "promote.break_lease"]
    assert broke["reason"] == "x" and broke["model"] == name
    assert "mallory@elsewhere" in broke["details"]["lease"]


def test_unreadable_lease_is_broken_too(mlflow_server, seeder, tmp_path):
    name = seeder.model([{}, {}])
    mlflow_client(mlflow_server.url).set_registered_model_tag(name, LEASE_TAG, "garbage{")
    home = tmp_path / "home"
    done = console_cli(
        home, "--tracking-uri", mlflow_server.url, "promote", name, "2", "--alias", "g", "--yes"
    )
    assert done.returncode == 4 and "broken" in done.stdout, (done.stdout, done.stderr)
    assert seeder.aliases(name) == {}


def _dead_pid() -> tuple[int, str | None]:
    proc = subprocess.Popen(["sleep", "60"])
    started = process_start(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return proc.pid, started


def test_dead_consoles_lease_is_taken_over_by_its_home(mlflow_server, seeder, tmp_path):
    name = seeder.model([{}, {}])
    seeder.alias(name, "dead", "1")
    home = tmp_path / "home"
    pid, started = _dead_pid()
    left = Lease(
        token=uuid.uuid4().hex,
        holder="me@here",
        expires_at=time.time() + MAX_TTL - 5,
        host=socket.gethostname(),
        home=home_id(home),
        pid=pid,
        started=started,
    )
    mlflow_client(mlflow_server.url).set_registered_model_tag(
        name, LEASE_TAG, left.model_dump_json()
    )

    # another home does not take it over: it is a live lease of someone else
    async def other_home() -> None:
        from commands.driver import TerminalDriver
        from console.mlflow.client import MlflowRestClient

        async with MlflowRestClient(mlflow_server.url) as client:
            timing = LeaseTiming(settle=0.05, wait=0.5, poll=0.05)
            await acquire(
                client, name, "other@here", timing, TerminalDriver(assume_yes=True),
                home=home_id(tmp_path / "other-home"),
            )  # fmt: skip

    with pytest.raises(LeaseBusy) as caught:
        asyncio.run(other_home())
    assert not isinstance(caught.value, LeaseBroken)
    # the home whose console died takes it over at once
    started_at = time.monotonic()
    done = console_cli(
        home, "--tracking-uri", mlflow_server.url, "promote", name, "2", "--alias", "dead", "--yes"
    )
    assert time.monotonic() - started_at < 40
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "no longer running" in done.stderr
    assert seeder.aliases(name) == {"dead": "2"}
    [taken] = [r for r in audit_records(home) if r["action"] == "promote.release_dead_lease"]
    assert str(pid) in taken["message"]


# --- finding 9: forged history tags ---------------------------------------------------------------


def test_forged_promotion_tags_show_as_unverified_and_are_not_undone(
    mlflow_server, seeder, tmp_path
):
    name = seeder.model([{}, {}, {}])
    home = tmp_path / "home"
    common = ["--tracking-uri", mlflow_server.url]
    # a genuine promotion from this home: verified
    assert (
        console_cli(home, *common, "promote", name, "2", "--alias", "real", "--yes").returncode == 0
    )
    genuine = seeder.version(name, "2")["tags"]["mlops.promotion_audit_id"]
    # forged tags, set with MLflow's own client: one with a made-up audit id, one copying the
    # genuine id onto another version and alias
    client = mlflow_client(mlflow_server.url)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    client.set_registered_model_alias(name, "champion", "3")
    for key, value in {
        "mlops.promoted_by": "alice",
        "mlops.promoted_at": now,
        "mlops.promotion": "alias champion",
        "mlops.promotion_audit_id": uuid.uuid4().hex,
        "mlops.promotion_reason": "approved by the board",
    }.items():
        client.set_model_version_tag(name, "3", key, value)
    for key, value in {
        "mlops.promoted_by": "bob",
        "mlops.promoted_at": now,
        "mlops.promotion": "stage Production",
        "mlops.promotion_audit_id": genuine,
    }.items():
        client.set_model_version_tag(name, "1", key, value)
    done = console_cli(home, *common, "history", name, "--json")
    assert done.returncode == 0, done.stderr
    events = json.loads(done.stdout)
    real = [e for e in events if e["kind"] == "alias" and e["name"] == "real"]
    assert real and not real[0]["unverified"] and "console" in real[0]["sources"]
    champion = [e for e in events if e["kind"] == "alias" and e["name"] == "champion"]
    assert champion and champion[0]["unverified"] is True and champion[0]["actor"] == "alice"
    forged_stage = [e for e in events if e.get("actor") == "bob"]
    assert all(e["unverified"] for e in forged_stage)
    text = console_cli(home, *common, "history", name)
    assert text.returncode == 0
    [row] = [line for line in text.stdout.splitlines() if "champion" in line]
    assert "UNVERIFIED" in row and "alice?" in row
    assert "no audit record of this home confirms" in text.stdout
    # undo refuses the forged event, and never picks it as "the operator's newest change"
    done = console_cli(home, *common, "undo", name, "--event", champion[0]["id"], "--yes")
    assert done.returncode == 4, (done.stdout, done.stderr)
    assert "unverified" in done.stdout
    assert seeder.aliases(name)["champion"] == "3"


# --- the outcome record fails after the write; resolution is cheap ------------------------------


def test_outcome_record_failing_after_the_write_says_so_and_is_resolved_later(
    mlflow_server, seeder, tmp_path, monkeypatch
):
    from commands.history import resolve_pending
    from commands.promote import promote
    from console.audit import AuditError, AuditLog
    from console.promotion_model import PromotionRequest
    from tests.promote.conftest import Flow
    from tests.promote.test_actions import Recorder

    name = seeder.model([{}, {}])
    seeder.alias(name, "late", "1")
    flow = Flow(mlflow_server.url, tmp_path / "home")
    real_append = AuditLog.append
    calls: list[str] = []

    def append(self, record):
        calls.append(record.outcome)
        if record.outcome == "succeeded" and record.action == "promote.set_alias":
            raise AuditError("cannot write", reason="No space left on device")
        return real_append(self, record)

    async def attempt():
        async with flow.client() as client:
            return await promote(
                flow.context(client),
                PromotionRequest(model=name, version="2", alias="late"),
                Recorder(),
            )

    monkeypatch.setattr(AuditLog, "append", append)
    result = asyncio.run(attempt())
    monkeypatch.setattr(AuditLog, "append", real_append)
    assert result.outcome == "succeeded" and result.audit_id is None
    [warning] = [w for w in result.warnings if "outcome record" in w]
    assert "the registry write happened" in warning and "intent record" in warning
    assert "No space left on device" in warning
    assert seeder.aliases(name) == {"late": "2"}
    assert mlops_tags(seeder.version(name, "2")["tags"]) == {}  # no tag names a missing record
    [intent] = [r for r in audit_records(flow.home) if r["outcome"] == "pending"]

    async def read_again():
        async with flow.client() as client:
            return await resolve_pending(flow.settings(), client, name)

    notes = asyncio.run(read_again())
    assert notes and "resolved" in notes[0]
    [outcome] = [
        r for r in audit_records(flow.home) if r["details"].get("intent_id") == intent["id"]
    ]
    assert seeder.version(name, "2")["tags"]["mlops.promotion_audit_id"] == outcome["id"]


def test_resolving_with_nothing_pending_sends_no_request(tmp_path):
    from commands.history import resolve_pending
    from console.settings import Settings

    class NoServer:
        """Any request would fail loudly."""

        def __getattr__(self, name):
            raise AssertionError(f"{name} was used although nothing is pending")

    settings = Settings(home=tmp_path / "home", tracking_uri="http://127.0.0.1:9")
    assert asyncio.run(resolve_pending(settings, NoServer(), "m")) == []
