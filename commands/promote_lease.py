"""A promotion lease on the MLflow server: serialises promoters of one model across machines.

MLflow has no compare-and-set, and a file lock only covers consoles sharing a home. The lease is
a registered-model tag (``mlops.promotion_lease``) holding a random token, the holder, an expiry
and where it was written from (host, a hash of the console home, pid and the process's start
time). To take it: read it (wait while another holder's lease is live), write ours, wait the
*settle time*, read it back — the last write wins, so of several promoters writing at once exactly
one reads its own token; the others wait for it to be released (or to expire) and try again.

A console never writes a lease longer than ``MAX_TTL``. A tag that expires further ahead than
that (beyond the clock slack), or that is not a lease at all, is **broken**: it was not written by
a console following this protocol, and waiting for it could last forever. It is refused at once
(``LeaseBroken``); ``--break-lease --reason R`` overwrites it, audited before the write, and only
the exact value that was reported broken is broken (it is re-read right before). A live lease
whose host and home are ours and whose process is gone (pid not alive, or alive with another start
time: a reused pid) belongs to a console of this home that died: it is taken over at once.

Timing assumption (stated in docs/guide/safety.md): every write a promoter sends reaches the
server within the settle time (default 2 s; a request, its network delay and the server's
processing), and clocks of the machines agree to well within the lease's time to live (120 s). A
console that stalls longer than the settle time between reading and writing can still be
overtaken; the promotion's re-verification after the settle time then reports it as superseded.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from console.errors import ConsoleError

LEASE_TAG = "mlops.promotion_lease"
# the longest lease a console writes, and how far clocks may disagree beyond it
MAX_TTL = 120.0
CLOCK_SLACK = 60.0


@dataclass(frozen=True)
class LeaseTiming:
    """How long to settle, how long a lease lives, how long to wait for another holder."""

    settle: float = 2.0
    ttl: float = MAX_TTL
    wait: float = 60.0
    poll: float = 0.3


class Lease(BaseModel):
    token: str
    holder: str
    expires_at: float  # epoch seconds
    # where it was written from (absent in leases of older consoles)
    host: str | None = None
    home: str | None = None
    pid: int | None = None
    started: str | None = None

    def live(self, now: float | None = None) -> bool:
        return self.expires_at > (time.time() if now is None else now)


@dataclass(frozen=True)
class SeenLease:
    """The lease tag as read: its raw value, the lease it holds, or why it is broken."""

    raw: str | None
    lease: Lease | None = None
    broken: str | None = None


class LeaseBusy(ConsoleError):
    """Another promotion of the same model held the lease for longer than we may wait."""


class LeaseBroken(LeaseBusy):
    """The lease tag is not one a console would write (too long, or unreadable)."""


# called before a broken or dead lease is overwritten: (what was seen, "broken" | "dead");
# it audits the break and raises if it cannot (nothing is then written)
OnBreak = Callable[[SeenLease, str], Awaitable[None]]


def home_id(home: Path | str | None) -> str | None:
    """A stable, non-revealing name for a console home (the lease tag is readable by all)."""
    if home is None:
        return None
    path = str(Path(home).expanduser().resolve())
    return hashlib.sha256(path.encode()).hexdigest()[:16]


def process_start(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot, from /proc), None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its last ")"
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def process_gone(pid: int, started: str | None) -> bool:
    """Whether process ``pid`` (started at ``started``) no longer runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # it exists (another user's process)
    except OSError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        state = ""
    if state in ("Z", "X"):
        return True  # a zombie: killed, not yet reaped
    now = process_start(pid)
    return started is not None and now is not None and now != started


def classify(raw: str | None, now: float | None = None) -> SeenLease:
    """What the tag value ``raw`` is: absent, a lease, or broken (and why)."""
    if not raw:
        return SeenLease(raw=None)
    try:
        lease = Lease.model_validate_json(raw)
    except ValidationError:
        return SeenLease(raw=raw, broken="its value is not a lease this console can read")
    now = time.time() if now is None else now
    if lease.expires_at > now + MAX_TTL + CLOCK_SLACK:
        try:
            until = datetime.fromtimestamp(lease.expires_at, UTC).isoformat(timespec="seconds")
        except (OverflowError, OSError, ValueError):
            until = "beyond year 9999"
        return SeenLease(
            raw=raw,
            lease=lease,
            broken=f"it expires at {until}, longer than the {MAX_TTL:g} s a console ever holds one",
        )
    return SeenLease(raw=raw, lease=lease)


async def read_lease(client: Any, model: str) -> SeenLease:
    """The lease tag recorded on ``model`` now."""
    registered = await client.get_registered_model(model)
    return classify(registered.tags.get(LEASE_TAG))


def left_by_dead_console(lease: Lease, home: str | None) -> bool:
    """Whether ``lease`` was written by a console of this home on this host that is gone."""
    if home is None or lease.home != home or lease.host != socket.gethostname():
        return False
    if lease.pid is None or lease.pid == os.getpid():
        return False
    return process_gone(lease.pid, lease.started)


def broken_message(model: str, seen: SeenLease) -> str:
    holder = f" (holder {seen.lease.holder})" if seen.lease is not None else ""
    return f"the promotion lease of {model}{holder} is broken: {seen.broken}"


async def acquire(
    client: Any,
    model: str,
    holder: str,
    timing: LeaseTiming,
    driver: Any,
    *,
    home: str | None = None,
    break_lease: bool = False,
    on_break: OnBreak | None = None,
) -> Lease:
    """Take the lease of ``model`` for ``holder``; raise LeaseBusy after ``timing.wait`` s.

    A broken lease raises LeaseBroken at once unless ``break_lease``; a lease left by a dead
    console of this ``home`` is taken over. ``on_break`` audits either before the overwrite.
    """
    mine = Lease(
        token=uuid.uuid4().hex,
        holder=holder,
        expires_at=0.0,
        host=socket.gethostname(),
        home=home,
        pid=os.getpid(),
        started=process_start(os.getpid()),
    )
    ttl = min(timing.ttl, MAX_TTL)
    deadline = time.monotonic() + timing.wait
    told = False
    while True:
        seen = await read_lease(client, model)
        current = seen.lease
        free = current is None or not current.live() or current.token == mine.token
        if seen.broken is not None:
            if not break_lease:
                raise LeaseBroken(
                    broken_message(model, seen),
                    hint="check that no promotion of it is running, then pass --break-lease "
                    "--reason R to remove it (audited)",
                )
            driver.warn(f"breaking it: {broken_message(model, seen)}")
            if on_break is not None:
                await on_break(seen, "broken")
            free = True
        elif current is not None and not free and left_by_dead_console(current, home):
            driver.warn(
                f"the promotion lease of {model} was left by a console of this home that is no "
                f"longer running (pid {current.pid}); taking it over"
            )
            if on_break is not None:
                await on_break(seen, "dead")
            free = True
        if free:
            mine = mine.model_copy(update={"expires_at": time.time() + ttl})
            await client.set_registered_model_tag(model, LEASE_TAG, mine.model_dump_json())
            # any write sent before ours lands within the settle time: then the tag shows the
            # last writer, the same one for everybody reading it afterwards
            await asyncio.sleep(timing.settle)
            seen = await read_lease(client, model)
            current = seen.lease
            if current is not None and current.token == mine.token:
                return mine
            break_lease = False  # only the value that was reported broken, never a newer one
        if current is not None and current.token != mine.token and not told:
            driver.progress(f"waiting for another promotion of {model} (by {current.holder})")
            told = True
        if time.monotonic() > deadline:
            who = current.holder if current is not None else "another console"
            raise LeaseBusy(
                f"another promotion of {model} (by {who}) is in progress on the server",
                hint="try again when it has finished",
            )
        # jitter so that promoters released together do not collide again in lockstep
        await asyncio.sleep(timing.poll * (1 + random.random()))


async def release(client: Any, model: str, lease: Lease) -> None:
    """Remove the lease if it is still ours (never someone else's)."""
    from console.mlflow.errors import MlflowError

    try:
        seen = await read_lease(client, model)
        if seen.lease is not None and seen.lease.token == lease.token:
            await client.delete_registered_model_tag(model, LEASE_TAG)
    except MlflowError:
        pass  # it expires on its own


def holder_name(actor: Any) -> str:
    return f"{actor.name}@{socket.gethostname()}"


@asynccontextmanager
async def held(
    client: Any,
    model: str,
    holder: str,
    timing: LeaseTiming,
    driver: Any,
    *,
    home: str | None = None,
    break_lease: bool = False,
    on_break: OnBreak | None = None,
) -> AsyncIterator[Lease]:
    lease = await acquire(
        client, model, holder, timing, driver, home=home, break_lease=break_lease,
        on_break=on_break,
    )  # fmt: skip
    try:
        yield lease
    finally:
        await release(client, model, lease)
