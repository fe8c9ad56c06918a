"""A promotion lease on the MLflow server: serialises promoters of one model across machines.

MLflow has no compare-and-set, and a file lock only covers consoles sharing a home. The lease is
a registered-model tag (``mlops.promotion_lease``) holding a random token, the holder and an
expiry. To take it: read it (wait while another holder's lease is live), write ours, wait the
*settle time*, read it back — the last write wins, so of several promoters writing at once exactly
one reads its own token; the others wait for it to be released (or to expire) and try again.

Timing assumption (stated in README): every write a promoter sends reaches the server within the
settle time (default 2 s; a request, its network delay and the server's processing), and clocks
of the machines agree to well within the lease's time to live (default 120 s). A console that
stalls longer than the settle time between reading and writing can still be overtaken; the
promotion's re-verification after the settle time then reports it as superseded.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from console.errors import ConsoleError

LEASE_TAG = "mlops.promotion_lease"


@dataclass(frozen=True)
class LeaseTiming:
    """How long to settle, how long a lease lives, how long to wait for another holder."""

    settle: float = 2.0
    ttl: float = 120.0
    wait: float = 60.0
    poll: float = 0.3


class Lease(BaseModel):
    token: str
    holder: str
    expires_at: float  # epoch seconds

    def live(self, now: float | None = None) -> bool:
        return self.expires_at > (time.time() if now is None else now)


class LeaseBusy(ConsoleError):
    """Another promotion of the same model held the lease for longer than we may wait."""


async def read_lease(client: Any, model: str) -> Lease | None:
    """The lease recorded on ``model`` now (None if absent or unreadable)."""
    registered = await client.get_registered_model(model)
    raw = registered.tags.get(LEASE_TAG)
    if not raw:
        return None
    try:
        return Lease.model_validate_json(raw)
    except ValidationError:
        return None  # a damaged tag protects nothing: treat it as free


async def acquire(client: Any, model: str, holder: str, timing: LeaseTiming, driver: Any) -> Lease:
    """Take the lease of ``model`` for ``holder``; raise LeaseBusy after ``timing.wait`` s."""
    mine = Lease(token=uuid.uuid4().hex, holder=holder, expires_at=0.0)
    deadline = time.monotonic() + timing.wait
    told = False
    while True:
        current = await read_lease(client, model)
        if current is None or not current.live() or current.token == mine.token:
            mine = mine.model_copy(update={"expires_at": time.time() + timing.ttl})
            await client.set_registered_model_tag(model, LEASE_TAG, mine.model_dump_json())
            # any write sent before ours lands within the settle time: then the tag shows the
            # last writer, the same one for everybody reading it afterwards
            await asyncio.sleep(timing.settle)
            current = await read_lease(client, model)
            if current is not None and current.token == mine.token:
                return mine
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
        current = await read_lease(client, model)
        if current is not None and current.token == lease.token:
            await client.delete_registered_model_tag(model, LEASE_TAG)
    except MlflowError:
        pass  # it expires on its own


def holder_name(actor: Any) -> str:
    return f"{actor.name}@{socket.gethostname()}"


@asynccontextmanager
async def held(
    client: Any, model: str, holder: str, timing: LeaseTiming, driver: Any
) -> AsyncIterator[Lease]:
    lease = await acquire(client, model, holder, timing, driver)
    try:
        yield lease
    finally:
        await release(client, model, lease)
