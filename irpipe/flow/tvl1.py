"""TV-L1 optical flow between consecutive frames: OpenCV's DualTVL1 (the reference) or the
batched PyTorch implementation in :mod:`irpipe.flow.tvl1_torch`.

Parameters are those of ``cv2.optflow.DualTVL1OpticalFlow_create`` under the config's names
(``flow.tvl1``); OpenCV's defaults are the schema's defaults.
"""
from __future__ import annotations

import logging
from typing import Iterator, Mapping

import numpy as np

log = logging.getLogger(__name__)


def pyramid_sizes(height: int, width: int, nscales: int, scale_step: float) -> list[tuple[int, int]]:
    """Level sizes OpenCV builds: each level rounds ``scale_step`` times the previous one and
    the pyramid stops before a level narrower or lower than 16 pixels."""
    sizes = [(int(height), int(width))]
    for _ in range(1, int(nscales)):
        h, w = sizes[-1]
        # cv::resize computes dsize with saturate_cast<int>(double) = round half to even,
        # which is also what Python's round() does.
        nh, nw = int(round(h * scale_step)), int(round(w * scale_step))
        if nh < 16 or nw < 16:
            break
        sizes.append((nh, nw))
    return sizes


def opencv_tvl1(params: Mapping):
    import cv2

    if not hasattr(cv2, "optflow"):
        raise RuntimeError("cv2.optflow is missing: install opencv-contrib-python(-headless), not opencv-python")
    return cv2.optflow.DualTVL1OpticalFlow_create(
        tau=float(params["tau"]), lambda_=float(params["lambda"]), theta=float(params["theta"]),
        nscales=int(params["nscales"]), warps=int(params["warps"]), epsilon=float(params["epsilon"]),
        innnerIterations=int(params["inner_iterations"]), outerIterations=int(params["outer_iterations"]),
        scaleStep=float(params["scale_step"]), gamma=float(params["gamma"]),
        medianFiltering=int(params["median_filtering"]), useInitialFlow=bool(params["use_initial_flow"]),
    )


class OpenCVTVL1:
    """Frame-pair TV-L1 with OpenCV; ``compute`` takes batches for a common interface."""

    def __init__(self, params: Mapping):
        self.params = dict(params)
        self._algo = opencv_tvl1(params)

    def compute(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        prev = np.asarray(prev)
        nxt = np.asarray(nxt)
        single = prev.ndim == 2
        if single:
            prev, nxt = prev[None], nxt[None]
        out = np.empty(prev.shape + (2,), dtype=np.float32)
        nscales = int(self.params["nscales"])
        for i in range(prev.shape[0]):
            # OpenCV's calc() lowers the object's own nscales for good when a frame is too small
            # for the pyramid (tvl1flow.cpp: `nscales = s`), so a reused object would run later,
            # larger frames on fewer levels (measured: up to 14.6 px off). Reset it every call.
            self._algo.setScalesNumber(nscales)
            out[i] = self._algo.calc(_u8(prev[i]), _u8(nxt[i]), None)
        return out[0] if single else out


def _u8(frame: np.ndarray) -> np.ndarray:
    if frame.dtype == np.uint8:
        return np.ascontiguousarray(frame)
    return np.ascontiguousarray(np.clip(np.rint(frame), 0, 255).astype(np.uint8))


def set_cpu_threads(n: int, backend: str) -> None:
    """Limit the backend's CPU threads to what the job was given (Snakemake ``threads``).

    Both libraries default to every core; two one-thread flow jobs on two cores would then run
    four threads and the torch backend's OpenMP loops degrade badly when oversubscribed."""
    n = max(1, int(n))
    import cv2

    cv2.setNumThreads(n)
    if backend == "torch":
        import torch

        torch.set_num_threads(n)


def make_backend(backend: str, params: Mapping, device: str = "cpu", compile: bool = False):
    if backend == "opencv":
        return OpenCVTVL1(params)
    if backend == "torch":
        from .tvl1_torch import TorchTVL1

        return TorchTVL1(dict(params), device=device, compile=compile)
    raise ValueError(f"unknown flow backend '{backend}' (opencv or torch)")


def iter_video_flow(frames: np.ndarray, params: Mapping, backend: str = "opencv", device: str = "cpu",
                    batch_size: int = 16, engine=None, progress: bool = False) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, flow_batch)`` for consecutive pairs of ``frames`` (T, H, W)."""
    engine = engine or make_backend(backend, params, device)
    n_pairs = frames.shape[0] - 1
    step = batch_size if backend == "torch" else 1
    starts = range(0, max(n_pairs, 0), step)
    if progress:
        from tqdm import tqdm
        starts = tqdm(starts, desc="tv-l1", unit="batch" if step > 1 else "pair", mininterval=5)
    for s in starts:
        e = min(s + step, n_pairs)
        yield s, engine.compute(frames[s:e], frames[s + 1:e + 1])


def compute_video_flow(frames: np.ndarray, params: Mapping, backend: str = "opencv", device: str = "cpu",
                       batch_size: int = 16, engine=None, progress: bool = False) -> np.ndarray:
    """TV-L1 flow of every consecutive pair: (T-1, H, W, 2) float32, in pixels."""
    t, h, w = frames.shape
    out = np.empty((max(t - 1, 0), h, w, 2), dtype=np.float32)
    for s, f in iter_video_flow(frames, params, backend, device, batch_size, engine, progress):
        out[s:s + f.shape[0]] = f
    return out
