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
