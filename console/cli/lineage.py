"""``mlops-console lineage``: the lineage of a model version (or run, or dataset), and ``sync``.

``lineage MODEL VERSION [--depth N] [--direction up|down|both] [--json]`` prints an indented tree
or the graph with its problems (and the checks not made on this view) as JSON, exit 1 only on
an error found on what was traversed; ``lineage sync [--json]`` brings the embedded DataHub Lite
store (or the configured DataHub GMS) up to date from the OpenLineage log and MLflow (it writes,
so ``--read-only`` refuses it); ``lineage check [MODEL [VERSION...]]`` reports on a configured GMS.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from console.cli._common import print_json, run_async, say, version_arg

if TYPE_CHECKING:
    from console.lineage.model import Direction

DIRECTIONS: dict[str, Direction] = {"up": "upstream", "down": "downstream", "both": "both"}


def register(subparsers, add_globals) -> None:
    parser = subparsers.add_parser(
        "lineage",
        help="DataHub lineage of a model version (or `lineage sync` to update the embedded store)",
        description=(
            "lineage MODEL VERSION: the model group, version, training runs, input datasets "
            "(snapshot on the edge), upstream data and jobs, and the runs that used the version; "
            "with what is missing or inconsistent. lineage sync: update the embedded store "
            "(or GMS). "
            "lineage check [MODEL [VERSION...]]: does the configured GMS answer, its version, "
            "may the token read, do the model's entities exist."
        ),
    )
    parser.add_argument(
        "target",
        nargs="*",
        metavar="MODEL VERSION | sync | check [MODEL [VERSION...]]",
        help="a model and version; sync; or check (the configured DataHub GMS)",
    )
    parser.add_argument("--run", metavar="RUN_ID", help="start from an MLflow run instead")
    parser.add_argument("--dataset", metavar="NAME", help="start from a dataset (URN or table)")
    parser.add_argument("--depth", type=int, default=3, metavar="N", help="hops (default 3)")
    parser.add_argument(
        "--direction",
        choices=sorted(DIRECTIONS),
        default="both",
        help="default both; a check whose evidence is on a side not traversed is 'not checked'",
    )
    parser.add_argument(
        "--no-mlflow", action="store_true", help="do not cross-check with the MLflow server"
    )
    parser.add_argument(
        "--skip-mlflow", action="store_true", help="sync: replay the event log only"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(parser)
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace, settings) -> int:
    from console.errors import ConsoleError

    target = list(args.target)
    if target == ["sync"]:
        return _sync(args, settings)
    if target[:1] == ["check"]:
        return _check(args, settings, target[1:])
    if args.run or args.dataset:
        if target:
            raise ConsoleError("give MODEL VERSION, --run or --dataset, not several")
    elif len(target) != 2:
        raise ConsoleError(
            "expected MODEL VERSION (or `lineage sync`, --run RUN_ID, --dataset NAME)",
            hint="for example: mlops-console lineage next-week-commits 3",
        )
    else:
        from console.errors import UsageError

        try:
            version_arg(target[1])
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"lineage: {exc}") from None
    graph = run_async(lambda: _read(args, settings))
    if args.json:
        print_json(graph)
    else:
        from console.lineage.render import tree_lines

        for line in tree_lines(graph):
            print(line)
    errors = [p for p in graph.problems if p.severity == "error"]
    if errors:
        import sys

        from console.safe_text import printable

        print(
            f"mlops-console: error: lineage has {len(errors)} problem(s); first: "
            f"{printable(errors[0].message, limit=200)}",
            file=sys.stderr,
        )
        return 1
    return 0


async def _read(args: argparse.Namespace, settings):
    from console.lineage.reader import open_reader

    direction = DIRECTIONS[args.direction]
    async with open_reader(settings) as reader:
        if args.run:
            return await reader.lineage_for_run(args.run, depth=args.depth, direction=direction)
        if args.dataset:
            return await reader.lineage_for_dataset(
                args.dataset, depth=args.depth, direction=direction
            )
        model, version = args.target
        mlflow = None if args.no_mlflow else _mlflow_client(settings)
        try:
            return await reader.lineage_for_version(
                model, version, depth=args.depth, direction=direction, mlflow=mlflow
            )
        finally:
            if mlflow is not None:
                await mlflow.aclose()


def _mlflow_client(settings):
    """A client for the cross-check, only if MLflow is reachable without starting anything."""
    from console.mlflow import MlflowRestClient

    uri = settings.tracking_uri
    if not uri:
        from console.embedded.lifecycle import status

        current = status(settings.home)
        uri = current.tracking_uri if current.running else None
    if not uri:
        return None
    return MlflowRestClient.from_settings(settings, tracking_uri=uri)


def _sync(args: argparse.Namespace, settings) -> int:
    from commands.driver import TerminalDriver
    from commands.lineage_sync import sync_lineage

    report = sync_lineage(settings, TerminalDriver(quiet=args.json), skip_mlflow=args.skip_mlflow)
    if args.json:
        print_json(report.as_dict())
        return 0
    say(f"{'DataHub GMS' if report.target == 'gms' else 'store'}: {report.store}")
    sent = f", {report.events_sent} sent" if report.target == "gms" else ""
    say(
        f"event log: {report.events_read} events{sent}, {report.runs_in_log} runs, "
        f"{report.event_changes} aspects written"
    )
    if report.mlflow_skipped:
        say("mlflow: skipped")
    else:
        say(f"mlflow: {report.tracking_uri}, {report.mlflow_changes} aspects written")
    say(f"changes: {report.changes}")
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _check(args: argparse.Namespace, settings, target: list[str]) -> int:
    from commands.lineage_check import check
    from console.safe_text import printable

    model, versions = (target[0], target[1:]) if target else (None, [])
    report = check(settings, model, versions)
    if args.json:
        print_json({**report.model_dump(mode="json"), "ok": report.ok})
    else:
        say(f"DataHub GMS: {printable(report.url)}")
        say(f"answers: {'yes' if report.answers else 'no'}")
        say(f"version: {report.version or 'unknown'} (console reads {report.expected_version})")
        readable = {True: "yes", False: "no", None: "unknown"}[report.can_read]
        say(f"token may read: {readable}" + (f" (as {report.user})" if report.user else ""))
        for urn, state in report.entities.items():
            say(f"{state}: {printable(urn)}")
        for problem in report.problems:
            print(f"problem: {printable(problem, limit=300)}", file=sys.stderr)
    return 0 if report.ok else 1
