"""The TUI's worker runner: every network call is a ``Job`` run in a Textual worker.

One ``JobRunner`` per app. Workers run with ``exclusive=True`` and ``exit_on_error=False``, one
group per pane; they only return results. ``JobRunner.state_changed`` (called from the app's
``on_worker_state_changed``) hands a result to its job's ``deliver`` or turns a failure into a
non-fatal banner, retried with backoff unless retrying cannot help.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from console.errors import ConsoleError
from console.tui.commands import CommandError

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer
    from textual.worker import Worker

    from widgets.banner import Banner

# seconds between automatic retries of a failed read; the last value repeats
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


@dataclass
class Job:
    """A named request of one pane: how to run it, where its result goes, what to do on failure."""

    group: str
    what: str
    work: Callable[[], Any]
    deliver: Callable[[Any], None]
    on_fail: Callable[[str], None] | None = None
    thread: bool = False
    retry: bool = True
    # False once the result has nowhere to go (a detail screen that was closed)
    alive: Callable[[], bool] = lambda: True
    attempts: int = field(default=0)


def no_auto_retry() -> tuple[type[BaseException], ...]:
    """Failures a retry cannot mend: bad input, missing things, refused credentials."""
    from console.mlflow.errors import InvalidRequest, NotFound, PermissionDenied, Unauthorized

    return (InvalidRequest, NotFound, Unauthorized, PermissionDenied, CommandError)


def describe_failure(what: str, error: BaseException) -> str:
    """One line: what failed, why, and what to do (auth failures say so)."""
    from console.mlflow.errors import PermissionDenied, Unauthorized

    if isinstance(error, Unauthorized):
        return f"{what}: authentication failed — {error}"
    if isinstance(error, PermissionDenied):
        return f"{what}: permission denied — {error}"
    if isinstance(error, ConsoleError):
        return f"{what}: {error}"
    return f"{what}: unexpected {type(error).__name__}: {error} (please report it)"


class JobRunner:
    """Runs jobs in the app's workers, keeps the newest per group, retries, feeds the banner."""

    def __init__(
        self, app: App[Any], banner: Callable[[], Banner], retry_delays: tuple[float, ...]
    ):
        self._app = app
        self._banner = banner
        self.retry_delays = retry_delays or RETRY_DELAYS
        self._jobs: dict[str, Job] = {}
        self._current: dict[str, Worker[Any]] = {}
        self._retry_timers: dict[str, Timer] = {}
        self.failed: set[str] = set()

    def _clear_banner(self, group: str) -> None:
        from textual.css.query import NoMatches

        with contextlib.suppress(NoMatches):  # the main screen is being torn down (quit)
            self._banner().clear(group)

    def _report(self, group: str, message: str) -> None:
        from textual.css.query import NoMatches

        with contextlib.suppress(NoMatches):
            self._banner().report(group, message)

    def run(self, job: Job) -> None:
        timer = self._retry_timers.pop(job.group, None)
        if timer is not None:
            timer.stop()
        if not job.alive():
            self._clear_banner(job.group)
            return
        self._jobs[job.group] = job
        self._current[job.group] = self._app.run_worker(
            job.work,
            name=job.what,
            group=job.group,
            exclusive=True,
            exit_on_error=False,
            thread=job.thread,
        )

    def running(self, group: str) -> bool:
        worker = self._current.get(group)
        return worker is not None and not worker.is_finished

    def state_changed(self, worker: Worker[Any]) -> None:
        from textual.worker import WorkerState

        job = self._jobs.get(worker.group)
        if job is None or self._current.get(worker.group) is not worker:
            return  # a superseded request: its result is stale
        if not job.alive():
            self._clear_banner(job.group)
            return
        if worker.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            # ``worker.state`` is the state now, not the one this message reports: a PENDING or
            # RUNNING message handled after the worker ended would deliver its result again (a
            # form pushed twice); the first message that sees the end handles it, once
            del self._current[worker.group]
        if worker.state == WorkerState.SUCCESS:
            job.attempts = 0
            self.failed.discard(job.group)
            self._clear_banner(job.group)
            job.deliver(worker.result)
        elif worker.state == WorkerState.ERROR and worker.error is not None:
            self._failed_job(job, worker.error)

    def _failed_job(self, job: Job, error: BaseException) -> None:
        message = describe_failure(job.what, error)
        self.failed.add(job.group)
        if job.retry and not isinstance(error, no_auto_retry()):
            delay = self.retry_delays[min(job.attempts, len(self.retry_delays) - 1)]
            job.attempts += 1
            message += f" — retrying in {delay:g} s (r retries now)"
            self._retry_timers[job.group] = self._app.set_timer(delay, partial(self.run, job))
        else:
            message += " (r retries)"
        self._report(job.group, message)
        if job.on_fail is not None:
            job.on_fail(message)
