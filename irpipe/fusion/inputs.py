"""Readers for the fusion stage's inputs, validated: a bad file is a BadInputError naming it.

C3D predictions (``results/c3d/{stream}_{variant}/split{k}/predictions.h5``):
  ``video_id`` utf-8 str (N,), ``label_index`` int (N,), ``subset`` str train/test (N,),
  ``softmax`` float32 (N, C), ``codes`` float32 (N, D); attrs ``alpha``, ``pretrained``.
Hand-crafted posteriors (``results/handcrafted/split{k}/posteriors.h5``):
  ``video_id`` (N_test,), ``label_index`` (N_test,), one (N_test, C) array per method key.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from ..errors import BadInputError

STREAMS = ("ir", "flow")


def _strings(arr) -> np.ndarray:
    return np.array([v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in arr], dtype=object)


def _attrs(h5) -> dict:
    out = {}
    for k, v in h5.attrs.items():
        if isinstance(v, bytes):
            v = v.decode("utf-8")
        elif isinstance(v, np.generic):
            v = v.item()
        elif isinstance(v, np.ndarray):
            v = v.tolist()
        out[k] = v
    return out


@dataclass
class StreamPredictions:
    """One stream's per-video outputs for one split."""

    path: str
    video_id: np.ndarray
    label_index: np.ndarray
    subset: np.ndarray
    softmax: np.ndarray
    codes: np.ndarray
    attrs: dict = field(default_factory=dict)

    def select(self, subset: str) -> "StreamPredictions":
        m = self.subset == subset
        return StreamPredictions(self.path, self.video_id[m], self.label_index[m], self.subset[m],
                                 self.softmax[m], self.codes[m], self.attrs)

    def reorder(self, video_ids) -> "StreamPredictions":
        pos = {v: i for i, v in enumerate(self.video_id)}
        idx = np.array([pos[v] for v in video_ids], dtype=np.int64)
        return StreamPredictions(self.path, self.video_id[idx], self.label_index[idx], self.subset[idx],
                                 self.softmax[idx], self.codes[idx], self.attrs)


def _check_common(path, video_id, label_index, n_classes, arrays: dict) -> None:
    n = len(video_id)
    if n == 0:
        raise BadInputError(path, "holds no videos")
    if len(set(video_id)) != n:
        dup = pd.Series(video_id).value_counts()
        raise BadInputError(path, f"duplicate video ids: {list(dup[dup > 1].index[:5])}")
    if label_index.shape != (n,):
        raise BadInputError(path, f"label_index has shape {label_index.shape}, expected ({n},)")
    if n_classes is not None and (np.any(label_index < 0) or np.any(label_index >= n_classes)):
        raise BadInputError(path, f"label_index outside 0..{n_classes - 1}")
    for name, arr in arrays.items():
        if arr.ndim != 2 or arr.shape[0] != n:
            raise BadInputError(path, f"'{name}' has shape {arr.shape}, expected ({n}, ...)")
        if not np.all(np.isfinite(arr)):
            raise BadInputError(path, f"'{name}' holds NaN or infinite values")


def read_predictions(path: str | os.PathLike, n_classes: int | None = None) -> StreamPredictions:
    """Read and validate one C3D predictions file."""
    path = str(path)
    if not Path(path).exists():
        raise BadInputError(path, "file does not exist")
    try:
        with h5py.File(path, "r") as h5:
            missing = [k for k in ("video_id", "label_index", "subset", "softmax", "codes") if k not in h5]
            if missing:
                raise BadInputError(path, f"missing datasets {missing} (has {sorted(h5.keys())})")
            video_id = _strings(h5["video_id"][()])
            label_index = np.asarray(h5["label_index"][()]).astype(np.int64)
            subset = _strings(h5["subset"][()])
            softmax = np.asarray(h5["softmax"][()], dtype=np.float64)
            codes = np.asarray(h5["codes"][()], dtype=np.float64)
            attrs = _attrs(h5)
    except OSError as exc:
        raise BadInputError(path, f"not a readable HDF5 file ({exc})") from None
    _check_common(path, video_id, label_index, n_classes, {"softmax": softmax, "codes": codes})
    if n_classes is not None and softmax.shape[1] != n_classes:
        raise BadInputError(path, f"softmax has {softmax.shape[1]} classes, config lists {n_classes}")
    bad = sorted(set(subset) - {"train", "test"})
    if bad:
        raise BadInputError(path, f"subset values {bad}: expected train/test")
    for s in ("train", "test"):
        if not np.any(subset == s):
            raise BadInputError(path, f"no {s} videos")
    return StreamPredictions(path, video_id, label_index, subset, softmax, codes, attrs)


def read_posteriors(path: str | os.PathLike, methods, n_classes: int | None = None):
    """Read hand-crafted posteriors: (video_id, label_index, {method: (N_test, C)}, attrs)."""
    path = str(path)
    if not Path(path).exists():
        raise BadInputError(path, "file does not exist")
    try:
        with h5py.File(path, "r") as h5:
            missing = [k for k in ("video_id", "label_index", *methods) if k not in h5]
            if missing:
                raise BadInputError(path, f"missing datasets {missing} (has {sorted(h5.keys())})")
            video_id = _strings(h5["video_id"][()])
            label_index = np.asarray(h5["label_index"][()]).astype(np.int64)
            arrays = {m: np.asarray(h5[m][()], dtype=np.float64) for m in methods}
            attrs = _attrs(h5)
    except OSError as exc:
        raise BadInputError(path, f"not a readable HDF5 file ({exc})") from None
    _check_common(path, video_id, label_index, n_classes, arrays)
    for m, a in arrays.items():
        if n_classes is not None and a.shape[1] != n_classes:
            raise BadInputError(path, f"'{m}' has {a.shape[1]} classes, config lists {n_classes}")
    return video_id, label_index, arrays, attrs


def align_streams(preds: dict[str, StreamPredictions]) -> dict[str, StreamPredictions]:
    """Put every stream in the first stream's video order; the streams must cover the same
    videos with the same labels and subsets (a mismatch is an error naming both files)."""
    names = list(preds)
    ref = preds[names[0]]
    out = {names[0]: ref}
    for s in names[1:]:
        p = preds[s]
        a, b = set(ref.video_id), set(p.video_id)
        if a != b:
            only_a, only_b = sorted(a - b)[:5], sorted(b - a)[:5]
            raise BadInputError(p.path, f"videos differ from {ref.path}: only there {only_a}, only here {only_b}")
        q = p.reorder(ref.video_id)
        if np.any(q.label_index != ref.label_index):
            raise BadInputError(p.path, f"labels disagree with {ref.path}")
        if np.any(q.subset != ref.subset):
            raise BadInputError(p.path, f"train/test membership disagrees with {ref.path}")
        out[s] = q
    return out


def check_against_splits(pred: StreamPredictions, splits: pd.DataFrame, split: int) -> list[str]:
    """Compare one stream's videos with ``splits.csv`` for ``split``.

    Returns the ids of split videos that the predictions lack (the caller records or rejects
    them); a video the splits do not list, or a label / subset disagreement, is an error.
    """
    sub = splits[splits["split"].astype(int) == int(split)]
    expect = {r.video_id: (int(r.label_index), str(r.subset)) for r in sub.itertuples()}
    extra = sorted(set(pred.video_id) - set(expect))
    if extra:
        raise BadInputError(pred.path, f"videos not in split {split} of splits.csv: {extra[:5]}")
    for v, lab, sset in zip(pred.video_id, pred.label_index, pred.subset):
        if expect[v] != (int(lab), str(sset)):
            raise BadInputError(pred.path, f"video {v}: label/subset ({lab}, {sset}) but splits.csv says {expect[v]}")
    return sorted(set(expect) - set(pred.video_id))
