"""Video decoding with OpenCV: grey uint8 frames, with errors that name the file and reason.

OpenCV's frame count property is unreliable for some containers, so :func:`probe_video`
decodes every frame once; a video whose stream ends early (truncated file) or that no
decoder opens is reported as a :class:`~irpipe.errors.BadInputError`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import BadInputError

DECODER = f"opencv-{cv2.__version__}"


@dataclass(frozen=True)
class VideoInfo:
    path: str
    fps: float
    n_frames: int
    width: int
    height: int
    codec: str

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps if self.fps > 0 else float("nan")


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise BadInputError(path, "file does not exist")
    if path.is_dir():
        raise BadInputError(path, "is a directory, not a video file")
    if not os.access(path, os.R_OK):
        raise BadInputError(path, "file is not readable (permission denied)")
    if path.stat().st_size == 0:
        raise BadInputError(path, "file is empty (0 bytes)")
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise BadInputError(path, f"cannot read file: {exc.strerror or exc}") from None


def _open(path: Path) -> cv2.VideoCapture:
    _check_readable(path)
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise BadInputError(path, "no decoder could open it (not a video, or an unsupported container/codec)")
    return cap


def _fourcc(cap: cv2.VideoCapture) -> str:
    code = int(cap.get(cv2.CAP_PROP_FOURCC))
    chars = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return chars if chars.isprintable() and chars.strip() else "unknown"


def to_grey(frame: np.ndarray) -> np.ndarray:
    """BGR (or already single-channel) frame -> grey uint8, ITU-R 601 luma as OpenCV computes it."""
    if frame.ndim == 2:
        return frame if frame.dtype == np.uint8 else np.clip(frame, 0, 255).astype(np.uint8)
    if frame.shape[2] == 1:
        return frame[:, :, 0]
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def _expected_count(cap: cv2.VideoCapture) -> int:
    n = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    return int(n) if n and n > 0 and np.isfinite(n) else -1


def _header(cap: cv2.VideoCapture) -> tuple[float, int, str]:
    """What the container announces: frame rate, frame count (-1 if unknown), codec."""
    return float(cap.get(cv2.CAP_PROP_FPS) or 0.0), _expected_count(cap), _fourcc(cap)


def read_video(path: str | os.PathLike, min_frames: int = 1) -> tuple[np.ndarray, VideoInfo]:
    """Decode a whole video into grey frames (T, H, W) uint8 plus its :class:`VideoInfo`."""
    path = Path(path)
    cap = _open(path)
    try:
        header = _header(cap)
        frames = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(to_grey(frame))
    finally:
        cap.release()
    info = _validate(path, len(frames), frames[0].shape if frames else None, *header, min_frames)
    return np.stack(frames), info


def probe_video(path: str | os.PathLike, min_frames: int = 1) -> VideoInfo:
    """Decode every frame once (without keeping them) to validate and count."""
    path = Path(path)
    cap = _open(path)
    try:
        header = _header(cap)
        n, shape = 0, None
        while True:
            ok = cap.grab()
            if not ok:
                break
            if shape is None:
                ok, frame = cap.retrieve()
                if not ok:
                    break
                shape = frame.shape[:2]
            n += 1
    finally:
        cap.release()
    return _validate(path, n, shape, *header, min_frames)


def _validate(path: Path, n: int, shape: tuple | None, fps: float, expected: int, codec: str,
              min_frames: int) -> VideoInfo:
    if n == 0 or shape is None:
        raise BadInputError(path, "decoder opened the file but no frame could be decoded "
                                  "(truncated, corrupt, or not a video)")
    # A container that announces many more frames than decode is truncated or corrupt.
    # Small disagreements are normal (B-frame reordering, rounding in the header).
    if expected > 0 and n < expected - max(2, int(0.05 * expected)):
        raise BadInputError(path, f"truncated or corrupt: the container announces {expected} frames "
                                  f"but only {n} could be decoded")
    if n < min_frames:
        raise BadInputError(path, f"too short: {n} frames, fewer than the configured minimum {min_frames}")
    if not (fps > 0 and np.isfinite(fps)):
        raise BadInputError(path, f"container reports an invalid frame rate ({fps})")
    h, w = shape[:2]
    return VideoInfo(path=str(path), fps=fps, n_frames=n, width=int(w), height=int(h), codec=codec)


def resize_frames(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize (T, H, W) uint8 frames with area interpolation when shrinking, linear otherwise."""
    t, h, w = frames.shape
    if (h, w) == (height, width):
        return frames.copy()
    interp = cv2.INTER_AREA if (height < h and width < w) else cv2.INTER_LINEAR
    out = np.empty((t, height, width), dtype=np.uint8)
    for i in range(t):
        out[i] = cv2.resize(frames[i], (width, height), interpolation=interp)
    return out
