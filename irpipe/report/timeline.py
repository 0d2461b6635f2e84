"""Per-video detection timeline: ground truth, detections and snippet scores over time."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..detection.data import snippet_bounds
from ..io import atomic_path, write_text
from .data_description import DataDescription, data_sentences


def plot_timeline(video_id: str, scores: np.ndarray, n_frames: int, fps: float, classes: Sequence[str],
                  gt: pd.DataFrame, det: pd.DataFrame, thresholds: dict, out_png: str | Path,
                  title_suffix: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bounds = snippet_bounds(n_frames, fps)
    centres = bounds.mean(1)
    dur = n_frames / fps
    fig, axes = plt.subplots(len(classes), 1, figsize=(10, 1.6 * len(classes) + 0.6), sharex=True, squeeze=False)
    for ci, c in enumerate(classes):
        ax = axes[ci, 0]
        for r in gt[gt["label"] == c].itertuples(index=False):
            ax.axvspan(r.t_start, r.t_end, ymin=0.55, ymax=0.95, color="tab:green", alpha=0.6, lw=0)
        for r in det[det["label"] == c].itertuples(index=False):
            ax.axvspan(r.t_start, r.t_end, ymin=0.05, ymax=0.45, color="tab:red", alpha=0.3 + 0.6 * float(r.score),
                       lw=0)
        ax.step(centres, scores[ci], where="mid", color="k", lw=1)
        if c in thresholds:  # none with postprocess.method: multi_threshold
            ax.axhline(thresholds[c], color="gray", ls="--", lw=0.8)
        ax.set_ylim(0, 1)
        ax.set_xlim(0, dur)
        ax.set_ylabel(c)
    axes[0, 0].set_title(f"{video_id}{title_suffix}: ground truth (green, top), detections (red, bottom), "
                         "snippet score (black)", fontsize=9)
    axes[-1, 0].set_xlabel("time (s)")
    fig.tight_layout()
    with atomic_path(out_png, suffix=".tmp.png") as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)


def write_timelines_index(figures: Sequence[str | Path], data: Sequence[DataDescription], out_md: str | Path) -> None:
    """The Markdown page of every test video's timeline, headed by the data they ran on."""
    lines = ["### Detection timelines of the test videos", ""]
    if data:
        lines += [data_sentences(data), ""]
    lines += [f"![{Path(p).stem}]({Path(p).name})" for p in figures]
    write_text(out_md, "\n".join(lines) + "\n")
