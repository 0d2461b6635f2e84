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


def images_within_one_level(image: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """Share of pixels whose 8-bit x and y values are both within one grey level of the
    reference's, and the same share for the magnitude channel (whose step is half that of x, y)."""
    d = np.abs(np.asarray(image).astype(np.int16) - np.asarray(reference).astype(np.int16))
    return float((d[..., :2].max(-1) <= 1).mean()), float((d[..., 2] <= 1).mean())


def flow_agreement(flow: np.ndarray, reference: np.ndarray, bound: float = 20.0) -> dict[str, float]:
    """How closely ``flow`` follows ``reference`` (both (..., 2)): mean end-point difference in px,
    and :func:`images_within_one_level` of their flow images at ``bound``; the measure of the
    TV-L1 backends' accuracy criterion."""
    flow, reference = np.asarray(flow, np.float32), np.asarray(reference, np.float32)
    if flow.shape != reference.shape:
        raise ValueError(f"flow shapes differ: {flow.shape} vs {reference.shape}")
    xy, mag = images_within_one_level(flow_to_image(flow, bound), flow_to_image(reference, bound))
    return {"mean_epe_px": float(np.linalg.norm(flow - reference, axis=-1).mean()),
            "img8_xy_within_1": xy, "img8_mag_within_1": mag}
