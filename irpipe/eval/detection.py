"""Temporal action detection evaluation: mAP at temporal IoU thresholds.

Two protocols:

``thumos14`` (default) reproduces the official THUMOS14 toolkit (``TH14evalDet.m``):

- overlap of two intervals = intersection / (max end - min start), 0 unless the
  intersection is strictly positive; each interval is first ordered (min, max);
- per video and class, detections are sorted by decreasing confidence (stable); each
  ground truth *in file order* takes the still-unmatched detection of highest overlap
  (first one on ties) if that overlap is **strictly above** the threshold;
- unmatched detections that overlap (> 0) a segment of the ``Ambiguous`` class of the same
  video are neither true nor false positives (only when an Ambiguous file exists);
- the per-class lists are concatenated over videos in sorted-name order and sorted by
  decreasing confidence (stable); AP = sum of precision at each true positive / number of
  ground truths (non-interpolated); a class without any detection scores AP 0;
- mAP = mean over all classes of the class list.

``activitynet`` is the ActivityNet-style alternative: detections of a class sorted by
score over the whole set, each greedily takes the unmatched ground truth of highest IoU in
its video if IoU >= threshold; AP is the area under the interpolated (monotone) PR curve.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..data.datasets import read_class_list
from ..errors import BadInputError

log = logging.getLogger(__name__)

DEFAULT_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5)
AMBIGUOUS = "Ambiguous"


def interval_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Temporal IoU matrix (len(a), len(b)) with the THUMOS14 toolkit's conventions."""
    a = np.asarray(a, dtype=float).reshape(-1, 2)
    b = np.asarray(b, dtype=float).reshape(-1, 2)
    a = np.sort(a, axis=1)
    b = np.sort(b, axis=1)
    inter = np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0])
    span = np.maximum(a[:, None, 1], b[None, :, 1]) - np.minimum(a[:, None, 0], b[None, :, 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        ov = np.where(inter > 0, inter / np.where(span > 0, span, 1.0), 0.0)
    return ov


@dataclass
class ClassResult:
    ap: float
    n_gt: int
    n_det: int
    n_tp: int
    precision: np.ndarray = field(repr=False)
    recall: np.ndarray = field(repr=False)


@dataclass
class ClassMatches:
    """One class's ranked detections after matching, in the order its AP is computed from.

    ``conf``, ``tp`` (true-positive flag) and ``video`` per ranked detection; detections a
    protocol leaves out (THUMOS14: unmatched ones on an Ambiguous segment) are not listed.
    Matching is per video under both protocols (a detection competes only for the ground
    truth of its own video), so a video's flags do not depend on which other videos are in
    the set: what the bootstrap over videos (``irpipe.eval.bootstrap``) relies on."""
    conf: np.ndarray
    tp: np.ndarray
    video: np.ndarray


def _rows_by_video(videos: np.ndarray) -> dict:
    """video id -> its row indices, in row order (what ``groupby(sort=False)`` gives, without pandas)."""
    out: dict = {}
    for i, v in enumerate(videos):
        out.setdefault(v, []).append(i)
    return {v: np.asarray(r, np.int64) for v, r in out.items()}


@dataclass
class _ThumosVideo:
    """One video's detections of one class, ranked by score, with what matching needs at any tIoU:
    their overlaps with the video's ground truth (rows: instances in table order) and whether each
    touches an Ambiguous segment."""
    video: str
    conf: np.ndarray
    overlap: np.ndarray | None
    ambiguous: np.ndarray


def _thumos_prepare(g_vid: np.ndarray, g_seg: np.ndarray, d_vid: np.ndarray, d_score: np.ndarray,
                    d_seg: np.ndarray, amb_by: dict, a_seg: np.ndarray) -> list[_ThumosVideo]:
    """The per-video part of THUMOS14 matching that does not depend on the tIoU threshold, in
    video-id order (computed once per class, then matched at every threshold)."""
    gt_by = _rows_by_video(g_vid)
    out = []
    for vid, rows in sorted(_rows_by_video(d_vid).items(), key=lambda kv: kv[0]):
        rows = rows[np.argsort(-d_score[rows], kind="stable")]
        seg = d_seg[rows]
        g = gt_by.get(vid)
        a = amb_by.get(vid)
        amb_hit = interval_overlap(a_seg[a], seg).sum(0) > 0 if a is not None else np.zeros(len(rows), bool)
        out.append(_ThumosVideo(vid, d_score[rows], interval_overlap(g_seg[g], seg) if g is not None else None,
                                amb_hit))
    return out


def _thumos_match_prepared(videos: list[_ThumosVideo], thr: float) -> ClassMatches:
    """Greedy matching at tIoU ``thr``: each ground-truth instance, in table order, takes the
    highest-overlap detection still free if the overlap exceeds ``thr``; unmatched detections on an
    Ambiguous segment are left out."""
    if not videos:
        return ClassMatches(np.zeros(0), np.zeros(0, bool), np.zeros(0, object))
    confs: list[np.ndarray] = []
    flags: list[np.ndarray] = []
    vids: list[np.ndarray] = []
    for v in videos:
        free = np.ones(len(v.conf), bool)
        if v.overlap is not None:
            ov = v.overlap
            for k in range(ov.shape[0]):
                idx = np.flatnonzero(free)
                if idx.size == 0:
                    continue
                j = int(np.argmax(ov[k, idx]))
                if ov[k, idx[j]] > thr:
                    free[idx[j]] = False
        keep = ~free | (free & ~v.ambiguous)
        confs.append(v.conf[keep])
        flags.append(~free[keep])
        vids.append(np.full(int(keep.sum()), v.video, dtype=object))
    conf = np.concatenate(confs)
    order = np.argsort(-conf, kind="stable")
    return ClassMatches(conf[order], np.concatenate(flags)[order], np.concatenate(vids)[order])


def _segments(df: pd.DataFrame) -> np.ndarray:
    return df[["t_start", "t_end"]].to_numpy(float) if len(df) else np.zeros((0, 2))


def _thumos_matches(gt: pd.DataFrame, det: pd.DataFrame, amb: pd.DataFrame, thr: float) -> ClassMatches:
    if len(det) == 0:
        return ClassMatches(np.zeros(0), np.zeros(0, bool), np.zeros(0, object))
    amb_by = _rows_by_video(amb["video_id"].to_numpy(object)) if len(amb) else {}
    videos = _thumos_prepare(gt["video_id"].to_numpy(object), _segments(gt), det["video_id"].to_numpy(object),
                             det["score"].to_numpy(float), _segments(det), amb_by, _segments(amb))
    return _thumos_match_prepared(videos, thr)


def _thumos_ap(tp_flag: np.ndarray, npos: int) -> tuple[float, np.ndarray, np.ndarray]:
    tp = np.cumsum(tp_flag)
    fp = np.cumsum(~tp_flag)
    rec = tp / npos if npos else np.zeros_like(tp, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 0.0)
    ap = float(prec[tp_flag].sum() / npos) if npos else 0.0
    return ap, prec, rec


def _activitynet_matches(gt: pd.DataFrame, det: pd.DataFrame, thr: float) -> ClassMatches:
    det = det.iloc[np.argsort(-det["score"].to_numpy(float), kind="stable")]
    gt_by = {v: g[["t_start", "t_end"]].to_numpy(float) for v, g in gt.groupby("video_id", sort=False)}
    used = {v: np.zeros(len(s), bool) for v, s in gt_by.items()}
    tp_flag = np.zeros(len(det), bool)
    for i, (vid, s, e) in enumerate(det[["video_id", "t_start", "t_end"]].itertuples(index=False)):
        if vid not in gt_by:
            continue
        iou = interval_overlap(gt_by[vid], np.array([[s, e]]))[:, 0]
        for j in np.argsort(-iou, kind="stable"):
            if iou[j] < thr:
                break
            if not used[vid][j]:
                used[vid][j] = True
                tp_flag[i] = True
                break
    return ClassMatches(det["score"].to_numpy(float), tp_flag, det["video_id"].to_numpy(object))


def _activitynet_class(gt: pd.DataFrame, det: pd.DataFrame, thr: float) -> ClassResult:
    npos = len(gt)
    if len(det) == 0 or npos == 0:
        return ClassResult(0.0, npos, len(det), 0, np.zeros(0), np.zeros(0))
    tp_flag = _activitynet_matches(gt, det, thr).tp
    tp = np.cumsum(tp_flag)
    fp = np.cumsum(~tp_flag)
    rec = tp / npos
    prec = tp / (tp + fp)
    # interpolated AP (monotone precision envelope), as in ActivityNet's evaluation.
    mprec = np.concatenate([[0.0], prec, [0.0]])
    mrec = np.concatenate([[0.0], rec, [1.0]])
    mprec = np.maximum.accumulate(mprec[::-1])[::-1]
    idx = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    ap = float(np.sum((mrec[idx] - mrec[idx - 1]) * mprec[idx]))
    return ClassResult(ap, npos, len(det), int(tp_flag.sum()), prec, rec)


def class_matches(gt: pd.DataFrame, det: pd.DataFrame, protocol: str, thr: float,
                  ambiguous: pd.DataFrame | None = None) -> ClassMatches:
    """The ranked, matched detections of one class (``gt`` and ``det`` of that class only)."""
    if protocol == "thumos14":
        amb = ambiguous if ambiguous is not None else pd.DataFrame(columns=["video_id", "t_start", "t_end"])
        return _thumos_matches(gt, det, amb, thr)
    if protocol == "activitynet":
        if len(det) == 0:
            return ClassMatches(np.zeros(0), np.zeros(0, bool), np.zeros(0, object))
        return _activitynet_matches(gt, det, thr)
    raise ValueError(f"unknown protocol {protocol!r} (thumos14 or activitynet)")


@dataclass
class DetectionEval:
    """Per-threshold, per-class AP and mAP."""
    thresholds: tuple
    classes: list
    ap: np.ndarray           # (n_thresholds, n_classes)
    n_gt: np.ndarray         # (n_classes,)
    n_det: np.ndarray        # (n_classes,)
    protocol: str
    excluded: list           # classes left out of the mean (no ground truth, policy "exclude")

    @property
    def map(self) -> np.ndarray:
        keep = np.array([c not in self.excluded for c in self.classes])
        if not keep.any():
            return np.zeros(len(self.thresholds))
        return self.ap[:, keep].mean(axis=1)

    def table(self) -> pd.DataFrame:
        """Long table: threshold, class, ap, n_gt, n_det; plus rows class='mAP'."""
        rows = []
        for ti, t in enumerate(self.thresholds):
            for ci, c in enumerate(self.classes):
                rows.append({"tiou": t, "class": c, "ap": float(self.ap[ti, ci]), "n_gt": int(self.n_gt[ci]),
                             "n_det": int(self.n_det[ci]), "in_mean": c not in self.excluded})
            rows.append({"tiou": t, "class": "mAP", "ap": float(self.map[ti]), "n_gt": int(self.n_gt.sum()),
                         "n_det": int(self.n_det.sum()), "in_mean": True})
        return pd.DataFrame(rows)


GT_COLUMNS = ["video_id", "label", "t_start", "t_end"]
DET_COLUMNS = ["video_id", "t_start", "t_end", "label", "score"]


def evaluate(gt: pd.DataFrame, det: pd.DataFrame, classes: Sequence[str],
             thresholds: Iterable[float] = DEFAULT_THRESHOLDS, protocol: str = "thumos14",
             ambiguous: pd.DataFrame | None = None, missing_gt: str = "error") -> DetectionEval:
    """Evaluate detections ``det`` (video_id, t_start, t_end, label, score) against ground
    truth ``gt`` (video_id, label, t_start, t_end) for the named classes.

    ``missing_gt``: what to do with a class of the list that has no ground truth. The
    official toolkit asserts (``npos > 0``): 'error' raises naming the class; 'exclude'
    reports it (AP 0, ``in_mean`` false) and leaves it out of the mean.
    """
    if protocol not in ("thumos14", "activitynet"):
        raise ValueError(f"unknown protocol {protocol!r} (thumos14 or activitynet)")
    thresholds = tuple(float(t) for t in thresholds)
    classes = list(classes)
    gt = gt.copy()
    det = det.copy()
    gt["video_id"] = gt["video_id"].astype(str)
    det["video_id"] = det["video_id"].astype(str)
    amb = ambiguous if ambiguous is not None else pd.DataFrame(columns=["video_id", "t_start", "t_end"])
    amb = amb.assign(video_id=amb["video_id"].astype(str))
    unknown = sorted(set(det["label"]) - set(classes))
    if unknown:
        log.warning("detections of classes not in the class list are ignored: %s", unknown)
    ap = np.zeros((len(thresholds), len(classes)))
    n_gt = np.zeros(len(classes), int)
    n_det = np.zeros(len(classes), int)
    excluded = []
    # THUMOS14: the arrays once, the threshold-free part of matching once per class
    g_label, d_label = gt["label"].to_numpy(object), det["label"].to_numpy(object)
    g_vid, d_vid = gt["video_id"].to_numpy(object), det["video_id"].to_numpy(object)
    g_seg, d_seg, d_score = _segments(gt), _segments(det), det["score"].to_numpy(float)
    amb_by = _rows_by_video(amb["video_id"].to_numpy(object)) if len(amb) else {}
    a_seg = _segments(amb)
    for ci, c in enumerate(classes):
        gm, dm = g_label == c, d_label == c
        n_gt[ci], n_det[ci] = int(gm.sum()), int(dm.sum())
        if n_gt[ci] == 0:
            if missing_gt == "error":
                raise BadInputError(f"class {c}", "has no ground-truth instance in the evaluated set "
                                                  "(the THUMOS14 toolkit asserts npos > 0); "
                                                  "use missing_gt='exclude' to leave it out of the mean")
            excluded.append(c)
            continue
        if protocol == "thumos14":
            if n_det[ci] == 0:
                continue  # AP 0
            videos = _thumos_prepare(g_vid[gm], g_seg[gm], d_vid[dm], d_score[dm], d_seg[dm], amb_by, a_seg)
            for ti, t in enumerate(thresholds):
                ap[ti, ci] = _thumos_ap(_thumos_match_prepared(videos, t).tp, int(n_gt[ci]))[0]
        else:
            g, d = gt[gm], det[dm]
            for ti, t in enumerate(thresholds):
                ap[ti, ci] = _activitynet_class(g, d, t).ap
    return DetectionEval(thresholds, classes, ap, n_gt, n_det, protocol, excluded)


# ----------------------------------------------------------------------------- file formats

def _read_segments(path: Path, ncols: int) -> list[list[str]]:
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) < ncols:
            raise BadInputError(path, f"line {n}: expected {ncols} fields, got {line!r}")
        rows.append(parts[:ncols])
    return rows


def read_gt_dir(gt_dir: str | os.PathLike, classes: Sequence[str], subset: str = "test"):
    """Read ``<class>_<subset>.txt`` files (``video t_start t_end``); returns (gt, ambiguous).

    A missing class file is an error (as in the toolkit); ``Ambiguous_<subset>.txt`` is used
    when it exists.
    """
    gt_dir = Path(gt_dir)
    frames = []
    for c in classes:
        p = gt_dir / f"{c}_{subset}.txt"
        if not p.exists():
            raise BadInputError(p, f"ground-truth file of class {c} not found")
        rows = _read_segments(p, 3)
        try:
            frames.append(pd.DataFrame({"video_id": [r[0] for r in rows], "label": c,
                                        "t_start": [float(r[1]) for r in rows],
                                        "t_end": [float(r[2]) for r in rows]}))
        except ValueError as exc:
            raise BadInputError(p, f"non-numeric time: {exc}") from None
    gt = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=GT_COLUMNS)
    amb_path = gt_dir / f"{AMBIGUOUS}_{subset}.txt"
    amb = None
    if amb_path.exists():
        rows = _read_segments(amb_path, 3)
        amb = pd.DataFrame({"video_id": [r[0] for r in rows], "t_start": [float(r[1]) for r in rows],
                            "t_end": [float(r[2]) for r in rows]})
    return gt, amb


def read_detection_file(path: str | os.PathLike, class_list: pd.DataFrame) -> pd.DataFrame:
    """THUMOS14 detection file ``video t_start t_end class_id score``; '.mp4' is stripped
    from names as the toolkit does; unknown class ids are ignored with a warning."""
    path = Path(path)
    if not path.exists():
        raise BadInputError(path, "detection file does not exist")
    rows = _read_segments(path, 5)
    try:
        df = pd.DataFrame({"video_id": [r[0].replace(".mp4", "") for r in rows],
                           "t_start": [float(r[1]) for r in rows], "t_end": [float(r[2]) for r in rows],
                           "class_id": [int(float(r[3])) for r in rows], "score": [float(r[4]) for r in rows]})
    except ValueError as exc:
        raise BadInputError(path, f"bad number: {exc}") from None
    if len(df) and not np.isfinite(df[["t_start", "t_end", "score"]].to_numpy()).all():
        raise BadInputError(path, "non-finite time or score")
    id2name = dict(zip(class_list["class_id"], class_list["label"]))
    bad = sorted(set(df["class_id"]) - set(id2name))
    if bad:
        log.warning("%s: class ids %s are not in the class list; ignored", path, bad)
    df = df[df["class_id"].isin(id2name)].copy()
    df["label"] = df["class_id"].map(id2name)
    return df.reset_index(drop=True)


def write_thumos_detections(path: str | os.PathLike, det: pd.DataFrame, class_ids: dict) -> None:
    """Write detections (video_id, t_start, t_end, label, score) in THUMOS14 format."""
    from ..io import write_text

    lines = [f"{r.video_id} {r.t_start:.3f} {r.t_end:.3f} {class_ids[r.label]} {r.score:.6f}"
             for r in det.itertuples(index=False)]
    write_text(path, "\n".join(lines) + ("\n" if lines else ""))


def write_thumos_gt(gt_dir: str | os.PathLike, gt: pd.DataFrame, classes: Sequence[str],
                    subset: str = "test") -> None:
    """Write ``<class>_<subset>.txt`` files (and nothing for classes without instances:
    an empty file is written so the toolkit finds it)."""
    from ..io import write_text

    for c in classes:
        g = gt[gt["label"] == c]
        lines = [f"{r.video_id} {r.t_start:.3f} {r.t_end:.3f}" for r in g.itertuples(index=False)]
        write_text(Path(gt_dir) / f"{c}_{subset}.txt", "\n".join(lines) + ("\n" if lines else ""))


def evaluate_files(gt_dir: str | os.PathLike, det_file: str | os.PathLike,
                   class_list: str | os.PathLike | None = None, subset: str = "test",
                   thresholds: Iterable[float] = DEFAULT_THRESHOLDS, protocol: str = "thumos14",
                   missing_gt: str = "error", use_ambiguous: bool = True) -> DetectionEval:
    class_list = Path(class_list) if class_list else Path(gt_dir) / "detclasslist.txt"
    cl = read_class_list(class_list)
    gt, amb = read_gt_dir(gt_dir, list(cl["label"]), subset)
    det = read_detection_file(det_file, cl)
    return evaluate(gt, det, list(cl["label"]), thresholds, protocol,
                    ambiguous=amb if use_ambiguous else None, missing_gt=missing_gt)
