"""``mlops-console history MODEL [--alias A] [--since T] [--at T]``: the registry's timeline.

Every alias and stage change and version creation of a model, merged from the audit log, the
embedded server's webhooks, the promotion tags and observation; or with ``--at`` the state at an
instant. ``--json`` prints the list of events, or ``{"at","aliases","stages","observed"}``. An
event known only from promotion tags no audit record of this home confirms is ``UNVERIFIED``
(``"unverified": true`` in JSON).
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta

from console.cli._common import print_json, run_async, table
from console.safe_text import printable

_RELATIVE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_instant(text: str, now: datetime | None = None) -> datetime:
    """ISO 8601 (no offset = UTC), ``now``, or an age such as ``90m``, ``2h``, ``3d`` ago."""
    value = text.strip()
    now = now or datetime.now(UTC)
    if value.lower() == "now":
        return now
    match = _RELATIVE.match(value.lower())
    if match:
        try:
            return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        except (OverflowError, ValueError):  # before year 1, or past timedelta's range
            raise argparse.ArgumentTypeError(
                f"{value[:40]!r} reaches back before the year 1 (give a smaller age)"
            ) from None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value[:60]!r} is not a time (use ISO 8601 like 2026-03-01T14:00, or 2h, 3d)"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def register(subparsers, add_globals) -> None:
    parser = subparsers.add_parser(
        "history",
        help="who moved which alias or stage, when; or the registry at an instant",
        description=(
            "The timeline of a model's aliases, stages and versions, from the audit log, the "
            "embedded server's webhooks, the promotion tags and observation "
            "(see docs/guide/history.md)."
        ),
    )
    parser.add_argument("model", metavar="MODEL", help="registered model name")
    parser.add_argument("--alias", metavar="A", help="only the changes of alias A")
    parser.add_argument(
        "--since", metavar="T", type=parse_instant, help="only changes at or after T"
    )
    parser.add_argument(
        "--at",
        metavar="T",
        type=parse_instant,
        help="the state at instant T instead of the timeline (ISO 8601, UTC if no offset)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(parser)
    parser.set_defaults(handler=_history)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _when(event) -> str:
    if event.uncertain:
        start = _stamp(event.observed_after) if event.observed_after else "(first look)"
        return f"{start} … {_stamp(event.time)}"
    return _stamp(event.time)


def _actor(event) -> str:
    actor = event.actor or "unknown"
    return f"{actor}?" if event.unverified else actor


def _source(event) -> str:
    sources = "+".join(event.sources)
    return f"{sources} UNVERIFIED" if event.unverified else sources


def _change(event) -> str:
    return event.describe() + (f" (undo of {event.undoes})" if event.undoes else "")


def _history(args: argparse.Namespace, settings) -> int:
    from commands.history import timeline
    from console.cli._common import open_client
    from console.history.model import state_at

    async def work():
        async with open_client(settings) as client:
            return await timeline(settings, client, args.model)

    full = run_async(work)
    for warning in full.warnings:
        print(f"warning: {printable(warning)}", file=sys.stderr)
    if args.at is not None:
        state = state_at(full.events, args.at)
        if args.json:
            print_json(state.public())
            return 0
        print(printable(f"{args.model} at {_stamp(state.at)} UTC"))
        aliases = ", ".join(f"{a} → v{v}" for a, v in sorted(state.aliases.items()))
        print(printable(f"  aliases: {aliases or 'none'}"))
        stages = "; ".join(
            f"{s}: {', '.join('v' + v for v in vs)}" for s, vs in state.stages.items()
        )
        print(printable(f"  stages:  {stages or 'none'}"))
        if state.observed:
            print(
                "  note:    this instant falls inside a window where a change was only observed, "
                "not reported; the answer may be off"
            )
        return 0
    events = full.events
    if args.alias is not None:
        events = [e for e in events if e.kind == "alias" and e.name == args.alias]
    if args.since is not None:
        events = [e for e in events if e.time >= args.since]
    if args.json:
        print_json([e.public() for e in events])
        return 0
    if not events:
        print(printable(f"no recorded changes of {args.model}"))
        return 0
    rows = [[_when(e), _change(e), _actor(e), _source(e), e.id] for e in events]
    table(rows, ["time (UTC)", "change", "actor", "source", "id"])
    if any(e.unverified for e in events):
        print(
            "UNVERIFIED changes come from promotion tags that no audit record of this home "
            "confirms (anyone may set them): their actor, time and reason are claims; "
            "`undo` refuses them"
        )
    if any(e.uncertain for e in events):
        print(
            "observed changes happened inside the time window shown (actor unknown): "
            "they were seen, not reported"
        )
    return 0
