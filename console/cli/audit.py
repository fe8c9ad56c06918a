"""``mlops-console audit``: the promotion and runbook record of this console home, oldest first.

Reads ``<home>/audit/audit.jsonl`` only; it never contacts a server.
"""

from __future__ import annotations

import argparse
import sys

from console.cli._common import positive, print_json, table


def register(subparsers, add_globals) -> None:
    parser = subparsers.add_parser("audit", help="show the audit record (promotions, runbooks)")
    parser.add_argument("--model", metavar="M", help="only records about model M")
    parser.add_argument(
        "--action", metavar="PREFIX", help="only actions starting with PREFIX, e.g. promote."
    )
    parser.add_argument("--operator", metavar="NAME", help="only records of operator NAME")
    parser.add_argument("--limit", type=positive, metavar="N", help="only the newest N records")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(parser)
    parser.set_defaults(handler=_audit)


def _audit(args: argparse.Namespace, settings) -> int:
    from console.audit import AuditFilter, AuditLog, change_text

    log = AuditLog.for_settings(settings)
    read = log.read(
        AuditFilter(
            model=args.model, action_prefix=args.action, actor=args.operator, limit=args.limit
        )
    )
    if args.json:
        print_json(read)
        return 0
    if read.unreadable_lines:
        print(
            f"warning: {read.unreadable_lines} unreadable line(s) in {read.path}", file=sys.stderr
        )
    if not read.records:
        print(f"no audit records in {read.path}")
        return 0
    rows = [
        [
            r.at.strftime("%Y-%m-%d %H:%M:%S"),
            r.actor.name,
            r.action,
            r.model or "-",
            r.version or "-",
            r.target or "-",
            r.outcome + (" (forced)" if r.forced else ""),
            change_text(r),
            r.reason or r.message or "-",
        ]
        for r in read.records
    ]
    headers = ["at (UTC)", "who", "action", "model", "version", "target", "outcome", "change"]
    table(rows, [*headers, "reason / message"], limit=70)
    return 0
