"""Paper-shaped figures (seed 000 Figures 4 to 6), drawn with matplotlib's Agg backend and
written atomically as PNG and SVG."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from ..io import atomic_path  # noqa: E402


def save_figure(fig, paths: Sequence[str | os.PathLike], dpi: int = 120) -> None:
    """Save ``fig`` to every path (format from the suffix), atomically, then close it."""
    for p in paths:
        p = Path(p)
        fmt = p.suffix.lstrip(".").lower()
        with atomic_path(p, suffix=f".tmp.{fmt}") as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
    plt.close(fig)


def class_colours(n_classes: int) -> ListedColormap:
    base = plt.get_cmap("tab20" if n_classes > 10 else "tab10")
    return ListedColormap([base(i % base.N) for i in range(n_classes)])


def plot_confusions(matrices: Mapping[str, np.ndarray], classes: Sequence[str], paths, suptitle: str = ""):
    """Row-normalised confusion matrices side by side (Figure 5)."""
    n = len(matrices)
    size = max(3.5, 0.35 * len(classes) + 1.5)
    fig, axes = plt.subplots(1, n, figsize=(size * n + 1, size), squeeze=False, layout="constrained")
    for i, (ax, (title, cm)) in enumerate(zip(axes[0], matrices.items())):
        im = ax.imshow(cm, vmin=0, vmax=1, cmap="Blues")
        ax.set_title(title)
        ax.set_xticks(range(len(classes)), classes, rotation=90, fontsize=7)
        ax.set_yticks(range(len(classes)), classes, fontsize=7)
        ax.set_xlabel("predicted")
        if i == 0:
            ax.set_ylabel("true")
        for (i, j), v in np.ndenumerate(cm):
            if v >= 0.005:
                ax.text(j, i, f"{100 * v:.0f}", ha="center", va="center", fontsize=5,
                        color="white" if v > 0.5 else "black")
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="fraction of the true class")
    if suptitle:
        fig.suptitle(suptitle)
    save_figure(fig, paths)


def plot_code_heatmaps(codes: Mapping[str, tuple[np.ndarray, np.ndarray]], classes: Sequence[str], paths,
                       suptitle: str = ""):
    """Predicted discriminative codes of test videos as heat maps, one row per video, rows
    ordered by class, with a class colour bar on the left (Figure 4)."""
    n = len(codes)
    cmap = class_colours(len(classes))
    fig = plt.figure(figsize=(6.5 * n, 5), layout="constrained")
    grid = fig.add_gridspec(1, 2 * n, width_ratios=[1, 20] * n)
    for i, (title, (x, y)) in enumerate(codes.items()):
        order = np.argsort(y, kind="stable")
        bar = fig.add_subplot(grid[0, 2 * i])
        bar.imshow(y[order][:, None], aspect="auto", cmap=cmap, vmin=-0.5, vmax=len(classes) - 0.5,
                   interpolation="nearest")
        bar.set_xticks([])
        starts = [int(np.argmax(y[order] == c)) for c in range(len(classes)) if np.any(y == c)]
        present = [c for c in range(len(classes)) if np.any(y == c)]
        mids = [s + np.sum(y == c) / 2 - 0.5 for s, c in zip(starts, present)]
        bar.set_yticks(mids, [classes[c] for c in present], fontsize=6)
        if i == 0:
            bar.set_ylabel("test videos (by class)")
        ax = fig.add_subplot(grid[0, 2 * i + 1], sharey=bar)
        im = ax.imshow(x[order], aspect="auto", cmap="viridis", interpolation="nearest")
        ax.tick_params(labelleft=False)
        ax.set_xlabel("code unit")
        ax.set_title(title)
        fig.colorbar(im, ax=ax, shrink=0.8, label="code value")
    if suptitle:
        fig.suptitle(suptitle)
    save_figure(fig, paths)


def plot_curves(x: Sequence[float], series: Mapping[str, tuple[Sequence[float], Sequence[float] | None]],
                xlabel: str, ylabel: str, paths, title: str = "", logx: bool = False):
    """Line plot of several series (mean, optional std band) against ``x`` (Figure 6)."""
    fig, ax = plt.subplots(figsize=(5, 3.6), layout="constrained")
    xs = np.asarray(x, dtype=float)
    for name, (mean, std) in series.items():
        mean = np.asarray(mean, dtype=float)
        ax.plot(xs, mean, marker="o", label=name)
        if std is not None:
            std = np.asarray(std, dtype=float)
            ax.fill_between(xs, mean - std, mean + std, alpha=0.2)
    if np.all(xs == np.round(xs)) and not logx:
        ax.set_xticks(xs)
    if logx:
        ax.set_xscale("symlog", linthresh=min([v for v in xs if v > 0], default=1e-3))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    save_figure(fig, paths)
