"""Synthetic stand-ins for the fusion stage's inputs, written in the contract's formats."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from irpipe.eval import predictions as eval_predictions
from irpipe.features import baseline

CLASSES = ["fight", "hug", "jog", "wave"]
HANDCRAFTED_KEYS = list(baseline.METHODS)


def _videos(per_class=10):
    return [(f"{c}_{i:02d}", ci) for ci, c in enumerate(CLASSES) for i in range(per_class)]


def write_splits(path, n_splits=2, per_class=10, n_train=6, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    vids = _videos(per_class)
    for s in range(n_splits):
        for ci, c in enumerate(CLASSES):
            mine = [v for v, k in vids if k == ci]
            train = set(rng.permutation(mine)[:n_train])
            rows += [{"video_id": v, "label": c, "label_index": ci, "split": s,
                      "subset": "train" if v in train else "test"} for v in mine]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    return pd.DataFrame(rows)


def write_predictions(path, splits: pd.DataFrame, split: int, spread: float, seed: int, dim=16,
                      alpha=0.02, drop=()):
    """Codes = class mean + N(0, 1); class means N(0, spread): larger spread, easier stream."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0, spread, size=(len(CLASSES), dim))
    sub = splits[(splits["split"] == split) & ~splits["video_id"].isin(drop)]
    y = sub["label_index"].to_numpy()
    codes = means[y] + rng.normal(size=(len(y), dim))
    logits = -((codes[:, None, :] - means[None]) ** 2).sum(-1) / dim
    soft = np.exp(logits - logits.max(1, keepdims=True))
    soft /= soft.sum(1, keepdims=True)
    # the C3D stage's own writer: the fakes follow the real file layout
    eval_predictions.write_predictions(path, sub["video_id"].tolist(), y, sub["subset"].tolist(), soft, codes,
                                       {"alpha": alpha, "pretrained": "none (random init: substitute for Sports-1M)"})


def write_posteriors(path, splits: pd.DataFrame, split: int, seed: int):
    rng = np.random.default_rng(seed)
    sub = splits[(splits["split"] == split) & (splits["subset"] == "test")]
    y = sub["label_index"].to_numpy()
    post = {}
    for key in HANDCRAFTED_KEYS:
        p = rng.dirichlet(np.ones(len(CLASSES)), size=len(y))
        p[np.arange(len(y)), y] += 0.3
        post[key] = (p / p.sum(1, keepdims=True)).astype(np.float32)
    # the hand-crafted stage's own writer
    baseline.write_posteriors(path, {"video_id": sub["video_id"].tolist(), "label_index": y, "posteriors": post},
                              {"concepts": "concept bank (substitute for VideoStory46K)"})


def write_all(root, n_splits=2, alphas=(0.0, 0.02, 0.1)):
    """The whole input tree under ``root`` (a workflow directory)."""
    root = Path(root)
    splits = write_splits(root / "results/data/recognition/splits.csv", n_splits)
    for s in range(n_splits):
        for variant in ("dcl", "nodcl"):
            write_predictions(root / f"results/c3d/ir_{variant}/split{s}/predictions.h5", splits, s, 1.0, 10 + s)
            write_predictions(root / f"results/c3d/flow_{variant}/split{s}/predictions.h5", splits, s, 1.5, 20 + s)
        (root / f"results/handcrafted/split{s}").mkdir(parents=True, exist_ok=True)
        write_posteriors(root / f"results/handcrafted/split{s}/posteriors.h5", splits, s, 30 + s)
    for a in alphas:
        write_predictions(root / f"results/c3d/sweep/flow_alpha{float(a):g}/split0/predictions.h5", splits, 0,
                          1.0 + 5 * a, 40, alpha=a)
    return splits
