"""The record of one runbook run: pydantic JSON (the resume state) and a markdown rendering.

Saved under ``<home>/transcripts/`` after every step, atomically, so an interrupted or killed run
leaves a transcript that ``--resume`` can continue from. Everything in it has been masked, and
both files hold server text with its control characters escaped.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from console.private_files import private_dir, write_private
from console.safe_text import file_safe

StepState = Literal[
    "pending", "running", "ok", "failed", "skipped", "declined", "planned", "refused"
]
RunStatus = Literal[
    "running", "completed", "failed", "interrupted", "declined", "refused", "dry-run"
]
RESUMABLE = frozenset({"running", "failed", "interrupted", "declined"})
DONE_STATES = frozenset({"ok", "skipped"})


def now() -> datetime:
    return datetime.now(UTC)


class StepRecord(BaseModel):
    id: str
    title: str
    kind: Literal["check", "action"]
    command: str
    state: StepState = "pending"
    args: dict[str, Any] = Field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    summary: str = ""
    findings: list[str] = Field(default_factory=list)
    changes: list[str] = Field(default_factory=list)
    output: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    advice: str | None = None
    audit_id: str | None = None
    attempts: int = 0


class Transcript(BaseModel):
    run_id: str
    runbook: str
    title: str
    file: str
    started_at: datetime = Field(default_factory=now)
    finished_at: datetime | None = None
    status: RunStatus = "running"
    dry_run: bool = False
    operator: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    resumed_at: list[datetime] = Field(default_factory=list)
    steps: list[StepRecord] = Field(default_factory=list)

    def step(self, step_id: str) -> StepRecord:
        for record in self.steps:
            if record.id == step_id:
                return record
        raise KeyError(step_id)

    def stem(self) -> str:
        stamp = self.started_at.strftime("%Y%m%dT%H%M%SZ")
        return f"{self.runbook}-{stamp}-{self.run_id[:8]}"


def _atomic_write(path: Path, text: str) -> None:
    write_private(path, text)  # 0600: transcripts hold server names, findings and operator input


def save(transcript: Transcript, directory: Path) -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``<stem>.md``; return both paths."""
    private_dir(directory)
    json_path = directory / f"{transcript.stem()}.json"
    md_path = directory / f"{transcript.stem()}.md"
    # ASCII JSON: control characters of server text stay escaped in the file
    doc = json.dumps(transcript.model_dump(mode="json"), indent=2, ensure_ascii=True)
    _atomic_write(json_path, doc)
    _atomic_write(md_path, render_markdown(transcript))
    return json_path, md_path


def load_all(directory: Path, runbook: str | None = None) -> list[Transcript]:
    """Every readable transcript (of ``runbook``), oldest first."""
    found = []
    pattern = f"{runbook}-*.json" if runbook else "*.json"
    for path in sorted(directory.glob(pattern)) if directory.is_dir() else []:
        with contextlib.suppress(OSError, ValidationError):
            found.append(Transcript.model_validate_json(path.read_text(encoding="utf-8")))
    return sorted(found, key=lambda t: t.started_at)


def latest_resumable(directory: Path, runbook: str) -> Transcript | None:
    """The newest run of ``runbook`` that stopped before the end (not a dry run)."""
    candidates = [
        t for t in load_all(directory, runbook) if t.status in RESUMABLE and not t.dry_run
    ]
    return candidates[-1] if candidates else None


_MARK = {
    "ok": "✔",
    "failed": "✘",
    "skipped": "–",
    "declined": "✋",
    "planned": "…",
    "refused": "⛔",
    "running": "▶",
    "pending": " ",
}


def _md_text(value: str) -> str:
    # server text is data: keep it out of markdown syntax by putting it in code spans
    return value.replace("`", "'")


def render_markdown(t: Transcript) -> str:
    lines = [
        f"# Runbook transcript: {t.title}",
        "",
        f"- runbook: `{t.runbook}` ({t.file})",
        f"- run: `{t.run_id}`{' (dry run)' if t.dry_run else ''}",
        f"- operator: {t.operator or 'unknown'}",
        f"- started: {t.started_at.isoformat(timespec='seconds')}",
        f"- finished: {t.finished_at.isoformat(timespec='seconds') if t.finished_at else '-'}",
        f"- status: **{t.status}**",
    ]
    for at in t.resumed_at:
        lines.append(f"- resumed: {at.isoformat(timespec='seconds')}")
    if t.params:
        lines += ["", "| parameter | value |", "|---|---|"]
        lines += [f"| {k} | `{_md_text(str(v))}` |" for k, v in t.params.items()]
    for number, step in enumerate(t.steps, 1):
        lines += [
            "",
            f"## {number}. {step.title} — {_MARK.get(step.state, '')} {step.state}",
            "",
            f"`{step.command}` ({step.kind}, step `{step.id}`)",
        ]
        if step.summary:
            lines += ["", f"`{_md_text(step.summary)}`"]
        for heading, items in (
            ("Findings", step.findings),
            ("Changes", step.changes),
            ("Output", step.output[-20:]),
        ):
            if items:
                lines += ["", f"{heading}:", ""] + [f"- `{_md_text(i)}`" for i in items]
        if step.error:
            lines += ["", f"Error: `{_md_text(step.error)}`"]
        if step.advice and step.state == "failed":
            lines += ["", f"What to do: {step.advice}"]
        if step.audit_id:
            lines += ["", f"Audit record: `{step.audit_id}`"]
    # server text is data: no escape sequence, C1 control or bidi override reaches the file raw
    # (``cat`` of a transcript must not retitle the terminal or write its clipboard)
    return file_safe("\n".join(lines)) + "\n"
