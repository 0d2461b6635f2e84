import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from irpipe.checkpoints import load_checkpoint
from irpipe.config import validate_config
from irpipe.eval.predictions import read_predictions
from irpipe.train.c3d_trainer import run_stream, video_average
from tests.c3d_helpers import make_dataset

REPO = Path(__file__).resolve().parents[2]
JOB = Path(__file__).with_name("c3d_resume_job.py")


def test_video_average():
    vals = np.array([[1.0, 0], [3, 2], [5, 5]])
    np.testing.assert_allclose(video_average(vals, np.array([0, 0, 1]), 2), [[2, 1], [5, 5]])
    with pytest.raises(ValueError):
        video_average(vals, np.array([0, 0, 0]), 2)


def _run_job(data, out, delay=0.0, kill_after_step=None):
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, str(JOB), str(data), str(out), str(delay)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    if kill_after_step is None:
        text = proc.communicate(timeout=300)[0].decode()
        assert proc.returncode == 0, text
        return text
    deadline = time.time() + 240
    prog = out / "progress.txt"
    while time.time() < deadline:
        if prog.exists() and prog.read_text().strip() and int(prog.read_text()) >= kill_after_step:
            break
        if proc.poll() is not None:
            pytest.fail("job ended before it could be killed: " + proc.stdout.read().decode())
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # our own child's session only
    proc.wait(timeout=30)
    return int(prog.read_text())


@pytest.mark.slow
def test_killed_job_resumes_to_the_same_weights(tmp_path):
    data = tmp_path / "data"
    make_dataset(data, n_classes=3, per_class=3, n_train=2, n_frames=20, h=20, w=24).to_csv(data / "videos.csv", index=False)
    _run_job(data, tmp_path / "straight")
    killed_at = _run_job(data, tmp_path / "resumed", delay=0.4, kill_after_step=7)
    assert 7 <= killed_at < 12
    assert not (tmp_path / "resumed" / "model.pt").exists()
    ckpt = load_checkpoint(tmp_path / "resumed" / "checkpoint.pt")
    assert ckpt["progress"] in (6, 9)  # checkpoints every 3 steps
    _run_job(data, tmp_path / "resumed")
    summary = json.loads((tmp_path / "resumed" / "summary.json").read_text())
    assert summary["start_step"] == ckpt["progress"] and summary["steps_run"] == 12 - ckpt["progress"]
    a = load_checkpoint(tmp_path / "straight" / "model.pt")["model"]
    b = load_checkpoint(tmp_path / "resumed" / "model.pt")["model"]
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # and the weights did change from their initialisation (training happened)
    pa, pb = read_predictions(tmp_path / "straight" / "predictions.h5"), read_predictions(tmp_path / "resumed" / "predictions.h5")
    np.testing.assert_array_equal(pa["softmax"], pb["softmax"])


@pytest.mark.slow
def test_run_stream_outputs_and_learns(tmp_path):
    """A tiny flow-stream run: predictions file per the contract, far above chance on easy data."""
    torch.set_num_threads(2)
    videos = make_dataset(tmp_path, n_classes=4, per_class=5, n_train=3, n_frames=17, h=20, w=24)
    videos = videos.assign(path=videos["flow"])
    cfg = validate_config({"c3d": {"model": {"width_scale": 0.0625, "fc_dim": 32, "dropout": 0.0},
                                   "dcl": {"code_dim": 10, "variation_pool": 2},
                                   "clips": {"crop": 16},
                                   "train": {"iterations": 40, "batch_size": 8, "lr": 0.003,
                                             "optimizer": "adam"}}})
    res = run_stream(videos, "flow", 0.02, cfg["c3d"], seed=0, split=1, n_classes=4,
                     out_path=tmp_path / "p.h5", checkpoint_path=tmp_path / "ck.pt")
    p = read_predictions(tmp_path / "p.h5")
    assert len(p["video_id"]) == 20 and set(p["subset"]) == {"train", "test"}
    assert p["softmax"].shape == (20, 4) and p["codes"].shape == (20, 10)
    np.testing.assert_allclose(p["softmax"].sum(1), 1.0, atol=1e-5)
    assert p["n_clips"].tolist() == [1] * 20  # 16 flow images per video -> one clip
    a = p["attrs"]
    assert a["alpha"] == 0.02 and a["codes_source"] == "dc" and a["pretrained"] == "none: random initialisation"
    # N = 10 = 2*4 + 2: two classes own 3 coordinates
    assert len(a["class_variation"].split(",")) == 4
    assert res.metrics["knn_accuracy"] >= 0.75 and res.metrics["softmax_accuracy"] >= 0.5, res.metrics


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_path_bf16_channels_last(tmp_path):
    """uint8 clips on the GPU, augmentation there, bf16 autocast + channels_last_3d; same outputs
    contract as on the CPU and a model that learns."""
    from irpipe.data.clips import make_batch
    from irpipe.models.c3d import C3D, C3DSpec
    from irpipe.train.c3d_trainer import TrainSettings, _to_input, prepare_model

    dev = torch.device("cuda")
    clips = torch.randint(0, 256, (4, 16, 20, 24, 1), dtype=torch.uint8, device=dev)
    x = make_batch(clips, 16, True, torch.Generator().manual_seed(0))
    assert x.device.type == "cuda" and x.shape == (4, 3, 16, 16, 16)
    s = TrainSettings()
    net = prepare_model(C3D(C3DSpec(n_classes=3, width_scale=1 / 16, fc_dim=16, code_dim=6, crop=16)), dev, s)
    assert net.conv2.weight.is_contiguous(memory_format=torch.channels_last_3d)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        out = net(_to_input(x, dev, s))
    assert out["logits"].dtype == torch.bfloat16
    videos = make_dataset(tmp_path, n_classes=3, per_class=4, n_train=3, n_frames=17, h=20, w=24)
    cfg = validate_config({"c3d": {"device": "cuda", "model": {"width_scale": 0.0625, "fc_dim": 32, "dropout": 0.0},
                                   "dcl": {"code_dim": 7, "variation_pool": 2}, "clips": {"crop": 16},
                                   "train": {"iterations": 60, "batch_size": 8, "lr": 0.003}}})
    res = run_stream(videos.assign(path=videos["flow"]), "flow", 0.02, cfg["c3d"], seed=0, split=0, n_classes=3,
                     out_path=tmp_path / "p.h5")
    p = read_predictions(tmp_path / "p.h5")
    assert np.all(np.isfinite(p["softmax"])) and np.all(np.isfinite(p["codes"]))
    assert res.metrics["knn_accuracy"] > 0.5


def _tiny_model(n_classes=3):
    from irpipe.models.c3d import C3D, C3DSpec
    torch.manual_seed(0)
    return C3D(C3DSpec(n_classes=n_classes, width_scale=1 / 16, fc_dim=8, crop=16, dropout=0.0))


def test_lr_schedule_warmup_and_cosine_known_values():
    from irpipe.train.c3d_trainer import TrainSettings
    s = TrainSettings(iterations=110, lr=0.1, warmup_steps=10, lr_schedule="cosine")
    assert s.lr_at(0) == pytest.approx(0.01) and s.lr_at(9) == pytest.approx(0.1)
    assert s.lr_at(10) == pytest.approx(0.1)                      # cosine starts at the full rate
    assert s.lr_at(60) == pytest.approx(0.05)                     # half-way: half the rate
    assert s.lr_at(109) == pytest.approx(0.1 * 0.5 * (1 + np.cos(np.pi * 99 / 100)))
    const = TrainSettings(iterations=50, lr=0.1)
    assert {const.lr_at(k) for k in range(50)} == {0.1}


def test_early_stopping_keeps_the_best_validation_steps_weights():
    """Known answer: a scripted validation score peaks at step 6 (of 12, checked every 2 steps);
    the trained model must end with exactly the weights it had after step 6."""
    from irpipe.train.c3d_trainer import TrainSettings, train
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    clips = torch.from_numpy(rng.integers(0, 256, (12, 16, 16, 16, 1), dtype=np.uint8))
    labels = np.arange(12) % 3
    model = _tiny_model()
    snaps, scores = {}, iter([(0.2, -1.0), (0.5, -0.9), (0.7, -0.8), (0.7, -0.7), (0.4, -0.6), (0.6, -0.5)])
    s = TrainSettings(iterations=12, batch_size=4, lr=0.01, optimizer="adam", eval_every=2,
                      channels_last=False)

    def snap(step, parts):
        snaps[step] = {k: v.clone() for k, v in model.state_dict().items()}
    summary = train(model, clips, labels, s, crop=16, alpha=0.0, q_table=None, seed=1, device=torch.device("cpu"),
                    callbacks=[snap], validate=lambda m: next(scores))
    # (0.7, -0.7) at step 8 beats (0.7, -0.8) at step 6: same accuracy, lower loss
    assert summary["best_step"] == 8 and summary["best_val_accuracy"] == 0.7 and summary["best_val_loss"] == 0.7
    final = model.state_dict()
    assert all(torch.equal(final[k], snaps[8][k]) for k in final)
    assert not all(torch.equal(final[k], snaps[12][k]) for k in final)   # not the last step's weights


def test_early_stopping_survives_a_resume(tmp_path):
    """A run stopped at step 6 and resumed keeps the best weights it had seen before the stop."""
    from irpipe.train.c3d_trainer import TrainSettings, train
    torch.set_num_threads(1)
    rng = np.random.default_rng(1)
    clips = torch.from_numpy(rng.integers(0, 256, (9, 16, 16, 16, 1), dtype=np.uint8))
    labels = np.arange(9) % 3
    table = {2: (0.9, 0.0), 4: (0.1, 0.0), 6: (0.1, 0.0), 8: (0.2, 0.0), 10: (0.3, 0.0)}
    steps = []

    def val(m):
        return table[steps[-1]]

    s = TrainSettings(iterations=10, batch_size=3, lr=0.01, optimizer="adam", eval_every=2, checkpoint_every=2,
                      channels_last=False)
    kw = dict(crop=16, alpha=0.0, q_table=None, seed=2, device=torch.device("cpu"), fingerprint="f")
    m_straight = _tiny_model()
    snaps = {}

    class Track:
        def __init__(self, model):
            self.model = model

        def __call__(self, step, parts):
            snaps[step] = {k: v.clone() for k, v in self.model.state_dict().items()}

    # the validate callback learns the step from a counter advanced before each call
    def counting(model):
        steps.append(len(steps) * 2 + 2)
        return val(model)
    train(m_straight, clips, labels, s, callbacks=[Track(m_straight)], validate=counting, **kw)
    best = snaps[2]
    assert all(torch.equal(m_straight.state_dict()[k], best[k]) for k in best)
    # interrupted after step 6 (checkpoint), then resumed in a fresh model
    steps.clear()
    half = TrainSettings(**{**s.__dict__, "iterations": 6})
    m1 = _tiny_model()
    train(m1, clips, labels, half, checkpoint_path=tmp_path / "ck.pt", validate=counting, **kw)
    m2 = _tiny_model()
    train(m2, clips, labels, s, checkpoint_path=tmp_path / "ck.pt", validate=counting, **kw)
    assert all(torch.equal(m2.state_dict()[k], best[k]) for k in best)


def test_video_stats_and_validation_videos():
    from irpipe.train.c3d_trainer import validation_videos, video_stats
    rng = np.random.default_rng(0)
    clips = torch.from_numpy(rng.integers(0, 256, (5, 4, 3, 3, 3), dtype=np.uint8))
    video = np.array([0, 0, 1, 2, 2])
    mean, std = video_stats(clips, video, 3)
    for v in range(3):
        px = clips.numpy()[video == v].reshape(-1, 3).astype(np.float64)
        np.testing.assert_allclose(mean[v], px.mean(0), rtol=1e-5)
        np.testing.assert_allclose(std[v], px.std(0), rtol=1e-4)
    labels = np.repeat(np.arange(4), [10, 10, 10, 2])
    m = validation_videos(labels, 3, seed=5)
    assert [int(m[labels == k].sum()) for k in range(4)] == [3, 3, 3, 1]   # a class keeps one training video
    np.testing.assert_array_equal(m, validation_videos(labels, 3, seed=5))
    assert not np.array_equal(m, validation_videos(labels, 3, seed=6))


def test_run_stream_with_the_real_data_recipe_options(tmp_path):
    """per_video normalisation, overlapping training clips and early stopping wired through
    run_stream: the held-out videos are not trained on, the training clips overlap, and the
    predictions record which step's weights made them."""
    torch.set_num_threads(1)
    videos = make_dataset(tmp_path, n_classes=3, per_class=5, n_train=4, n_frames=34, h=20, w=24)
    cfg = validate_config({"c3d": {"model": {"width_scale": 0.0625, "fc_dim": 16, "dropout": 0.0},
                                   "clips": {"crop": 16, "train_stride": 9, "normalise": "per_video"},
                                   "train": {"iterations": 4, "batch_size": 4, "lr": 0.001,
                                             "validation": {"per_class": 1, "eval_every": 2}}}})
    res = run_stream(videos.assign(path=videos["frames"]), "ir", 0.0, cfg["c3d"], seed=0, split=0,
                     n_classes=3, out_path=tmp_path / "p.h5")
    # 3 classes x 3 trained videos (one per class held out) x clips starting at 0, 9, 18 of 34 frames
    assert res.summary["n_train_clips"] == 27
    assert res.summary["best_step"] in (2, 4)
    a = read_predictions(tmp_path / "p.h5")["attrs"]
    assert a["n_val_videos"] == 3 and a["best_step"] == res.summary["best_step"]
    # test clips stay non-overlapping: 34 frames -> 2 clips of 16
    assert read_predictions(tmp_path / "p.h5")["n_clips"].tolist() == [2] * 15


def test_changed_clips_train_afresh_instead_of_resuming(tmp_path):
    """A re-run with other frames under the same video ids (the job's input changed) must not
    resume the old data's finished checkpoint: it equals a fresh run on the new data."""
    torch.set_num_threads(1)
    cfg = validate_config({"c3d": {"model": {"width_scale": 0.0625, "fc_dim": 16, "dropout": 0.0},
                                   # fixed scaling: training-set statistics would change with the data too
                                   "clips": {"crop": 16, "normalise": "fixed"},
                                   "train": {"iterations": 4, "batch_size": 4,
                                                                    "checkpoint_every": 2, "optimizer": "adam"}}})
    kw = dict(seed=0, split=0, n_classes=2)

    def run(data_seed, name, ckpt=None):
        videos = make_dataset(tmp_path / f"data{data_seed}", n_classes=2, per_class=3, n_train=2, n_frames=17,
                              h=20, w=24, seed=data_seed)
        run_stream(videos.assign(path=videos["frames"]), "ir", 0.0, cfg["c3d"], **kw,
                   out_path=tmp_path / f"{name}.h5", checkpoint_path=ckpt, model_path=tmp_path / f"{name}.pt")
        return load_checkpoint(tmp_path / f"{name}.pt")["model"]

    ckpt = tmp_path / "ck.pt"
    old = run(0, "old", ckpt)
    assert load_checkpoint(ckpt)["progress"] == 4
    resumed, fresh = run(1, "resumed", ckpt), run(1, "fresh")
    assert all(torch.equal(resumed[k], fresh[k]) for k in fresh)
    assert any(not torch.equal(old[k], fresh[k]) for k in fresh)
