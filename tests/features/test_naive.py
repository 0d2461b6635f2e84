"""The naive baseline: known feature values, a separable toy set, bad inputs, Table 1 row."""
import numpy as np
import pandas as pd
import pytest

from irpipe.config import validate_config
from irpipe.data.stores import write_arrays
from irpipe.errors import BadInputError
from irpipe.features.naive import N_MAPS, fit_predict, naive_split, table1_name, video_features


def _cfg(**kw):
    return validate_config({"handcrafted": {"naive": kw}})["handcrafted"]["naive"]


def test_schema_defaults():
    cfg = _cfg()
    assert (cfg["enabled"], cfg["size"], cfg["C"], cfg["gamma"]) == (True, 16, 10.0, "scale")


def test_constant_video_has_zero_std_and_zero_difference():
    f = video_features(np.full((7, 40, 30), 51, np.uint8), 16)
    n = 16 * 16
    assert f.shape == (N_MAPS * n,)
    assert np.allclose(f[:n], 0.2)                # mean: 51 / 255
    assert np.allclose(f[n:2 * n], 0, atol=1e-12)  # std over time (float rounding only)
    assert np.all(f[2 * n:3 * n] == 0)            # mean |temporal difference|
    assert np.allclose(f[3 * n:], 0.2)            # three thirds


def test_known_temporal_statistics():
    # frame t is uniformly 10 * t: mean 30, std sqrt(200), |diff| 10, thirds (0,1) (2,3,4) (5,6) after
    # array_split of 7 frames into 3, 2, 2 -> means 10, 35, 55
    frames = np.stack([np.full((8, 8), 10 * t, np.uint8) for t in range(7)])
    f = video_features(frames, 4) * 255
    n = 16
    assert np.allclose(f[:n], 30)
    assert np.allclose(f[n:2 * n], np.std(np.arange(7) * 10.0))
    assert np.allclose(f[2 * n:3 * n], 10)
    assert np.allclose(f[3 * n:4 * n], 10)
    assert np.allclose(f[4 * n:5 * n], 35)
    assert np.allclose(f[5 * n:], 55)


def test_area_downsampling_averages_blocks():
    # a left half of 200 and right half of 0 at 16 px -> 2 px: columns 200 and 0
    img = np.zeros((16, 16), np.uint8)
    img[:, :8] = 200
    f = video_features(np.stack([img] * 3), 2) * 255
    assert np.allclose(f[:4].reshape(2, 2), [[200, 0], [200, 0]])


def test_too_few_frames_is_a_bad_input_naming_the_file():
    with pytest.raises(BadInputError, match="clip.h5.*at least 3"):
        video_features(np.zeros((2, 8, 8), np.uint8), 4, "clip.h5")


def test_separable_toy_set_is_classified_perfectly():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [6, 0], [0, 6]], float)
    y = np.repeat(np.arange(3), 10)
    X = centres[y] + rng.normal(0, 0.5, (30, 2))
    tr = np.arange(30) % 2 == 0
    scores = fit_predict(X[tr], y[tr], X[~tr], 3, 10.0, "scale")
    assert scores.shape == (15, 3)
    assert np.array_equal(scores.argmax(1), y[~tr])


def test_two_classes_and_a_class_without_training_videos():
    X = np.array([[0.0], [0.1], [5.0], [5.1], [0.05], [5.05]])
    y = np.array([0, 0, 2, 2, 0, 2])
    s = fit_predict(X[:4], y[:4], X[4:], 3, 10.0, "scale")
    assert np.array_equal(s.argmax(1), [0, 2])
    assert np.all(s[:, 1] < s[:, [0, 2]].min(1))   # untrained class 1 never wins


def _videos(tmp_path, n_per_class=4):
    """Class 0: a bright square moving right; class 1: a dark, still frame with noise."""
    rng = np.random.default_rng(1)
    rows, stores = [], {}
    for c in range(2):
        for i in range(n_per_class):
            vid = f"c{c}_{i}"
            if c == 0:
                fr = np.zeros((9, 24, 24), np.uint8)
                for t in range(9):
                    fr[t, 8:16, 2 * t:2 * t + 8] = 220
            else:
                fr = rng.integers(0, 30, (9, 24, 24)).astype(np.uint8)
            p = tmp_path / f"{vid}.h5"
            write_arrays(p, {"frames": fr, "frames_small": fr[:, ::2, ::2]}, {"video_id": vid})
            stores[vid] = p
            rows.append({"video_id": vid, "label": f"k{c}", "label_index": c, "split": 0,
                         "subset": "train" if i < n_per_class - 1 else "test"})
    return stores, pd.DataFrame(rows)


@pytest.mark.parametrize("size_name", [None, "small"])
def test_naive_split_end_to_end(tmp_path, size_name):
    stores, splits = _videos(tmp_path)
    res = naive_split(stores, splits, 0, 2, _cfg(size=8), size_name)
    m = res["metrics"]
    assert list(m.columns) == ["method", "split", "accuracy", "macro_ap", "n_test", "n_train"]
    assert m.loc[0, "accuracy"] == 1.0 and m.loc[0, "macro_ap"] == 1.0
    assert (m.loc[0, "n_train"], m.loc[0, "n_test"]) == (6, 2)


def test_naive_split_bad_store_error_and_skip(tmp_path):
    stores, splits = _videos(tmp_path)
    write_arrays(stores["c0_0"], {"frames": np.zeros((2, 24, 24), np.uint8)}, {})
    with pytest.raises(BadInputError, match="c0_0"):
        naive_split(stores, splits, 0, 2, _cfg(size=8), None)
    res = naive_split(stores, splits, 0, 2, _cfg(size=8), None, policy="skip")
    assert [b.item for b in res["bad"]] == ["c0_0"]
    assert res["metrics"].loc[0, "n_train"] == 5


def test_table1_name():
    assert table1_name(16) == "naive baseline (16x16 pixel statistics, RBF SVM)"


def test_table1_gets_the_naive_row_without_a_paper_figure(tmp_path):
    from irpipe.features.baseline import METHODS, TABLE1_NAMES
    from irpipe.io import write_csv
    from irpipe.report.handcrafted import make_table1

    cols = dict(n_test=4, n_train=8)
    write_csv(tmp_path / "metrics.csv", pd.DataFrame(
        [{"method": m, "split": 0, "accuracy": 0.5, "macro_ap": 0.6, **cols} for m in METHODS]))
    write_csv(tmp_path / "metrics_naive.csv", pd.DataFrame(
        [{"method": "naive", "split": 0, "accuracy": 0.25, "macro_ap": 0.375, **cols}]))
    df = make_table1([tmp_path / "metrics.csv"], tmp_path / "t.csv", tmp_path / "t.md", "bank",
                     naive_paths=[tmp_path / "metrics_naive.csv"], naive_size=16)
    assert list(df["method"]) == [TABLE1_NAMES[m] for m in METHODS] + [table1_name(16)]
    last = df.iloc[-1]
    assert (last["accuracy_mean"], last["macro_ap_mean"]) == (25.0, 37.5) and pd.isna(last["paper"])
    md = (tmp_path / "t.md").read_text()
    assert "naive baseline (16x16 pixel statistics, RBF SVM)" in md and "must beat" in md
    # without the naive files: the paper's eight rows only
    df8 = make_table1([tmp_path / "metrics.csv"], tmp_path / "t8.csv", tmp_path / "t8.md", "bank")
    assert len(df8) == len(METHODS)
