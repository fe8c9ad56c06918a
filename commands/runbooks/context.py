"""What a step command gets besides its arguments: settings, the driver, clients and the audit log.

One ``StepContext`` per runbook run. The MLflow client is built on first use (starting the embedded
server if that is what the settings say) and closed by the engine at the end.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from commands.driver import Driver
from commands.runbooks.secrets import Masker
from console.errors import ConsoleError


class StepFailed(ConsoleError):
    """A step could not do its job; the message says what failed."""


@dataclass
class StepContext:
    settings: Any
    driver: Driver
    masker: Masker
    runbook: str
    run_id: str
    dry_run: bool = False
    # the confirmed plan of the action step being run (set by the engine around ``run``)
    plan: Any = None
    _mlflow: Any = field(default=None, repr=False)
    _tracking_uri: str | None = field(default=None, repr=False)

    async def tracking_uri(self) -> str:
        """The configured MLflow server, or the embedded one (started in a thread if needed)."""
        if self._tracking_uri is None:
            from console.connection import resolve_tracking_uri

            self._tracking_uri = await asyncio.to_thread(
                resolve_tracking_uri, self.settings, self.driver.progress
            )
        return self._tracking_uri

    async def mlflow(self) -> Any:
        """An ``MlflowRestClient`` for this run."""
        if self._mlflow is None:
            from console.mlflow import MlflowRestClient

            uri = await self.tracking_uri()
            self._mlflow = MlflowRestClient.from_settings(self.settings, tracking_uri=uri)
        return self._mlflow

    def say(self, message: str) -> None:
        """Live output of the current step (masked)."""
        self.driver.progress(self.masker.text(message))

    async def aclose(self) -> None:
        if self._mlflow is not None:
            await self._mlflow.aclose()
            self._mlflow = None
