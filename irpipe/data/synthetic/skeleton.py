"""Articulated stick-figure body: pose tracks, forward kinematics and projection to pixels.

A pose track is a dict of per-frame arrays (length T), all angles in radians:

* ``fwd``, ``lat``: root displacement in body units (1 = body height) along the person's
  facing direction and to their left, relative to where the motion started;
* ``lift``: extra height of the whole body (jumps, hops); ``lean``: forward torso bend;
* for each limb ``la``, ``ra`` (left/right arm), ``ll``, ``rl`` (legs): ``<limb>_flex``
  (forward swing of the upper segment: 0 = hanging, pi/2 = horizontal forward),
  ``<limb>_abd`` (sideways raise), ``<limb>_bend`` (elbow/knee bend) and ``<limb>_pref``
  (T, 3): the direction the lower segment bends towards.

Body frame: x to the person's left, y up, z forward. World frame: the same rotated about y
by the person's yaw (0 = facing the camera, +pi/2 = facing image right). Feet are kept on
the ground automatically (the pelvis height follows the lower foot), plus ``lift``.
"""
from __future__ import annotations

import numpy as np

LIMBS = ("la", "ra", "ll", "rl")
SIDE = {"la": 1.0, "ra": -1.0, "ll": 1.0, "rl": -1.0}

# Segment lengths and widths in body-height units (a body is about 1 unit tall).
DIMS = {
    "thigh": 0.245, "shin": 0.245, "hip_half": 0.055,
    "torso": 0.29, "shoulder_up": 0.265, "shoulder_half": 0.095, "head_up": 0.385,
    "upper_arm": 0.16, "forearm": 0.15,
    "w_torso": 0.15, "w_upper_arm": 0.052, "w_forearm": 0.042, "w_thigh": 0.078, "w_shin": 0.058,
    "r_head": 0.062, "r_hand": 0.026,
}

ARM_PREF = np.array([0.0, 1.0, 1.0]) / np.sqrt(2.0)   # elbows bend forward/up
LEG_PREF = np.array([0.0, -1.0, -1.0]) / np.sqrt(2.0)  # knees bend backward


def idle_pose(n: int) -> dict[str, np.ndarray]:
    """Relaxed standing pose for ``n`` frames (the base every motion modifies)."""
    p: dict[str, np.ndarray] = {k: np.zeros(n) for k in ("fwd", "lat", "lift", "lean")}
    p["lean"][:] = np.radians(2.0)
    for limb in LIMBS:
        arm = limb[1] == "a"
        p[f"{limb}_flex"] = np.full(n, np.radians(4.0 if arm else 2.0))
        p[f"{limb}_abd"] = np.full(n, np.radians(7.0 if arm else 3.0))
        p[f"{limb}_bend"] = np.full(n, np.radians(12.0 if arm else 4.0))
        p[f"{limb}_pref"] = np.tile(ARM_PREF if arm else LEG_PREF, (n, 1))
    return p


def _limb_dirs(flex, abd, bend, pref, side):
    """Unit directions (T, 3) of the upper and lower segment of one limb."""
    u = np.stack([side * np.sin(abd), -np.cos(abd) * np.cos(flex), np.cos(abd) * np.sin(flex)], -1)
    pref = pref / np.linalg.norm(pref, axis=-1, keepdims=True)
    b = pref - np.sum(pref * u, -1, keepdims=True) * u
    norm = np.linalg.norm(b, axis=-1, keepdims=True)
    fallback = np.array([0.0, 0.0, 1.0]) - u[..., 2:3] * u
    fallback /= np.maximum(np.linalg.norm(fallback, axis=-1, keepdims=True), 1e-6)
    b = np.where(norm > 1e-4, b / np.maximum(norm, 1e-9), fallback)
    lower = np.cos(bend)[:, None] * u + np.sin(bend)[:, None] * b
    return u, lower


def _rot_x(v, ang):
    """Rotate vectors (T, 3) about the x axis by ``ang`` (T,): positive tips +y towards +z."""
    c, s = np.cos(ang)[:, None], np.sin(ang)[:, None]
    return np.concatenate([v[:, :1], c * v[:, 1:2] - s * v[:, 2:3], s * v[:, 1:2] + c * v[:, 2:3]], -1)


def forward_kinematics(pose: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Joint positions (T, 3) in the body frame, feet on the ground (y = 0) plus lift."""
    n = len(pose["lean"])
    d = DIMS
    zero = np.zeros((n, 3))
    lean = pose["lean"]

    def up(x, y):
        return _rot_x(np.tile([x, y, 0.0], (n, 1)), -lean)

    joints = {"pelvis": zero.copy(), "neck": up(0.0, d["torso"]), "head": up(0.0, d["head_up"])}
    for limb in LIMBS:
        side = SIDE[limb]
        u, low = _limb_dirs(pose[f"{limb}_flex"], pose[f"{limb}_abd"], pose[f"{limb}_bend"],
                            pose[f"{limb}_pref"], side)
        if limb[1] == "a":
            root = up(side * d["shoulder_half"], d["shoulder_up"])
            u, low = _rot_x(u, -lean), _rot_x(low, -lean)
            mid = root + d["upper_arm"] * u
            end = mid + d["forearm"] * low
            names = ("shoulder", "elbow", "hand")
        else:
            root = np.tile([side * d["hip_half"], 0.0, 0.0], (n, 1))
            mid = root + d["thigh"] * u
            end = mid + d["shin"] * low
            names = ("hip", "knee", "foot")
        s = "l" if side > 0 else "r"
        for name, val in zip(names, (root, mid, end)):
            joints[f"{s}_{name}"] = val
    height = -np.minimum(joints["l_foot"][:, 1], joints["r_foot"][:, 1]) + pose["lift"]
    for v in joints.values():
        v[:, 1] += height
    return joints


# (segment name, joint a, joint b, width key, appearance role); heads/hands are discs.
SEGMENTS = [
    ("torso", "pelvis", "neck", "w_torso", "shirt"),
    ("l_upper_arm", "l_shoulder", "l_elbow", "w_upper_arm", "sleeve"),
    ("l_forearm", "l_elbow", "l_hand", "w_forearm", "skin_arm"),
    ("r_upper_arm", "r_shoulder", "r_elbow", "w_upper_arm", "sleeve"),
    ("r_forearm", "r_elbow", "r_hand", "w_forearm", "skin_arm"),
    ("l_thigh", "l_hip", "l_knee", "w_thigh", "trousers"),
    ("l_shin", "l_knee", "l_foot", "w_shin", "trousers"),
    ("r_thigh", "r_hip", "r_knee", "w_thigh", "trousers"),
    ("r_shin", "r_knee", "r_foot", "w_shin", "trousers"),
]
DISCS = [("head", "head", "r_head", "skin"), ("l_hand", "l_hand", "r_hand", "skin"),
         ("r_hand", "r_hand", "r_hand", "skin")]


def to_world(joints: dict[str, np.ndarray], yaw: np.ndarray, rx: np.ndarray, rz: np.ndarray):
    """Rotate body-frame joints by yaw (T,) and translate by the root (rx, rz) (T,)."""
    c, s = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
    out = {}
    for k, v in joints.items():
        x = c * v[:, :1] + s * v[:, 2:3] + rx[:, None]
        z = -s * v[:, :1] + c * v[:, 2:3] + rz[:, None]
        out[k] = np.concatenate([x, v[:, 1:2], z], -1)
    return out


def root_path(pose: dict[str, np.ndarray], yaw: np.ndarray, x0: float = 0.0, z0: float = 0.0):
    """World root (rx, rz) from the pose's body-frame displacement (fwd, lat) and yaw."""
    s, c = np.sin(yaw), np.cos(yaw)
    rx = x0 + pose["fwd"] * s + pose["lat"] * c
    rz = z0 + pose["fwd"] * c - pose["lat"] * s
    return rx, rz


def project(world: dict[str, np.ndarray], rz: np.ndarray, u0: float, g0: float, s0: float,
            depth_gain: float = 0.1):
    """Pixel coordinates (T, 2) of every joint for a person based at image x ``u0``, ground
    line ``g0`` and ``s0`` pixels per body height; moving towards the camera (rz > 0)
    enlarges the figure and lowers its ground line (weak perspective)."""
    k = 1.0 / np.clip(1.0 - depth_gain * rz, 0.6, 1.6)
    scale = s0 * k
    ground = g0 + 0.5 * s0 * (k - 1.0)
    out = {}
    for name, v in world.items():
        out[name] = np.stack([u0 + scale * v[:, 0], ground - scale * v[:, 1]], -1)
    return out, scale
