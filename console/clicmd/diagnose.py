"""``mlops-console diagnose MODEL V1 V2 [--no-probe] [--json]``: why two versions differ.

Differences by kind, the exact metrics verdict, ranked causes, the gaps, and (unless
``--no-probe``) the prediction probe in its own process with progress on stderr; Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import sys

from console.clicmd._common import open_client, print_json, run_async, version_arg
from console.safe_text import printable


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
    parser.add_argument("--no-lineage", action="store_true", help="skip the DataHub lineage")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(parser)
    parser.set_defaults(handler=_handle)


def _progress(message: str, fraction: float | None) -> None:
    pct = f"[{fraction * 100:3.0f}%] " if fraction is not None else ""
    print(f"probe: {pct}{printable(message)}", file=sys.stderr, flush=True)


async def _diagnose(args: argparse.Namespace, settings):
    from commands.diagnose import diagnose
    from commands.probe_runner import child_env
    from console.provenance import ProvenanceSources

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
            )
    finally:
        await sources.aclose()


def _handle(args: argparse.Namespace, settings) -> int:
    from console.errors import ConsoleError

    if args.left == args.right:
        raise ConsoleError("give two different versions to compare")
    result = run_async(lambda: _diagnose(args, settings))
    if result.probe_error:
        print(f"warning: {printable(result.probe_error)}", file=sys.stderr)
    if args.json:
        print_json(result)
    else:
        from console.provenance_text import diagnosis_lines, print_lines

        print_lines(diagnosis_lines(result, probe_ran=not args.no_probe))
    return 0
