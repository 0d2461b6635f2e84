"""One split of the fusion stage: read both streams (and the concept posteriors), fuse, score.

Output ``results/fusion/split{k}/scores.h5``: ``video_id``, ``label_index`` of the test videos
and one (N_test, C) score matrix per method: the Table 3 methods (``lf1``, ``lf2``, ``nn1``,
``nn2``, ``lf2_concepts``) and the single-stream references the figures use
(``ir_softmax``, ``flow_softmax``; ``ir_knn``, ``flow_knn``: majority-vote k-NN on codes as in
Table 2; ``ir_lf2``, ``flow_lf2``: one stream's LF2 scores). ``metrics.json`` beside it holds
accuracy (mean per-class) and macro one-vs-rest AP per method.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..data.stores import write_arrays
from ..errors import BadInput, BadInputError, bad_inputs_frame, handle_bad_input
from ..eval.classification import classification_metrics
from ..io import write_csv, write_json
from . import late, nn
from .inputs import StreamPredictions, align_streams, check_against_splits, read_posteriors, read_predictions
from .sweeps import knn_vote_scores

log = logging.getLogger(__name__)

TABLE3_METHODS = ["lf1", "lf2", "nn1", "nn2", "lf2_concepts"]
TABLE3_NAMES = {
    "lf1": "Late fusion 1",
    "lf2": "Late fusion 2",
    "nn1": "Single-layer NN fusion",
    "nn2": "Two-layer NN fusion",
    "lf2_concepts": "Late fusion 2 + early-fused concepts",
}
TABLE3_PAPER = {"Late fusion 1": 74.0, "Late fusion 2": 77.5, "Single-layer NN fusion": 71.25,
                "Two-layer NN fusion": 70.42, "Late fusion 2 + early-fused concepts": 79.2}
STREAM_METHODS = ["ir_softmax", "flow_softmax", "ir_knn", "flow_knn", "ir_lf2", "flow_lf2"]


@dataclass
class FusedScores:
    video_id: np.ndarray
    label_index: np.ndarray
    scores: dict
    attrs: dict = field(default_factory=dict)

    def metrics(self) -> dict:
        return {m: classification_metrics(self.label_index, s) for m, s in self.scores.items()}


def concept_scores_to_probabilities(scores: np.ndarray, how: str) -> np.ndarray:
    """Make the concept posteriors comparable with LF2's l1-normalised scores."""
    if how == "l1":
        return late.l1_normalise(scores)
    if how == "softmax":
        z = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
    raise ValueError(f"unknown concept score normalisation {how!r}")


def fuse(train: Mapping[str, StreamPredictions], test: Mapping[str, StreamPredictions], n_classes: int,
         cfg: Mapping, seed: int, concepts: np.ndarray | None = None, knn_k: int = 5) -> dict:
    """All fused and single-stream test scores for one split (streams already aligned)."""
    ytr = train["ir"].label_index
    lf2 = cfg["lf2"]
    out: dict[str, np.ndarray] = {}
    for s in ("ir", "flow"):
        out[f"{s}_softmax"] = test[s].softmax
        out[f"{s}_lf2"] = late.knn_class_scores(test[s].codes, train[s].codes, ytr, n_classes,
                                                lf2["k"], lf2["gamma"])
        out[f"{s}_knn"] = knn_vote_scores(test[s].codes, train[s].codes, ytr, n_classes, knn_k)
    out["lf1"] = late.late_fusion_1({s: test[s].softmax for s in ("ir", "flow")}, cfg["lf1"]["weights"])
    out["lf2"] = late.weighted_average([out["flow_lf2"], out["ir_lf2"]],
                                       [lf2["weights"]["flow"], lf2["weights"]["ir"]])
    ncfg = cfg["nn"]
    xtr = nn.stack_codes({s: train[s].codes for s in ("ir", "flow")})
    xte = nn.stack_codes({s: test[s].codes for s in ("ir", "flow")})
    for i, (name, kind) in enumerate((("nn1", "single_layer"), ("nn2", "two_layer"))):
        net = nn.train_fusion_net(kind, xtr, ytr, n_classes, epochs=ncfg["epochs"], lr=ncfg["lr"],
                                  weight_decay=ncfg["weight_decay"], batch_size=ncfg["batch_size"],
                                  filters=ncfg["filters"], seed=seed + 101 * (i + 1),
                                  threads=ncfg.get("threads"), device=ncfg.get("device", "cpu"),
                                  reading=ncfg["two_layer"])
        log.info("%s: final training loss %.4f", kind, net.losses[-1])
        out[name] = net.predict_proba(xte)
    if concepts is not None:
        out["lf2_concepts"] = late.average_class_scores([out["lf2"], concepts])
    return out


def run_split(ir_path: str, flow_path: str, posteriors_path: str | None, splits_csv: str, split: int,
              classes: list[str], cfg: Mapping, seed: int, policy: str = "error",
              bad_inputs: list[BadInput] | None = None, knn_k: int = 5) -> FusedScores:
    """Read, check against splits.csv, fuse. Videos missing from an input are an error, or
    under ``policy == 'skip'`` recorded in ``bad_inputs`` and left out of every method alike."""
    n_classes = len(classes)
    sink = bad_inputs if bad_inputs is not None else []
    preds = align_streams({"ir": read_predictions(ir_path, n_classes), "flow": read_predictions(flow_path, n_classes)})
    splits = pd.read_csv(splits_csv, dtype={"video_id": str})
    for s, p in preds.items():
        for v in check_against_splits(p, splits, split):
            handle_bad_input(BadInputError(p.path, f"no prediction for video {v} of split {split}"),
                             policy, "recognition", "fusion", sink)
    train = {s: p.select("train") for s, p in preds.items()}
    test = {s: p.select("test") for s, p in preds.items()}
    concepts = None
    attrs = {f"{s}.{k}": v for s, p in preds.items() for k, v in p.attrs.items()}
    attrs["split"] = int(split)
    if posteriors_path is not None:
        ccfg = cfg["concepts"]
        vid, lab, arrays, hc_attrs = read_posteriors(posteriors_path, [ccfg["method"]], n_classes)
        pos = {v: i for i, v in enumerate(vid)}
        keep = []
        for j, v in enumerate(test["ir"].video_id):
            if v in pos:
                keep.append(j)
            else:
                handle_bad_input(BadInputError(posteriors_path, f"no concept scores for test video {v}"),
                                 policy, "recognition", "fusion", sink)
        keep = np.asarray(keep, dtype=np.int64)
        if len(keep) == 0:
            raise BadInputError(posteriors_path, f"no test video of split {split} has concept scores")
        test = {s: p.reorder(p.video_id[keep]) for s, p in test.items()}
        idx = np.array([pos[v] for v in test["ir"].video_id])
        if np.any(lab[idx] != test["ir"].label_index):
            raise BadInputError(posteriors_path, "labels disagree with the C3D predictions")
        concepts = concept_scores_to_probabilities(arrays[ccfg["method"]][idx], ccfg["normalise"])
        attrs.update({f"handcrafted.{k}": v for k, v in hc_attrs.items()})
    try:
        scores = fuse(train, test, n_classes, cfg, seed, concepts, knn_k)
    except ValueError as exc:
        raise BadInputError(ir_path, str(exc)) from None
    return FusedScores(test["ir"].video_id, test["ir"].label_index, scores, attrs)


def write_scores(fused: FusedScores, h5_path: str | Path, metrics_path: str | Path,
                 attrs: Mapping | None = None) -> dict:
    arrays = {"video_id": np.array([v.encode() for v in fused.video_id]),
              "label_index": fused.label_index.astype(np.int64)}
    for m, s in fused.scores.items():
        if not np.all(np.isfinite(s)):
            raise FloatingPointError(f"method {m} produced non-finite scores")
        arrays[m] = s.astype(np.float32)
    all_attrs = {k: (v if isinstance(v, (int, float, str, np.generic)) else str(v)) for k, v in fused.attrs.items()}
    all_attrs.update(attrs or {})
    write_arrays(h5_path, arrays, all_attrs)
    metrics = fused.metrics()
    write_json(metrics_path, metrics)
    return metrics


def read_scores(path: str | Path) -> FusedScores:
    import h5py

    with h5py.File(path, "r") as h5:
        vid = np.array([v.decode() if isinstance(v, bytes) else str(v) for v in h5["video_id"][()]], dtype=object)
        lab = h5["label_index"][()].astype(np.int64)
        scores = {k: h5[k][()].astype(np.float64) for k in h5.keys() if k not in ("video_id", "label_index")}
        attrs = {k: (v.decode() if isinstance(v, bytes) else v.item() if isinstance(v, np.generic) else v)
                 for k, v in h5.attrs.items()}
    return FusedScores(vid, lab, scores, attrs)


def write_bad_inputs(path: str | Path, items: list[BadInput]) -> None:
    write_csv(path, bad_inputs_frame(items))
