"""Frame extraction: decode a video to grey uint8 frames and store them (plus resized copies).

16-bit sources go through the automatic gain control of :mod:`irpipe.data.agc` first, once
per video; the window used is stored in the file's attributes.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping, Sequence

from .agc import gain_attrs, to_uint8
from .datasets import stored_path
from .stores import write_arrays
from .video import DECODER, read_video, resize_frames

log = logging.getLogger(__name__)


def extract_frames(video_path: str | Path, out_path: str | Path, video_id: str,
                   sizes: Mapping[str, Sequence[int]], keep_original: bool = True,
                   compression: str = "gzip", level: int = 4, min_frames: int = 1,
                   fps: float | None = None, agc: Mapping | None = None) -> dict:
    """Decode ``video_path`` (a file or an image-sequence folder) and write ``out_path`` (see
    :mod:`irpipe.data.stores`). ``fps``: frame rate of an image sequence; ``agc``: config
    ``frames.agc``, needed when the source has more than 8 bits. Returns stats."""
    raw, info = read_video(video_path, min_frames=min_frames, fps=fps)
    if agc is None and info.bit_depth > 8:
        raise ValueError(f"{video_path}: {info.bit_depth}-bit frames need the gain control settings (frames.agc)")
    frames, gain = to_uint8(raw, agc or {})
    del raw
    arrays = {}
    if keep_original:
        arrays["frames"] = frames
    for name, (h, w) in sizes.items():
        arrays[f"frames_{name}"] = resize_frames(frames, int(h), int(w))
    attrs = {"video_id": video_id, "fps": info.fps, "height": info.height, "width": info.width,
             "n_frames": info.n_frames, "source_path": stored_path(video_path),
             "decoder": DECODER, "codec": info.codec, "sizes": ",".join(sizes),
             **gain_attrs(gain, agc or {})}
    write_arrays(out_path, arrays, attrs, compression=compression, level=level)
    log.info("%s: %d frames %dx%d at %.3g fps (%d-bit source, gain %s [%g, %g]) -> %s", video_id, info.n_frames,
             info.width, info.height, info.fps, info.bit_depth, gain.method, gain.lo, gain.hi, out_path)
    return {"n_frames": info.n_frames, "fps": info.fps, "height": info.height, "width": info.width,
            "agc_lo": gain.lo, "agc_hi": gain.hi}
