"""``mlops-console promote MODEL VERSION (--alias A | --stage S)``: the guarded promotion flow.

Shows the plan (before → after, gates — cheapest first, the first failure stopping the rest
unless ``--all-gates`` — operator, writes) on stderr, asks for confirmation (the
model name for ``champion`` and Production) unless ``--yes``, then compare-and-set, write, verify
and audit. Exit 0 done or nothing to do, 1 cancelled or failed, 3 read-only, 4 refused (a busy or
broken lease included), 5 lost race, 6 the audit record could not be written (nothing was
changed), 7 unconfirmed (the write was sent, its verification got no answer: it may have
happened; the next read of the model resolves it).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.cli._common import print_json, run_async
from console.safe_text import printable

EXIT_CODES = {
    "succeeded": 0,
    "noop": 0,
    "cancelled": 1,
    "failed": 1,
    "refused": 4,
    "lost_race": 5,
    "unconfirmed": 7,
}


def register(subparsers, add_globals) -> None:
    parser = subparsers.add_parser(
        "promote",
        help="set/move/remove an alias or transition a stage, behind gates and an audit",
        description=(
            "Promote a model version: plan, gates, confirmation, compare-and-set, write, "
            "verify, audit. MLflow itself has no compare-and-set; "
            "see docs/guide/promotions-and-audit.md."
        ),
    )
    parser.add_argument("model", metavar="MODEL", help="registered model name")
    parser.add_argument("version", metavar="VERSION", help="the version to act on")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--alias", metavar="A", help="set (or with --remove, remove) alias A")
    target.add_argument(
        "--stage", metavar="S", help="transition to stage S (None, Staging, Production, Archived)"
    )
    parser.add_argument("--remove", action="store_true", help="remove the alias from VERSION")
    parser.add_argument(
        "--archive-others",
        action="store_true",
        help="with --stage: archive the other versions in that stage (one by one, verified)",
    )
    parser.add_argument(
        "--expect",
        metavar="V|none",
        help="the version the alias (or stage) must hold right now; refuse if it has moved "
        "(default: what is read when the plan is made)",
    )
    parser.add_argument("--reason", metavar="R", help="why (recorded in the audit and tags)")
    parser.add_argument(
        "--force", action="store_true", help="override failed gates (needs --reason; audited)"
    )
    parser.add_argument(
        "--all-gates",
        action="store_true",
        help="run every gate even after one failed (by default the gates run cheapest first "
        "and the first failure stops the rest, reported as not run)",
    )
    parser.add_argument(
        "--break-lease",
        action="store_true",
        help="overwrite a broken promotion lease (one expiring further ahead than a console "
        "writes, or unreadable); needs --reason; audited",
    )
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON document")
    add_globals(parser)
    parser.set_defaults(handler=_promote)


def _request(args: argparse.Namespace):
    from pydantic import ValidationError

    from console.errors import UsageError
    from console.promotion_model import PromotionRequest

    try:
        return PromotionRequest(
            model=args.model,
            version=args.version,
            alias=args.alias,
            stage=args.stage,
            remove=args.remove,
            archive_others=args.archive_others,
            expect=args.expect,
            reason=args.reason,
            force=args.force,
            break_lease=args.break_lease,
            all_gates=args.all_gates,
        )
    except ValidationError as exc:
        message = str(exc.errors()[0].get("msg", "invalid arguments"))
        message = message.removeprefix("Value error, ")
        # the arguments are wrong: a usage error (exit 2), before anything is read or written
        raise UsageError(f"promote: {message}", hint="see `mlops-console promote --help`") from None


def _driver(args: argparse.Namespace):
    from commands.driver import TerminalDriver
    from console.promotion_model import PromotionPlan, plan_lines

    class PromoteDriver(TerminalDriver):
        """Prints the plan once (stderr), then asks a one-line question."""

        title = ""

        def output(self, item: Any) -> None:
            super().output(item)
            if isinstance(item, PromotionPlan):
                self.title = item.title
                for line in plan_lines(item):
                    print(printable(line), file=sys.stderr)

        async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
            return await super().confirm(f"confirm: {self.title}", typed=typed)

    return PromoteDriver(assume_yes=args.yes)


def _promote(args: argparse.Namespace, settings) -> int:
    request = _request(args)
    if settings.read_only:
        from commands.promote import refuse_read_only
        from console.audit import AuditLog

        # audited like the TUI's refusals; raises ReadOnlyError (exit 3)
        refuse_read_only(AuditLog.for_settings(settings), request, settings.tracking_uri)
    driver = _driver(args)

    async def work():
        from commands.promote import PromoteContext, promote
        from console.connection import resolve_tracking_uri
        from console.mlflow.client import MlflowRestClient

        uri = resolve_tracking_uri(settings, driver.progress)
        async with MlflowRestClient.from_settings(settings, tracking_uri=uri) as client:
            ctx = PromoteContext.from_settings(settings, client, uri)
            return await promote(ctx, request, driver)

    return report(with_override_hint(run_async(work)), driver, as_json=args.json)


def with_override_hint(result):
    """A refusal the gates alone made says how to override it here: ``--force --reason``."""
    from console.promotion_model import CLI_OVERRIDE_HINT

    if result.outcome == "refused" and result.plan is not None and result.plan.overridable:
        result.message = f"{result.message} ({CLI_OVERRIDE_HINT})"
    return result


def report(result, driver, *, as_json: bool) -> int:
    """Print a promotion's outcome (or its JSON) and its warnings; the exit code (promote, undo)."""
    if as_json:
        print_json(result)
    else:
        print(printable(f"{result.outcome}: {result.message}"))
        if result.audit_id:
            print(f"audit record {result.audit_id}")
    for warning in result.warnings:
        driver.warn(warning)
    return EXIT_CODES[result.outcome]
