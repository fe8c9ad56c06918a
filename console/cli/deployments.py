"""``mlops-console deployments``: every embedded and production deployment, in sync or not."""

from __future__ import annotations

import argparse

from console.cli._common import print_json, table


def register(subparsers, add_globals) -> None:
    parser = subparsers.add_parser(
        "deployments",
        help="list embedded deployments and the profile's production endpoints: health, "
        "served vs alias version, requests, errors, latency",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(parser)
    parser.set_defaults(handler=_list)


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _list(args: argparse.Namespace, settings) -> int:
    from commands.deployments import list_deployments

    rows = list_deployments(settings)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no deployments (start one with `mlops-console deploy MODEL --alias A`)")
        return 0
    cells = []
    for r in rows:
        sync = {True: "in sync", False: "OUT OF SYNC", None: "?"}[r.in_sync]
        cells.append(
            [
                r.name,
                r.kind,
                r.state,
                "yes" if r.healthy else "NO",
                f"{r.model}@{r.alias}",
                r.served_version or "?",
                r.alias_version or "?",
                sync,
                _num(r.requests, "d"),
                "-" if r.error_rate is None else f"{r.error_rate * 100:.1f}%",
                _num(r.latency_p50_ms, ".1f"),
                _num(r.latency_p95_ms, ".1f"),
                r.url,
            ]
        )
    table(
        cells,
        [
            "NAME",
            "KIND",
            "STATE",
            "HEALTHY",
            "MODEL@ALIAS",
            "SERVED",
            "ALIAS",
            "SYNC",
            "REQ",
            "ERR",
            "P50MS",
            "P95MS",
            "URL",
        ],
    )
    for r in rows:
        if r.detail and (r.state != "running" or not r.healthy or r.in_sync is not True):
            print(f"{_safe(r.name)}: {_safe(r.detail)}")
    return 0


def _safe(text: str) -> str:
    from console.safe_text import printable

    return printable(text, limit=300)
