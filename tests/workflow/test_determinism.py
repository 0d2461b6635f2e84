"""Determinism: the same config and seed on the same machine give identical tables and
stores. The workflow runs twice into two folders and every table (CSV under results/data
and results/tables) and every HDF5 store is compared exactly.

By default the runs cover the data layer (manifests, splits, frames, flow and their
summary tables) of the small generated dataset shared with the fault tests, which keeps
CI cheap. ``IRPIPE_DETERMINISM_TARGETS="all"`` (or a space-separated list of targets)
runs the tiny preset's whole DAG instead, every stage's paper tables included, for a
release check: ``IRPIPE_DETERMINISM_TARGETS=all pytest tests/workflow/test_determinism.py``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from tests.faults import workflow_helpers as W

pytestmark = [pytest.mark.workflow, pytest.mark.slow]


def _tables(wd: Path) -> dict[str, Path]:
    out = {}
    for sub in ("data", "tables", "bad_inputs"):
        root = wd / "results" / sub
        out.update({str(p.relative_to(wd)): p for p in sorted(root.rglob("*.csv"))} if root.is_dir() else {})
    return out


def _compare(a: Path, b: Path) -> tuple[int, int]:
    ta, tb = _tables(a), _tables(b)
    assert sorted(ta) == sorted(tb)
    for name in ta:
        da, db = pd.read_csv(ta[name]), pd.read_csv(tb[name])
        pd.testing.assert_frame_equal(da, db, check_exact=True, obj=name)
    md = {p.relative_to(a): p for p in (a / "results" / "tables").glob("*.md")} \
        if (a / "results" / "tables").is_dir() else {}
    for rel, p in md.items():
        assert p.read_text() == (b / rel).read_text(), rel
    n_stores = W.assert_same_results(a, b)
    return len(ta), n_stores


def test_two_runs_give_identical_tables(tmp_path):
    targets = os.environ.get("IRPIPE_DETERMINISM_TARGETS", "").split()
    if not targets:
        ref, config = W.reference_run()
        second = tmp_path / "second"
        W.snakemake(second, config, W.REC_TARGETS)
        n_tables, n_stores = _compare(ref, second)
        assert n_tables >= 3 and n_stores == 2 * len(W.expected_frames(ref))
        return
    # Release check: the tiny preset, whole DAG (or the named targets), twice.
    runs = []
    for name in ("first", "second"):
        wd = tmp_path / name
        cfg = W.write_config(wd, {})
        W.run(W.snakemake_cmd(wd, cfg, [] if targets == ["all"] else targets, preset=True), timeout=3600)
        runs.append(wd)
    n_tables, n_stores = _compare(*runs)
    print(f"{n_tables} tables and {n_stores} stores identical")
    assert n_tables > 0
