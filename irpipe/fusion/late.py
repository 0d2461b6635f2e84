"""Late fusion of the two C3D streams (seed 000, Section 3.3 and Table 3).

Late fusion 1 (LF1)
    Weighted average of the two streams' per-video softmax outputs (the paper weights flow
    2 : IR 1).
Late fusion 2 (LF2)
    On the discriminative codes: for each class c, the mean Euclidean distance ``d_c`` from a
    test code to its k nearest training codes *of class c*; similarity ``exp(-gamma d_c^2)``;
    the similarities of one video are l1-normalised over classes, and the normalised scores
    of the streams are averaged with the stream weights (paper: k = 5, gamma = 0.05).

The l1 normalisation of ``exp(-gamma d^2)`` is computed as a softmax of ``-gamma d^2``
(subtracting the row maximum first). That is the same number whenever the plain formula is
representable, and stays finite when every ``exp`` would underflow to 0 (long codes at large
distances), where the plain formula gives 0/0.
"""
from __future__ import annotations

import logging
from typing import Mapping, Sequence

import numpy as np

log = logging.getLogger(__name__)


def weighted_average(scores: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """``sum_s w_s * scores_s / sum_s w_s`` for equally shaped (N, C) score matrices."""
    if len(scores) != len(weights) or not scores:
        raise ValueError(f"need one weight per score matrix (got {len(scores)} matrices, {len(weights)} weights)")
    arrs = [np.asarray(s, dtype=np.float64) for s in scores]
    shape = arrs[0].shape
    if any(a.shape != shape for a in arrs) or len(shape) != 2:
        raise ValueError(f"score matrices must all be (N, C) of one shape; got {[a.shape for a in arrs]}")
    w = np.asarray(weights, dtype=np.float64)
    if np.any(w < 0) or not np.all(np.isfinite(w)) or w.sum() <= 0:
        raise ValueError(f"weights must be finite, non-negative and not all zero; got {list(weights)}")
    return np.tensordot(w / w.sum(), np.stack(arrs), axes=1)


def late_fusion_1(softmax: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """LF1: weighted average of the streams' softmax outputs, streams named as in ``weights``."""
    streams = sorted(weights)
    missing = [s for s in streams if s not in softmax]
    if missing:
        raise ValueError(f"no softmax outputs for streams {missing}")
    return weighted_average([softmax[s] for s in streams], [weights[s] for s in streams])


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances (len(a), len(b)), in float64, never negative."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"codes must be (N, D) with equal D; got {a.shape} and {b.shape}")
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


def class_knn_distances(test_codes: np.ndarray, train_codes: np.ndarray, train_labels: np.ndarray,
                        n_classes: int, k: int) -> np.ndarray:
    """(N_test, C): mean distance from each test code to its k nearest training codes of each class.

    A class with fewer than k training codes uses all of them (logged). A class with no
    training code at all is an error: its distance would be undefined.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    train_labels = np.asarray(train_labels)
    dist = pairwise_distances(test_codes, train_codes)
    out = np.empty((dist.shape[0], n_classes), dtype=np.float64)
    for c in range(n_classes):
        cols = dist[:, train_labels == c]
        n_c = cols.shape[1]
        if n_c == 0:
            raise ValueError(f"class {c} has no training codes: its k-NN distance is undefined")
        kk = min(k, n_c)
        if kk < k:
            log.warning("class %d has %d training codes < k=%d: using all of them", c, n_c, k)
        nearest = np.partition(cols, kk - 1, axis=1)[:, :kk] if kk < n_c else cols
        out[:, c] = nearest.mean(axis=1)
    return out


def gaussian_similarity(distances: np.ndarray, gamma: float) -> np.ndarray:
    """``exp(-gamma d^2)`` (unnormalised; may underflow to 0 for large distances)."""
    return np.exp(-float(gamma) * np.square(np.asarray(distances, dtype=np.float64)))


def normalised_similarity(distances: np.ndarray, gamma: float) -> np.ndarray:
    """Row-wise l1-normalised ``exp(-gamma d^2)``, computed stably (see module docstring)."""
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0, got {gamma}")
    logits = -float(gamma) * np.square(np.asarray(distances, dtype=np.float64))
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def knn_class_scores(test_codes: np.ndarray, train_codes: np.ndarray, train_labels: np.ndarray,
                     n_classes: int, k: int, gamma: float) -> np.ndarray:
    """One stream's LF2 scores: l1-normalised Gaussian similarity of the per-class k-NN distance.

    Its arg-max is the class whose k nearest training codes are closest on average (the
    k-NN classifier on codes used for the per-stream k-NN rows and Figure 6).
    """
    d = class_knn_distances(test_codes, train_codes, train_labels, n_classes, k)
    return normalised_similarity(d, gamma)


def late_fusion_2(test_codes: Mapping[str, np.ndarray], train_codes: Mapping[str, np.ndarray],
                  train_labels: np.ndarray, n_classes: int, weights: Mapping[str, float],
                  k: int = 5, gamma: float = 0.05) -> np.ndarray:
    """LF2: weighted average over streams of :func:`knn_class_scores`."""
    streams = sorted(weights)
    per_stream = [knn_class_scores(test_codes[s], train_codes[s], train_labels, n_classes, k, gamma)
                  for s in streams]
    return weighted_average(per_stream, [weights[s] for s in streams])


def average_class_scores(scores: Sequence[np.ndarray]) -> np.ndarray:
    """Simple (unweighted) average of l1-normalised class scores (LF2 + concepts row)."""
    return weighted_average([l1_normalise(s) for s in scores], [1.0] * len(scores))


def l1_normalise(scores: np.ndarray) -> np.ndarray:
    """Rows scaled to sum 1; scores must be non-negative (a zero row becomes uniform)."""
    s = np.asarray(scores, dtype=np.float64)
    if np.any(s < 0) or not np.all(np.isfinite(s)):
        raise ValueError("class scores to l1-normalise must be finite and non-negative")
    tot = s.sum(axis=1, keepdims=True)
    uniform = np.full_like(s, 1.0 / s.shape[1])
    return np.where(tot > 0, s / np.where(tot > 0, tot, 1.0), uniform)
