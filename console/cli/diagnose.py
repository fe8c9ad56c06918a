"""``mlops-console diagnose MODEL V1 V2 [--no-probe] [--json]``: why two versions differ.

Differences by kind, the exact metrics verdict, ranked causes, the gaps, and (unless
``--no-probe``) the prediction probe in its own process with progress on stderr; Ctrl-C stops it.
``--rows FILE`` gives the probe the operator's own rows; ``--all-sources`` scores every source.
"""

from __future__ import annotations

import argparse
import sys

from console.cli._common import open_client, print_json, run_async, version_arg
from console.safe_text import printable


def check_rows_file(text: str) -> str:
    """The absolute path of a readable rows file, or a one-line error naming what is wrong."""
    from pathlib import Path

    from commands.probe_sources import ROW_FILE_SUFFIXES
    from console.errors import ConsoleError

    path = Path(text).expanduser()
    if path.suffix.lower() not in ROW_FILE_SUFFIXES:
        raise ConsoleError(f"--rows {printable(text, limit=200)}: not a .csv, .parquet or .jsonl")
    if not path.is_file():
        raise ConsoleError(f"--rows {printable(text, limit=200)}: no such file")
    return str(path.resolve())


def register(subparsers, add_globals) -> None:
    parser = subparsers.add_parser(
        "diagnose",
        help="why two versions of a model differ (differences, causes, prediction probe)",
        description=(
            "Compare the provenance of two versions: differences by kind (data, code, params, "
            "environment, signature, artifact), whether the metrics are exactly equal, the "
            "likely causes ranked, and a prediction probe that scores the same rows with both."
        ),
    )
    parser.add_argument("model", metavar="MODEL")
    parser.add_argument("left", metavar="V1", type=version_arg)
    parser.add_argument("right", metavar="V2", type=version_arg)
    parser.add_argument(
        "--no-probe", action="store_true", help="do not load the models to compare predictions"
    )
    parser.add_argument(
        "--rows",
        metavar="FILE",
        help="score the rows of this CSV, Parquet or JSON-lines file in the probe",
    )
    parser.add_argument(
        "--all-sources",
        action="store_true",
        help="score rows from every source (file, row builder, logged datasets, synthetic)",
    )
    parser.add_argument(
        "--tolerance",
        type=_tolerance,
        metavar="T",
        help="numeric outputs (probabilities, scores) closer than T are the same answer "
        "(default: the profile's probe_tolerance, 1e-6)",
    )
    parser.add_argument("--no-lineage", action="store_true", help="skip the DataHub lineage")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(parser)
    parser.set_defaults(handler=_handle)


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # NaN too
        raise argparse.ArgumentTypeError(f"{text!r} is not a tolerance (a number, 0 or more)")
    return value


def _progress(message: str, fraction: float | None) -> None:
    pct = f"[{fraction * 100:3.0f}%] " if fraction is not None else ""
    print(f"probe: {pct}{printable(message)}", file=sys.stderr, flush=True)


async def _diagnose(args: argparse.Namespace, settings):
    from commands.diagnose import diagnose
    from commands.probe_runner import child_env
    from console.provenance.collect import ProvenanceSources

    sources = ProvenanceSources.from_settings(settings, lineage=not args.no_lineage)
    try:
        async with open_client(settings) as client:
            return await diagnose(
                client,
                args.model,
                args.left,
                args.right,
                sources,
                probe=not args.no_probe,
                tracking_uri=client.tracking_uri,
                on_progress=_progress,
                probe_env=child_env(settings),
                rows_file=args.rows,
                all_sources=args.all_sources,
                tolerance=settings.probe_tolerance if args.tolerance is None else args.tolerance,
            )
    finally:
        await sources.aclose()


def _handle(args: argparse.Namespace, settings) -> int:
    from console.errors import ConsoleError

    if args.left == args.right:
        raise ConsoleError("give two different versions to compare")
    if args.rows:
        args.rows = check_rows_file(args.rows)
    result = run_async(lambda: _diagnose(args, settings))
    if result.probe_error:
        print(f"warning: {printable(result.probe_error)}", file=sys.stderr)
    if args.json:
        print_json(result)
    else:
        from console.provenance.text import diagnosis_lines, print_lines

        print_lines(diagnosis_lines(result, probe_ran=not args.no_probe))
    return 0
