"""Video-level classification metrics used by Tables 1 to 3 of seed 000.

The paper's "AP" is most likely the mean per-class accuracy (its test sets are balanced);
we report it as ``accuracy`` and, beside it, macro one-vs-rest average precision as
``macro_ap`` (named as such, never passed off as the paper's number).
"""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import average_precision_score, balanced_accuracy_score
from sklearn.metrics import confusion_matrix as sk_confusion_matrix


def mean_class_accuracy(y_true, y_pred, n_classes: int | None = None) -> float:
    """Mean over classes present in ``y_true`` of the fraction of that class predicted right
    (sklearn's balanced accuracy; ``n_classes``, when given, must bound every label)."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must be equal-length vectors")
    if n_classes is not None and len(y_true) and (y_true.min() < 0 or y_true.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}; got {sorted(set(y_true.tolist()))}")
    with warnings.catch_warnings():
        # a predicted class absent from y_true is expected here (it simply has no recall)
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        return float(balanced_accuracy_score(y_true, y_pred))


def macro_ovr_average_precision(y_true, scores) -> float:
    """Macro mean over classes present in ``y_true`` of one-vs-rest average precision."""
    y_true = np.asarray(y_true)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] != y_true.shape[0]:
        raise ValueError(f"scores must be (n_videos, n_classes); got {scores.shape}")
    aps = [average_precision_score(y_true == c, scores[:, c]) for c in range(scores.shape[1])
           if np.any(y_true == c)]
    return float(np.mean(aps))


def classification_metrics(y_true, scores) -> dict[str, float]:
    """Both metrics from a score matrix; the prediction is the arg-max class."""
    scores = np.asarray(scores)
    y_pred = scores.argmax(axis=1)
    return {
        "accuracy": mean_class_accuracy(y_true, y_pred, scores.shape[1]),
        "macro_ap": macro_ovr_average_precision(y_true, scores),
    }


def confusion_matrix(y_true, y_pred, n_classes: int, normalise: bool = True) -> np.ndarray:
    """(n_classes, n_classes) counts, or fractions of each true class (rows sum to 1; a class
    without videos is a row of zeros) when ``normalise``."""
    return sk_confusion_matrix(y_true, y_pred, labels=np.arange(n_classes),
                               normalize="true" if normalise else None).astype(np.float64)
