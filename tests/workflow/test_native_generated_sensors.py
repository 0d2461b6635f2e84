"""Generated native low-resolution sensors through the whole tiny DAG with no size in the user's
config (issue 20, item 5): an 8x8 square 16-bit recognition set (PNG sequences, radiometric
counts, as a Grid-EYE logger writes them) and a 32x24 (4:3) 8-bit detection set in the THUMOS14
layout. Together with tests/workflow/test_fir_nagoya_workflow.py (real 16x16 clips) this covers
8x8, 16x16 and 32x24, grey 8-bit and 16-bit, square and 4:3. The content is real motion (the real
clips of ../shared/data/real_clips, shrunk), relabelled."""
from __future__ import annotations

import json

import cv2
import h5py
import numpy as np
import pandas as pd
import pytest
import yaml

from tests.faults import workflow_helpers as W
from tests.fixtures import real_layout as RL
from tests.workflow.conftest import ONE_SEED, TINY, snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.slow, pytest.mark.timeout(1800)]

REC_SIZE = (8, 8)
DET_SIZE = (24, 32)      # (h, w): MLX90640's 32x24


def _sixteen_bit_sequences(root):
    """3 classes x 3 videos of 20 frames, 16-bit PNG folders: counts = 20000 + 40 x grey."""
    for cls in RL.REC_CLASSES:
        for k in range(3):
            frames = RL.clip_frames(RL.REC_SOURCES[cls], start=10 + 30 * k, n=20, size=REC_SIZE)
            folder = root / cls / f"{cls.lower()}_{k:02d}"
            folder.mkdir(parents=True)
            for i, f in enumerate(frames):
                assert cv2.imwrite(str(folder / f"{i:04d}.png"), (20000 + 40 * f.astype(np.uint16)))
    return root


@pytest.fixture(scope="module")
def native_run(tmp_path_factory):
    if not RL.REAL_CLIPS.is_dir():
        pytest.skip(f"real clips folder {RL.REAL_CLIPS} is absent in this checkout")
    data = tmp_path_factory.mktemp("native")
    rec = _sixteen_bit_sequences(data / "gridEYE")
    det = RL.thumos_folder(data / "mlx90640", n_frames=96, size=DET_SIZE)
    user = data / "sensors.yaml"   # paths, and the frame rate image sequences cannot carry
    user.write_text(yaml.safe_dump({"dataset": {
        "recognition": {"source": "folder", "path": str(rec), "fps": 10},
        "detection": {"source": "thumos", "videos": str(det.videos), "annotations": str(det.annotations)}}}))
    wd = tmp_path_factory.mktemp("run")
    snakemake(wd, configfiles=(TINY, ONE_SEED, user), timeout=1700)
    return wd


def test_native_sensors_run_every_stage_on_planned_sizes(native_run):
    res = native_run / "results"
    rec_plan = json.loads((res / "data/recognition/sizes.json").read_text())
    det_plan = json.loads((res / "data/detection/sizes.json").read_text())
    assert rec_plan["frame_size"] == list(REC_SIZE) and det_plan["frame_size"] == list(DET_SIZE)
    # the descriptors run on a copy that fits their 32 px patch, upscaled with a named interpolation
    hc = rec_plan["keys"]["handcrafted.frames_size"]
    assert hc["configured"] == "auto" and min(hc["size"]) >= 32 and hc["interpolation"]
    m = pd.read_csv(res / "data/recognition/manifest.csv")
    assert set(m["bit_depth"]) == {16} and len(m) == 9
    video = m["video_id"].iloc[0]
    with h5py.File(W.store_path(native_run, "frames", "recognition", video), "r") as f:
        assert f["frames"].shape[1:] == REC_SIZE and f["frames"].dtype == np.uint8
        assert f.attrs["agc_method"] == "percentile" and f.attrs["source_bit_depth"] == 16
        # the 16-bit counts were stretched, not truncated: the 8-bit frames use most of the range
        assert int(f["frames"][()].max()) - int(f["frames"][()].min()) > 200
    assert json.loads((res / "data/detection/subsets.json").read_text()) == {"train": "validation", "test": "test"}
    for name in ["table1", "table2", "table3", "infdet_table3", "infdet_table4", "infdet_table5", "infdet_table6"]:
        assert not pd.read_csv(res / f"tables/{name}.csv").empty, name
    per_class = pd.read_csv(res / "tables/infdet_per_class_ap.csv")
    assert set(per_class["class"]) == set(RL.DET_CLASSES) | {"mAP"}
