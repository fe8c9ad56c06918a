"""Which rows a data correction changed, named as an operator looks them up: the columns whose
values changed and the changed rows by the columns that identify them (the compare screen said
only ``6 rows changed``)."""

from __future__ import annotations

import pandas as pd

from commands.diagnose_causes import rank_causes
from commands.probe import _which_rows
from console.diagnosis_model import Difference
from console.provenance.collect import PARAM_SNAPSHOT
from console.provenance.model import SnapshotChange


def _frames(rows_old: list[dict], rows_new: list[dict]):
    old, new = pd.DataFrame(rows_old).astype(str), pd.DataFrame(rows_new).astype(str)
    columns = list(old.columns)
    counted = [f.groupby(columns).size().rename("n").reset_index() for f in (old, new)]
    merged = counted[0].merge(counted[1], on=columns, how="outer", suffixes=("_old", "_new"))
    merged = merged.fillna({"n_old": 0, "n_new": 0})
    delta = merged["n_new"] - merged["n_old"]
    return new, merged[delta < 0], merged[delta > 0], columns


def _table(corrections: dict[tuple[str, int], int]) -> tuple[list[dict], list[dict]]:
    """Another team's weekly table: repo, week, a float feature, a label; some labels fixed."""
    old, new = [], []
    for r, repo in enumerate(("acme/api", "acme/web", "acme/cli")):
        for week in range(1, 9):
            row = {"repo": repo, "week": week, "churn": 0.1 * week + r, "commits": week + r}
            old.append(row)
            fixed = corrections.get((repo, week))
            new.append({**row, "commits": fixed} if fixed is not None else row)
    return old, new


def test_an_update_names_the_changed_column_and_the_rows_by_their_keys() -> None:
    old, new = _table({("acme/web", 3): 99, ("acme/api", 7): 0})
    found = _which_rows(*_frames(old, new))
    assert found["changed_columns"] == ["commits"]
    # the fewest-valued unchanged columns name the rows; the float feature is not a key
    assert found["changed_rows"] == ["repo=acme/api, week=7", "repo=acme/web, week=3"]
    assert found["changed_rows_more"] == 0


def test_many_changed_rows_are_counted_beyond_the_first_five() -> None:
    old, new = _table({("acme/cli", w): 50 + w for w in range(1, 9)})
    found = _which_rows(*_frames(old, new))
    assert len(found["changed_rows"]) == 5 and found["changed_rows_more"] == 3
    assert found["changed_rows"][0] == "repo=acme/cli, week=1"


def test_rows_only_added_are_named_too() -> None:
    old, new = _table({})
    new = [*new, {"repo": "acme/new", "week": 1, "churn": 9.5, "commits": 4}]
    found = _which_rows(*_frames(old, new))
    assert found["changed_columns"] == []
    assert any("repo=acme/new" in row for row in found["changed_rows"]), found


def test_the_data_cause_says_which_rows() -> None:
    change = SnapshotChange(
        table="lake.git.commits", older="1", newer="2", related=True,
        rows_only_older=2, rows_only_newer=2, changed_columns=["commits"],
        changed_rows=["repo=acme/api, week=7", "repo=acme/web, week=3"],
    )  # fmt: skip
    diff = Difference(kind="data", key=PARAM_SNAPSHOT, left="1", right="2")
    causes = rank_causes([diff], snapshot_change=change)
    summary = causes[0].summary
    assert "2 rows changed" in summary
    assert "changed: commits" in summary
    assert "rows: repo=acme/api, week=7; repo=acme/web, week=3" in summary
