"""The paper's 3-channel 8-bit flow image (seed 000, footnote 1) and its inverse.

Channels: x and y clipped to [-bound, bound] and mapped linearly onto 0..255, so that zero
motion is 127.5 and rounds to 128; the third channel is the flow magnitude clipped to
[0, bound] mapped onto 0..255. The quantisation step of x and y is 2*bound/255 px
(0.157 px for bound 20); :func:`image_to_flow` recovers the clipped flow to within half a step.
"""
from __future__ import annotations

import numpy as np


def flow_to_image(flow: np.ndarray, bound: float = 20.0) -> np.ndarray:
    """(..., 2) float flow -> (..., 3) uint8 image [x, y, magnitude]."""
    flow = np.asarray(flow, dtype=np.float32)
    if flow.shape[-1] != 2:
        raise ValueError(f"flow must end in a (dx, dy) axis, got shape {flow.shape}")
    scale = 255.0 / (2.0 * bound)
    xy = np.clip(flow, -bound, bound) * scale + 127.5
    mag = np.minimum(np.sqrt((flow.astype(np.float32) ** 2).sum(-1)), bound) * (255.0 / bound)
    out = np.empty(flow.shape[:-1] + (3,), dtype=np.uint8)
    out[..., :2] = np.rint(xy)
    out[..., 2] = np.rint(mag)
    return out


def image_to_flow(image: np.ndarray, bound: float = 20.0) -> np.ndarray:
    """(..., 3) uint8 flow image -> (..., 2) float32 flow (clipped to +-bound)."""
    image = np.asarray(image)
    return (image[..., :2].astype(np.float32) - 127.5) * (2.0 * bound / 255.0)


def quantisation_step(bound: float = 20.0) -> float:
    return 2.0 * bound / 255.0
