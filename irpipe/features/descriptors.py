"""Per-video descriptor jobs and their HDF5 store.

``results/handcrafted/descriptors/<kind>/<video_id>.h5`` with ``kind`` in dsift, osift, idt:

- dsift / osift: ``descriptors`` uint8 (n, 128 / 384), ``positions`` float32 (n, 4: frame,
  y, x, bin size);
- idt: ``traj`` (n, 30), ``hog`` (n, 96), ``hof`` (n, 108), ``mbhx`` (n, 96), ``mbhy``
  (n, 96) float32 and ``info`` (n, 8: end frame, mean x, mean y, std x, std y, length,
  scale factor, scale index);
- attrs: kind, video_id, n_descriptors, bad_input ('' or the reason the video was skipped
  under ``on_bad_input: skip``; its arrays are then empty), and for idt the trajectory
  counts removed as static / erratic / camera motion.

This module is imported by light per-video jobs: it imports numpy and h5py only, the
feature modules lazily.
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import BadInputError, ConfigError
from ..io import atomic_dir, hdf5_writer

log = logging.getLogger(__name__)

PARTS = {"dsift": ("descriptors",), "osift": ("descriptors",),
         "idt": ("traj", "hog", "hof", "mbhx", "mbhy")}
DIMS = {"dsift": {"descriptors": 128}, "osift": {"descriptors": 384},
        "idt": {"traj": 30, "hog": 96, "hof": 108, "mbhx": 96, "mbhy": 96}}


def write_descriptors(path: str | os.PathLike, arrays: dict, attrs: dict) -> None:
    with hdf5_writer(path) as h5:
        for name, arr in arrays.items():
            arr = np.ascontiguousarray(arr)
            kw = {"compression": "gzip", "compression_opts": 4, "chunks": True} if arr.size else {}
            h5.create_dataset(name, data=arr, **kw)
        for k, v in attrs.items():
            h5.attrs[k] = "" if v is None else v


def read_descriptors(path: str | os.PathLike, part: str) -> np.ndarray:
    import h5py

    with h5py.File(path, "r") as h5:
        if part not in h5:
            raise BadInputError(path, f"no descriptor array '{part}' (has {sorted(h5.keys())})")
        return h5[part][()]


# column 0 of these arrays is the descriptor's frame: the sampled frame for (O-)SIFT, the
# trajectory's END frame for IDT (the frame at which its descriptors are complete, which is
# also the frame the official DenseTrackStab prints first)
FRAME_INDEX = {"dsift": "positions", "osift": "positions", "idt": "info"}


def read_frame_index(path: str | os.PathLike, kind: str) -> np.ndarray:
    """(n,) frame index of each descriptor of a video (see FRAME_INDEX)."""
    import h5py

    name = FRAME_INDEX[kind]
    with h5py.File(path, "r") as h5:
        if name not in h5:
            raise BadInputError(path, f"no '{name}' array: the descriptors carry no frame index "
                                      "(needed by handcrafted.encoding.pooling: frames)")
        arr = h5[name][()]
    return arr[:, 0].astype(np.int64) if len(arr) else np.zeros(0, np.int64)


def descriptor_attrs(path: str | os.PathLike) -> dict:
    import h5py

    with h5py.File(path, "r") as h5:
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in h5.attrs.items()}


def _empty(kind: str) -> dict:
    out = {p: np.zeros((0, d), np.uint8 if kind != "idt" else np.float32) for p, d in DIMS[kind].items()}
    if kind == "idt":
        out["info"] = np.zeros((0, 8), np.float32)
    else:
        out["positions"] = np.zeros((0, 4), np.float32)
    return out


def compute(kind: str, frames: np.ndarray, cfg: dict, path: str) -> tuple[dict, dict]:
    """Descriptors of one video from the validated ``handcrafted`` config block."""
    if kind == "dsift":
        from .dsift import dsift_video
        return dsift_video(frames, dict(cfg["dsift"], n_frames=cfg["n_frames"]), path), {}
    if kind == "osift":
        from .osift import osift_video
        return osift_video(frames, dict(cfg["osift"], n_frames=cfg["n_frames"]), path), {}
    if kind == "idt":
        from .idt import extract_idt
        arrays, stats = extract_idt(frames, cfg["idt"], path)
        return arrays, {k: stats[k] for k in ("static", "erratic", "camera", "kept", "n_scales")}
    raise ValueError(f"unknown descriptor kind '{kind}' (dsift, osift, idt)")


def extract_video(kind: str, frames_path: str | os.PathLike, out_path: str | os.PathLike, cfg: dict,
                  policy: str = "error", video_id: str | None = None) -> dict:
    """Compute and store one video's descriptors; returns a small stats dict.

    A bad input raises BadInputError (policy 'error') or, under 'skip', is written as an
    empty store whose ``bad_input`` attribute holds the reason (the encoding step records
    it in the stage's bad-input table and leaves the video out).
    """
    from ..data.stores import read_frames

    video_id = video_id or Path(frames_path).stem
    if cfg.get("frames_size") == "auto":
        raise ConfigError("handcrafted.frames_size is 'auto': resolve it from the size plan first "
                          "(irpipe.data.sizes.resolve_config)")
    t0 = time.time()
    try:
        try:
            frames = read_frames(frames_path, size=cfg.get("frames_size"))
        except (OSError, KeyError) as exc:
            raise BadInputError(frames_path, f"cannot read frames: {exc}") from exc
        arrays, extra = compute(kind, frames, cfg, str(frames_path))
        reason = ""
    except BadInputError as exc:
        if policy != "skip":
            raise
        log.warning("skipping %s: %s", frames_path, exc.reason)
        arrays, extra, reason = _empty(kind), {}, exc.reason
    for name, arr in arrays.items():
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise BadInputError(frames_path, f"non-finite values in the {kind} '{name}' descriptors")
    first = PARTS[kind][0]
    attrs = {"kind": kind, "video_id": video_id, "n_descriptors": int(len(arrays[first])),
             "bad_input": reason, "seconds": round(time.time() - t0, 3), **extra}
    write_descriptors(out_path, arrays, attrs)
    log.info("%s %s: %d descriptors in %.2fs %s", kind, video_id, attrs["n_descriptors"], attrs["seconds"],
             reason and f"(skipped: {reason})")
    return attrs


def extract_videos(kind: str, frames: Mapping[str, str | os.PathLike], out_dir: str | os.PathLike, cfg: dict,
                   policy: str = "error") -> list[dict]:
    """:func:`extract_video` for each video of a shard (``frames``: video id -> frame store), in one
    process: ``out_dir/<video id>.h5`` per video. Returns each video's stats."""
    stats = []
    with atomic_dir(out_dir) as tmp:  # all of the shard's stores, or none
        for i, (video_id, path) in enumerate(sorted(frames.items()), 1):
            stats.append(extract_video(kind, path, tmp / f"{video_id}.h5", cfg, policy=policy, video_id=video_id))
            log.info("[%d/%d] %s %s done", i, len(frames), kind, video_id)
    return stats
