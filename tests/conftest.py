"""Shared fixtures: real encoded test videos written on the fly, the real clips folder."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
REAL_CLIPS = REPO.parent / "shared" / "data" / "real_clips"

os.environ.setdefault("OMP_NUM_THREADS", "2")
try:
    import torch

    torch.set_num_threads(2)
except ImportError:  # pragma: no cover
    pass


def preset_configs() -> dict[str, dict]:
    """``{"config.yaml": embedded default, "<preset>.yaml": that preset merged over it}``, each
    validated (as ``snakemake --configfile presets/X.yaml`` builds them)."""
    import yaml

    from irpipe.config import deep_update, validate_config

    base = yaml.safe_load(open(REPO / "config.yaml"))
    out = {"config.yaml": validate_config(deep_update(base, {}))}
    for preset in sorted((REPO / "presets").glob("*.yaml")):
        out[preset.name] = validate_config(deep_update(base, yaml.safe_load(open(preset)) or {}))
    return out


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random texture (uint8) with structure at several scales: good for flow."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w), np.float32)
    for sigma, weight in [(1.0, 0.5), (3.0, 1.0), (8.0, 1.0)]:
        img += weight * cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), sigma) * sigma
    img = (img - img.min()) / (img.max() - img.min())
    return (img * 235 + 10).astype(np.uint8)


def write_video(path: Path, frames: np.ndarray, fps: float = 15.0, fourcc: str = "MJPG") -> Path:
    """Encode grey (T,H,W) or BGR (T,H,W,3) frames as a real video file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t, h, w = frames.shape[:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h), isColor=True)
    assert writer.isOpened(), f"cannot open writer for {path}"
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR) if f.ndim == 2 else f)
    writer.release()
    return path


def moving_frames(n: int = 20, h: int = 48, w: int = 64, dx: float = 1.0, seed: int = 0) -> np.ndarray:
    base = textured(h, w + int(abs(dx) * n) + 4, seed)
    return np.stack([base[:, int(round(i * abs(dx))): int(round(i * abs(dx))) + w] for i in range(n)])


@pytest.fixture
def video_factory(tmp_path):
    def make(name: str = "clip.avi", n: int = 20, h: int = 48, w: int = 64, fps: float = 15.0, seed: int = 0,
             colour: bool = False) -> Path:
        frames = moving_frames(n, h, w, seed=seed)
        if colour:
            frames = np.stack([cv2.applyColorMap(f, cv2.COLORMAP_JET) for f in frames])
        return write_video(tmp_path / name, frames, fps)
    return make


@pytest.fixture
def one_torch_thread():
    """Small tensors: one intra-op thread is faster (and far faster on a loaded machine)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def real_clips() -> list[Path]:
    if not REAL_CLIPS.is_dir():
        pytest.skip(f"real clips folder {REAL_CLIPS} is absent in this checkout")
    clips = sorted(p for p in REAL_CLIPS.iterdir() if p.suffix in {".avi", ".mp4"})
    if not clips:
        pytest.skip(f"no clips in {REAL_CLIPS}")
    return clips
