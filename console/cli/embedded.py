"""``mlops-console embedded status|start|stop``: the embedded MLflow server of the home (stop also
stops the home's model worker, ``commands.model_worker``)."""

from __future__ import annotations

import argparse
import sys

from console.cli._common import print_json, say


def register(subparsers, add_globals) -> None:
    parser = subparsers.add_parser(
        "embedded", help="status, start or stop the embedded MLflow server of the console home"
    )
    sub = parser.add_subparsers(dest="embedded_command", metavar="ACTION", required=True)
    show = sub.add_parser("status", help="say what is running where (never starts anything)")
    show.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(show)
    show.set_defaults(handler=_status)
    start = sub.add_parser(
        "start", help="start the server if it is not running (progress on stderr)"
    )
    start.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(start)
    start.set_defaults(handler=_start)
    halt = sub.add_parser(
        "stop", help="stop the server, its supervisor and the model worker (not with --read-only)"
    )
    add_globals(halt)
    halt.set_defaults(handler=_stop)


def _progress(message: str) -> None:
    from console.safe_text import printable

    print(printable(message), file=sys.stderr, flush=True)


def _status(args: argparse.Namespace, settings) -> int:
    from console.embedded.lifecycle import status
    from console.settings import show_url

    current = status(settings.home)
    doc = current.model_dump(mode="json")
    doc["configured_tracking_uri"] = show_url(settings.tracking_uri)
    if args.json:
        print_json(doc)
        return 0
    if current.running:
        say(f"embedded MLflow server: running at {current.tracking_uri} (pid {current.pid})")
    else:
        say("embedded MLflow server: not running")
    say(f"home: {current.home}")
    say(f"detail: {current.detail}")
    if settings.tracking_uri:
        say(
            f"note: the console is configured for {show_url(settings.tracking_uri)} "
            f"(from {settings.sources.get('tracking_uri', 'settings')}), not the embedded server"
        )
    return 0


def _start(args: argparse.Namespace, settings) -> int:
    from console.embedded.lifecycle import ensure_server
    from console.settings import show_url

    current = ensure_server(
        settings.home, progress=_progress, idle_minutes=settings.embedded_idle_minutes
    )
    if args.json:
        print_json(current)
    else:
        say(f"embedded MLflow server running at {current.tracking_uri} (pid {current.pid})")
    if settings.tracking_uri:
        _progress(
            f"note: the console is configured for {show_url(settings.tracking_uri)}, "
            "not this server"
        )
    return 0


def _stop(args: argparse.Namespace, settings) -> int:
    """Stop the home's server; refused read-only: other consoles (and deployments, the history
    receiver) of this home may be reading from it, and a read-only console changes nothing.
    (``start`` is allowed read-only: a read-only console needs a server to read from, and one it
    starts stops by itself once idle.)"""
    from console.embedded.lifecycle import stop
    from console.errors import ReadOnlyError

    if settings.read_only:
        raise ReadOnlyError(
            f"stop the embedded MLflow server of {settings.home} (other consoles of this home may "
            "be using it; it stops by itself once idle)"
        )
    from commands.model_worker import stop as stop_worker

    if stop(settings.home):
        say(f"stopped the embedded MLflow server of {settings.home}")
    else:
        say(f"no embedded MLflow server was running for {settings.home}")
    if stop_worker(settings.home):  # it keeps mlflow imported for this home's model work
        say(f"stopped the model worker of {settings.home}")
    return 0
