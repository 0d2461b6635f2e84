"""A training job killed with SIGKILL mid-run: running the workflow again resumes it from
its checkpoint and finishes with the same result as an uninterrupted run.

Runs the real ``c3d_train`` rule (the IR stream with the DCL, split 0) on the small
generated dataset of the fault tests, with a network small enough to train in seconds.
The whole Snakemake process group is killed as soon as the job has written its first
checkpoint, i.e. mid-training.
"""
from __future__ import annotations

import copy
import os
import re
import signal
import subprocess
import time

import pytest

from . import workflow_helpers as W

pytestmark = [pytest.mark.workflow, pytest.mark.slow]

ITERATIONS, EVERY = 40, 5
TARGET = "results/c3d/ir_dcl/split0/predictions.h5"


def _has_rule(name: str) -> bool:
    smk = W.REPO / "rules" / "c3d.smk"
    return smk.exists() and re.search(rf"^rule {name}:", smk.read_text(), flags=re.M) is not None


needs_c3d = pytest.mark.skipif(not _has_rule("c3d_train"), reason="the c3d stage (rule c3d_train) is not merged")


def _c3d_config(config: dict) -> dict:
    cfg = copy.deepcopy(config)
    cfg["c3d"] = {
        "device": "cpu",
        "model": {"width_scale": 0.0625, "fc_dim": 16, "dropout": 0.2},
        "dcl": {"alpha": 0.02, "code_dim": 6, "variation_pool": 2},
        "clips": {"clip_len": 16, "crop": 16},
        "train": {"iterations": ITERATIONS, "batch_size": 2, "lr": 0.01, "optimizer": "sgd",
                  "checkpoint_every": EVERY, "log_every": 5, "bf16": False, "channels_last": False},
    }
    return cfg


@needs_c3d
def test_killed_training_job_resumes_to_the_same_result(tmp_path):
    ref, base_config = W.reference_run()
    config = _c3d_config(base_config)

    # Uninterrupted run.
    clean = W.copy_workdir(ref, tmp_path / "clean")
    W.snakemake(clean, config, [TARGET])

    # Killed run: SIGKILL the whole process group once the first checkpoint exists.
    wd = W.copy_workdir(ref, tmp_path / "killed")
    cfg_path = W.write_config(wd, config)
    ckpt = wd / "results/c3d/ir_dcl/split0/checkpoint.pt"
    proc = subprocess.Popen(W.snakemake_cmd(wd, cfg_path, [TARGET]), cwd=W.REPO, env=W.env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 600
    while not ckpt.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert ckpt.exists(), "the job never wrote a checkpoint"
    assert not (wd / TARGET).exists(), "the job finished before it could be killed: make it longer"

    W.run(W.snakemake_cmd(wd, cfg_path, [TARGET], "--unlock"))
    W.snakemake(wd, config, [TARGET])
    log = (wd / "results/logs/c3d_train/ir_dcl_split0.log").read_text()
    m = re.search(r"resumed from \S+checkpoint\.pt at (\d+)", log)  # irpipe.checkpoints.resume
    assert m, "the re-run did not resume from the checkpoint:\n" + log[-2000:]
    step = int(m.group(1))
    assert 0 < step < ITERATIONS and step % EVERY == 0
    print(f"killed mid-training; resumed at step {step} of {ITERATIONS}")

    a, b = W.h5_content(clean / TARGET), W.h5_content(wd / TARGET)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k], f"predictions differ after resuming: {k}"
    import torch

    ma = torch.load(clean / "results/c3d/ir_dcl/split0/model.pt", weights_only=True)["model"]
    mb = torch.load(wd / "results/c3d/ir_dcl/split0/model.pt", weights_only=True)["model"]
    assert ma.keys() == mb.keys() and all(torch.equal(ma[k], mb[k]) for k in ma)
