"""Stand-in invariance module that never finishes (the gate's timeout must kill it)."""

import time

time.sleep(600)
