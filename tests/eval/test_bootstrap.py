"""Bootstrap intervals over test videos: known answers and an independent brute force."""
import time

import numpy as np
import pandas as pd
import pytest

from irpipe.eval.bootstrap import (
    bootstrap_detection,
    paired_difference_interval,
    resample_counts,
    resample_indices,
    weighted_ap,
)
from irpipe.eval.detection import evaluate

CLASSES = ["drop", "fight", "hug"]
TIOUS = (0.1, 0.3, 0.5)


def _video(rng, vid, n_gt=3, n_noise=3):
    """Ground truth of one video and detections near it (jittered) plus noise, continuous scores."""
    gt, det = [], []
    for _ in range(n_gt):
        c = CLASSES[rng.integers(len(CLASSES))]
        s = rng.uniform(0, 50)
        e = s + rng.uniform(1, 8)
        gt.append((vid, c, s, e))
        if rng.random() < 0.8:
            js, je = rng.normal(0, 1.0, 2)
            det.append((vid, s + js, max(s + js + 0.2, e + je), c, rng.uniform(0.3, 1.0)))
    for _ in range(n_noise):
        s = rng.uniform(0, 55)
        det.append((vid, s, s + rng.uniform(0.5, 6), CLASSES[rng.integers(len(CLASSES))], rng.uniform(0, 0.8)))
    return gt, det


def _dataset(seed=0, n_videos=8, n_gt=3):
    rng = np.random.default_rng(seed)
    gt, det = [], []
    for i in range(n_videos):
        g, d = _video(rng, f"v{i}", n_gt=n_gt)
        gt += g
        det += d
    return (pd.DataFrame(gt, columns=["video_id", "label", "t_start", "t_end"]),
            pd.DataFrame(det, columns=["video_id", "t_start", "t_end", "label", "score"]))


def _resampled(df, draw, videos):
    """The data of the drawn videos, each copy renamed (video#k) so that it is a video of its own."""
    parts = []
    for k, i in enumerate(sorted(draw)):
        part = df[df["video_id"] == videos[i]].copy()
        part["video_id"] = part["video_id"] + f"#{k:03d}"
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("protocol", ["thumos14", "activitynet"])
def test_each_resample_equals_evaluate_on_the_resampled_videos(protocol):
    """The brute force: build every drawn copy as a separate video and run the evaluator."""
    gt, det = _dataset(1)
    amb = pd.DataFrame({"video_id": ["v2", "v5"], "t_start": [10.0, 30.0], "t_end": [20.0, 41.0]})
    if protocol == "activitynet":
        amb = None
    res = bootstrap_detection(gt, [det], CLASSES, TIOUS, protocol, ambiguous=amb, n_resamples=25, seed=7)
    draws = resample_indices(len(res.videos), 25, 7)
    for b in range(25):
        g, d = _resampled(gt, draws[b], res.videos), _resampled(det, draws[b], res.videos)
        a = _resampled(amb, draws[b], res.videos) if amb is not None and any(
            res.videos[i] in ("v2", "v5") for i in draws[b]) else None
        ref = evaluate(g, d, CLASSES, TIOUS, protocol, ambiguous=a, missing_gt="exclude")
        assert res.map[b, 0] == pytest.approx(ref.map, abs=1e-12)
        for ci, c in enumerate(CLASSES):
            if c in ref.excluded:
                assert np.isnan(res.ap[b, 0, :, ci]).all()
            else:
                assert res.ap[b, 0, :, ci] == pytest.approx(ref.ap[:, ci], abs=1e-12)


@pytest.mark.parametrize("protocol", ["thumos14", "activitynet"])
def test_all_weights_one_is_the_evaluator_even_with_tied_scores(protocol):
    gt, det = _dataset(2)
    det["score"] = (det["score"] * 4).round() / 4  # many exact ties across videos
    res = bootstrap_detection(gt, [det], CLASSES, TIOUS, protocol, n_resamples=5)
    ref = evaluate(gt, det, CLASSES, TIOUS, protocol, missing_gt="exclude")
    assert res.full_map[0] == pytest.approx(ref.map, abs=1e-12)
    assert res.full_ap[0] == pytest.approx(ref.ap, abs=1e-12)


@pytest.mark.parametrize("protocol", ["thumos14", "activitynet"])
def test_identical_videos_give_a_zero_width_interval_at_the_map(protocol):
    rng = np.random.default_rng(3)
    g0, d0 = _video(rng, "x", n_gt=4, n_noise=4)
    gt = pd.DataFrame([(f"v{i}", *r[1:]) for i in range(6) for r in g0], columns=["video_id", "label", "t_start", "t_end"])
    det = pd.DataFrame([(f"v{i}", *r[1:]) for i in range(6) for r in d0],
                       columns=["video_id", "t_start", "t_end", "label", "score"])
    res = bootstrap_detection(gt, [det], CLASSES, TIOUS, protocol, n_resamples=200, seed=1)
    full = evaluate(gt, det, CLASSES, TIOUS, protocol, missing_gt="exclude").map
    assert full.max() > 0
    lo_hi = res.map_interval()
    assert lo_hi[:, 0] == pytest.approx(full, abs=1e-12) and lo_hi[:, 1] == pytest.approx(full, abs=1e-12)


def test_interval_contains_the_full_map_and_narrows_with_more_videos():
    widths = []
    for n in (8, 64):
        gt, det = _dataset(4, n_videos=n)
        res = bootstrap_detection(gt, [det], CLASSES, TIOUS, n_resamples=500, seed=0)
        lo_hi = res.map_interval()
        assert (lo_hi[:, 0] <= res.full_map[0]).all() and (res.full_map[0] <= lo_hi[:, 1]).all()
        assert (lo_hi[:, 1] > lo_hi[:, 0]).all()
        widths.append((lo_hi[:, 1] - lo_hi[:, 0]).mean())
    assert widths[1] < widths[0] * 0.7  # ~ 1/sqrt(8) in theory


def test_seeds_share_the_draws_and_the_interval_is_of_the_seed_mean():
    gt, det_a = _dataset(5)
    det_b = det_a.assign(score=np.random.default_rng(9).permutation(det_a["score"].to_numpy()))
    both = bootstrap_detection(gt, [det_a, det_b], CLASSES, TIOUS, n_resamples=300, seed=2)
    a = bootstrap_detection(gt, [det_a], CLASSES, TIOUS, n_resamples=300, seed=2)
    b = bootstrap_detection(gt, [det_b], CLASSES, TIOUS, n_resamples=300, seed=2)
    assert both.map[:, 0] == pytest.approx(a.map[:, 0]) and both.map[:, 1] == pytest.approx(b.map[:, 0])
    assert not np.allclose(a.map, b.map)
    mean = (a.map[:, 0] + b.map[:, 0]) / 2
    assert both.map_interval() == pytest.approx(np.percentile(mean, [5, 95], axis=0).T)
    assert both.avg_interval() == pytest.approx(np.percentile(mean.mean(axis=1), [5, 95]))
    # a video listed but without ground truth or detections is still a unit a resample can draw
    more = bootstrap_detection(gt, [det_a], CLASSES, TIOUS, videos=["empty"], n_resamples=10)
    assert "empty" in more.videos and len(more.videos) == len(a.videos) + 1


def test_counts_and_weighted_ap_known_answers():
    c = resample_counts(5, 100, 0)
    assert c.shape == (100, 5) and (c.sum(axis=1) == 5).all()
    assert (resample_counts(5, 100, 0) == c).all() and not (resample_counts(5, 100, 1) == c).all()
    # ranking TP(v0) FP(v1) TP(v1), 2 positives: AP = (1/1 + 2/3) / 2
    tp, vid = np.array([True, False, True]), np.array([0, 1, 1])
    assert weighted_ap(tp, vid, np.array([[1, 1]]), [2])[0] == pytest.approx((1 + 2 / 3) / 2)
    # v0 drawn twice, v1 never: TP TP, 2 positives: AP 1; v1 twice: FP FP TP TP -> (1/3 + 2/4) / 2
    assert weighted_ap(tp, vid, np.array([[2, 0]]), [2])[0] == pytest.approx(1.0)
    assert weighted_ap(tp, vid, np.array([[0, 2]]), [2])[0] == pytest.approx((1 / 3 + 2 / 4) / 2)
    # interpolated: FP FP TP TP -> the envelope after each TP is 2/4 at the end
    assert weighted_ap(tp, vid, np.array([[0, 2]]), [2], "activitynet")[0] == pytest.approx(0.5)
    assert weighted_ap(tp, vid, np.array([[0, 0]]), [0])[0] == 0.0


def test_cost_is_seconds():
    gt, det = _dataset(6, n_videos=40, n_gt=6)
    t0 = time.process_time()
    bootstrap_detection(gt, [det] * 3, CLASSES, (0.1, 0.2, 0.3, 0.4, 0.5), n_resamples=1000)
    assert time.process_time() - t0 < 20


def test_paired_difference_uses_the_same_draws():
    gt, det_a = _dataset(7, n_videos=12)
    det_b = det_a.assign(score=np.random.default_rng(3).permutation(det_a["score"].to_numpy()))
    a = bootstrap_detection(gt, [det_a], CLASSES, TIOUS, n_resamples=400, seed=5)
    b = bootstrap_detection(gt, [det_b], CLASSES, TIOUS, n_resamples=400, seed=5)
    assert paired_difference_interval(a, a) == pytest.approx(np.zeros((len(TIOUS) + 1, 2)))
    diff = a.map[:, 0] - b.map[:, 0]
    ref = np.percentile(np.c_[diff, diff.mean(axis=1)], [5, 95], axis=0).T
    assert paired_difference_interval(a, b) == pytest.approx(ref)
    with pytest.raises(ValueError, match="same test videos, seed"):
        paired_difference_interval(a, bootstrap_detection(gt, [det_b], CLASSES, TIOUS, n_resamples=400, seed=6))
