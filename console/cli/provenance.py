"""``mlops-console provenance MODEL VERSION [--json]``: where a model version came from.

MLflow run, params, dataset inputs, model files; the pinned Iceberg snapshot; the git commit from
a local clone; lineage; and the gaps. Exit 0 for a complete record, 1 when gaps were found.
"""

from __future__ import annotations

import argparse

from console.cli._common import open_client, print_json, run_async, version_arg


def register(subparsers, add_globals) -> None:
    parser = subparsers.add_parser(
        "provenance",
        help="where a model version came from: run, data snapshot, commit, environment",
        description=(
            "The provenance record of a model version: MLflow run and model files, the Iceberg "
            "snapshot it was trained on, the git commit (from a local clone), lineage, and what "
            "is missing. Exit 1 when the record has gaps."
        ),
    )
    parser.add_argument("model", metavar="MODEL")
    parser.add_argument("version", metavar="VERSION", type=version_arg)
    parser.add_argument("--no-lineage", action="store_true", help="skip the DataHub lineage")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(parser)
    parser.set_defaults(handler=_handle)


async def _collect(args: argparse.Namespace, settings):
    from console.provenance.collect import ProvenanceSources, collect

    sources = ProvenanceSources.from_settings(settings, lineage=not args.no_lineage)
    try:
        async with open_client(settings) as client:
            return await collect(client, args.model, args.version, sources)
    finally:
        await sources.aclose()


def _handle(args: argparse.Namespace, settings) -> int:
    record = run_async(lambda: _collect(args, settings))
    if args.json:
        print_json(record)
    else:
        from console.provenance.text import print_lines, provenance_lines

        print_lines(provenance_lines(record))
    if record.gaps:
        import sys

        from console.safe_text import printable

        print(
            f"mlops-console: error: provenance of {printable(args.model)} version "
            f"{printable(args.version)} is incomplete: {len(record.gaps)} gap(s) listed above",
            file=sys.stderr,
        )
        return 1
    return 0
