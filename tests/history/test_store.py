"""The history store and the pure parts of history: --at folding, restarts, corrupt records and
files, file modes, and the webhook receiver's signature check on a real loopback socket.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.history import db as history_db
from console.history import receiver as history_receiver
from console.history.model import HistoryEvent, state_at
from console.history.store import HistoryStore

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def ev(minutes: float, kind: str = "alias", **kw) -> HistoryEvent:
    return HistoryEvent(
        id=uuid.uuid4().hex[:12],
        time=T0 + timedelta(minutes=minutes),
        model="m",
        kind=kind,
        source=kw.pop("source", "webhook"),
        server="embedded",
        **kw,
    )


EVENTS = [
    ev(0, "version", to="1", version="1"),
    ev(1, "version", to="2", version="2"),
    ev(2, name="champion", from_=None, to="1", version="1"),
    ev(3, "stage", name="Production", from_="None", to="Production", version="1"),
    ev(10, name="champion", from_="1", to="2", version="2"),
    ev(11, name="challenger", from_=None, to="1", version="1"),
    ev(20, name="champion", from_="2", to=None, version="2"),
]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_state_at_before_between_and_after_changes_including_a_deleted_alias():
    assert state_at(EVENTS, at(-1)).aliases == {}
    before = state_at(EVENTS, at(2.5))
    assert before.aliases == {"champion": "1"} and before.stages == {}
    between = state_at(EVENTS, at(10.5))
    assert between.aliases == {"champion": "2"} and between.stages == {"Production": ["1"]}
    after_move = state_at(EVENTS, at(15))
    assert after_move.aliases == {"champion": "2", "challenger": "1"}
    deleted = state_at(EVENTS, at(25))
    assert deleted.aliases == {"challenger": "1"}  # champion was deleted at minute 20
    assert deleted.observed is False
    # the instant of a change counts as after it
    assert state_at(EVENTS, at(10)).aliases == {"champion": "2"}
    assert set(deleted.public()) == {"at", "aliases", "stages", "observed"}


def test_state_inside_an_observed_window_says_so():
    seen = ev(30, name="champion", from_=None, to="2", version="2", source="observed")
    seen.observed_after = at(25)
    events = [*EVENTS, seen]
    assert state_at(events, at(24)).observed is False
    inside = state_at(events, at(27))
    assert inside.observed is True and "champion" not in inside.aliases
    after = state_at(events, at(31))
    assert after.observed is False and after.aliases["champion"] == "2"
    first_look = ev(40, name="beta", to="1", version="1", source="observed")  # no earlier sight
    assert state_at([*events, first_look], at(-100)).observed is True


def test_json_contract_spells_from():
    doc = EVENTS[4].public()
    assert {"id", "time", "model", "kind", "name", "from", "to", "actor", "source"} <= set(doc)
    assert doc["from"] == "1" and doc["to"] == "2" and doc["kind"] == "alias"


def test_store_survives_a_restart_and_skips_a_corrupt_record(tmp_path: Path):
    home = tmp_path / "home"
    with HistoryStore(home) as store, store.transaction():
        for event in EVENTS:
            store.save(event)
    with HistoryStore(home) as store:  # a new process would do exactly this
        assert [e.id for e in store.events("embedded", "m")] == [e.id for e in EVENTS]
        assert store.warnings == []
    db = sqlite3.connect(history_db.db_path(home))
    db.execute("UPDATE events SET record='{not json' WHERE id=?", (EVENTS[4].id,))
    db.commit()
    db.close()
    with HistoryStore(home) as store:
        kept = store.events("embedded", "m")
        assert [e.id for e in kept] == [e.id for e in EVENTS if e is not EVENTS[4]]
        assert (
            len(store.warnings) == 1
            and "1 corrupt history record of m skipped" in (store.warnings[0])
        )


def test_files_are_private(tmp_path: Path):
    home = tmp_path / "home"
    with HistoryStore(home) as store:
        store.save(EVENTS[0])
    assert stat.S_IMODE(history_db.db_path(home).stat().st_mode) == 0o600
    assert stat.S_IMODE(history_db.history_dir(home).stat().st_mode) == 0o700
    history_receiver.webhook_secret(home)
    history_receiver.encryption_key(home)
    for name in (history_receiver.SECRET_FILE, history_receiver.KEY_FILE):
        path = history_db.history_dir(home) / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # stable across calls: a restarted server must decrypt the secret it stored
    assert history_receiver.encryption_key(home) == history_receiver.encryption_key(home)


def test_an_unreadable_database_file_is_moved_aside_and_reported(tmp_path: Path):
    home = tmp_path / "home"
    path = history_db.db_path(home)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not sqlite" * 100)
    with HistoryStore(home) as store:
        assert any("unreadable" in w and "moved to" in w for w in store.warnings)
        store.save(EVENTS[0])
        assert len(store.events("embedded", "m")) == 1
    assert list(path.parent.glob("history.db.corrupt-*"))


# --- the receiver -------------------------------------------------------------------------------


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _delivery(secret: str, payload: dict, *, stamp: float | None = None) -> tuple[bytes, dict]:
    body = json.dumps(payload).encode()
    delivery, ts = str(uuid.uuid4()), str(int(stamp or time.time()))
    return body, {
        "Content-Type": "application/json",
        "X-MLflow-Delivery-Id": delivery,
        "X-MLflow-Timestamp": ts,
        "X-MLflow-Signature": history_receiver.signature(secret, delivery, ts, body),
    }


@pytest.fixture
def receiver(tmp_path: Path):
    # no server on this port: the receiver serves, its registration just keeps waiting
    logs: list[str] = []
    running = history_receiver.Receiver(tmp_path / "home", 9, logs.append).start()
    try:
        yield running, logs
    finally:
        running.stop()


def _inbox(home: Path) -> list[dict]:
    with HistoryStore(home) as store:
        return [row for _, row in store.pending_deliveries()]


def test_receiver_stores_signed_deliveries_and_rejects_the_rest(receiver, tmp_path: Path):
    running, logs = receiver
    home = tmp_path / "home"
    secret = history_receiver.webhook_secret(home)
    alias = {
        "entity": "model_version_alias",
        "action": "created",
        "timestamp": datetime.now(UTC).isoformat(),
        "data": {"name": "m", "alias": "champion", "version": "3"},
    }
    body, headers = _delivery(secret, alias)
    assert _post(running.url, body, headers) == 200
    assert _post(running.url, body, headers) == 200  # a retry of the same delivery: kept once
    [row] = _inbox(home)
    assert row["alias"] == "champion" and row["version"] == "3" and row["model"] == "m"

    forged_body, forged = _delivery("not-the-secret", alias)
    assert _post(running.url, forged_body, forged) == 401
    stale_body, stale = _delivery(secret, alias, stamp=time.time() - 3600)
    assert _post(running.url, stale_body, stale) == 401
    assert len(_inbox(home)) == 1
    assert any("bad signature" in line for line in logs)

    # a tag that is not the console's may hold anything: never stored
    tag = {
        "entity": "model_version_tag",
        "action": "set",
        "timestamp": datetime.now(UTC).isoformat(),
        "data": {"name": "m", "version": "3", "key": "db_password", "value": "hunter2-secret"},
    }
    tag_body, tag_headers = _delivery(secret, tag)
    assert _post(running.url, tag_body, tag_headers) == 200
    assert len(_inbox(home)) == 1
    raw = history_db.db_path(home).read_bytes()
    for suffix in ("-wal",):
        wal = Path(f"{history_db.db_path(home)}{suffix}")
        if wal.exists():
            raw += wal.read_bytes()
    assert b"hunter2-secret" not in raw and secret.encode() not in raw
    assert os.environ.get("MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY") is None


def test_an_observed_move_starts_its_window_at_the_event_that_set_the_alias(tmp_path: Path):
    """Versions made at minute 0 and 1, canary set by the console at 5 (no snapshot taken), then
    moved elsewhere and seen at 30: the move happened after 5, not after version 2's creation."""
    from types import SimpleNamespace

    from commands.history_ingest import Merger, observe

    def version(number: int, minutes: float) -> SimpleNamespace:
        stamp = int(at(minutes).timestamp() * 1000)
        return SimpleNamespace(
            version=str(number), version_number=number, creation_timestamp=stamp,
            current_stage="None", user_id=None,
        )  # fmt: skip

    versions = [version(1, 0), version(2, 1)]
    with HistoryStore(tmp_path / "home") as store, store.transaction():
        for event in (
            ev(0, "version", to="1", version="1", source="console"),
            ev(1, "version", to="2", version="2", source="console"),
            ev(5, name="canary", from_=None, to="1", version="1", source="console"),
        ):
            store.save(event)
        merger = Merger(store, "embedded", "m")
        (moved,) = observe(merger, {"canary": "2"}, versions, at(30))
        assert moved.observed_after == at(5) and moved.time == at(30)
        events = store.events("embedded", "m")
    inside = state_at(events, at(17))
    assert inside.aliases == {"canary": "1"} and inside.observed
    assert state_at(events, at(4)).aliases == {} and not state_at(events, at(4)).observed


def test_deliveries_arriving_together_in_the_wrong_order_give_each_move(receiver, tmp_path: Path):
    """Issue 21/8c: champion set to 2, then to 3 two seconds later; MLflow's deliveries reach the
    receiver together and the later first (its retries and thread pool do not keep the order),
    and a read in between already observed "None → 3". The inbox gives both moves, each with
    its from and to, the observation merges into the second, and --at between answers v2."""
    from commands.history_ingest import Merger, ingest_inbox, observe

    running, _ = receiver
    home = tmp_path / "home"
    secret = history_receiver.webhook_secret(home)
    first, second = at(10), at(10) + timedelta(seconds=2)

    def alias(version: str, when: datetime) -> dict:
        return {
            "entity": "model_version_alias",
            "action": "created",
            "timestamp": when.isoformat(),
            "data": {"name": "m", "alias": "champion", "version": version},
        }

    with HistoryStore(home) as store, store.transaction():
        store.save(ev(0, "version", to="2", version="2", source="webhook"))
        store.save(ev(0, "version", to="3", version="3", source="webhook"))
        merger = Merger(store, "embedded", "m")
        # a read between the moves and their (late) deliveries only sees the result
        (seen,) = observe(merger, {"champion": "3"}, [], at(10.5))
        assert (seen.from_, seen.to, seen.source) == (None, "3", "observed")
    for version, when in (("3", second), ("2", first)):  # the later one arrives first
        body, headers = _delivery(secret, alias(version, when))
        assert _post(running.url, body, headers) == 200
    with HistoryStore(home) as store, store.transaction():
        ingest_inbox(store, {}, at(11))
        events = [e for e in store.events("embedded", "m") if e.kind == "alias"]
    assert [(e.from_, e.to, e.time, e.source) for e in events] == [
        (None, "2", first, "webhook"),
        ("2", "3", second, "webhook"),
    ]
    between = state_at(events, first + timedelta(seconds=1))
    assert between.aliases == {"champion": "2"} and not between.observed
