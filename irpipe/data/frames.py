"""Frame extraction: decode a video to grey uint8 frames and store them (plus resized copies).

16-bit sources go through the automatic gain control of :mod:`irpipe.data.agc` first, once
per video; the window used is stored in the file's attributes.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..io import atomic_dir
from .agc import gain_attrs, to_uint8
from .paths import stored_path
from .sizes import ResizeSpec, cv2_interpolation, interpolation_for, parse_resize
from .stores import write_arrays
from .video import DECODER, read_video

log = logging.getLogger(__name__)


def resize_copy(frames: np.ndarray, height: int, width: int, up: str, down: str) -> tuple[np.ndarray, str | None]:
    """Resize (T, H, W) uint8 frames to ``height`` x ``width``: ``down`` interpolation when both sides
    shrink, ``up`` when any side grows, a plain copy when the size is unchanged. Returns the frames
    and the interpolation used (None for a copy)."""
    import cv2

    t, h, w = frames.shape
    name = interpolation_for((h, w), (height, width), up, down)
    if name is None:
        return frames.copy(), None
    interp = cv2_interpolation(name)
    out = np.empty((t, height, width), dtype=np.uint8)
    for i in range(t):
        out[i] = cv2.resize(frames[i], (width, height), interpolation=interp)
    return out, name


def extract_frames(video_path: str | Path, out_path: str | Path, video_id: str,
                   sizes: Mapping[str, object], *, interpolation_up: str, interpolation_down: str,
                   keep_original: bool = True, compression: str = "gzip", level: int = 4,
                   min_frames: int = 1, fps: float | None = None, agc: Mapping | None = None) -> dict:
    """Decode ``video_path`` (a file or an image-sequence folder) and write ``out_path`` (see
    :mod:`irpipe.data.stores`). Returns stats.

    ``sizes`` maps copy names to ``frames.resize`` specs ([h, w], [h, null], [null, w] or
    {short_side: n}); the interpolation each copy used is stored as attribute
    ``interpolation_<name>`` ('none' for an unchanged size) so that captions can name it.
    ``fps``: frame rate of an image sequence; ``agc``: config ``frames.agc``, needed when the
    source has more than 8 bits (the window used is stored in the attributes)."""
    raw, info = read_video(video_path, min_frames=min_frames, fps=fps)
    if agc is None and info.bit_depth > 8:
        raise ValueError(f"{video_path}: {info.bit_depth}-bit frames need the gain control settings (frames.agc)")
    frames, gain = to_uint8(raw, agc or {})
    del raw
    arrays = {}
    if keep_original:
        arrays["frames"] = frames
    used = {}
    for name, spec in sizes.items():
        rs = spec if isinstance(spec, ResizeSpec) else parse_resize(name, spec)
        h, w = rs.size_for(info.height, info.width)
        arrays[f"frames_{name}"], used[name] = resize_copy(frames, h, w, interpolation_up, interpolation_down)
    attrs = {"video_id": video_id, "fps": info.fps, "height": info.height, "width": info.width,
             "n_frames": info.n_frames, "source_path": stored_path(video_path),
             "decoder": DECODER, "codec": info.codec, "sizes": ",".join(sizes),
             "interpolation_up": interpolation_up, "interpolation_down": interpolation_down,
             **{f"interpolation_{n}": (u or "none") for n, u in used.items()},
             **gain_attrs(gain, agc or {})}
    write_arrays(out_path, arrays, attrs, compression=compression, level=level)
    for name, u in used.items():
        if u is not None and u == interpolation_up:
            log.info("%s: frames_%s upscaled from %dx%d to %s with %s interpolation", video_id, name,
                     info.height, info.width, "x".join(map(str, arrays[f"frames_{name}"].shape[1:])), u)
    log.info("%s: %d frames %dx%d at %.3g fps (%d-bit source, gain %s [%g, %g]) -> %s", video_id, info.n_frames,
             info.width, info.height, info.fps, info.bit_depth, gain.method, gain.lo, gain.hi, out_path)
    return {"n_frames": info.n_frames, "fps": info.fps, "height": info.height, "width": info.width,
            "agc_lo": gain.lo, "agc_hi": gain.hi}


def extract_frames_shard(videos: Sequence[tuple[str, str | Path, float | None]], out_dir: str | Path,
                         sizes: Mapping[str, object], **kwargs) -> dict:
    """:func:`extract_frames` for each (video id, source path, fps) of a shard, one process for all:
    ``out_dir/<video id>.h5`` per video. Returns totals over the shard."""
    total = {"videos": 0, "n_frames": 0}
    with atomic_dir(out_dir) as tmp:  # all of the shard's stores, or none
        for i, (video_id, source, fps) in enumerate(videos, 1):
            st = extract_frames(source, tmp / f"{video_id}.h5", video_id, sizes, fps=fps, **kwargs)
            total["videos"] += 1
            total["n_frames"] += int(st["n_frames"])
            log.info("[%d/%d] %s done", i, len(videos), video_id)
    return total
