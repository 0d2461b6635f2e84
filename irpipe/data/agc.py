"""Automatic gain control: 16-bit radiometric frames -> the uint8 frames every stage reads.

Radiometric thermal cameras record 14/16-bit counts proportional to scene radiance (roughly
to temperature over a scene's range). The workflow's stores, flow and CNNs work on 8 bits,
so each video is mapped once, at frame extraction, by one linear map ``raw -> 0..255``:

- ``percentile`` (default): ``[lo, hi]`` = the ``low_percentile`` and ``high_percentile``
  of ALL the video's pixels (numpy's linear interpolation). One window per video, not per
  frame, so a video's contrast is constant over time and motion is not mistaken for gain
  changes.
- ``window``: a fixed ``[lo, hi]`` in raw counts, the same for every video.
- ``temperature``: a fixed ``[lo, hi]`` in kelvin, turned into counts through the stated
  linear sensor model ``kelvin = raw * kelvin_per_count + kelvin_offset``.

The map is ``round(255 * (raw - lo) / (hi - lo))`` clipped to 0..255. 8-bit input is stored
unchanged (method recorded as ``none``). The window and method go into the frame store's
attributes (:func:`gain_attrs`). Config: ``frames.agc`` (defaults in the schema).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..errors import ConfigError


@dataclass(frozen=True)
class Gain:
    method: str
    lo: float
    hi: float
    source_bit_depth: int


def gain_window(frames: np.ndarray, cfg: Mapping) -> Gain:
    """The ``[lo, hi]`` raw window of one video (``frames``: (T, H, W) uint8 or uint16)."""
    depth = 16 if frames.dtype == np.uint16 else 8
    if frames.dtype == np.uint8:
        return Gain("none", 0.0, 255.0, 8)
    if frames.dtype != np.uint16:
        raise ValueError(f"gain control takes uint8 or uint16 frames, not {frames.dtype}")
    method = cfg["method"]
    if method == "percentile":
        p_lo, p_hi = float(cfg["low_percentile"]), float(cfg["high_percentile"])
        if not p_lo < p_hi:
            raise ConfigError(f"config key 'frames.agc': low_percentile ({p_lo}) must be below "
                              f"high_percentile ({p_hi})")
        lo, hi = np.percentile(frames, [p_lo, p_hi])
    elif method == "window":
        if cfg.get("window") is None:
            raise ConfigError("config key 'frames.agc.window' must be [lo, hi] (raw counts) for method 'window'")
        lo, hi = cfg["window"]
    elif method == "temperature":
        if cfg.get("kelvin") is None:
            raise ConfigError("config key 'frames.agc.kelvin' must be [lo, hi] (kelvin) for method 'temperature'")
        gain, offset = float(cfg["kelvin_per_count"]), float(cfg["kelvin_offset"])
        if gain == 0:
            raise ConfigError("config key 'frames.agc.kelvin_per_count' must not be 0")
        lo, hi = sorted((k - offset) / gain for k in cfg["kelvin"])
    else:
        raise ConfigError(f"config key 'frames.agc.method': unknown method '{method}'")
    lo, hi = float(lo), float(hi)
    if method != "percentile" and not lo < hi:
        raise ConfigError(f"config key 'frames.agc': the window [{lo}, {hi}] is empty")
    if hi <= lo:  # a constant video: any window maps it to one grey level
        hi = lo + 1.0
    return Gain(method, lo, hi, depth)


def apply_gain(frames: np.ndarray, gain: Gain) -> np.ndarray:
    """Map raw frames through ``gain`` to uint8 (8-bit input with method none: a copy)."""
    if gain.method == "none":
        return np.asarray(frames, dtype=np.uint8).copy()
    scale = 255.0 / (gain.hi - gain.lo)
    out = np.empty(frames.shape, np.uint8)
    for i, f in enumerate(frames):  # frame by frame: float32 of a whole long video is large
        out[i] = np.clip(np.rint((f.astype(np.float64) - gain.lo) * scale), 0, 255).astype(np.uint8)
    return out


def to_uint8(frames: np.ndarray, cfg: Mapping) -> tuple[np.ndarray, Gain]:
    """Frames as uint8 and the gain used (see the module docstring)."""
    gain = gain_window(frames, cfg)
    return apply_gain(frames, gain), gain


def gain_attrs(gain: Gain, cfg: Mapping) -> dict:
    """Frame-store attributes recording how the stored frames were made from the source."""
    attrs = {"agc_method": gain.method, "agc_lo": gain.lo, "agc_hi": gain.hi,
             "source_bit_depth": gain.source_bit_depth}
    if gain.method == "percentile":
        attrs["agc_percentiles"] = f"{cfg['low_percentile']},{cfg['high_percentile']}"
    if gain.method == "temperature":
        attrs["agc_kelvin"] = f"{cfg['kelvin'][0]},{cfg['kelvin'][1]}"
        attrs["agc_kelvin_model"] = f"kelvin = raw * {cfg['kelvin_per_count']} + {cfg['kelvin_offset']}"
    return attrs
