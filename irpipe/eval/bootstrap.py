"""Bootstrap intervals of detection AP / mAP over test videos.

The resampling unit is the test video: a resample draws ``V`` videos with replacement out of
the ``V`` test videos (every video with ground truth or a detection is one, plus any listed
in ``videos``); a video drawn twice counts twice (its ground truth twice in the number of
positives, its detections twice in the ranking). AP and mAP are then computed exactly as
:func:`irpipe.eval.detection.evaluate` computes them on the resampled set, with
``missing_gt='exclude'``: a class that has no ground truth in a resample is left out of that
resample's mean (and of its per-class interval).

Why this is cheap: under both protocols a detection competes only for the ground truth of its
own video (:class:`~irpipe.eval.detection.ClassMatches`), so the true-positive flags are
computed once on the full set; a resample only reweights the ranked list. Copies of a
detection are placed next to each other in the ranking. That is where a duplicated video's
detections fall in the toolkit's stable sort, except among detections with exactly equal
scores (the toolkit would interleave copies of tied detections by video name): only then
can a resample's AP differ from ``evaluate`` on a renamed copy of the data. With all weights 1
the result is ``evaluate``'s, ties included.

Several seeds (one set of detections per training seed) are bootstrapped together: each
resample applies the same draw of videos to every seed, and the interval is that of the
seed-mean. It measures how much the test-set sample moves the (seed-averaged) number, not
training variance (the spread over seeds measures that). The same ``seed`` and video list
give the same draws for every variant, so intervals of different variants are paired.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .detection import DEFAULT_THRESHOLDS, class_matches

PERCENTILES = (5.0, 95.0)  # the 90 % interval: ci90_low, ci90_high


def resample_indices(n_videos: int, n_resamples: int, seed: int) -> np.ndarray:
    """(B, V) indices of the videos drawn by each resample (uniform, with replacement)."""
    if n_videos < 1 or n_resamples < 1:
        raise ValueError(f"bootstrap needs at least one video and one resample ({n_videos}, {n_resamples})")
    return np.random.default_rng(seed).integers(0, n_videos, size=(n_resamples, n_videos))


def resample_counts(n_videos: int, n_resamples: int, seed: int) -> np.ndarray:
    """(B, V) how many times each video is drawn by each resample (rows sum to V)."""
    idx = resample_indices(n_videos, n_resamples, seed)
    counts = np.zeros((n_resamples, n_videos), np.int64)
    np.add.at(counts, (np.arange(n_resamples)[:, None], idx), 1)
    return counts


def weighted_ap(tp: np.ndarray, video: np.ndarray, counts: np.ndarray, npos: np.ndarray,
                protocol: str = "thumos14") -> np.ndarray:
    """AP of one class under each row of ``counts``.

    ``tp``: true-positive flags of the ranked detections, ``video``: their video's column in
    ``counts`` (B, V); ``npos`` (B,): positives of each resample. Detection i counts
    ``counts[b, video[i]]`` times, its copies adjacent in the ranking. A row with ``npos`` 0
    gives 0 (the caller decides whether that class is in the mean)."""
    tp = np.asarray(tp, bool)
    counts = np.atleast_2d(counts)
    npos = np.asarray(npos, float).reshape(-1)
    if tp.size == 0:
        return np.zeros(counts.shape[0])
    w = counts[:, np.asarray(video, np.int64)].astype(float)  # (B, n)
    wt = w * tp
    cum_tp, cum_n = np.cumsum(wt, axis=1), np.cumsum(w, axis=1)
    if protocol == "thumos14":
        # sum of precision at each copy of a true positive: (T_before + j) / (N_before + j), j = 1..w
        before_tp, before_n = cum_tp - wt, cum_n - w
        total = np.zeros(counts.shape[0])
        wmax = int(w[:, tp].max()) if tp.any() else 0
        for j in range(1, wmax + 1):
            on = (w >= j) & tp
            total += np.where(on, (before_tp + j) / (before_n + j), 0.0).sum(axis=1)
    elif protocol == "activitynet":
        # interpolated AP: each copy of a true positive adds 1/npos times the best precision at
        # or after it; within a run of copies precision rises, so that is the precision at the
        # run's end or later: a suffix maximum of the precision at each run's end
        with np.errstate(divide="ignore", invalid="ignore"):
            prec_end = np.where(cum_n > 0, cum_tp / np.maximum(cum_n, 1), 0.0)
        envelope = np.maximum.accumulate(prec_end[:, ::-1], axis=1)[:, ::-1]
        total = (wt * envelope).sum(axis=1)
    else:
        raise ValueError(f"unknown protocol {protocol!r} (thumos14 or activitynet)")
    return np.where(npos > 0, total / np.maximum(npos, 1), 0.0)


@dataclass
class BootstrapResult:
    thresholds: tuple
    classes: list
    videos: list            # the resampling units, sorted
    seed: int
    ap: np.ndarray          # (B, S, T, C) per resample, seed, tIoU, class; nan: no ground truth in the resample
    map: np.ndarray         # (B, S, T)
    full_ap: np.ndarray     # (S, T, C) on the full set (all weights 1): evaluate()'s AP
    full_map: np.ndarray    # (S, T)

    @property
    def n_resamples(self) -> int:
        return int(self.map.shape[0])

    @property
    def n_seeds(self) -> int:
        return int(self.map.shape[1])

    def seed_mean_map(self) -> np.ndarray:
        """(B, T) the seed-mean mAP of each resample."""
        return self.map.mean(axis=1)

    def map_interval(self) -> np.ndarray:
        """(T, 2) 5th and 95th percentile of the seed-mean mAP over resamples."""
        return np.percentile(self.seed_mean_map(), PERCENTILES, axis=0).T

    def avg_interval(self) -> np.ndarray:
        """(2,) the same for the seed-mean mAP averaged over the tIoU thresholds."""
        return np.percentile(self.seed_mean_map().mean(axis=1), PERCENTILES)

    def ap_interval(self) -> np.ndarray:
        """(T, C, 2) per class (resamples without the class's ground truth left out; nan if none has it)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.moveaxis(np.nanpercentile(self.ap.mean(axis=1), PERCENTILES, axis=0), 0, -1)


def bootstrap_detection(gt: pd.DataFrame, dets: Sequence[pd.DataFrame], classes: Sequence[str],
                        thresholds: Iterable[float] = DEFAULT_THRESHOLDS, protocol: str = "thumos14",
                        ambiguous: pd.DataFrame | None = None, videos: Iterable[str] = (),
                        n_resamples: int = 1000, seed: int = 0) -> BootstrapResult:
    """Bootstrap AP / mAP of one or more sets of detections (one per training seed) on the same
    ground truth ``gt`` (video_id, label, t_start, t_end) over test videos.

    ``videos``: the test videos (a video without ground truth or detections is still a unit
    that a resample can draw); videos found in ``gt`` or ``dets`` are added."""
    thresholds = tuple(float(t) for t in thresholds)
    classes = list(classes)
    if not dets:
        raise ValueError("bootstrap_detection: no detections given (one table per seed)")
    gt = gt.assign(video_id=gt["video_id"].astype(str))
    dets = [d.assign(video_id=d["video_id"].astype(str)) for d in dets]
    amb = None
    if ambiguous is not None:
        amb = ambiguous.assign(video_id=ambiguous["video_id"].astype(str))
    units = sorted(set(map(str, videos)) | set(gt["video_id"]) | {v for d in dets for v in d["video_id"]})
    col = {v: i for i, v in enumerate(units)}
    counts = resample_counts(len(units), int(n_resamples), int(seed))
    ones = np.ones((1, len(units)), np.int64)
    ngt = np.zeros((len(classes), len(units)))
    for ci, c in enumerate(classes):
        vids = gt.loc[gt["label"] == c, "video_id"]
        np.add.at(ngt[ci], [col[v] for v in vids], 1)
    npos = counts @ ngt.T                                    # (B, C)
    npos_full = ngt.sum(axis=1)                              # (C,)
    B, S, T, C = counts.shape[0], len(dets), len(thresholds), len(classes)
    ap = np.full((B, S, T, C), np.nan)
    full_ap = np.zeros((S, T, C))
    for s, det in enumerate(dets):
        for ci, c in enumerate(classes):
            g, d = gt[gt["label"] == c], det[det["label"] == c]
            for ti, t in enumerate(thresholds):
                m = class_matches(g, d, protocol, t, amb)
                vi = np.fromiter((col[v] for v in m.video), np.int64, len(m.video))
                a = weighted_ap(m.tp, vi, counts, npos[:, ci], protocol)
                ap[:, s, ti, ci] = np.where(npos[:, ci] > 0, a, np.nan)
                full_ap[s, ti, ci] = weighted_ap(m.tp, vi, ones, npos_full[ci:ci + 1], protocol)[0]
    present = np.isfinite(ap)
    n_in = present.sum(axis=3)
    mp = np.where(n_in > 0, np.where(present, ap, 0.0).sum(axis=3) / np.maximum(n_in, 1), 0.0)
    keep = npos_full > 0
    full_map = full_ap[..., keep].mean(axis=2) if keep.any() else np.zeros((S, T))
    return BootstrapResult(thresholds, classes, units, int(seed), ap, mp, full_ap, full_map)


def paired_difference_interval(a: BootstrapResult, b: BootstrapResult) -> np.ndarray:
    """(T + 1, 2) 5th and 95th percentile of (seed-mean mAP of ``a``) - (that of ``b``) per tIoU and,
    last row, of the tIoU average, over the SAME resamples (both bootstrapped with the same videos
    and seed, as every variant of a run is). An interval above 0: ``a`` beats ``b`` on 90 % of the
    test-video resamples' two-sided range; one that contains 0: the test set cannot order them."""
    if a.videos != b.videos or a.seed != b.seed or a.n_resamples != b.n_resamples or a.thresholds != b.thresholds:
        raise ValueError("paired bootstrap needs the same test videos, seed, resamples and tIoUs on both sides")
    d = a.seed_mean_map() - b.seed_mean_map()
    d = np.concatenate([d, d.mean(axis=1, keepdims=True)], axis=1)
    return np.percentile(d, PERCENTILES, axis=0).T
