"""The whole DAG at the tiny preset's sizes on datasets laid out like real ones (relabelled real
clips; tests/fixtures/real_layout.py), pointed at by config alone: source, path, videos,
annotations, subsets. No class list in the config: every table must carry the data's classes."""
import pandas as pd
import pytest
import yaml

from tests.fixtures import real_layout as RL
from tests.workflow.conftest import ONE_SEED, TINY, snakemake

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    if not RL.REAL_CLIPS.is_dir():
        pytest.skip(f"real clips folder {RL.REAL_CLIPS} is absent in this checkout")
    data = tmp_path_factory.mktemp("data")
    rec = RL.recognition_folder(data / "my recognition set")
    det = RL.thumos_folder(data / "detection")
    cfg = {"dataset": {
        "recognition": {"source": "folder", "path": str(rec)},
        "detection": {"source": "thumos", "videos": str(det.videos), "annotations": str(det.annotations),
                      "subsets": dict(RL.DET_SUBSETS)}}}
    cfgfile = data / "mydata.yaml"
    cfgfile.write_text(yaml.safe_dump(cfg))
    wd = tmp_path_factory.mktemp("run")
    snakemake(wd, configfiles=(TINY, ONE_SEED, cfgfile))
    snakemake(wd, "--report", "results/report.html", cores=1, configfiles=(TINY, ONE_SEED, cfgfile))
    return wd, rec, det


def test_tables_carry_the_datas_classes(real_run):
    wd, rec, det = real_run
    res = wd / "results"
    assert (res / "data/recognition/classes.txt").read_text() == "1 Cooking\n2 Gardening\n3 Reading\n"
    assert (res / "data/recognition/classes_source.txt").read_text().strip() == f"found in {rec} (sub-folders)"
    assert (res / "data/detection/classes.txt").read_text() == "7 Typing\n2 Juggling\n5 Sweeping\n"
    assert "detclasslist.txt" in (res / "data/detection/classes_source.txt").read_text()
    m = pd.read_csv(res / "data/recognition/manifest.csv")
    assert sorted(m["label"].unique()) == RL.REC_CLASSES and "Reading_my_clip_01" in set(m["video_id"])
    assert "street_scene_01" in set(pd.read_csv(res / "data/detection/manifest.csv")["video_id"])
    # recognition tables and figures
    for name in ["table1", "table2", "table3"]:
        t = pd.read_csv(res / f"tables/{name}.csv")
        assert not t.empty and t["accuracy_mean"].between(0, 100).all(), name
    conf = pd.read_csv(res / "figures/figure5_confusion.csv")
    assert set(conf["true"]) == set(conf["predicted"]) == set(RL.REC_CLASSES)
    assert not pd.read_csv(res / "tables/infdet_recognition.csv").empty
    # detection: per-class AP over the data's classes, THUMOS files with the data's ids
    per_class = pd.read_csv(res / "tables/infdet_per_class_ap.csv")
    assert set(per_class["class"]) == set(RL.DET_CLASSES) | {"mAP"}
    for name in ["infdet_table3", "infdet_table4", "infdet_table5", "infdet_table6"]:
        assert not pd.read_csv(res / f"tables/{name}.csv").empty, name
    gt = res / "detection/gt"
    assert sorted(p.name for p in gt.iterdir() if not p.name.startswith(".")) == sorted(
        ["Ambiguous_test.txt", "detclasslist.txt"] + [f"{c}_test.txt" for c in RL.DET_CLASSES])
    assert "street_scene_01" in (gt / "Ambiguous_test.txt").read_text()
    ids = {int(line.split()[3]) for p in (res / "detection/variants").glob("*/detections_thumos.txt")
           for line in p.read_text().splitlines() if line.strip()}
    assert ids <= {7, 2, 5}
    summary = (res / "report/summary.html").read_text()
    assert "3 classes (found in" in summary
    for name in ["manifest_recognition", "manifest_detection"]:
        assert pd.read_csv(res / f"bad_inputs/{name}.csv").empty


def test_captions_name_the_datas_folder_and_counts(real_run):
    """Issue 14: every table, figure caption and report page names the data it ran on, with the
    counts of the workflow's own manifests: the fixture's 3 classes x 3 clips, 1 split of 2 train +
    1 test per class; THUMOS-style validation (the train subset) 2 videos / 6 instances, test 2 / 6
    (the Ambiguous segment is not an instance)."""
    wd, rec, det = real_run
    res = wd / "results"
    rec_said = (f"Data: {rec.parent.name}/my recognition set (recognition): 3 classes, 3 clips per class (9 clips); "
                "1 split: 6 train / 3 test clips.")
    det_said = ("Data: detection/videos (detection): validation (train) 2 videos / 6 instances / 3 classes; "
                "test 2 / 6 / 3.")
    assert det.videos.parent.name == "detection" and det.videos.name == "videos"
    for name in ["table1", "table2", "table3", "infdet_recognition"]:
        assert rec_said in (res / f"tables/{name}.md").read_text(), name
    for name in ["infdet_table3", "infdet_table4", "infdet_table5"]:
        assert det_said in (res / f"tables/{name}.md").read_text(), name
    assert "Data: none" in (res / "tables/infdet_table6.md").read_text()
    assert det_said in (res / "figures/detection/timelines.md").read_text()
    summary = (res / "report/summary.html").read_text()
    assert rec_said[len("Data: "):-1] in summary and det_said[len("Data: "):-1] in summary
    for view in ["table1", "table2", "table3"]:
        assert rec_said in (res / f"report/tables/{view}.html").read_text(), view
    # the Snakemake report: the captions of tables, figures, timelines, summary and front page
    html = (res / "report.html").read_text(errors="replace")
    assert html.count(rec_said) >= 6 and html.count(det_said) >= 2, (html.count(rec_said), html.count(det_said))
    for phrase in ("configured classes", "real recognition data", "real detection data", "configured detection set"):
        assert phrase not in html and not any(phrase in p.read_text() for p in (res / "tables").glob("*.md"))
