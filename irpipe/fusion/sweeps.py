"""The numbers behind Figures 6a and 6b of seed 000, from saved C3D predictions (no retraining).

Figure 6a: test accuracy of the flow net against alpha (the DCL loss weight), with the
softmax classifier and with the k-NN classifier on codes.
Figure 6b: test accuracy of the k-NN classifier on codes against k, for both nets.
Two k-NN rules on video codes are offered:
``vote``        majority class of the k nearest training codes, ties broken towards the class
                whose voters are nearer (the Table 2 "k-NN" classifier of the C3D stage);
``class_mean``  the class whose own k nearest training codes are closest on average (the rule
                late fusion 2 applies per stream, :func:`irpipe.fusion.late.class_knn_distances`).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..eval.classification import mean_class_accuracy
from .inputs import StreamPredictions
from .late import class_knn_distances, pairwise_distances


def softmax_accuracy(pred: StreamPredictions) -> float:
    test = pred.select("test")
    return mean_class_accuracy(test.label_index, test.softmax.argmax(1), test.softmax.shape[1])


def knn_vote_predict(test_codes, train_codes, train_labels, n_classes: int, k: int) -> np.ndarray:
    """Majority vote of the k nearest training codes; a tie goes to the class whose tied voters
    have the smaller summed distance (then to the lower class index)."""
    train_labels = np.asarray(train_labels, dtype=np.int64)
    k = int(min(k, len(train_labels)))
    d = pairwise_distances(test_codes, train_codes)
    nn = np.argsort(d, axis=1, kind="stable")[:, :k]
    nd = np.take_along_axis(d, nn, axis=1)
    rows = np.repeat(np.arange(d.shape[0]), k)
    votes = np.zeros((d.shape[0], n_classes))
    dist_sum = np.zeros_like(votes)
    np.add.at(votes, (rows, train_labels[nn].ravel()), 1.0)
    np.add.at(dist_sum, (rows, train_labels[nn].ravel()), nd.ravel())
    best = votes == votes.max(axis=1, keepdims=True)
    return np.where(best, dist_sum, np.inf).argmin(axis=1)


def knn_vote_scores(test_codes, train_codes, train_labels, n_classes: int, k: int) -> np.ndarray:
    """Vote fractions of the k nearest training codes, plus 1e-6 on the tie-broken winner, so that
    the arg-max is :func:`knn_vote_predict`."""
    train_labels = np.asarray(train_labels, dtype=np.int64)
    kk = int(min(k, len(train_labels)))
    d = pairwise_distances(test_codes, train_codes)
    nn = np.argsort(d, axis=1, kind="stable")[:, :kk]
    votes = np.zeros((d.shape[0], n_classes))
    np.add.at(votes, (np.repeat(np.arange(d.shape[0]), kk), train_labels[nn].ravel()), 1.0)
    pred = knn_vote_predict(test_codes, train_codes, train_labels, n_classes, k)
    votes[np.arange(d.shape[0]), pred] += 1e-6 * kk
    return votes / kk


def knn_accuracy(pred: StreamPredictions, k: int, rule: str = "vote") -> float:
    train, test = pred.select("train"), pred.select("test")
    n_classes = pred.softmax.shape[1]
    if rule == "vote":
        y_hat = knn_vote_predict(test.codes, train.codes, train.label_index, n_classes, k)
    elif rule == "class_mean":
        # exp(-gamma d^2) decreases with d: the similarity's arg-max is the distance's arg-min.
        y_hat = class_knn_distances(test.codes, train.codes, train.label_index, n_classes, k).argmin(1)
    else:
        raise ValueError(f"unknown k-NN rule {rule!r}")
    return mean_class_accuracy(test.label_index, y_hat, n_classes)


def alpha_sweep(preds: Mapping[float, StreamPredictions], k: int, rule: str = "vote") -> pd.DataFrame:
    """One row per alpha: softmax and k-NN accuracy (fractions) of the swept net."""
    rows = [{"alpha": float(a), "softmax": softmax_accuracy(p), "knn": knn_accuracy(p, k, rule)}
            for a, p in sorted(preds.items())]
    return pd.DataFrame(rows, columns=["alpha", "softmax", "knn"])


def k_sweep(preds: Mapping[tuple[str, int], StreamPredictions], ks: Sequence[int],
            rule: str = "vote") -> pd.DataFrame:
    """Rows (stream, split, k, accuracy) for every saved (stream, split) prediction and k."""
    rows = []
    for (stream, split), p in sorted(preds.items()):
        for k in ks:
            rows.append({"stream": stream, "split": int(split), "k": int(k), "accuracy": knn_accuracy(p, int(k), rule)})
    return pd.DataFrame(rows, columns=["stream", "split", "k", "accuracy"])


def summarise_k_sweep(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and (population) std over splits per stream and k."""
    g = df.groupby(["stream", "k"])["accuracy"]
    out = pd.DataFrame({"mean": g.mean(), "std": g.std(ddof=0), "n_splits": g.count()}).reset_index()
    return out


def stack_confusions(y_true: Sequence[np.ndarray], y_pred: Sequence[np.ndarray], n_classes: int) -> np.ndarray:
    """Row-normalised confusion matrix of all splits' test predictions pooled."""
    from ..eval.classification import confusion_matrix

    return confusion_matrix(np.concatenate(y_true), np.concatenate(y_pred), n_classes, normalise=True)
