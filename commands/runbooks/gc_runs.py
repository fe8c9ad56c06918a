"""``python -m commands.runbooks.gc_runs``: MLflow's gc for an explicit list of runs, nothing else.

Why not ``mlflow gc``: in MLflow 3.17 every invocation that purges runs also purges deleted
experiments — with ``--run-ids`` alone, *every* deleted experiment (and its runs); with
``--older-than``, every deleted experiment last updated before the cutoff — and soft-deleted
logged models too. No flag turns that off (``--experiment-ids`` only narrows it to experiments
that must themselves be deleted, and purges those). So this runs MLflow's own gc routine
(``mlflow.cli._gc_tracking_resources``: same lifecycle and age checks, same artifact deletion)
with ``skip_experiments`` and ``skip_logged_models`` set. It reads one JSON request on stdin
(``backend_store_uri``, ``tracking_uri``, ``run_ids``, ``older_than_days``) and prints MLflow's
lines, then one JSON result line. Imports mlflow: always a subprocess of the console.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys


def _result(**fields) -> None:
    print(json.dumps(fields), flush=True)


def main() -> int:
    request = json.load(sys.stdin)
    run_ids = [str(r) for r in request.get("run_ids") or []]
    days = float(request.get("older_than_days") or 0)
    if not run_ids:
        _result(ok=True, purged=0)
        return 0
    import mlflow
    from mlflow import cli as mlflow_cli

    gc_core = getattr(mlflow_cli, "_gc_tracking_resources", None)
    get_store = getattr(mlflow_cli, "_get_store", None)
    if gc_core is None or get_store is None:
        # refusing is safer than falling back to `mlflow gc`, which purges deleted experiments
        _result(
            ok=False,
            error=f"MLflow {mlflow.__version__} has no gc routine that can spare deleted "
            "experiments; purge runs by hand (see runbooks/mlflow-postgres-bloat.md)",
        )
        return 3
    if request.get("tracking_uri"):
        # artifacts proxied by the server (mlflow-artifacts:/) are deleted through it
        mlflow.set_tracking_uri(request["tracking_uri"])
    store = get_store(request["backend_store_uri"], None)
    older_than = f"{days:g}d" if days > 0 else None
    try:
        gc_core(
            backend_store=store,
            run_ids=run_ids,
            experiment_ids=None,
            logged_model_ids=[],
            older_than=older_than,
            time_delta=int(days * 86_400_000),
            skip_experiments=True,
            skip_logged_models=True,
        )
    except Exception as exc:  # noqa: BLE001 - reported as one line to the engine
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        _result(ok=False, error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
        return 1
    _result(ok=True, purged=len(set(run_ids)))
    return 0


if __name__ == "__main__":
    # MLflow logs warnings on stderr; the engine merges them with stdout as live output
    sys.stderr = io.TextIOWrapper(sys.stderr.buffer, line_buffering=True)
    raise SystemExit(main())
