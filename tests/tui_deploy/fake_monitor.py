"""A stand-in for ``mlops-console monitor`` while the real command is not in this branch.

FAKE — used only when ``console.cli.monitor`` does not exist (issue 14 item 4 is built on another
branch). It takes the real command's arguments (``… monitor --alias A --json -- MODEL``) and prints
a report in the ``monitor --json`` contract: two of four features drifted, eight weeks of falling
accuracy, a retrain suggested. ``MLOPS_CONSOLE_FAKE_MONITOR_FAIL=1`` makes it fail like a broken
command (the name passes the allow-list of child environments).
"""

from __future__ import annotations

import json
import os
import sys


def main(argv: list[str]) -> int:
    if os.environ.get("MLOPS_CONSOLE_FAKE_MONITOR_FAIL"):
        print("Traceback (most recent call last):", file=sys.stderr)
        print("mlops-console: error: no inference log for this model yet", file=sys.stderr)
        return 1
    model = argv[argv.index("--") + 1]
    features = [("lag_1", 0.41, True), ("rolling_4", 0.33, True), ("dow", 0.02, False)]
    features.append(("\x1b[31mevil\u202e [b]x[/b]", 0.01, False))
    report = {
        "model": model,
        "version": "1",
        "drift": [{"feature": f, "statistic": s, "drifted": d} for f, s, d in features],
        "drift_share": 0.5,
        "performance": [
            {
                "window": f"2025-W{week:02d}",
                "metric": "accuracy",
                "value": round(0.82 - 0.03 * i, 2),
            }
            for i, week in enumerate(range(10, 18))
        ],
        "retrain_suggested": True,
        "reasons": ["drift share 50% over the threshold 30%", "accuracy 0.61 under 0.70"],
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
