"""Naive baseline of Table 1: what every learned method must beat.

Per video, each frame is down-sampled to ``size x size`` (``cv2.INTER_AREA``) and scaled to
0..1; the feature vector concatenates six per-pixel maps over time:

1. mean, 2. standard deviation, 3. mean absolute difference of consecutive frames,
4.-6. the means of the first, middle and last third of the frames (``np.array_split``).

Features are standardised on the split's training videos and an RBF SVM (sklearn ``SVC``,
C and gamma from ``handcrafted.naive``) is trained on them; test metrics are those of the
other Table 1 rows (:func:`irpipe.eval.classification.classification_metrics`), computed on
the SVM's one-vs-rest decision values.
"""
from __future__ import annotations

import logging
import os
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import BadInput, BadInputError, BadInputsError

log = logging.getLogger(__name__)

METHOD = "naive"
N_MAPS = 6
MIN_FRAMES = 3  # three temporal thirds need a frame each


def table1_name(size: int) -> str:
    return f"naive baseline ({size}x{size} pixel statistics, RBF SVM)"


def downsample(frames: np.ndarray, size: int, where: str = "<frames>") -> np.ndarray:
    """(T, size, size) float64 in 0..1: every frame of a (T, H, W) grey video, area-averaged."""
    import cv2

    frames = np.asarray(frames)
    if frames.ndim != 3 or frames.shape[1] < 1 or frames.shape[2] < 1:
        raise BadInputError(where, f"frames must be (T, H, W); got shape {frames.shape}")
    scale = 255.0 if frames.dtype == np.uint8 else 1.0
    if frames.shape[0] == 0:
        return np.zeros((0, size, size))
    return np.stack([cv2.resize(np.asarray(f, np.float32), (size, size), interpolation=cv2.INTER_AREA)
                     for f in frames]).astype(np.float64) / scale


def pixel_statistics(small: np.ndarray, where: str = "<frames>") -> np.ndarray:
    """The six per-pixel maps of down-sampled frames (T, s, s), concatenated: (6 * s * s,)."""
    if small.shape[0] < MIN_FRAMES:
        raise BadInputError(where, f"{small.shape[0]} frame(s); the naive baseline needs at least {MIN_FRAMES}")
    thirds = [p.mean(axis=0) for p in np.array_split(small, 3, axis=0)]
    maps = [small.mean(axis=0), small.std(axis=0), np.abs(np.diff(small, axis=0)).mean(axis=0), *thirds]
    out = np.concatenate([m.ravel() for m in maps])
    if not np.all(np.isfinite(out)):
        raise BadInputError(where, "non-finite pixel values")
    return out


def video_features(frames: np.ndarray, size: int, where: str = "<frames>") -> np.ndarray:
    """The (6 * size * size,) float64 feature vector of one (T, H, W) grey video."""
    frames = np.asarray(frames)
    if frames.ndim == 3 and frames.shape[0] < MIN_FRAMES:
        raise BadInputError(where, f"{frames.shape[0]} frame(s); the naive baseline needs at least {MIN_FRAMES}")
    return pixel_statistics(downsample(frames, size, where), where)


def fit_predict(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, n_classes: int,
                C: float, gamma) -> np.ndarray:
    """Standardise on the training rows, fit an RBF SVM, return (n_test, n_classes) scores.

    Scores are the one-vs-rest decision values; a class with no training video gets a score
    below every other (it can never be predicted)."""
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    scaler = StandardScaler().fit(X_train)
    svm = SVC(C=float(C), kernel="rbf", gamma=gamma, decision_function_shape="ovr")
    svm.fit(scaler.transform(X_train), y_train)
    dec = svm.decision_function(scaler.transform(X_test))
    if dec.ndim == 1:  # two classes: sklearn gives one column, positive = classes_[1]
        dec = np.stack([-dec, dec], axis=1)
    scores = np.full((len(X_test), n_classes), dec.min() - 1.0 if dec.size else -1.0)
    scores[:, svm.classes_.astype(int)] = dec
    return scores


def naive_split(stores: Mapping[str, str | os.PathLike], splits: pd.DataFrame, split: int, n_classes: int,
                cfg: Mapping, frames_size: str | None, policy: str = "error") -> dict:
    """Features of the split's videos, the SVM, test metrics.

    ``stores``: video id -> frames store; ``frames_size``: the stored copy to read (None = the
    original frames). Returns ``metrics`` (one row in the columns of ``metrics.csv``) and
    ``bad`` (the videos left out under ``policy: skip``)."""
    from ..data.stores import read_frames
    from .encode import split_table  # imports sklearn (seconds): only the recognition baseline needs it

    table = split_table(splits, split)
    size = int(cfg["size"])
    feats, keep, bad = [], [], []
    for i, vid in enumerate(table["video_id"]):
        path = stores.get(vid)
        try:
            if path is None:
                raise BadInputError(f"<video {vid}>", "no frames store under the declared inputs")
            try:
                frames = read_frames(path, size=frames_size)
            except (OSError, KeyError) as exc:
                raise BadInputError(str(path), f"cannot read frames: {exc}") from exc
            feats.append(video_features(frames, size, str(path)))
            keep.append(i)
        except BadInputError as exc:
            bad.append(BadInput("recognition", "naive_baseline", vid, exc.reason))
    if bad and policy != "skip":
        raise BadInputsError(bad, where=f"the naive baseline (split {split})")
    for b in bad:
        log.warning("skipping %s: %s", b.item, b.reason)
    table = table.iloc[keep].reset_index(drop=True)
    X = np.asarray(feats, np.float64).reshape(len(keep), -1)
    y = table["label_index"].astype(int).to_numpy()
    tr = table["is_train"].to_numpy(bool)
    if not tr.any() or tr.all():
        raise BadInputError(f"<split {split}>", "the naive baseline needs training and test videos")
    if len(np.unique(y[tr])) < 2:
        raise BadInputError(f"<split {split}>", "fewer than two classes among the training videos")
    from ..eval.classification import classification_metrics  # sklearn.metrics: ~1.8 s to import

    scores = fit_predict(X[tr], y[tr], X[~tr], n_classes, cfg["C"], cfg["gamma"])
    met = classification_metrics(y[~tr], scores)
    row = {"method": METHOD, "split": int(split), **met, "n_test": int((~tr).sum()), "n_train": int(tr.sum())}
    log.info("naive baseline split %d: %d features per video, %d train / %d test, accuracy %.4f, macro AP %.4f",
             split, X.shape[1], row["n_train"], row["n_test"], row["accuracy"], row["macro_ap"])
    return {"metrics": pd.DataFrame([row]), "bad": bad, "scores": scores,
            "video_id": table.loc[~tr, "video_id"].tolist(), "label_index": y[~tr]}
