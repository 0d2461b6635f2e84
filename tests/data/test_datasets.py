import pandas as pd
import pytest

from irpipe.config import validate_config
from irpipe.data.datasets import detection_manifest, recognition_manifest, safe_id, thumos_class_list, unique_ids
from irpipe.errors import BadInputError
from tests.conftest import moving_frames, write_video

CLASSES = ["fight", "jog", "wave1"]


def rec_cfg(**kw):
    cfg = validate_config({"dataset": {"recognition": {"classes": CLASSES, "min_frames": 16, **kw}}})
    return cfg["dataset"]["recognition"]


def det_cfg(**kw):
    return validate_config({"dataset": {"detection": {"min_frames": 16, **kw}}})["dataset"]["detection"]


@pytest.fixture
def rec_folder(tmp_path):
    root = tmp_path / "infar"
    for ci, cls in enumerate(CLASSES):
        for i in range(3):
            write_video(root / cls / f"{cls}_{i:02d}.avi", moving_frames(20, seed=ci * 10 + i))
    (root / "jog" / "readme.txt").write_text("not a video, ignored: no video extension")
    return root


def test_folder_layout(rec_folder):
    res = recognition_manifest(rec_cfg(source="folder", path=str(rec_folder)), "error")
    m = res.manifest
    assert len(m) == 9 and not res.bad
    assert sorted(m["label"].unique()) == CLASSES
    assert (m["label_index"] == m["label"].map(CLASSES.index)).all()
    assert (m["n_frames"] == 20).all() and m["video_id"].is_unique


def test_csv_layout(rec_folder, tmp_path):
    rows = [{"path": str(p.relative_to(rec_folder)), "label": p.parent.name.upper()}
            for p in sorted(rec_folder.glob("*/*.avi"))]
    csv = rec_folder / "list.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    res = recognition_manifest(rec_cfg(source="csv", path=str(csv)), "error")
    assert len(res.manifest) == 9  # relative paths resolve against the CSV, labels case-insensitive


def test_class_folder_without_videos_is_an_error_naming_it(rec_folder):
    for p in (rec_folder / "wave1").iterdir():
        p.unlink()
    with pytest.raises(BadInputError, match=r"wave1: class folder holds no videos"):
        recognition_manifest(rec_cfg(source="folder", path=str(rec_folder)), "error")


def test_bad_videos_skipped_and_recorded(rec_folder):
    (rec_folder / "fight" / "zero.avi").write_bytes(b"")
    (rec_folder / "fight" / "text.avi").write_text("hello")
    write_video(rec_folder / "jog" / "short.avi", moving_frames(6))
    data = (rec_folder / "jog" / "jog_00.avi").read_bytes()
    (rec_folder / "jog" / "cut.avi").write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInputError, match=r"fight/text.avi: no decoder could open it"):
        recognition_manifest(rec_cfg(source="folder", path=str(rec_folder)), "error")
    res = recognition_manifest(rec_cfg(source="folder", path=str(rec_folder)), "skip")
    assert len(res.manifest) == 9
    reasons = {b.item.split("/")[-1]: b.reason for b in res.bad}
    assert set(reasons) == {"zero.avi", "text.avi", "short.avi", "cut.avi"}
    assert "too short" in reasons["short.avi"] and "empty" in reasons["zero.avi"]


def test_ids_are_safe_and_unique():
    assert safe_id("my video (1).avi") == "my_video_1_.avi"
    assert unique_ids(["a b", "a_b", "c"]) == ["a_b", "a_b__1", "c"]


@pytest.fixture
def det_data(tmp_path):
    vids = tmp_path / "videos"
    write_video(vids / "v1.avi", moving_frames(40), fps=8)   # 5 s
    write_video(vids / "v2.avi", moving_frames(40), fps=8)
    ann = tmp_path / "ann"
    ann.mkdir()
    (ann / "fight_train.txt").write_text("v1 0.5 2.0\nv1 3.0 4.5\n")
    (ann / "hug_test.txt").write_text("v2 1.0 2.5\n")
    (ann / "Ambiguous_test.txt").write_text("v2 3.0 3.5\n")
    return vids, ann


def test_thumos_annotations(det_data):
    vids, ann = det_data
    res = detection_manifest(det_cfg(source="thumos", videos=str(vids), annotations=str(ann)), "error")
    assert list(res.manifest["video_id"]) == ["v1", "v2"]
    assert dict(zip(res.manifest["video_id"], res.manifest["subset"])) == {"v1": "train", "v2": "test"}
    a = res.annotations
    assert len(a) == 3 and set(a["label"]) == {"fight", "hug"}
    # classes from the data: the <class>_<subset>.txt names, sorted, Ambiguous excluded
    assert res.classes.names == ["fight", "hug"] and res.classes.ids == [1, 2]
    assert a.loc[a["label"] == "hug", "label_index"].item() == 1
    assert len(res.ambiguous) == 1
    # a configured list orders them
    res = detection_manifest(det_cfg(source="thumos", videos=str(vids), annotations=str(ann),
                                     classes=["hug", "fight"]), "error")
    assert res.annotations.loc[res.annotations["label"] == "hug", "label_index"].unique().tolist() == [0]
    assert res.classes.source == "configured (dataset.detection.classes)"
    assert thumos_class_list(["drop", "fight", "hug"]) == "1 drop\n2 fight\n3 hug\n"


@pytest.mark.parametrize("line,reason", [
    ("v9 0.5 1.0", r"refers to video 'v9', which is not in"),
    ("v1 2.0 2.0", r"t_end \(2.0\) <= t_start \(2.0\)"),
    ("v1 1.0 9.0", r"t_end \(9.0\) is beyond the end of video 'v1'"),
    ("v1 1.0", r"expected 'video_id t_start t_end'"),
])
def test_bad_annotations(det_data, line, reason):
    vids, ann = det_data
    (ann / "drop_train.txt").write_text(line + "\n")
    cfg = det_cfg(source="thumos", videos=str(vids), annotations=str(ann))
    with pytest.raises(BadInputError, match=r"drop_train.txt:1: " + reason):
        detection_manifest(cfg, "error")
    res = detection_manifest(cfg, "skip")
    assert len(res.bad) == 1 and res.bad[0].item.endswith("drop_train.txt:1")
    assert len(res.annotations) == 3  # the good ones are all kept


def test_csv_annotations(det_data, tmp_path):
    vids, _ = det_data
    csv = tmp_path / "ann.csv"
    pd.DataFrame([{"video": "v1", "label": "drop", "t_start": 1, "t_end": 2, "subset": "train"},
                  {"video": "v2", "label": "fight", "t_start": 0, "t_end": 4, "subset": "test"}]).to_csv(csv, index=False)
    res = detection_manifest(det_cfg(source="csv", videos=str(vids), annotations=str(csv)), "error")
    assert len(res.annotations) == 2 and set(res.manifest["subset"]) == {"train", "test"}
