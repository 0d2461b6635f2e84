"""Thermal rendering: scene temperature fields, figure drawing and a simple sensor model.

All drawing happens in degrees Celsius on a float32 canvas supersampled ``SS`` times; the
sensor model then applies area downsampling (pixel footprint), Gaussian optical blur,
per-column fixed-pattern noise, temporal noise and automatic gain control to 8 bits.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .skeleton import DIMS, DISCS, SEGMENTS

SS = 2  # supersampling factor of the drawing canvas
_SHIFT = 4  # cv2 fixed-point bits for sub-pixel drawing
_ONE = 1 << _SHIFT


@dataclass
class Appearance:
    """Surface temperatures (deg C) of one person."""
    skin: float
    shirt: float
    trousers: float
    sleeve: float
    skin_arm: float
    patch: tuple[float, float, float, float] | None = None  # (from, to, width frac, temp)

    def temp(self, role: str) -> float:
        return float(getattr(self, role))


def sample_appearance(rng: np.random.Generator, ambient: float, body_temp: float) -> Appearance:
    """Clothes sit between ambient and skin temperature; sleeves and a cooler patch vary."""
    gap = body_temp - ambient
    shirt = ambient + rng.uniform(0.45, 0.85) * gap
    trousers = ambient + rng.uniform(0.4, 0.8) * gap
    long_sleeves = rng.random() < 0.6
    sleeve = shirt if long_sleeves or rng.random() < 0.5 else body_temp - 0.5
    skin_arm = shirt if long_sleeves else body_temp - 0.3
    patch = None
    if rng.random() < 0.5:
        a = rng.uniform(0.1, 0.5)
        patch = (a, a + rng.uniform(0.2, 0.45), rng.uniform(0.4, 0.8), ambient + rng.uniform(0.2, 0.5) * gap)
    return Appearance(body_temp, shirt, trousers, sleeve, skin_arm, patch)


@dataclass
class Figure:
    """A person ready to draw: pixel joints (T, 2), pixel scale (T,), depth per joint (T,)."""
    joints: dict[str, np.ndarray]
    depth: dict[str, np.ndarray]
    scale: np.ndarray
    visible: np.ndarray
    look: Appearance
    order: float  # larger = nearer the camera, drawn later
    blobs: list["Blob"] = field(default_factory=list)


@dataclass
class Blob:
    """A warm object: centre (T, 2) px, half axes (T, 2) px, temperature (T,), visibility."""
    xy: np.ndarray
    axes: np.ndarray
    temp: np.ndarray
    visible: np.ndarray


def make_background(rng: np.random.Generator, h: int, w: int, ambient: float):
    """Smooth cool background: wall/sky gradient, ground plane, low-frequency texture and
    a few static warm (and cool) objects. Returns (temperature field, description)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    horizon = rng.uniform(0.3, 0.6) * h
    wall = ambient + rng.uniform(-2, 2) * (xx / w - 0.5) + rng.uniform(-2, 2) * (yy / h - 0.5)
    ground = ambient + rng.uniform(-3.0, 1.5) + rng.uniform(-1.5, 1.5) * (yy - horizon) / h
    mix = 1.0 / (1.0 + np.exp(-(yy - horizon) / 1.5))
    field_ = (1 - mix) * wall + mix * ground
    low = cv2.resize(rng.standard_normal((4, 5)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    field_ = (field_ + rng.uniform(0.3, 1.2) * low).astype(np.float32)
    n_obj = int(rng.integers(0, 4))
    for _ in range(n_obj):
        warm = rng.random() < 0.75
        t = ambient + (rng.uniform(4, 20) if warm else -rng.uniform(1, 5))
        cx, cy = rng.uniform(0, w), rng.uniform(0, horizon + 0.2 * h)
        ax, ay = rng.uniform(0.03, 0.15) * w, rng.uniform(0.03, 0.15) * h
        if rng.random() < 0.5:
            cv2.rectangle(field_, (int(cx - ax), int(cy - ay)), (int(cx + ax), int(cy + ay)), float(t), -1)
        else:
            cv2.ellipse(field_, (int(cx), int(cy)), (max(int(ax), 1), max(int(ay), 1)), 0, 0, 360, float(t), -1)
    field_ = cv2.GaussianBlur(field_, (0, 0), 1.0)
    return field_, {"horizon": float(horizon), "n_static_objects": n_obj}


def _pt(xy: np.ndarray) -> tuple[int, int]:
    return int(round(xy[0] * SS * _ONE)), int(round(xy[1] * SS * _ONE))


def _draw_figure(canvas: np.ndarray, fig: Figure, t: int, off: np.ndarray) -> None:
    sc = fig.scale[t] * SS
    items = []
    for name, a, b, wkey, role in SEGMENTS:
        z = 0.5 * (fig.depth[a][t] + fig.depth[b][t])
        items.append((z, 0, name, a, b, wkey, role))
    for name, j, rkey, role in DISCS:
        items.append((fig.depth[j][t] + (0.05 if name == "head" else 0.0), 1, name, j, j, rkey, role))
    items.sort(key=lambda it: (it[0], it[2]))
    for _, kind, name, a, b, key, role in items:
        temp = fig.look.temp(role)
        if kind == 0:
            pa, pb = fig.joints[a][t] + off, fig.joints[b][t] + off
            th = max(int(round(DIMS[key] * sc)), 1)
            cv2.line(canvas, _pt(pa), _pt(pb), temp, th, cv2.LINE_8, _SHIFT)
            if name == "torso" and fig.look.patch is not None:
                f0, f1, wf, ptemp = fig.look.patch
                q0, q1 = pa + f0 * (pb - pa), pa + f1 * (pb - pa)
                cv2.line(canvas, _pt(q0), _pt(q1), ptemp, max(int(round(DIMS[key] * sc * wf)), 1),
                         cv2.LINE_8, _SHIFT)
        else:
            r = max(int(round(DIMS[key] * sc * _ONE)), _ONE // 2)
            cv2.circle(canvas, _pt(fig.joints[a][t] + off), r, temp, -1, cv2.LINE_8, _SHIFT)


def _draw_blob(canvas: np.ndarray, blob: Blob, t: int, off: np.ndarray) -> None:
    ax = (max(int(round(blob.axes[t, 0] * SS * _ONE)), 1), max(int(round(blob.axes[t, 1] * SS * _ONE)), 1))
    cv2.ellipse(canvas, _pt(blob.xy[t] + off), ax, 0, 0, 360, float(blob.temp[t]), -1, cv2.LINE_8, _SHIFT)


def render_temperatures(background: np.ndarray, figures: list[Figure], n_frames: int,
                        jitter: np.ndarray | None = None) -> np.ndarray:
    """Scene temperatures (T, H, W) float32 at sensor resolution (area-averaged)."""
    h, w = background.shape
    bg = cv2.resize(background, (w * SS, h * SS), interpolation=cv2.INTER_LINEAR)
    out = np.empty((n_frames, h, w), np.float32)
    order = sorted(range(len(figures)), key=lambda i: (figures[i].order, i))
    for t in range(n_frames):
        off = np.zeros(2) if jitter is None else jitter[t]
        if jitter is not None and np.any(off != 0):
            m = np.float32([[1, 0, off[0] * SS], [0, 1, off[1] * SS]])
            canvas = cv2.warpAffine(bg, m, (w * SS, h * SS), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REFLECT)
        else:
            canvas = bg.copy()
        for i in order:
            fig = figures[i]
            if fig.visible[t]:
                _draw_figure(canvas, fig, t, off)
            for blob in fig.blobs:
                if blob.visible[t]:
                    _draw_blob(canvas, blob, t, off)
        out[t] = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA)
    return out


@dataclass(frozen=True)
class Sensor:
    blur_sigma: float      # optical blur (px)
    noise_sigma: float     # temporal noise (deg C, NETD-like)
    fpn_sigma: float       # per-column offset (deg C)
    agc_low: float = 1.0   # AGC percentiles
    agc_high: float = 99.7
    agc_smooth: float = 0.35  # exponential smoothing of the AGC range (1 = none)


def sample_sensor(rng: np.random.Generator) -> Sensor:
    return Sensor(blur_sigma=float(rng.uniform(0.6, 1.2)), noise_sigma=float(rng.uniform(0.08, 0.3)),
                  fpn_sigma=float(rng.uniform(0.05, 0.25)))


def sense(temps: np.ndarray, sensor: Sensor, rng: np.random.Generator) -> np.ndarray:
    """Optics + noise + fixed-pattern noise + AGC: temperatures (T, H, W) -> uint8."""
    n, h, w = temps.shape
    img = np.empty_like(temps)
    for t in range(n):
        img[t] = cv2.GaussianBlur(temps[t], (0, 0), sensor.blur_sigma)
    img += rng.normal(0.0, sensor.fpn_sigma, w).astype(np.float32)[None, None, :]
    img += rng.standard_normal((n, h, w), dtype=np.float32) * np.float32(sensor.noise_sigma)
    flat = img.reshape(n, -1)
    lo_raw = np.percentile(flat, sensor.agc_low, axis=1)
    hi_raw = np.percentile(flat, sensor.agc_high, axis=1)
    lo, hi = np.empty(n), np.empty(n)
    lo[0], hi[0] = lo_raw[0], hi_raw[0]
    a = sensor.agc_smooth
    for t in range(1, n):
        lo[t] = (1 - a) * lo[t - 1] + a * lo_raw[t]
        hi[t] = (1 - a) * hi[t - 1] + a * hi_raw[t]
    span = np.maximum(hi - lo, 2.0)
    out = (img - lo[:, None, None].astype(np.float32)) * (255.0 / span[:, None, None]).astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def sample_jitter(rng: np.random.Generator, n: int, std_px: float) -> np.ndarray:
    """Slight camera shake: a smooth AR(1) path (n, 2) with the given std in pixels."""
    e = rng.standard_normal((n, 2))
    j = np.zeros((n, 2))
    for t in range(n):
        j[t] = (0.75 * j[t - 1] if t else 0.0) + e[t]
    j -= j.mean(0)
    return j * (std_px / max(j.std(), 1e-6))
