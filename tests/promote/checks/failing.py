"""Stand-in invariance module for the gate's contract: one check fails (exit 1, JSON on stdout)."""

import json
import sys

print(
    json.dumps(
        {
            "passed": False,
            "rows": 3,
            "checks": [
                {"name": "column_order", "passed": True, "detail": "ok"},
                {"name": "repo_name", "passed": False, "detail": "2 of 3 predictions changed"},
            ],
        }
    )
)
sys.exit(1)
