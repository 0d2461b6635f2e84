"""Glue between motions and rendering: place a posed person in the image, seed streams."""
from __future__ import annotations

import zlib

import numpy as np

from .render import Appearance, Figure
from .skeleton import forward_kinematics, project, to_world


def video_rng(seed: int, *keys: str | int) -> np.random.Generator:
    """Generator for one video from (seed, keys...): independent of generation order and of
    Python's hash randomisation (strings enter through CRC-32)."""
    words = [int(seed)] + [zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(words))


def smooth_pose(pose: dict[str, np.ndarray], sigma_frames: float) -> dict[str, np.ndarray]:
    """Gaussian smoothing along time (edge-padded), used to blend motions glued together."""
    if sigma_frames <= 0:
        return pose
    r = max(int(3 * sigma_frames), 1)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma_frames) ** 2)
    k /= k.sum()
    out = {}
    for key, v in pose.items():
        pad = np.concatenate([np.repeat(v[:1], r, 0), v, np.repeat(v[-1:], r, 0)], 0)
        if v.ndim == 1:
            out[key] = np.convolve(pad, k, mode="valid")
        else:
            out[key] = np.stack([np.convolve(pad[:, i], k, mode="valid") for i in range(v.shape[1])], 1)
    return out


def make_figure(pose: dict[str, np.ndarray], yaw: np.ndarray, rx: np.ndarray, rz: np.ndarray,
                u0: float, g0: float, s0: float, look: Appearance, visible: np.ndarray | None = None,
                order: float | None = None) -> tuple[Figure, dict[str, np.ndarray]]:
    """Figure (pixel joints) plus the world joints (for attaching objects)."""
    world = to_world(forward_kinematics(pose), yaw, rx, rz)
    pix, scale = project(world, rz, u0, g0, s0)
    depth = {k: v[:, 2] for k, v in world.items()}
    n = len(yaw)
    vis = np.ones(n, bool) if visible is None else visible
    return Figure(pix, depth, scale, vis, look, float(s0 if order is None else order)), world
