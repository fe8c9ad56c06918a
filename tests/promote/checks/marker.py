"""Stand-in invariance module that leaves a mark when it starts, then passes (exit 0).

The mark (a file named after the model URI in the temp directory, which the gate's allow-listed
environment passes on) is how a test tells that the invariance gate never started.
"""

import json
import sys

from tests.promote.checks import mark_path

uri = sys.argv[sys.argv.index("--model-uri") + 1]
mark_path(uri).write_text("started\n")
print(json.dumps({"passed": True, "rows": 1, "checks": [{"name": "marked", "passed": True}]}))
