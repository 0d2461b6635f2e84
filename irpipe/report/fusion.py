"""Table 3 and Figures 4 to 6 of seed 000 from the fusion stage's and C3D stage's outputs."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..fusion import sweeps
from ..fusion.inputs import read_predictions
from ..fusion.pipeline import TABLE3_METHODS, TABLE3_NAMES, TABLE3_PAPER, read_scores
from ..io import read_json, write_csv
from . import figures
from .tables import summarise_splits, write_table

log = logging.getLogger(__name__)

STREAM_TITLES = {"ir": "IR net", "flow": "Flow net"}


def table3(metrics_paths: Mapping[int, str | Path], csv_path, md_path, note: str = "") -> pd.DataFrame:
    """Table 3: the paper's four fusion rows plus LF2 + early-fused concepts, per split.

    The concept row is left out only when no split has it (``fusion.concepts.enabled: false``);
    a method missing from some splits but not others is an error."""
    rows = []
    loaded = {split: read_json(path) for split, path in sorted(metrics_paths.items())}
    methods = [m for m in TABLE3_METHODS if m != "lf2_concepts" or any(m in d for d in loaded.values())]
    for split, metrics in loaded.items():
        for m in methods:
            if m not in metrics:
                raise KeyError(f"{metrics_paths[split]}: no metrics for method {m}")
            rows.append({"method": TABLE3_NAMES[m], "split": int(split), **metrics[m]})
    names = [TABLE3_NAMES[m] for m in methods]
    df = summarise_splits(rows, names, paper=TABLE3_PAPER)
    write_table(df, csv_path, md_path, title="Table 3: fusion of the IR and flow streams", note=note)
    return df


def figure5(score_paths: Sequence[str | Path], classes: Sequence[str], stream_method: str,
            fused_method: str, paths, csv_path=None, suptitle: str = "") -> dict[str, np.ndarray]:
    """Confusion matrices of the IR net, the flow net and the fused result, pooled over splits."""
    fused = [read_scores(p) for p in score_paths]
    want = {"IR net": f"ir_{stream_method}", "Flow net": f"flow_{stream_method}",
            f"Fused ({fused_method})": fused_method}
    mats = {}
    for title, key in want.items():
        if key not in fused[0].scores:
            raise KeyError(f"{score_paths[0]}: no scores for {key}")
        mats[title] = sweeps.stack_confusions([f.label_index for f in fused],
                                              [f.scores[key].argmax(1) for f in fused], len(classes))
    figures.plot_confusions(mats, classes, paths, suptitle=suptitle)
    if csv_path:
        long = [{"panel": t, "true": classes[i], "predicted": classes[j], "fraction": float(v)}
                for t, cm in mats.items() for (i, j), v in np.ndenumerate(cm)]
        write_csv(csv_path, pd.DataFrame(long))
    return mats


def figure4(pred_paths: Mapping[str, str | Path], classes: Sequence[str], paths, suptitle: str = "") -> None:
    """Test videos' predicted discriminative codes, rows ordered by class, per stream."""
    codes = {}
    for stream, p in pred_paths.items():
        test = read_predictions(p, len(classes)).select("test")
        codes[STREAM_TITLES.get(stream, stream)] = (test.codes, test.label_index)
    figures.plot_code_heatmaps(codes, classes, paths, suptitle=suptitle)


def figure6a(sweep_paths: Mapping[float, str | Path], n_classes: int, k: int, paths, csv_path,
             title: str = "", rule: str = "vote") -> pd.DataFrame:
    """Accuracy of the swept net (the flow net in the paper) against alpha, softmax and k-NN."""
    preds = {float(a): read_predictions(p, n_classes) for a, p in sweep_paths.items()}
    df = sweeps.alpha_sweep(preds, k, rule)
    write_csv(csv_path, df)
    figures.plot_curves(df["alpha"], {"softmax": (100 * df["softmax"], None), f"k-NN (k={k})": (100 * df["knn"], None)},
                        "alpha (DCL loss weight)", "mean per-class accuracy %", paths, title=title,
                        logx=bool((df["alpha"] > 0).sum() > 1 and df["alpha"].max() / max(df["alpha"][df["alpha"] > 0].min(), 1e-12) > 20))
    return df


def figure6b(pred_paths: Mapping[tuple[str, int], str | Path], n_classes: int, ks: Sequence[int], paths,
             csv_path, title: str = "", rule: str = "vote") -> pd.DataFrame:
    """k-NN accuracy against k for both nets (codes saved by the C3D stage; no retraining)."""
    preds = {key: read_predictions(p, n_classes) for key, p in pred_paths.items()}
    long = sweeps.k_sweep(preds, ks, rule)
    summ = sweeps.summarise_k_sweep(long)
    write_csv(csv_path, summ)
    series = {}
    for stream in ("ir", "flow"):
        sub = summ[summ["stream"] == stream].sort_values("k")
        if len(sub):
            series[STREAM_TITLES[stream]] = (100 * sub["mean"].to_numpy(), 100 * sub["std"].to_numpy())
    figures.plot_curves(sorted(set(int(k) for k in ks)), series, f"k ({rule} k-NN on video codes)",
                        "mean per-class accuracy %", paths, title=title)
    return summ
