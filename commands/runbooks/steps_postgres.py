"""Step commands against MLflow's PostgreSQL backend: table figures, deleted runs, gc and VACUUM.

psycopg (async) is imported inside each command. ``mlflow.gc_runs`` runs MLflow's own gc code in a
subprocess (``commands.runbooks.gc_runs``) for an explicit list of runs, with the purge of deleted
experiments and logged models switched off — see that module for why not plain ``mlflow gc``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from commands.runbooks.context import StepContext, StepFailed
from commands.runbooks.registry import Plan, StepCommand, StepResult

# the tables MLflow's run data lives in; metrics/latest_metrics/params/tags are the ones that bloat
RUN_TABLES = ("runs", "metrics", "latest_metrics", "params", "tags", "inputs", "input_tags")
DAY_MS = 86_400_000
GC_TIMEOUT_S = 3600


def libpq_dsn(dsn: str) -> str:
    """A DSN psycopg accepts: SQLAlchemy's ``postgresql+psycopg://`` becomes ``postgresql://``."""
    scheme, sep, rest = dsn.partition("://")
    if not sep:
        return dsn  # key=value form
    base = scheme.split("+", 1)[0]
    if base not in {"postgresql", "postgres"}:
        raise StepFailed(
            f"the backend store is {base}, not PostgreSQL",
            hint="this runbook is for MLflow on PostgreSQL: give a postgresql:// DSN",
        )
    return f"postgresql://{rest}"


def sqlalchemy_uri(dsn: str) -> str:
    """The backend-store URI MLflow needs (psycopg 3 driver, the one installed here)."""
    return "postgresql+psycopg://" + libpq_dsn(dsn).partition("://")[2]


async def _connect(ctx: StepContext, dsn: str):
    import psycopg

    try:
        return await psycopg.AsyncConnection.connect(
            libpq_dsn(dsn), autocommit=True, connect_timeout=10
        )
    except psycopg.Error as exc:
        reason = ctx.masker.text(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
        raise StepFailed(f"cannot connect to the MLflow backend database: {reason}") from None


def _mb(n: int | float) -> str:
    return f"{n / 1_048_576:,.1f} MB"


class DsnArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dsn: str = Field(min_length=1)
    tables: list[str] = Field(default_factory=lambda: list(RUN_TABLES))

    @field_validator("tables")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        # table names are interpolated into VACUUM: only MLflow's run tables are allowed
        bad = [t for t in value if t not in RUN_TABLES]
        if bad:
            raise ValueError(f"{bad[0]!r} is not one of MLflow's run tables {list(RUN_TABLES)}")
        return value


# --- figures -------------------------------------------------------------------------------------

_STATS = """
SELECT c.relname,
       coalesce(s.n_live_tup, 0), coalesce(s.n_dead_tup, 0),
       pg_table_size(c.oid), pg_indexes_size(c.oid), pg_total_relation_size(c.oid),
       s.last_vacuum, s.last_autovacuum
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relkind = 'r' AND n.nspname = current_schema() AND c.relname = ANY(%s)
ORDER BY c.relname
"""
_INDEXES = """
SELECT s.relname, s.indexrelname, pg_relation_size(s.indexrelid)
FROM pg_stat_user_indexes s WHERE s.schemaname = current_schema() AND s.relname = ANY(%s)
"""


async def table_figures(ctx: StepContext, dsn: str, tables: list[str]) -> dict[str, Any]:
    conn = await _connect(ctx, dsn)
    async with conn:
        # a fresh statistics snapshot: counters cached earlier in this session would be stale
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        rows = await (await conn.execute(_STATS, (tables,))).fetchall()
        index_rows = await (await conn.execute(_INDEXES, (tables,))).fetchall()
        named = await (await conn.execute("SELECT current_database()")).fetchone()
        assert named is not None  # a scalar SELECT answers one row
        database = named[0]
    indexes: dict[str, dict[str, int]] = {}
    for table, index, size in index_rows:
        indexes.setdefault(table, {})[index] = int(size)
    figures = {
        name: {
            "live_tuples": int(live),
            "dead_tuples": int(dead),
            "table_bytes": int(tbytes),
            "index_bytes": int(ibytes),
            "total_bytes": int(total),
            "indexes": indexes.get(name, {}),
            "last_vacuum": (lv or la).isoformat() if (lv or la) else None,
        }
        for name, live, dead, tbytes, ibytes, total, lv, la in rows
    }
    return {
        "database": database,
        "tables": figures,
        "total_bytes": sum(f["total_bytes"] for f in figures.values()),
        "dead_tuples": sum(f["dead_tuples"] for f in figures.values()),
        "live_tuples": sum(f["live_tuples"] for f in figures.values()),
    }


async def _table_stats(ctx: StepContext, args: DsnArgs) -> StepResult:
    data = await table_figures(ctx, args.dsn, args.tables)
    findings = []
    for name, f in data["tables"].items():
        share = f["dead_tuples"] / max(1, f["dead_tuples"] + f["live_tuples"])
        findings.append(
            f"{name}: {_mb(f['total_bytes'])} (table {_mb(f['table_bytes'])}, indexes "
            f"{_mb(f['index_bytes'])}), {f['live_tuples']:,} live, {f['dead_tuples']:,} dead "
            f"({share:.0%})"
        )
    missing = sorted(set(args.tables) - set(data["tables"]))
    if missing:
        findings.append(f"not in this database: {', '.join(missing)}")
    summary = (
        f"database {data['database']}: {len(data['tables'])} run tables, "
        f"{_mb(data['total_bytes'])}, {data['dead_tuples']:,} dead tuples"
    )
    return StepResult(summary=summary, data=data, findings=findings)


class CompareArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    before: dict[str, Any]
    after: dict[str, Any]


async def _compare(ctx: StepContext, args: CompareArgs) -> StepResult:
    before, after = args.before.get("tables", {}), args.after.get("tables", {})
    findings, reclaimed = [], 0
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name, {}), after.get(name, {})
        delta = int(b.get("total_bytes", 0)) - int(a.get("total_bytes", 0))
        reclaimed += delta
        findings.append(
            f"{name}: {_mb(b.get('total_bytes', 0))} -> {_mb(a.get('total_bytes', 0))} "
            f"({'-' if delta >= 0 else '+'}{_mb(abs(delta))}), rows {b.get('live_tuples', 0):,} "
            f"-> {a.get('live_tuples', 0):,}, dead {b.get('dead_tuples', 0):,} -> "
            f"{a.get('dead_tuples', 0):,}"
        )
    summary = (
        f"{_mb(reclaimed)} returned to the operating system"
        if reclaimed > 0
        else ("no space returned to the operating system (plain VACUUM only makes it reusable)")
    )
    return StepResult(summary=summary, data={"reclaimed_bytes": reclaimed}, findings=findings)


# --- deleted runs --------------------------------------------------------------------------------


class DeletedRunsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dsn: str = Field(min_length=1)
    older_than_days: float = Field(ge=0)


_DELETED = """
SELECT r.run_uuid, r.deleted_time, e.lifecycle_stage
FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id
WHERE r.lifecycle_stage = 'deleted'
"""


async def deleted_runs(ctx: StepContext, dsn: str, older_than_days: float) -> dict[str, Any]:
    """Soft-deleted runs, split into gc candidates and the ones gc must leave alone."""
    conn = await _connect(ctx, dsn)
    async with conn:
        rows = await (await conn.execute(_DELETED)).fetchall()
        counted = await (
            await conn.execute("SELECT count(*) FROM experiments WHERE lifecycle_stage = 'deleted'")
        ).fetchone()
        assert counted is not None  # a count answers one row
        experiments = counted[0]
    cutoff = int(time.time() * 1000 - older_than_days * DAY_MS)
    candidates, recent, in_deleted_experiments, undated = [], 0, 0, 0
    for run_id, deleted_time, experiment_stage in rows:
        if experiment_stage == "deleted":
            # gc'ing these would leave a deleted experiment that can no longer be restored whole
            in_deleted_experiments += 1
        elif deleted_time is None:
            undated += 1
        elif deleted_time <= cutoff:
            candidates.append(run_id)
        else:
            recent += 1
    return {
        "deleted_runs": len(rows),
        "gc_candidates": len(candidates),
        "run_ids": sorted(candidates),
        "too_recent": recent,
        "in_deleted_experiments": in_deleted_experiments,
        "without_deleted_time": undated,
        "deleted_experiments": int(experiments),
        "cutoff_ms": cutoff,
    }


async def _deleted_runs(ctx: StepContext, args: DeletedRunsArgs) -> StepResult:
    data = await deleted_runs(ctx, args.dsn, args.older_than_days)
    days = f"{args.older_than_days:g}"
    findings = [
        f"{data['deleted_runs']:,} soft-deleted runs in all",
        f"{data['gc_candidates']:,} deleted more than {days} days ago in live experiments: "
        "to be purged",
        f"{data['too_recent']:,} deleted within {days} days: kept (still restorable)",
        f"{data['in_deleted_experiments']:,} in {data['deleted_experiments']:,} deleted "
        "experiments: kept, so the experiments can be restored whole",
    ]
    if data["without_deleted_time"]:
        findings.append(f"{data['without_deleted_time']:,} without a deletion time: kept")
    return StepResult(
        summary=f"{data['gc_candidates']:,} runs to purge of {data['deleted_runs']:,} deleted",
        data=data,
        findings=findings,
    )


# --- gc ------------------------------------------------------------------------------------------


class GcArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dsn: str = Field(min_length=1)
    run_ids: list[str]
    older_than_days: float = Field(ge=0)
    tracking_uri: str | None = None


def _sample(ids: list[str], n: int = 5) -> str:
    shown = ", ".join(ids[:n])
    return shown + (f", … (+{len(ids) - n} more)" if len(ids) > n else "")


async def _gc_plan(ctx: StepContext, args: GcArgs) -> Plan:
    # compare-and-set: only runs that are still deleted, old enough and in a live experiment
    current = await deleted_runs(ctx, args.dsn, args.older_than_days)
    still = sorted(set(args.run_ids) & set(current["run_ids"]))
    gone = len(args.run_ids) - len(still)
    if not still:
        return Plan(data={"run_ids": []})
    changes = [
        f"permanently delete {len(still):,} runs deleted more than "
        f"{args.older_than_days:g} days ago, with their metrics, params, tags and artifacts: "
        f"{_sample(still)}",
        f"leave {current['deleted_experiments']:,} deleted experiments and "
        f"{current['in_deleted_experiments']:,} runs in them untouched",
    ]
    if gone:
        changes.append(f"skip {gone:,} runs that were restored or purged since the check")
    return Plan(changes=changes, data={"run_ids": still})


def _gc_env(ctx: StepContext) -> dict[str, str]:
    from console.child_env import child_env

    env = child_env()
    s = ctx.settings
    # credentials travel in the environment, never on the command line
    if s.tracking_username:
        env["MLFLOW_TRACKING_USERNAME"] = s.tracking_username
    if s.tracking_password:
        env["MLFLOW_TRACKING_PASSWORD"] = s.tracking_password.get_secret_value()
    if s.tracking_token:
        env["MLFLOW_TRACKING_TOKEN"] = s.tracking_token.get_secret_value()
    if s.tracking_insecure_tls:
        env["MLFLOW_TRACKING_INSECURE_TLS"] = "true"
    return env


async def run_gc(ctx: StepContext, request: dict[str, Any]) -> dict[str, Any]:
    """Run ``python -m commands.runbooks.gc_runs`` with ``request`` on stdin; stream its output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "commands.runbooks.gc_runs",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=_gc_env(ctx),
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(request).encode())
    await proc.stdin.drain()
    proc.stdin.close()
    result: dict[str, Any] = {}
    tail: list[str] = []
    try:
        async with asyncio.timeout(GC_TIMEOUT_S):
            async for raw in proc.stdout:
                line = raw.decode("utf-8", errors="replace").rstrip()
                if line.startswith("{"):
                    try:
                        result = json.loads(line)
                        continue
                    except json.JSONDecodeError:
                        pass
                if line:
                    tail = [*tail[-4:], line]
                    ctx.say(line)
            await proc.wait()
    except (TimeoutError, asyncio.CancelledError):
        proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0 or not result.get("ok"):
        reason = result.get("error") or (tail[-1] if tail else f"exit status {proc.returncode}")
        raise StepFailed(f"gc failed: {ctx.masker.text(str(reason))}")
    return result


async def _gc_run(ctx: StepContext, args: GcArgs) -> StepResult:
    plan = await _gc_plan(ctx, args)
    ids = plan.data["run_ids"]
    before = await deleted_runs(ctx, args.dsn, 0)
    tracking_uri = args.tracking_uri or await ctx.tracking_uri()
    ctx.say(f"purging {len(ids):,} runs with MLflow's gc (experiment purge off)")
    result = await run_gc(
        ctx,
        {
            "backend_store_uri": sqlalchemy_uri(args.dsn),
            "tracking_uri": tracking_uri,
            "run_ids": ids,
            "older_than_days": args.older_than_days,
        },
    )
    after = await deleted_runs(ctx, args.dsn, 0)
    remaining = sorted(set(ids) & set(after["run_ids"]))
    if after["deleted_experiments"] != before["deleted_experiments"]:
        raise StepFailed(
            f"deleted experiments went from {before['deleted_experiments']} to "
            f"{after['deleted_experiments']} during gc — investigate before going on"
        )
    if remaining:
        raise StepFailed(f"{len(remaining)} runs are still there after gc: {_sample(remaining)}")
    purged = int(result.get("purged", len(ids)))
    return StepResult(
        summary=(
            f"purged {purged:,} runs; {after['deleted_experiments']:,} deleted experiments kept"
        ),
        data={"purged": purged, "run_ids": ids},
        changes=[f"permanently deleted {purged:,} runs: {_sample(ids)}"],
    )


# --- VACUUM --------------------------------------------------------------------------------------


class VacuumArgs(DsnArgs):
    min_dead_tuples: int = Field(default=1, ge=0)


async def _vacuum_plan(ctx: StepContext, args: VacuumArgs) -> Plan:
    data = await table_figures(ctx, args.dsn, args.tables)
    dirty = [
        n for n, f in data["tables"].items() if f["dead_tuples"] >= max(1, args.min_dead_tuples)
    ]
    if not dirty:
        return Plan(data={"tables": []})
    dead = sum(data["tables"][n]["dead_tuples"] for n in dirty)
    return Plan(
        changes=[
            f"VACUUM (ANALYZE) {', '.join(dirty)} in {data['database']}: make {dead:,} dead "
            "tuples' space reusable and refresh planner statistics (no exclusive lock; the "
            "files do not shrink)"
        ],
        data={"tables": dirty},
    )


async def _vacuum(ctx: StepContext, args: VacuumArgs | VacuumFullArgs, *, full: bool) -> StepResult:
    from psycopg import sql

    if full or not isinstance(args, VacuumArgs):
        plan = await _vacuum_full_plan(ctx, args)
    else:
        plan = await _vacuum_plan(ctx, args)
    tables = plan.data["tables"]
    before = await table_figures(ctx, args.dsn, tables)
    conn = await _connect(ctx, args.dsn)
    options = sql.SQL("(FULL, ANALYZE)" if full else "(ANALYZE)")
    async with conn:
        for table in tables:
            ctx.say(f"VACUUM {'FULL ' if full else ''}{table}")
            started = time.monotonic()
            await conn.execute(sql.SQL("VACUUM {} {}").format(options, sql.Identifier(table)))
            ctx.say(f"  done in {time.monotonic() - started:.1f} s")
    after = await table_figures(ctx, args.dsn, tables)
    changes = []
    for table in tables:
        b, a = before["tables"][table], after["tables"][table]
        changes.append(
            f"{table}: {_mb(b['total_bytes'])} -> {_mb(a['total_bytes'])}, dead tuples "
            f"{b['dead_tuples']:,} -> {a['dead_tuples']:,}"
        )
    reclaimed = before["total_bytes"] - after["total_bytes"]
    return StepResult(
        summary=f"vacuumed {len(tables)} tables; {_mb(max(0, reclaimed))} returned to the OS",
        data={"tables": tables, "before": before, "after": after, "reclaimed_bytes": reclaimed},
        changes=changes,
    )


class VacuumFullArgs(DsnArgs):
    pass


async def _vacuum_full_plan(ctx: StepContext, args: DsnArgs) -> Plan:
    data = await table_figures(ctx, args.dsn, args.tables)
    tables = sorted(data["tables"])
    if not tables:
        return Plan(data={"tables": []})
    sizes = ", ".join(f"{n} {_mb(data['tables'][n]['total_bytes'])}" for n in tables)
    return Plan(
        changes=[
            f"VACUUM FULL {', '.join(tables)} in {data['database']}: rewrite each table and its "
            f"indexes to return free space to the OS (now {sizes})",
            "each table is locked ACCESS EXCLUSIVE while it is rewritten: MLflow reads and "
            "writes of runs wait until it is done; it needs free disk about the table's size",
        ],
        typed_confirmation=data["database"],
        data={"tables": tables},
    )


async def _vacuum_analyze_run(ctx: StepContext, args: VacuumArgs) -> StepResult:
    return await _vacuum(ctx, args, full=False)


async def _vacuum_full_run(ctx: StepContext, args: VacuumFullArgs) -> StepResult:
    return await _vacuum(ctx, args, full=True)


COMMANDS = [
    StepCommand(
        name="postgres.table_stats",
        kind="check",
        summary="sizes, live and dead tuples and index sizes of MLflow's run tables",
        args_model=DsnArgs,
        run=_table_stats,
    ),
    StepCommand(
        name="postgres.compare_stats",
        kind="check",
        summary="before/after figures of two postgres.table_stats results",
        args_model=CompareArgs,
        run=_compare,
    ),
    StepCommand(
        name="postgres.deleted_runs",
        kind="check",
        summary="soft-deleted runs: the ones gc may purge and the ones it must keep",
        args_model=DeletedRunsArgs,
        run=_deleted_runs,
    ),
    StepCommand(
        name="mlflow.gc_runs",
        kind="action",
        summary="purge the given deleted runs with MLflow's gc, never deleted experiments",
        args_model=GcArgs,
        run=_gc_run,
        plan=_gc_plan,
    ),
    StepCommand(
        name="postgres.vacuum_analyze",
        kind="action",
        summary="VACUUM (ANALYZE) the run tables that have dead tuples",
        args_model=VacuumArgs,
        run=_vacuum_analyze_run,
        plan=_vacuum_plan,
    ),
    StepCommand(
        name="postgres.vacuum_full",
        kind="action",
        summary="VACUUM FULL the run tables (exclusive lock; typed confirmation)",
        args_model=VacuumFullArgs,
        run=_vacuum_full_run,
        plan=_vacuum_full_plan,
    ),
]
