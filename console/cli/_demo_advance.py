"""``mlops-console demo advance [--weeks N | --to-week W] [--json]``: time passes in the demo.

Registered under ``demo`` by ``console.cli.demo``; the work is ``commands.demo.advance``.
"""

from __future__ import annotations

import argparse

from console.cli._common import positive, print_json, say, table


def register_advance(demo_subparsers, add_globals) -> None:
    parser = demo_subparsers.add_parser(
        "advance",
        help="append the next weeks of commits and send their traffic to the deployments",
        description=(
            "Append the next weeks of lake.git.commits as one new snapshot (the demo's seeded "
            "generator, with a regime change for every third repository), then send each new "
            "week's feature rows to every embedded deployment of next-week-commits. A week "
            "that exists is never written again."
        ),
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--weeks", type=positive, help="how many weeks to advance (default 1)")
    group.add_argument(
        "--to-week",
        type=positive,
        metavar="W",
        help="advance up to week W (counted from the demo's first week); a no-op if it exists",
    )
    parser.add_argument("--no-traffic", action="store_true", help="only append the weeks")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(parser)
    parser.set_defaults(handler=_advance)


def _advance(args: argparse.Namespace, settings) -> int:
    from commands.demo.advance import advance_demo
    from commands.demo.result import DemoPaths
    from commands.driver import TerminalDriver
    from console.errors import ReadOnlyError

    if settings.read_only:
        raise ReadOnlyError("advance the demo")
    weeks = args.weeks if args.weeks or args.to_week else 1
    result = advance_demo(
        DemoPaths.for_home(settings.home),
        TerminalDriver(quiet=args.json),
        weeks=weeks if not args.to_week else None,
        to_week=args.to_week,
        send=not args.no_traffic,
    )
    if args.json:
        print_json(result)
        return 0
    if result.status == "unchanged":
        say(f"week {result.last_week} is already in {result.table}: nothing changed")
        return 0
    say(
        f"{result.table}: weeks {result.weeks_added[0]}..{result.weeks_added[-1]} appended "
        f"({result.rows_added} rows) as snapshot {result.snapshot_id}"
    )
    say(
        f"regime change since week {result.regime.get('from_week')}: "
        f"{', '.join(result.regime.get('repos', []))} x{result.regime.get('factor')}"
    )
    if result.traffic:
        table(
            [
                [t.deployment, t.url, t.rows, t.answered, t.failed_requests, t.error or ""]
                for t in result.traffic
            ],
            ["deployment", "url", "rows", "answered", "failed requests", "error"],
        )
    if result.traffic_note:
        say(result.traffic_note)
    return 1 if any(t.error for t in result.traffic) else 0
