"""The whole workflow on a cut-down copy of the real 16x16 thermopile set (../shared/data/fir_nagoya),
pointed at by paths alone: no classes, no sizes, no subsets, no flow bound in the user's config
(the tiny preset only shortens training). Issue 20's acceptance: native sensor frames run every
stage by config alone, and every table carries the data's own classes."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import yaml

from tests.conftest import REPO
from tests.workflow.conftest import ONE_SEED, TINY, snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.slow, pytest.mark.timeout(1800)]

NAGOYA = REPO.parent / "shared" / "data" / "fir_nagoya"
CLIPS_PER_CLASS = 3          # the tiny preset's splits: 2 train + 1 test per class
# every class in training (walk, sitdown, standup / falling), two test classes; 1,621 frames in all
DET_VIDEOS = {"validation": ["20170203_p12_light1", "20170209_p2_dark4"],
              "test": ["20170210_p7_dark1", "20170210_p8_light4"]}
DET_CLASSES = ["walk", "sitdown", "standup", "falling"]      # detclasslist.txt's order (ids 1..4)


def _cut_down_copy(dst):
    rec = dst / "recognition"
    for cls_dir in sorted(p for p in (NAGOYA / "recognition").iterdir() if p.is_dir()):
        (rec / cls_dir.name).mkdir(parents=True)
        for clip in sorted(cls_dir.glob("*.avi"))[:CLIPS_PER_CLASS]:
            shutil.copy(clip, rec / cls_dir.name / clip.name)
    videos, ann = dst / "detection" / "videos", dst / "detection" / "annotations"
    videos.mkdir(parents=True)
    ann.mkdir(parents=True)
    keep = {v for vs in DET_VIDEOS.values() for v in vs}
    for v in keep:
        shutil.copy(NAGOYA / "detection" / "videos" / f"{v}.avi", videos / f"{v}.avi")
    shutil.copy(NAGOYA / "detection" / "annotations" / "detclasslist.txt", ann / "detclasslist.txt")
    for f in (NAGOYA / "detection" / "annotations").glob("*_*.txt"):
        lines = [ln for ln in f.read_text().splitlines(keepends=True) if ln.split() and ln.split()[0] in keep]
        (ann / f.name).write_text("".join(lines))
    return rec, videos, ann


@pytest.fixture(scope="module")
def nagoya_run(tmp_path_factory):
    if not NAGOYA.is_dir():
        pytest.skip(f"{NAGOYA} is absent in this checkout")
    data = tmp_path_factory.mktemp("fir_nagoya_cut")
    rec, videos, ann = _cut_down_copy(data)
    user = data / "nagoya.yaml"   # the README's real-data example, nothing but the paths
    user.write_text(yaml.safe_dump({"dataset": {
        "recognition": {"source": "folder", "path": str(rec)},
        "detection": {"source": "thumos", "videos": str(videos), "annotations": str(ann)}}}))
    wd = tmp_path_factory.mktemp("run")
    snakemake(wd, configfiles=(TINY, ONE_SEED, user), timeout=1700)
    return wd


def test_every_table_carries_the_datas_classes_at_native_16x16(nagoya_run):
    res = nagoya_run / "results"
    rec_classes = sorted(p.name for p in (NAGOYA / "recognition").iterdir() if p.is_dir())
    assert [ln.split()[1] for ln in (res / "data/recognition/classes.txt").read_text().splitlines()] == rec_classes
    assert [ln.split(maxsplit=1)[1] for ln in (res / "data/detection/classes.txt").read_text().splitlines()] \
        == DET_CLASSES
    plan = json.loads((res / "data/recognition/sizes.json").read_text())
    assert plan["frame_size"] == [16, 16]          # native: the plan, not the user, chose the working sizes
    assert min(plan["keys"]["handcrafted.frames_size"]["size"]) >= 32

    for name in ["table1", "table2", "table3"]:
        t = pd.read_csv(res / f"tables/{name}.csv")
        assert not t.empty and t["accuracy_mean"].between(0, 100).all(), name
    t1 = pd.read_csv(res / "tables/table1.csv")
    assert t1["method"].str.startswith("naive baseline").any()
    conf = pd.read_csv(res / "figures/figure5_confusion.csv")
    assert set(conf["true"]) == set(conf["predicted"]) == set(rec_classes)

    per_class = pd.read_csv(res / "tables/infdet_per_class_ap.csv")
    assert {"walk", "falling", "mAP"} <= set(per_class["class"]) <= set(DET_CLASSES) | {"mAP"}
    assert json.loads((res / "data/detection/subsets.json").read_text()) == {"train": "validation", "test": "test"}
    for name in ["infdet_table3", "infdet_table4", "infdet_table5", "infdet_table6"]:
        assert not pd.read_csv(res / f"tables/{name}.csv").empty, name
    # Nothing was dropped: every clip and recording went through.
    assert len(pd.read_csv(res / "data/recognition/manifest.csv")) == CLIPS_PER_CLASS * len(rec_classes)
    assert len(pd.read_csv(res / "data/detection/manifest.csv")) == 4
