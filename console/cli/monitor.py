"""``mlops-console monitor MODEL [--alias A] [--json]``: drift and realized performance.

The computation is ``commands.monitor.run_monitor`` (its heavy part in a worker process); this
module only prints. Exit 0 when nothing crosses the thresholds, 1 when a retrain is suggested.
"""

from __future__ import annotations

import argparse

from console.cli._common import print_json, run_async, say, table


def register(subparsers, add_globals) -> None:
    parser = subparsers.add_parser(
        "monitor",
        help="drift and realized performance of the version behind an alias",
        description=(
            "Compare the features the deployment has seen (the inference log) and the newest "
            "snapshot of the training table with the version's pinned training snapshot (scipy's "
            "KS / chi-square tests), and its realized performance per week as labels arrive "
            "against the holdout metric it was registered with. Exit 1 when a retrain is "
            "suggested."
        ),
    )
    parser.add_argument("model", help="registered model name")
    parser.add_argument("--alias", default="champion", help="the deployed alias (default champion)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_globals(parser)
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace, settings) -> int:
    from commands.monitor import run_monitor
    from console.promotion_model import check_alias

    try:
        check_alias(args.alias)
    except ValueError as exc:
        from console.errors import ConsoleError

        raise ConsoleError(str(exc)) from None
    report = run_async(lambda: run_monitor(settings, args.model, args.alias))
    if args.json:
        print_json(report)
        return 1 if report.retrain_suggested else 0
    say(
        f"{report.model} v{report.version} (alias {report.alias}) — trained on "
        f"{report.table or '?'}@{report.pinned_snapshot or '?'}, newest snapshot "
        f"{report.newest_snapshot or '?'}, {report.inference_rows} inference log rows"
    )
    if report.drift:
        rows = []
        for d in report.drift:
            shown = {s: f"{t.statistic:.3f} (p={t.p_value:.3g})" for s, t in d.sources.items()}
            rows.append(
                [
                    d.feature,
                    d.test or "-",
                    shown.get("inference_log", "-"),
                    shown.get("newest_snapshot", "-"),
                    "DRIFTED" if d.drifted else "ok",
                ]
            )
        table(rows, ["feature", "test", "inference log", "newest snapshot", "drift"])
        share = "-" if report.drift_share is None else f"{report.drift_share:.2f}"
        say(f"drift share: {share}")
    if report.performance:
        base = "" if report.baseline_value is None else f" (holdout {report.baseline_value:.3f})"
        say(f"realized performance per week{base}:")
        table(
            [[w.window, w.metric, f"{w.value:.3f}", w.rows, w.source] for w in report.performance],
            ["week", "metric", "value", "rows", "source"],
        )
    for gap in report.gaps:
        say(f"note: {gap}")
    if report.retrain_suggested:
        say("RETRAIN SUGGESTED:")
        for reason in report.reasons:
            say(f"  - {reason}")
        say(f"  run: mlops-console runbook run model-retrain --set model={report.model}")
        return 1
    say("no threshold crossed: no retrain suggested")
    return 0
