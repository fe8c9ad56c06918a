"""History and undo on a real MLflow server that cannot reach the console (no webhooks): the audit
log, the promotion tags and observation; undo through the promotion flow, its refusals and exit
codes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from commands.history import plan_undo, timeline, undo
from commands.promote import promote
from console.errors import ReadOnlyError
from console.history.model import state_at
from console.promotion_model import PromotionRequest
from tests.promote.conftest import only
from tests.promote.test_actions import Recorder

ROOT = Path(__file__).resolve().parents[2]
READY = only(require=["ready"])


async def _promote(flow, client, name: str, version: str, **kw) -> None:
    result = await promote(
        flow.context(client, READY), PromotionRequest(model=name, version=version, **kw), Recorder()
    )
    assert result.outcome == "succeeded", result.message


def _cli(flow, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "console",
            "--tracking-uri",
            flow.url,
            "--home",
            str(flow.home),
            *args,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_console_promotions_observation_and_tags_merge_into_one_timeline(flow, seeder):
    name = seeder.model([{}, {}, {}])
    async with flow.client() as client:
        first = await timeline(flow.settings(), client, name)
        assert [e.kind for e in first.events] == ["version"] * 3
        await _promote(flow, client, name, "1", alias="champion")
        seeder.alias(name, "champion", "2")  # someone else, from a notebook
        seen = await timeline(flow.settings(), client, name)
    aliases = [e for e in seen.events if e.kind == "alias"]
    assert [(e.from_, e.to, e.source) for e in aliases] == [
        (None, "1", "console"),
        ("1", "2", "observed"),
    ]
    console_event, observed = aliases
    assert console_event.sources == ["console", "tag"]  # audit record and tag: one event
    assert console_event.actor and console_event.audit_id
    assert observed.actor is None and observed.observed_after is not None
    assert observed.observed_after <= observed.time
    # reading again adds nothing
    async with flow.client() as client:
        again = await timeline(flow.settings(), client, name)
    assert [e.id for e in again.events] == [e.id for e in seen.events]


async def test_tags_keep_the_history_when_the_audit_log_is_lost(flow, seeder, tmp_path):
    name = seeder.model([{}, {}])
    async with flow.client() as client:
        await _promote(flow, client, name, "2", alias="champion", reason="better recall")
    flow.home = tmp_path / "another-home"  # a console without that audit log
    async with flow.client() as client:
        seen = await timeline(flow.settings(), client, name)
    [event] = [e for e in seen.events if e.kind == "alias"]
    assert event.source == "tag" and event.to == "2" and event.actor
    assert event.reason == "better recall" and event.audit_id


async def test_undo_restores_the_previous_holder_through_the_gates(flow, seeder):
    name = seeder.model([{}, {}])
    async with flow.client() as client:
        await _promote(flow, client, name, "1", alias="champion")
        await _promote(flow, client, name, "2", alias="champion")
        driver = Recorder()
        result = await undo(
            flow.context(client, READY), name, driver, reason="v2 misbehaves in production"
        )
        assert result.outcome == "succeeded", result.message
        assert seeder.aliases(name) == {"champion": "1"}
        plan = result.promotion.plan
        assert [(g.name, g.status) for g in plan.gates] == [("ready", "passed")]
        assert driver.typed == [name]  # champion: the model name typed, as for any promotion
        assert plan.expected == "2"  # compare-and-set against what the event left
        assert result.plan.event.from_ == "1" and result.plan.event.to == "2"
        after = await timeline(flow.settings(), client, name)
    undo_record = [r for r in flow.audit.read().records if r.action == "history.undo"]
    assert undo_record[-1].details["undone_event"] == result.plan.event.id
    assert undo_record[-1].details["promotion_audit_id"] == result.promotion.audit_id
    undo_event = [e for e in after.events if e.kind == "alias"][-1]
    assert undo_event.undoes == result.plan.event.id and undo_event.to == "1"
    assert "undo of history event" in (undo_event.reason or "")
    version = seeder.version(name, "1")
    assert version["tags"]["mlops.promotion_reason"].startswith("undo of history event")


async def test_undo_after_someone_else_moved_it_again_is_refused(flow, seeder):
    name = seeder.model([{}, {}, {}])
    async with flow.client() as client:
        await _promote(flow, client, name, "1", alias="champion")
        await _promote(flow, client, name, "2", alias="champion")
    seeder.alias(name, "champion", "3")
    done = _cli(flow, "undo", name, "--yes")
    assert done.returncode == 4, done.stderr
    assert "changed since" in done.stdout and "it is v3 now" in done.stdout
    assert seeder.aliases(name) == {"champion": "3"}
    as_json = _cli(flow, "undo", name, "--yes", "--json")
    assert as_json.returncode == 4
    doc = json.loads(as_json.stdout)
    assert doc["outcome"] == "refused" and "alias champion is v3 now" in doc["plan"]["current"]
    refused = [r for r in flow.audit.read().records if r.action == "history.undo"]
    assert refused and refused[-1].outcome == "refused"


async def test_undo_is_refused_read_only(flow, seeder):
    name = seeder.model([{}, {}])
    async with flow.client() as client:
        await _promote(flow, client, name, "1", alias="champion")
        ctx = flow.context(client, READY, settings=flow.settings(read_only=True))
        with pytest.raises(ReadOnlyError):
            await undo(ctx, name, Recorder())
    done = _cli(flow, "--read-only", "undo", name, "--yes")
    assert done.returncode == 3 and "read-only" in done.stderr
    assert seeder.aliases(name) == {"champion": "1"}


async def test_undo_of_a_stage_change_and_a_version_creation(flow, seeder):
    name = seeder.model([{}, {}])
    async with flow.client() as client:
        await _promote(flow, client, name, "1", stage="Staging")
        result = await undo(flow.context(client, READY), name, Recorder())
        assert result.outcome == "succeeded", result.message
        assert seeder.version(name, "1")["current_stage"] == "None"
        full = await timeline(flow.settings(), client, name)
        created = next(e for e in full.events if e.kind == "version")
        plan = await plan_undo(flow.context(client), name, Recorder(), event_id=created.id)
    assert plan.refusal and "cannot be undone" in plan.refusal
    stages = [e for e in full.events if e.kind == "stage"]
    assert [(e.from_, e.to) for e in stages] == [("None", "Staging"), ("Staging", "None")]
    assert state_at(full.events, stages[0].time).stages == {"Staging": ["1"]}
    assert state_at(full.events, stages[1].time).stages == {}


async def test_history_cli_json_and_at(flow, seeder):
    name = seeder.model([{}, {}])
    async with flow.client() as client:
        await _promote(flow, client, name, "1", alias="champion")
    listing = _cli(flow, "history", name, "--json")
    assert listing.returncode == 0, listing.stderr
    events = json.loads(listing.stdout)
    alias = [e for e in events if e["kind"] == "alias"]
    assert alias[0]["from"] is None and alias[0]["to"] == "1" and alias[0]["source"] == "console"
    at = _cli(flow, "history", name, "--at", alias[0]["time"], "--json")
    assert json.loads(at.stdout)["aliases"] == {"champion": "1"}
    before = _cli(flow, "history", name, "--at", "2000-01-01", "--json")
    assert json.loads(before.stdout)["aliases"] == {}
    only_alias = _cli(flow, "history", name, "--alias", "champion")
    assert "alias champion: (absent) → v1" in only_alias.stdout
    unknown = _cli(flow, "history", "no-such-model-here")
    assert unknown.returncode == 1 and "no model named" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    bad = _cli(flow, "history", name, "--at", "yesterday-ish")
    assert bad.returncode == 2 and "not a time" in bad.stderr


async def test_each_versions_read_feeds_the_observation_window(flow, seeder):
    from datetime import UTC, datetime

    name = seeder.model([{}, {}])
    before_first_read = datetime.now(UTC)
    assert _cli(flow, "versions", name).returncode == 0
    first_read = datetime.now(UTC)
    seeder.alias(name, "champion", "2")
    second = _cli(flow, "versions", name)
    assert second.returncode == 0 and "warning" not in second.stderr
    second_read = datetime.now(UTC)
    events = json.loads(_cli(flow, "history", name, "--json").stdout)
    [moved] = [e for e in events if e["kind"] == "alias"]
    assert moved["source"] == "observed" and moved["to"] == "2" and moved["actor"] is None
    seen_after = datetime.fromisoformat(moved["observed_after"])
    seen_by = datetime.fromisoformat(moved["time"])
    # the window opens at the first `versions` read, not at the version's creation
    assert before_first_read < seen_after <= first_read
    assert seen_by <= second_read


async def test_a_stage_event_shows_only_its_own_records_reason(flow, seeder, tmp_path):
    """Issue 21/8a: a version keeps one set of promotion tags; the stage promotion (no reason)
    after an alias promotion (with one) must not take over the alias's reason."""
    name = seeder.model([{}, {}])
    async with flow.client() as client:
        await _promote(flow, client, name, "1", alias="champion", reason="better recall")
        await _promote(flow, client, name, "1", stage="Staging")
        seen = await timeline(flow.settings(), client, name)
    [alias] = [e for e in seen.events if e.kind == "alias"]
    [stage] = [e for e in seen.events if e.kind == "stage"]
    assert alias.reason == "better recall" and set(alias.sources) == {"console"}
    assert set(stage.sources) == {"console", "tag"}
    assert stage.reason is None, stage
    records = {r.id: r for r in flow.audit.read().records}
    assert records[stage.audit_id].reason is None
    assert records[alias.audit_id].reason == "better recall"
    listing = json.loads(_cli(flow, "history", name, "--json").stdout)
    assert [e["reason"] for e in listing if e["kind"] != "version"] == ["better recall", None]

    # a console without that audit log knows the stage change from the tags alone
    flow.home = tmp_path / "another-home"
    async with flow.client() as client:
        tagged = await timeline(flow.settings(), client, name)
    [stage] = [e for e in tagged.events if e.kind == "stage"]
    assert stage.source == "tag" and stage.reason is None, stage
