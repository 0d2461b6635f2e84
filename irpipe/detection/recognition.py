"""Recognition mode of the detector (seed 001 on InfAR): train the two-stream + SCA
(TV-L1) model on trimmed videos (every snippet carries the video's label), then classify a
test video by averaging its snippet scores. One model per split of the recognition set.

``detection.recognition.i3d``: ``frozen`` trains the fusion + head on the cached frozen-I3D
features; ``finetune`` (seed 001 section IV-F: the 3D CNNs are unfrozen for recognition)
trains both I3Ds jointly with the fusion + head, reading frames and TV-L1 flow. While
fine-tuning, the I3Ds' batch-norm statistics stay frozen (a batch is one video, too few
samples for batch statistics) and their inputs are standardised with the frozen features'
training statistics, so the first step starts exactly where the frozen model starts.
"""
from __future__ import annotations

import logging
from typing import Mapping

import numpy as np
import pandas as pd
import torch

from ..data import stores
from ..eval.classification import classification_metrics
from ..models.tgm import masked_bce
from .features import build_extractor, extract, flow_tensor, ir_tensor
from .training import Clip, _seed_all, build_model, feature_stats, predict, train_variant

log = logging.getLogger(__name__)

PAPER_ACCURACY = 84.25
SEED_OFFSET = 700


def _clips(feats: Mapping[str, dict], df: pd.DataFrame, n: int) -> dict:
    clips = {}
    for r in df.itertuples(index=False):
        vid = str(r.video_id)
        if vid not in feats:
            raise KeyError(f"no recognition features for video {vid}")
        f = feats[vid]
        y = np.zeros((n, f["ir"].shape[0]), np.float32)
        y[int(r.label_index)] = 1
        clips[vid] = (Clip(vid, f["ir"].T, f["flow_tvl1"].T, y, f["n_frames"]), int(r.label_index), r.subset)
    return clips


def run_recognition(feats: Mapping[str, dict], splits: pd.DataFrame, classes: list[str], cfg: Mapping,
                    seed: int, log_fn=None, video_data: Mapping | None = None) -> pd.DataFrame:
    """Per-split accuracy of recognition mode. ``video_data`` (needed when
    ``recognition.i3d`` is ``finetune``): frames and flow (video id -> store), frame_size, bound."""
    rcfg = cfg["recognition"]
    finetune = rcfg["i3d"] == "finetune"
    if finetune and not video_data:
        raise ValueError("detection.recognition.i3d: finetune needs the recognition videos' frames and flow")
    n = len(classes)
    rows = []
    for split, df in splits.groupby("split"):
        clips = _clips(feats, df, n)
        train = [c for c, _, sub in clips.values() if sub == "train"]
        test = [(c, lab) for c, lab, sub in clips.values() if sub == "test"]
        split_seed = seed + SEED_OFFSET + int(split)
        if finetune:
            scores = finetune_split(train, [c for c, _ in test], n, cfg, split_seed, video_data, log_fn,
                                    extractor_seed=seed)
        else:
            model, stats = train_variant(rcfg["fusion"], train, n, cfg, split_seed, log_fn=log_fn,
                                         epochs=rcfg["epochs"])
            scores = predict(model, [c for c, _ in test], stats)
        video_scores = np.stack([scores[c.video_id].mean(1) for c, _ in test])
        y_true = np.array([lab for _, lab in test])
        m = classification_metrics(y_true, video_scores)
        rows.append({"method": f"recognition mode ({rcfg['fusion']}, TV-L1, I3D {rcfg['i3d']})",
                     "split": int(split), **m})
        log.info("recognition split %s: accuracy %.4f macro AP %.4f", split, m["accuracy"], m["macro_ap"])
    return pd.DataFrame(rows)


def _video_inputs(vid: str, video_data: Mapping) -> tuple[torch.Tensor, torch.Tensor]:
    frames = stores.read_frames(video_data["frames"][vid], video_data["frame_size"])
    flow = stores.read_flow(video_data["flow"][vid])
    return ir_tensor(frames), flow_tensor(flow, float(video_data["bound"]), frames.shape[1:])


def trainable_extractors(icfg: Mapping, seed: int) -> dict:
    """The two I3Ds exactly as the feature cache built them (same seed or weights), with
    gradients on; left in eval mode, so their batch-norm statistics stay frozen."""
    out = {}
    for stream in ("ir", "flow"):
        m, _ = build_extractor(stream, icfg, seed)
        for p in m.parameters():
            p.requires_grad_(True)
        out[stream] = m
    return out


def finetune_split(train, test, n_classes: int, cfg: Mapping, seed: int, video_data: Mapping,
                   log_fn=None, extractor_seed: int = 0) -> dict[str, np.ndarray]:
    """Train both I3Ds + fusion + head on one split's training videos; (C, S) test scores.
    ``extractor_seed``: the seed the feature cache was built with (the run's seed)."""
    rcfg, icfg = cfg["recognition"], cfg["i3d"]
    extractors = trainable_extractors(icfg, extractor_seed)
    rng = _seed_all(seed)
    stats = {k: torch.from_numpy(v)[:, None] for k, v in feature_stats(train).items()}
    model = build_model(rcfg["fusion"], train[0].xi.shape[0], n_classes, cfg)
    i3d_params = [p for m in extractors.values() for p in m.parameters()]
    opt = torch.optim.Adam([{"params": i3d_params, "lr": float(rcfg["finetune_lr"])},
                            {"params": list(model.parameters()), "lr": float(cfg["train"]["lr"])}],
                           weight_decay=float(cfg["train"]["weight_decay"]))
    data = {c.video_id: _video_inputs(c.video_id, video_data) for c in list(train) + list(test)}

    def features(vid):
        xi, xf = data[vid]
        fi = (extract(extractors["ir"], xi, icfg["chunk_snippets"]) - stats["ir_mean"]) / stats["ir_std"]
        ff = (extract(extractors["flow"], xf, icfg["chunk_snippets"]) - stats["flow_mean"]) / stats["flow_std"]
        return fi[None], ff[None], torch.ones(1, fi.shape[-1])

    for epoch in range(int(rcfg["epochs"])):
        model.train()
        total = 0.0
        for i in rng.permutation(len(train)):
            c = train[i]
            xi, xf, mask = features(c.video_id)
            loss = masked_bce(model(xi, xf, mask), torch.from_numpy(c.y)[None], mask, cfg["train"]["bce_reduction"])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach())
        if log_fn:
            log_fn("finetune_bce", total / len(train), epoch + 1)
    model.eval()
    with torch.no_grad():
        return {c.video_id: torch.sigmoid(model(*features(c.video_id)))[0].numpy() for c in test}
