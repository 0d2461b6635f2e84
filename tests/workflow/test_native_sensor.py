"""Native 16x16 thermopile frames (real Nagoya FIR clips) through the workflow with nothing but
paths and class names set: the manifest job plans the frame sizes, and the IDT job that used to
stop on "frames of 16x16 are smaller than the 32px descriptor patch" runs on the planned copy."""
from __future__ import annotations

import json
import shutil

import h5py
import pytest
import yaml

from tests.conftest import REPO
from tests.faults import workflow_helpers as W
from tests.workflow.conftest import snakemake

NAGOYA = REPO.parent / "shared" / "data" / "fir_nagoya" / "recognition"
CLASSES = ["walk", "sit"]


@pytest.mark.workflow
@pytest.mark.skipif(not NAGOYA.is_dir(), reason="fir_nagoya data not present")
def test_native_16x16_idt_runs_on_the_planned_size(tmp_path):
    data = tmp_path / "data"
    for cls in CLASSES:
        for clip in sorted((NAGOYA / cls).glob("*.avi"))[:3]:
            (data / cls).mkdir(parents=True, exist_ok=True)
            shutil.copy(clip, data / cls / clip.name)
    video = "walk_" + sorted((data / "walk").glob("*.avi"))[0].stem      # ids are <class>_<stem>
    wd = tmp_path / "wd"
    user = tmp_path / "nagoya.yaml"      # what a new user writes: where the data are, its classes
    user.write_text(yaml.safe_dump({"dataset": {"recognition": {"source": "folder", "path": str(data),
                                                                "classes": CLASSES},
                                                "detection": {"enabled": False}}}))
    snakemake(wd, "results/data/recognition/manifest.csv", configfiles=(user,))
    idt_shard = W.shard_dir(wd, "handcrafted/descriptors/idt", "recognition", video).replace("/recognition", "")
    snakemake(wd, idt_shard, configfiles=(user,))
    plan = json.loads((wd / "results/data/recognition/sizes.json").read_text())
    assert plan["frame_size"] == [16, 16]
    hc = plan["keys"]["handcrafted.frames_size"]
    assert hc["configured"] == "auto" and hc["chosen"] == "c3d" and min(hc["size"]) >= 32
    with h5py.File(wd / idt_shard / f"{video}.h5", "r") as f:
        assert f.attrs["bad_input"] == "" and f.attrs["n_descriptors"] > 0
    with h5py.File(W.store_path(wd, "frames", "recognition", video), "r") as f:
        assert f["frames"].shape[1:] == (16, 16) and f.attrs["interpolation_c3d"] == "linear"
