"""The append-only audit log: one JSON line per record in ``<home>/audit/audit.jsonl``.

Generic over what was done (``action`` is a dotted kind: ``promote.set_alias``, ``runbook.step``),
so promotions and the runbook engine share one trail. Records are pydantic, written as ASCII JSON
(server text keeps its control characters escaped); every known secret is masked before a line is
written, and lines are appended under an exclusive lock so concurrent
consoles never interleave. Also who the operator is: the server's ``users/current`` where auth
exists, else the OS user.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import getpass
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from console.errors import ConsoleError
from console.private_files import private_dir

AUDIT_FILE = "audit.jsonl"
MASK = "********"

# "pending": an intent written right before a registry write; its outcome follows in another record
# (``details.intent_id``), or is resolved from the server at the next start if the console died
# "unconfirmed": a write was sent but its verification got no answer (it may have happened)
Outcome = Literal[
    "succeeded", "refused", "lost_race", "failed", "cancelled", "pending", "unconfirmed"
]
# the exit code of a change refused because its audit record could not be written
EXIT_AUDIT_UNAVAILABLE = 6


class AuditError(ConsoleError):
    """The audit log could not be written or read."""

    def __init__(self, message: str, *, hint: str | None = None, reason: str = "") -> None:
        super().__init__(message, hint=hint)
        # the operating system's words (``No space left on device``), for one-line refusals
        self.reason = reason or message


class AuditUnavailable(AuditError):
    """A change refused before any write because its audit record could not be written."""

    exit_code = EXIT_AUDIT_UNAVAILABLE

    @classmethod
    def before(cls, exc: AuditError, what: str = "") -> AuditUnavailable:
        subject = f" of {what}" if what else ""
        return cls(
            f"cannot write the audit record{subject} ({exc.reason}): nothing was changed",
            hint=exc.hint,
            reason=exc.reason,
        )


class Actor(BaseModel):
    """Who acted: a server identity where the server has auth, else the OS user."""

    model_config = ConfigDict(frozen=True)

    name: str
    source: Literal["server", "os"]

    def __str__(self) -> str:
        return f"{self.name} ({'server user' if self.source == 'server' else 'OS user'})"


class AuditRecord(BaseModel):
    """One thing the console did (or refused to do), with what is needed to say who moved what."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    action: str
    outcome: Outcome
    actor: Actor
    server: str | None = None
    model: str | None = None
    version: str | None = None
    # the alias or stage acted on, e.g. "alias:champion" or "stage:Production"
    target: str | None = None
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)
    gates: list[dict[str, Any]] = Field(default_factory=list)
    forced: bool = False
    reason: str | None = None
    message: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


# outcomes of an attempt that wrote nothing to the registry: a record of one shows no change
UNCHANGED_OUTCOMES = frozenset({"refused", "cancelled"})


def _holders(record: AuditRecord, view: dict[str, Any]) -> str:
    target = record.target or ""
    if target.startswith("deployment:"):
        served = view.get("served")
        return f"serves v{served}" if served else "serves ?"
    if target.startswith("alias:"):
        holder = view.get("alias_holder")
        return f"v{holder}" if holder else "-"
    holders = view.get("stage_holders") or []
    return ",".join(f"v{v}" for v in holders) or "-"


def change_text(record: AuditRecord) -> str:
    """What the record changed, for one table cell: ``v1 → v3``, ``unchanged (v1)``, ``-``.

    Only an attempt that changed the registry (or a deployment) shows ``before → after``. A
    refused or cancelled one, one without an ``after`` (a failure before the write) and one whose
    ``after`` is its ``before`` show what stayed — never a ``v1 → v1`` "change"; an intent shows
    ``→ ?``. The CLI's ``audit`` and the TUI's audit view both use this.
    """
    if not record.target or not (record.before or record.after):
        return "-"
    before = _holders(record, record.before)
    if record.outcome == "pending":
        return f"{before} → ? (intent)"
    if record.outcome in UNCHANGED_OUTCOMES or not record.after:
        seen = record.details.get("seen")
        now = _holders(record, seen) if isinstance(seen, dict) and seen else before
        # a refusal because someone else moved it: what it shows now, not a change of ours
        return f"unchanged ({before})" if now == before else f"unchanged ({before}; now {now})"
    after = _holders(record, record.after)
    return f"unchanged ({before})" if after == before else f"{before} → {after}"


class AuditFilter(BaseModel):
    """Which records to read: every field narrows; ``limit`` keeps the newest N."""

    model: str | None = None
    action_prefix: str | None = None
    outcome: Outcome | None = None
    # the operator's name as recorded (server user or OS user)
    actor: str | None = None
    since: datetime | None = None
    limit: int | None = Field(default=None, ge=1)
    # intents whose outcome was recorded are noise in a listing; unresolved ones are always shown
    include_closed_intents: bool = False

    def matches(self, record: AuditRecord) -> bool:
        if self.model is not None and record.model != self.model:
            return False
        if self.actor is not None and record.actor.name != self.actor:
            return False
        if self.action_prefix and not record.action.startswith(self.action_prefix):
            return False
        if self.outcome is not None and record.outcome != self.outcome:
            return False
        return self.since is None or record.at >= self.since


class AuditRead(BaseModel):
    """Records read back, oldest first, and how many lines could not be parsed."""

    path: str
    records: list[AuditRecord] = Field(default_factory=list)
    unreadable_lines: int = 0


def secret_values(settings: Any) -> list[str]:
    """Every secret held in ``settings`` (SecretStr fields), to mask in records."""
    found: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr):
            raw = value.get_secret_value()
            if raw:
                found.append(raw)
    return found


class AuditLog:
    """The log file of one console home. ``secrets`` are masked in every line written."""

    def __init__(self, directory: Path, *, secrets: Iterable[str] = ()) -> None:
        self.directory = Path(directory)
        self.path = self.directory / AUDIT_FILE
        # longest first so a secret containing another is masked whole
        self._secrets = sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True)

    @classmethod
    def for_settings(cls, settings: Any) -> AuditLog:
        from console.embedded.lifecycle import EmbeddedPaths

        return cls(EmbeddedPaths.for_home(settings.home).audit_dir, secrets=secret_values(settings))

    def mask(self, line: str) -> str:
        """``line`` with every known secret replaced by ``********``."""
        for secret in self._secrets:
            line = line.replace(secret, MASK)
            # a secret may also appear JSON-escaped inside the line
            escaped = json.dumps(secret)[1:-1]
            if escaped != secret:
                line = line.replace(escaped, MASK)
        return line

    def append(self, record: AuditRecord) -> AuditRecord:
        """Write ``record`` as one line; raise AuditError if the log cannot be written."""
        line = self.mask(_json_line(record)) + "\n"
        try:
            private_dir(self.directory)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                _write_whole(fd, line.encode("utf-8"))
            finally:
                os.close(fd)  # closing releases the lock
        except OSError as exc:
            raise AuditError(
                f"cannot write the audit log {self.path}: {exc.strerror or exc}",
                hint=f"check that {self.directory} is writable and has free space",
                reason=str(exc.strerror or exc),
            ) from None
        return record

    def append_or_refuse(self, record: AuditRecord, what: str = "") -> AuditRecord:
        """``append``, or raise AuditUnavailable (exit 6): for a record a write depends on."""
        try:
            return self.append(record)
        except AuditUnavailable:
            raise
        except AuditError as exc:
            raise AuditUnavailable.before(exc, what) from None

    def _lines(self) -> Iterator[str]:
        try:
            handle = self.path.open("r", encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise AuditError(f"cannot read the audit log {self.path}: {exc.strerror}") from None
        with handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
            yield from handle

    def read(self, where: AuditFilter | None = None) -> AuditRead:
        """Matching records, oldest first; lines that are not records are counted, not fatal."""
        where = where or AuditFilter()
        result = AuditRead(path=str(self.path))
        closed: set[str] = set()
        for line in self._lines():
            if not line.strip():
                continue
            try:
                record = AuditRecord.model_validate_json(line)
            except ValidationError:
                result.unreadable_lines += 1
                continue
            intent = record.details.get("intent_id")
            if isinstance(intent, str):
                closed.add(intent)
            if where.matches(record):
                result.records.append(record)
        if not where.include_closed_intents:
            result.records = [
                r for r in result.records if r.outcome != "pending" or r.id not in closed
            ]
        if where.limit is not None:
            result.records = result.records[-where.limit :]
        return result


def _write_whole(fd: int, data: bytes) -> None:
    """Append ``data`` and fsync it, or leave the file as it was and raise OSError.

    A nearly full disk takes part of a line (a short write) and then refuses the rest: the part
    is cut off again, so the log never holds half a record that was reported as not written.
    """
    start = os.fstat(fd).st_size
    try:
        done = 0
        while done < len(data):
            written = os.write(fd, data[done:])
            if written <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            done += written
        os.fsync(fd)
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, start)
        raise


def _json_line(record: AuditRecord) -> str:
    """``record`` as one line of pure ASCII JSON: ESC, DEL, C1 controls (U+009B) and bidi
    overrides from server text stay ``\\u`` escapes, so ``cat``/``tail`` of the log replay none."""
    return json.dumps(record.model_dump(mode="json"), ensure_ascii=True, separators=(",", ":"))


def os_actor() -> Actor:
    """The OS user running the console."""
    # getuser fails (KeyError/OSError) for a uid without a passwd entry, e.g. in containers
    with contextlib.suppress(KeyError, OSError):
        return Actor(name=getpass.getuser(), source="os")
    return Actor(name=f"uid {os.getuid()}", source="os")


async def identify(client: Any) -> Actor:
    """The operator: the server's authenticated user where auth exists, else the OS user.

    ``client`` is an ``MlflowRestClient`` (duck-typed so this module imports no client).
    """
    user = await client.current_user()
    if user.auth_enabled and user.username:
        return Actor(name=user.username, source="server")
    return os_actor()
