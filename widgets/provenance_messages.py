"""Messages of the provenance and compare screens; the shell turns them into workers."""

from __future__ import annotations

from textual.message import Message


class ProbeWanted(Message):
    """Start the prediction probe for the pair on the compare screen."""

    def __init__(self, model: str, left: str, right: str, rows_file: str | None = None) -> None:
        super().__init__()
        self.model = model
        self.left = left
        self.right = right
        # a CSV, Parquet or JSON-lines file whose rows the probe scores (the --rows of the CLI)
        self.rows_file = rows_file


class ProbeCancelWanted(Message):
    """Stop the running probe (its process is terminated)."""


class ProvenanceReloadWanted(Message):
    """Load the screen's record (or diagnosis) again."""


class ReproduceWanted(Message):
    """Retrain the version on the provenance screen from its record and compare (``reproduce``)."""

    def __init__(self, model: str, version: str) -> None:
        super().__init__()
        self.model = model
        self.version = version
