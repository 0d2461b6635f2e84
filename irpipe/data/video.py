"""Video decoding with OpenCV: grey frames, with errors that name the file and reason.

A "video" is a video file or an image sequence: a folder of frames (PNG, TIFF, JPEG) read in
natural order ('2.png' before '10.png') at a frame rate the caller supplies (image files
carry none). Frames keep their bit depth: 8-bit sources give uint8, 16-bit radiometric
sources (16-bit PNG/TIFF, or 16-bit grey video such as FFV1 gray16le, which OpenCV returns
unconverted when asked) give uint16, which :mod:`irpipe.data.agc` maps to 8 bits.

OpenCV's frame count property is unreliable for some containers, so :func:`probe_video`
decodes every frame once; a video whose stream ends early (truncated file) or that no
decoder opens is reported as a :class:`~irpipe.errors.BadInputError`.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import BadInputError, ConfigError

DECODER = f"opencv-{cv2.__version__}"
IMAGE_EXTENSIONS = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".pgm")


@dataclass(frozen=True)
class VideoInfo:
    path: str
    fps: float
    n_frames: int
    width: int
    height: int
    codec: str
    bit_depth: int = 8

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
    """A capture that yields BGR uint8 frames, or grey uint16 ones for a 16-bit grey stream.

    OpenCV converts every stream to 8-bit BGR unless told not to; without conversion it
    returns GRAY16LE frames as uint16 but other pixel formats raw (a YUV stream as its luma
    plane, which differs from the BGR->grey conversion), so the raw capture is kept only when
    its first frame is 16-bit.
    """
    _check_readable(path)
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # "conversion turned off" warnings
    try:
        raw = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_CONVERT_RGB, 0])
        deep = False
        if raw.isOpened():
            ok, frame = raw.read()
            deep = bool(ok) and frame is not None and frame.dtype == np.uint16
        raw.release()
        if deep:  # reopened rather than rewound: seeking is unreliable in some containers
            return cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_CONVERT_RGB, 0])
    finally:
        cv2.utils.logging.setLogLevel(level)
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise BadInputError(path, "no decoder could open it (not a video, or an unsupported container/codec)")
    return cap


def natural_key(name: str) -> list:
    """Sort key that orders embedded numbers by value: 'f2.png' before 'f10.png'."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def sequence_files(folder: str | os.PathLike) -> list[Path]:
    """The frame files of an image-sequence folder, in natural order (hidden files ignored)."""
    folder = Path(folder)
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")]
    return sorted(files, key=lambda p: natural_key(p.name))


def is_sequence(path: str | os.PathLike) -> bool:
    """A folder holding at least one frame file."""
    path = Path(path)
    return path.is_dir() and any(p.suffix.lower() in IMAGE_EXTENSIONS for p in path.iterdir())


def read_image(path: str | os.PathLike) -> np.ndarray:
    """One frame file as a grey image at its own depth (uint8 or uint16)."""
    path = Path(path)
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise BadInputError(path, "not a readable image (corrupt, or a format OpenCV cannot read)")
    if img.dtype not in (np.uint8, np.uint16):
        raise BadInputError(path, f"unsupported pixel type {img.dtype} (8- or 16-bit integer frames only)")
    if img.ndim == 3:
        img = img[:, :, 0] if img.shape[2] == 1 else cv2.cvtColor(
            img, cv2.COLOR_BGRA2GRAY if img.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
    return img


def _sequence(folder: Path, fps: float | None, keep: bool) -> tuple[list[np.ndarray], int, tuple | None, str]:
    """Read (or only check) every frame of a sequence: frames, count, shape, codec."""
    if fps is None:
        raise ConfigError(f"{folder} is an image sequence (a folder of frames), which carries no frame rate: "
                          "set config key 'dataset.<recognition|detection>.fps' (or an fps column in a csv source)")
    files = sequence_files(folder)
    frames, shape, dtype = [], None, None
    for f in files:
        img = read_image(f)
        if shape is None:
            shape, dtype = img.shape, img.dtype
        elif img.shape != shape or img.dtype != dtype:
            raise BadInputError(f, f"frame is {img.shape[1]}x{img.shape[0]} {img.dtype}, but the sequence's first "
                                   f"frame is {shape[1]}x{shape[0]} {dtype}")
        if keep:
            frames.append(img)
    exts = "+".join(sorted({f.suffix.lower().lstrip(".") for f in files}))
    codec = f"{exts}-sequence-{8 if dtype == np.uint8 else 16}bit"
    return frames, len(files), shape, codec


def _fourcc(cap: cv2.VideoCapture) -> str:
    code = int(cap.get(cv2.CAP_PROP_FOURCC))
    chars = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return chars if chars.isprintable() and chars.strip() else "unknown"


def to_grey(frame: np.ndarray) -> np.ndarray:
    """BGR (or already single-channel) frame -> grey, ITU-R 601 luma as OpenCV computes it.
    uint8 and uint16 frames keep their depth."""
    if frame.ndim == 2:
        return frame if frame.dtype in (np.uint8, np.uint16) else np.clip(frame, 0, 255).astype(np.uint8)
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


def _check_folder(path: Path) -> None:
    if not os.access(path, os.R_OK | os.X_OK):
        raise BadInputError(path, "folder is not readable (permission denied)")
    if not sequence_files(path):
        raise BadInputError(path, f"is a directory without frame files ({', '.join(IMAGE_EXTENSIONS)}), "
                                  "so neither a video file nor an image sequence")


def read_video(path: str | os.PathLike, min_frames: int = 1,
               fps: float | None = None) -> tuple[np.ndarray, VideoInfo]:
    """Decode a whole video (file or image-sequence folder) into grey frames (T, H, W), uint8,
    or uint16 for a 16-bit source, plus its :class:`VideoInfo`. ``fps``: the frame rate of an
    image sequence (ignored for video files, whose container states it)."""
    path = Path(path)
    if path.is_dir():
        _check_folder(path)
        frames, n, shape, codec = _sequence(path, fps, keep=True)
        info = _validate(path, n, shape, float(fps), -1, codec, min_frames, _depth(frames[0]))
        return np.stack(frames), info
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
    info = _validate(path, len(frames), frames[0].shape if frames else None, *header, min_frames,
                     _depth(frames[0]) if frames else 8)
    return np.stack(frames), info


def _depth(frame: np.ndarray) -> int:
    return 16 if frame.dtype == np.uint16 else 8


def probe_video(path: str | os.PathLike, min_frames: int = 1, fps: float | None = None) -> VideoInfo:
    """Decode every frame once (without keeping them) to validate and count."""
    path = Path(path)
    if path.is_dir():
        _check_folder(path)
        _, n, shape, codec = _sequence(path, fps, keep=False)
        return _validate(path, n, shape, float(fps), -1, codec, min_frames, 16 if "16bit" in codec else 8)
    cap = _open(path)
    try:
        header = _header(cap)
        n, shape, depth = 0, None, 8
        while True:
            ok = cap.grab()
            if not ok:
                break
            if shape is None:
                ok, frame = cap.retrieve()
                if not ok:
                    break
                shape, depth = frame.shape[:2], (16 if frame.dtype == np.uint16 else 8)
            n += 1
    finally:
        cap.release()
    return _validate(path, n, shape, *header, min_frames, depth)


def _validate(path: Path, n: int, shape: tuple | None, fps: float, expected: int, codec: str,
              min_frames: int, bit_depth: int = 8) -> VideoInfo:
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
    return VideoInfo(path=str(path), fps=fps, n_frames=n, width=int(w), height=int(h), codec=codec,
                     bit_depth=bit_depth)


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
