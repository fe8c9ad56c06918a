"""``mlops-console invariance MODEL VERSION [--rows FILE] [--json]``: the signature-derived checks.

Runs ``commands.invariance_signature`` against the version in a process of its own — forked by the
home's model worker (``commands.model_worker``), or a plain one — (progress on stderr, Ctrl-C
stops it) and prints each result; exit 0 when all pass, 1 when one fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from console.cli._common import open_client, print_json, run_async, version_arg
from console.safe_text import printable

MODULE = "commands.invariance_signature"
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 600.0


def register(subparsers, add_globals) -> None:
    parser = subparsers.add_parser(
        "invariance",
        help="signature-derived invariance checks of a model version",
        description=(
            "Load the version as a pyfunc model and check, on rows made from its input example "
            "and signature: column order does not matter, an extra column is ignored, a row "
            "scored alone equals the row in a batch, integer columns given as floats give the "
            "same answers, and loading twice gives the same predictions."
        ),
    )
    parser.add_argument("model", metavar="MODEL")
    parser.add_argument("version", metavar="VERSION", type=version_arg)
    parser.add_argument("--rows", metavar="FILE", help="check these rows (CSV, Parquet, JSONL)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(parser)
    parser.set_defaults(handler=_handle)


async def _target(args: argparse.Namespace, settings) -> str:
    async with open_client(settings) as client:
        await client.get_model_version(args.model, args.version)  # unknown: one-line error
        return client.tracking_uri


async def _run(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    import asyncio
    import contextlib
    import os
    import signal

    from commands.model_worker import spawn

    proc = await spawn(argv, env=env, cwd=ROOT)

    async def relay() -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line.startswith("progress: "):
                print(f"invariance: {printable(line[10:])}", file=sys.stderr, flush=True)

    try:
        assert proc.stdout is not None
        out, _ = await asyncio.wait_for(asyncio.gather(proc.stdout.read(), relay()), TIMEOUT_S)
        await proc.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        raise
    return proc.returncode or 0, out.decode("utf-8", "replace")


def _handle(args: argparse.Namespace, settings) -> int:
    from commands.probe_runner import child_env
    from console.cli.diagnose import check_rows_file
    from console.errors import ConsoleError

    rows = check_rows_file(args.rows) if args.rows else None
    tracking_uri = run_async(lambda: _target(args, settings))
    uri = f"models:/{args.model}/{args.version}"
    argv = [sys.executable, "-m", MODULE, "--model-uri", uri, "--tracking-uri", tracking_uri]
    argv += ["--json", "--progress"] + (["--rows", rows] if rows else [])
    try:
        code, out = run_async(lambda: _run(argv, child_env(settings)))
    except TimeoutError:
        raise ConsoleError(f"the invariance checks took longer than {TIMEOUT_S:g} s") from None
    try:
        doc = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ConsoleError(f"the invariance checks ended without a result (exit {code})") from None
    if "error" in doc:
        raise ConsoleError(str(doc["error"]))
    if args.json:
        print_json(doc)
    else:
        print(f"{printable(args.model)} version {printable(args.version)}: {doc['rows']:,} rows")
        for check in doc["checks"]:
            mark = "PASS" if check["passed"] else "FAIL"
            print(f"{mark}  {printable(check['name'])}: {printable(check['detail'], limit=300)}")
    return 0 if doc.get("passed") else 1
