"""The synthetic thermal dataset: real decodable videos, determinism, class motion that
differs while appearance does not, and detection ground truth with InfDet-like statistics."""
from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from irpipe.cli import main as cli_main
from irpipe.config import validate_config
from irpipe.data.synthetic import (
    CLASS_MOTIONS,
    INFDET_MEAN_DURATION_S,
    generate_detection,
    generate_recognition,
    plan_instances,
)
from irpipe.data.synthetic.scene import video_rng
from irpipe.errors import ConfigError

CLASSES = ["fight", "handclapping", "handshake", "hug", "jog", "jump", "punch", "push", "skip",
           "walk", "wave1", "wave2"]


def synth_cfg(**over) -> dict:
    cfg = validate_config({"synthetic": over})["synthetic"]
    return cfg


SMALL_REC = {"recognition": {"videos_per_class": 2, "n_frames": 12, "height": 40, "width": 48}}
SMALL_DET = {"detection": {"n_train": 3, "n_test": 2, "duration_s": [8, 12], "fps": 8, "height": 32,
                           "width": 40, "coverage": 0.3, "instance_duration_scale": 0.5}}


def decode(path: Path) -> np.ndarray:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    return np.stack(frames) if frames else np.zeros((0, 1, 1, 3), np.uint8)


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------- recognition
@pytest.fixture(scope="module")
def small_rec(tmp_path_factory):
    out = tmp_path_factory.mktemp("rec")
    table = generate_recognition(out, synth_cfg(**SMALL_REC), CLASSES, seed=5)
    return out, table


def test_recognition_layout_and_decoding(small_rec):
    out, table = small_rec
    assert len(table) == 24 and sorted(table.label.unique()) == sorted(CLASSES)
    gt = pd.read_csv(out / "ground_truth.csv")
    assert list(gt.video_id) == list(table.video_id)
    for col in ["scale_px", "position_x", "facing_deg", "speed", "phase", "amplitude", "body_temp_c",
                "jitter_px", "walkers", "bystanders", "actors"]:
        assert col in gt.columns and gt[col].notna().all(), col
    for row in gt.itertuples():
        assert row.path == f"{row.label}/{row.video_id}.avi"
        v = decode(out / row.path)
        assert v.shape == (12, 40, 48, 3), row.path
        # grey content: three equal channels (up to JPEG rounding)
        assert np.abs(v[..., 0].astype(int) - v[..., 2].astype(int)).max() <= 2
        assert v.std() > 5  # not blank
    # two actors for the interaction classes, one for the others
    pairs = {"fight", "handshake", "hug", "punch", "push"}
    assert (gt.actors == gt.label.isin(pairs).map({True: 2, False: 1})).all()
    assert (gt.actors + gt.bystanders >= 2).all()


def test_same_seed_same_bytes_and_order_independence(small_rec, tmp_path):
    out, _ = small_rec
    again = tmp_path / "again"
    generate_recognition(again, synth_cfg(**SMALL_REC), CLASSES, seed=5)
    assert tree_digest(out) == tree_digest(again)
    # a video depends on (seed, class, index) only, not on the other classes generated
    alone = tmp_path / "alone"
    generate_recognition(alone, synth_cfg(**SMALL_REC), ["push"], seed=5)
    assert tree_digest(alone)["push/push_001.avi"] == tree_digest(out)["push/push_001.avi"]
    other = tmp_path / "other"
    generate_recognition(other, synth_cfg(**SMALL_REC), ["push"], seed=6)
    assert tree_digest(other)["push/push_001.avi"] != tree_digest(out)["push/push_001.avi"]


def test_unknown_class_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="dance"):
        generate_recognition(tmp_path, synth_cfg(**SMALL_REC), ["walk", "dance"], seed=0)
    with pytest.raises(ConfigError, match="jump"):
        generate_detection(tmp_path, synth_cfg(**SMALL_DET), ["drop", "jump"], seed=0)


def test_video_rng_is_stable_across_processes():
    # CRC-32 of the class name, not Python's salted hash(): fixed known draws
    a = video_rng(0, "recognition", "walk", 3).integers(0, 1 << 30, 3)
    b = video_rng(0, "recognition", "walk", 3).integers(0, 1 << 30, 3)
    c = video_rng(0, "recognition", "walk", 4).integers(0, 1 << 30, 3)
    assert (a == b).all() and not (a == c).all()
    ss = np.random.SeedSequence([0, zlib.crc32(b"recognition"), zlib.crc32(b"walk"), 3])
    assert (np.random.default_rng(ss).integers(0, 1 << 30, 3) == a).all()


# ------------------------------------------------------ motion separates, intensity does not
def motion_features(v: np.ndarray, fps: float) -> np.ndarray:
    """Independent, hand-written motion statistics of a grey clip (T, H, W): temporal
    spectrum of frame-difference energy, where in the warm-body box motion happens,
    horizontal drift of the motion centroid, overall motion level and burstiness."""
    d = np.maximum(np.abs(np.diff(v, axis=0)) - 10.0, 0.0)
    e = d.sum((1, 2)) + 1e-6
    spec = np.abs(np.fft.rfft(e - e.mean()))[1:9]
    spec = spec / (spec.sum() + 1e-9)
    mean = v.mean(0)
    warm = mean > np.percentile(mean, 85)
    ys, xs = np.nonzero(warm)
    top, bot = ys.min(), ys.max() + 1
    height = max(bot - top, 1)
    rows = d.sum((0, 2))
    edges = np.linspace(top, bot, 7).astype(int)
    vprof = np.array([rows[a:b].sum() for a, b in zip(edges[:-1], edges[1:])])
    vprof = vprof / (vprof.sum() + 1e-9)
    mass = d.sum((1, 2)).clip(1e-6)
    cx = (d.sum(1) * np.arange(v.shape[2])).sum(1) / mass
    cy = (d.sum(2) * np.arange(v.shape[1])).sum(1) / mass
    drift = abs(np.polyfit(np.arange(len(cx)), cx, 1)[0]) / height
    level = np.log(e.mean() / (warm.sum() + 1))
    return np.concatenate([3 * spec, 3 * vprof, [10 * drift, level, e.std() / e.mean(), 10 * cy.std() / height]])


def intensity_features(v: np.ndarray) -> np.ndarray:
    hist = np.histogram(v, bins=16, range=(0, 256))[0].astype(float)
    return np.concatenate([[v.mean() / 50, v.std() / 50], 10 * hist / hist.sum()])


def loo_nearest_centroid(x: np.ndarray, y: np.ndarray) -> float:
    x = (x - x.mean(0)) / (x.std(0) + 1e-9)
    hits = 0
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        labels = np.unique(y[keep])
        cents = np.stack([x[keep & (y == c)].mean(0) for c in labels])
        hits += labels[np.argmin(((cents - x[i]) ** 2).sum(1))] == y[i]
    return hits / len(y)


@pytest.fixture(scope="module")
def class_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("classes")
    cfg = synth_cfg(recognition={"videos_per_class": 8, "n_frames": 24, "height": 48, "width": 64})
    table = generate_recognition(out, cfg, CLASSES, seed=11)
    vids = [decode(out / p)[..., 0].astype(np.float32) for p in table.path]
    return table, vids


def test_motion_separates_classes_but_intensity_does_not(class_set):
    table, vids = class_set
    y = table.label.to_numpy(dtype=str)
    chance = 1 / len(CLASSES)
    acc_motion = loo_nearest_centroid(np.stack([motion_features(v, 15.0) for v in vids]), y)
    acc_int = loo_nearest_centroid(np.stack([intensity_features(v) for v in vids]), y)
    assert acc_motion > 3.5 * chance, (acc_motion, acc_int)
    assert acc_int < 2.5 * chance, (acc_motion, acc_int)
    assert acc_motion > acc_int + 0.2


def test_per_class_motion_statistics_differ(class_set):
    table, vids = class_set
    feats = pd.DataFrame([motion_features(v, 15.0) for v in vids])
    feats["label"] = table.label.to_numpy(dtype=str)
    drift = feats.groupby("label")[14].mean()  # horizontal drift of the motion centroid
    # locomotion classes travel; in-place classes do not
    assert min(drift[c] for c in ("walk", "jog", "skip")) > max(drift[c] for c in ("wave1", "wave2", "handclapping"))
    level = feats.groupby("label")[15].mean()  # motion energy per warm pixel
    assert level["fight"] > level["wave1"] and level["jog"] > level["walk"]
    # mean brightness per class stays within a narrow band compared with its spread
    means = pd.Series([v.mean() for v in vids]).groupby(table.label.to_numpy(dtype=str))
    assert means.mean().std() < 1.0 * means.std().mean()


# ------------------------------------------------------------------------------ detection
@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_instance_plan_statistics(scale):
    dcfg = synth_cfg(detection={"instance_duration_scale": scale, "coverage": 0.12})["detection"]
    classes = ["drop", "fight", "hug"]
    fps, durs, cover = 8.0, {c: [] for c in classes}, []
    for i in range(400):
        rng = video_rng(1, "plan", i)
        n = int(round(rng.uniform(24, 40) * fps))
        plan = plan_instances(rng, n, fps, classes, dcfg, i)
        assert plan
        last = 0
        for label, f0, f1 in plan:
            assert 0 <= last <= f0 < f1 <= n  # inside the video, no overlap, sorted
            last = f1
            durs[label].append((f1 - f0) / fps)
        cover.append(sum(f1 - f0 for _, f0, f1 in plan) / n)
    for c in classes:
        expect = INFDET_MEAN_DURATION_S[c] * scale
        assert abs(np.mean(durs[c]) - expect) < 0.1 * expect, (c, np.mean(durs[c]), expect)
        assert np.std(durs[c]) > 0.15 * expect  # there is spread
    assert abs(np.mean(cover) - 0.12) < 0.15 * 0.12, np.mean(cover)


def test_plan_fits_short_videos():
    dcfg = synth_cfg(detection={"coverage": 0.9, "instance_duration_scale": 3.0})["detection"]
    for i in range(50):
        plan = plan_instances(video_rng(2, i), 40, 8.0, ["fight", "hug"], dcfg, i)
        ends = [0] + [f1 for _, _, f1 in plan]
        assert all(a <= f0 < f1 <= 40 for a, (_, f0, f1) in zip(ends, plan))


@pytest.fixture(scope="module")
def small_det(tmp_path_factory):
    out = tmp_path_factory.mktemp("det")
    table = generate_detection(out, synth_cfg(**SMALL_DET), ["drop", "fight", "hug"], seed=2)
    return out, table


def test_detection_outputs_consistent(small_det):
    out, table = small_det
    assert list(table.columns) == ["video", "label", "t_start", "t_end", "subset"]
    assert (table.t_end > table.t_start).all()
    vids = pd.read_csv(out / "videos.csv")
    assert sorted(vids.subset.value_counts().items()) == [("test", 2), ("train", 3)]
    for row in vids.itertuples():
        v = decode(out / row.path)
        assert v.shape == (row.n_frames, 32, 40, 3)
        assert 8 <= row.duration <= 12 + 1 / 8
    merged = table.merge(vids, left_on="video", right_on="video_id")
    assert (merged.t_start >= 0).all() and (merged.t_end <= merged.duration + 1e-9).all()
    for video, g in table.groupby("video"):
        g = g.sort_values("t_start")
        assert (g.t_start.to_numpy()[1:] >= g.t_end.to_numpy()[:-1]).all(), video
    # THUMOS files carry exactly the same instances
    lines = []
    for c in ["drop", "fight", "hug"]:
        for s in ["train", "test"]:
            for line in (out / "annotations" / f"{c}_{s}.txt").read_text().splitlines():
                vid, a, b = line.split()
                lines.append((vid, c, float(a), float(b), s))
    assert sorted(lines) == sorted(map(tuple, table.itertuples(index=False)))
    assert pd.read_csv(out / "annotations.csv").equals(table)
    # every class occurs in each subset, even with 2 test videos for 3 classes
    for s, g in table.groupby("subset"):
        assert sorted(g.label.unique()) == ["drop", "fight", "hug"], s


def test_detection_subset_names(tmp_path):
    cfg = synth_cfg(detection={"n_train": 1, "n_test": 1, "duration_s": [6, 6], "height": 24, "width": 32})
    table = generate_detection(tmp_path, cfg, ["hug"], seed=0, subsets={"train": "validation"})
    assert sorted(table.subset.unique()) == ["test", "validation"]
    assert (tmp_path / "annotations" / "hug_validation.txt").read_text().startswith("video_validation_0000 ")
    assert (tmp_path / "videos" / "video_validation_0000.avi").is_file()


def test_dropped_object_stays_warm_on_the_ground(tmp_path):
    cfg = synth_cfg(detection={"n_train": 3, "n_test": 1, "duration_s": [10, 12], "fps": 8, "height": 64,
                               "width": 80, "coverage": 0.1})
    generate_detection(tmp_path, cfg, ["drop"], seed=4)
    gt = pd.read_csv(tmp_path / "ground_truth.csv")
    assert len(gt) >= 4 and (gt.label == "drop").all()
    for r in gt.itertuples():
        v = decode(tmp_path / "videos" / f"{r.video}.avi")[..., 0].astype(float)
        x, y = int(round(r.object_x)), int(round(r.object_y))
        yy, xx = np.mgrid[0:v.shape[1], 0:v.shape[2]]
        dist = np.hypot(yy - y, xx - x)
        inner, ring = dist <= 1.5, (dist >= 4) & (dist <= 7)

        def contrast(frames):
            return np.median([f[inner].mean() - f[ring].mean() for f in frames])

        after = v[int(r.f_end) + 8:]  # a second after the drop, to the end
        before = v[: max(int(r.f_start) - 8, 1)]
        assert len(after) > 4
        assert contrast(after) > 20, (r.video, contrast(after))
        assert contrast(after) > contrast(before) + 15, (r.video, contrast(before), contrast(after))


def test_cli_synth(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("synthetic:\n  recognition: {videos_per_class: 1, n_frames: 4, height: 24, width: 32}\n"
                   "dataset:\n  recognition: {classes: [walk, hug]}\n")
    assert cli_main(["synth", "--config", str(cfg), "--out", str(tmp_path / "o"), "--which", "recognition",
                     "--seed", "9"]) == 0
    gt = pd.read_csv(tmp_path / "o" / "ground_truth.csv")
    assert list(gt.video_id) == ["walk_000", "hug_000"]
    assert decode(tmp_path / "o" / "hug" / "hug_000.avi").shape[0] == 4
    bad = tmp_path / "bad.yaml"
    bad.write_text("synthetic: {recognition: {n_frames: one}}\n")
    assert cli_main(["synth", "--config", str(bad), "--out", str(tmp_path / "b")]) == 2


def test_every_infar_class_has_a_motion():
    assert sorted(CLASS_MOTIONS) == sorted(CLASSES)
    assert {c for c, m in CLASS_MOTIONS.items() if m.actors == 2} == {"fight", "handshake", "hug", "punch", "push"}


def test_unwritable_codec_is_a_clear_error_and_leaves_nothing(tmp_path):
    from irpipe.errors import IrpipeError
    cfg = synth_cfg(codec="ZZZZ", **SMALL_REC)
    with pytest.raises(IrpipeError, match="ZZZZ"):
        generate_recognition(tmp_path, cfg, ["walk"], seed=0)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
