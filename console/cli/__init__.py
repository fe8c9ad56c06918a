"""The ``mlops-console`` command line: parses options and dispatches to a subcommand module.

Only ``argparse`` is imported here so ``--help`` stays fast. Each subcommand lives in a module of
this package (``console.cli.<name>`` with ``register(subparsers, add_globals)``), imported for its
parser (cheap: those modules import nothing heavy at module level); its handler imports clients
and commands lazily. Every failure ends as one line on stderr and a non-zero exit, never a
traceback (set ``MLOPS_CONSOLE_DEBUG=1`` to see one while developing).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

# subcommand modules listed first in --help; the rest of console.cli follows alphabetically
PREFERRED_ORDER = (
    "demo",
    "models",
    "registry",
    "provenance",
    "diagnose",
    "lineage",
    "promote",
    "deploy",
    "deployments",
)

EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70


# an error line quotes operator input; a 10,000-character argument must not become the line
MAX_WORD = 200


class _OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr (exit 2), like every other failure."""

    def error(self, message: str) -> NoReturn:
        where = self.prog.removeprefix("mlops-console").strip()
        _print_error(f"{where + ': ' if where else ''}{message} (see `{self.prog} --help`)")
        sys.exit(2)


def _add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Global options, accepted before or after the subcommand."""
    default = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("global options")
    group.add_argument(
        "--tracking-uri",
        metavar="URI",
        default=default,
        help="MLflow tracking server URL (default: $MLFLOW_TRACKING_URI, else the embedded one)",
    )
    group.add_argument(
        "--profile", metavar="NAME", default=default, help="named profile from the config file"
    )
    group.add_argument(
        "--home",
        metavar="DIR",
        default=default,
        help="console home holding the embedded lifecycle (default: $MLOPS_CONSOLE_HOME)",
    )
    group.add_argument(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="disable every mutation",
    )


def _subcommand_modules() -> list[str]:
    """Every public module of ``console.cli`` (each registers one or more subcommands)."""
    import pkgutil

    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    names = [n for n in names if n != "tui"]

    def rank(name: str) -> tuple[int, str]:
        return (PREFERRED_ORDER.index(name) if name in PREFERRED_ORDER else 99, name)

    return sorted(names, key=rank)


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="mlops-console",
        description=(
            "Terminal operations console for the model lifecycle (MLflow, DataHub lineage, "
            "Iceberg). With no subcommand it opens the console."
        ),
    )
    _add_global_options(parser, suppress=False)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _subcommand_modules():
        module = importlib.import_module(f"console.cli.{name}")
        module.register(subparsers, lambda p: _add_global_options(p, suppress=True))
    return parser


def _overrides(args: argparse.Namespace):
    from console.overrides import CliOverrides

    return CliOverrides(
        tracking_uri=getattr(args, "tracking_uri", None),
        profile=getattr(args, "profile", None),
        home=getattr(args, "home", None),
        read_only=bool(getattr(args, "read_only", False)),
    )


def _console_options(argv: list[str]) -> argparse.Namespace | None:
    """``argv`` parsed as the global options alone when it names no subcommand (the console
    opens), else None. The full parser imports every subcommand module (about 0.04 s, a fifth of
    a bare Textual app's start), which opening the console does not need."""
    if any(arg in ("-h", "--help") or arg == "--" for arg in argv):
        return None
    # with the full parser's -h/--help, so abbreviations are as ambiguous as there (--h)
    parser = _OneLineParser(prog="mlops-console")
    _add_global_options(parser, suppress=False)
    args, rest = parser.parse_known_args(argv)
    return None if rest else args


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command; exceptions propagate (see ``main``)."""
    from console.cli._common import check_arguments

    argv = list(sys.argv[1:] if argv is None else argv)
    check_arguments(argv)
    args = _console_options(argv) or build_parser().parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        from console.cli.tui import open_console

        # the console paints first and validates the settings in a worker (pydantic's import
        # is a third of a bare Textual app's start); an invalid setting still ends it in one line
        return open_console(_overrides(args))
    from console.settings import load_settings

    settings = load_settings(_overrides(args))
    return int(handler(args, settings) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run and turn every failure into one line on stderr."""
    from console.errors import ConsoleError

    try:
        return run(argv)
    except ConsoleError as exc:
        _print_error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _print_error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader of our output went away (e.g. `| head`); nothing more to say
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
    except Exception as exc:  # the last line of defence against tracebacks
        if os.environ.get("MLOPS_CONSOLE_DEBUG"):
            raise
        _print_error(
            f"internal error: {type(exc).__name__}: {exc} "
            "(please report it; set MLOPS_CONSOLE_DEBUG=1 to see the traceback)"
        )
        return EXIT_INTERNAL


def _print_error(message: str) -> None:
    from console.safe_text import printable

    words = printable(message).replace("\n", " ").split(" ")
    line = " ".join(
        w if len(w) <= MAX_WORD else f"{w[: MAX_WORD // 2]}… (+{len(w) - MAX_WORD // 2} chars)"
        for w in words
    )
    print(f"mlops-console: error: {line}", file=sys.stderr)
