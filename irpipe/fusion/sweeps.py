"""The numbers behind Figures 6a and 6b of seed 000, from saved C3D predictions (no retraining).

Figure 6a: test accuracy of the flow net against alpha (the DCL loss weight), with the
softmax classifier and with the k-NN classifier on codes.
Figure 6b: test accuracy of the k-NN classifier on codes against k, for both nets.
The k-NN classifier is :func:`irpipe.fusion.late.knn_class_scores` (the class whose k nearest
training codes are closest on average), the same rule late fusion 2 uses per stream.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..eval.classification import mean_class_accuracy
from .inputs import StreamPredictions
from .late import class_knn_distances


def softmax_accuracy(pred: StreamPredictions) -> float:
    test = pred.select("test")
    return mean_class_accuracy(test.label_index, test.softmax.argmax(1), test.softmax.shape[1])


def knn_accuracy(pred: StreamPredictions, k: int) -> float:
    train, test = pred.select("train"), pred.select("test")
    n_classes = pred.softmax.shape[1]
    d = class_knn_distances(test.codes, train.codes, train.label_index, n_classes, k)
    # exp(-gamma d^2) is decreasing in d: the arg-max of the similarity is the arg-min distance,
    # whatever gamma.
    return mean_class_accuracy(test.label_index, d.argmin(1), n_classes)


def alpha_sweep(preds: Mapping[float, StreamPredictions], k: int) -> pd.DataFrame:
    """One row per alpha: softmax and k-NN accuracy (fractions) of the flow net."""
    rows = [{"alpha": float(a), "softmax": softmax_accuracy(p), "knn": knn_accuracy(p, k)}
            for a, p in sorted(preds.items())]
    return pd.DataFrame(rows, columns=["alpha", "softmax", "knn"])


def k_sweep(preds: Mapping[tuple[str, int], StreamPredictions], ks: Sequence[int]) -> pd.DataFrame:
    """Rows (stream, split, k, accuracy) for every saved (stream, split) prediction and k."""
    rows = []
    for (stream, split), p in sorted(preds.items()):
        for k in ks:
            rows.append({"stream": stream, "split": int(split), "k": int(k), "accuracy": knn_accuracy(p, int(k))})
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
