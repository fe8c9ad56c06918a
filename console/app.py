"""The shell of the TUI: builds the configured Textual app from settings (CLI and tests alike)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from console.settings import Settings


class ConsoleApp(App[int]):
    """The operations console."""

    TITLE = "mlops-console"
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def compose(self) -> ComposeResult:
        yield Header()
        target = self.settings.tracking_uri or f"embedded lifecycle in {self.settings.home}"
        yield Static(f"Tracking: {target}", markup=False)
        yield Footer()


def build_app(settings: Settings) -> ConsoleApp:
    return ConsoleApp(settings)
