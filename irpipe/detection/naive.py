"""Naive detection baseline: what the learned detectors must beat on the same videos.

The per-snippet analogue of Table 1's naive row (:mod:`irpipe.features.naive`): every frame is
area-averaged to ``size x size``; a snippet is described by the six per-pixel maps (mean, std,
mean |temporal difference|, three temporal-thirds means) of a window of ``window_snippets``
snippets centred on it; one RBF SVM per class (one-vs-rest, balanced class weights: actions are
a small share of the snippets) is trained on the training videos' snippets, standardised with
their statistics. A snippet's class score is the logistic of the SVM's decision value, so it
lies in (0, 1) like the detectors' sigmoid outputs and goes through the same post-processing,
threshold calibration and evaluation as every other variant.
"""
from __future__ import annotations

import logging
from typing import Mapping, Sequence

import numpy as np

from ..errors import BadInputError
from ..features.naive import MIN_FRAMES, downsample, pixel_statistics
from .data import SNIPPET, n_snippets

log = logging.getLogger(__name__)

VARIANT = "naive"


def snippet_features(frames: np.ndarray, size: int, window_snippets: int, where: str = "<frames>",
                     snippet: int = SNIPPET) -> np.ndarray:
    """(S, 6 * size * size) features of one (T, H, W) video, one row per snippet.

    The window of snippet s spans ``window_snippets * snippet`` frames centred on the snippet's
    centre, clipped to the video and widened to ``MIN_FRAMES`` where the video allows."""
    small = downsample(frames, size, where)
    t = small.shape[0]
    if t < MIN_FRAMES:
        raise BadInputError(where, f"{t} frame(s); the naive baseline needs at least {MIN_FRAMES}")
    half = max(window_snippets * snippet, MIN_FRAMES) / 2.0
    rows = []
    for s in range(n_snippets(t, snippet)):
        centre = (s * snippet + min((s + 1) * snippet, t)) / 2.0
        a, b = int(np.floor(centre - half)), int(np.ceil(centre + half))
        a, b = max(0, a), min(t, b)
        if b - a < MIN_FRAMES:
            a, b = (0, MIN_FRAMES) if a == 0 else (t - MIN_FRAMES, t)
        rows.append(pixel_statistics(small[a:b], where))
    return np.asarray(rows)


def fit_score(train_x: Sequence[np.ndarray], train_y: Sequence[np.ndarray], score_x: Mapping[str, np.ndarray],
              cfg: Mapping, seed: int) -> dict[str, np.ndarray]:
    """Train one RBF SVM per class on the training snippets; return video -> (C, S) scores.

    ``train_x``: (S_v, F) per training video; ``train_y``: (C, S_v) binary targets per video;
    ``score_x``: video -> (S, F) snippets to score. At most ``max_train_snippets`` training
    snippets are used (drawn with ``seed``; SVM training grows with their square)."""
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    x = np.concatenate(list(train_x))
    y = np.concatenate([np.asarray(t).T for t in train_y]) > 0.5        # (N, C)
    cap = int(cfg["max_train_snippets"])
    if len(x) > cap:
        keep = np.sort(np.random.default_rng(seed).choice(len(x), cap, replace=False))
        x, y = x[keep], y[keep]
    scaler = StandardScaler().fit(x)
    xs = scaler.transform(x)
    scored = {v: scaler.transform(f) for v, f in score_x.items()}
    out = {v: np.zeros((y.shape[1], len(f)), np.float32) for v, f in scored.items()}
    for c in range(y.shape[1]):
        if not y[:, c].any() or y[:, c].all():
            log.warning("naive detection baseline: class %d has %s training snippet; scores 0", c,
                        "no positive" if not y[:, c].any() else "no negative")
            continue
        svm = SVC(C=float(cfg["C"]), kernel="rbf", gamma=cfg["gamma"], class_weight="balanced")
        svm.fit(xs, y[:, c])
        for v, f in scored.items():
            out[v][c] = 1.0 / (1.0 + np.exp(-svm.decision_function(f)))
    return out


def naive_variant_scores(items: Mapping, n_classes: int, cfg: Mapping, frame_stores: Mapping[str, str],
                         frame_size: str | None, seed: int, exclude: Sequence[str] = ()) -> tuple[dict[str, np.ndarray], dict]:
    """Scores (C, S) of every training and test video of ``items`` (video -> VideoItem) and a
    summary; the SVMs train on ``cfg['train_subset']``'s videos except ``exclude`` (the
    validation videos the learned variants hold out), which are scored like the test videos."""
    from ..data.stores import read_frames
    from .data import snippet_targets

    ncfg = cfg["naive"]
    size, window = int(ncfg["size"]), int(ncfg["window_snippets"])
    feats, train_x, train_y = {}, [], []
    for vid, it in sorted(items.items()):
        if it.subset not in (cfg["train_subset"], cfg["test_subset"]):
            continue
        path = frame_stores.get(vid)
        if path is None:
            raise BadInputError(f"<video {vid}>", "no frames store under the declared inputs")
        f = snippet_features(read_frames(path, size=frame_size), size, window, str(path))
        if len(f) != n_snippets(it.n_frames):
            raise BadInputError(str(path), f"{len(f)} snippets of frames but the manifest's {it.n_frames} frames "
                                           f"make {n_snippets(it.n_frames)}")
        feats[vid] = f
        if it.subset == cfg["train_subset"] and vid not in set(exclude):
            train_x.append(f)
            train_y.append(snippet_targets(it.instances, it.n_frames, it.fps, n_classes))
    if not train_x:
        raise ValueError("the naive detection baseline has no training video")
    scores = fit_score(train_x, train_y, feats, ncfg, seed)
    n_train = int(sum(len(x) for x in train_x))
    return scores, {"naive": {"size": size, "window_snippets": window, "features": int(train_x[0].shape[1]),
                              "train_snippets": min(n_train, int(ncfg["max_train_snippets"])),
                              "train_snippets_available": n_train, "C": ncfg["C"], "gamma": ncfg["gamma"],
                              "held_out_videos": sorted(exclude)}}
