"""Table 1 of seed 000 (hand-crafted features) from the per-split metrics of the baseline stage."""
from __future__ import annotations

import os
from typing import Sequence

import pandas as pd

from ..features.baseline import METHODS, TABLE1_NAMES, TABLE1_PAPER
from ..features.naive import METHOD as NAIVE_METHOD
from ..features.naive import table1_name as naive_table1_name
from .data_description import DataDescription, data_sentences
from .tables import summarise_splits, write_table


def make_table1(metric_paths: Sequence[str | os.PathLike], csv_path, md_path, concept_name: str,
                deviations: Sequence[str] = (), naive_paths: Sequence[str | os.PathLike] = (),
                naive_size: int | None = None, data: Sequence[DataDescription] = ()) -> pd.DataFrame:
    """The paper's eight rows; with ``naive_paths`` (metrics_naive.csv per split) a last row, the
    naive baseline, which has no paper figure. ``data``: what the caption names as the data run on."""
    rows = pd.concat([pd.read_csv(p) for p in list(metric_paths) + list(naive_paths)], ignore_index=True)
    names_by_method = dict(TABLE1_NAMES)
    if naive_paths:
        names_by_method[NAIVE_METHOD] = naive_table1_name(int(naive_size))
    rows["method"] = rows["method"].map(names_by_method)
    names = [TABLE1_NAMES[m] for m in METHODS] + ([names_by_method[NAIVE_METHOD]] if naive_paths else [])
    df = summarise_splits(rows.to_dict("records"), names, paper=TABLE1_PAPER)
    n_splits = rows["split"].nunique()
    note = (f"{data_sentences(data)} " if data else "") + (
            f"Concept rows use a {concept_name} in place of the paper's 2,784 VideoStory46K detectors. "
            f"Accuracy = mean per-class accuracy (the paper's \"AP\"); macro AP = macro one-vs-rest average "
            f"precision. Mean ± std over {n_splits} split(s). Paper column: seed 000 Table 1 on InfAR"
            + ("; numbers on SYNTHETIC data are not comparable to it." if any(d.synthetic for d in data) else "."))
    if naive_paths:
        note += (f" The naive baseline row (not in the paper) is what the learned methods must beat: frames "
                 f"down-sampled to {naive_size}x{naive_size} px, per-pixel mean, std, mean absolute temporal "
                 "difference and means of three temporal thirds, standardised on the training videos, RBF SVM.")
    if deviations:
        note += " Settings and deviations from the paper: " + "; ".join(deviations) + "."
    write_table(df, csv_path, md_path, title="Table 1: hand-crafted features (seed 000)", note=note)
    return df
