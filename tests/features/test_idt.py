"""Improved dense trajectories: known answers on synthetic motion, descriptor maths, bad input."""
import numpy as np
import pytest

from irpipe.errors import BadInputError
from irpipe.features.idt import (
    DESCRIPTOR_DIMS,
    IDTParams,
    _orientation_hist,
    extract_idt,
    integral_histograms,
    n_scales,
    patch_descriptors,
)

H, W, T = 72, 96, 20


def _texture(rng, h, w, sigma=2.0):
    import cv2
    return cv2.GaussianBlur((rng.random((h, w)) * 255).astype(np.uint8), (0, 0), sigma)


def _video(mode, v=(2, 1), T=T):
    rng = np.random.default_rng(0)
    big = _texture(rng, H + 120, W + 120)
    obj = _texture(np.random.default_rng(1), 28, 28, 1.5)
    frames = []
    for t in range(T):
        if mode == "pan":
            f = big[60:60 + H, 10 + 2 * t:10 + 2 * t + W].copy()
        else:
            f = big[60:60 + H, 60:60 + W].copy()
            if mode == "object":
                x, y = 8 + v[0] * t, 10 + v[1] * t
                f[y:y + 28, x:x + 28] = obj
        frames.append(f)
    return np.stack(frames)


def test_dimensions_and_static_scene_has_no_trajectories():
    arrays, stats = extract_idt(_video("static"))
    for k, d in DESCRIPTOR_DIMS.items():
        assert arrays[k].shape == (0, d)
    assert stats["static"] > 100 and stats["kept"] == 0


def test_translating_object_shape_matches_motion():
    v = np.array([2.0, 1.0])
    arrays, stats = extract_idt(_video("object", tuple(v.astype(int))))
    for k, d in DESCRIPTOR_DIMS.items():
        assert arrays[k].shape[1] == d
    n = len(arrays["traj"])
    assert n >= 20
    # shape = 15 displacements / their summed length: each step is v / (15 |v|)
    expect = np.tile(v / np.linalg.norm(v) / 15, 15)
    med = np.median(arrays["traj"], axis=0)
    np.testing.assert_allclose(med, expect, atol=0.01)
    direction = arrays["traj"].reshape(-1, 15, 2).sum(axis=1)
    np.testing.assert_allclose(np.median(direction, axis=0), v / np.linalg.norm(v), atol=0.02)
    # every kept trajectory is an object trajectory: its mean lies on the object's path
    info = arrays["info"]
    assert np.all(info[:, 1] > 8) and np.all(info[:, 1] < 8 + 2 * T + 28)
    for k in ("hog", "hof", "mbhx", "mbhy"):
        assert np.all(np.isfinite(arrays[k])) and np.all(arrays[k] > 0)


def test_global_pan_removed_by_camera_motion_compensation():
    frames = _video("pan")
    comp, s1 = extract_idt(frames)
    raw, s2 = extract_idt(frames, {"camera_motion": False})
    assert len(raw["traj"]) > 300
    assert len(comp["traj"]) <= 0.02 * len(raw["traj"])
    assert s1["camera"] > 300
    assert np.mean(s1["residual_flow"]) < 0.1 * np.mean(s2["residual_flow"])
    # without compensation the pan shows up as motion to the left at 2 px / frame
    np.testing.assert_allclose(np.median(raw["traj"], axis=0)[:2], [-1 / 15, 0], atol=0.004)


def test_deterministic():
    frames = _video("object")
    a, _ = extract_idt(frames)
    b, _ = extract_idt(frames)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_bad_inputs():
    with pytest.raises(BadInputError, match="too short"):
        extract_idt(np.zeros((10, 64, 64), np.uint8), path="x.h5")
    with pytest.raises(BadInputError, match="smaller"):
        extract_idt(np.zeros((20, 20, 64), np.uint8), path="x.h5")
    with pytest.raises(ValueError, match="unknown"):
        IDTParams.from_config({"nope": 1})


def test_scales_follow_official_rule():
    p = IDTParams()
    assert n_scales(256, 293, p) == 6   # 256, 181, 128, 90.5, 64, 45.3 >= 32
    assert n_scales(96, 128, p) == 4
    assert n_scales(2000, 2000, p) == 8


def test_orientation_interpolation_and_zero_bin():
    x = np.array([[np.cos(np.pi / 8), 0.1]], np.float32)
    y = np.array([[np.sin(np.pi / 8), 0.0]], np.float32)
    h = _orientation_hist(x, y, 8, True, 0.4)
    np.testing.assert_allclose(h[:, 0, 0], [0.5, 0.5, 0, 0, 0, 0, 0, 0, 0], atol=1e-3)  # fastAtan2: ~0.3 deg
    np.testing.assert_allclose(h[:, 0, 1], [0, 0, 0, 0, 0, 0, 0, 0, 1], atol=1e-6)


def test_patch_descriptor_known_answer():
    p = IDTParams()
    grey = np.tile(np.arange(64, dtype=np.float32), (64, 1)).astype(np.uint8)  # ramp in x
    flow = np.zeros((64, 64, 2), np.float32)
    d = patch_descriptors(integral_histograms(grey, flow, p.min_flow), np.array([[32.0, 32.0]]), p)[0]
    hog, hof = d[:32].reshape(4, 8), d[32:68].reshape(4, 9)
    cell = np.array([512 + 0.05] + [0.05] * 7)  # 16x16 px, gradient 2 at 0 degrees
    np.testing.assert_allclose(hog, np.sqrt(np.tile(cell, (4, 1)) / (4 * cell.sum())), rtol=1e-5)
    zero = np.array([0.05] * 8 + [256.05])  # no motion: 256 counts in the zero bin
    np.testing.assert_allclose(hof, np.sqrt(np.tile(zero, (4, 1)) / (4 * zero.sum())), rtol=1e-5)
    # MBH of zero flow: uniform
    np.testing.assert_allclose(d[68:], np.sqrt(1 / 32), rtol=1e-5)
