"""The invariance gate's checks in one process: mlflow imported once, the model loaded once.

``python -m commands.invariance_gate --model-uri URI --tracking-uri URI --module M [--module M…]
--json`` runs the checks of each module on the same loaded model, in order, and stops at the
first module whose checks do not all pass (the gate's verdict is decided there). A module takes
part when it offers ``checks_for(model, loader, model_uri) -> InvarianceReport`` (the console's
own: ``commands.invariance``, ``commands.invariance_signature``); any other module keeps the
``python -m MODULE`` protocol and its own process (``commands.promote_gates``).

Before this, the demo model's gate started one process per module, each importing mlflow (≈ 4 s
idle, much more on a loaded machine) and loading the model again: the gate paid both twice.

Prints one JSON document: ``model_uri``, ``loads`` (how many times the model was loaded: once,
plus the second load of ``load_twice``), ``modules`` (each ``module``, ``exit`` 0/1/2, ``seconds``
and ``report`` or ``error``), or ``error`` alone when the model could not be loaded. Exit 0 when
every module passed, 1 when one failed, 2 when the model or a module could not run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any

# the modules that run on a model loaded by this process (they offer ``checks_for``)
IN_PROCESS = frozenset({"commands.invariance", "commands.invariance_signature"})


def _one_line(exc: BaseException) -> str:
    return " ".join(f"invariance checks could not run: {type(exc).__name__}: {exc}".split())[:500]


def run(model_uri: str, tracking_uri: str, modules: Sequence[str]) -> tuple[int, dict[str, Any]]:
    """(exit code, the JSON document) for ``modules`` on the model at ``model_uri``."""
    doc: dict[str, Any] = {"model_uri": model_uri, "loads": 0, "modules": []}
    try:
        import mlflow

        from commands.model_cache import load_model

        mlflow.set_tracking_uri(tracking_uri)

        def loader() -> Any:
            doc["loads"] += 1
            return load_model(model_uri)  # any name ('@' in it...); cached per home

        model = loader()
    except Exception as exc:  # noqa: BLE001 - one line for the gate, never a traceback
        doc["error"] = _one_line(exc)
        return 2, doc
    for name in modules:
        started = time.monotonic()
        entry: dict[str, Any] = {"module": name}
        try:
            if name not in IN_PROCESS:
                raise ValueError(f"{name} does not run in this process (python -m {name})")
            report = importlib.import_module(name).checks_for(model, loader, model_uri)
        except Exception as exc:  # noqa: BLE001
            entry.update(exit=2, error=_one_line(exc))
        else:
            entry.update(exit=0 if report.passed else 1, report=report.model_dump())
        entry["seconds"] = round(time.monotonic() - started, 3)
        doc["modules"].append(entry)
        if entry["exit"] != 0:
            return entry["exit"], doc  # the first module that does not pass decides
    return 0, doc


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m commands.invariance_gate",
        description="the invariance gate's check modules on one loaded model",
    )
    parser.add_argument("--model-uri", required=True)
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--module", action="append", required=True, help="in order; repeatable")
    parser.add_argument("--json", action="store_true", help="print one JSON document (default)")
    args = parser.parse_args(argv)
    # MLflow warns on every extra column; the checks add them on purpose
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    code, doc = run(args.model_uri, args.tracking_uri, args.module)
    print(json.dumps(doc))
    return code


if __name__ == "__main__":
    sys.exit(main())
