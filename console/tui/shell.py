"""The typed handle every TUI feature receives: what it may use of the app, and nothing more.

A feature (``console.tui.browse``, ``lineage``, ``promotion``, ``provenance``, ``runbooks`` …) is
an object the app owns. It gets a ``Shell``: the Textual app (screens, notifications), the
settings, the main screen, the job runner, the live connection (client and tracking URI) and
``ShellHooks`` — the few calls one feature makes into another, filled in by the app. Features
import this module and never each other, so the shell has no import circle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from textual.app import App
    from textual.notifications import SeverityLevel

    from console.settings import Settings
    from console.tui.jobs import Job, JobRunner
    from widgets.main_screen import MainScreen


def _unset(*_: Any) -> None:
    raise RuntimeError("shell hook used before the app wired it")


@dataclass
class Connection:
    """The MLflow client once connected (None before), and the tracking URI it talks to."""

    client: Any = None
    tracking_uri: str | None = None


@dataclass
class ShellHooks:
    """Calls across features, wired by the app (so features need not import each other)."""

    # highlight a run in the runs pane, switching experiment when needed
    link_run: Callable[[str], None] = _unset
    # reload the registry (models, the selected model's versions, open version screens)
    reload_registry: Callable[[], None] = _unset
    # reload everything and retry what failed (r)
    refresh: Callable[[], None] = _unset
    # show the lineage of a run / of a model version in the lineage pane
    show_run_lineage: Callable[[str], None] = _unset
    show_version_lineage: Callable[[str, str], None] = _unset
    # open a runbook's form with some parameters filled in (name, {param: value}); says so when
    # the runbook does not exist
    open_runbook: Callable[[str, dict[str, str]], None] = _unset
    # a model's versions were shown: let features finish a pending selection
    versions_shown: list[Callable[[], None]] = field(default_factory=list)


@dataclass
class Shell:
    """What a feature may use. ``run`` is the only way to do I/O from the UI."""

    app: App[Any]
    settings: Settings
    main: MainScreen
    jobs: JobRunner
    connection: Connection
    hooks: ShellHooks

    @property
    def client(self) -> Any:
        return self.connection.client

    @property
    def tracking_uri(self) -> str | None:
        return self.connection.tracking_uri

    @property
    def connected_uri(self) -> str:
        """The tracking URI, for work that runs only once connected (set with the client)."""
        uri = self.connection.tracking_uri
        if uri is None:
            raise RuntimeError("not connected to a tracking server")
        return uri

    def run(self, job: Job) -> None:
        self.jobs.run(job)

    def notify(self, text: str, *, severity: SeverityLevel = "information") -> None:
        """A toast; the app sanitizes every toast (``ConsoleApp.notify``)."""
        self.app.notify(text, severity=severity, markup=False)

    def status(self, text: str, *, ttl: float | Literal["default"] | None = "default") -> None:
        """A status line in the header; it expires after ``ttl`` seconds (None: stays)."""
        self.main.status.set_state(text, ttl=ttl)
