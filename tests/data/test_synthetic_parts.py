"""Known answers for the synthetic generator's parts: kinematics, projection, sensor model."""
from __future__ import annotations

import numpy as np

from irpipe.data.synthetic.render import Sensor, sense
from irpipe.data.synthetic.skeleton import DIMS, forward_kinematics, idle_pose, project, root_path, to_world


def straight(n=1):
    p = idle_pose(n)
    for k in list(p):
        if not k.endswith("_pref"):
            p[k][:] = 0.0
    return p


def test_straight_body_stands_on_the_ground_with_known_height():
    j = forward_kinematics(straight())
    leg = DIMS["thigh"] + DIMS["shin"]
    assert np.allclose(j["l_foot"][0], [DIMS["hip_half"], 0.0, 0.0])
    assert np.allclose(j["pelvis"][0], [0.0, leg, 0.0])
    assert np.isclose(j["head"][0, 1] + DIMS["r_head"], leg + DIMS["head_up"] + DIMS["r_head"])
    assert 0.9 < j["head"][0, 1] + DIMS["r_head"] < 1.0  # about one body height
    # arms hang straight down from the shoulders
    arm = DIMS["upper_arm"] + DIMS["forearm"]
    assert np.allclose(j["r_hand"][0] - j["r_shoulder"][0], [0.0, -arm, 0.0])


def test_arm_raised_forward_and_elbow_bend():
    p = straight()
    p["ra_flex"][:] = np.pi / 2  # horizontal, forward
    j = forward_kinematics(p)
    d = j["r_hand"][0] - j["r_shoulder"][0]
    assert np.allclose(d, [0.0, 0.0, DIMS["upper_arm"] + DIMS["forearm"]])
    p["ra_bend"][:] = np.pi / 2  # forearm bends up (towards the preferred direction)
    j = forward_kinematics(p)
    d = j["r_hand"][0] - j["r_elbow"][0]
    assert np.allclose(d / np.linalg.norm(d), [0.0, 1.0, 0.0], atol=1e-9)
    # sideways raise goes to the person's own side (+x is the left)
    p = straight()
    p["la_abd"][:] = np.pi / 2
    j = forward_kinematics(p)
    assert j["l_hand"][0, 0] > j["l_shoulder"][0, 0] + 0.3


def test_knee_bend_keeps_the_lower_foot_on_the_ground_and_lift_raises_everything():
    p = straight(2)
    p["ll_flex"][:] = np.radians(60)
    p["ll_bend"][:] = np.radians(90)
    p["lift"][1] = 0.2
    j = forward_kinematics(p)
    assert np.isclose(min(j["l_foot"][0, 1], j["r_foot"][0, 1]), 0.0)
    assert j["l_foot"][0, 1] > 0.1  # the bent leg is off the ground
    assert np.allclose(j["head"][1, 1] - j["head"][0, 1], 0.2)


def test_yaw_and_projection():
    p = straight()
    p["fwd"][:] = 1.0
    yaw = np.array([np.pi / 2])  # facing image right
    rx, rz = root_path(p, yaw)
    assert np.allclose([rx[0], rz[0]], [1.0, 0.0])
    w = to_world(forward_kinematics(straight()), yaw, rx, rz)
    assert w["l_shoulder"][0, 2] < w["r_shoulder"][0, 2]  # left side away from the camera
    pix, scale = project(w, rz, u0=50.0, g0=90.0, s0=60.0)
    assert np.isclose(pix["l_foot"][0, 1], 90.0) and np.isclose(pix["pelvis"][0, 0], 110.0)
    _, near = project(w, np.array([1.0]), 50.0, 90.0, 60.0)
    assert near[0] > scale[0]  # closer to the camera looks bigger


def test_sensor_fixed_pattern_noise_and_agc():
    rng = np.random.default_rng(0)
    temps = np.full((6, 20, 30), 20.0, np.float32)
    temps[:, 5:15, 10:20] = 34.0  # a warm square
    out = sense(temps, Sensor(blur_sigma=0.7, noise_sigma=0.0, fpn_sigma=0.3), rng)
    assert out.dtype == np.uint8 and out.min() <= 3 and out.max() >= 250
    bg_cols = out[:, 17:, :].astype(float).mean(1)  # static cool rows: only the column pattern
    assert np.ptp(bg_cols.mean(0)) > 3            # columns differ...
    assert np.abs(bg_cols - bg_cols[0]).max() == 0  # ...identically in every frame
    assert out[:, 10, 15].mean() > out[:, 2, 15].mean() + 150  # warm is bright
    noisy = sense(temps, Sensor(0.7, 0.3, 0.0), np.random.default_rng(1))
    assert np.abs(np.diff(noisy[:, 18:, :].astype(float), axis=0)).mean() > 1  # temporal noise
