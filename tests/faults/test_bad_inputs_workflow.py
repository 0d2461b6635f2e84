"""The bad-input matrix through the whole data layer with ``on_bad_input: skip``: the run
completes, every bad item is in results/bad_inputs/*.csv with its reason, and the tables
count only the good videos. With ``on_bad_input: error`` the same inputs stop the run
before any frame is extracted, naming a bad file."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from irpipe.errors import read_bad_inputs

from . import workflow_helpers as W

pytestmark = [pytest.mark.workflow, pytest.mark.slow]


def _bad_matrix(root: Path) -> tuple[dict, dict[str, str]]:
    """Good inputs plus one of each bad kind; returns (config, {bad item: expected reason})."""
    cfg = W.good_dataset(root, per_class=2)
    rec, det = root / "rec", root / "det"
    expect: dict[str, str] = {}

    p = rec / "fight" / "zero_bytes.avi"
    p.write_bytes(b"")
    expect[str(p)] = "empty"

    full = W.write_video(root / "scratch" / "full.avi", 40, seed=7)
    p = rec / "fight" / "truncated.avi"
    p.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    expect[str(p)] = "truncated|no decoder"

    p = rec / "walk" / "not_a_video.avi"
    p.write_text("these are field notes, not a video\n" * 50)
    expect[str(p)] = "no decoder"

    p = W.write_video(rec / "walk" / "too_short.avi", 5, seed=8)
    expect[str(p)] = "too short"

    p = rec / "walk" / "unreadable.avi"
    if os.geteuid() == 0:  # root reads any file: a link to nowhere is what root cannot read
        os.symlink(root / "scratch" / "deleted.avi", p)
        expect[str(p)] = "does not exist"
    else:
        W.write_video(p, 18, seed=9)
        os.chmod(p, 0)
        expect[str(p)] = "not readable"

    (rec / "jump").mkdir()  # a configured class whose folder holds no video
    (rec / "jump" / "README.txt").write_text("videos go here\n")
    expect[str(rec / "jump")] = "no videos"
    cfg["dataset"]["recognition"]["classes"] = W.REC_CLASSES + ["jump"]
    # ... which the splits stage then reports as a class without usable videos.
    expect["class:jump"] = "0 usable videos"

    ann = pd.read_csv(det / "annotations.csv")
    n_good_ann = len(ann)
    bad_rows = pd.DataFrame([("ghost", "drop", 1.0, 2.0, "train"),      # video missing
                             ("det_train", "drop", 3.0, 3.0, "train"),  # t_end <= t_start
                             ("det_test", "hug", 4.0, 2.5, "test")],
                            columns=ann.columns)
    pd.concat([ann, bad_rows]).to_csv(det / "annotations.csv", index=False)
    csv = det / "annotations.csv"
    expect[f"{csv}:{n_good_ann + 2}"] = "ghost"
    expect[f"{csv}:{n_good_ann + 3}"] = r"t_end \(3.0\) <= t_start"
    expect[f"{csv}:{n_good_ann + 4}"] = r"t_end \(2.5\) <= t_start"
    return cfg, expect


def test_bad_input_matrix_is_recorded_and_skipped(tmp_path):
    cfg, expect = _bad_matrix(tmp_path / "inputs")
    cfg["on_bad_input"] = "skip"
    wd = tmp_path / "wd"
    W.snakemake(wd, cfg, W.DATA_TARGETS)

    bad = read_bad_inputs(sorted((wd / "results" / "bad_inputs").glob("*.csv")))
    print(bad.to_string())
    for item, reason in expect.items():
        rows = bad[bad["item"] == item]
        assert len(rows) == 1, f"{item} is not (or more than once) in the bad-inputs table"
        assert rows["reason"].str.contains(reason, regex=True).all(), (item, rows["reason"].tolist())
    assert len(bad) == len(expect), "unexpected extra bad items:\n" + bad.to_string()
    assert (bad["stage"] != "").all() and set(bad["dataset"]) == {"recognition", "detection"}

    good_rec = {f"{c}_{j}" for c in W.REC_CLASSES for j in range(2)}
    rec_dir = wd / "results" / "data" / "recognition"
    manifest = pd.read_csv(rec_dir / "manifest.csv", dtype={"video_id": str})
    assert set(manifest["video_id"]) == good_rec
    summary = pd.read_csv(rec_dir / "flow_summary.csv", dtype={"video_id": str})
    assert set(summary["video_id"]) == good_rec and (summary["n_pairs"] == 17).all()
    splits = pd.read_csv(rec_dir / "splits.csv", dtype={"video_id": str})
    assert set(splits["video_id"]) <= good_rec
    assert set(W.stores(wd, "frames")) == {f"recognition/{v}" for v in good_rec} | {
        "detection/det_train", "detection/det_test"}

    det_dir = wd / "results" / "data" / "detection"
    det_manifest = pd.read_csv(det_dir / "manifest.csv")
    assert sorted(det_manifest["video_id"]) == ["det_test", "det_train"]
    ann = pd.read_csv(det_dir / "annotations.csv")
    assert len(ann) == 4 and (ann["t_end"] > ann["t_start"]).all() and "ghost" not in set(ann["video_id"])
    assert len(pd.read_csv(det_dir / "flow_summary.csv")) == 2


def test_bad_input_stops_the_run_under_error(tmp_path):
    cfg, expect = _bad_matrix(tmp_path / "inputs")
    cfg["on_bad_input"] = "error"
    cfg = W.recognition_only(cfg)
    wd = tmp_path / "wd"
    proc = W.snakemake(wd, cfg, W.REC_TARGETS, check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    named = [item for item in expect if item in text]
    assert named, "the failure does not name any bad input:\n" + text[-3000:]
    assert not (wd / "results" / "frames").exists() or not any((wd / "results" / "frames").rglob("*.h5"))
