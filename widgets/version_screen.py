"""The model version detail screen: aliases, stage, tags, description, signature and
requirements, with ``g`` to go to its source run. Escape goes back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from widgets.format import format_ms
from widgets.help_screen import HelpScreen
from widgets.messages import JumpToRun
from widgets.run_screen import DetailBody
from widgets.sections import columns, heading, key_values, stack
from widgets.text import literal, literal_block

if TYPE_CHECKING:  # the model module costs import time before the first frame
    from console.model import ModelFiles, ModelVersion

HELP = (
    "Model version detail\n"
    "  g                        go to the version's source run\n"
    "  j/k, arrows, pgup/pgdn   scroll\n"
    "  r                        reload this version\n"
    "  escape                   back to the main screen"
)


def _signature_rows(specs) -> list[list[object]]:
    rows = []
    for spec in specs:
        kind = spec.type or (spec.tensor_spec or {}).get("dtype") or "-"
        rows.append([spec.name or "(unnamed)", kind, "yes" if spec.required else "no"])
    return rows


class VersionScreen(Screen):
    """One model version in full; the shell loads it and calls ``show`` (or ``failed``)."""

    DEFAULT_CSS = """
    VersionScreen #title { height: 1; background: $panel; text-style: bold; }
    VersionScreen DetailBody { padding: 0 1; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("g", "go_to_run", "Go to run", id="version.run"),
        Binding("question_mark", "help", "Help", key_display="?", show=False),
        Binding("f1", "help", "Help", show=False),
    ]

    def __init__(self, version: ModelVersion) -> None:
        super().__init__()
        self._pending: tuple | None = None
        self.version = version
        self.files: ModelFiles | None = None

    def compose(self) -> ComposeResult:
        v = self.version
        yield Static(literal(f"Model {v.name} · version {v.version}", limit=150), id="title")
        with DetailBody(id="body"):
            yield Static(Text("loading…"), id="content")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DetailBody).focus()
        if self._pending is not None:
            method, args = self._pending
            self._pending = None
            method(*args)

    def _ready(self, method, *args) -> bool:
        """False (and the call kept for ``on_mount``) when the screen is not composed yet."""
        if self.is_mounted:
            return True
        self._pending = (method, args)
        return False

    def loading(self) -> None:
        if self._ready(self.loading):
            self.query_one("#content", Static).update(Text("loading…"))

    def failed(self, message: str) -> None:
        if not self._ready(self.failed, message):
            return
        body = Text("Could not load this version: ")
        body.append_text(literal(message, limit=400))
        body.append("\nr retries, escape goes back.")
        self.query_one("#content", Static).update(body)

    def show(
        self, version: ModelVersion, files: ModelFiles | None, files_note: str | None = None
    ) -> None:
        if not self._ready(self.show, version, files, files_note):
            return
        self.version = version
        self.files = files
        v = version
        overview = key_values(
            [
                ("model", v.name),
                ("version", v.version),
                ("aliases", " ".join(f"@{a}" for a in v.aliases) or "none"),
                ("stage", v.current_stage or "None"),
                ("status", v.status),
                ("source run", v.run_id),
                ("logged model", v.logged_model_id),
                ("source", v.source),
                ("created", format_ms(v.creation_timestamp)),
                ("updated", format_ms(v.last_updated_timestamp)),
                ("user", v.user_id),
            ]
        )
        parts = [
            heading("Overview"),
            overview,
            heading("Description"),
            literal_block(v.description) if v.description else Text("  none", style="dim"),
            heading("Tags", len(v.tags)),
            key_values(sorted(v.tags.items())),
        ]
        parts += self._file_parts(files, files_note)
        self.query_one("#content", Static).update(stack(*parts))

    @staticmethod
    def _file_parts(files: ModelFiles | None, note: str | None) -> list:
        if files is None:
            return [
                heading("Model files"),
                literal(f"  not loaded: {note or 'unknown'}", limit=300),
            ]
        parts: list = []
        mlmodel = files.mlmodel
        signature = mlmodel.signature if mlmodel else None
        parts.append(heading("Signature"))
        if signature is None:
            parts.append(Text("  none recorded", style="dim"))
        else:
            parts.append(Text("inputs", style="bold"))
            parts.append(columns(["name", "type", "required"], _signature_rows(signature.inputs)))
            parts.append(Text("outputs", style="bold"))
            parts.append(columns(["name", "type", "required"], _signature_rows(signature.outputs)))
        if mlmodel is not None:
            parts.append(heading("MLmodel"))
            parts.append(
                key_values(
                    [
                        ("flavors", ", ".join(sorted(mlmodel.flavors)) or "-"),
                        ("python", mlmodel.python_version),
                        ("mlflow", mlmodel.mlflow_version),
                        ("created", mlmodel.utc_time_created),
                        ("size", mlmodel.model_size_bytes),
                    ]
                )
            )
        lines = files.requirements.lines if files.requirements else []
        parts.append(heading("Requirements", len(lines)))
        parts.append(columns(["requirement"], [[line] for line in lines]))
        if files.python_env is not None:
            parts.append(heading("Python environment"))
            parts.append(
                key_values(
                    [
                        ("python", files.python_env.python),
                        ("build", " ".join(files.python_env.build_dependencies) or "-"),
                        ("dependencies", " ".join(files.python_env.dependencies) or "-"),
                    ]
                )
            )
        if files.missing:
            parts.append(Text("\nnot on the server: " + ", ".join(files.missing), style="dim"))
        return parts

    def action_back(self) -> None:
        self.dismiss()

    def action_go_to_run(self) -> None:
        if self.version.run_id:
            self.post_message(JumpToRun(self.version.run_id))
        else:
            self.notify("this version has no source run", severity="warning")

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(HELP, "Help · Model version"))
