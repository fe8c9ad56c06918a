"""``mlops-console demo [--reset]``: build (or rebuild) the demo lifecycle in the embedded stack.

The demo targets the home's embedded MLflow server unless ``--tracking-uri`` is given on the
command line (an environment or profile URI is not enough: filling a shared server must be
deliberate). The pipeline runs in this process; heavy imports happen inside the handler.
"""

from __future__ import annotations

import argparse
import sys

from console.cli._common import print_json, say, table


def register(subparsers, add_globals) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="build the demo lifecycle (Iceberg data, training code, runs, models, lineage)",
        description=(
            "Build the next-week-commits demo: an Iceberg table, a git repository of training "
            "code, five training runs and three registered versions, and lineage. Targets the "
            "embedded stack unless --tracking-uri is given. A second run is a quick no-op."
        ),
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="delete the demo's data, code, lineage, experiment and model, then rebuild",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(parser)
    parser.set_defaults(handler=_demo)
    from console.cli._demo_advance import register_advance

    register_advance(parser.add_subparsers(dest="demo_command", metavar="COMMAND"), add_globals)


def _demo(args: argparse.Namespace, settings) -> int:
    from commands.demo.pipeline import build_demo
    from commands.demo.result import DemoPaths
    from commands.demo.target import resolve_target
    from commands.driver import TerminalDriver
    from console.errors import ReadOnlyError

    if settings.read_only:
        raise ReadOnlyError("build the demo lifecycle")
    explicit = settings.sources.get("tracking_uri") == "option --tracking-uri"
    driver = TerminalDriver()
    target = resolve_target(
        settings.home,
        settings.tracking_uri if explicit else None,
        progress=driver.progress,
        idle_minutes=settings.embedded_idle_minutes,
    )
    driver.progress(f"target: {target.description}")
    if not target.embedded:
        _check_reachable(target.tracking_uri)
    result = build_demo(
        DemoPaths.for_home(settings.home), target.tracking_uri, driver, reset=args.reset
    )
    if args.json:
        from console.settings import show_url

        shown = target.model_copy(update={"tracking_uri": show_url(target.tracking_uri)})
        document = result.model_dump(mode="json")
        document["tracking_uri"] = show_url(document.get("tracking_uri"))
        print_json({"target": shown, **document})
        return 0
    verb = "built" if result.status == "built" else "already built, nothing changed"
    say(f"demo lifecycle {verb} in {result.seconds:.1f} s — {target.description}")
    say(
        f"table {result.table}: snapshots",
        ", ".join(f"{k} {v}" for k, v in result.snapshots.items()),
    )
    say(f"training code: {result.git_repo} at {result.git_commits[-1][:12]}")
    rows = [
        [r.name, r.run_id, r.snapshot_id, f"{r.metrics['holdout_f1_macro']:.4f}", r.role]
        for r in result.runs
    ]
    table(rows, ["run", "run id", "snapshot", "f1 macro", "role"])
    say(
        f"model {result.model}: v{result.champion_version} alias champion, stage Staging; "
        f"v{' and v'.join(result.scenario_versions)} tie on every metric but predict differently "
        f"(they differ in {', '.join(result.scenario_differs)})"
    )
    sys.stdout.flush()
    return 0


def _check_reachable(tracking_uri: str) -> None:
    """Fail in seconds, before mlflow is imported: its own client retries for minutes."""
    import urllib.error
    import urllib.parse
    import urllib.request

    from console.errors import ConsoleError
    from console.settings import show_url

    parts = urllib.parse.urlsplit(tracking_uri)
    # /health is open even behind auth; urllib cannot take user:password in the URL
    bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl().rstrip("/")
    try:
        with urllib.request.urlopen(f"{bare}/health", timeout=5):
            return
    except urllib.error.HTTPError:
        return  # it answers; auth and the rest are the pipeline's business
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConsoleError(
            f"cannot reach the MLflow server at {show_url(tracking_uri)}: {reason}",
            hint="check --tracking-uri and that the server is running",
        ) from None
