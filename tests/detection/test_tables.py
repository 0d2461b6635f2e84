"""Tables III-V of seed 001: every variant sits beside the paper's figure for the same method."""
import json

import numpy as np
import pandas as pd
import pytest

from irpipe.detection.tables import PAPER_MAP, TABLE3, TABLE4, TABLE5, build_tables, display_table, table_intervals

VARIANTS = sorted({v for _, v in TABLE3 + TABLE4 + TABLE5})


@pytest.fixture
def evals(tmp_path):
    out = {}
    for i, v in enumerate(VARIANTS):
        rows = [{"variant": v, "class": "mAP", "tiou": t, "ap": (i + 1) / 100 + t / 10} for t in (0.1, 0.2, 0.3, 0.4, 0.5)]
        rows.append({"variant": v, "class": "drop", "tiou": 0.5, "ap": 0.0})
        p = tmp_path / f"{v}.csv"
        pd.DataFrame(rows).to_csv(p, index=False)
        out[v] = p
    return out


def test_table3_tgm_row_is_the_late_fusion_variant(evals):
    t3 = build_tables(evals)["infdet_table3"].set_index("variant")
    assert list(t3.index) == ["late", "sca_fen"]
    assert [t3.loc["late", f"paper@{t}"] for t in ("0.1", "0.2", "0.3", "0.4", "0.5")] == [41.83, 40.12, 38.59, 36.70, 34.05]
    assert t3.loc["sca_fen", "paper@0.5"] == 37.83
    # our numbers come from the variant's own eval: late is VARIANTS.index("late") + 1
    k = VARIANTS.index("late") + 1
    assert t3.loc["late", "map@0.3"] == pytest.approx(k + 3.0)


def test_one_paper_figure_per_variant_across_tables(evals):
    tables = build_tables(evals)
    seen = {}
    for df in tables.values():
        for r in df.itertuples():
            val = df.loc[r.Index, "paper@0.5"]
            assert seen.setdefault(r.variant, val) == val, r.variant
    # the paper's identities: Table III TGM = Table IV two-stream = Table V late fusion (34.05);
    # SCA (TV-L1) in IV and V is 36.99; InfDetNet in III = SCA (FEN) in IV (37.83)
    assert seen == {"late": 34.05, "sca_fen": 37.83, "ir": 33.77, "flow": 25.69, "ir_sa": 33.81, "ca": 33.82,
                    "sca_tvl1": 36.99, "min": 35.49, "max": 34.60, "concat": 34.16}
    assert set(PAPER_MAP) == set(VARIANTS)


def _eval_csv(path, maps):
    rows = [{"variant": "x", "seed": 0, "class": "mAP", "tiou": t, "ap": m} for t, m in zip((0.1, 0.2, 0.3, 0.4, 0.5), maps)]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_several_seeds_give_the_mean_and_the_sample_std(tmp_path):
    runs = {v: [[0.05] * 5, [0.15] * 5] for v in VARIANTS}
    runs.update({"late": [[0.10, 0.20, 0.30, 0.40, 0.50], [0.20, 0.20, 0.20, 0.20, 0.20], [0.30, 0.50, 0.10, 0.00, 0.20]],
                 "sca_fen": [[0.40] * 5]})
    evals = {v: [_eval_csv(tmp_path / f"{v}{k}.csv", m) for k, m in enumerate(ms)] for v, ms in runs.items()}
    intervals = {v: {**{t: (1.0, 2.0) for t in ("0.1", "0.2", "0.3", "0.4", "0.5")}, "avg": (3.0, 4.0)} for v in runs}
    t3 = build_tables(evals, intervals)["infdet_table3"].set_index("variant")
    assert t3.loc["late", "n_seeds"] == 3 and t3.loc["sca_fen", "n_seeds"] == 1
    assert t3.loc["late", "map@0.1"] == pytest.approx(20.0)
    assert t3.loc["late", "std@0.1"] == pytest.approx(10.0)          # ddof=1: sqrt(((-10)^2 + 0 + 10^2) / 2)
    assert t3.loc["late", "std@0.5"] == pytest.approx(round(float(np.std([50, 20, 20], ddof=1)), 2))
    avgs = [np.mean(m) * 100 for m in runs["late"]]                 # avg over tIoU per run, then mean and std
    assert t3.loc["late", "map_avg"] == pytest.approx(round(np.mean(avgs), 2))
    assert t3.loc["late", "std_avg"] == pytest.approx(round(float(np.std(avgs, ddof=1)), 2))
    assert np.isnan(t3.loc["sca_fen", "std@0.5"]) and t3.loc["sca_fen", "map@0.5"] == pytest.approx(40.0)
    assert (t3.loc["late", "ci90_low@0.3"], t3.loc["late", "ci90_high_avg"]) == (1.0, 4.0)
    shown = display_table(t3.reset_index())
    assert list(shown["mAP@0.1"]) == ["20.00 ± 10.00", "40.00"]
    assert list(shown["90 % CI@0.5"]) == ["[1.00, 2.00]", "[1.00, 2.00]"]
    assert list(shown["paper@0.5"]) == ["34.05", "37.83"]
    t4 = build_tables(evals, intervals)["infdet_table4"].set_index("variant")
    assert t4.loc["ir", "map@0.5"] == pytest.approx(10.0) and t4.loc["ir", "n_seeds"] == 2


def test_a_single_path_per_variant_is_one_run(evals):
    t4 = build_tables(evals)["infdet_table4"]
    assert (t4["n_seeds"] == 1).all() and t4["std@0.5"].isna().all()
    assert not any(c.startswith("ci90") for c in t4.columns)  # intervals are given by the caller


def _run_files(tmp_path, name, gt, det, cfg, videos):
    """eval.csv (with intervals, as run_variant writes it), detections.csv and summary.json of one run."""
    from irpipe.detection.pipeline import bootstrap_detections, evaluate_detections, with_intervals

    ann = gt.assign(subset="test")
    res = evaluate_detections(det, ann, None, ["drop", "fight", "hug"], cfg)
    boot = bootstrap_detections([det], ann, None, ["drop", "fight", "hug"], cfg, videos, seed=0)
    d = tmp_path / name
    d.mkdir()
    with_intervals(res.table(), boot).to_csv(d / "eval.csv", index=False)
    det.to_csv(d / "detections.csv", index=False)
    (d / "summary.json").write_text(json.dumps({"test_videos": videos}))
    return d


def test_table_intervals_bootstrap_the_seed_mean_and_check_the_evaluations(tmp_path):
    from irpipe.config import validate_config
    from irpipe.detection.pipeline import BOOTSTRAP_OFFSET
    from irpipe.eval.bootstrap import bootstrap_detection
    from tests.eval.test_bootstrap import _dataset

    cfg = validate_config({"detection": {"bootstrap": {"resamples": 300}}})["detection"]
    gt, det0 = _dataset(11, n_videos=10)
    det1 = det0.assign(score=np.random.default_rng(1).permutation(det0["score"].to_numpy()))
    videos = sorted(set(gt["video_id"]) | {"quiet"})          # a test video with nothing in it
    gt.assign(subset="test").to_csv(tmp_path / "annotations.csv", index=False)
    r0, r1 = _run_files(tmp_path, "a0", gt, det0, cfg, videos), _run_files(tmp_path, "a1", gt, det1, cfg, videos)
    args = (tmp_path / "annotations.csv", None, ["drop", "fight", "hug"], cfg, 0)

    one, facts = table_intervals([("a", 0)], [r0 / "eval.csv"], [r0 / "detections.csv"], [r0 / "summary.json"], *args)
    assert facts == {"videos": 11, "resamples": 300}
    ev = pd.read_csv(r0 / "eval.csv")
    m = ev[ev["class"] == "mAP"]
    # one run: the table's interval is the run's own eval.csv interval
    got = np.array([one["a"][f"{t:.1f}"] for t in m["tiou"]])
    assert got == pytest.approx(np.c_[m["ci90_low"] * 100, m["ci90_high"] * 100])
    assert (m["ci90_low"] <= m["ap"]).all() and (m["ap"] <= m["ci90_high"]).all()

    two, _ = table_intervals([("a", 0), ("a", 1)], [r0 / "eval.csv", r1 / "eval.csv"],
                             [r0 / "detections.csv", r1 / "detections.csv"], [r0 / "summary.json", r1 / "summary.json"],
                             *args)
    ref = bootstrap_detection(gt, [det0, det1], ["drop", "fight", "hug"], cfg["eval"]["tiou"], videos=videos,
                              n_resamples=300, seed=BOOTSTRAP_OFFSET)
    assert np.array([two["a"][f"{t:.1f}"] for t in cfg["eval"]["tiou"]]) == pytest.approx(ref.map_interval() * 100)
    assert two["a"]["avg"] == pytest.approx(tuple(ref.avg_interval() * 100))

    # an evaluation that does not belong to its detections is an error naming the file
    pd.read_csv(r1 / "eval.csv").assign(ap=0.5).to_csv(r1 / "eval.csv", index=False)
    with pytest.raises(ValueError, match="a1/eval.csv.*stale"):
        table_intervals([("a", 0), ("a", 1)], [r0 / "eval.csv", r1 / "eval.csv"],
                        [r0 / "detections.csv", r1 / "detections.csv"], [r0 / "summary.json", r1 / "summary.json"], *args)
