"""Dense SIFT: frame sampling, grid, orientation known answers, no-texture input."""
import numpy as np
import pytest

from irpipe.errors import BadInputError
from irpipe.features.dsift import dense_sift_channels, dsift_video, sample_frame_indices

CFG = dict(n_frames=50, step=8, bin_sizes=[4, 8], magnif=6.0, fast=True, contrast_threshold=0.005)


def test_sample_frame_indices_uniform():
    idx = sample_frame_indices(100, 50)
    assert len(idx) == 50 and idx[0] == 0 and idx[-1] == 99
    assert np.all(np.diff(idx) >= 1) and np.all(np.diff(idx) <= 3)
    np.testing.assert_array_equal(sample_frame_indices(32, 50), np.arange(32))


def _stripes(vertical: bool, h=64, w=64, period=8):
    x = np.arange(w if vertical else h)
    prof = (np.sin(2 * np.pi * x / period) > 0).astype(np.float32)
    img = np.tile(prof, (h, 1)) if vertical else np.tile(prof[:, None], (1, w))
    return img


def _orientation_energy(desc):
    # vlfeat layout: 4x4 spatial bins, 8 orientations fastest
    return desc.reshape(len(desc), 16, 8).astype(np.float64).sum(axis=(0, 1))


def test_orientation_bins_follow_edges():
    ev = _orientation_energy(dense_sift_channels(_stripes(True)[None], 8, [4])[1])
    eh = _orientation_energy(dense_sift_channels(_stripes(False)[None], 8, [4])[1])
    # vertical stripes: gradients along x (bins 0 and 4); horizontal stripes: along y (2, 6)
    assert (ev[0] + ev[4]) > 0.9 * ev.sum()
    assert (eh[2] + eh[6]) > 0.9 * eh.sum()


def test_grid_shared_across_scales_and_positions():
    pos, desc, norms = dense_sift_channels(_stripes(True)[None], 8, [4, 8])
    assert desc.shape[1] == 128 and desc.dtype == np.uint8
    small = pos[pos[:, 2] == 4][:, :2]
    big = pos[pos[:, 2] == 8][:, :2]
    # the larger bin size's centres are a subset of the smaller one's (PHOW alignment)
    assert set(map(tuple, big)) <= set(map(tuple, small))


def test_video_textureless_is_bad_input():
    frames = np.full((5, 64, 64), 128, np.uint8)
    with pytest.raises(BadInputError, match="no texture"):
        dsift_video(frames, CFG, path="v.h5")
    with pytest.raises(BadInputError, match="too small"):
        dsift_video(np.zeros((3, 10, 10), np.uint8), CFG, path="v.h5")


def test_video_descriptors_positions():
    rng = np.random.default_rng(0)
    frames = (rng.random((10, 48, 64)) * 255).astype(np.uint8)
    out = dsift_video(frames, dict(CFG, n_frames=4))
    pos = out["positions"]
    assert out["descriptors"].shape[0] == pos.shape[0] > 0
    np.testing.assert_array_equal(np.unique(pos[:, 0]), [0, 3, 6, 9])


def test_direct_extension_matches_cyvlfeat_wrapper():
    from cyvlfeat.sift import dsift as ref

    from irpipe.features.dsift import dsift
    img = np.random.default_rng(0).random((40, 50)).astype(np.float32)
    f1, d1 = dsift(img, 5, 4, [0, 0, 39, 49], fast=True)
    f2, d2 = ref(img, step=5, size=4, bounds=[0, 0, 39, 49], norm=True, fast=True)
    np.testing.assert_array_equal(f1, f2)
    np.testing.assert_array_equal(d1, d2)
