"""Table 1 of seed 000 (hand-crafted features) from the per-split metrics of the baseline stage."""
from __future__ import annotations

import os
from typing import Sequence

import pandas as pd

from ..features.baseline import METHODS, TABLE1_NAMES, TABLE1_PAPER
from .tables import summarise_splits, write_table


def make_table1(metric_paths: Sequence[str | os.PathLike], csv_path, md_path, concept_name: str,
                deviations: Sequence[str] = ()) -> pd.DataFrame:
    rows = pd.concat([pd.read_csv(p) for p in metric_paths], ignore_index=True)
    rows["method"] = rows["method"].map(TABLE1_NAMES)
    names = [TABLE1_NAMES[m] for m in METHODS]
    df = summarise_splits(rows.to_dict("records"), names, paper=TABLE1_PAPER)
    n_splits = rows["split"].nunique()
    note = (f"Concept rows use a {concept_name} in place of the paper's 2,784 VideoStory46K detectors. "
            f"Accuracy = mean per-class accuracy (the paper's \"AP\"); macro AP = macro one-vs-rest average "
            f"precision. Mean ± std over {n_splits} split(s). Paper column: seed 000 Table 1 on InfAR; numbers "
            "on the embedded synthetic data set are synthetic and not comparable to it.")
    if deviations:
        note += " Settings and deviations from the paper: " + "; ".join(deviations) + "."
    write_table(df, csv_path, md_path, title="Table 1: hand-crafted features (seed 000)", note=note)
    return df
