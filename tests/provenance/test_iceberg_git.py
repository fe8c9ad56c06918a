"""Snapshot facts read without pyiceberg match what pyiceberg itself reads from the same real
tables; commit facts, log and diffstat come from a real git repository."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console import gitinfo
from console.iceberg import IcebergError, SnapshotReader, split_table
from console.provenance.model import SnapshotFacts
from tests.provenance.world import make_repo, make_table
from tests.support.servers import git_available


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("lake-home")
    catalog, snapshots = make_table(home)
    return home, catalog, snapshots


def test_fast_path_matches_pyiceberg(lake) -> None:
    home, catalog, _ = lake
    table = catalog.load_table(("ml", "points"))
    reader = SnapshotReader({"lake": home / "iceberg" / "catalog.db"}, pyiceberg_fallback=False)
    facts = asyncio.run(reader.snapshots("lake.ml.points"))
    theirs = {str(s.snapshot_id): s for s in table.snapshots()}
    assert set(facts) == set(theirs)
    for sid, snap in theirs.items():
        mine = facts[sid]
        assert mine.timestamp_ms == snap.timestamp_ms
        assert mine.parent_id == (str(snap.parent_snapshot_id) if snap.parent_snapshot_id else None)
        assert mine.operation == snap.summary.operation.value
        assert mine.total_records == int(snap.summary["total-records"])
        assert mine.added_records == (
            int(snap.summary["added-records"]) if "added-records" in snap.summary else None
        )
    current = str(table.current_snapshot().snapshot_id)
    assert facts[current].is_current and "main" in facts[current].refs


def test_change_between_snapshots_walks_the_chain(lake) -> None:
    home, _, (a, b) = lake
    reader = SnapshotReader({"lake": home / "iceberg" / "catalog.db"}, pyiceberg_fallback=False)
    forward = asyncio.run(reader.change("lake.ml.points", a, b))
    backward = asyncio.run(reader.change("lake.ml.points", b, a))
    assert forward == backward
    assert forward.older == a and forward.newer == b and forward.related
    # pyiceberg's filtered overwrite: a rewrite of the file, then the replacement rows
    assert forward.chain[-1].snapshot_id == b
    assert forward.total_before == 60 and forward.total_after == 60
    assert forward.added_records and forward.deleted_records


def test_pyiceberg_fallback_reads_the_same_snapshot(lake) -> None:
    """No sqlite path known: pyiceberg's load_catalog, configured by its own environment
    variables (read when pyiceberg is imported, hence a fresh interpreter)."""
    home, _, (_, b) = lake
    env = {
        **os.environ,
        "PYICEBERG_CATALOG__LAKE__URI": f"sqlite:///{home / 'iceberg/catalog.db'}",
        "PYICEBERG_CATALOG__LAKE__TYPE": "sql",
    }
    code = (
        "import asyncio, sys; from console.iceberg import SnapshotReader; "
        "r = SnapshotReader({}); "
        "print(asyncio.run(r.snapshot('lake.ml.points', sys.argv[1])).model_dump_json())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, b], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    fast = SnapshotReader({"lake": home / "iceberg" / "catalog.db"}, pyiceberg_fallback=False)
    assert SnapshotFacts.model_validate_json(out.stdout) == asyncio.run(
        fast.snapshot("lake.ml.points", b)
    )


def test_unknown_snapshot_and_table_are_one_line_errors(lake) -> None:
    home, _, _ = lake
    reader = SnapshotReader({"lake": home / "iceberg" / "catalog.db"}, pyiceberg_fallback=False)
    with pytest.raises(IcebergError, match=r"not in lake\.ml\.points"):
        asyncio.run(reader.snapshot("lake.ml.points", "123"))
    with pytest.raises(IcebergError, match="not in any known"):
        asyncio.run(reader.snapshot("lake.ml.nope", "123"))
    assert split_table("git.commits", "lake") == ("lake", "git", "commits")


@pytest.mark.skipif(not git_available(), reason="git is not installed")
def test_git_commit_log_and_diffstat(tmp_path: Path) -> None:
    repo = tmp_path / "code"
    c1, c2 = make_repo(repo)
    assert gitinfo.find_clone(repo.as_uri()) == repo
    assert gitinfo.find_clone("https://git.example/x.git", {"https://git.example/x": repo}) == repo
    assert gitinfo.find_clone("https://git.example/other") is None
    facts = asyncio.run(gitinfo.commit(repo, c2))
    assert facts.subject == "training code step 2" and facts.author == "Test Trainer"
    assert facts.parents == [c1]
    span = asyncio.run(gitinfo.between(repo, c2, c1))
    assert (span.older, span.newer, span.related) == (c1, c2, True)
    assert [c.sha for c in span.commits] == [c2]
    assert [(f.path, f.insertions, f.deletions) for f in span.files] == [("train.py", 2, 1)]
    with pytest.raises(gitinfo.GitError):
        asyncio.run(gitinfo.commit(repo, "0" * 40))
