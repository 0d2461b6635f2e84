"""Per-video predictions of a classifier stream: one HDF5 file, written atomically.

Datasets: ``video_id`` (utf-8 str), ``label_index`` (int64), ``subset`` (str, train/test),
``softmax`` (N, C) float32, ``codes`` (N, D) float32, ``n_clips`` (N,) int64. Attributes are
free-form (the C3D stage writes alpha, n_clips, pretrained, codes_source, stream, ...).
"""
from __future__ import annotations

import os
from typing import Mapping

import h5py
import numpy as np

from ..errors import BadInputError
from ..io import hdf5_strings, hdf5_writer

REQUIRED = ("video_id", "label_index", "subset", "softmax", "codes")


def write_predictions(path: str | os.PathLike, video_id, label_index, subset, softmax, codes,
                      attrs: Mapping, n_clips=None) -> None:
    softmax = np.asarray(softmax, dtype=np.float32)
    codes = np.asarray(codes, dtype=np.float32)
    n = len(video_id)
    if softmax.shape[0] != n or codes.shape[0] != n or len(label_index) != n or len(subset) != n:
        raise ValueError("predictions: every dataset needs one row per video")
    if not (np.all(np.isfinite(softmax)) and np.all(np.isfinite(codes))):
        raise ValueError("predictions: non-finite softmax or codes (refusing to write NaN outputs)")
    with hdf5_writer(path) as h5:
        ids, sdt = hdf5_strings(video_id)
        h5.create_dataset("video_id", data=ids, dtype=sdt)
        h5.create_dataset("label_index", data=np.asarray(label_index, dtype=np.int64))
        h5.create_dataset("subset", data=hdf5_strings(subset)[0], dtype=sdt)
        h5.create_dataset("softmax", data=softmax)
        h5.create_dataset("codes", data=codes)
        if n_clips is not None:
            h5.create_dataset("n_clips", data=np.asarray(n_clips, dtype=np.int64))
        for key, value in attrs.items():
            h5.attrs[key] = "" if value is None else value


def read_predictions(path: str | os.PathLike) -> dict:
    """All datasets as numpy arrays (strings decoded) plus ``attrs``."""
    try:
        with h5py.File(path, "r") as h5:
            missing = [k for k in REQUIRED if k not in h5]
            if missing:
                raise BadInputError(path, f"predictions file lacks {missing}")
            out = {k: h5[k][()] for k in h5.keys()}
            out["attrs"] = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in h5.attrs.items()}
    except OSError as exc:
        raise BadInputError(path, f"unreadable predictions file: {exc}") from None
    for k in ("video_id", "subset"):
        out[k] = np.array([v.decode() if isinstance(v, bytes) else str(v) for v in out[k]], dtype=object)
    return out
