"""Untrimmed detection videos (InfDet-like): drop / fight / hug instances among background
activity (people walking through, people standing idle), with THUMOS14-style ground truth.

Instance durations follow InfDet's class means (drop 1.4 s, fight 6.1 s, hug 3.3 s) times
``instance_duration_scale``, with a log-normal spread; the number of instances per video is
set so that the expected fraction of the video they cover equals ``coverage``. Instances
never overlap and lie inside the video. Actors walk in before their instance and leave
after it (walking is background activity, never annotated); a dropped object stays on the
ground, warm, until the end of the video.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from ...errors import ConfigError
from ...io import write_csv, write_text
from . import motion
from .render import Blob, make_background, render_temperatures, sample_appearance, sample_jitter, sample_sensor, sense
from .scene import make_figure, smooth_pose, video_rng
from .skeleton import idle_pose, project, root_path
from .writers import write_video

log = logging.getLogger(__name__)

INFDET_MEAN_DURATION_S = {"drop": 1.4, "fight": 6.1, "hug": 3.3}
DURATION_SPREAD = 0.35      # sigma of the log-normal around each class mean
MIN_GAP_S = 2.0             # at least this much background between instances (when it fits)
WALK_SPEED = (0.6, 0.9)     # body heights per second
WALKERS_PER_S = 1 / 9.0     # background walkers crossing the scene
ANNOTATION_COLUMNS = ["video", "label", "t_start", "t_end", "subset"]
SUBSETS = ("train", "test")


def check_classes(classes: list[str]) -> None:
    unknown = [c for c in classes if c not in INFDET_MEAN_DURATION_S]
    if unknown:
        raise ConfigError(f"config key 'dataset.detection.classes': no synthetic action for {unknown}; "
                          f"the generator knows {sorted(INFDET_MEAN_DURATION_S)}")


def plan_instances(rng: np.random.Generator, n_frames: int, fps: float, classes: list[str],
                   dcfg: dict, index: int = 0, min_instances: int = 1) -> list[tuple[str, int, int]]:
    """(label, first frame, end frame exclusive) of the instances of one video, sorted.

    The count is ``floor(coverage * duration / mean duration + U(0, 1))``, at least
    ``min_instances``. Labels rotate with the video index (video i starts at class
    i * min_instances), so a subset of n videos holds every class once
    n * min_instances >= len(classes). Durations are log-normal around the scaled class
    means, unbiased (no duration-dependent rejection)."""
    duration = n_frames / fps
    scale = float(dcfg["instance_duration_scale"])
    means = {c: INFDET_MEAN_DURATION_S[c] * scale for c in classes}
    avg = float(np.mean(list(means.values())))
    n_inst = max(int(min_instances), 1, int(np.floor(dcfg["coverage"] * duration / avg + rng.uniform())))
    labels = [classes[(index * int(min_instances) + k) % len(classes)] for k in range(n_inst)]
    rng.shuffle(labels)
    frames = []
    for lab in labels:
        mu = np.log(means[lab]) - DURATION_SPREAD ** 2 / 2  # mean of the log-normal = class mean
        d = np.clip(rng.lognormal(mu, DURATION_SPREAD), 0.35 * means[lab], 3.0 * means[lab])
        frames.append(max(int(round(d * fps)), 3))
    # keep what fits with a background gap (>= 2 frames) around each instance: drop extra
    # instances first; at the minimum count shorten all of them (short videos only)
    def room(k):
        return n_frames - (k + 1) * 2
    while len(frames) > max(int(min_instances), 1) and sum(frames) > room(len(frames)):
        frames.pop(), labels.pop()
    while len(frames) > 1 and 3 * len(frames) > room(len(frames)):
        frames.pop(), labels.pop()
    if sum(frames) > room(len(frames)):
        f = room(len(frames)) / sum(frames)
        frames = [max(int(d * f), 3) for d in frames]
    frames[0] = min(frames[0], n_frames - 4)
    free = n_frames - sum(frames)
    gap = min(int(round(MIN_GAP_S * fps)), free // (len(frames) + 1))
    extra = free - gap * (len(frames) + 1)
    cuts = np.sort(rng.integers(0, extra + 1, size=len(frames)))
    out, start = [], 0
    for k, (lab, d) in enumerate(zip(labels, frames)):
        start = (out[-1][2] if out else 0) + gap + (cuts[k] - (cuts[k - 1] if k else 0))
        out.append((lab, int(start), int(start + d)))
    assert out[-1][2] <= n_frames
    return out


class _Agent:
    """One person over the whole video: pose, yaw, world x, visibility (filled by segments)."""

    def __init__(self, n: int, fps: float, lane: float, look, h: int, w: int):
        self.n, self.fps, self.lane, self.look = n, fps, lane, look
        self.pose = idle_pose(n)
        self.yaw = np.zeros(n)
        self.rx = np.zeros(n)
        self.visible = np.zeros(n, bool)
        self.s0 = h * (0.34 + 0.26 * lane)
        self.g0 = h * (0.70 + 0.27 * lane)
        self.u0 = w / 2.0
        self.half = (w / 2.0) / self.s0  # half the image width in body units
        self.release: int | None = None       # drop actors: frame the object leaves the hand
        self.object_temp: float | None = None
        self.world: dict[str, np.ndarray] = {}

    def _put(self, f0: int, pose: dict, yaw, rx) -> None:
        m = len(pose["lean"])
        lo, hi = max(f0, 0), min(f0 + m, self.n)
        if hi <= lo:
            return
        sl, src = slice(lo, hi), slice(lo - f0, hi - f0)
        for k, v in pose.items():
            self.pose[k][sl] = v[src]
        self.yaw[sl] = np.broadcast_to(yaw, (m,))[src]
        self.rx[sl] = np.broadcast_to(rx, (m,))[src]
        self.visible[sl] = True

    def walk(self, f0: int, x_from: float, x_to: float, speed: float, rng, carry: bool = False) -> int:
        """Walk from x_from to x_to starting at frame f0; returns the end frame."""
        m = max(int(round(abs(x_to - x_from) / speed * self.fps)), 1)
        t = np.arange(m) / self.fps
        prm = {"speed": speed / 0.75, "phase": rng.uniform(0, 2 * np.pi), "amp": rng.uniform(0.85, 1.1)}
        pose = motion.walk(t, prm, rng)[0]
        if carry:
            motion.carry(pose)
        yaw = np.sign(x_to - x_from) * np.pi / 2
        self._put(f0, pose, yaw, np.linspace(x_from, x_to, m))
        return f0 + m

    def act(self, f0: int, pose: dict, x: float, yaw: float) -> int:
        rx, _ = root_path(pose, np.full(len(pose["lean"]), yaw), x0=x)
        self._put(f0, pose, yaw, rx)
        return f0 + len(pose["lean"])

    def figure(self):
        pose = smooth_pose(self.pose, 1.2)
        rz = np.zeros(self.n)
        return make_figure(pose, self.yaw, self.rx, rz, self.u0, self.g0, self.s0, self.look,
                           self.visible, order=self.lane)


def _idle_pose(m, rng, fps, gesture=False):
    t = np.arange(m) / fps
    prm = {"phase": rng.uniform(0, 2 * np.pi)}
    return motion.gesture(t, prm, rng) if gesture else motion.idle(t, prm, rng)[0]


def render_untrimmed(index: int, subset: str, dcfg: dict, classes: list[str], seed: int,
                     min_instances: int = 1):
    """Frames (T, H, W) uint8, instance rows and video parameters of one detection video."""
    rng = video_rng(seed, "detection", subset, index)
    fps, h, w = float(dcfg["fps"]), int(dcfg["height"]), int(dcfg["width"])
    lo_s, hi_s = sorted(float(x) for x in dcfg["duration_s"])
    n = max(int(round(rng.uniform(lo_s, hi_s) * fps)), 16)
    plan = plan_instances(rng, n, fps, classes, dcfg, index, min_instances)
    ambient = rng.uniform(10.0, 24.0)
    background, bg_info = make_background(rng, h, w, ambient)
    agents: list[_Agent] = []
    details = []

    def new_agent(lane):
        a = _Agent(n, fps, lane, sample_appearance(rng, ambient, rng.uniform(30.5, 35.0)), h, w)
        agents.append(a)
        return a

    # background: people standing around for the whole video, people walking through
    n_idle = int(rng.choice([0, 1, 2], p=[0.35, 0.45, 0.2]))
    for _ in range(n_idle):
        a = new_agent(rng.uniform(0.0, 0.8))
        a.act(0, _idle_pose(n, rng, fps, gesture=rng.random() < 0.5), rng.uniform(-0.8, 0.8) * a.half,
              rng.uniform(-np.pi, np.pi))
    n_walk = int(rng.poisson(n / fps * WALKERS_PER_S))
    for _ in range(n_walk):
        a = new_agent(rng.uniform(0.0, 0.7))
        edge = a.half + 0.3
        speed = rng.uniform(*WALK_SPEED)
        cross = int(2 * edge / speed * fps)
        sgn = rng.choice([-1.0, 1.0])
        a.walk(int(rng.integers(-cross // 2, n)), -sgn * edge, sgn * edge, speed, rng)

    for label, f0, f1 in plan:
        m = f1 - f0
        t = np.arange(m) / fps
        lane = rng.uniform(0.35, 1.0)
        prm = {"speed": rng.uniform(0.85, 1.2), "phase": rng.uniform(0, 2 * np.pi),
               "amp": rng.uniform(0.8, 1.15), "release": True}
        row = {"label": label, "f_start": f0, "f_end": f1, "lane": round(lane, 3)}
        if label in ("fight", "hug"):
            A, B = new_agent(lane), new_agent(lane)
            sep = rng.uniform(0.42, 0.55) if label == "fight" else rng.uniform(0.7, 0.8)
            xc = rng.uniform(-0.4, 0.4) * A.half
            poses = (motion.fight if label == "fight" else motion.hug)(t, prm, rng)
            for agent, pose, sgn in ((A, poses[0], -1.0), (B, poses[1], 1.0)):
                spot, edge = xc + sgn * sep / 2, sgn * (agent.half + 0.3)
                speed = rng.uniform(*WALK_SPEED)
                wait_in = int(rng.uniform(0.4, 1.5) * fps)
                walk_len = max(int(round(abs(edge - spot) / speed * fps)), 1)
                agent.walk(f0 - wait_in - walk_len, edge, spot, speed, rng)
                agent.act(f0 - wait_in, _idle_pose(wait_in, rng, fps), spot, -sgn * np.pi / 2)
                agent.act(f0, pose, spot, -sgn * np.pi / 2)
                wait_out = int(rng.uniform(0.4, 1.5) * fps)
                agent.act(f1, _idle_pose(wait_out, rng, fps), spot, -sgn * np.pi / 2)
                agent.walk(f1 + wait_out, spot, edge, speed, rng)
            row.update(position_x=round(xc, 3), separation=round(sep, 3))
        else:  # drop: walk in carrying a warm object, bend and let go, walk back out
            A = new_agent(lane)
            sgn = rng.choice([-1.0, 1.0])  # enters from this side, walks towards -sgn
            spot = rng.uniform(-0.45, 0.45) * A.half
            edge = sgn * (A.half + 0.3)
            speed = rng.uniform(*WALK_SPEED)
            wait_in = int(rng.uniform(0.4, 1.5) * fps)
            walk_len = max(int(round(abs(edge - spot) / speed * fps)), 1)
            yaw_in = -sgn * np.pi / 2
            A.walk(f0 - wait_in - walk_len, edge, spot, speed, rng, carry=True)
            A.act(f0 - wait_in, motion.carry(_idle_pose(wait_in, rng, fps)), spot, yaw_in)
            A.act(f0, motion.drop(t, prm, rng), spot, yaw_in)
            wait_out = int(rng.uniform(0.5, 1.5) * fps)
            A.act(f1, _idle_pose(wait_out, rng, fps), spot, yaw_in)
            A.walk(f1 + wait_out, spot, edge, speed, rng)
            A.release = f0 + int(round(motion.DROP_RELEASE * (m - 1)))
            A.object_temp = ambient + rng.uniform(15.0, 28.0)
            row.update(position_x=round(spot, 3))
        details.append((row, A))

    figures = []
    for a in agents:
        fig, world = a.figure()
        figures.append(fig)
        a.world = world
    for row, a in details:
        if row["label"] != "drop":
            continue
        blob, land = _dropped_object(a, fps, ambient)
        figures[agents.index(a)].blobs.append(blob)
        row.update(object_x=round(float(land[0]), 2), object_y=round(float(land[1]), 2),
                   object_temp_c=round(a.object_temp, 2))

    jitter_std = float(rng.uniform(0.3, 0.8)) if rng.random() < 0.3 else 0.0
    jitter = sample_jitter(rng, n, jitter_std) if jitter_std > 0 else None
    sensor = sample_sensor(rng)
    frames = sense(render_temperatures(background, figures, n, jitter), sensor, rng)
    params = {"n_frames": n, "fps": fps, "duration": round(n / fps, 4), "height": h, "width": w,
              "idle_people": n_idle, "walkers": n_walk, "ambient_c": round(ambient, 3),
              "jitter_px": round(jitter_std, 3), "static_objects": bg_info["n_static_objects"],
              "blur_sigma": round(sensor.blur_sigma, 3), "noise_sigma": round(sensor.noise_sigma, 3),
              "fpn_sigma": round(sensor.fpn_sigma, 3)}
    return frames, [r for r, _ in details], params


def _dropped_object(a: _Agent, fps: float, ambient: float):
    """The carried object's track: in the hand until release, then a fall under gravity,
    then resting on the ground (slowly cooling) until the video ends. Returns the blob and
    its resting pixel position (without camera jitter)."""
    n, r = a.n, a.release
    hand = a.world["r_hand"].copy()
    pos = hand + np.array([0.0, -0.03, 0.0])
    rel = min(max(r, 0), n - 1)
    g = 9.8 / 1.75  # body heights per s^2
    y0 = pos[rel, 1]
    t_after = (np.arange(n) - rel) / fps
    fallen = np.maximum(y0 - 0.5 * g * np.clip(t_after, 0, None) ** 2, 0.03)
    after = np.arange(n) >= rel
    pos[after] = np.stack([np.full(after.sum(), pos[rel, 0]), fallen[after], np.full(after.sum(), pos[rel, 2])], 1)
    pix, scale = project({"o": pos}, np.zeros(n), a.u0, a.g0, a.s0)
    axes = np.stack([0.06 * scale, np.where(after & (fallen <= 0.03), 0.032, 0.05) * scale], 1)
    cool = np.exp(-np.clip(t_after, 0, None) / 120.0)
    temp = ambient + (a.object_temp - ambient) * cool
    visible = a.visible.copy()
    first = int(np.argmax(a.visible)) if a.visible.any() else n
    visible[max(first, 0):] = True
    visible[:first] = False
    return Blob(pix["o"], axes, temp, visible), pix["o"][-1]


def generate_detection(out_dir: str | os.PathLike, cfg: dict, classes: list[str] | None = None,
                       seed: int = 0, subsets: dict[str, str] | None = None) -> pd.DataFrame:
    """Write ``<out_dir>/videos/<video_id><container>``, THUMOS14-style
    ``<out_dir>/annotations/<class>_<subset>.txt`` (``video_id t_start t_end`` in seconds),
    ``<out_dir>/annotations.csv`` (video, label, t_start, t_end, subset), plus
    ``ground_truth.csv`` (instance details) and ``videos.csv`` (per-video parameters).
    ``subsets`` maps train/test to the names used in files and tables (config
    ``dataset.detection.subsets``; default the identity). Returns the annotation table."""
    classes = list(classes or ["drop", "fight", "hug"])
    names = {"train": "train", "test": "test", **(subsets or {})}
    check_classes(classes)
    out = Path(out_dir)
    dcfg = cfg["detection"]
    container, codec = cfg.get("container", ".avi"), cfg.get("codec", "MJPG")
    sizes = {"train": int(dcfg["n_train"]), "test": int(dcfg["n_test"])}
    # small subsets get more instances per video so that each subset holds every class
    min_inst = {s: -(-len(classes) // sizes[s]) for s in SUBSETS}
    jobs = [(s, i) for s in SUBSETS for i in range(sizes[s])]
    ann, inst, vids = [], [], []
    for key, i in tqdm(jobs, desc="synthetic detection", unit="video", disable=None):
        subset = names[key]
        vid = f"video_{subset}_{i:04d}"
        rel = Path("videos") / f"{vid}{container}"
        frames, rows, params = render_untrimmed(i, key, dcfg, classes, seed, min_inst[key])
        write_video(out / rel, frames, params["fps"], codec)
        vids.append({"video_id": vid, "path": rel.as_posix(), "subset": subset, **params})
        for row in rows:
            ts, te = round(row["f_start"] / params["fps"], 3), round(row["f_end"] / params["fps"], 3)
            ann.append({"video": vid, "label": row["label"], "t_start": ts, "t_end": te, "subset": subset})
            inst.append({"video": vid, "subset": subset, "t_start": ts, "t_end": te, **row})
    table = pd.DataFrame(ann, columns=ANNOTATION_COLUMNS).sort_values(["subset", "video", "t_start"],
                                                                       kind="stable", ignore_index=True)
    for c in classes:
        for s in (names[k] for k in SUBSETS):
            sel = table[(table.label == c) & (table.subset == s)]
            text = "".join(f"{r.video} {r.t_start:.3f} {r.t_end:.3f}\n" for r in sel.itertuples())
            write_text(out / "annotations" / f"{c}_{s}.txt", text)
    write_csv(out / "annotations.csv", table)
    write_csv(out / "ground_truth.csv", pd.DataFrame(inst))
    write_csv(out / "videos.csv", pd.DataFrame(vids))
    log.info("wrote %d synthetic detection videos (%d instances) to %s", len(vids), len(table), out)
    return table
