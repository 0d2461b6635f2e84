"""Opponent SIFT (van de Sande et al.): dense SIFT on the three opponent colour channels.

    O1 = (R - G) / sqrt(2),  O2 = (R + G - 2B) / sqrt(6),  O3 = (R + G + B) / sqrt(3)

and the three 128-d descriptors of a grid point concatenated (384-d), in the order O1, O2, O3.

Thermal frames are grey: with R = G = B the channels O1 and O2 are identically zero and
O-SIFT degenerates to grey SIFT plus two empty descriptors. Colour mode ``pseudo`` (the
default for single-channel input under ``auto``) first applies a colour map to the IR
intensity (OpenCV's ``COLORMAP_<name>``, jet by default) so that O1 and O2 see the
intensity transitions of the map; ``opponent`` applies the plain transform (the right
choice for colour input, and the literal one for grey input). ``auto`` picks ``pseudo`` for
grey frames and ``opponent`` for colour frames.
"""
from __future__ import annotations

import logging

import numpy as np

from .dsift import video_descriptors

log = logging.getLogger(__name__)

_SQ2, _SQ3, _SQ6 = np.sqrt(2.0), np.sqrt(3.0), np.sqrt(6.0)


def opponent(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB in [0, 1] -> (3, H, W) float32 opponent channels O1, O2, O3."""
    rgb = np.asarray(rgb, dtype=np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return np.stack([(r - g) / _SQ2, (r + g - 2 * b) / _SQ6, (r + g + b) / _SQ3]).astype(np.float32)


def pseudo_colour(grey: np.ndarray, colormap: str = "jet") -> np.ndarray:
    """(H, W) uint8 grey -> (H, W, 3) RGB float32 in [0, 1] through an OpenCV colour map."""
    import cv2

    code = getattr(cv2, f"COLORMAP_{colormap.upper()}", None)
    if code is None:
        raise ValueError(f"unknown OpenCV colour map '{colormap}'")
    bgr = cv2.applyColorMap(np.ascontiguousarray(grey, dtype=np.uint8), code)
    return bgr[..., ::-1].astype(np.float32) / 255.0


def resolve_mode(mode: str, is_colour: bool) -> str:
    if mode == "auto":
        return "opponent" if is_colour else "pseudo"
    if mode not in ("pseudo", "opponent"):
        raise ValueError(f"unknown O-SIFT colour mode '{mode}'")
    return mode


def channel_fn(mode: str, is_colour: bool, colormap: str):
    mode = resolve_mode(mode, is_colour)
    if mode == "pseudo":
        def fn(frame):
            f = np.asarray(frame)
            if f.ndim == 3:  # colour input under forced pseudo-colour: map its luminance
                f = np.clip(f[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32),
                            0, 255).astype(np.uint8)
            return opponent(pseudo_colour(f, colormap))
    else:
        if not is_colour:
            log.warning("O-SIFT colour mode 'opponent' on grey frames: O1 and O2 are zero "
                        "(descriptors degenerate to grey SIFT)")

        def fn(frame):
            f = np.asarray(frame, dtype=np.float32) / 255.0
            if f.ndim == 2:
                f = np.repeat(f[..., None], 3, axis=2)
            return opponent(f[..., :3])
    return fn


def osift_video(frames: np.ndarray, cfg: dict, path: str = "<frames>") -> dict[str, np.ndarray]:
    """O-SIFT of one video: (T, H, W) grey or (T, H, W, 3) RGB uint8 frames."""
    is_colour = frames.ndim == 4 and frames.shape[-1] >= 3
    fn = channel_fn(cfg["colour_mode"], is_colour, cfg["colormap"])
    pos, desc = video_descriptors(frames, fn, cfg["n_frames"], cfg["step"], cfg["bin_sizes"],
                                  cfg["magnif"], cfg["fast"], cfg["contrast_threshold"], path)
    return {"descriptors": desc, "positions": pos}
