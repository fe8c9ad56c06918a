"""The runbook engine: runs a runbook's steps in order through the driver, with a transcript.

Checks run freely (also in a dry run). Each action first plans what it would change; a dry run
stops there, a real run shows the plan and asks the driver to confirm (``--yes`` in the CLI), then
runs it and writes an audit record. The transcript is saved after every step, so a run that is
interrupted — Ctrl-C, a declined prompt, a failure, a killed process — can be resumed with the
steps already done kept. Step updates go to ``driver.output`` as plain dicts (``event: step``).
A failed step's advice is the failure's own when it knows the cause (a ``StepFailed`` hint, a
model or alias that is not found), else the runbook's ``on_failure`` advice.

In a dry run an action is only planned, so what it would produce (the version a training
registers) is not known: a later step naming such a value, in its arguments or its ``when``, is
not run and not failed but described — state ``planned``, with what it would do in terms of the
values it is waiting for ("would alias the version the train step registers as challenger").
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from commands.driver import Driver
from commands.runbooks import template
from commands.runbooks.context import StepContext, StepFailed
from commands.runbooks.format import Runbook, StepSpec
from commands.runbooks.registry import Plan, StepResult, lookup
from commands.runbooks.secrets import MASK, Masker, mask_dsn
from commands.runbooks.transcript import (
    DONE_STATES,
    StepRecord,
    Transcript,
    latest_resumable,
    now,
    save,
)
from console.errors import ConsoleError, UsageError
from console.mlflow.errors import NotFound

STOP = "stop"
GO_ON = "go on"


class _RecordingDriver:
    """Forwards to the runner's driver and keeps the current step's live output (masked)."""

    def __init__(self, inner: Driver, masker: Masker) -> None:
        self.inner = inner
        self.masker = masker
        self.record: StepRecord | None = None

    def progress(self, message: str, *, fraction: float | None = None) -> None:
        message = self.masker.text(message)
        if self.record is not None:
            self.record.output.append(message)
        self.inner.progress(message, fraction=fraction)

    def warn(self, message: str) -> None:
        message = self.masker.text(message)
        if self.record is not None:
            self.record.output.append(f"warning: {message}")
        self.inner.warn(message)

    def output(self, item: Any) -> None:
        self.inner.output(item)

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        return await self.inner.confirm(self.masker.text(prompt), typed=typed)


# --- parameters -----------------------------------------------------------------------------------


def parse_assignments(items: list[str] | None) -> dict[str, str]:
    """``["k=v", ...]`` from ``--set``; ConsoleError for an item without ``=``."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item[:60]!r} is not KEY=VALUE")
        out[key.strip()] = value
    return out


def resolve_params(
    runbook: Runbook,
    overrides: Mapping[str, str],
    env: Mapping[str, str],
    saved: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Each parameter from ``--set``, else a resumed run's value, else its env var, else default."""
    declared = runbook.header.parameters
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise UsageError(
            f"runbook {runbook.name} has no parameter {unknown[0]!r} (parameters: {known})"
        )
    values: dict[str, Any] = {}
    for name, param in declared.items():
        raw: Any = None
        if name in overrides:
            raw = overrides[name]
        elif saved is not None and name in saved and MASK not in str(saved[name] or ""):
            raw = saved[name]
        elif param.env and env.get(param.env):
            raw = env[param.env]
        else:
            raw = param.default
        try:
            value = param.coerce(name, raw)
        except ValueError as exc:
            # a --set value is the command line's fault (exit 2); an env var or default is not
            raise (UsageError if name in overrides else ConsoleError)(str(exc)) from None
        if param.required and value in (None, ""):
            source = f" or ${param.env}" if param.env else ""
            raise ConsoleError(
                f"runbook {runbook.name} needs parameter {name}: {param.description}",
                hint=f"pass --set {name}=...{source}",
            )
        values[name] = value
    return values


def shown_params(runbook: Runbook, params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in params.items():
        param = runbook.header.parameters[name]
        kind = param.type
        if param.is_secret(name) and value not in (None, ""):
            out[name] = MASK
        elif (kind == "dsn" and value) or isinstance(value, str):
            # any string may be a URL with user:password@ in it (a tracking URI from the env)
            out[name] = mask_dsn(str(value))
        else:
            out[name] = value
    return out


def _masker(settings: Any, runbook: Runbook, params: Mapping[str, Any]) -> Masker:
    from console.audit import secret_values

    masker = Masker(secret_values(settings))
    for name, value in params.items():
        param = runbook.header.parameters[name]
        kind = param.type
        if param.is_secret(name) and value not in (None, ""):
            masker.add([str(value)])
        elif kind == "dsn":
            masker.add_dsn(str(value) if value else None)
    return masker


# --- the run --------------------------------------------------------------------------------------


def _fresh(runbook: Runbook, params: Mapping[str, Any], dry_run: bool) -> Transcript:
    from console.audit import os_actor

    return Transcript(
        run_id=uuid.uuid4().hex,
        runbook=runbook.name,
        title=runbook.header.title,
        file=runbook.path,
        dry_run=dry_run,
        operator=str(os_actor()),
        params=shown_params(runbook, params),
        steps=[
            StepRecord(id=s.id, title=s.title, kind=s.kind, command=s.command)
            for s in runbook.steps
        ],
    )


def _resumed(runbook: Runbook, directory: Path) -> Transcript:
    transcript = latest_resumable(directory, runbook.name)
    if transcript is None:
        raise ConsoleError(
            f"no interrupted run of {runbook.name} to resume in {directory}",
            hint="run it without --resume",
        )
    if [r.id for r in transcript.steps] != [s.id for s in runbook.steps]:
        raise ConsoleError(
            f"the interrupted run {transcript.run_id[:8]} of {runbook.name} had other steps "
            "(the runbook changed since)",
            hint="run it again without --resume",
        )
    transcript.resumed_at.append(now())
    transcript.status = "running"
    transcript.finished_at = None
    return transcript


def _emit(driver: Driver, index: int, record: StepRecord) -> None:
    driver.output({"event": "step", "index": index, **record.model_dump(mode="json")})


async def run_runbook(
    runbook: Runbook,
    settings: Any,
    driver: Driver,
    *,
    dry_run: bool = False,
    overrides: Mapping[str, str] | None = None,
    resume: bool = False,
    env: Mapping[str, str] | None = None,
) -> tuple[Transcript, Path, Path]:
    """Run ``runbook``; return the transcript and where its JSON and markdown were saved."""
    from console.embedded.lifecycle import EmbeddedPaths

    if resume and dry_run:
        raise ConsoleError("--resume and --dry-run cannot be combined")
    env = os.environ if env is None else env
    directory = EmbeddedPaths.for_home(settings.home).transcripts_dir
    resumed = _resumed(runbook, directory) if resume else None
    saved = resumed.params if resumed is not None else None
    params = resolve_params(runbook, overrides or {}, env, saved)
    masker = _masker(settings, runbook, params)
    if resumed is None:
        transcript = _fresh(runbook, params, dry_run)
    else:
        transcript = resumed
        transcript.params = shown_params(runbook, params)
    recorder = _RecordingDriver(driver, masker)
    ctx = StepContext(
        settings=settings,
        driver=recorder,
        masker=masker,
        runbook=runbook.name,
        run_id=transcript.run_id,
        dry_run=dry_run,
    )
    scope: dict[str, Any] = {"params": params, "steps": {}}
    paths = save(transcript, directory)
    current: StepRecord | None = None
    try:
        for index, spec in enumerate(runbook.steps):
            record = transcript.steps[index]
            if record.state in DONE_STATES:
                # done before the interruption: its output still feeds later templates
                scope["steps"][spec.id] = _outputs(spec, record)
                _emit(recorder, index, record)
                continue
            current = record
            recorder.record = record
            verdict = await _run_step(ctx, spec, record, scope, transcript, directory, index)
            recorder.record = None
            current = None
            paths = save(transcript, directory)
            if verdict == STOP:
                break
        else:
            transcript.status = "dry-run" if dry_run else "completed"
    except (KeyboardInterrupt, asyncio.CancelledError):
        transcript.status = "interrupted"
        if current is not None:
            current.state = "pending"
            current.error = "interrupted before the step finished"
        raise
    finally:
        transcript.finished_at = now()
        paths = save(transcript, directory)
        await ctx.aclose()
        driver.output(
            {
                "event": "finished",
                "status": transcript.status,
                "json": str(paths[0]),
                "markdown": str(paths[1]),
            }
        )
    return transcript, paths[0], paths[1]


def _fail(
    record: StepRecord,
    spec: StepSpec,
    transcript: Transcript,
    error: str,
    advice: str | None = None,
) -> str:
    """The step failed: ``advice`` is the failure's own (the command knew the cause), else the
    runbook's ``on_failure`` advice for the step."""
    record.state = "failed"
    record.error = error
    record.advice = advice or spec.on_failure.advice
    if spec.on_failure.continue_:
        return GO_ON
    transcript.status = "failed"
    return STOP


async def _run_step(
    ctx: StepContext,
    spec: StepSpec,
    record: StepRecord,
    scope: dict[str, Any],
    transcript: Transcript,
    directory: Path,
    index: int,
) -> str:
    command = lookup(spec.command)
    assert command is not None  # checked when the runbook was parsed
    record.state = "running"
    record.started_at = now()
    record.finished_at = None
    record.error = None
    record.attempts += 1
    record.output = []
    save(transcript, directory)  # a killed process leaves the step marked as running
    _emit(ctx.driver, index, record)
    try:
        verdict = await _execute(ctx, spec, command, record, scope, transcript)
    except StepFailed as exc:
        advice = ctx.masker.text(exc.hint) if exc.hint else None
        verdict = _fail(record, spec, transcript, ctx.masker.text(exc.message), advice)
    except template.TemplateError as exc:
        # the step never ran: its on_failure advice is about what the step does, not this
        advice = (
            "the step did not run: its arguments name a value that no earlier step produced"
            f" — check the step's templates in {transcript.file}"
        )
        verdict = _fail(record, spec, transcript, ctx.masker.text(str(exc)), advice)
    except NotFound as exc:
        # a model, version or alias that is not there: its own hint, not the step's guess
        advice = ctx.masker.text(exc.hint) if exc.hint else None
        verdict = _fail(record, spec, transcript, ctx.masker.text(exc.message), advice)
    except ConsoleError as exc:
        verdict = _fail(record, spec, transcript, ctx.masker.text(str(exc)))
    except Exception as exc:  # noqa: BLE001 - one step's bug must not lose the transcript
        verdict = _fail(record, spec, transcript, ctx.masker.text(f"{type(exc).__name__}: {exc}"))
    record.finished_at = now()
    scope["steps"][spec.id] = _outputs(spec, record)
    _emit(ctx.driver, index, record)
    return verdict


def _outputs(spec: StepSpec, record: StepRecord) -> template.StepOutputs:
    """The step's data as later templates see it: with its state and what its outputs mean."""
    command = lookup(spec.command)
    return template.StepOutputs(
        record.data,
        step=spec.id,
        state=record.state,
        descriptions=command.outputs if command is not None else None,
        why=record.summary if record.state == "skipped" else "",
    )


def _shown(value: Any) -> Any:
    """Rendered arguments for the transcript: an ``Unknown`` as the text of what it will be."""
    if isinstance(value, template.Unknown):
        return f"<{value.description}>"
    if isinstance(value, dict):
        return {k: _shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shown(v) for v in value]
    return value


async def _describe(ctx, spec: StepSpec, command, record, raw: Any, condition: Any) -> str:
    """A dry run's account of a step waiting for values an earlier planned step would produce."""
    if not ctx.dry_run:
        names = ", ".join(u.path for u in template.unknowns(raw)) or str(condition)
        raise StepFailed(f"{names}: not known (an earlier step was only planned)")
    record.args = ctx.masker.data(_shown(raw))
    described: StepResult | None = None
    if command.describe is not None and isinstance(raw, dict):
        described = await command.describe(ctx, raw)
    if described is None:
        waiting = "; ".join(
            f"{key} = {value.description}"
            for key, value in (raw.items() if isinstance(raw, dict) else [])
            if isinstance(value, template.Unknown)
        )
        described = StepResult(
            summary=f"would {command.summary}" + (f" ({waiting})" if waiting else "")
        )
    summary = described.summary
    if isinstance(condition, template.Unknown):
        summary += f", {condition.description}"
    record.state = "planned"
    record.summary = ctx.masker.text(summary)
    record.changes = [ctx.masker.text(c) for c in described.changes]
    record.findings = [ctx.masker.text(f) for f in described.findings]
    record.data = {}  # nothing is known of what it would produce: later steps see ``Unknown``
    return GO_ON


async def _execute(ctx, spec: StepSpec, command, record, scope, transcript) -> str:
    condition: Any = True
    if spec.when:
        condition = template.evaluate_or_unknown(spec.when, scope)
        if condition is False:
            record.state = "skipped"
            record.summary = f"when `{spec.when}` is false"  # shown beside its state, skipped
            return GO_ON
    raw = template.render(spec.args, scope)
    if isinstance(condition, template.Unknown) or template.unknowns(raw):
        return await _describe(ctx, spec, command, record, raw, condition)
    try:
        args = command.args_model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise StepFailed(f"argument {where}: {first.get('msg')}") from None
    record.args = ctx.masker.data(args.model_dump(mode="json"))

    if command.kind == "check":
        return _apply(ctx, record, spec, transcript, await command.run(ctx, args))

    plan: Plan = await command.plan(ctx, args)
    record.data = ctx.masker.data(plan.data)
    if not plan.changes:
        record.state = "skipped"
        record.summary = ctx.masker.text(plan.summary) if plan.summary else "nothing to change"
        return GO_ON
    changes = [ctx.masker.text(c) for c in plan.changes]
    if ctx.dry_run:
        record.state = "planned"
        record.changes = changes
        record.summary = f"would change {len(changes)} thing(s)"
        return GO_ON
    if ctx.settings.read_only:
        record.state = "refused"
        record.changes = changes
        record.error = "the console is read-only"
        transcript.status = "refused"
        await _audit(ctx, spec, record, "refused")
        return STOP
    prompt = "\n".join([f"{spec.title} — this will:", *(f"  - {c}" for c in changes)])
    if not await ctx.driver.confirm(prompt, typed=plan.typed_confirmation):
        record.state = "declined"
        record.changes = changes
        record.summary = "the operator declined; nothing was changed"
        transcript.status = "declined"
        await _audit(ctx, spec, record, "cancelled")
        return STOP
    # no action without its audit record: the intent goes on disk first, or nothing is done
    record.changes = changes
    intent = await _audit(ctx, spec, record, "pending", refuse=True)
    ctx.plan = plan  # what the operator confirmed: the step acts on it, not on a new plan
    try:
        result = await command.run(ctx, args)
    except Exception as exc:
        # the intent gets its outcome (the step's failure is reported by the caller)
        shown, record.summary = record.summary, ctx.masker.text(f"failed: {exc}")
        with contextlib.suppress(ConsoleError):
            await _audit(ctx, spec, record, "failed", intent=intent)
        record.summary = shown
        raise
    finally:
        ctx.plan = None
    verdict = _apply(ctx, record, spec, transcript, result)
    from console.audit import AuditError

    try:
        await _audit(ctx, spec, record, "succeeded" if result.ok else "failed", intent=intent)
    except AuditError as exc:
        record.findings.append(
            f"the action ran, but its outcome record could not be written ({exc.reason}); "
            f"the intent record {intent} is in the audit log"
        )
    return verdict


def _apply(ctx, record: StepRecord, spec: StepSpec, transcript, result: StepResult) -> str:
    record.summary = ctx.masker.text(result.summary)
    record.findings = [ctx.masker.text(f) for f in result.findings]
    record.changes = [ctx.masker.text(c) for c in result.changes]
    record.data = ctx.masker.data(result.data)
    if not result.ok:
        error = record.summary or "the step reported a failure"
        if ctx.dry_run and any(r.state == "planned" for r in transcript.steps):
            # a verification after actions that were only planned is expected to fail
            record.state = "failed"
            record.error = f"{error} (expected in a dry run: earlier actions were only planned)"
            return GO_ON
        return _fail(record, spec, transcript, error)
    record.state = "ok"
    return GO_ON


async def _audit(
    ctx: StepContext,
    spec: StepSpec,
    record: StepRecord,
    outcome: str,
    *,
    intent: str | None = None,
    refuse: bool = False,
) -> str:
    """Every action attempt goes into the console's audit trail (promotions add their own).

    ``outcome="pending"`` is the intent written before the action (``refuse``: a record that
    cannot be written fails the step with "nothing was changed"); the outcome record names it.
    Returns the record's id.
    """
    from console.audit import AuditLog, AuditRecord, identify, os_actor, secret_values
    from console.embedded.lifecycle import EmbeddedPaths

    actor = os_actor()
    if ctx._mlflow is not None:
        # the OS user is still a true answer to "who ran it" if the server cannot tell
        with contextlib.suppress(ConsoleError):
            actor = await identify(ctx._mlflow)

    server = None
    if ctx._tracking_uri:
        from console.mlflow.auth import redact_url

        server = redact_url(ctx._tracking_uri)
    entry = AuditRecord(
        action=f"runbook.{spec.command}",
        outcome=outcome,  # type: ignore[arg-type]
        actor=actor,
        server=server,
        reason=f"runbook {ctx.runbook}, step {spec.id}",
        message=(f"about to: {spec.title}" if outcome == "pending" else record.summary) or None,
        details={
            "runbook": ctx.runbook,
            "run_id": ctx.run_id,
            "step": spec.id,
            "args": record.args,
            "changes": record.changes,
            **({"intent_id": intent} if intent else {}),
        },
    )
    log = AuditLog(
        EmbeddedPaths.for_home(ctx.settings.home).audit_dir,
        secrets=[*secret_values(ctx.settings), *ctx.masker.secrets],
    )
    if refuse:
        try:
            log.append_or_refuse(entry, f"step {spec.id}")
        except ConsoleError as exc:
            raise StepFailed(exc.message) from None
        return entry.id
    record.audit_id = log.append(entry).id
    return entry.id
