"""Per split and descriptor kind: fit PCA + GMM on TRAINING videos only, Fisher-encode all.

Output ``results/handcrafted/split<k>/fv_<kind>.h5``:
  ``video_id`` (utf-8), ``label_index`` int, ``is_train`` bool, ``fv`` float32 (n, dim);
  attrs: kind, split, parts (descriptor arrays encoded, concatenated in this order),
  part_dims, gmm_components, pooling, pca_dims, n_samples, seed, bad_inputs (JSON list of
  [video_id, reason] left out under ``on_bad_input: skip``).
For IDT the five descriptor types get their own PCA + GMM + Fisher vector, concatenated.
"""
from __future__ import annotations

import json
import logging
import os
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import BadInputError
from ..io import hdf5_strings, hdf5_writer
from .descriptors import PARTS, descriptor_attrs, read_descriptors, read_frame_index
from .fisher import FisherEncoder

log = logging.getLogger(__name__)

KIND_OFFSET = {"dsift": 101, "osift": 202, "idt": 303}


def split_table(splits: pd.DataFrame, split: int) -> pd.DataFrame:
    sub = splits[splits["split"].astype(int) == int(split)].copy()
    if sub.empty:
        raise BadInputError("splits.csv", f"split {split} has no videos")
    sub["is_train"] = sub["subset"].astype(str) == "train"
    return sub.sort_values(["is_train", "video_id"], ascending=[False, True]).reset_index(drop=True)


def encode_split(kind: str, split: int, splits: pd.DataFrame, descriptor_paths: Mapping[str, str],
                 cfg: dict, seed: int, out_path: str | os.PathLike, progress: bool = False) -> dict:
    """Fit the encoders of one descriptor kind on a split's training videos; encode all videos."""
    enc_cfg = cfg["encoding"]
    table = split_table(splits, split)
    missing = [v for v in table["video_id"] if v not in descriptor_paths]
    if missing:
        raise BadInputError(f"<descriptors {kind}>", f"no descriptor file for videos {missing[:5]}")
    bad: list[tuple[str, str]] = []
    valid = np.ones(len(table), bool)
    for i, vid in enumerate(table["video_id"]):
        reason = descriptor_attrs(descriptor_paths[vid]).get("bad_input", "")
        if reason:
            bad.append((vid, reason))
            valid[i] = False
    train_ids = table.loc[table["is_train"] & valid, "video_id"].tolist()
    train_y = table.loc[table["is_train"] & valid, "label_index"].astype(int).to_numpy()
    classes = sorted(table["label_index"].astype(int).unique())
    for c in classes:
        if not np.any(train_y == c):
            raise BadInputError(f"<split {split} training videos>",
                                f"class {c} has no usable training video for {kind} (all skipped as bad inputs)")
    part_seed = seed + KIND_OFFSET[kind] + 1000 * int(split)
    fvs, part_dims, pca_dims, n_samples = [], [], [], []
    it = PARTS[kind]
    for j, part in enumerate(it):
        enc = FisherEncoder(n_components=enc_cfg["gmm_components"], pca_fraction=enc_cfg["pca_fraction"],
                            sample_size=enc_cfg["sample_size"], max_iter=enc_cfg["gmm_max_iter"],
                            seed=part_seed + j, name=f"{kind}/{part} split {split}",
                            min_per_component=enc_cfg["min_per_component"],
                            gmm_backend=enc_cfg["gmm_backend"])
        # fit on a seeded per-video sample of training descriptors (one video in memory at a time)
        per = int(np.ceil(enc_cfg["sample_size"] / max(1, len(train_ids))))
        rng = np.random.default_rng(part_seed + j)
        sample = []
        for vid in train_ids:
            d = read_descriptors(descriptor_paths[vid], part)
            if len(d) > per:
                d = d[np.sort(rng.choice(len(d), per, replace=False))]
            sample.append(np.asarray(d, np.float64))
        enc.fit_sample(np.concatenate(sample) if sample else np.zeros((0, 1)), n_videos=len(train_ids))
        rows = np.zeros((len(table), enc.dim_), np.float32)
        ids = table["video_id"].tolist()
        loop = range(len(ids))
        if progress:
            from tqdm import tqdm
            loop = tqdm(loop, desc=f"fv {kind}/{part}", unit="video")
        pooling = enc_cfg["pooling"]
        for i in loop:
            if valid[i]:
                path = descriptor_paths[ids[i]]
                frames = [read_frame_index(path, kind)] if pooling == "frames" else None
                rows[i] = enc.transform([read_descriptors(path, part)], frame_index=frames)[0]
        fvs.append(rows)
        part_dims.append(enc.dim_)
        pca_dims.append(enc.pca_.n_components_)
        n_samples.append(enc.n_samples_fit_)
        log.info("%s/%s split %d: PCA %d -> %d, GMM K=%d on %d descriptors (%s EM, %s iterations), FV dim %d",
                 kind, part, split, enc.pca_.n_features_in_, enc.pca_.n_components_,
                 enc_cfg["gmm_components"], enc.n_samples_fit_, enc.gmm_.backend_,
                 getattr(enc.gmm_, "n_iter_", "?"), enc.dim_)
    fv = np.concatenate(fvs, axis=1)
    if not np.all(np.isfinite(fv)):
        raise RuntimeError(f"non-finite Fisher vectors for {kind} split {split}")
    keep = valid
    attrs = {"kind": kind, "split": int(split), "parts": json.dumps(list(it)), "part_dims": json.dumps(part_dims),
             "gmm_components": enc_cfg["gmm_components"], "pooling": enc_cfg["pooling"], "pca_dims": json.dumps(pca_dims),
             "n_samples": json.dumps(n_samples), "seed": part_seed, "bad_inputs": json.dumps(bad)}
    with hdf5_writer(out_path) as h5:
        ids, sdt = hdf5_strings(table["video_id"][keep].tolist())
        h5.create_dataset("video_id", data=ids, dtype=sdt)
        h5.create_dataset("label_index", data=table["label_index"][keep].astype(np.int64).to_numpy())
        h5.create_dataset("is_train", data=table["is_train"][keep].to_numpy())
        h5.create_dataset("fv", data=fv[keep], compression="gzip", compression_opts=1)
        for k, v in attrs.items():
            h5.attrs[k] = v
    return {"n_videos": int(keep.sum()), "n_train": int((table["is_train"] & keep).sum()),
            "dim": int(fv.shape[1]), "n_bad": len(bad), "n_samples": int(sum(n_samples))}


def read_fv(path: str | os.PathLike) -> dict:
    import h5py

    with h5py.File(path, "r") as h5:
        return {"video_id": [v.decode() if isinstance(v, bytes) else str(v) for v in h5["video_id"][()]],
                "label_index": h5["label_index"][()], "is_train": h5["is_train"][()].astype(bool),
                "fv": h5["fv"][()], "attrs": dict(h5.attrs)}
