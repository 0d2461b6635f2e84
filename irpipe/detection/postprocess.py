"""Snippet scores -> temporal detections (seed 001's post-processing).

For each class: snippets whose score exceeds the class threshold are grouped into runs of
consecutive snippets; a run becomes a segment from the start of its first snippet to the
end of its last; segments shorter than ``min_duration_factor`` (0.5) times the class's mean
instance duration in the TRAINING annotations are dropped; a segment's score is the mean
snippet score inside it.

``method: multi_threshold`` (an option, not the paper's) replaces the single threshold with
multi-threshold grouping and non-maximum suppression (:func:`detect_multi_threshold`).

The class thresholds come from the config, or (``threshold: train``) are calibrated on the
TRAINING videos: for each class, the grid value whose training detections reach the highest
mean AP over the evaluation tIoUs (ties go to the higher threshold). Weak, from-scratch
models score far below 0.5 and differently per variant, so a fixed threshold detects nothing
for some variants; the test videos are never looked at.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .data import SNIPPET, snippet_bounds

DETECTION_COLUMNS = ["video_id", "label", "t_start", "t_end", "score"]


def runs(active: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index pairs of the runs of True in a 1-D boolean array."""
    a = np.concatenate([[False], np.asarray(active, bool), [False]])
    d = np.flatnonzero(a[1:] != a[:-1])
    return list(zip(d[0::2].tolist(), d[1::2].tolist()))


def _snippet_bounds_of(scores: np.ndarray, n_frames: int, fps: float, classes: Sequence[str], video_id: str,
                       snippet: int) -> np.ndarray:
    """The video's snippet bounds, checked against the (C, S) scores."""
    bounds = snippet_bounds(n_frames, fps, snippet)
    if scores.shape != (len(classes), len(bounds)):
        raise ValueError(f"{video_id}: scores {scores.shape} but {len(classes)} classes x {len(bounds)} snippets")
    return bounds


def detect(scores: np.ndarray, n_frames: int, fps: float, classes: Sequence[str],
           thresholds: Mapping[str, float], min_durations: Mapping[str, float], video_id: str,
           min_duration_factor: float = 0.5, snippet: int = SNIPPET) -> pd.DataFrame:
    """scores (C, S) -> detections table (video_id, label, t_start, t_end, score)."""
    bounds = _snippet_bounds_of(scores, n_frames, fps, classes, video_id, snippet)
    rows = []
    for ci, c in enumerate(classes):
        min_len = min_duration_factor * float(min_durations.get(c, 0.0))
        for s, e in runs(scores[ci] > float(thresholds[c])):
            t0, t1 = float(bounds[s, 0]), float(bounds[e - 1, 1])
            if t1 - t0 < min_len:
                continue
            rows.append({"video_id": video_id, "label": c, "t_start": round(t0, 4), "t_end": round(t1, 4),
                         "score": float(scores[ci, s:e].mean())})
    return pd.DataFrame(rows, columns=DETECTION_COLUMNS)


def multi_threshold_grid(pcfg: Mapping) -> list[float]:
    """The thresholds of ``postprocess.multi_threshold``: step, 2 step, ... below 1."""
    step = float(pcfg["multi_threshold"]["step"])
    return np.round(np.arange(step, 1.0 - 1e-9, step), 6).tolist()


def segment_tiou(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Temporal IoU of two [start, stop) snippet ranges."""
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / float(max(a[1], b[1]) - min(a[0], b[0]))


def detect_multi_threshold(scores: np.ndarray, n_frames: int, fps: float, classes: Sequence[str],
                           min_durations: Mapping[str, float], video_id: str, min_duration_factor: float = 0.5,
                           grid: Sequence[float] = (), nms_tiou: float = 0.3, snippet: int = SNIPPET) -> pd.DataFrame:
    """scores (C, S) -> detections, without a chosen threshold (``postprocess.method: multi_threshold``).

    Per class, the runs of snippets above EVERY threshold of ``grid`` are candidate segments (a
    run found at several thresholds counts once), scored and length-filtered as :func:`detect`'s;
    greedy non-maximum suppression keeps, in descending score, each candidate whose temporal IoU
    with every kept one is at most ``nms_tiou``. The grouping of multi-threshold proposals used
    by two-stage detectors; not the paper's single-threshold rule (captions say so)."""
    bounds = _snippet_bounds_of(scores, n_frames, fps, classes, video_id, snippet)
    rows = []
    for ci, c in enumerate(classes):
        min_len = min_duration_factor * float(min_durations.get(c, 0.0))
        candidates = {}
        for t in grid:
            for s, e in runs(scores[ci] > float(t)):
                if (s, e) not in candidates and float(bounds[e - 1, 1] - bounds[s, 0]) >= min_len:
                    candidates[(s, e)] = float(scores[ci, s:e].mean())
        kept: list[tuple[int, int]] = []
        for (s, e), score in sorted(candidates.items(), key=lambda kv: (-kv[1], kv[0])):
            if all(segment_tiou((s, e), k) <= nms_tiou for k in kept):
                kept.append((s, e))
                rows.append({"video_id": video_id, "label": c, "t_start": round(float(bounds[s, 0]), 4),
                             "t_end": round(float(bounds[e - 1, 1]), 4), "score": score})
    return pd.DataFrame(rows, columns=DETECTION_COLUMNS)


def class_thresholds(classes: Sequence[str], default: float, per_class: Mapping[str, float] | None) -> dict:
    per_class = dict(per_class or {})
    unknown = set(per_class) - set(classes)
    if unknown:
        raise ValueError(f"detection.postprocess.class_thresholds names unknown classes {sorted(unknown)}")
    return {c: float(per_class.get(c, default)) for c in classes}


DEFAULT_CALIBRATION_GRID = tuple(np.round(np.arange(0.02, 0.96, 0.02), 2).tolist())


def calibrate_thresholds(train_scores: Mapping[str, np.ndarray], train_videos: Mapping[str, tuple[int, float]],
                         classes: Sequence[str], min_durations: Mapping[str, float],
                         class_ap: Callable[[pd.DataFrame], np.ndarray], min_duration_factor: float = 0.5,
                         grid: Sequence[float] = DEFAULT_CALIBRATION_GRID) -> dict[str, float]:
    """Per-class threshold maximising the training detections' mean AP over the tIoUs.

    ``train_videos``: video_id -> (n_frames, fps); ``class_ap(detections)`` -> (n_classes,)
    AP of each class averaged over the evaluation tIoUs on the TRAINING ground truth."""
    if not train_scores:
        raise ValueError("threshold calibration needs scores of the training videos")
    best = {c: (-1.0, float(grid[0])) for c in classes}
    for t in grid:
        thr = {c: float(t) for c in classes}
        frames = [detect(train_scores[v], n, fps, classes, thr, min_durations, v, min_duration_factor)
                  for v, (n, fps) in sorted(train_videos.items())]
        det = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=DETECTION_COLUMNS)
        ap = np.asarray(class_ap(det), float)
        for ci, c in enumerate(classes):
            if ap[ci] >= best[c][0]:  # >=: ties go to the higher threshold
                best[c] = (float(ap[ci]), float(t))
    return {c: best[c][1] for c in classes}
