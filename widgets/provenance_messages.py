"""Messages of the provenance and compare screens; the shell turns them into workers."""

from __future__ import annotations

from textual.message import Message


class ProbeWanted(Message):
    """Start the prediction probe for the pair on the compare screen."""

    def __init__(self, model: str, left: str, right: str) -> None:
        super().__init__()
        self.model = model
        self.left = left
        self.right = right


class ProbeCancelWanted(Message):
    """Stop the running probe (its process is terminated)."""


class ProvenanceReloadWanted(Message):
    """Load the screen's record (or diagnosis) again."""
