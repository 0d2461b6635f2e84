"""End to end on the tiny set: cached features -> variants -> detections -> mAP -> tables."""

import numpy as np
import pandas as pd
import pytest
import torch

from irpipe.detection.features import extract_dataset, read_features
from irpipe.detection.pipeline import run_variant, training_seed, write_gt_files
from irpipe.detection.tables import TITLES, build_tables, table6
from irpipe.eval.detection import evaluate_files
from irpipe.report.tables import write_tables
from irpipe.workflow_logic import stores_in


@pytest.fixture(scope="module")
def features(tiny_detection):
    root, cfg = tiny_detection
    out = root / "features.h5"
    info = extract_dataset([f"vid{i}" for i in range(6)], stores_in([root / "frames"]), stores_in([root / "flow"]),
                           out, cfg["detection"],
                           seed=0, frame_size="i3d", bound=20.0)
    assert info["videos"] == 6 and info["ir_init"].startswith("random-init")
    return out


def _paths(root, features, **extra):
    return {"manifest": root / "manifest.csv", "annotations": root / "annotations.csv",
            "ambiguous": root / "ambiguous.csv", "classes": root / "classes.txt", "features": features,
            "frames": stores_in([root / "frames"]), "flow": stores_in([root / "flow"]), "bound": 20.0, **extra}


def test_feature_cache_shapes_and_determinism(tiny_detection, features, tmp_path):
    root, cfg = tiny_detection
    f = read_features(features)
    assert f["vid0"]["ir"].shape == (8, f["vid0"]["ir"].shape[1])  # 64 frames -> 8 snippets
    assert f["vid1"]["flow_tvl1"].shape[0] == 9                      # 72 frames -> 9 snippets
    again = tmp_path / "again.h5"
    extract_dataset(["vid0"], stores_in([root / "frames"]), stores_in([root / "flow"]), again, cfg["detection"], seed=0,
                    frame_size="i3d", bound=20.0)
    # same seed -> same extractor (equal up to float summation order across thread counts)
    assert np.allclose(read_features(again)["vid0"]["ir"], f["vid0"]["ir"], rtol=1e-4, atol=1e-5)


def test_seed_index_trains_another_run_and_eval_has_intervals(tiny_detection, features, tmp_path):
    root, cfg = tiny_detection
    dcfg = dict(cfg["detection"], train=dict(cfg["detection"]["train"], epochs=2), bootstrap={"resamples": 200})
    infos = [run_variant("ir", dcfg, 0, "error", _paths(root, features), tmp_path / f"s{k}", seed_index=k)
             for k in (0, 1)]
    assert [i["training_seed"] for i in infos] == [training_seed(0, 0), training_seed(0, 1)] == [600, 1600]
    assert [i["seed_index"] for i in infos] == [0, 1] and infos[0]["test_videos"] == ["vid4", "vid5"]
    a, b = np.load(tmp_path / "s0" / "scores.npz"), np.load(tmp_path / "s1" / "scores.npz")
    assert not np.allclose(a["vid4"], b["vid4"])  # another initialisation, another model
    # jobs of several runs (sharding.detection_runs_per_job) train them one after another in one
    # process: a run's result must not depend on what ran before it (the torch RNG, threads, caches)
    torch.rand(7)  # the global generator moved on, as another run's training moves it
    again = run_variant("ir", dcfg, 0, "error", _paths(root, features), tmp_path / "s0_again", seed_index=0)
    assert again["map"] == infos[0]["map"]
    for name in ("scores.npz", "detections.csv", "eval.csv"):
        assert (tmp_path / "s0_again" / name).read_bytes() == (tmp_path / "s0" / name).read_bytes(), name
    ev = pd.read_csv(tmp_path / "s1" / "eval.csv")
    assert list(ev.columns[:2]) == ["variant", "seed"] and (ev["seed"] == 1).all()
    assert {"ci90_low", "ci90_high"} <= set(ev.columns)
    m = ev[ev["class"] == "mAP"]
    assert (m["ci90_low"] <= m["ci90_high"]).all() and m["ci90_low"].between(0, 1).all()


@pytest.mark.slow
def test_variants_end_to_end_and_resume(tiny_detection, features, tmp_path):
    root, cfg = tiny_detection
    dcfg = cfg["detection"]
    out = {}
    for v in ["ir", "flow", "sca_tvl1"]:
        info = run_variant(v, dcfg, 0, "error", _paths(root, features), tmp_path / v)
        out[v] = info
        ev = pd.read_csv(tmp_path / v / "eval.csv")
        assert set(ev["class"]) == {"drop", "hug", "mAP"}
        assert ev["ap"].between(0, 1).all()
    info = run_variant("late", dcfg, 0, "error", _paths(root, features, ir_scores=tmp_path / "ir" / "scores.npz",
                                                        flow_scores=tmp_path / "flow" / "scores.npz"),
                       tmp_path / "late")
    a, b, c = (np.load(tmp_path / v / "scores.npz") for v in ["ir", "flow", "late"])
    assert np.allclose(c["vid4"], (a["vid4"] + b["vid4"]) / 2)
    info = run_variant("sca_fen", dcfg, 0, "error",
                       _paths(root, features, init=tmp_path / "sca_tvl1" / "model.pt"), tmp_path / "sca_fen")
    assert info["test_l1"] >= 0
    # same seed + config -> same scores; a finished checkpoint is resumed (no retraining)
    again = run_variant("sca_tvl1", dcfg, 0, "error", _paths(root, features), tmp_path / "sca_tvl1")
    assert again["map"] == out["sca_tvl1"]["map"]
    # the evaluator on the written THUMOS files gives the same numbers as the in-memory one
    write_gt_files(root / "annotations.csv", root / "classes.txt", root / "ambiguous.csv", tmp_path / "gt")
    res = evaluate_files(tmp_path / "gt", tmp_path / "ir" / "detections_thumos.txt", missing_gt="exclude")
    ev = pd.read_csv(tmp_path / "ir" / "eval.csv")
    assert np.allclose(res.map, ev[ev["class"] == "mAP"]["ap"].to_numpy(), atol=1e-4)
    # tables
    for v in ["ir_sa", "ca", "min", "max", "concat"]:
        run_variant(v, dict(dcfg, train=dict(dcfg["train"], epochs=2)), 0, "error", _paths(root, features),
                    tmp_path / v)
    evals = {v: tmp_path / v / "eval.csv" for v in ["ir", "flow", "late", "ir_sa", "ca", "sca_tvl1", "sca_fen",
                                                    "min", "max", "concat"]}
    tables = build_tables(evals)
    assert list(tables["infdet_table4"]["variant"]) == ["ir", "flow", "late", "ir_sa", "ca", "sca_tvl1", "sca_fen"]
    write_tables(tables, tmp_path / "tables", TITLES, note="synthetic")
    assert (tmp_path / "tables" / "infdet_table3.md").read_text().startswith("### Table III")


def test_table6_counts():
    t = table6()
    assert t.loc[0, "counted"] == 3_345_058
    assert t.loc[1, "counted"] == pytest.approx(5.329, abs=1e-3)
