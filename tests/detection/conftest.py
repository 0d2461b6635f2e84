"""A tiny untrimmed detection set written in the stage's input layout (frames, flow,
manifest, annotations, classes), for end-to-end tests of the detection library."""
import numpy as np
import pandas as pd
import pytest

from irpipe.config import validate_config
from irpipe.data.stores import write_arrays

CLASSES = ["drop", "hug"]


def _video(rng, n_frames, instances, h=16, w=16):
    frames = (rng.random((n_frames, h, w)) * 40).astype(np.uint8)
    flow = np.zeros((n_frames - 1, h, w, 2), np.float16)
    for label, s, e in instances:
        for t in range(s, e):
            x = (t - s) % (w - 4)
            if label == "drop":
                frames[t, x % (h - 4):x % (h - 4) + 4, 6:10] = 230
                if t < n_frames - 1:
                    flow[t, :, :, 1] = 1.0
            else:
                frames[t, 6:10, x:x + 4] = 200
                if t < n_frames - 1:
                    flow[t, :, :, 0] = 1.0
    return frames, flow


@pytest.fixture(scope="session")
def tiny_detection(tmp_path_factory):
    root = tmp_path_factory.mktemp("det")
    rng = np.random.default_rng(0)
    fps = 8.0
    man, ann = [], []
    for i in range(6):
        subset = "train" if i < 4 else "test"
        n = 64 + 8 * (i % 2)
        insts = [("drop", 8, 20), ("hug", 36, 56)] if i % 2 == 0 else [("hug", 4, 24), ("drop", 40, 52)]
        frames, flow = _video(rng, n, insts)
        vid = f"vid{i}"
        write_arrays(root / "frames" / f"{vid}.h5", {"frames_i3d": frames}, {"fps": fps})
        write_arrays(root / "flow" / f"{vid}.h5", {"flow": flow}, {"fps": fps})
        man.append({"video_id": vid, "path": f"/videos/{vid}.avi", "subset": subset, "fps": fps, "n_frames": n,
                    "width": 16, "height": 16, "duration": n / fps})
        for lab, s, e in insts:
            ann.append({"video_id": vid, "label": lab, "label_index": CLASSES.index(lab), "t_start": s / fps,
                        "t_end": e / fps, "subset": subset})
    pd.DataFrame(man).to_csv(root / "manifest.csv", index=False)
    pd.DataFrame(ann).to_csv(root / "annotations.csv", index=False)
    pd.DataFrame([{"video_id": "vid4", "t_start": 7.0, "t_end": 7.5, "subset": "test"}]).to_csv(
        root / "ambiguous.csv", index=False)
    (root / "classes.txt").write_text("1 drop\n2 hug\n")
    cfg = validate_config({"detection": {
        "i3d": {"width": 0.125}, "head": {"hidden": 16}, "sca": {"expand": [1, 1]},
        "train": {"epochs": 8, "checkpoint_every": 4},
        "fen": {"width": 0.25, "pretrain_epochs": 1, "joint_epochs": 1},
        "recognition": {"epochs": 3}}})
    return root, cfg


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every detection test runs with one intra-op thread (tests/conftest.py)."""
