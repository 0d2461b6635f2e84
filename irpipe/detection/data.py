"""Detection annotations -> per-snippet targets, with the stage's bad-input checks.

A snippet is 8 consecutive frames (the I3D temporal stride): snippet k covers frames
[8k, 8k+8) i.e. seconds [8k/fps, min(8k+8, n_frames)/fps]. Its target for class c is 1 when
at least half of it is covered by instances of c, or when it holds the centre of an
instance (so that an instance shorter than half a snippet is never lost).

Bad inputs handled here (each an error naming the file, or, under ``on_bad_input: skip``,
a recorded skip):
- an instance outside its video's duration (more than one frame past the end, or a
  negative start, or t_end <= t_start);
- a video shorter than one snippet (fewer than 8 frames);
- overlapping instances of the same class in a video are *merged* for the targets (the
  union is what a per-snippet label can express) and reported in the log; instances of
  different classes may overlap (the head is multi-label).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import BadInput, BadInputError, handle_bad_input

log = logging.getLogger(__name__)

SNIPPET = 8


def n_snippets(n_frames: int, snippet: int = SNIPPET) -> int:
    return -(-int(n_frames) // snippet)


def snippet_bounds(n_frames: int, fps: float, snippet: int = SNIPPET) -> np.ndarray:
    """(S, 2) start / end second of every snippet."""
    k = np.arange(n_snippets(n_frames, snippet))
    return np.stack([k * snippet / fps, np.minimum((k + 1) * snippet, n_frames) / fps], 1)


def merge_overlaps(segs: np.ndarray) -> np.ndarray:
    """Union of intervals (N, 2) -> sorted disjoint intervals."""
    if len(segs) == 0:
        return np.zeros((0, 2))
    segs = segs[np.argsort(segs[:, 0], kind="stable")]
    out = [list(segs[0])]
    for s, e in segs[1:]:
        if s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return np.asarray(out, dtype=float)


def snippet_targets(ann: pd.DataFrame, n_frames: int, fps: float, n_classes: int,
                    snippet: int = SNIPPET) -> np.ndarray:
    """Binary targets (C, S) for one video's instances (label_index, t_start, t_end)."""
    bounds = snippet_bounds(n_frames, fps, snippet)
    length = bounds[:, 1] - bounds[:, 0]
    y = np.zeros((n_classes, len(bounds)), np.float32)
    for c in range(n_classes):
        segs = merge_overlaps(ann.loc[ann["label_index"] == c, ["t_start", "t_end"]].to_numpy(float))
        if not len(segs):
            continue
        inter = np.clip(np.minimum(bounds[:, None, 1], segs[None, :, 1])
                        - np.maximum(bounds[:, None, 0], segs[None, :, 0]), 0, None).sum(1)
        y[c] = inter >= 0.5 * length
        centres = segs.mean(1)
        k = np.clip((centres * fps // snippet).astype(int), 0, len(bounds) - 1)
        y[c, k] = 1
    return y


@dataclass
class VideoItem:
    video_id: str
    subset: str
    fps: float
    n_frames: int
    duration: float
    instances: pd.DataFrame  # label, label_index, t_start, t_end


def validate_videos(manifest: pd.DataFrame, annotations: pd.DataFrame, classes: list[str], policy: str,
                    bad: list[BadInput], source: str = "annotations.csv",
                    snippet: int = SNIPPET) -> dict[str, VideoItem]:
    """Check every video and instance; returns usable videos keyed by id."""
    out: dict[str, VideoItem] = {}
    ann = annotations.copy()
    ann["video_id"] = ann["video_id"].astype(str)
    for r in manifest.itertuples(index=False):
        vid = str(r.video_id)
        n_frames, fps = int(r.n_frames), float(r.fps)
        if n_frames < snippet:
            handle_bad_input(BadInputError(r.path, f"video '{vid}' has {n_frames} frames, fewer than one "
                                                    f"{snippet}-frame snippet"), policy, "detection", "detection", bad)
            continue
        duration = n_frames / fps
        inst = ann[ann["video_id"] == vid]
        keep = []
        for i, a in inst.iterrows():
            problem = None
            if a["label"] not in classes:
                problem = f"label '{a['label']}' is not a configured class {classes}"
            elif not a["t_end"] > a["t_start"]:
                problem = f"t_end ({a['t_end']}) <= t_start ({a['t_start']})"
            elif a["t_start"] < 0 or a["t_start"] >= duration or a["t_end"] > duration + 1.0 / fps:
                problem = (f"instance [{a['t_start']}, {a['t_end']}] s of '{a['label']}' lies outside video "
                           f"'{vid}' (duration {duration:.3f} s)")
            if problem:
                handle_bad_input(BadInputError(f"{source}:{vid}:{a['label']}@{a['t_start']}", problem),
                                 policy, "detection", "detection", bad)
                continue
            keep.append(i)
        inst = inst.loc[keep].copy()
        inst["t_end"] = inst["t_end"].clip(upper=duration)
        inst["label_index"] = inst["label"].map({c: i for i, c in enumerate(classes)}).astype(int)
        for c, g in inst.groupby("label"):
            segs = g[["t_start", "t_end"]].to_numpy(float)
            if len(merge_overlaps(segs)) < len(segs):
                log.warning("%s: overlapping '%s' instances in video %s are merged for the snippet targets",
                            source, c, vid)
        out[vid] = VideoItem(vid, str(r.subset), fps, n_frames, duration, inst.reset_index(drop=True))
    return out


def class_mean_durations(annotations: pd.DataFrame, classes: list[str], subset: str = "train") -> dict[str, float]:
    """Mean instance duration (s) per class in the TRAINING annotations (0 if a class has none)."""
    a = annotations[annotations["subset"] == subset]
    out = {}
    for c in classes:
        d = (a.loc[a["label"] == c, "t_end"] - a.loc[a["label"] == c, "t_start"]).to_numpy(float)
        if len(d) == 0:
            log.warning("class %s has no training instance: no minimum duration is applied to it", c)
        out[c] = float(d.mean()) if len(d) else 0.0
    return out
