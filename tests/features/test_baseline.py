"""End to end on tiny synthetic videos: descriptor jobs -> Fisher vectors -> SVMs, concepts,
fusion -> Table 1; determinism and bad-input handling."""
import h5py
import numpy as np
import pandas as pd
import pytest

from irpipe.config import validate_config
from irpipe.data.stores import write_arrays
from irpipe.errors import BadInputError
from irpipe.features.baseline import (
    METHODS,
    TABLE1_NAMES,
    classify_split,
    read_posteriors,
    write_concepts,
    write_metrics,
    write_posteriors,
)
from irpipe.features.descriptors import descriptor_attrs, extract_video
from irpipe.features.encode import encode_split, read_fv
from irpipe.report.handcrafted import make_table1

N_CLASSES, PER_CLASS, T, H, W = 3, 4, 18, 48, 64


def _cfg():
    cfg = validate_config({"handcrafted": {
        "frames_size": None, "n_frames": 6, "dsift": {"bin_sizes": [4, 6]}, "osift": {"bin_sizes": [4, 6]},
        "encoding": {"gmm_components": 4, "sample_size": 1500, "gmm_max_iter": 30},
        "concepts": {"n_concepts": 12}}})
    return cfg["handcrafted"]


def _video(c, i):
    import cv2
    r = np.random.default_rng(100 * c + i)
    bg = cv2.GaussianBlur((r.random((H, W)) * 255).astype(np.uint8), (0, 0), 2)
    obj = cv2.GaussianBlur((r.random((16, 16)) * 255).astype(np.uint8), (0, 0), 1.2)
    v = [(2, 0), (0, 2), (-2, -1)][c]
    out = []
    for t in range(T):
        f = bg.copy()
        x, y = int(np.clip(24 + v[0] * (t - 9), 0, W - 16)), int(np.clip(16 + v[1] * (t - 9), 0, H - 16))
        f[y:y + 16, x:x + 16] = obj
        out.append(f)
    return np.stack(out)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("hc")
    rows = []
    for c in range(N_CLASSES):
        for i in range(PER_CLASS):
            vid = f"c{c}_v{i}"
            write_arrays(root / "frames" / f"{vid}.h5", {"frames": _video(c, i)}, {"video_id": vid})
            rows.append(dict(video_id=vid, label=f"k{c}", label_index=c, split=0,
                             subset="train" if i < 2 else "test"))
    # a textureless video (constant frames) in training
    write_arrays(root / "frames" / "flat.h5", {"frames": np.full((T, H, W), 90, np.uint8)}, {})
    rows.append(dict(video_id="flat", label="k0", label_index=0, split=0, subset="train"))
    cfg = _cfg()
    paths = {k: {} for k in ("dsift", "osift", "idt")}
    for k in paths:
        for r in rows:
            p = root / "desc" / k / f"{r['video_id']}.h5"
            extract_video(k, root / "frames" / f"{r['video_id']}.h5", p, cfg, policy="skip")
            paths[k][r["video_id"]] = str(p)
    return root, pd.DataFrame(rows), paths, cfg


def test_descriptor_stores(dataset):
    root, splits, paths, cfg = dataset
    with h5py.File(paths["idt"]["c0_v0"], "r") as h5:
        assert {k: h5[k].shape[1] for k in ("traj", "hog", "hof", "mbhx", "mbhy")} == \
            {"traj": 30, "hog": 96, "hof": 108, "mbhx": 96, "mbhy": 96}
    with h5py.File(paths["osift"]["c0_v0"], "r") as h5:
        assert h5["descriptors"].shape[1] == 384 and h5["descriptors"].dtype == np.uint8
    for k in ("dsift", "osift"):
        a = descriptor_attrs(paths[k]["flat"])
        assert "no texture" in a["bad_input"] and a["n_descriptors"] == 0  # recorded, not dropped
    # a static / textureless video has no trajectories: valid for IDT (zero Fisher vector)
    a = descriptor_attrs(paths["idt"]["flat"])
    assert a["bad_input"] == "" and a["n_descriptors"] == 0
    with pytest.raises(BadInputError, match="flat.h5.*no texture"):
        extract_video("dsift", root / "frames" / "flat.h5", root / "x.h5", cfg, policy="error")


def _run(root, splits, paths, cfg, tag):
    fv = {}
    for k in paths:
        fv[k] = str(root / tag / f"fv_{k}.h5")
        encode_split(k, 0, splits, paths[k], cfg, seed=0, out_path=fv[k])
    res = classify_split(fv, cfg, seed=0, n_classes=N_CLASSES, split=0)
    write_posteriors(root / tag / "posteriors.h5", res)
    write_metrics(root / tag / "metrics.csv", res)
    write_concepts(root / tag / "concepts.h5", res)
    table = make_table1([root / tag / "metrics.csv"], root / tag / "t1.csv", root / tag / "t1.md", "substitute bank")
    return fv, res, table


def test_end_to_end_deterministic(dataset):
    root, splits, paths, cfg = dataset
    fv1, res1, t1 = _run(root, splits, paths, cfg, "a")
    fv2, res2, t2 = _run(root, splits, paths, cfg, "b")
    for k in fv1:
        a, b = read_fv(fv1[k]), read_fv(fv2[k])
        np.testing.assert_array_equal(a["fv"], b["fv"])
        assert np.all(np.isfinite(a["fv"]))
        if k != "idt":
            assert "flat" not in a["video_id"]  # skipped bad input left out ...
            assert "flat" in a["attrs"]["bad_inputs"]  # ... and recorded
        else:
            assert not np.any(a["fv"][a["video_id"].index("flat")])  # no trajectories: zero FV
    pd.testing.assert_frame_equal(t1, t2)
    assert (root / "a" / "t1.md").read_text() == (root / "b" / "t1.md").read_text()
    assert list(t1["method"]) == [TABLE1_NAMES[m] for m in METHODS]
    post = read_posteriors(root / "a" / "posteriors.h5")
    assert post["video_id"] == sorted(v for v in splits["video_id"] if v.endswith(("v2", "v3")))
    for m in METHODS:
        assert post[m].shape == (6, N_CLASSES)
        np.testing.assert_allclose(post[m].sum(axis=1), 1, atol=1e-5)
    # late fusion = mean of the six SVM posteriors
    six = ["dsift", "dsift_concepts", "osift", "osift_concepts", "idt", "idt_concepts"]
    np.testing.assert_allclose(post["late_all"], np.mean([post[m] for m in six], axis=0), atol=1e-6)
    with h5py.File(root / "a" / "concepts.h5", "r") as h5:
        assert h5["scores_idt"].shape == (len(h5["video_id"]), 12)
        assert h5["is_train"][()].sum() == 6
    # IDT separates the three motion directions of this toy set
    assert res1["metrics"].set_index("method").loc["idt", "accuracy"] >= 2 / 3


def test_encoder_fits_on_training_videos_only(dataset):
    root, splits, paths, cfg = dataset
    # changing a TEST video's descriptors must not change any training video's Fisher vector
    fv_a = root / "only_a.h5"
    encode_split("dsift", 0, splits, paths["dsift"], cfg, 0, fv_a)
    alt = dict(paths["dsift"])
    alt["c1_v3"] = paths["dsift"]["c2_v3"]
    fv_b = root / "only_b.h5"
    encode_split("dsift", 0, splits, alt, cfg, 0, fv_b)
    a, b = read_fv(fv_a), read_fv(fv_b)
    np.testing.assert_array_equal(a["fv"][a["is_train"]], b["fv"][b["is_train"]])
    i = a["video_id"].index("c1_v3")
    assert not np.array_equal(a["fv"][i], b["fv"][i])


def test_class_without_training_video_is_an_error(dataset):
    root, splits, paths, cfg = dataset
    s = splits.copy()
    s.loc[(s["label_index"] == 1) & (s["subset"] == "train"), "subset"] = "test"
    with pytest.raises(BadInputError, match="class 1 has no usable training video"):
        encode_split("dsift", 0, s, paths["dsift"], cfg, 0, root / "bad.h5")


def test_descriptors_carry_their_frame_and_pooling_is_recorded(dataset):
    from irpipe.features.descriptors import read_descriptors, read_frame_index
    from irpipe.features.dsift import sample_frame_indices

    root, splits, paths, cfg = dataset
    f = read_frame_index(paths["dsift"]["c0_v0"], "dsift")
    assert len(f) == len(read_descriptors(paths["dsift"]["c0_v0"], "descriptors"))
    assert set(f.tolist()) <= set(np.asarray(sample_frame_indices(T, cfg["n_frames"])).tolist())
    g = read_frame_index(paths["idt"]["c0_v0"], "idt")
    # IDT: the trajectory's end frame, at least track_length frames into the video
    assert len(g) == len(read_descriptors(paths["idt"]["c0_v0"], "hog")) and g.min() >= cfg["idt"]["track_length"]
    out = {}
    for kind in ("dsift", "idt"):
        for pooling in ("frames", "video"):
            c = dict(cfg, encoding=dict(cfg["encoding"], pooling=pooling))
            encode_split(kind, 0, splits, paths[kind], c, 0, root / f"pool_{kind}_{pooling}.h5")
            out[kind, pooling] = read_fv(root / f"pool_{kind}_{pooling}.h5")
            assert out[kind, pooling]["attrs"]["pooling"] == pooling
    # dense SIFT on these textured frames: every sampled frame has the same descriptor count,
    # so frame pooling equals video pooling (a raw FV is a mean over descriptors) ...
    assert len(set(np.bincount(f)[np.unique(f)].tolist())) == 1
    np.testing.assert_allclose(out["dsift", "frames"]["fv"], out["dsift", "video"]["fv"], atol=1e-5)
    # ... IDT trajectories end unevenly over the frames: the poolings differ
    fr, vi = out["idt", "frames"]["fv"], out["idt", "video"]["fv"]
    assert len(set(np.bincount(g)[np.unique(g)].tolist())) > 1
    assert np.abs(fr - vi).max() > 1e-3
    nz = np.linalg.norm(fr, axis=1) > 0
    np.testing.assert_allclose(np.linalg.norm(fr[nz], axis=1), np.sqrt(5), atol=1e-5)  # five unit-norm parts
