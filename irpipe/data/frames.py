"""Frame extraction: decode a video to grey uint8 frames and store them (plus resized copies)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping, Sequence

from .datasets import stored_path
from .stores import write_arrays
from .video import DECODER, read_video, resize_frames

log = logging.getLogger(__name__)


def extract_frames(video_path: str | Path, out_path: str | Path, video_id: str,
                   sizes: Mapping[str, Sequence[int]], keep_original: bool = True,
                   compression: str = "gzip", level: int = 4, min_frames: int = 1) -> dict:
    """Decode ``video_path`` and write ``out_path`` (see :mod:`irpipe.data.stores`). Returns stats."""
    frames, info = read_video(video_path, min_frames=min_frames)
    arrays = {}
    if keep_original:
        arrays["frames"] = frames
    for name, (h, w) in sizes.items():
        arrays[f"frames_{name}"] = resize_frames(frames, int(h), int(w))
    attrs = {"video_id": video_id, "fps": info.fps, "height": info.height, "width": info.width,
             "n_frames": info.n_frames, "source_path": stored_path(video_path),
             "decoder": DECODER, "codec": info.codec, "sizes": ",".join(sizes)}
    write_arrays(out_path, arrays, attrs, compression=compression, level=level)
    log.info("%s: %d frames %dx%d at %.3g fps -> %s", video_id, info.n_frames, info.width, info.height,
             info.fps, out_path)
    return {"n_frames": info.n_frames, "fps": info.fps, "height": info.height, "width": info.width}


def extract_frames_shard(videos: Sequence[tuple[str, str | Path]], out_dir: str | Path,
                         sizes: Mapping[str, Sequence[int]], **kwargs) -> dict:
    """:func:`extract_frames` for each (video id, source path) of a shard, one process for all:
    ``out_dir/<video id>.h5`` per video. Returns totals over the shard."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    total = {"videos": 0, "n_frames": 0}
    for i, (video_id, source) in enumerate(videos, 1):
        st = extract_frames(source, out_dir / f"{video_id}.h5", video_id, sizes, **kwargs)
        total["videos"] += 1
        total["n_frames"] += int(st["n_frames"])
        log.info("[%d/%d] %s done", i, len(videos), video_id)
    return total
