"""History on a real embedded server: MLflow's own webhooks reach the supervisor's receiver.

One embedded home for the module (its server, supervisor and receiver), a scikit-learn model
logged and registered with MLflow's own client in a subprocess, and aliases moved with MLflow's
``MlflowClient`` — not the console. Tests run in file order on the shared server.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from commands.history import timeline
from commands.promote import PromoteContext, promote
from console.embedded import lifecycle as embedded
from console.embedded.lifecycle import EmbeddedPaths
from console.embedded.procs import is_alive
from console.history import receiver as history_receiver
from console.history.model import HistoryEvent
from console.mlflow.client import MlflowRestClient
from console.promotion_model import PromotionRequest
from console.settings import Settings
from tests.embedded.conftest import owned_home, run_cli
from tests.promote.conftest import FAST_RETRY, NO_GATES
from tests.promote.test_actions import Recorder

MODEL = "someone-elses-classifier"

LOG_MODEL = textwrap.dedent(
    """
    import sys, mlflow, numpy as np
    from sklearn.linear_model import LogisticRegression
    mlflow.set_tracking_uri(sys.argv[1])
    mlflow.set_experiment("not-the-console")
    X = np.arange(40, dtype=float).reshape(20, 2); y = (X[:, 0] > 18).astype(int)
    for c in (0.1, 1.0):
        with mlflow.start_run():
            mlflow.log_param("C", c)
            mlflow.sklearn.log_model(LogisticRegression(C=c).fit(X, y), name="model",
                                     registered_model_name=sys.argv[2])
    """
)


@dataclass
class Embedded:
    home: Path
    uri: str

    @property
    def settings(self) -> Settings:
        return Settings(home=self.home)

    def mlflow(self):
        import mlflow

        return mlflow.MlflowClient(tracking_uri=self.uri)

    def events(self, **kw) -> list[HistoryEvent]:
        async def read():
            async with MlflowRestClient(self.uri, retry=FAST_RETRY) as client:
                return await timeline(self.settings, client, MODEL, **kw)

        return asyncio.run(read()).events


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    home = tmp_path_factory.mktemp("history-embedded") / "home"
    with owned_home(home):
        status = embedded.ensure_server(home, idle_minutes=0, timeout=300)
        uri = status.tracking_uri or ""
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
        subprocess.run(
            [sys.executable, "-c", LOG_MODEL, uri, MODEL],
            check=True,
            env=env,
            capture_output=True,
            timeout=600,
        )
        yield Embedded(home, uri)


def wait_for(predicate, timeout: float = 30.0, pause: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(pause)


def alias_events(events: list[HistoryEvent], alias: str = "champion") -> list[HistoryEvent]:
    return [e for e in events if e.kind == "alias" and e.name == alias]


def test_receiver_is_registered_with_the_embedded_server(server: Embedded):
    state = wait_for(lambda: (history_receiver.read_state(server.home) or {}).get("registered"))
    assert state, history_receiver.read_state(server.home)
    receiver = history_receiver.read_state(server.home) or {}
    assert receiver["url"].startswith("http://127.0.0.1:")
    secret = history_receiver.webhook_secret(server.home)
    assert secret not in json.dumps(receiver)
    assert secret not in EmbeddedPaths.for_home(server.home).server_log.read_text()


def test_alias_moved_with_mlflows_own_client_arrives_by_webhook(server: Embedded):
    server.mlflow().set_registered_model_alias(MODEL, "champion", "1")

    def arrived():
        found = [e for e in alias_events(server.events()) if e.to == "1"]
        return found if found and "webhook" in found[0].sources else None

    found = wait_for(arrived)
    assert found, server.events()
    [event] = found
    assert event.source == "webhook" and event.from_ is None and event.actor is None
    versions = [e for e in server.events() if e.kind == "version"]
    assert [(e.version, e.source) for e in versions] == [("1", "webhook"), ("2", "webhook")]


def test_a_console_promotion_appears_once(server: Embedded):
    async def go():
        async with MlflowRestClient(server.uri, retry=FAST_RETRY) as client:
            ctx = PromoteContext.from_settings(server.settings, client, server.uri, gates=NO_GATES)
            request = PromotionRequest(model=MODEL, version="2", alias="champion")
            return await promote(ctx, request, Recorder())

    result = asyncio.run(go())
    assert result.outcome == "succeeded", result.message

    def merged():
        found = [e for e in alias_events(server.events()) if e.to == "2"]
        return found if found and {"console", "webhook"} <= set(found[0].sources) else None

    found = wait_for(merged)
    assert found, server.events()
    [event] = found  # audit record, webhook, tag: one event
    assert event.source == "console" and event.from_ == "1" and event.actor
    assert event.audit_id == result.audit_id
    assert set(event.sources) == {"console", "webhook", "tag"}


def test_a_move_while_the_receiver_is_down_is_observed(server: Embedded):
    paths = EmbeddedPaths.for_home(server.home)
    before = history_receiver.read_state(server.home) or {}
    supervisor = json.loads(paths.state_file.read_text())["supervisor_pid"]
    os.kill(supervisor, signal.SIGKILL)  # the receiver runs inside the supervisor
    assert wait_for(lambda: not is_alive(supervisor), timeout=15)
    t1 = datetime.now(UTC)
    server.mlflow().set_registered_model_alias(MODEL, "champion", "1")
    time.sleep(2)
    [event] = [e for e in alias_events(server.events()) if e.to == "1" and e.from_ == "2"]
    assert event.source == "observed" and event.actor is None
    assert event.observed_after is not None and event.observed_after <= t1 <= event.time

    # the next console start adopts the server under a new supervisor, whose receiver registers
    embedded.ensure_server(server.home, idle_minutes=0, timeout=300)
    after = wait_for(
        lambda: (
            (s := history_receiver.read_state(server.home) or {}).get("registered")
            and s.get("port") != before.get("port")
            and s
        )
    )
    assert after, history_receiver.read_state(server.home)
    assert after["webhook_id"] == before["webhook_id"]  # updated in place, not a second webhook
    time.sleep(3)  # the server caches its webhook list for 2 s
    server.mlflow().set_registered_model_alias(MODEL, "champion", "2")

    def back():
        found = [e for e in alias_events(server.events()) if e.to == "2" and e.from_ == "1"]
        return found if found and found[-1].source == "webhook" else None

    assert wait_for(back), server.events()


def test_at_before_between_and_after_a_deleted_alias(server: Embedded):
    client = server.mlflow()
    start = datetime.now(UTC).isoformat()
    time.sleep(1)
    client.set_registered_model_alias(MODEL, "challenger", "1")
    assert wait_for(lambda: alias_events(server.events(), "challenger"))
    time.sleep(1)
    between = datetime.now(UTC).isoformat()
    time.sleep(1)
    client.delete_registered_model_alias(MODEL, "challenger")
    assert wait_for(lambda: len(alias_events(server.events(), "challenger")) == 2)
    events = alias_events(server.events(), "challenger")
    assert [(e.from_, e.to, e.source) for e in events] == [
        (None, "1", "webhook"),
        ("1", None, "webhook"),
    ]

    def at(instant: str) -> dict:
        done = run_cli(server.home, "history", MODEL, "--at", instant, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert "challenger" not in at(start)["aliases"]
    assert at(between)["aliases"] == {"champion": "2", "challenger": "1"}
    now = at("now")
    assert now["aliases"] == {"champion": "2"} and now["observed"] is False
    listing = run_cli(server.home, "history", MODEL, "--alias", "challenger")
    assert "alias challenger: v1 → (deleted)" in listing.stdout


def test_history_and_webhooks_survive_a_server_restart(server: Embedded):
    count = len(server.events())
    assert embedded.stop(server.home)
    status = embedded.ensure_server(server.home, idle_minutes=0, timeout=300)
    server.uri = status.tracking_uri or ""
    assert len(server.events()) == count
    assert wait_for(lambda: (history_receiver.read_state(server.home) or {}).get("registered"))
    time.sleep(3)
    # the stored webhook secret still decrypts: the encryption key is kept in the home
    server.mlflow().set_registered_model_alias(MODEL, "champion", "1")

    def arrived():
        found = [e for e in alias_events(server.events()) if e.to == "1" and e.from_ == "2"]
        return found if found and found[-1].source == "webhook" else None

    assert wait_for(arrived), server.events()


def _inbox_rows(home: Path, alias: str) -> list[dict]:
    import sqlite3

    from console.history import db as history_db

    conn = sqlite3.connect(history_db.db_path(home))
    try:
        rows = [json.loads(p) for (p,) in conn.execute("SELECT payload FROM inbox")]
    finally:
        conn.close()
    return [r for r in rows if r.get("alias") == alias]


def test_a_read_through_the_servers_url_first_takes_in_the_inbox(server: Embedded):
    """Issue 21/8c: another team moves an alias twice with MLflow's own client, 2 s apart, in a
    shell where MLFLOW_TRACKING_URI names the embedded server; the console run from that shell
    must read the inbox (both deliveries are there) rather than observe one move "None → 3"."""
    from commands.history import history_server
    from console.history.model import state_at
    from tests.embedded.conftest import ROOT

    assert wait_for(lambda: (history_receiver.read_state(server.home) or {}).get("registered"))
    time.sleep(3)  # the server caches its webhook list for 2 s
    client = server.mlflow()
    client.set_registered_model_alias(MODEL, "shadow", "1")
    time.sleep(1)
    between = datetime.now(UTC)
    time.sleep(1)
    client.set_registered_model_alias(MODEL, "shadow", "2")
    assert wait_for(lambda: len(_inbox_rows(server.home, "shadow")) == 2, timeout=30)

    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    env["MLFLOW_TRACKING_URI"] = server.uri

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "console", "--home", str(server.home), *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    listing = cli("history", MODEL, "--alias", "shadow", "--json")
    assert listing.returncode == 0, listing.stderr
    events = json.loads(listing.stdout)
    assert [(e["from"], e["to"], e["source"]) for e in events] == [
        (None, "1", "webhook"),
        ("1", "2", "webhook"),
    ], events
    at = cli("history", MODEL, "--at", between.isoformat(), "--json")
    assert at.returncode == 0, at.stderr
    state = json.loads(at.stdout)
    assert state["aliases"]["shadow"] == "1" and state["observed"] is False
    text = cli("history", MODEL, "--alias", "shadow").stdout
    assert "alias shadow: (absent) → v1" in text and "alias shadow: v1 → v2" in text, text

    # the TUI's `h` reads the same timeline with the shell's settings: one history, not two
    settings = Settings(home=server.home, tracking_uri=server.uri)

    async def read():
        async with MlflowRestClient(server.uri, retry=FAST_RETRY) as rest:
            assert history_server(settings, rest) == "embedded"
            return await timeline(settings, rest, MODEL, alias="shadow")

    seen = asyncio.run(read()).events
    assert [(e.from_, e.to, e.source) for e in seen] == [
        (None, "1", "webhook"),
        ("1", "2", "webhook"),
    ]
    assert state_at(seen, between).aliases["shadow"] == "1"
