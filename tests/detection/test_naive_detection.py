"""The naive detection baseline: snippet windows (known answers), and the per-class SVMs separate
a toy action from background while a label permutation does not."""
import numpy as np
import pytest

from irpipe.detection.data import n_snippets
from irpipe.detection.naive import fit_score, snippet_features
from irpipe.errors import BadInputError

CFG = {"C": 1.0, "gamma": "scale", "max_train_snippets": 6000}


def _ramp_video(t=30, h=8, w=8):
    """Frame k is uniformly k (uint8): each window's mean map is the mean of its frame indices / 255."""
    return np.repeat(np.arange(t, dtype=np.uint8)[:, None, None], h, 1).repeat(w, 2)


def test_snippet_windows_known_answers():
    v = _ramp_video(30)
    f = snippet_features(v, size=4, window_snippets=1)
    assert f.shape == (n_snippets(30), 6 * 16)
    n = 16
    # window_snippets 1: 8 frames centred on the snippet's centre (the snippet itself, except the short
    # last snippet 24..29: centre 27, frames 23..29 after clipping to the video)
    for s, (a, b) in enumerate([(0, 8), (8, 16), (16, 24), (23, 30)]):
        assert f[s, :n] == pytest.approx(np.full(n, np.arange(a, b).mean() / 255))
        assert f[s, 2 * n:3 * n] == pytest.approx(np.full(n, 1 / 255))      # |temporal difference| of a ramp
    g = snippet_features(v, size=4, window_snippets=3)
    # snippet 1 (centre 12): frames 0..23; snippet 0 (centre 4) clipped to frames 0..15
    assert g[1, :n] == pytest.approx(np.full(n, np.arange(0, 24).mean() / 255))
    assert g[0, :n] == pytest.approx(np.full(n, np.arange(0, 16).mean() / 255))
    with pytest.raises(BadInputError, match="at least 3"):
        snippet_features(v[:2], size=4, window_snippets=1, where="short.avi")


def _toy(n_videos, rng, s=10):
    """Class 0: a warm blob in the upper half; class 1: in the lower half; background: none."""
    xs, ys = [], []
    for i in range(n_videos):
        frames = rng.integers(0, 40, (8 * s, 16, 16)).astype(np.uint8)
        y = np.zeros((2, s), np.float32)
        c, a = i % 2, int(rng.integers(1, s - 4))
        y[c, a:a + 3] = 1
        rows = slice(0, 8) if c == 0 else slice(8, 16)
        frames[8 * a:8 * (a + 3), rows, 4:12] += 150
        xs.append(snippet_features(frames, size=8, window_snippets=1))
        ys.append(y)
    return xs, ys


def test_svms_separate_a_toy_action_and_not_permuted_labels():
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(0)
    tx, ty = _toy(12, rng)
    vx, vy = _toy(6, rng)

    def test_ap(train_y):
        scores = fit_score(tx, train_y, {f"t{i}": x for i, x in enumerate(vx)}, CFG, seed=0)
        s = np.concatenate([scores[f"t{i}"] for i in range(len(vx))], 1)
        y = np.concatenate(vy, 1) > 0.5
        assert s.min() > 0 and s.max() < 1                                   # logistic of decision values
        return np.mean([average_precision_score(y[c], s[c]) for c in range(2)])

    assert test_ap(ty) > 0.9
    flat = np.concatenate(ty, 1)
    flat = flat[:, np.random.default_rng(0).permutation(flat.shape[1])]   # snippet labels permuted over every video
    shuffled = np.split(flat, len(ty), axis=1)
    assert test_ap(shuffled) < 0.6                                           # prevalence is 0.15


def test_max_train_snippets_caps_the_training_set():
    rng = np.random.default_rng(1)
    tx, ty = _toy(8, rng)
    a = fit_score(tx, ty, {"v": tx[0]}, {**CFG, "max_train_snippets": 40}, seed=0)["v"]
    b = fit_score(tx, ty, {"v": tx[0]}, {**CFG, "max_train_snippets": 40}, seed=1)["v"]
    full = fit_score(tx, ty, {"v": tx[0]}, CFG, seed=0)["v"]
    assert not np.allclose(a, b) and not np.allclose(a, full)               # a seeded draw of 40 of 80
