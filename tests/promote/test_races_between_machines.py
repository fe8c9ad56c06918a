"""Issue 16 items 4 and 5: promoters on different machines, and a promoter killed mid-write.

Two consoles with two homes (no shared lock file) promote different versions to one alias on one
real MLflow server, one of them through a TCP proxy delaying its link by 50 ms or 400 ms. Both
confirm at the same instant. Before the lease, both could exit "succeeded": never again.
Then a real ``mlops-console promote`` process is killed with SIGKILL after its alias write
reached the server: the intent record it left is resolved from the server at the next start.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from commands.promote import promote
from console.audit import AuditFilter, AuditLog
from console.promotion_model import PromotionRequest
from tests.promote.conftest import Flow
from tests.promote.test_actions import Recorder
from tests.support.tcp_proxy import DelayProxy

ROOT = Path(__file__).resolve().parents[2]
SETTLE = 2.0  # the default: longer than a write delayed 400 ms each way can be in flight


class Together(Recorder):
    """Confirms only when both promoters have confirmed: they write at the same moment."""

    def __init__(self, barrier: asyncio.Barrier) -> None:
        super().__init__()
        self.barrier = barrier

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        await self.barrier.wait()
        return await super().confirm(prompt, typed=typed)


async def _pair(mlflow_server, seeder, tmp_path: Path, delay: float, n: int) -> list[str]:
    name = seeder.model([{}, {}, {}])
    seeder.alias(name, "champion", "1")
    fast = Flow(mlflow_server.url, tmp_path / f"fast-{n}")
    with DelayProxy(mlflow_server.port, delay=delay) as proxy:
        slow = Flow(proxy.url, tmp_path / f"slow-{n}")
        barrier = asyncio.Barrier(2)
        async with fast.client() as a, slow.client() as b:
            results = await asyncio.gather(
                promote(
                    fast.context(a, settings=fast.settings(promotion_settle_seconds=SETTLE)),
                    PromotionRequest(model=name, version="2", alias="champion", expect="1"),
                    Together(barrier),
                ),
                promote(
                    slow.context(b, settings=slow.settings(promotion_settle_seconds=SETTLE)),
                    PromotionRequest(model=name, version="3", alias="champion", expect="1"),
                    Together(barrier),
                ),
            )
    outcomes = [r.outcome for r in results]
    winners = [r for r in results if r.outcome == "succeeded"]
    assert len(winners) <= 1, [r.message for r in results]
    holder = seeder.aliases(name)["champion"]
    if winners:
        assert holder == winners[0].plan.request.version
    # only the version holding the alias carries promotion tags
    for version in ("2", "3"):
        tagged = "mlops.promotion" in seeder.version(name, version)["tags"]
        assert tagged == (bool(winners) and version == holder), (version, outcomes)
    # the lease is released
    assert "mlops.promotion_lease" not in _model_tags(seeder, name)
    # each home audited its own outcome, and no intent was left open
    for flow, result in ((fast, results[0]), (slow, results[1])):
        records = flow.audit.read().records
        assert [r.outcome for r in records] == [result.outcome]
    return outcomes


def _model_tags(seeder, name: str) -> dict[str, str]:
    doc = seeder.http.get("/api/2.0/mlflow/registered-models/get", params={"name": name}).json()[
        "registered_model"
    ]
    return {t["key"]: t["value"] for t in doc.get("tags", [])}


@pytest.mark.parametrize("delay", [0.05, 0.4])
async def test_no_pair_of_consoles_both_win(mlflow_server, seeder, tmp_path, delay):
    outcomes = [await _pair(mlflow_server, seeder, tmp_path, delay, n) for n in range(3)]
    # serialised through the server: one wins, the other is refused (the alias moved)
    assert all(sorted(o) == ["refused", "succeeded"] for o in outcomes), outcomes


def test_kill_9_mid_write_leaves_an_intent_resolved_at_next_start(mlflow_server, seeder, tmp_path):
    name = seeder.model([{}, {}])
    seeder.alias(name, "prod", "1")
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    hold = b"POST /api/2.0/mlflow/registered-models/alias"
    with DelayProxy(mlflow_server.port, hold_after=hold) as proxy:
        args = ["--home", str(home), "--tracking-uri", proxy.url]
        args += ["promote", name, "2", "--alias", "prod", "--yes"]  # not gated
        proc = subprocess.Popen(
            [sys.executable, "-m", "console", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert proxy.seen.wait(120), proc.stderr.read() if proc.poll() is not None else ""
            # the write reached the server; give it a moment to be applied, then kill -9
            deadline = time.monotonic() + 10
            while seeder.aliases(name) != {"prod": "2"} and time.monotonic() < deadline:
                time.sleep(0.05)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert seeder.aliases(name) == {"prod": "2"}  # the alias moved ...
        log = AuditLog(home / "audit")
        lines = (home / "audit" / "audit.jsonl").read_text().splitlines()
        assert [json.loads(line)["outcome"] for line in lines] == ["pending"]  # ... intent only
        # the next start (any promotion, same console, same server URL) resolves it
        proxy.released.set()
        again = subprocess.run(
            [sys.executable, "-m", "console", *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert again.returncode == 0, again.stderr  # nothing to do: v2 holds it already
    assert "interrupted promotion was resolved" in again.stderr
    records = log.read(AuditFilter(model=name, include_closed_intents=True)).records
    assert [r.outcome for r in records] == ["pending", "succeeded"]
    resolved = records[1]
    assert resolved.details["intent_id"] == records[0].id and resolved.details["resolved_at_start"]
    assert "took effect" in (resolved.message or "")


async def test_an_intent_of_a_console_still_promoting_is_left_alone(flow, seeder):
    import fcntl

    from commands.promote import _lock_path, resolve_interrupted
    from console.audit import AuditRecord, os_actor

    name = seeder.model([{}, {}])
    seeder.alias(name, "prod", "1")
    request = PromotionRequest(model=name, version="2", alias="prod")
    async with flow.client() as client:
        ctx = flow.context(client)
        flow.audit.append(
            AuditRecord(
                action="promote.set_alias",
                outcome="pending",
                actor=os_actor(),
                server=client.server,
                model=name,
                version="2",
                target=request.target,
                details={"request": request.model_dump(mode="json")},
            )
        )
        path = _lock_path(ctx, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+") as held:  # noqa: ASYNC230 - another console of this home, mid-write
            fcntl.flock(held, fcntl.LOCK_EX)
            assert await resolve_interrupted(ctx) == []
        [record] = await resolve_interrupted(ctx)  # its console is gone now
    assert record.outcome == "failed" and "did not take effect" in (record.message or "")
