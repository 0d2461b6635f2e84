"""The hand-crafted baseline of seed 000 (Table 1): SVMs on Fisher vectors and on substitute
concept scores, early fusion of the concepts, late fusion of the six SVMs.

Per split (``classify_split``), from the three Fisher-vector files of the split:

- ``dsift``, ``osift``, ``idt``: linear SVM (Platt probabilities) on the Fisher vectors;
- ``<kind>_concepts``: the SUBSTITUTE concept bank (see ``concepts.py``) trained on the
  training Fisher vectors, out-of-fold scores for training videos, a linear SVM on the
  standardised concept scores;
- ``early_concepts``: one SVM on the concatenated concept scores of the three kinds;
- ``late_all``: the average of the posteriors of the six SVMs above.

Outputs ``concepts.h5`` (substitute concept scores of all videos, training ones out of
fold), ``posteriors.h5`` (``video_id``, ``label_index`` of the test videos, one (N, C)
array per method) and ``metrics.csv`` (method, split, accuracy = mean per-class
accuracy, macro_ap = macro one-vs-rest AP, n_test). ``make_table1`` turns the per-split
metrics into Table 1 with the paper's eight rows.
"""
from __future__ import annotations

import logging
import os
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import BadInputError
from ..eval.classification import classification_metrics
from ..io import atomic_path, write_csv
from .classifiers import LinearSVMProba
from .concepts import SubstituteConceptBank
from .encode import read_fv

log = logging.getLogger(__name__)

KINDS = ("dsift", "osift", "idt")
METHODS = ("dsift", "dsift_concepts", "osift", "osift_concepts", "idt", "idt_concepts",
           "early_concepts", "late_all")
TABLE1_NAMES = {
    "dsift": "D-SIFT",
    "dsift_concepts": "D-SIFT based concepts",
    "osift": "O-SIFT",
    "osift_concepts": "O-SIFT based concepts",
    "idt": "IDT",
    "idt_concepts": "IDT based concepts",
    "early_concepts": "Early fusion of all concepts",
    "late_all": "Late fusion of all features",
}
TABLE1_PAPER = {"D-SIFT": 46.7, "D-SIFT based concepts": 46.7, "O-SIFT": 47.5, "O-SIFT based concepts": 47.1,
                "IDT": 43.3, "IDT based concepts": 44.6, "Early fusion of all concepts": 47.5,
                "Late fusion of all features": 47.9}


def _aligned(fv_paths: Mapping[str, str]) -> tuple[dict, list[str], np.ndarray, np.ndarray]:
    """Load the three FV files and keep the videos present in all of them (same order)."""
    data = {k: read_fv(fv_paths[k]) for k in KINDS}
    common = set(data[KINDS[0]]["video_id"])
    for k in KINDS[1:]:
        common &= set(data[k]["video_id"])
    ref = data[KINDS[0]]
    order = [v for v in ref["video_id"] if v in common]
    feats = {}
    for k in KINDS:
        pos = {v: i for i, v in enumerate(data[k]["video_id"])}
        idx = np.array([pos[v] for v in order], dtype=np.int64)
        feats[k] = data[k]["fv"][idx]
    pos = {v: i for i, v in enumerate(ref["video_id"])}
    idx = np.array([pos[v] for v in order], dtype=np.int64)
    return feats, order, ref["label_index"][idx].astype(np.int64), ref["is_train"][idx]


def classify_split(fv_paths: Mapping[str, str], cfg: dict, seed: int, n_classes: int, split: int) -> dict:
    """Train and evaluate the eight Table 1 methods on one split; returns arrays and rows."""
    feats, ids, y, is_train = _aligned(fv_paths)
    tr, te = np.flatnonzero(is_train), np.flatnonzero(~is_train)
    if len(te) == 0:
        raise BadInputError(f"<split {split}>", "no test videos left")
    ytr = y[tr]
    if len(np.unique(ytr)) < 2:
        raise BadInputError(f"<split {split}>", "fewer than two classes among the training videos")
    svm_cfg, ccfg = cfg["svm"], cfg["concepts"]
    post: dict[str, np.ndarray] = {}
    concept_tr, concept_te = [], []
    for j, kind in enumerate(KINDS):
        X = feats[kind]
        s = seed + 17 * j + 1000 * split
        post[kind] = LinearSVMProba(svm_cfg["C"], n_classes, s).fit(X[tr], ytr).predict_proba(X[te])
        bank = SubstituteConceptBank(ccfg["n_concepts"], ccfg["kind"], ccfg["ridge"], ccfg["n_folds"], s)
        c_tr = bank.fit_transform_oof(X[tr], ytr)
        c_te = bank.transform(X[te])
        concept_tr.append(c_tr)
        concept_te.append(c_te)
        post[f"{kind}_concepts"] = (LinearSVMProba(svm_cfg["C_concepts"], n_classes, s + 1, standardise=True)
                                    .fit(c_tr, ytr).predict_proba(c_te))
    post["early_concepts"] = (LinearSVMProba(svm_cfg["C_concepts"], n_classes, seed + 99 + 1000 * split,
                                             standardise=True)
                              .fit(np.concatenate(concept_tr, axis=1), ytr)
                              .predict_proba(np.concatenate(concept_te, axis=1)))
    six = ["dsift", "dsift_concepts", "osift", "osift_concepts", "idt", "idt_concepts"]
    post["late_all"] = np.mean([post[m] for m in six], axis=0)
    rows = []
    for m in METHODS:
        if not np.all(np.isfinite(post[m])):
            raise RuntimeError(f"non-finite posteriors for {m} on split {split}")
        met = classification_metrics(y[te], post[m])
        rows.append({"method": m, "split": int(split), **met, "n_test": int(len(te)), "n_train": int(len(tr))})
    order = np.concatenate([tr, te])
    concepts = {"video_id": [ids[i] for i in order], "label_index": y[order], "is_train": is_train[order],
                "scores": {k: np.concatenate([concept_tr[j], concept_te[j]]) for j, k in enumerate(KINDS)}}
    return {"video_id": [ids[i] for i in te], "label_index": y[te], "posteriors": post,
            "metrics": pd.DataFrame(rows), "concepts": concepts}


def write_concepts(path: str | os.PathLike, result: dict, attrs: Mapping | None = None) -> None:
    """Substitute concept scores of every video of the split (training videos: out of fold)."""
    import h5py

    c = result["concepts"]
    with atomic_path(path, suffix=".tmp.h5") as tmp:
        with h5py.File(tmp, "w") as h5:
            h5.create_dataset("video_id", data=np.array(c["video_id"], dtype=object),
                              dtype=h5py.string_dtype("utf-8"))
            h5.create_dataset("label_index", data=np.asarray(c["label_index"], np.int64))
            h5.create_dataset("is_train", data=np.asarray(c["is_train"], bool))
            for k, v in c["scores"].items():
                h5.create_dataset(f"scores_{k}", data=np.asarray(v, np.float32))
            for k, v in (attrs or {}).items():
                h5.attrs[k] = v


def write_posteriors(path: str | os.PathLike, result: dict, attrs: Mapping | None = None) -> None:
    import h5py

    with atomic_path(path, suffix=".tmp.h5") as tmp:
        with h5py.File(tmp, "w") as h5:
            h5.create_dataset("video_id", data=np.array(result["video_id"], dtype=object),
                              dtype=h5py.string_dtype("utf-8"))
            h5.create_dataset("label_index", data=np.asarray(result["label_index"], np.int64))
            for m in METHODS:
                h5.create_dataset(m, data=np.asarray(result["posteriors"][m], np.float32))
            for k, v in (attrs or {}).items():
                h5.attrs[k] = v


def read_posteriors(path: str | os.PathLike) -> dict:
    import h5py

    with h5py.File(path, "r") as h5:
        out = {k: h5[k][()] for k in h5.keys()}
    out["video_id"] = [v.decode() if isinstance(v, bytes) else str(v) for v in out["video_id"]]
    return out


def make_table1(metric_paths: Sequence[str | os.PathLike], csv_path, md_path, concept_name: str,
                deviations: Sequence[str] = ()) -> pd.DataFrame:
    from ..report.tables import summarise_splits, write_table

    rows = pd.concat([pd.read_csv(p) for p in metric_paths], ignore_index=True)
    rows["method"] = rows["method"].map(TABLE1_NAMES)
    names = [TABLE1_NAMES[m] for m in METHODS]
    df = summarise_splits(rows.to_dict("records"), names, paper=TABLE1_PAPER)
    n_splits = rows["split"].nunique()
    note = (f"Concept rows use a {concept_name} in place of the paper's 2,784 VideoStory46K detectors. "
            f"Accuracy = mean per-class accuracy (the paper's \"AP\"); macro AP = macro one-vs-rest average "
            f"precision. Mean ± std over {n_splits} split(s). Paper column: seed 000 Table 1 on InfAR; numbers "
            "on the embedded synthetic data set are synthetic and not comparable to it.")
    if deviations:
        note += " Settings and deviations from the paper: " + "; ".join(deviations) + "."
    write_table(df, csv_path, md_path, title="Table 1: hand-crafted features (seed 000)", note=note)
    return df


def write_metrics(path, result: dict) -> None:
    write_csv(path, result["metrics"])
