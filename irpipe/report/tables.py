"""Paper-shaped result tables: per split, mean +- std, beside the paper's figure.

Every table is written as CSV (machine-readable, one row per method) and Markdown
(for the report and the README), atomically.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Sequence

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
    split_cols = [c for c in df.columns if c.startswith(f"{metrics[0]}_split")]
    shown = pd.DataFrame({"Method": df["method"].astype(str)})
    for m in metrics:
        shown[_METRIC_LABELS.get(m, m) + " (mean ± std)"] = [
            f"{a:.2f} ± {b:.2f}" for a, b in zip(df[f"{m}_mean"], df[f"{m}_std"])]
    if "paper" in df:
        shown["Paper"] = ["" if pd.isna(v) else f"{v:g}" for v in df["paper"]]
    if split_cols:
        shown[f"{_METRIC_LABELS.get(metrics[0], metrics[0])} per split"] = [
            ", ".join(f"{r[c]:.1f}" for c in split_cols if not pd.isna(r[c])) for _, r in df.iterrows()]
    return markdown_text(shown, title, note)


def markdown_text(shown: pd.DataFrame, title: str | None = None, note: str | None = None) -> str:
    """Title, the table (cells already formatted as text; tabulate must not re-parse them as
    numbers) and a note below."""
    lines = [f"### {title}", ""] if title else []
    lines.append(shown.to_markdown(index=False, disable_numparse=True))
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def markdown_table(df: pd.DataFrame, title: str, note: str | None = None,
                   hide: Sequence[str] = ("variant",)) -> str:
    """Markdown of a table as it is (columns but ``hide``): integers with thousands separators,
    floats to two decimals, missing values blank."""
    shown = df[[c for c in df.columns if c not in hide]].copy()
    for c in shown.columns:
        shown[c] = [_cell(v) for v in shown[c]]
    return markdown_text(shown, title, note)


def _cell(v) -> str:
    if isinstance(v, float) and np.isnan(v):
        return ""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return f"{v:,}"
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def write_tables(tables: Mapping[str, pd.DataFrame], out_dir: str | Path, titles: Mapping[str, str],
                 note: str, shown: Mapping[str, pd.DataFrame] | None = None) -> list[Path]:
    """``<name>.csv`` and ``<name>.md`` per table in ``out_dir``; returns the paths written.

    ``shown``: for a table named there, the Markdown shows that frame (cells already text)
    instead of the CSV's columns."""
    paths = []
    shown = shown or {}
    for name, df in tables.items():
        write_csv(Path(out_dir) / f"{name}.csv", df)
        md = (markdown_text(shown[name], f"{titles[name]}", note) if name in shown
              else markdown_table(df, titles[name], note))
        write_text(Path(out_dir) / f"{name}.md", md)
        paths += [Path(out_dir) / f"{name}.csv", Path(out_dir) / f"{name}.md"]
    return paths


_METRIC_LABELS = {
    "accuracy": "Mean per-class accuracy %",
    "macro_ap": "Macro one-vs-rest AP %",
}


def write_table(df: pd.DataFrame, csv_path: str | Path, md_path: str | Path,
                title: str | None = None, note: str | None = None,
                metrics: Sequence[str] = ("accuracy", "macro_ap")) -> None:
    write_csv(csv_path, df)
    write_text(md_path, to_markdown(df, title=title, note=note, metrics=metrics))
