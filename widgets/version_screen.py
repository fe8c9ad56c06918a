"""The model version detail screen: aliases, stage, tags, description, signature and
requirements, with ``g`` to go to its source run. Escape goes back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding

from widgets.detail_base import DetailScreen
from widgets.format import format_ms
from widgets.messages import JumpToRun
from widgets.sections import columns, heading, key_values, stack
from widgets.text import literal, literal_block

if TYPE_CHECKING:  # the model module costs import time before the first frame
    from console.model import ModelFiles, ModelVersion

HELP = (
    "Model version detail\n"
    "  g                        go to the version's source run (escape: back)\n"
    "  a / s                    set an alias / change the stage (a plan first)\n"
    "  p                        provenance: run, data snapshot, commit\n"
    "  h                        the model's history (who moved what, when)\n"
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


class VersionScreen(DetailScreen):
    """One model version in full; the shell loads it and calls ``show`` (or ``failed``)."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("g", "go_to_run", "Go to run", id="version.run"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("f1", "help", "Help", show=False),
    ]
    FAILED = "Could not load this version: "
    HELP = HELP
    HELP_TITLE = "Help · Model version"

    def __init__(self, version: ModelVersion) -> None:
        super().__init__(f"Model {version.name} · version {version.version}")
        self.version = version
        self.files: ModelFiles | None = None

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
        self._set(stack(*parts))

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

    def action_go_to_run(self) -> None:
        if self.version.run_id:
            self.post_message(JumpToRun(self.version.run_id))
        else:
            self.notify("this version has no source run", severity="warning")
