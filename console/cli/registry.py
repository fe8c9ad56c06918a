"""``mlops-console models | versions MODEL | runs EXPERIMENT | experiments``: read-only listings.

Human output is an aligned table of server text made printable; ``--json`` prints one document.
The MLflow client is imported inside the handlers so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.cli._common import open_client, positive, print_json, run_async, table
from console.safe_text import printable


def register(subparsers, add_globals) -> None:
    models = subparsers.add_parser("models", help="list registered models with their aliases")
    models.add_argument("--filter", metavar="F", help="MLflow filter, e.g. \"name LIKE 'churn%%'\"")
    models.add_argument("--max", type=positive, default=200, metavar="N", help="at most N models")
    models.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(models)
    models.set_defaults(handler=_models)

    versions = subparsers.add_parser("versions", help="list the versions of a registered model")
    versions.add_argument("model", metavar="MODEL", help="registered model name")
    versions.add_argument(
        "--max", type=positive, default=200, metavar="N", help="at most N versions"
    )
    versions.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(versions)
    versions.set_defaults(handler=_versions)

    runs = subparsers.add_parser("runs", help="list the runs of an experiment")
    runs.add_argument("experiment", metavar="EXPERIMENT", help="experiment name or id")
    runs.add_argument(
        "--filter", metavar="F", help='MLflow search filter, e.g. "metrics.rmse < 0.5"'
    )
    runs.add_argument(
        "--order-by",
        metavar="O",
        action="append",
        help="sort key, e.g. 'metrics.rmse ASC' (repeatable; default: newest first)",
    )
    runs.add_argument("--max", type=positive, default=100, metavar="N", help="at most N runs")
    runs.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(runs)
    runs.set_defaults(handler=_runs)

    experiments = subparsers.add_parser("experiments", help="list experiments")
    experiments.add_argument("--filter", metavar="F", help="MLflow experiment filter")
    experiments.add_argument(
        "--max", type=positive, default=200, metavar="N", help="at most N experiments"
    )
    experiments.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(experiments)
    experiments.set_defaults(handler=_experiments)


async def _collect(iterator, limit: int) -> tuple[list[Any], bool]:
    """Up to ``limit`` items and whether more exist (one extra item is fetched to know)."""
    items = []
    async for item in iterator:
        items.append(item)
        if len(items) > limit:
            return items[:limit], True
    return items, False


def _note_truncated(shown: int, what: str) -> None:
    print(f"showing the first {shown} {what}; more exist (raise --max)", file=sys.stderr)


# --- models ------------------------------------------------------------------------------------


def _models(args: argparse.Namespace, settings) -> int:
    async def work():
        async with open_client(settings) as client:
            iterator = client.iter_registered_models(
                filter=args.filter, page_size=min(args.max + 1, 1000), max_items=args.max + 1
            )
            return client.server, *(await _collect(iterator, args.max))

    server, models, truncated = run_async(work)
    if args.json:
        print_json({"server": server, "models": models, "truncated": truncated})
        return 0
    if not models:
        print("no registered models")
        return 0
    from console.model import format_ms

    rows = [
        [
            m.name,
            m.latest_version or "-",
            ", ".join(f"{a}→v{v}" for a, v in sorted(m.aliases.items())) or "-",
            format_ms(m.last_updated_timestamp),
            (m.description or "").replace("\n", " ") or "-",
        ]
        for m in models
    ]
    table(rows, ["model", "latest", "aliases", "updated (UTC)", "description"], limit=50)
    if truncated:
        _note_truncated(len(models), "models")
    return 0


# --- versions ----------------------------------------------------------------------------------


def _observe(settings, client, model, versions) -> None:
    """Each read of a model feeds the registry history (what changed since it last looked)."""
    from commands.history import record_read

    for note in record_read(settings, client, model.name, dict(model.aliases), versions):
        print(f"warning: {printable(note)}", file=sys.stderr)


def _versions(args: argparse.Namespace, settings) -> int:
    async def work():
        from commands.history import resolve_pending

        async with open_client(settings) as client:
            # this home's unfinished promotions of the model are resolved by its next read
            for note in await resolve_pending(settings, client, args.model):
                print(f"warning: {printable(note)}", file=sys.stderr)
            model = await client.get_registered_model(args.model)
            iterator = client.iter_model_versions(
                name=args.model,
                order_by=["version_number DESC"],
                page_size=min(args.max + 1, 1000),
                max_items=args.max + 1,
                with_aliases=False,
            )
            versions, truncated = await _collect(iterator, args.max)
            # one registered-model read gives every alias: merge them here
            for version in versions:
                version.aliases = model.aliases_of(version.version)
            versions.sort(key=lambda v: v.version_number, reverse=True)
            _observe(settings, client, model, versions)
            return model, versions, truncated

    model, versions, truncated = run_async(work)
    if args.json:
        print_json(
            {
                "model": model.name,
                "aliases": model.aliases,
                "versions": versions,
                "truncated": truncated,
            }
        )
        return 0
    if not versions:
        print(f"model {printable(model.name)} has no versions")
        return 0
    from console.model import format_ms

    rows = [
        [
            v.version,
            ", ".join(v.aliases) or "-",
            v.current_stage or "-",
            v.status or "-",
            format_ms(v.creation_timestamp),
            v.run_id or "-",
            v.logged_model_id or v.source or "-",
        ]
        for v in versions
    ]
    headers = ["version", "aliases", "stage", "status", "created (UTC)", "run", "logged model"]
    table(rows, headers, limit=50)
    if truncated:
        _note_truncated(len(versions), "versions")
    return 0


# --- runs --------------------------------------------------------------------------------------


def _metrics_summary(run, limit: int = 3) -> str:
    keys = sorted(run.metrics)[:limit]
    parts = [f"{k}={run.metrics[k].value:.4g}" for k in keys if run.metrics[k].value is not None]
    more = len(run.metrics) - len(keys)
    return ", ".join(parts) + (f", +{more}" if more > 0 else "") or "-"


def _runs(args: argparse.Namespace, settings) -> int:
    async def work():
        async with open_client(settings) as client:
            experiment = await client.find_experiment(args.experiment)
            iterator = client.iter_runs(
                experiment.experiment_id,
                filter=args.filter,
                order_by=args.order_by,
                # pages of 100: each run costs the server ~1 ms and ~2.5 KB
                page_size=min(args.max + 1, 100),
                max_items=args.max + 1,
            )
            return experiment, *(await _collect(iterator, args.max))

    experiment, runs, truncated = run_async(work)
    if args.json:
        print_json({"experiment": experiment, "runs": runs, "truncated": truncated})
        return 0
    if not runs:
        print(f"no runs in experiment {printable(experiment.name)} matching the filter")
        return 0
    from console.model import format_ms

    rows = [
        [
            r.run_id,
            r.name or "-",
            r.info.status or "-",
            format_ms(r.info.start_time),
            f"{r.info.duration_s:.1f}s" if r.info.duration_s is not None else "-",
            _metrics_summary(r),
        ]
        for r in runs
    ]
    table(rows, ["run", "name", "status", "started (UTC)", "duration", "metrics"], limit=60)
    if truncated:
        _note_truncated(len(runs), "runs")
    return 0


# --- experiments -------------------------------------------------------------------------------


def _experiments(args: argparse.Namespace, settings) -> int:
    async def work():
        async with open_client(settings) as client:
            iterator = client.iter_experiments(
                filter=args.filter, page_size=min(args.max + 1, 1000), max_items=args.max + 1
            )
            return await _collect(iterator, args.max)

    experiments, truncated = run_async(work)
    if args.json:
        print_json({"experiments": experiments, "truncated": truncated})
        return 0
    if not experiments:
        print("no experiments")
        return 0
    from console.model import format_ms

    rows = [
        [e.experiment_id, e.name, e.lifecycle_stage or "-", format_ms(e.creation_time)]
        for e in experiments
    ]
    table(rows, ["id", "name", "state", "created (UTC)"], limit=60)
    if truncated:
        _note_truncated(len(experiments), "experiments")
    return 0
