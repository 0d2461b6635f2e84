"""Table 2 of seed 000: the two C3D streams with and without the discriminative code layer.

Six rows, exactly the paper's: for each stream, the network trained without the DCL (alpha = 0,
video softmax), the network with the DCL (video softmax) and k-NN on its video-averaged codes.
Per split: mean per-class accuracy (the paper's figure) and macro one-vs-rest AP.
"""
from __future__ import annotations

import os
from typing import Mapping

from ..errors import BadInputError
from .classification import classification_metrics
from .knn import knn_scores
from .predictions import read_predictions

STREAM_NAMES = {"ir": "IR net", "flow": "Flow net"}
TABLE2_ROWS = [
    ("IR net without DCL", "ir", "nodcl", "softmax"),
    ("IR net (softmax)", "ir", "dcl", "softmax"),
    ("IR net (k-NN)", "ir", "dcl", "knn"),
    ("Flow net without DCL", "flow", "nodcl", "softmax"),
    ("Flow net (softmax)", "flow", "dcl", "softmax"),
    ("Flow net (k-NN)", "flow", "dcl", "knn"),
]
PAPER_TABLE2 = {"IR net without DCL": 48.75, "IR net (softmax)": 52.91, "IR net (k-NN)": 54.58,
                "Flow net without DCL": 69.58, "Flow net (softmax)": 72.91, "Flow net (k-NN)": 75.42}


def evaluate_predictions(pred: dict, method: str, k: int) -> dict[str, float]:
    """Test-set metrics of one predictions file by ``softmax`` (video softmax average) or ``knn``."""
    test = pred["subset"] == "test"
    train = pred["subset"] == "train"
    y = pred["label_index"]
    n_classes = pred["softmax"].shape[1]
    if method == "softmax":
        scores = pred["softmax"][test]
    elif method == "knn":
        scores = knn_scores(pred["codes"][train], y[train], pred["codes"][test], k, n_classes)
    else:
        raise ValueError(f"unknown method {method!r}")
    return classification_metrics(y[test], scores)


def table2_rows(paths: Mapping[tuple[str, str, int], str | os.PathLike], k: int) -> list[dict]:
    """Long rows {method, split, accuracy, macro_ap} from predictions files keyed by
    (stream, variant, split)."""
    rows = []
    splits = sorted({s for (_, _, s) in paths})
    for method, stream, variant, how in TABLE2_ROWS:
        for split in splits:
            key = (stream, variant, split)
            if key not in paths:
                raise BadInputError(f"results/c3d/{stream}_{variant}/split{split}/predictions.h5",
                                    "missing predictions for Table 2")
            pred = read_predictions(paths[key])
            expect_alpha = pred["attrs"].get("alpha")
            if (variant == "nodcl") != (float(expect_alpha) == 0.0):
                raise BadInputError(paths[key], f"variant {variant} but alpha {expect_alpha}")
            rows.append({"method": method, "split": split, **evaluate_predictions(pred, how, k)})
    return rows


def caption(pretrained: str, spec: str) -> str:
    """Table 2's lead; the data it ran on (name and counts) and the deviations are added by
    irpipe.report.captions."""
    init = ("fine-tuned from " + pretrained) if not pretrained.startswith("none") else \
        "trained from scratch (random initialisation; SUBSTITUTE for the paper's Sports-1M pre-training)"
    return (f"Table 2 (seed 000): C3D streams. Networks {init}; {spec}. "
            "Accuracy = mean per-class accuracy (the paper's figure, its 'Paper' column); macro AP = "
            "macro one-vs-rest average precision. 'without DCL' = the same network trained with alpha = 0.")


