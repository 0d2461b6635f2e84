"""Encoded video output (OpenCV VideoWriter), written atomically."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from ...errors import IrpipeError
from ...io import atomic_path


def write_video(path: str | os.PathLike, frames: np.ndarray, fps: float, codec: str = "MJPG") -> Path:
    """Encode grey frames (T, H, W) uint8 as a 3-channel video; the file appears complete or
    not at all. Raises IrpipeError when OpenCV cannot open a writer for this codec/container."""
    path = Path(path)
    if frames.ndim != 3 or frames.dtype != np.uint8:
        raise ValueError(f"expected (T, H, W) uint8 frames, got {frames.shape} {frames.dtype}")
    if len(codec) != 4:
        raise IrpipeError(f"{path}: codec must be a four-character code, got {codec!r}")
    n, h, w = frames.shape
    with atomic_path(path) as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*codec), float(fps), (w, h), True)
        if not writer.isOpened():
            raise IrpipeError(f"{path}: OpenCV cannot write codec {codec!r} into a {path.suffix} container")
        try:
            for f in frames:
                writer.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR))
        finally:
            writer.release()
    return path
