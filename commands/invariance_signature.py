"""Invariance checks for any pyfunc model, derived from its signature (the gate's default).

Five checks on rows made from the model's input example and synthetic rows from its signature
(``commands.probe_synthetic``): the order of the columns does not matter, an extra column is
ignored, a row scored alone gets the answer it gets in a batch, integer columns given as floats
of the same value give the same answers (or are refused by the model's schema, never silently
changed), and loading the model twice gives the same predictions.

``python -m commands.invariance_signature --model-uri URI --tracking-uri URI [--json]`` runs them
in a process of their own, the same protocol as ``commands.invariance``: exit 0 when every check
passed, 1 when one failed, 2 when the model could not be loaded or no rows could be made.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from commands.invariance import (
    IRRELEVANT_COLUMN,
    CheckResult,
    InvarianceReport,
    answers,
    compare_predictions,
)

SYNTHETIC_ROWS = 200
ALONE_ROWS = 20
CHECK_NAMES = ("column_order", "extra_column", "row_alone", "int_as_float", "load_twice")


def check_column_order(model, frame) -> CheckResult:
    if len(frame.columns) < 2:
        return CheckResult(name="column_order", passed=True, detail="one column: nothing to move")
    changed = frame[list(reversed(frame.columns))]
    return compare_predictions("column_order", model, frame, changed, "columns reversed")


def check_extra_column(model, frame) -> CheckResult:
    import numpy as np

    noise = np.random.default_rng(0).normal(size=len(frame))
    changed = frame.assign(**{IRRELEVANT_COLUMN: noise})
    return compare_predictions(
        "extra_column", model, frame, changed, f"extra column {IRRELEVANT_COLUMN!r}"
    )


def check_row_alone(model, frame, count: int = ALONE_ROWS) -> CheckResult:
    """Each of the first rows scored on its own must get the answer it got in the batch."""
    name = "row_alone"
    try:
        batch = answers(model, frame)
        moved = []
        for i in range(min(count, len(frame))):
            alone = answers(model, frame.iloc[[i]])
            if alone != [batch[i]]:
                moved.append((i, batch[i], alone[0] if alone else "nothing"))
    except Exception as exc:  # noqa: BLE001 - a model that cannot score one row fails
        return CheckResult(name=name, passed=False, detail=f"{type(exc).__name__}: {exc}")
    checked = min(count, len(frame))
    if moved:
        i, a, b = moved[0]
        return CheckResult(
            name=name,
            passed=False,
            detail=f"{len(moved)} of {checked} rows scored alone changed (row {i}: {a} -> {b})",
        )
    return CheckResult(name=name, passed=True, detail=f"{checked} rows alone = in the batch")


def _schema_refusal(exc: Exception) -> bool:
    return "enforce schema" in str(exc) or "Incompatible input types" in str(exc)


def check_int_as_float(model, frame, int_columns: Sequence[str]) -> CheckResult:
    name = "int_as_float"
    columns = [c for c in int_columns if c in frame.columns]
    if not columns:
        return CheckResult(name=name, passed=True, detail="no integer columns")
    changed = frame.astype({c: "float64" for c in columns})
    what = f"{', '.join(columns[:5])} given as floats"
    try:
        answers(model, changed)
    except Exception as exc:  # noqa: BLE001 - refused by the schema is safe; else fail below
        if _schema_refusal(exc):
            return CheckResult(
                name=name,
                passed=True,
                detail=f"{what}: refused by the model's schema (an error, never another answer)",
            )
    return compare_predictions(name, model, frame, changed, what)


def check_load_twice(model, loader: Callable[[], Any], frame) -> CheckResult:
    name = "load_twice"
    try:
        again = loader()
        first, second = answers(model, frame), answers(again, frame)
    except Exception as exc:  # noqa: BLE001
        return CheckResult(name=name, passed=False, detail=f"{type(exc).__name__}: {exc}")
    moved = [i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b]
    if moved:
        i = moved[0]
        return CheckResult(
            name=name,
            passed=False,
            detail=(
                f"loaded again: {len(moved)} of {len(first)} predictions changed "
                f"(row {i}: {first[i]} -> {second[i]})"
            ),
        )
    return CheckResult(
        name=name, passed=True, detail=f"loaded again: {len(first)} predictions unchanged"
    )


def check_rows(model) -> tuple[Any, list[str]]:
    """(rows to check: the input example, then synthetic rows; the integer columns)."""
    import pandas as pd

    from commands.probe_rows import example_rows
    from commands.probe_synthetic import INTEGER, frame_columns, signature_columns, synthetic_for

    try:
        examples = example_rows([model])[0]
    except LookupError:
        examples = None
    columns = signature_columns(model)
    if columns is None and examples is not None:
        columns = frame_columns(examples)
    if columns is None:
        raise LookupError("the model has no column signature and no input example")
    synthetic = synthetic_for(model, examples, SYNTHETIC_ROWS).rows
    names = [c.name for c in columns]
    frames = [synthetic[names]]
    if examples is not None and all(n in examples.columns for n in names):
        frames.insert(0, examples[names])
    rows = pd.concat(frames, ignore_index=True)
    return rows, [c.name for c in columns if c.kind in INTEGER]


def run_checks(model, loader: Callable[[], Any], rows, int_columns, *, model_uri=None):
    results = [
        check_column_order(model, rows),
        check_extra_column(model, rows),
        check_row_alone(model, rows),
        check_int_as_float(model, rows, int_columns),
        check_load_twice(model, loader, rows),
    ]
    return InvarianceReport(
        model_uri=model_uri, rows=len(rows), passed=all(r.passed for r in results), checks=results
    )


def checks_for(model, loader: Callable[[], Any], model_uri: str | None = None) -> InvarianceReport:
    """The five checks on an already loaded model (``commands.invariance_gate`` runs them beside
    the model's own module on the same model, in one process); ``loader`` loads it anew."""
    rows, ints = check_rows(model)
    return run_checks(model, loader, rows, ints, model_uri=model_uri)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m commands.invariance_signature",
        description="signature-derived invariance checks of any pyfunc model",
    )
    parser.add_argument("--model-uri", required=True)
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--rows", type=Path, help="check these rows (CSV, Parquet, JSON lines)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--progress", action="store_true", help="progress lines on stderr")
    args = parser.parse_args(argv)
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")

    def say(message: str) -> None:
        if args.progress:
            print(f"progress: {message}", file=sys.stderr, flush=True)

    try:
        say("loading mlflow")
        import mlflow

        mlflow.set_tracking_uri(args.tracking_uri)
        say(f"loading {args.model_uri}")

        from commands.model_cache import load_model

        def loader():  # models:/NAME/V for any NAME (an '@' in it, ...); cached per home
            return load_model(args.model_uri)

        model = loader()
        say("making rows from the signature and the input example")
        rows, ints = check_rows(model)
        if args.rows is not None:
            from commands.probe_sources import read_table_file

            rows = read_table_file(args.rows)
        say(f"running {len(CHECK_NAMES)} checks on {len(rows):,} rows")
        report = run_checks(model, loader, rows, ints, model_uri=args.model_uri)
    except Exception as exc:  # noqa: BLE001 - one line for the caller, never a traceback
        message = f"invariance checks could not run: {type(exc).__name__}: {exc}"
        message = " ".join(message.split())[:500]
        if args.json:
            print(json.dumps({"model_uri": args.model_uri, "error": message}))
        else:
            print(message, file=sys.stderr)
        return 2
    if args.json:
        print(report.model_dump_json())
    else:
        for check in report.checks:
            print(f"{'PASS' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
