"""Helpers shared by subcommands: JSON output, safe human output and running coroutines."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from console.safe_text import printable

T = TypeVar("T")


def _jsonable(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(obj, list | tuple):
        return [_jsonable(item) for item in obj]
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    return obj


def print_json(obj: Any) -> None:
    """Print one JSON document. ``ensure_ascii`` keeps escape sequences escaped on a terminal."""
    json.dump(_jsonable(obj), sys.stdout, indent=2, ensure_ascii=True, default=str)
    sys.stdout.write("\n")


def say(*parts: object) -> None:
    """Print server-derived text with control characters made visible."""
    print(" ".join(printable(p) for p in parts))


MIN_WRAPPED = 16  # a column narrower than this is not wrapped (the table stays as it is)


def terminal_width() -> int | None:
    """The width to fit, when output goes to a terminal (or ``COLUMNS`` says one); a pipe gets
    whole lines, one row each, for grep and scripts."""
    import shutil

    if not (sys.stdout.isatty() or os.environ.get("COLUMNS")):
        return None
    return shutil.get_terminal_size((100, 24)).columns


def table(rows: Sequence[Sequence[object]], headers: list[str], *, limit: int = 60) -> None:
    """Print a plain aligned table; cells are made printable and cut at ``limit`` characters.

    On a terminal narrower than the table, its widest column wraps onto continuation lines under
    itself (at 80 columns `audit` and `history` lines ran past the edge and wrapped anyhow).
    """
    cells = [[printable(c, limit=limit) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    width = terminal_width()
    wrap, room = None, 0
    if width is not None and widths and sum(widths) + 2 * (len(widths) - 1) > width:
        wrap = max(range(len(widths)), key=lambda i: (widths[i], i))
        room = width - (sum(widths) - widths[wrap]) - 2 * (len(widths) - 1)
        if room < MIN_WRAPPED:
            wrap = None
        else:
            widths[wrap] = room
    print(_line(headers, widths))
    for row in cells:
        if wrap is None:
            print(_line(row, widths))
            continue
        pieces = textwrap.wrap(row[wrap], room, break_on_hyphens=False) or [""]
        print(_line([*row[:wrap], pieces[0], *row[wrap + 1 :]], widths))
        for piece in pieces[1:]:
            print(_line(["" if i != wrap else piece for i in range(len(row))], widths))


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip()


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine from a synchronous handler."""
    import asyncio

    return asyncio.run(factory())


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def version_arg(text: str) -> str:
    """An argparse type: a model version number exactly as MLflow writes it (``3``, not `` 3``)."""
    # (at most 18 digits: int() of thousands of digits is itself an error, and no server has
    # a version past 10^18)
    if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"'{printable(text, limit=40)}' is not a version number (1, 2, 3, ...)"
        )
    return text


def deployment_name(text: str) -> str:
    """An argparse type: a deployment name as ``deploy`` writes it (letters, digits, ``_.-``)."""
    from console.deployment_model import check_deployment_name

    try:
        return check_deployment_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def check_arguments(argv: list[str]) -> None:
    """Refuse arguments holding bytes that are not UTF-8 (one line, exit 2).

    Python carries undecodable argv bytes as lone surrogates; they would fail much later, deep in
    an HTTP request or a print, as an internal error.
    """
    from console.errors import UsageError

    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(
                f"argument '{printable(arg, limit=60)}' is not valid UTF-8",
                hint="retype it, or check the terminal's encoding (LANG/LC_ALL)",
            ) from None


def open_client(settings):
    """A client for the configured server, or the embedded one (started if needed).

    Progress of an embedded start goes to stderr so ``--json`` output stays one document.
    """
    from console.connection import resolve_tracking_uri
    from console.mlflow.client import MlflowRestClient

    def progress(message: str) -> None:
        print(printable(message), file=sys.stderr, flush=True)

    uri = resolve_tracking_uri(settings, progress)
    return MlflowRestClient.from_settings(settings, tracking_uri=uri)
