"""Invariance checks of a loaded model: predictions must not depend on what is not a feature.

Three reusable checks (column order, an irrelevant extra column, the repository's name) take a
model with ``predict(DataFrame)`` — normally an MLflow pyfunc — and rows, and return pydantic
results. ``python -m commands.invariance --model-uri models:/NAME/VERSION --tracking-uri URI
--json`` runs them in a process of their own (the promotion gates do); exit 0 when every check
passed, 1 when one failed, 2 when the model could not be loaded or run.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from commands.demo.schema import FeatureRow

IRRELEVANT_COLUMN = "unrelated_noise"
REPO_COLUMN = "repo"


class CheckResult(BaseModel):
    """One check: its name, whether it passed, and what was seen."""

    name: str
    passed: bool
    detail: str


class InvarianceReport(BaseModel):
    """All checks on one model: the JSON document of the command line."""

    model_uri: str | None = None
    rows: int
    passed: bool
    checks: list[CheckResult]


def as_frame(rows: Any):
    """Rows as a DataFrame: a DataFrame as is, or a sequence of FeatureRow / dicts (validated)."""
    import pandas as pd

    if isinstance(rows, pd.DataFrame):
        return rows.reset_index(drop=True)
    validated = [r if isinstance(r, FeatureRow) else FeatureRow.model_validate(r) for r in rows]
    return pd.DataFrame([r.model_dump() for r in validated])


def answers(model, frame) -> list[str]:
    """Each row's whole answer (every output column: probabilities, a frame's columns)."""
    from commands.probe_outputs import row_answers

    return row_answers(model.predict(frame), len(frame))


def compare_predictions(name: str, model, base, changed, what: str) -> CheckResult:
    """Pass when ``model`` predicts the same for ``base`` and ``changed`` (row by row)."""
    try:
        before = answers(model, base)
        after = answers(model, changed)
    except Exception as exc:  # noqa: BLE001 - a model that cannot take the rows fails the check
        return CheckResult(name=name, passed=False, detail=f"{what}: {type(exc).__name__}: {exc}")
    if len(before) != len(after):
        return CheckResult(
            name=name, passed=False, detail=f"{what}: {len(before)} vs {len(after)} predictions"
        )
    moved = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    if moved:
        first = moved[0]
        return CheckResult(
            name=name,
            passed=False,
            detail=(
                f"{what}: {len(moved)} of {len(before)} predictions changed "
                f"(row {first}: {before[first]} -> {after[first]})"
            ),
        )
    return CheckResult(
        name=name, passed=True, detail=f"{what}: {len(before)} predictions unchanged"
    )


def check_column_order(model, rows: Any) -> CheckResult:
    """Reversing the order of the columns must not change any prediction."""
    base = as_frame(rows)
    changed = base[list(reversed(base.columns))]
    return compare_predictions("column_order", model, base, changed, "columns reversed")


def check_extra_column(model, rows: Any) -> CheckResult:
    """Adding a column the model does not use must not change any prediction."""
    import numpy as np

    base = as_frame(rows)
    noise = np.random.default_rng(0).normal(size=len(base))
    changed = base.assign(**{IRRELEVANT_COLUMN: noise})
    return compare_predictions(
        "extra_column", model, base, changed, f"extra column {IRRELEVANT_COLUMN!r}"
    )


def check_repo_name(model, rows: Any) -> CheckResult:
    """The repository's name must not change any prediction (it is an identifier, not a signal)."""
    base = as_frame(rows)
    n = len(base)
    named = base.assign(**{REPO_COLUMN: [f"acme/service-{i}" for i in range(n)]})
    renamed = base.assign(**{REPO_COLUMN: [f"other-org/renamed-{i * 7 + 3}" for i in range(n)]})
    return compare_predictions("repo_name", model, named, renamed, "repository names changed")


CHECKS: tuple[Callable[[Any, Any], CheckResult], ...] = (
    check_column_order,
    check_extra_column,
    check_repo_name,
)


def run_checks(model, rows: Any, *, model_uri: str | None = None) -> InvarianceReport:
    """Every check on ``model`` with ``rows``."""
    frame = as_frame(rows)
    results = [check(model, frame) for check in CHECKS]
    return InvarianceReport(
        model_uri=model_uri, rows=len(frame), passed=all(r.passed for r in results), checks=results
    )


def checks_for(model, loader: Callable[[], Any], model_uri: str | None = None) -> InvarianceReport:
    """The checks on an already loaded model and its input example (``commands.invariance_gate``
    runs them beside the signature checks on the same model, in one process)."""
    return run_checks(model, _load_rows(None, model), model_uri=model_uri)


def _load_rows(path: Path | None, model):
    import pandas as pd

    if path is not None:
        if path.suffix == ".csv":
            return pd.read_csv(path)
        return as_frame(json.loads(path.read_text()))
    example = model.input_example
    if example is None:
        raise ValueError("the model has no input example; pass --rows FILE (.json or .csv)")
    return as_frame(example)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m commands.invariance", description="run the invariance checks on a model"
    )
    parser.add_argument("--model-uri", required=True, help="e.g. models:/next-week-commits/1")
    parser.add_argument("--tracking-uri", required=True, help="MLflow tracking server URL")
    parser.add_argument(
        "--rows", type=Path, help="rows to check (.json list or .csv); default: input example"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    # MLflow warns on every extra column; the checks add them on purpose
    logging.getLogger("mlflow.models.utils").setLevel(logging.ERROR)
    try:
        import mlflow

        from commands.model_cache import load_model

        mlflow.set_tracking_uri(args.tracking_uri)
        model = load_model(args.model_uri)
        report = run_checks(model, _load_rows(args.rows, model), model_uri=args.model_uri)
    except Exception as exc:  # noqa: BLE001 - one line for the caller, never a traceback
        message = f"invariance checks could not run: {type(exc).__name__}: {exc}"
        if args.json:
            print(json.dumps({"model_uri": args.model_uri, "error": message}))
        else:
            print(message, file=sys.stderr)
        return 2
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        for check in report.checks:
            print(f"{'PASS' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
