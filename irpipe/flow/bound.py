"""``flow.bound: auto``: the flow images' clipping bound taken from the data.

On low-resolution thermal video the motion is sub-pixel, so a fixed bound (20 px in the paper
at 128x171) leaves the 8-bit flow images near grey. With ``auto``, the flow jobs store only the
raw float16 flow; ``flow_summary`` writes ``results/data/<dataset>/flow_bound.json`` with

    bound = max(bound_floor, max over the training videos of their bound_percentile of |flow|)

(the per-video percentile, then the largest over videos: one pass per video, no pooled pixel
array; the training videos are the manifest's ``train`` subset where it has one, else every video
- recognition splits rotate, so each video trains in some split). The consumers (C3D flow
stream, I3D feature extraction, the FEN variant) read the bound from that declared file and
build the images from the raw flow at read time (:func:`irpipe.flow.images.flow_to_image`).
With a number, nothing changes: the stored 8-bit images are read.
"""
from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Callable, Mapping, Sequence

import h5py
import numpy as np

from ..errors import BadInputError, ConfigError
from .images import flow_to_image

AUTO = "auto"


def is_auto(flow_cfg: Mapping) -> bool:
    return flow_cfg["bound"] == AUTO


def video_percentile(flow: np.ndarray, percentile: float) -> float:
    """The ``percentile`` of |flow| (px) over every pixel of one (T, h, w, 2) flow field."""
    flow = np.asarray(flow, np.float32)
    if flow.size == 0:
        return 0.0
    return float(np.percentile(np.sqrt((flow ** 2).sum(-1)), percentile))


def auto_bound(per_video: Sequence[float], floor: float) -> float:
    """max(floor, the largest per-video percentile)."""
    vals = [float(v) for v in per_video if np.isfinite(v)]
    return max(float(floor), max(vals, default=0.0))


def bound_record(per_video: Mapping[str, float], train: Sequence[str] | None, flow_cfg: Mapping,
                 which: str) -> dict:
    """What flow_bound.json holds: the bound, how it was made and from which videos."""
    ids = sorted(per_video) if train is None else sorted(v for v in train if v in per_video)
    if not ids:
        if flow_cfg["bound"] != AUTO:  # informative only: a numeric bound needs no data
            return {"bound": None, "videos": which, "n_videos": 0, "configured": flow_cfg["bound"]}
        raise BadInputError("<flow_bound>", f"no video of {which} has flow to set the auto bound from")
    vals = [per_video[v] for v in ids]
    bound = auto_bound(vals, flow_cfg["bound_floor"])
    return {"bound": bound, "percentile": float(flow_cfg["bound_percentile"]),
            "floor": float(flow_cfg["bound_floor"]),
            "rule": "max(floor, max over videos of the per-video percentile of |flow|)",
            "videos": which, "n_videos": len(ids), "max_video": ids[int(np.argmax(vals))],
            "median_video_percentile": float(np.median(vals)), "configured": flow_cfg["bound"]}


def training_videos(manifest, dataset: str, config: Mapping) -> tuple[list[str] | None, str]:
    """The videos the auto bound is taken from, and how to name them: the detection manifest's
    training subset; for recognition every video (the splits rotate: each trains in some split)."""
    if dataset == "detection":
        subset = config["detection"]["train_subset"]
        ids = manifest.loc[manifest["subset"].astype(str) == subset, "video_id"].astype(str).tolist()
        return ids, f"the '{subset}' subset of the detection manifest"
    return None, "every recognition video (each is a training video of some split)"


def write_bound_file(path: str | os.PathLike, record: Mapping) -> None:
    from ..io import write_json

    write_json(path, dict(record))


def read_bound_file(path: str | os.PathLike) -> float:
    try:
        with open(path) as fh:
            bound = float(json.load(fh)["bound"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInputError(path, f"cannot read the auto flow bound: {exc}") from None
    if not np.isfinite(bound) or bound <= 0:
        raise BadInputError(path, f"auto flow bound {bound} is not a positive number")
    return bound


def resolve_bound(flow_cfg: Mapping, bound_file: str | os.PathLike | None) -> float | None:
    """The number to build flow images with at read time: None when ``flow.bound`` is a number
    (the stored images are used as they are), else the bound read from ``bound_file``."""
    if not is_auto(flow_cfg):
        return None
    if not bound_file:
        raise ConfigError("flow.bound is auto but this job declares no flow_bound.json input")
    return read_bound_file(bound_file)


def numeric_bound(flow_cfg: Mapping, bound_file: str | os.PathLike | None) -> float:
    """The bound of consumers that always work on raw flow (I3D features, FEN): the configured
    number, or the auto bound from ``bound_file``."""
    auto = resolve_bound(flow_cfg, bound_file)
    return float(flow_cfg["bound"]) if auto is None else auto


def flow_images_from_raw(path: str | os.PathLike, bound: float) -> np.ndarray:
    """The (T-1, h, w, 3) uint8 flow images of a store, built from its raw flow with ``bound``:
    equal to ``flow_to_image(raw, bound)``. Bad stores raise BadInputError naming the file."""
    path = Path(path)
    if not path.exists():
        raise BadInputError(path, "missing flow store")
    try:
        with h5py.File(path, "r") as h5:
            if "flow" not in h5:
                raise BadInputError(path, f"no raw dataset 'flow' for flow.bound: auto (has {sorted(h5.keys())})")
            raw = h5["flow"][()]
    except OSError as exc:
        raise BadInputError(path, f"unreadable HDF5 store: {exc}") from None
    if raw.ndim != 4 or raw.shape[-1] != 2:
        raise BadInputError(path, f"dataset 'flow' has shape {raw.shape}, expected (T, h, w, 2)")
    if raw.shape[0] == 0:
        raise BadInputError(path, "dataset 'flow' is empty")
    if not np.all(np.isfinite(raw)):
        raise BadInputError(path, "non-finite raw flow")
    return flow_to_image(raw.astype(np.float32), float(bound))


def flow_images_reader(bound: float | None) -> Callable[[Path], np.ndarray] | None:
    """What the C3D flow stream reads with: None (the stored images) or the read-time builder."""
    return None if bound is None else functools.partial(flow_images_from_raw, bound=float(bound))
