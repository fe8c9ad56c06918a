"""``mlops-console undo MODEL [--event ID] [--reason R] [--yes]``: put back what an event changed.

By default the newest change made by this operator. It runs the promotion flow (plan, gates,
typed confirmation, compare-and-set against the state the event left, verify, audit) and audits
the undo with a link to the undone event. Exit codes as ``promote``: 0 done, 1 cancelled or
failed, 3 read-only, 4 refused (an unverified event included), 5 lost race, 6 the audit record
cannot be written (nothing was changed), 7 unconfirmed; an empty ``--event`` is a usage error (2).
"""

from __future__ import annotations

import argparse
import sys

from console.cli._common import run_async
from console.safe_text import printable


def register(subparsers, add_globals) -> None:
    parser = subparsers.add_parser(
        "undo",
        help="restore the state before a registry change, through the promotion flow",
        description=(
            "Undo one alias or stage change of MODEL (default: your newest): refused if the "
            "target changed since. See docs/guide/history.md."
        ),
    )
    parser.add_argument("model", metavar="MODEL", help="registered model name")
    parser.add_argument("--event", metavar="ID", help="the history event to undo (or a prefix)")
    parser.add_argument("--reason", metavar="R", help="why (recorded in the audit and tags)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON document")
    add_globals(parser)
    parser.set_defaults(handler=_undo)


def _undo(args: argparse.Namespace, settings) -> int:
    from console.cli.promote import _driver, report
    from console.errors import ReadOnlyError
    from console.history.model import UndoPlan

    if args.event is not None and not args.event.strip():
        from console.errors import UsageError

        raise UsageError(
            "undo: --event needs an event id (or a prefix of one)",
            hint="`mlops-console history MODEL` lists the event ids",
        )
    if settings.read_only:
        raise ReadOnlyError(f"undo a change of {args.model}")
    driver = _driver(args)
    plain_output = driver.output

    def output(item) -> None:
        if isinstance(item, UndoPlan):
            print(printable(f"undo {item.event.id}: {item.event.describe()}"), file=sys.stderr)
            if item.current:
                print(printable(f"  now:      {item.current}"), file=sys.stderr)
            if item.restores:
                print(printable(f"  restores: {item.restores}"), file=sys.stderr)
            return
        plain_output(item)

    driver.output = output

    async def work():
        from commands.history import undo
        from commands.promote import PromoteContext
        from console.connection import resolve_tracking_uri
        from console.mlflow.client import MlflowRestClient

        uri = resolve_tracking_uri(settings, driver.progress)
        async with MlflowRestClient.from_settings(settings, tracking_uri=uri) as client:
            ctx = PromoteContext.from_settings(settings, client, uri)
            return await undo(ctx, args.model, driver, event_id=args.event, reason=args.reason)

    return report(run_async(work), driver, as_json=args.json)
