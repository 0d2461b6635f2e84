"""Snakemake ``benchmark:`` records tabled per rule, so that a cluster user can size ``mem_mb``
and ``runtime`` from a local run (profiles/slurm cites these columns).

A record is Snakemake's TSV (columns s, h:m:s, max_rss, max_vms, max_uss, max_pss, io_in,
io_out, mean_load, cpu_time; memory in MB, times in seconds) at
``results/benchmarks/<rule>/<wildcards>.tsv``.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Iterable

import pandas as pd

from ..io import write_csv, write_text

COLUMNS = ["rule", "jobs", "total_s", "median_s", "max_s", "cpu_total_s", "median_rss_mb", "max_rss_mb"]


def read_records(paths: Iterable[str | Path], root: str = "results/benchmarks") -> pd.DataFrame:
    """One row per record: rule (the folder under ``root``), job (the rest of the path) and the
    record's columns (the last line of a record: Snakemake writes one line per repeat)."""
    rows = []
    for p in map(Path, paths):
        rel = p.as_posix().split(root.rstrip("/") + "/", 1)[-1]
        rule, _, job = rel.partition("/")
        df = pd.read_csv(p, sep="\t")
        if df.empty:
            raise ValueError(f"{p}: empty benchmark record")
        rec = df.iloc[-1]
        rows.append({"rule": rule, "job": job.removesuffix(".tsv"), "s": float(rec["s"]),
                     "max_rss": _number(rec["max_rss"]), "cpu_time": _number(rec["cpu_time"])})
    return pd.DataFrame(rows, columns=["rule", "job", "s", "max_rss", "cpu_time"])


def _number(value) -> float:
    """Snakemake writes '-' where it could not measure (a job too short to sample)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def summarise(records: pd.DataFrame) -> pd.DataFrame:
    """Per rule: job count, total / median / max wall seconds, total CPU seconds, median and max
    resident memory (MB); sorted by total wall time, largest first."""
    if records.empty:
        return pd.DataFrame(columns=COLUMNS)
    g = records.groupby("rule")
    out = pd.DataFrame({"jobs": g.size(), "total_s": g["s"].sum(), "median_s": g["s"].median(),
                        "max_s": g["s"].max(), "cpu_total_s": g["cpu_time"].sum(min_count=1),
                        "median_rss_mb": g["max_rss"].median(), "max_rss_mb": g["max_rss"].max()}).reset_index()
    return out.sort_values(["total_s", "rule"], ascending=[False, True]).reset_index(drop=True)[COLUMNS].round(2)


def write_benchmark_table(paths: Iterable[str | Path], csv_path: str | Path, html_path: str | Path) -> pd.DataFrame:
    table = summarise(read_records(paths))
    write_csv(csv_path, table)
    from .provenance import STYLE, _table
    total = float(table["total_s"].sum()) if len(table) else 0.0
    note = (f"<p>{int(table['jobs'].sum()) if len(table) else 0} jobs, {total / 60:.1f} job-minutes of wall time "
            "(Snakemake <code>benchmark:</code> records under results/benchmarks/). Memory is the job's "
            "peak resident set; size a cluster's <code>mem_mb</code> from max_rss_mb with headroom and "
            "<code>runtime</code> from max_s.</p>")
    write_text(html_path, f"<!DOCTYPE html><html><head><meta charset='utf-8'>{STYLE}</head><body>"
               f"<h2>{html.escape('Job resources per rule')}</h2>{note}{_table(table)}</body></html>\n")
    return table
