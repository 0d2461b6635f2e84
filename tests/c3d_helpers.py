"""Small frame / flow stores with class-dependent content for the C3D tests (written, not mocked).

Class k: a warm blob on a textured background, moving in direction 2*pi*k/m; blob radius and
brightness also depend on k. The flow images encode the blob's true motion (x, y mapped from
+-bound to 0..255 with 128 = no motion, magnitude in the third channel).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from irpipe.data.stores import write_arrays


def blob_video(k: int, m: int, n_frames: int, h: int, w: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    theta = 2 * np.pi * k / m
    speed = 1.5
    vx, vy = speed * np.cos(theta), speed * np.sin(theta)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bg = rng.normal(60, 12, (h, w)).astype(np.float32)
    r = 5 + 2 * (k % 3)
    cy, cx = h / 2 + rng.uniform(-4, 4), w / 2 + rng.uniform(-4, 4)
    cy -= vy * n_frames / 2
    cx -= vx * n_frames / 2
    frames, flows = [], []
    for t in range(n_frames):
        y0, x0 = cy + vy * t, cx + vx * t
        mask = ((yy - y0) ** 2 + (xx - x0) ** 2) < r * r
        f = bg + mask * (120 + 8 * (k % 4)) + rng.normal(0, 4, (h, w))
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
        if t < n_frames - 1:
            fl = np.zeros((h, w, 3), np.float32)
            fl[..., 0] = mask * vx
            fl[..., 1] = mask * vy
            flows.append(fl)
    flow = np.stack(flows)
    bound = 4.0
    img = np.empty(flow.shape, np.uint8)
    img[..., :2] = np.clip((flow[..., :2] / bound + 1) * 127.5, 0, 255).round()
    mag = np.sqrt(flow[..., 0] ** 2 + flow[..., 1] ** 2)
    img[..., 2] = np.clip(mag / bound * 255, 0, 255).round()
    return np.stack(frames), img


def make_dataset(root: Path, n_classes: int = 4, per_class: int = 6, n_train: int = 4, n_frames: int = 32,
                 h: int = 36, w: int = 48, seed: int = 0) -> pd.DataFrame:
    """Write frame and flow stores; return a table video_id, label_index, subset, frames, flow."""
    rows = []
    for k in range(n_classes):
        for j in range(per_class):
            vid = f"c{k}_v{j}"
            frames, flow = blob_video(k, n_classes, n_frames, h, w, seed * 7919 + k * 101 + j)
            fpath, opath = root / "frames" / f"{vid}.h5", root / "flow" / f"{vid}.h5"
            write_arrays(fpath, {"frames_c3d": frames}, {"video_id": vid})
            write_arrays(opath, {"flow_image": flow}, {"video_id": vid, "bound": 4.0})
            rows.append({"video_id": vid, "label_index": k, "subset": "train" if j < n_train else "test",
                         "frames": str(fpath), "flow": str(opath)})
    return pd.DataFrame(rows)
