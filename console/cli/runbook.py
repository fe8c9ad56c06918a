"""``mlops-console runbook list | show NAME | run NAME``: operational runbooks, headless.

``run`` prints each step as it finishes (progress and prompts on stderr); ``--yes`` confirms every
action without a terminal, ``--dry-run`` runs the checks and says what each action would change,
``--resume`` continues the last interrupted run, ``--set KEY=VALUE`` sets parameters. The engine
and step commands are imported inside the handlers so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.cli._common import print_json, say, table
from console.safe_text import printable

EXIT_FOR_STATUS = {
    "completed": 0,
    "dry-run": 0,
    "failed": 1,
    "refused": 3,
    "declined": 5,
    "interrupted": 130,
    "running": 1,
}
MARKS = {"ok": "ok", "failed": "FAILED", "skipped": "skip", "declined": "declined"}


def register(subparsers, add_globals) -> None:
    parser = subparsers.add_parser(
        "runbook",
        help="operational runbooks: list, show, run (guided, dry-run or headless)",
        description="Runbooks whose steps are commands: checks run freely, actions ask first.",
    )
    sub = parser.add_subparsers(dest="runbook_command", metavar="ACTION", required=True)

    listing = sub.add_parser("list", help="the runbooks available")
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(listing)
    listing.set_defaults(handler=_list)

    show = sub.add_parser("show", help="a runbook's parameters and steps")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(show)
    show.set_defaults(handler=_show)

    run = sub.add_parser("run", help="run a runbook step by step")
    run.add_argument("name", metavar="NAME")
    run.add_argument(
        "--dry-run", action="store_true", help="run the checks; show what actions would change"
    )
    run.add_argument("--yes", action="store_true", help="confirm every action (headless)")
    run.add_argument(
        "--set",
        dest="assignments",
        action="append",
        metavar="KEY=VALUE",
        help="set a runbook parameter (repeatable)",
    )
    run.add_argument("--resume", action="store_true", help="continue the last interrupted run")
    run.add_argument("--json", action="store_true", help="print the transcript as JSON")
    add_globals(run)
    run.set_defaults(handler=_run)


def _list(args: argparse.Namespace, settings) -> int:
    from commands.runbooks.catalog import list_runbooks

    entries = list_runbooks()
    if args.json:
        print_json({"runbooks": entries})
    else:
        rows = [
            [e.name, "INVALID" if e.error else f"{e.steps} ({e.actions} actions)", e.title or "-"]
            for e in entries
        ]
        table(rows, ["runbook", "steps", "title"], limit=70)
        for entry in entries:
            if entry.error:
                print(f"invalid runbook: {printable(entry.error)}", file=sys.stderr)
    return 1 if any(e.error for e in entries) else 0


def _show(args: argparse.Namespace, settings) -> int:
    from commands.runbooks.catalog import load_runbook
    from commands.runbooks.secrets import MASK, mask_dsn

    runbook = load_runbook(args.name)
    header = runbook.header.model_dump(mode="json", exclude={"name"})
    defaults: dict[str, str] = {}  # as shown: a secret's default is not, nor a URL's password
    for name, p in runbook.header.parameters.items():
        if p.is_secret(name) and p.default not in (None, ""):
            defaults[name] = MASK
        elif isinstance(p.default, str):
            defaults[name] = mask_dsn(p.default)
        if name in defaults:
            header["parameters"][name]["default"] = defaults[name]
    if args.json:
        print_json(
            {
                "name": runbook.name,
                "path": runbook.path,
                **header,
                "steps": [s.model_dump(mode="json", by_alias=True) for s in runbook.steps],
            }
        )
        return 0
    h = runbook.header
    say(f"{h.title}  ({runbook.name}, {runbook.path})")
    say(h.summary)
    say(f"When to use: {h.when_to_use}")
    if h.parameters:
        print("\nParameters:")
        for name, p in h.parameters.items():
            value = defaults.get(name, p.default)
            default = f" default {value!r}" if value is not None else ""
            if value == MASK:
                default = f" default {MASK}"
            env = f" env ${p.env}" if p.env else ""
            need = " (required)" if p.required else ""
            say(f"  {name} ({p.type}{default}{env}){need}: {p.description}")
    print("\nSteps:")
    for number, step in enumerate(runbook.steps, 1):
        when = f"  [only when {step.when}]" if step.when else ""
        say(f"  {number}. [{step.kind}] {step.title} — {step.command}{when}")
    return 0


class _CliDriver:
    """The terminal driver plus one line per finished step on stdout (human mode)."""

    def __init__(self, *, assume_yes: bool, json_mode: bool) -> None:
        from commands.driver import TerminalDriver

        self.terminal = TerminalDriver(assume_yes=assume_yes, quiet=json_mode)
        self.json_mode = json_mode
        self.total = 0

    def progress(self, message: str, *, fraction: float | None = None) -> None:
        self.terminal.progress(message, fraction=fraction)

    def warn(self, message: str) -> None:
        self.terminal.warn(message)

    def output(self, item: Any) -> None:
        if self.json_mode or not isinstance(item, dict) or item.get("event") != "step":
            return
        state = item.get("state")
        if state in {"running", "pending"}:
            if state == "running":
                print(
                    f"-> {printable(item['id'])}: {printable(item['title'])}",
                    file=sys.stderr,
                    flush=True,
                )
            return
        mark = MARKS.get(str(state), state)
        say(f"[{mark}] {item['id']} — {item['title']}: {item.get('summary') or ''}".rstrip())
        for key in ("findings", "changes"):
            prefix = "would change: " if state == "planned" and key == "changes" else ""
            for line in item.get(key) or []:
                say(f"    {prefix}{line}")
        if item.get("error"):
            say(f"    error: {item['error']}")
        if state == "failed" and item.get("advice"):
            say(f"    what to do: {item['advice']}")
        sys.stdout.flush()

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        return await self.terminal.confirm(prompt, typed=typed)


def _run(args: argparse.Namespace, settings) -> int:
    from commands.runbooks.catalog import load_runbook
    from commands.runbooks.engine import parse_assignments, run_runbook
    from console.cli._common import run_async

    runbook = load_runbook(args.name)
    overrides = parse_assignments(args.assignments)
    driver = _CliDriver(assume_yes=args.yes, json_mode=args.json)
    transcript, json_path, md_path = run_async(
        lambda: run_runbook(
            runbook,
            settings,
            driver,
            dry_run=args.dry_run,
            overrides=overrides,
            resume=args.resume,
        )
    )
    if args.json:
        print_json(
            {
                **transcript.model_dump(mode="json"),
                "transcript_json": str(json_path),
                "transcript_markdown": str(md_path),
            }
        )
    else:
        print()
        say(f"{transcript.status}: transcript {md_path}")
        if transcript.status in {"failed", "declined", "interrupted"}:
            say(f"resume with: mlops-console runbook run {runbook.name} --resume")
    code = EXIT_FOR_STATUS.get(transcript.status, 1)
    if code != 0:
        # the one line on stderr that every failed command ends with
        import sys

        print(
            f"mlops-console: error: runbook {printable(runbook.name)} ended {transcript.status}"
            f" — see {md_path}",
            file=sys.stderr,
        )
    return code
