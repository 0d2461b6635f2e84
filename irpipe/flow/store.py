"""The flow stage: TV-L1 on a video's stored frames -> raw float16 flow + 8-bit flow images."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..data.stores import read_attrs, read_frames, write_arrays
from ..errors import ConfigError
from .images import flow_to_image
from .tvl1 import compute_video_flow

log = logging.getLogger(__name__)


def flow_options(config: Mapping, dataset: str) -> dict:
    """The workflow config's flow settings for one dataset, as keyword arguments of
    :func:`flow_for_store` / :func:`flow_for_stores` (without the paths and ``engine``)."""
    from ..data.sizes import resolve_config

    if config["flow"]["bound"] == "auto" and not config["flow"]["store_raw"]:
        # the images are built from the raw flow when read, with the bound from the data
        raise ConfigError("flow.bound: auto needs flow.store_raw: true")
    f = resolve_config(config, dataset)["flow"]   # 'auto' -> the copy the manifest job planned
    return {"size_name": f[f"{dataset}_size"], "params": f["tvl1"], "bound": f["bound"], "backend": f["backend"],
            "device": f["device"], "batch_size": f["batch_size"], "store_raw": f["store_raw"],
            "compression": config["frames"]["compression"], "level": config["frames"]["compression_level"],
            "compile": f["compile"]}


def flow_for_store(frames_path: str | Path, out_path: str | Path, size_name: str, params: Mapping,
                   bound: float = 20.0, backend: str = "opencv", device: str = "cpu", batch_size: int = 16,
                   store_raw: bool = True, compression: str = "gzip", level: int = 4, engine=None,
                   compile: bool = False) -> dict:
    frames = read_frames(frames_path, size=size_name)
    attrs_in = read_attrs(frames_path)
    if engine is None:
        from .tvl1 import make_backend
        engine = make_backend(backend, params, device, compile=compile)
    t0 = time.perf_counter()
    flow = compute_video_flow(frames, params, backend=backend, device=device, batch_size=batch_size,
                              engine=engine, progress=True)
    seconds = time.perf_counter() - t0
    if not np.all(np.isfinite(flow)):
        raise FloatingPointError(f"{frames_path}: TV-L1 produced non-finite flow")
    # bound 'auto': no images yet (the bound comes from every video's flow, see flow/bound.py)
    arrays = {} if bound == "auto" else {"flow_image": flow_to_image(flow, bound)}
    if store_raw or bound == "auto":
        arrays["flow"] = flow.astype(np.float16)
    attrs = {"video_id": attrs_in.get("video_id", ""), "fps": attrs_in.get("fps", 0.0), "bound": bound if bound == "auto" else float(bound),
             "size_name": size_name, "backend": backend, "device": device,
             **{f"tvl1.{k}": v for k, v in params.items()}}
    write_arrays(out_path, arrays, attrs, compression=compression, level=level)
    n_pairs = int(flow.shape[0])
    stats = {"n_pairs": n_pairs, "seconds": seconds, "pairs_per_s": n_pairs / seconds if seconds > 0 else 0.0,
             "mean_magnitude": float(np.sqrt((flow ** 2).sum(-1)).mean()) if n_pairs else 0.0}
    log.info("%s: %d pairs in %.1f s (%.2f pairs/s), mean |flow| %.3f px", frames_path, n_pairs, seconds,
             stats["pairs_per_s"], stats["mean_magnitude"])
    return stats


def flow_for_stores(jobs: Sequence[tuple[str | Path, str | Path]], size_name: str, params: Mapping,
                    bound: float = 20.0, backend: str = "opencv", device: str = "cpu", batch_size: int = 16,
                    store_raw: bool = True, compression: str = "gzip", level: int = 4,
                    compile: bool = False) -> list[dict]:
    """Flow of many videos in one process: ``jobs`` = (frame store, flow store) pairs.

    The backend is built once (for the torch backend: the solver, its device context and, with
    ``compile``, the compiled kernels), then each video's frames are streamed from its store in
    batches of ``batch_size`` pairs and its flow store written before the next video is read.
    Returns one stats dict per video (with its ``video`` path)."""
    from .tvl1 import make_backend
    t0 = time.perf_counter()
    engine = make_backend(backend, params, device, compile=compile)
    init_s = time.perf_counter() - t0
    out = []
    for frames_path, out_path in jobs:
        st = flow_for_store(frames_path, out_path, size_name, params, bound=bound, backend=backend, device=device,
                            batch_size=batch_size, store_raw=store_raw, compression=compression, level=level,
                            engine=engine, compile=compile)
        out.append({"video": str(frames_path), **st})
    log.info("%d videos with one %s engine (built in %.1f s)", len(out), backend, init_s)
    return out
