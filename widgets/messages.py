"""Typed messages that widgets post to the shell; the shell turns them into requests (workers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the model module costs import time before the first frame
    from console.model import Experiment, ModelVersion, RegisteredModel


class ExperimentHighlighted(Message):
    """The operator moved to an experiment: its runs should load."""

    def __init__(self, experiment: Experiment) -> None:
        super().__init__()
        self.experiment = experiment


class RunHighlighted(Message):
    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id


class RunChosen(Message):
    """Enter on a run: open its detail screen."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id


class MoreRunsWanted(Message):
    """The cursor or the viewport is near the end of the loaded runs and more exist."""


class RunOrderChosen(Message):
    """Sort the runs by ``order_by`` (an MLflow order clause), done by the server."""

    def __init__(self, order_by: str | None) -> None:
        super().__init__()
        self.order_by = order_by


class ModelHighlighted(Message):
    def __init__(self, model: RegisteredModel) -> None:
        super().__init__()
        self.model = model


class VersionHighlighted(Message):
    """A version is selected: highlight its run and load its lineage."""

    def __init__(self, version: ModelVersion) -> None:
        super().__init__()
        self.version = version


class VersionChosen(Message):
    """Enter on a version: open its detail screen."""

    def __init__(self, version: ModelVersion) -> None:
        super().__init__()
        self.version = version


class JumpToRun(Message):
    """From a version's detail: show its source run."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id


class PromptSubmitted(Message):
    """The operator entered a ``:`` command or a ``/`` filter."""

    def __init__(self, kind: str, text: str, *, cancelled: bool = False) -> None:
        super().__init__()
        self.kind = kind
        self.text = text
        self.cancelled = cancelled


class RetryRequested(Message):
    """Retry whatever failed (the banner's action)."""
