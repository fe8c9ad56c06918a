"""``mlops-console reproduce MODEL VERSION [--json]``: retrain a version from its record, compare.

The retraining and the probe each run in their own process with progress on stderr (Ctrl-C
stops them). Exit 0 for MATCH, 1 for MISMATCH, 2 when the record lacks what retraining needs
(INCOMPLETE: the output says exactly what). It logs a new run (tagged
``mlops-console.reproduce``, never registered), so ``--read-only`` refuses it; it is audited.
"""

from __future__ import annotations

import argparse
import sys

from console.cli._common import open_client, run_async, version_arg
from console.safe_text import printable

EXIT = {"MATCH": 0, "MISMATCH": 1, "INCOMPLETE": 2}


def register(subparsers, add_globals) -> None:
    parser = subparsers.add_parser(
        "reproduce",
        help="retrain a version from its record and compare its predictions",
        description=(
            "Check the recorded commit out into a temporary worktree, train with the logged "
            "params on the pinned snapshot by the version's entry point (the demo pipeline, an "
            "MLproject at the commit, or the train command configured for the model), then "
            "probe the new model against the registered one: MATCH or MISMATCH, with the "
            "environment differences and what the record cannot pin. Nothing is registered."
        ),
    )
    parser.add_argument("model", metavar="MODEL")
    parser.add_argument("version", metavar="VERSION", type=version_arg)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(parser)
    parser.set_defaults(handler=_handle)


def _progress(message: str, fraction: float | None) -> None:
    pct = f"[{fraction * 100:3.0f}%] " if fraction is not None else ""
    print(f"reproduce: {pct}{printable(message)}", file=sys.stderr, flush=True)


async def _reproduce(args: argparse.Namespace, settings):
    from commands.probe_runner import child_env
    from commands.reproduce import load_train_commands, reproduce
    from console.provenance.collect import ProvenanceSources

    sources = ProvenanceSources.from_settings(settings, lineage=False)
    try:
        async with open_client(settings) as client:
            return await reproduce(
                client,
                args.model,
                args.version,
                sources,
                tracking_uri=client.tracking_uri,
                train_commands=load_train_commands(),
                on_progress=_progress,
                env=child_env(settings),
            )
    finally:
        await sources.aclose()


def _handle(args: argparse.Namespace, settings) -> int:
    from commands.reproduce import as_json, audit_result, result_lines
    from console.errors import ReadOnlyError

    if settings.read_only:
        raise ReadOnlyError("reproduce logs a new run; refused in --read-only mode")
    result = run_async(lambda: _reproduce(args, settings))
    if result.run_id:
        audit_result(settings, result)
    if args.json:
        print(as_json(result))
    else:
        for line in result_lines(result):
            print(printable(line) if line else "")
    return EXIT[result.verdict]
