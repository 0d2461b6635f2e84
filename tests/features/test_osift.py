"""Opponent SIFT: transform known answers, grey degeneracy and the pseudo-colour variant."""
import numpy as np

from irpipe.features.osift import opponent, osift_video, pseudo_colour, resolve_mode

CFG = dict(n_frames=3, step=8, bin_sizes=[4], magnif=6.0, fast=True, contrast_threshold=0.005,
           colour_mode="auto", colormap="jet")


def test_opponent_known_values():
    px = np.array([[[1, 0, 0], [0, 0, 1], [1, 1, 1]]], np.float32)
    o = opponent(px)
    np.testing.assert_allclose(o[:, 0, 0], [1 / np.sqrt(2), 1 / np.sqrt(6), 1 / np.sqrt(3)], atol=1e-6)
    np.testing.assert_allclose(o[:, 0, 1], [0, -2 / np.sqrt(6), 1 / np.sqrt(3)], atol=1e-6)
    np.testing.assert_allclose(o[:, 0, 2], [0, 0, 3 / np.sqrt(3)], atol=1e-6)


def test_modes():
    assert resolve_mode("auto", False) == "pseudo"
    assert resolve_mode("auto", True) == "opponent"
    rgb = pseudo_colour(np.array([[0, 255]], np.uint8))
    assert rgb.shape == (1, 2, 3) and not np.allclose(rgb[0, 0], rgb[0, 1])


def _frames():
    rng = np.random.default_rng(1)
    import cv2
    return np.stack([cv2.GaussianBlur((rng.random((48, 64)) * 255).astype(np.uint8), (0, 0), 2)
                     for _ in range(3)])


def test_grey_opponent_degenerates_and_pseudo_colour_does_not():
    frames = _frames()
    plain = osift_video(frames, dict(CFG, colour_mode="opponent"))["descriptors"]
    pseudo = osift_video(frames, CFG)["descriptors"]
    assert plain.shape[1] == pseudo.shape[1] == 384
    assert plain[:, :256].max() == 0 and plain[:, 256:].max() > 0  # O1, O2 empty on grey input
    assert pseudo[:, :128].max() > 0 and pseudo[:, 128:256].max() > 0


def test_colour_input_uses_plain_transform():
    grey = _frames()
    colour = np.stack([grey, 255 - grey, np.full_like(grey, 128)], axis=-1)
    d = osift_video(colour, CFG)["descriptors"]
    assert d.shape[1] == 384 and d[:, :128].max() > 0
