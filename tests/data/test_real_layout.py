"""The dataset readers on datasets laid out like real ones (tests/fixtures/real_layout.py):
classes from the data, THUMOS class ids, Ambiguous, subsets named like THUMOS14's, spaces."""
import pandas as pd
import pytest

from irpipe.config import validate_config
from irpipe.data.datasets import detection_manifest, recognition_manifest
from irpipe.errors import BadInputError, BadInputsError, ConfigError
from tests.fixtures import real_layout as RL


def rec_cfg(**kw):
    return validate_config({"dataset": {"recognition": kw}})["dataset"]["recognition"]


def det_cfg(**kw):
    return validate_config({"dataset": {"detection": {"subsets": RL.DET_SUBSETS, **kw}}})["dataset"]["detection"]


@pytest.fixture(scope="module")
def rec_root(tmp_path_factory):
    if not RL.REAL_CLIPS.is_dir():
        pytest.skip(f"real clips folder {RL.REAL_CLIPS} is absent in this checkout")
    return RL.recognition_folder(tmp_path_factory.mktemp("rec") / "my data", sequence=True)


@pytest.fixture(scope="module")
def thumos(tmp_path_factory):
    if not RL.REAL_CLIPS.is_dir():
        pytest.skip(f"real clips folder {RL.REAL_CLIPS} is absent in this checkout")
    return RL.thumos_folder(tmp_path_factory.mktemp("det"))


def test_recognition_classes_from_subfolders(rec_root):
    res = recognition_manifest(rec_cfg(source="folder", path=str(rec_root), fps=7.5), "error")
    m = res.manifest
    assert res.classes.names == RL.REC_CLASSES and res.classes.ids == [1, 2, 3]
    assert res.classes.source == f"found in {rec_root} (sub-folders)"
    assert len(m) == 9 and not res.bad and m["video_id"].is_unique
    assert (m["label_index"] == m["label"].map(RL.REC_CLASSES.index)).all()
    # a file name with spaces becomes a safe id; the path keeps the real name
    row = m[m["video_id"] == "Reading_my_clip_01"].iloc[0]
    assert row["path"].endswith("Reading/my clip 01.avi") and row["fps"] == RL.REC_FPS
    # the PNG folder is a video at the configured frame rate, frames counted in full
    seq = m[m["path"].str.endswith("Gardening/gardening_01")].iloc[0]
    assert seq["codec"] == "png-sequence-8bit" and seq["fps"] == 7.5 and seq["n_frames"] == 24


def test_image_sequence_without_fps_is_a_config_error(rec_root):
    with pytest.raises(ConfigError, match=r"gardening_01 is an image sequence.*dataset.recognition.fps"):
        recognition_manifest(rec_cfg(source="folder", path=str(rec_root)), "error")


def test_configured_classes_filter_and_order(rec_root):
    res = recognition_manifest(rec_cfg(source="folder", path=str(rec_root), classes=["reading", "Cooking"]), "error")
    assert res.classes.names == ["reading", "Cooking"] and res.classes.source.startswith("configured")
    m = res.manifest
    assert sorted(m["label"].unique()) == ["Cooking", "reading"] and len(m) == 6
    assert set(m.loc[m["label"] == "reading", "label_index"]) == {0}


def test_configured_class_absent_from_data_is_a_bad_input(rec_root):
    cfg = rec_cfg(source="folder", path=str(rec_root), classes=["Cooking", "Dancing"])
    with pytest.raises(BadInputsError, match=r"configured class 'Dancing' is not in the data"):
        recognition_manifest(cfg, "error")
    res = recognition_manifest(cfg, "skip")
    assert [(b.item, b.reason) for b in res.bad] == [
        (str(rec_root), "configured class 'Dancing' is not in the data (found: ['Cooking', 'Gardening', 'Reading'])")]
    assert len(res.manifest) == 3


def test_recognition_csv_classes_are_sorted_unique_labels(rec_root, tmp_path):
    rows = [{"path": str(p), "label": p.parent.name.lower()} for p in sorted(rec_root.glob("*/*.avi"))]
    csv = tmp_path / "list.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    res = recognition_manifest(rec_cfg(source="csv", path=str(csv)), "error")
    assert res.classes.names == ["cooking", "gardening", "reading"] and len(res.manifest) == 8


def test_thumos_classes_from_detclasslist(thumos):
    res = detection_manifest(det_cfg(source="thumos", videos=str(thumos.videos),
                                     annotations=str(thumos.annotations)), "error")
    assert res.classes.names == RL.DET_CLASSES and res.classes.ids == [7, 2, 5]
    assert res.classes.text() == (thumos.annotations / "detclasslist.txt").read_text()
    assert "Ambiguous" not in res.classes.names
    m = res.manifest.set_index("video_id")
    assert sorted(m.index) == ["street_scene_01", "test_001", "val_000", "val_001"]
    assert m.loc["street_scene_01", "path"].endswith("videos/street scene 01.avi")
    assert dict(m["subset"]) == {"street_scene_01": "test", "test_001": "test", "val_000": "train", "val_001": "train"}
    a = res.annotations
    assert len(a) == len(thumos.instances) == 12
    assert (a["label_index"] == a["label"].map(RL.DET_CLASSES.index)).all()
    assert list(res.ambiguous["video_id"]) == ["street_scene_01"]
    # times are read as written, also for the video whose name has spaces
    mine = a[a["video_id"] == "street_scene_01"].sort_values("t_start")
    want = sorted((x[3], x[4]) for x in thumos.instances if x[0] == RL.SPACED_DET)
    assert list(zip(mine["t_start"], mine["t_end"])) == want


def test_thumos_classes_from_file_names_without_detclasslist(thumos, tmp_path):
    import shutil

    ann = tmp_path / "ann"
    shutil.copytree(thumos.annotations, ann)
    (ann / "detclasslist.txt").unlink()
    res = detection_manifest(det_cfg(source="thumos", videos=str(thumos.videos), annotations=str(ann)), "error")
    assert res.classes.names == sorted(RL.DET_CLASSES) and res.classes.ids == [1, 2, 3]
    assert "<class>_<subset>.txt" in res.classes.source


def test_every_bad_input_in_one_message(thumos, tmp_path):
    import shutil

    root = tmp_path / "broken"
    shutil.copytree(thumos.root, root)
    (root / "videos" / "val_001.avi").write_bytes(b"")                      # empty file
    with open(root / "annotations" / "Typing_validation.txt", "a") as fh:
        fh.write("val_000 oops\n")                                          # malformed line
    with open(root / "annotations" / "Juggling_test.txt", "a") as fh:
        fh.write("nowhere 1.0 2.0\n")                                       # unknown video
    cfg = det_cfg(source="thumos", videos=str(root / "videos"), annotations=str(root / "annotations"))
    with pytest.raises(BadInputsError) as info:
        detection_manifest(cfg, "error")
    msg = str(info.value)
    assert msg.startswith("3 bad input(s) found by the detection manifest")
    assert "val_001.avi: file is empty" in msg
    assert "Typing_validation.txt:" in msg and "expected 'video_id t_start t_end'" in msg
    assert "refers to video 'nowhere'" in msg
    assert isinstance(info.value, BadInputError) and len(info.value.items) == 3
    res = detection_manifest(cfg, "skip")
    assert len(res.bad) == 3 and "val_001" not in set(res.manifest["video_id"])


# ---------------------------------------------------------------------------------------
# subsets.train: auto (THUMOS14 trains on its "validation" subset)
# ---------------------------------------------------------------------------------------
def _auto_cfg(**kw):
    return validate_config({"dataset": {"detection": kw}})["dataset"]["detection"]


def test_auto_train_subset_is_validation_in_a_thumos14_layout(thumos):
    from irpipe.data.datasets import resolve_subsets

    cfg = _auto_cfg(source="thumos", videos=str(thumos.videos), annotations=str(thumos.annotations))
    assert cfg["subsets"] == {"train": "auto", "test": "test"}       # the default: nothing configured
    assert resolve_subsets(cfg, thumos.annotations) == {"train": "validation", "test": "test"}
    res = detection_manifest(cfg, "error")
    assert res.subsets == {"train": "validation", "test": "test"}
    # the same videos as with the subsets spelled out
    explicit = detection_manifest(det_cfg(source="thumos", videos=str(thumos.videos),
                                          annotations=str(thumos.annotations)), "error")
    pd.testing.assert_frame_equal(res.manifest, explicit.manifest)
    assert sorted(res.manifest["subset"].unique()) == ["test", "train"]


def test_auto_train_subset_prefers_train_and_reads_csv_subsets(tmp_path):
    from irpipe.data.datasets import resolve_subsets

    ann = tmp_path / "ann"
    ann.mkdir()
    for name in ["walk_train.txt", "walk_validation.txt", "walk_test.txt", "detclasslist.txt"]:
        (ann / name).write_text("")
    assert resolve_subsets(_auto_cfg(source="thumos"), ann)["train"] == "train"
    csv = tmp_path / "a.csv"
    csv.write_text("video,label,t_start,t_end,subset\nv1,walk,0,1,validation\nv2,walk,0,1,test\n")
    assert resolve_subsets(_auto_cfg(source="csv"), csv)["train"] == "validation"
    assert resolve_subsets(_auto_cfg(source="synthetic"))["train"] == "train"
    assert resolve_subsets(_auto_cfg(source="csv", subsets={"train": "dev"}), csv)["train"] == "dev"


def test_auto_train_subset_absent_names_the_key_and_what_is_there(tmp_path):
    from irpipe.data.datasets import resolve_subsets

    ann = tmp_path / "ann"
    ann.mkdir()
    (ann / "walk_dev.txt").write_text("")
    (ann / "walk_test.txt").write_text("")
    with pytest.raises(BadInputError, match=r"subsets found: \['dev', 'test'\].*dataset.detection.subsets.train"):
        resolve_subsets(_auto_cfg(source="thumos"), ann)


def test_a_subset_without_usable_videos_stops_the_manifest(thumos):
    # "train" spelled out although the layout names its training set "validation": before, the
    # manifest went on with test videos only (warnings, then a crash in a later job).
    cfg = det_cfg(source="thumos", videos=str(thumos.videos), annotations=str(thumos.annotations),
                  subsets={"train": "train", "test": "test"})
    with pytest.raises(BadInputError, match=r"no usable video in the train subset \('train'; "
                                            r"dataset.detection.subsets.train\)"):
        detection_manifest(cfg, "error")
