"""Recognition mode of the detector (seed 001 on InfAR): train the two-stream + SCA
(TV-L1) model on trimmed videos (every snippet carries the video's label), then classify a
test video by averaging its snippet scores. One model per split of the recognition set."""
from __future__ import annotations

import logging
from typing import Mapping

import numpy as np
import pandas as pd

from ..eval.classification import classification_metrics
from .training import Clip, predict, train_variant

log = logging.getLogger(__name__)

PAPER_ACCURACY = 84.25


def run_recognition(feats: Mapping[str, dict], splits: pd.DataFrame, classes: list[str], cfg: Mapping,
                    seed: int, log_fn=None) -> pd.DataFrame:
    rcfg = cfg["recognition"]
    n = len(classes)
    rows = []
    for split, df in splits.groupby("split"):
        clips = {}
        for r in df.itertuples(index=False):
            vid = str(r.video_id)
            if vid not in feats:
                raise KeyError(f"no recognition features for video {vid}")
            f = feats[vid]
            s = f["ir"].shape[0]
            y = np.zeros((n, s), np.float32)
            y[int(r.label_index)] = 1
            clips[vid] = (Clip(vid, f["ir"].T, f["flow_tvl1"].T, y, f["n_frames"]), int(r.label_index), r.subset)
        train = [c for c, _, sub in clips.values() if sub == "train"]
        test = [(c, lab) for c, lab, sub in clips.values() if sub == "test"]
        model, stats = train_variant(rcfg["fusion"], train, n, cfg, seed + 700 + int(split),
                                     log_fn=log_fn, epochs=rcfg["epochs"])
        scores = predict(model, [c for c, _ in test], stats)
        video_scores = np.stack([scores[c.video_id].mean(1) for c, _ in test])
        y_true = np.array([lab for _, lab in test])
        m = classification_metrics(y_true, video_scores)
        rows.append({"method": f"recognition mode ({rcfg['fusion']}, TV-L1)", "split": int(split), **m})
        log.info("recognition split %s: accuracy %.4f macro AP %.4f", split, m["accuracy"], m["macro_ap"])
    return pd.DataFrame(rows)
