"""A tiny C3D training job run as a subprocess by test_c3d_trainer (so that it can be killed).

usage: python c3d_resume_job.py <data_dir> <out_dir> <delay_seconds>
Writes <out_dir>/progress.txt (last finished step) after each step, and the job's outputs.
"""
import json
import sys
import time
from pathlib import Path

import pandas as pd
import torch

torch.set_num_threads(1)

from irpipe.config import validate_config  # noqa: E402
from irpipe.train.c3d_trainer import run_stream  # noqa: E402

data_dir, out_dir, delay = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
videos = pd.read_csv(data_dir / "videos.csv").assign(path=lambda d: d["frames"])
cfg = validate_config({"c3d": {"model": {"width_scale": 0.0625, "fc_dim": 16},
                               "dcl": {"code_dim": 7, "variation_pool": 2},
                               "clips": {"crop": 16},
                               "train": {"iterations": 12, "batch_size": 4, "lr": 0.01, "optimizer": "sgd",
                                         "checkpoint_every": 3, "log_every": 2}}})


def slow(step, parts):
    (out_dir / "progress.txt").write_text(str(step))
    time.sleep(delay)


res = run_stream(videos, "ir", 0.02, cfg["c3d"], seed=0, split=0, n_classes=3, out_path=out_dir / "predictions.h5",
                 checkpoint_path=out_dir / "checkpoint.pt", model_path=out_dir / "model.pt", callbacks=[slow])
(out_dir / "summary.json").write_text(json.dumps(res.summary))
