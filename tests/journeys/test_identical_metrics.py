"""Journey 2, two identical-metric models: in the registry, versions 2 and 3 of the demo (same
holdout metrics, different predictions) marked with ``m`` ``m`` and compared with ``c``; the
compare screen says the metrics are equal and names the likely cause; ``p`` runs the prediction
probe and its disagreements show row by row; ``v`` opens the whole text; and ``p`` on a version
opens its provenance."""

from __future__ import annotations

import re
from pathlib import Path

from tests.journeys.conftest import SIZES
from tests.journeys.harness import START_S

MODEL = "next-week-commits"
PROBE_S = 240.0  # the probe loads both models and predicts the held-out rows


@SIZES
def test_two_identical_metric_models(journey, copy_demo_home: Path, size) -> None:
    op = journey(copy_demo_home, *size)
    op.start("--read-only")  # nothing here changes anything
    op.wait_for("connected", START_S, where="header")
    op.press("2")
    op.wait_for(re.compile(rf"Versions · {MODEL} · 3"), 60)
    op.press("Enter")  # into the versions: the cursor is on the newest, version 3
    op.wait_for(re.compile(r"version 3"), 30)
    op.press("m", "j", "m", "c")  # mark 3, down to 2, mark it, compare
    op.wait_for(re.compile(rf"Compare · {MODEL} · version 2 ↔ version 3"), 60)
    op.wait_for("Metrics exactly equal", 120)
    op.wait_for(re.compile(r"trained on different snapshots\s+of lake\.git\.commits"), 120)

    op.press("p")  # the prediction probe
    op.wait_for(re.compile(r"probe: done .*\d+ of \d+ rows predicted differently"), PROBE_S)
    op.press("NPage")  # at 80×24 the predictions are below the fold
    op.wait_for(re.compile(r"v2 says\s+v3 says"), 30)
    op.wait_for(re.compile(r"repo=acme/[\w-]+, week=\d+"), 30)  # a row they disagree on

    op.press("v")  # the whole text, wrapped to the width
    op.wait_for(re.compile(r"Compare · next-week-commits · v2 ↔ v3"), 30)
    op.wait_for(re.compile(r"\[data\] trained on different snapshots of lake\.git\.commits"), 30)
    op.press("Escape")
    op.wait_for(re.compile(rf"Compare · {MODEL} · version 2 ↔ version 3"), 30)
    op.press("Escape")
    op.wait_for(re.compile(rf"Versions · {MODEL} · 3"), 30)

    op.press("p")  # provenance of the version under the cursor (2)
    op.wait_for(re.compile(rf"Provenance · {MODEL} · version 2"), 60)
    op.wait_for("lake.git.commits", 120)
    op.wait_for("scenario-before-correction", 60)
