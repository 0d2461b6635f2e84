"""Determinism: the same config and seed on the same machine give identical tables and
stores. The workflow runs twice into two folders and every table (CSV under results/data
and results/tables) and every HDF5 store is compared exactly.

The first run is the session's shared tiny-preset run (whole DAG, every stage's paper
tables); the second runs into another folder.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.faults import workflow_helpers as W
from tests.workflow.conftest import TINY, snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.slow]


# Records of the run, not results: the jobs' timings and memory (Snakemake benchmark: records).
RUN_RECORDS = {"results/tables/benchmarks.csv"}
RECOGNITION_TABLES = ("results/tables/table1.csv", "results/tables/table2.csv", "results/tables/table3.csv")


def _tables(wd: Path) -> dict[str, Path]:
    out = {}
    for sub in ("data", "tables", "bad_inputs"):
        root = wd / "results" / sub
        out.update({str(p.relative_to(wd)): p for p in sorted(root.rglob("*.csv"))} if root.is_dir() else {})
    return {k: v for k, v in out.items() if k not in RUN_RECORDS}


def _compare(a: Path, b: Path, datasets=None) -> tuple[int, int]:
    """Every table of run ``b`` equals run ``a``'s (``b`` may have run part of the DAG), and the
    stores of ``datasets``."""
    ta, tb = _tables(a), _tables(b)
    assert set(tb) <= set(ta), sorted(set(tb) - set(ta))
    for name in tb:
        da, db = pd.read_csv(ta[name]), pd.read_csv(tb[name])
        pd.testing.assert_frame_equal(da, db, check_exact=True, obj=name)
    md = {p.relative_to(b): p for p in (b / "results" / "tables").glob("*.md")} \
        if (b / "results" / "tables").is_dir() else {}
    for rel, p in md.items():
        assert p.read_text() == (a / rel).read_text(), rel
    n_stores = W.assert_same_results(a, b, datasets=datasets)
    return len(tb), n_stores


def test_two_runs_give_identical_tables_with_or_without_batching(tiny_run, tmp_path):
    """The tiny preset's whole DAG, twice: every paper table, data table and store identical.

    The first run (the tiny preset) batches the recognition clips' per-video stages (several videos
    per job); the second runs one job per video: batching changes where the work runs, not what
    it computes. The detection videos run one per job in both (the default), so the second run
    builds the recognition branch only (Tables 1-3 and everything they read)."""
    first, _ = tiny_run
    second = tmp_path / "second"
    overlay = tmp_path / "per_video.yaml"
    overlay.write_text("sharding: {videos_per_job: {recognition: 1, detection: 1}}\n")
    assert yaml.safe_load(TINY.read_text()).get("sharding", {}).get("videos_per_job", {}).get("detection", 1) == 1
    snakemake(second, *RECOGNITION_TABLES, configfiles=(TINY, overlay))
    batched = {p.parent.name for p in (first / "results/frames/recognition").glob("*/*.h5")}
    per_video = {p.parent.name for p in (second / "results/frames/recognition").glob("*/*.h5")}
    assert len(batched) < len(per_video) == 12, (batched, per_video)
    n_tables, n_stores = _compare(first, second, datasets=("recognition",))
    print(f"{n_tables} tables and {n_stores} stores identical")
    assert all((second / t).exists() for t in RECOGNITION_TABLES)
    assert n_tables >= 8 and n_stores >= 24
