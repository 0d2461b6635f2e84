"""Trimmed recognition clips of the 12 InfAR classes (one class per video)."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from ...errors import ConfigError
from ...io import write_csv
from . import motion
from .motion import CLASS_MOTIONS
from .render import make_background, render_temperatures, sample_appearance, sample_jitter, sample_sensor, sense
from .scene import make_figure, video_rng
from .skeleton import root_path
from .writers import write_video

log = logging.getLogger(__name__)

P_THIRD_PERSON = 0.35   # every scene holds 2 people, or 3 with this probability, whatever the class
P_WALKER = 0.3          # a small background walker crosses the scene
P_JITTER = 0.3          # slight camera shake


def check_classes(classes: list[str]) -> None:
    unknown = [c for c in classes if c not in CLASS_MOTIONS]
    if unknown:
        raise ConfigError(f"config key 'dataset.recognition.classes': no synthetic motion for {unknown}; "
                          f"the generator knows {sorted(CLASS_MOTIONS)}")


def render_clip(label: str, index: int, rcfg: dict, seed: int) -> tuple[np.ndarray, dict]:
    """Frames (T, H, W) uint8 and the generative parameters of one recognition clip."""
    rng = video_rng(seed, "recognition", label, index)
    n, fps, h, w = int(rcfg["n_frames"]), float(rcfg["fps"]), int(rcfg["height"]), int(rcfg["width"])
    t = np.arange(n) / fps
    cm = CLASS_MOTIONS[label]
    prm = {"speed": rng.uniform(0.8, 1.25), "phase": rng.uniform(0, 2 * np.pi),
           "amp": rng.uniform(0.75, 1.2), "event": rng.uniform(0.3, 0.6)}
    ambient = rng.uniform(10.0, 24.0)
    body = rng.uniform(30.5, 35.0)
    s0 = h * rng.uniform(0.5, 0.78)
    g0 = h * rng.uniform(0.86, 0.97)
    u0 = w * rng.uniform(0.35, 0.65)
    background, bg_info = make_background(rng, h, w, ambient)

    poses = cm.fn(t, prm, rng)
    figures = []
    if cm.actors == 1:
        facing = rng.uniform(-np.pi, np.pi)
        yaws = [facing]
        pose = poses[0]
        if cm.locomotion:
            pose["fwd"] = pose["fwd"] - pose["fwd"].mean()
        bases = [(0.0, 0.0)]
        half_extent = 0.2
    else:
        facing = rng.choice([-1.0, 1.0]) * rng.uniform(np.radians(60), np.radians(120))
        sep = rng.uniform(*cm.separation)
        d = np.array([np.sin(facing), np.cos(facing)])
        bases = [tuple(-sep / 2 * d), tuple(sep / 2 * d)]
        yaws = [facing, facing + np.pi]
        half_extent = sep / 2 * abs(np.sin(facing)) + 0.2
    looks = []
    for i, pose in enumerate(poses):
        yaw = np.full(n, yaws[i])
        rx, rz = root_path(pose, yaw, *bases[i])
        look = sample_appearance(rng, ambient, body if i == 0 else body + rng.normal(0, 0.7))
        looks.append(look)
        fig, _ = make_figure(pose, yaw, rx, rz, u0, g0, s0, look, order=float(rz.mean()))
        figures.append(fig)

    n_people = 3 if rng.random() < P_THIRD_PERSON else 2
    n_bystanders = n_people - cm.actors
    side = rng.choice([-1.0, 1.0])
    for b in range(n_bystanders):
        r = rng.uniform(0.75, 1.05)
        offset = s0 * (half_extent + rng.uniform(0.3, 0.65))
        ub = u0 + side * offset
        if not 0.08 * w < ub < 0.92 * w:
            ub = u0 - side * offset
        ub = float(np.clip(ub, 0.08 * w, 0.92 * w))
        side = -side
        bp = {"phase": rng.uniform(0, 2 * np.pi)}
        pose = (motion.gesture(t, bp, rng) if rng.random() < 0.4 else motion.idle(t, bp, rng)[0])
        yaw = np.full(n, rng.uniform(-np.pi, np.pi))
        rx, rz = root_path(pose, yaw)
        look = sample_appearance(rng, ambient, body + rng.normal(0, 0.7))
        fig, _ = make_figure(pose, yaw, rx, rz, ub, g0 - (1 - r) * 0.3 * h, s0 * r, look,
                             order=(r - 1.0) * 5.0)
        figures.append(fig)

    n_walkers = int(rng.random() < P_WALKER)
    for _ in range(n_walkers):
        r = rng.uniform(0.35, 0.6)
        wp = {"speed": rng.uniform(0.8, 1.2), "phase": rng.uniform(0, 2 * np.pi), "amp": rng.uniform(0.8, 1.1)}
        pose = motion.walk(t, wp, rng)[0]
        pose["fwd"] = pose["fwd"] - pose["fwd"].mean()
        yaw = np.full(n, rng.choice([-1.0, 1.0]) * rng.uniform(np.radians(75), np.radians(105)))
        rx, rz = root_path(pose, yaw)
        look = sample_appearance(rng, ambient, rng.uniform(30.5, 35.0))
        fig, _ = make_figure(pose, yaw, rx, rz, w * rng.uniform(0.1, 0.9), g0 - h * rng.uniform(0.12, 0.25),
                             s0 * r, look, order=-10.0)
        figures.append(fig)

    jitter_std = float(rng.uniform(0.3, 1.0)) if rng.random() < P_JITTER else 0.0
    jitter = sample_jitter(rng, n, jitter_std) if jitter_std > 0 else None
    sensor = sample_sensor(rng)
    temps = render_temperatures(background, figures, n, jitter)
    frames = sense(temps, sensor, rng)
    params = {
        "n_frames": n, "fps": fps, "height": h, "width": w,
        "actors": cm.actors, "bystanders": n_bystanders, "walkers": n_walkers,
        "scale_px": round(s0, 3), "position_x": round(u0 / w, 4), "ground_y": round(g0 / h, 4),
        "facing_deg": round(float(np.degrees(facing)), 2),
        "speed": round(prm["speed"], 4), "phase": round(prm["phase"], 4), "amplitude": round(prm["amp"], 4),
        "ambient_c": round(ambient, 3), "body_temp_c": round(body, 3),
        "clothing_patch": looks[0].patch is not None, "jitter_px": round(jitter_std, 3),
        "blur_sigma": round(sensor.blur_sigma, 3), "noise_sigma": round(sensor.noise_sigma, 3),
        "fpn_sigma": round(sensor.fpn_sigma, 3), "static_objects": bg_info["n_static_objects"],
    }
    return frames, params


def generate_recognition(out_dir: str | os.PathLike, cfg: dict, classes: list[str], seed: int) -> pd.DataFrame:
    """Write ``<out_dir>/<class>/<class>_<NNN><container>`` for every class and
    ``<out_dir>/ground_truth.csv`` (video_id, label, path relative to out_dir, parameters).

    ``cfg`` is config["synthetic"]; each video's generator is seeded by (seed, class, index),
    so a video does not depend on which other videos are generated."""
    check_classes(classes)
    out = Path(out_dir)
    rcfg = cfg["recognition"]
    container, codec = cfg.get("container", ".avi"), cfg.get("codec", "MJPG")
    jobs = [(c, i) for c in classes for i in range(int(rcfg["videos_per_class"]))]
    rows = []
    for label, i in tqdm(jobs, desc="synthetic recognition", unit="video", disable=None):
        vid = f"{label}_{i:03d}"
        rel = Path(label) / f"{vid}{container}"
        frames, params = render_clip(label, i, rcfg, seed)
        write_video(out / rel, frames, params["fps"], codec)
        rows.append({"video_id": vid, "label": label, "path": rel.as_posix(), **params})
    table = pd.DataFrame(rows)
    write_csv(out / "ground_truth.csv", table)
    log.info("wrote %d synthetic recognition videos to %s", len(table), out)
    return table
