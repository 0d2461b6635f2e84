"""Known-answer tests of the THUMOS14-protocol evaluator (and the ActivityNet option)."""
import numpy as np
import pandas as pd
import pytest

from irpipe.errors import BadInputError
from irpipe.eval.detection import evaluate, evaluate_files, interval_overlap, write_thumos_detections, write_thumos_gt


def gt_df(rows):
    return pd.DataFrame(rows, columns=["video_id", "label", "t_start", "t_end"])


def det_df(rows):
    return pd.DataFrame(rows, columns=["video_id", "t_start", "t_end", "label", "score"])


def test_overlap_known_values():
    ov = interval_overlap([[0, 10]], [[5, 15], [10, 20], [0, 10], [12, 11], [2, 4]])
    np.testing.assert_allclose(ov[0], [5 / 15, 0.0, 1.0, 0.0, 0.2])
    # reversed interval is reordered as in the toolkit
    assert interval_overlap([[10, 0]], [[0, 5]])[0, 0] == pytest.approx(0.5)


def test_perfect_detections_give_ap_one():
    gt = gt_df([("v1", "a", 1, 3), ("v1", "a", 5, 8), ("v2", "b", 0, 2)])
    det = det_df([("v1", 1, 3, "a", 0.9), ("v1", 5, 8, "a", 0.8), ("v2", 0, 2, "b", 0.5)])
    res = evaluate(gt, det, ["a", "b"])
    np.testing.assert_allclose(res.ap, 1.0)
    np.testing.assert_allclose(res.map, 1.0)


def test_duplicate_detection_is_false_positive():
    gt = gt_df([("v1", "a", 0, 10)])
    # the duplicate has a higher score than the original: ranking TP? first det matched, second FP
    det = det_df([("v1", 0, 10, "a", 0.9), ("v1", 0, 10, "a", 0.8)])
    res = evaluate(gt, det, ["a"], thresholds=[0.5])
    assert res.ap[0, 0] == pytest.approx(1.0)  # TP first: precision 1 at the only TP
    # duplicate ranked first among other class-a detections of another video: FP before the TP
    gt2 = gt_df([("v1", "a", 0, 10), ("v2", "a", 0, 10)])
    det2 = det_df([("v1", 0, 10, "a", 0.9), ("v1", 0, 10, "a", 0.8), ("v2", 0, 10, "a", 0.7)])
    res2 = evaluate(gt2, det2, ["a"], thresholds=[0.5])
    # ranks: TP(1/1), FP, TP(2/3) -> AP = (1 + 2/3) / 2
    assert res2.ap[0, 0] == pytest.approx((1 + 2 / 3) / 2)


def test_overlap_exactly_at_threshold_does_not_match():
    gt = gt_df([("v1", "a", 0, 10)])
    det = det_df([("v1", 0, 5, "a", 0.9)])  # IoU exactly 0.5
    res = evaluate(gt, det, ["a"], thresholds=[0.4, 0.5])
    assert res.ap[0, 0] == pytest.approx(1.0)
    assert res.ap[1, 0] == 0.0
    # ActivityNet uses >= : matches at 0.5
    res_an = evaluate(gt, det, ["a"], thresholds=[0.5], protocol="activitynet")
    assert res_an.ap[0, 0] == pytest.approx(1.0)


def test_class_without_detections_scores_zero_and_counts_in_mean():
    gt = gt_df([("v1", "a", 0, 10), ("v1", "b", 20, 30)])
    det = det_df([("v1", 0, 10, "a", 0.9)])
    res = evaluate(gt, det, ["a", "b"], thresholds=[0.5])
    assert res.ap[0].tolist() == [1.0, 0.0]
    assert res.map[0] == pytest.approx(0.5)


def test_gt_driven_matching_differs_from_score_greedy():
    # GT g1 [0,10], g2 [8,20]; d1 (0.9) [7,19] overlaps g1 0.2 and g2 ~0.846;
    # d2 (0.8) [0,9]: g1 0.9, g2 ~0.05. THUMOS: g1 takes d2 (best overlap), g2 takes d1.
    gt = gt_df([("v", "a", 0, 10), ("v", "a", 8, 20)])
    det = det_df([("v", 7, 19, "a", 0.9), ("v", 0, 9, "a", 0.8)])
    res = evaluate(gt, det, ["a"], thresholds=[0.1])
    assert res.ap[0, 0] == pytest.approx(1.0)
    # a case where GT order matters: one detection overlapping both GTs above threshold;
    # the first GT in file order takes it even though the second overlaps more.
    gt = gt_df([("v", "a", 0, 10), ("v", "a", 4, 12)])
    det = det_df([("v", 4, 11, "a", 0.9)])
    res = evaluate(gt, det, ["a"], thresholds=[0.3])
    assert res.ap[0, 0] == pytest.approx(0.5)


def test_ambiguous_overlap_removes_false_positive():
    gt = gt_df([("v", "a", 0, 10), ("w", "a", 0, 10)])
    amb = pd.DataFrame([("v", 30, 40)], columns=["video_id", "t_start", "t_end"])
    # FP overlapping the ambiguous segment ranked first; then two TPs
    det = det_df([("v", 32, 38, "a", 0.95), ("v", 0, 10, "a", 0.9), ("w", 0, 10, "a", 0.8)])
    with_amb = evaluate(gt, det, ["a"], thresholds=[0.5], ambiguous=amb)
    without = evaluate(gt, det, ["a"], thresholds=[0.5])
    assert with_amb.ap[0, 0] == pytest.approx(1.0)
    assert without.ap[0, 0] == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_hand_computed_ap_with_misses():
    gt = gt_df([("v", "a", 0, 10), ("v", "a", 20, 30), ("v", "a", 40, 50)])
    det = det_df([("v", 0, 10, "a", 0.9), ("v", 60, 70, "a", 0.8), ("v", 20, 29, "a", 0.7)])
    res = evaluate(gt, det, ["a"], thresholds=[0.5])
    assert res.ap[0, 0] == pytest.approx((1 + 2 / 3) / 3)


def test_missing_class_in_gt_policy():
    gt = gt_df([("v", "a", 0, 10)])
    det = det_df([("v", 0, 10, "a", 0.9)])
    with pytest.raises(BadInputError, match="class b"):
        evaluate(gt, det, ["a", "b"])
    res = evaluate(gt, det, ["a", "b"], missing_gt="exclude")
    assert res.excluded == ["b"]
    np.testing.assert_allclose(res.map, 1.0)


def test_files_roundtrip_and_cli(tmp_path, capsys):
    from irpipe.cli import main

    gt = gt_df([("v1", "a", 1, 3), ("v1", "b", 5, 8)])
    det = det_df([("v1", 1, 3, "a", 0.9), ("v1", 5.5, 8, "b", 0.4), ("v1", 20, 22, "b", 0.6)])
    write_thumos_gt(tmp_path, gt, ["a", "b"])
    (tmp_path / "detclasslist.txt").write_text("1 a\n2 b\n")
    write_thumos_detections(tmp_path / "det.txt", det, {"a": 1, "b": 2})
    res = evaluate_files(tmp_path, tmp_path / "det.txt", thresholds=[0.5])
    assert res.ap[0].tolist() == pytest.approx([1.0, 0.5])
    rc = main(["evaluate-detection", "--gt", str(tmp_path), "--detections", str(tmp_path / "det.txt"),
               "--tiou", "0.5", "--out", str(tmp_path / "out.csv")])
    assert rc == 0
    assert "0.7500" in capsys.readouterr().out
    out = pd.read_csv(tmp_path / "out.csv")
    assert out.loc[out["class"] == "mAP", "ap"].item() == pytest.approx(0.75)


def test_bad_detection_file(tmp_path):
    (tmp_path / "detclasslist.txt").write_text("1 a\n")
    (tmp_path / "a_test.txt").write_text("v 0 1\n")
    (tmp_path / "det.txt").write_text("v 0 x 1 0.5\n")
    with pytest.raises(BadInputError, match="det.txt"):
        evaluate_files(tmp_path, tmp_path / "det.txt")
