"""Paper-shaped tables of seed 001 (Tables III-VI) from the per-variant evaluations, as data
(``irpipe.report.tables.write_tables`` writes them).

A variant may have several training runs (``detection.seeds``): its row shows the mean over
the runs, their sample standard deviation (ddof=1; empty with one run) and the bootstrap
90 % interval of the seed-mean over the test videos (:func:`table_intervals`)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

TIOUS = ("0.1", "0.2", "0.3", "0.4", "0.5")
# The paper's mAP (%) of each of our variants, keyed by variant so that a variant is set beside
# the same figure in every table. Table III's TGM baseline is the two-stream late-fusion TGM
# (seed 001: every method but R-C3D uses optical flow; its 34.05 at tIoU 0.5 is Table IV's
# "two-stream" and Table V's "late fusion"), so its five figures belong to ``late``.
PAPER_MAP = {
    "late": {"0.1": 41.83, "0.2": 40.12, "0.3": 38.59, "0.4": 36.70, "0.5": 34.05},
    "sca_fen": {"0.1": 42.41, "0.2": 42.12, "0.3": 41.69, "0.4": 40.64, "0.5": 37.83},
    "ir": {"0.5": 33.77}, "flow": {"0.5": 25.69}, "ir_sa": {"0.5": 33.81}, "ca": {"0.5": 33.82},
    "sca_tvl1": {"0.5": 36.99}, "min": {"0.5": 35.49}, "max": {"0.5": 34.60}, "concat": {"0.5": 34.16},
}
TABLE3 = [("TGM (two-stream, late fusion of the IR and flow TGMs)", "late"),
          ("InfDetNet (two-stream + SCA with FEN)", "sca_fen")]
# what the learned detectors must beat (detection.naive; no paper figure): first row of Table III when run
NAIVE_ROW = ("Naive baseline (down-sampled pixel statistics per snippet window, RBF SVM; not in the paper)", "naive")
TABLE4 = [("Infrared only", "ir"), ("Flow only (TV-L1)", "flow"), ("Two-stream (late fusion)", "late"),
          ("Infrared + self-attention", "ir_sa"), ("Two-stream + cross-attention", "ca"),
          ("Two-stream + SCA (TV-L1)", "sca_tvl1"), ("Two-stream + SCA (FEN)", "sca_fen")]
TABLE5 = [("Late fusion", "late"), ("Element-wise min", "min"), ("Element-wise max", "max"),
          ("Concatenation", "concat"), ("SCA (TV-L1)", "sca_tvl1")]


def read_map(path: str | Path) -> pd.Series:
    """mAP (%) indexed by tIoU from one run's eval.csv."""
    df = pd.read_csv(path)
    return df[df["class"] == "mAP"].set_index("tiou")["ap"] * 100


def variant_maps(evals: Mapping[str, str | Path | Sequence[str | Path]]) -> dict[str, pd.DataFrame]:
    """variant -> mAP (%), one row per training run (seed index order), one column per tIoU."""
    out = {}
    for v, paths in evals.items():
        paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
        if not paths:
            raise ValueError(f"variant {v}: no evaluation")
        out[v] = pd.DataFrame([read_map(p) for p in paths]).reset_index(drop=True)
    return out


def _rows(spec, maps, tious: Sequence[str], intervals: Mapping | None) -> pd.DataFrame:
    rows = []
    for name, v in spec:
        m = maps[v]
        n = len(m)
        rec = {"method": name, "variant": v, "n_seeds": n}
        cols = [(f"{t:.1f}", m[t]) for t in m.columns] + [("avg", m.mean(axis=1))]
        for label, vals in cols:
            key = f"@{label}" if label != "avg" else "_avg"
            rec[f"map{key}"] = round(float(vals.mean()), 2)
            rec[f"std{key}"] = round(float(vals.std(ddof=1)), 2) if n > 1 else np.nan
            if intervals is not None:
                lo, hi = intervals[v][label]
                rec[f"ci90_low{key}"], rec[f"ci90_high{key}"] = round(float(lo), 2), round(float(hi), 2)
        rec.update({f"paper@{t}": PAPER_MAP.get(v, {}).get(t, np.nan) for t in tious})
        rows.append(rec)
    return pd.DataFrame(rows)


def build_tables(evals: Mapping[str, str | Path | Sequence[str | Path]],
                 intervals: Mapping[str, Mapping[str, Sequence[float]]] | None = None) -> dict[str, pd.DataFrame]:
    """Tables III-V. ``evals``: variant -> its eval.csv, or the list of its runs' (seed index order);
    ``intervals``: variant -> {'0.1': (low, high), ..., 'avg': (low, high)} in % (:func:`table_intervals`)."""
    maps = variant_maps(evals)
    table3 = ([NAIVE_ROW] if NAIVE_ROW[1] in maps else []) + TABLE3
    return {"infdet_table3": _rows(table3, maps, TIOUS, intervals),
            "infdet_table4": _rows(TABLE4, maps, ("0.5",), intervals),
            "infdet_table5": _rows(TABLE5, maps, ("0.5",), intervals)}


def _cell(mean, std) -> str:
    return f"{mean:.2f}" if pd.isna(std) else f"{mean:.2f} ± {std:.2f}"


def display_table(df: pd.DataFrame) -> pd.DataFrame:
    """The Markdown view of a table: mAP as 'mean ± std' (the value alone with one run), the
    90 % intervals at tIoU 0.5 and of the average, the paper's figures."""
    shown = pd.DataFrame({"Method": df["method"].astype(str)})
    labels = [c[len("map@"):] for c in df.columns if c.startswith("map@")] + ["avg"]
    for label in labels:
        key = f"@{label}" if label != "avg" else "_avg"
        shown[f"mAP{key}"] = [_cell(a, b) for a, b in zip(df[f"map{key}"], df[f"std{key}"])]
    for label in ("0.5", "avg"):
        key = f"@{label}" if label != "avg" else "_avg"
        if f"ci90_low{key}" in df:
            shown[f"90 % CI{key}"] = [f"[{a:.2f}, {b:.2f}]" for a, b in zip(df[f"ci90_low{key}"], df[f"ci90_high{key}"])]
    for c in (c for c in df.columns if c.startswith("paper@")):
        shown[c] = ["" if pd.isna(v) else f"{v:.2f}" for v in df[c]]
    return shown


def table_intervals(runs: Sequence[Sequence], evals: Sequence[str | Path], detections: Sequence[str | Path],
                    summaries: Sequence[str | Path], annotations_csv, ambiguous_csv, classes: Sequence[str],
                    cfg: Mapping, seed: int) -> tuple[dict[str, dict[str, tuple[float, float]]], dict]:
    """Bootstrap 90 % intervals (%) of every variant's seed-mean mAP over the test videos.

    ``runs``: (variant, seed index) of each entry of ``evals`` / ``detections`` / ``summaries``.
    The test videos are the ones the runs evaluated (their summaries; all runs must agree). The
    full-set mAP the bootstrap recomputes must equal each run's eval.csv (a check that the
    detections and evaluations belong together). Returns the intervals and facts for the caption."""
    from .pipeline import bootstrap_detections

    ann = pd.read_csv(annotations_csv, dtype={"video_id": str})
    grouped: dict[str, list[tuple[int, Path, Path]]] = {}
    videos = None
    for (v, k), ev, det, summ in zip(runs, evals, detections, summaries):
        grouped.setdefault(v, []).append((int(k), Path(ev), Path(det)))
        tv = json.loads(Path(summ).read_text()).get("test_videos")
        if tv is None:
            raise ValueError(f"{summ}: no 'test_videos' (written by an older version; re-run that variant)")
        if videos is None:
            videos = sorted(tv)
        elif sorted(tv) != videos:
            raise ValueError(f"{summ}: evaluated other test videos than the first run ({len(tv)} vs {len(videos)})")
    out, n_videos, resamples = {}, 0, 0
    for v, items in grouped.items():
        items.sort()
        dets = [pd.read_csv(d, dtype={"video_id": str}) for _, _, d in items]
        boot = bootstrap_detections(dets, ann, ambiguous_csv, classes, cfg, videos or [], seed)
        for s, (k, ev, _) in enumerate(items):
            m = read_map(ev).to_numpy() / 100
            if not np.allclose(boot.full_map[s], m, atol=1e-9):
                raise ValueError(f"{ev}: mAP {m} differs from the mAP of its detections {boot.full_map[s]} "
                                 "(stale evaluation?)")
        ci = boot.map_interval() * 100
        out[v] = {f"{t:.1f}": (float(lo), float(hi)) for t, (lo, hi) in zip(boot.thresholds, ci)}
        out[v]["avg"] = tuple(float(x) for x in boot.avg_interval() * 100)
        n_videos, resamples = len(boot.videos), boot.n_resamples
    return out, {"videos": n_videos, "resamples": resamples}


TITLES = {
    "infdet_table3": "Table III (seed 001): mAP (%) at tIoU 0.1-0.5, TGM baseline vs InfDetNet",
    "infdet_table4": "Table IV (seed 001): ablation of streams and attention, mAP (%)",
    "infdet_table5": "Table V (seed 001): fusion strategies, mAP (%)",
    "infdet_table6": "Table VI (seed 001): FEN parameters and FLOPs per frame at 256x256",
    "infdet_recognition": "Recognition mode (seed 001): average snippet scores over trimmed videos",
}


def table6(size: int = 256) -> pd.DataFrame:
    """FEN parameters and per-frame FLOPs counted by code, beside the paper's figures."""
    import torch

    from ..models.fen import FlowEstimationNet, count_flops, count_parameters

    fen = FlowEstimationNet(6, 2).eval()
    fl = count_flops(fen, torch.zeros(1, 6, size, size))
    enc = count_flops(torch.nn.Sequential(fen.stem, fen.pool, fen.stages), torch.zeros(1, 6, size, size))
    df = pd.DataFrame([
        {"quantity": "parameters", "counted": count_parameters(fen), "unit": "", "paper": "3.41M",
         "note": "public code's module: 3,345,058"},
        {"quantity": f"MACs per frame ({size}x{size} input)", "counted": round(fl["macs"] / 1e9, 3), "unit": "G",
         "paper": "4.4 GFLOPs", "note": "conv + transposed conv + 1x1 head; norms/activations not counted"},
        {"quantity": f"FLOPs per frame ({size}x{size} input, 2 x MACs)", "counted": round(fl["flops"] / 1e9, 3),
         "unit": "G", "paper": "4.4 GFLOPs", "note": ""},
        {"quantity": f"encoder MACs per frame ({size}x{size})", "counted": round(enc["macs"] / 1e9, 3), "unit": "G",
         "paper": "", "note": "stem + residual stages only"},
    ])
    df["counted"] = df["counted"].astype(object)  # keep the parameter count an integer
    df.loc[0, "counted"] = int(count_parameters(fen))
    return df
