"""``mlops-console config show``: the effective settings, each with its source; secrets masked."""

from __future__ import annotations

import argparse

from console.cli._common import print_json, table


def register(subparsers, add_globals) -> None:
    parser = subparsers.add_parser("config", help="show the effective settings and their sources")
    sub = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="print every setting with where it came from")
    show.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(show)
    show.set_defaults(handler=_show)


def _show(args: argparse.Namespace, settings) -> int:
    described = settings.describe()
    if args.json:
        print_json(described)
        return 0
    rows = [[name, item["value"], item["source"]] for name, item in described.items()]
    table(rows, ["setting", "value", "source"])
    return 0
