"""Shell wiring of deployments: ``D`` / ``:deployments`` → the deployments view, its monitoring
screens, and rollout (``R``), rollback (``B``) and retrain (``T``).

A feature of the shell (``console.tui.shell``). The view is refreshed by a poll: a worker reads
``commands.deployments.gather_deployments`` with the console's client; the next poll is scheduled
when it has answered (polls never overlap) and is skipped while anything covers the view (a modal,
a monitoring screen). Monitoring runs ``mlops-console monitor MODEL --alias A --json`` in its own
process (the drift libraries never load in the console) and parses it into
``console.monitor_contract.MonitorReport``; each model and alias is checked in the background
once per ``MONITOR_TTL_S`` so drift shows in the list. Rollout and rollback run
``commands.rollout`` with ``DeployDriver`` (the confirmation modals; a rollback refused by gates
offers the audited override, one without a previous version a chooser of versions, never a
pointer to the CLI's flags); retrain opens the
``model-retrain`` runbook through the runbooks feature (``ShellHooks.open_runbook``). Read-only
mode refuses all three.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from console.tui.jobs import Job

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from console.deployment_model import DeploymentStatus
    from console.monitor_contract import MonitorState
    from console.tui.shell import Shell

POLL_S = 5.0
MONITOR_TTL_S = 600.0  # a background drift check per model and alias at most this often
# ... unless the deployment served requests since: new rows to test, at most this often
MONITOR_RECHECK_S = 30.0
MONITOR_FRESH_S = 60.0  # opening a monitoring screen reuses a result younger than this
MONITOR_TIMEOUT_S = 900.0
RETRAIN_RUNBOOK = "model-retrain"
MUTATIONS = ("rollout", "rollback", "retrain")
NOT_AVAILABLE = "monitoring is not available: this installation has no `monitor` command"

MonitorKey = tuple[str, str]


def monitor_argv(settings: Any, model: str, alias: str) -> list[str]:
    """``mlops-console monitor MODEL --alias A --json`` for these settings (no secret in argv)."""
    argv = [sys.executable, "-m", "console", "--home", str(settings.home)]
    if settings.tracking_uri:
        argv += ["--tracking-uri", settings.tracking_uri]
    if settings.profile:
        argv += ["--profile", settings.profile]
    if settings.read_only:
        argv.append("--read-only")
    # options first and ``--`` before the model, so a model named like an option stays a name
    return [*argv, "monitor", "--alias", alias, "--json", "--", model]


def _last_line(text: str) -> str:
    from console.safe_text import printable

    lines = [line for line in text.strip().splitlines() if line.strip()]
    return printable(lines[-1], limit=300) if lines else ""


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


async def run_monitor_command(
    argv: list[str], env: dict[str, str] | None = None, limit_s: float = MONITOR_TIMEOUT_S
) -> MonitorState:
    """Run the monitor command; its report, or why there is none, as a ``MonitorState``."""
    from console.monitor_contract import MonitorError, MonitorState, parse_monitor_output

    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own group, so a cancel ends whatever it started
        )
    except OSError as exc:
        return MonitorState(
            unavailable=True, error=f"{NOT_AVAILABLE} ({exc.strerror})", at=time.time()
        )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), limit_s)
    except TimeoutError:
        _kill_group(proc)
        await proc.wait()
        return MonitorState(
            error=f"the monitor command did not finish within {limit_s:.0f} s", at=time.time()
        )
    except asyncio.CancelledError:
        _kill_group(proc)
        # reap it while the loop still runs: a transport collected after the loop closed
        # raised "Event loop is closed" on the way out (quitting during a monitor run)
        with contextlib.suppress(asyncio.CancelledError, TimeoutError, ProcessLookupError):
            await asyncio.wait_for(proc.wait(), 2.0)
        raise
    stdout = out.decode("utf-8", errors="replace")
    stderr = err.decode("utf-8", errors="replace")
    if proc.returncode == 2 and "invalid choice" in stderr:
        return MonitorState(unavailable=True, error=NOT_AVAILABLE, at=time.time())
    try:
        # a report is a report whatever the exit code (monitor may exit 1 on drift)
        return MonitorState(report=parse_monitor_output(stdout), at=time.time())
    except MonitorError as exc:
        if proc.returncode:
            why = _last_line(stderr) or str(exc)
            return MonitorState(
                error=f"monitor failed (exit {proc.returncode}): {why}", at=time.time()
            )
        return MonitorState(error=str(exc), at=time.time())


class DeploymentsFeature:
    """The deployments view, monitoring screens, rollout, rollback and retrain.

    Wiring: the app binds ``D`` to ``open``, routes ``DeploymentsScreen.Wanted`` to ``act`` and
    ``DeployProgress`` to ``progress``, and yields ``deployment_commands`` in its palette.
    ``gather`` and ``monitor_argv`` may be replaced (tests feed fixed rows or another command).
    """

    def __init__(self, shell: Shell, *, clock: Callable[[], float] = time.time) -> None:
        self.shell = shell
        self.clock = clock
        self.poll_s = POLL_S
        self.gather: Callable[[], Awaitable[list[DeploymentStatus]]] = self._gather
        # read at call time: the settings arrive after the first frame (``partial`` bound None,
        # and every monitoring run in the console failed with "no attribute 'home'")
        self.monitor_argv: Callable[[str, str], list[str]] = lambda model, alias: monitor_argv(
            self.shell.settings, model, alias
        )
        self.rows: dict[str, DeploymentStatus] = {}
        self.monitor: dict[MonitorKey, MonitorState] = {}
        # the request count each model and alias's deployments had when its check started
        self._served_at_check: dict[MonitorKey, int | None] = {}
        self.screen: Any = None  # the open DeploymentsScreen
        self.polls = 0  # answered polls (tests and the status line)
        self._timer: Any = None
        self._pending_monitor: str | None = None
        self.last_outcome = ""  # the last rollout or rollback, kept in the status line
        self.flow_driver: Any = None  # the driver of the rollout or rollback in progress

    # --- the view and its poll --------------------------------------------------------------

    def names(self) -> list[str]:
        """The deployments read so far (``:monitor`` completes from them)."""
        return sorted(self.rows)

    def open(self, monitor: str | None = None) -> None:
        """Show the deployments view (``D``, ``:deployments``); ``monitor`` opens one's screen."""
        from textual.screen import ModalScreen

        from widgets.deployments_screen import DeploymentsScreen

        app = self.shell.app
        if isinstance(app.screen, ModalScreen):
            return  # a question is open: answer it first
        self._pending_monitor = monitor
        if self.screen is not None and self.screen in app.screen_stack:
            while app.screen is not self.screen:
                app.pop_screen()
            self.poll_now()
            return
        screen = DeploymentsScreen(read_only=self.shell.settings.read_only)
        self.screen = screen
        app.push_screen(screen, lambda _: self._closed(screen))
        self.poll_now()

    def _closed(self, screen: Any) -> None:
        if self.screen is screen:
            self.screen = None
            self._stop_timer()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _schedule(self) -> None:
        self._stop_timer()
        if self.screen is not None:
            self._timer = self.shell.app.set_timer(self.poll_s, self._poll)

    def poll_now(self) -> None:
        self._stop_timer()
        self._poll(forced=True)

    def _poll(self, forced: bool = False) -> None:
        screen = self.screen
        if screen is None or (not screen.is_attached and not forced):
            return
        if self.shell.client is None:
            screen.set_status("waiting for the MLflow connection…")
            self._schedule()
            return
        covered = self.shell.app.screen is not screen
        if (covered and not forced) or self.shell.jobs.running("deployments"):
            self._schedule()  # paused under a modal or a monitoring screen; never overlapping
            return
        self.shell.run(
            Job(
                "deployments",
                "reading the deployments",
                self._fetch,
                partial(self._rows_read, screen),
                on_fail=partial(self._poll_failed, screen),
                retry=False,
                alive=lambda: self.screen is screen,
            )
        )

    async def _fetch(self) -> list[DeploymentStatus]:
        return await self.gather()

    async def _gather(self) -> list[DeploymentStatus]:
        import importlib

        # the first import (records, supervisor checks, metrics parser) off the UI loop
        module = await asyncio.to_thread(importlib.import_module, "commands.deployments")
        return await module.gather_deployments(self.shell.settings, self.shell.client)

    def _rows_read(self, screen: Any, rows: list[DeploymentStatus]) -> None:
        self.polls += 1
        self.rows = {row.name: row for row in rows}
        screen.show_rows(rows)
        screen.show_drift(self._drift_by_name())
        out_of_sync = sum(1 for r in rows if r.in_sync is False)
        down = sum(1 for r in rows if not r.healthy)
        parts = [f"{len(rows)} deployment(s)"]
        if out_of_sync:
            parts.append(f"{out_of_sync} OUT OF SYNC")
        if down:
            parts.append(f"{down} DOWN")
        parts.append(time.strftime("refreshed %H:%M:%S", time.localtime(self.clock())))
        parts.append(f"every {self.poll_s:g} s")
        if self.last_outcome:
            parts.append(f"last: {self.last_outcome}")
        screen.set_status(" · ".join(parts))
        self._schedule()
        self._check_drift()
        pending, self._pending_monitor = self._pending_monitor, None
        if pending:
            row = self.rows.get(pending)
            if row is None:
                self.shell.notify(self._no_such_deployment(pending), severity="warning")
            else:
                self.open_monitor(row)

    def _no_such_deployment(self, name: str) -> str:
        """``:monitor NAME`` for a name no deployment has: say so, and name those that exist."""
        names = sorted(self.rows)
        if not names:
            return (
                f"no deployment named {name}: there are no deployments "
                "(start one with `mlops-console deploy MODEL --alias A`)"
            )
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        return f"no deployment named {name}; the deployments are: {shown}"

    def _poll_failed(self, screen: Any, message: str) -> None:
        screen.set_status(f"refresh failed: {message}")
        self._schedule()

    # --- monitoring -----------------------------------------------------------------------

    @staticmethod
    def _key(row: DeploymentStatus) -> MonitorKey:
        return (row.model, row.alias)

    def _drift_by_name(self) -> dict[str, MonitorState]:
        return {
            name: self.monitor[self._key(row)]
            for name, row in self.rows.items()
            if self._key(row) in self.monitor
        }

    def _monitor_env(self) -> dict[str, str]:
        from commands.probe_runner import child_env

        return child_env(self.shell.settings)

    async def _run_monitor(self, model: str, alias: str) -> MonitorState:
        state = await run_monitor_command(self.monitor_argv(model, alias), self._monitor_env())
        return state.model_copy(update={"at": self.clock()})

    def _check_drift(self) -> None:
        """Start the next background monitor run, one at a time, for a stale model and alias."""
        if self.shell.jobs.running("monitor-bg"):
            return
        now = self.clock()
        for row in self.rows.values():
            key = self._key(row)
            if not row.model or not row.alias:
                continue
            state = self.monitor.get(key)
            if state is not None and (
                state.checking or state.unavailable or now - state.at < self._ttl(key)
            ):
                continue
            self._start_monitor(key, "monitor-bg")
            return

    def _served(self, key: MonitorKey) -> int | None:
        counts = [r.requests for r in self.rows.values() if self._key(r) == key]
        return None if any(c is None for c in counts) else sum(c or 0 for c in counts)

    def _ttl(self, key: MonitorKey) -> float:
        """How long a check stays fresh: until new traffic, then ``MONITOR_RECHECK_S`` (a check
        made before the traffic said `ok 0/8` for ten minutes while the data drifted)."""
        served = self._served(key)
        if served is not None and served != self._served_at_check.get(key, served):
            return MONITOR_RECHECK_S
        return MONITOR_TTL_S

    def _start_monitor(self, key: MonitorKey, group: str) -> None:
        from console.monitor_contract import MonitorState

        old = self.monitor.get(key) or MonitorState()
        self.monitor[key] = old.model_copy(update={"checking": True})
        self._served_at_check[key] = self._served(key)
        self._show_monitor(key)
        self.shell.run(
            Job(
                group,
                f"monitoring {key[0]}@{key[1]}",
                partial(self._run_monitor, *key),
                partial(self._monitored, key),
                on_fail=partial(self._monitor_failed, key),
                retry=False,
            )
        )

    def _monitored(self, key: MonitorKey, state: MonitorState) -> None:
        self.monitor[key] = state
        self._show_monitor(key)
        self._check_drift()

    def _monitor_failed(self, key: MonitorKey, message: str) -> None:
        from console.monitor_contract import MonitorState

        self.monitor[key] = MonitorState(error=message, at=self.clock())
        self._show_monitor(key)

    def _show_monitor(self, key: MonitorKey) -> None:
        from widgets.monitor_screen import MonitorScreen

        if self.screen is not None and self.screen.is_attached:
            self.screen.show_drift(self._drift_by_name())
        for screen in self.shell.app.screen_stack:
            if isinstance(screen, MonitorScreen) and self._key(screen.row) == key:
                screen.show_state(self.monitor[key])

    def open_monitor(self, row: DeploymentStatus) -> None:
        """The monitoring screen of ``row``; runs the monitor unless a fresh result exists."""
        from console.monitor_contract import MonitorState
        from widgets.monitor_screen import MonitorScreen

        app = self.shell.app
        key = self._key(row)
        if not isinstance(app.screen, MonitorScreen) or app.screen.row.name != row.name:
            app.push_screen(MonitorScreen(row, read_only=self.shell.settings.read_only))
        state = self.monitor.get(key)
        fresh = state is not None and (
            state.checking or state.unavailable or self.clock() - state.at < MONITOR_FRESH_S
        )
        if state is not None and fresh:
            self._show_monitor(key)
            return
        if not row.model or not row.alias:
            # an unreadable record says which file and how to remove it: that is the reason
            reason = row.detail or "this deployment names no model and alias (see its record)"
            self.monitor[key] = MonitorState(error=reason, at=self.clock())
            self._show_monitor(key)
            return
        self._start_monitor(key, "monitor")

    def rerun_monitor(self, row: DeploymentStatus) -> None:
        key = self._key(row)
        state = self.monitor.get(key)
        if state is not None and state.checking:
            return
        if state is not None and state.unavailable:
            self.shell.notify(NOT_AVAILABLE, severity="warning")
            return
        self._start_monitor(key, "monitor")

    # --- actions --------------------------------------------------------------------------

    def act(self, action: str, row: DeploymentStatus | None) -> None:
        """A key or palette entry of the deployments view or a monitoring screen."""
        from widgets.monitor_screen import MonitorScreen

        if action == "refresh" or row is None:
            self.poll_now()
        elif action == "monitor":
            if isinstance(self.shell.app.screen, MonitorScreen):
                self.rerun_monitor(row)
            else:
                self.open_monitor(row)
        elif action in MUTATIONS:
            if self.refused(action, row):
                return
            if action == "retrain":
                self.retrain(row)
            else:
                self._start_flow(action, row)

    def refused(self, action: str, row: DeploymentStatus) -> bool:
        """Say why ``action`` cannot run on ``row`` (read-only, production); True if refused."""
        from widgets.deployments_screen import READ_ONLY_REASON

        if self.shell.settings.read_only:
            self.shell.notify(READ_ONLY_REASON, severity="warning")
            return True
        if action != "retrain" and row.kind == "production":
            self.shell.notify(
                f"{row.name} is a production endpoint: the console only observes it; roll it "
                "out through its own platform",
                severity="warning",
            )
            return True
        return False

    def _set_status(self, text: str) -> None:
        from widgets.monitor_screen import MonitorScreen

        screen = self.shell.app.screen
        if isinstance(screen, MonitorScreen):
            screen.set_status(text)
        elif self.screen is not None and self.screen.is_attached:
            self.screen.set_status(text)

    def _start_flow(self, action: str, row: DeploymentStatus) -> None:
        if self.shell.client is None or self.shell.tracking_uri is None:
            self.shell.notify("not connected to MLflow yet", severity="warning")
            return
        if self.shell.jobs.running("rollout"):
            self.shell.notify("a rollout is in progress: wait for it to end", severity="warning")
            return
        self._set_status(f"{action} of {row.name}: reading what it serves…")
        self.shell.run(
            Job(
                "rollout",
                f"{action} of {row.name}",
                partial(self._flow, action, row.name),
                self._flow_done,
                on_fail=self._flow_failed,
                retry=False,
            )
        )

    async def _flow(self, action: str, name: str) -> Any:
        from commands.rollout import DeployContext, NoRollbackTarget, rollback, rollout
        from widgets.rollout_modal import DeployDriver

        ctx = DeployContext.from_settings(
            self.shell.settings, self.shell.client, self.shell.tracking_uri or ""
        )
        driver = DeployDriver(
            self.shell.app, on_cancel=self.cancel_flow, title=f"{action} of {name}"
        )
        self.flow_driver = driver
        if action == "rollout":
            return await rollout(ctx, name, driver)
        try:
            return await rollback(ctx, name, driver)
        except NoRollbackTarget:
            # no previous version on record: the operator chooses one here (the CLI's --to)
            return await self._rollback_to_chosen(ctx, name, driver)

    async def _rollback_to_chosen(self, ctx: Any, name: str, driver: Any) -> Any:
        from commands.rollout import rollback, rollback_choices
        from console.deployment_model import RolloutResult

        choices = await rollback_choices(ctx, name)
        driver.progress(f"rollback of {name}: choose the version to go back to")
        version = await driver.choose_version(
            name,
            choices.model,
            choices.alias,
            choices.versions,
            serving=choices.serving,
            holder=choices.holder,
        )
        if version is None:
            return RolloutResult(
                name=name,
                action="rollback",
                outcome="cancelled",
                message="cancelled: no version chosen, nothing was changed",
                model=choices.model,
                alias=choices.alias,
                served_before=choices.serving,
                served_after=choices.serving,
                alias_version=choices.holder,
            )
        return await rollback(ctx, name, driver, to_version=version)

    def cancel_flow(self) -> None:
        """Escape or x while a rollback's gates run: the flow stops (a gate's child process is
        killed) before anything is written."""
        app = self.shell.app
        app.workers.cancel_group(app, "rollout")
        driver, self.flow_driver = self.flow_driver, None
        if driver is not None:
            driver.close_progress()
        message = "cancelled while the gates ran: nothing was written"
        self.last_outcome = message
        self._set_status(message)
        self.shell.notify(message, severity="warning")

    def _flow_done(self, result: Any) -> None:
        from widgets.promote_modal import PlanModal

        driver, self.flow_driver = self.flow_driver, None
        if driver is not None:
            driver.close_progress()
        severity: dict[str, SeverityLevel] = {
            "succeeded": "information",
            "noop": "information",
            "cancelled": "warning",
        }
        plan = getattr(driver, "plan", None)
        if result.outcome == "refused" and driver is not None and plan is not None and plan.refusal:
            if driver.refusal_shown:
                # the operator read this plan in the override form and closed it
                self.shell.notify(result.message, severity="warning")
            else:
                # refused for another reason (the alias moved, no permission): the plan says why
                self.shell.app.push_screen(PlanModal(plan, preface=result.message))
        else:
            self.shell.notify(result.message, severity=severity.get(result.outcome, "error"))
        self.last_outcome = f"{result.action} {result.outcome}: {result.message}"
        self._set_status(self.last_outcome)
        if result.promotion:
            self.shell.hooks.reload_registry()
        self.poll_now()

    def _flow_failed(self, message: str) -> None:
        driver, self.flow_driver = self.flow_driver, None
        if driver is not None:
            driver.close_progress()
        self.last_outcome = message
        self.shell.notify(message, severity="error")
        self._set_status(message)

    def progress(self, message: Any) -> None:
        self._set_status(message.text)
        if message.warning:
            self.shell.notify(message.text, severity="warning")

    def retrain(self, row: DeploymentStatus) -> None:
        """The retrain runbook's form with this deployment's model (and alias) filled in."""
        self.shell.hooks.open_runbook(
            RETRAIN_RUNBOOK, {"model": row.model, "alias": row.alias, "deployment": row.name}
        )

    # --- the palette ------------------------------------------------------------------------

    def deployment_commands(self, screen: Any) -> Any:
        """Palette entries: the view anywhere; on the view or a monitoring screen, its actions."""
        from textual.app import SystemCommand

        from widgets.deployments_screen import DeploymentsScreen
        from widgets.monitor_screen import MonitorScreen

        if isinstance(screen, DeploymentsScreen):
            row = screen.current
            yield SystemCommand("Back", "return to the main screen", screen.action_close)
            yield SystemCommand("Refresh deployments", "read them again now", self.poll_now)
        elif isinstance(screen, MonitorScreen):
            row = screen.row
            yield SystemCommand("Back", "return to the deployments", screen.action_close)
            yield SystemCommand(
                "Run the monitor again",
                "drift and performance now",
                partial(self.act, "monitor", row),
            )
        else:
            return  # the view itself is a verb (``D``, ``:deployments``)
        if row is None:
            return
        if isinstance(screen, DeploymentsScreen):
            yield SystemCommand(
                f"Monitor {row.name}",
                "drift table and realized performance per week (enter, M)",
                partial(self.act, "monitor", row),
            )
        if self.shell.settings.read_only:
            return
        entries = (
            ("rollout", f"Roll out {row.name}", "reload it on the alias's current version (R)"),
            (
                "rollback",
                f"Roll back {row.name}",
                "alias back to the previous version, then roll out (B)",
            ),
            ("retrain", f"Retrain {row.model}", f"open the {RETRAIN_RUNBOOK} runbook (T)"),
        )
        for action, title, help_text in entries:
            if action != "retrain" and row.kind == "production":
                continue
            yield SystemCommand(title, help_text, partial(self.act, action, row))
