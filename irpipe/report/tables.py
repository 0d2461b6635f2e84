"""Paper-shaped result tables: per split, mean +- std, beside the paper's figure.

Every table is written as CSV (machine-readable, one row per method) and Markdown
(for the report and the README), atomically.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..io import write_csv, write_text


def summarise_splits(rows: Iterable[dict], methods: Sequence[str],
                     metrics: Sequence[str] = ("accuracy", "macro_ap"),
                     paper: dict[str, float] | None = None,
                     scale: float = 100.0) -> pd.DataFrame:
    """Turn long rows ``{method, split, <metric>...}`` into one row per method.

    Columns: method, n_splits, for each metric ``<metric>_split<k>``, ``<metric>_mean``,
    ``<metric>_std`` (population std over splits, in percent), and ``paper`` where given.
    Methods keep the given order; a method with no rows is an error (never silently dropped).
    """
    long = pd.DataFrame(list(rows))
    missing = [m for m in methods if m not in set(long.get("method", []))]
    if missing:
        raise ValueError(f"no results for methods: {missing}")
    out = []
    for method in methods:
        sub = long[long["method"] == method].sort_values("split")
        rec: dict = {"method": method, "n_splits": int(len(sub))}
        for metric in metrics:
            vals = sub[metric].to_numpy(dtype=float) * scale
            for split, v in zip(sub["split"], vals):
                rec[f"{metric}_split{int(split)}"] = round(float(v), 2)
            rec[f"{metric}_mean"] = round(float(np.mean(vals)), 2)
            rec[f"{metric}_std"] = round(float(np.std(vals)), 2)
        if paper is not None:
            rec["paper"] = paper.get(method, np.nan)
        out.append(rec)
    return pd.DataFrame(out)


def to_markdown(df: pd.DataFrame, title: str | None = None, note: str | None = None,
                metrics: Sequence[str] = ("accuracy", "macro_ap")) -> str:
    """Compact Markdown: method, mean +- std per metric, paper column, per-split values."""
    cols = ["Method"]
    for m in metrics:
        cols.append(_METRIC_LABELS.get(m, m) + " (mean ± std)")
    if "paper" in df:
        cols.append("Paper")
    split_cols = [c for c in df.columns if c.startswith(f"{metrics[0]}_split")]
    if split_cols:
        cols.append(f"{_METRIC_LABELS.get(metrics[0], metrics[0])} per split")
    lines = []
    if title:
        lines += [f"### {title}", ""]
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + "---|" * len(cols))
    for _, r in df.iterrows():
        cells = [str(r["method"])]
        for m in metrics:
            cells.append(f"{r[f'{m}_mean']:.2f} ± {r[f'{m}_std']:.2f}")
        if "paper" in df:
            cells.append("" if pd.isna(r["paper"]) else f"{r['paper']:g}")
        if split_cols:
            cells.append(", ".join(f"{r[c]:.1f}" for c in split_cols if not pd.isna(r[c])))
        lines.append("| " + " | ".join(cells) + " |")
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


_METRIC_LABELS = {
    "accuracy": "Mean per-class accuracy %",
    "macro_ap": "Macro one-vs-rest AP %",
}


def write_table(df: pd.DataFrame, csv_path: str | Path, md_path: str | Path,
                title: str | None = None, note: str | None = None,
                metrics: Sequence[str] = ("accuracy", "macro_ap")) -> None:
    write_csv(csv_path, df)
    write_text(md_path, to_markdown(df, title=title, note=note, metrics=metrics))
