"""k-nearest-neighbour classification of video codes (seed 000, Table 2 "k-NN" rows).

Each test video is assigned the majority class among its k nearest training videos (Euclidean
distance between video-averaged clip codes). The score matrix is the fraction of the k votes
per class, plus a tie-break far below 1/k that favours the class whose voters are closer (sum of
1/(1+d) over its voters, scaled by 1e-6), so argmax breaks ties towards nearer neighbours and
average precision has a ranking within equal vote counts.
"""
from __future__ import annotations

import numpy as np


def pairwise_sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def knn_scores(train_codes: np.ndarray, train_labels: np.ndarray, test_codes: np.ndarray,
               k: int, n_classes: int) -> np.ndarray:
    """(n_test, n_classes) vote fractions of the k nearest training codes (with tie-break)."""
    train_labels = np.asarray(train_labels, dtype=np.int64)
    if len(train_codes) == 0:
        raise ValueError("k-NN needs at least one training video")
    k = int(min(k, len(train_codes)))
    if k < 1:
        raise ValueError("k must be >= 1")
    d = np.sqrt(pairwise_sq_dists(test_codes, train_codes))
    # stable sort: equal distances resolve to the lower training index, deterministically
    nn = np.argsort(d, axis=1, kind="stable")[:, :k]
    nd = np.take_along_axis(d, nn, axis=1)
    votes = np.zeros((len(test_codes), n_classes))
    closeness = np.zeros_like(votes)
    rows = np.repeat(np.arange(len(test_codes)), k)
    np.add.at(votes, (rows, train_labels[nn].ravel()), 1.0)
    np.add.at(closeness, (rows, train_labels[nn].ravel()), (1.0 / (1.0 + nd)).ravel())
    return votes / k + 1e-6 * closeness / k
