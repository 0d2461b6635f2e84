"""Captions name the data (issue 14 item 2): the dataset's folder (or SYNTHETIC) and its counts,
counted from the workflow's own manifests, worded in one place."""
from __future__ import annotations

import copy
import re

import pandas as pd
import pytest

from irpipe.config import validate_config
from irpipe.errors import BadInputError
from irpipe.report import captions
from irpipe.report import data_description as D
from tests.conftest import REPO, preset_configs


def _recognition_tables():
    """3 classes with 4, 4 and 3 clips; 2 splits of 6 train / 4 test and 7 train / 3 test."""
    labels = ["walk"] * 4 + ["run"] * 4 + ["wave"] * 3
    index = {"walk": 0, "run": 1, "wave": 2}
    manifest = pd.DataFrame({"video_id": [f"v{i:02d}" for i in range(11)], "path": "x.avi", "label": labels,
                             "label_index": [index[c] for c in labels]})
    s0 = ["train", "train", "test", "test"] * 2 + ["train", "train", "test"]       # 6 train, 5 test
    s1 = ["train", "train", "train", "test"] * 2 + ["train", "train", "test"]      # 8 train, 3 test
    splits = pd.DataFrame({"video_id": list(manifest["video_id"]) * 2, "label": labels * 2,
                           "split": [0] * 11 + [1] * 11, "subset": s0 + s1})
    return manifest, splits


def _detection_tables():
    """As the manifest job writes them (subset = the role): train 3 videos, 5 instances of 2 classes;
    test 2 videos, 1 instance; extra 1 video, none."""
    manifest = pd.DataFrame({"video_id": ["t0", "t1", "v0", "v1", "v2", "x0"],
                             "subset": ["test", "test", "train", "train", "train", "extra"]})
    annotations = pd.DataFrame({
        "video_id": ["v0", "v0", "v1", "v2", "v2", "t1"],
        "label": ["Juggling", "Typing", "Typing", "Typing", "Juggling", "Typing"],
        "label_index": [1, 0, 0, 0, 1, 0], "t_start": 0.0, "t_end": 1.0,
        "subset": ["train"] * 5 + ["test"]})
    return manifest, annotations


def test_recognition_counts_and_wording_known_answer():
    manifest, splits = _recognition_tables()
    d = D.recognition_description(manifest, splits, "data/InfAR", synthetic=False)
    assert d.n_classes == 3 and d.clips_per_class == (4, 4, 3) and d.n_clips == 11
    assert d.splits == ((0, 6, 5), (1, 8, 3))
    assert d.text() == ("data/InfAR (recognition): 3 classes, 3 to 4 clips per class (11 clips); "
                        "2 splits: split 0 6 train / 5 test, split 1 8 train / 3 test")
    assert d.short() == "data/InfAR: 3 classes, 11 clips, 2 splits"
    # equal counts collapse; synthetic data say so and still carry their counts
    even = splits[splits["split"] == 0]
    s = D.recognition_description(manifest.iloc[:8], even[even["video_id"].isin(manifest["video_id"][:8])],
                                  "SYNTHETIC", synthetic=True)
    assert s.text() == ("SYNTHETIC recognition data (embedded generator, not InfAR): 2 classes, 4 clips per class "
                        "(8 clips); 1 split: 4 train / 4 test clips")
    assert s.sentence() == "Data: " + s.text() + "."


def test_detection_counts_per_subset_known_answer():
    manifest, annotations = _detection_tables()
    d = D.detection_description(manifest, annotations, "fir_nagoya/videos", synthetic=False,
                                subset_names={"train": "validation", "test": "test"})
    # the train role first although the manifest lists test first, under the data's own subset name;
    # a subset no role names comes last
    assert [(s.name, s.videos, s.instances, s.classes) for s in d.subsets] == [
        ("validation (train)", 3, 5, 2), ("test", 2, 1, 1), ("extra", 1, 0, 0)]
    assert d.text() == ("fir_nagoya/videos (detection): validation (train) 3 videos / 5 instances / 2 classes; "
                        "test 2 / 1 / 1; extra 1 / 0 / 0")
    assert d.short() == "fir_nagoya/videos: 6 videos, 6 instances"


def test_dataset_label_is_the_folder_or_synthetic():
    cfg = validate_config({})
    assert D.dataset_label(cfg, "recognition") == "SYNTHETIC"
    cfg = copy.deepcopy(cfg)
    cfg["dataset"]["recognition"].update(source="folder", path="/data/thermal/InfAR/")
    cfg["dataset"]["detection"].update(source="thumos", videos="/data/InfDet/videos", annotations="/data/InfDet/a")
    assert D.dataset_label(cfg, "recognition") == "thermal/InfAR"
    assert D.dataset_label(cfg, "detection") == "InfDet/videos"
    cfg["dataset"]["recognition"].update(source="csv", path="lists/infar.csv")
    assert D.dataset_label(cfg, "recognition") == "lists/infar.csv"
    cfg["dataset"]["recognition"]["path"] = None
    with pytest.raises(BadInputError, match="dataset.recognition: source 'csv' but no path"):
        D.dataset_label(cfg, "recognition")


def _write_data(root, detection=True):
    data = root / "results/data"
    (data / "recognition").mkdir(parents=True)
    manifest, splits = _recognition_tables()
    manifest.to_csv(data / "recognition/manifest.csv", index=False)
    splits.to_csv(data / "recognition/splits.csv", index=False)
    if detection:
        (data / "detection").mkdir()
        m, a = _detection_tables()
        m.to_csv(data / "detection/manifest.csv", index=False)
        a.to_csv(data / "detection/annotations.csv", index=False)
        (data / "detection/subsets.json").write_text('{"train": "validation", "test": "test"}')
    return data


def test_describe_inputs_reads_the_declared_data_files(tmp_path):
    data = _write_data(tmp_path)
    cfg = validate_config({"dataset": {"detection": {"source": "thumos", "videos": "/x/fir_nagoya/videos",
                                                     "annotations": "/x/fir_nagoya/ann"}}})
    assert cfg["dataset"]["detection"]["subsets"]["train"] == "auto"   # the name comes from subsets.json
    inputs = [str(tmp_path / "results/tracking/experiment.json"), str(data / "detection/annotations.csv"),
              str(data / "detection/subsets.json"),
              str(data / "detection/manifest.csv"), str(data / "recognition/classes.txt"),
              str(data / "recognition/manifest.csv"), str(data / "recognition/splits.csv")]
    rec, det = D.describe_inputs(cfg, inputs)
    assert rec.text().startswith("SYNTHETIC recognition data (embedded generator, not InfAR): 3 classes")
    assert det.text() == ("fir_nagoya/videos (detection): validation (train) 3 videos / 5 instances / 2 classes; "
                          "test 2 / 1 / 1; extra 1 / 0 / 0")
    # a job without data files names none; half a dataset's files is an error, not half a count
    assert D.describe_inputs(cfg, inputs[:1]) == []
    assert D.data_note([]) == D.NO_DATA
    with pytest.raises(ValueError, match="missing results/data/recognition/splits.csv"):
        D.describe_inputs(cfg, inputs[:-1])


def test_missing_file_is_a_file_not_found_naming_it_and_a_bad_table_names_its_file(tmp_path):
    cfg = validate_config({})
    man = str(tmp_path / "results/data/recognition/manifest.csv")
    # Snakemake marks a param that reads an input not built yet only for FileNotFoundError(filename=input)
    with pytest.raises(FileNotFoundError) as err:
        D.describe_data(cfg, "recognition", man, str(tmp_path / "results/data/recognition/splits.csv"))
    assert err.value.filename == man
    data = _write_data(tmp_path, detection=False)
    pd.DataFrame({"video_id": ["a"]}).to_csv(data / "recognition/splits.csv", index=False)
    with pytest.raises(BadInputError, match=r"splits.csv: no column\(s\) split, subset"):
        D.describe_data(cfg, "recognition", man, str(data / "recognition/splits.csv"))


def test_rst_escape_keeps_folder_names_literal():
    assert D.rst_escape("my_data_ (*x*)") == r"my\_data\_ (\*x\*)"
    from docutils.core import publish_parts
    html = publish_parts(D.rst_escape("Data: fir_nagoya_/videos_ [*a*] `b`."), writer="html")["body"]
    assert "fir_nagoya_/videos_ [*a*] `b`." in html


CONFIGS = preset_configs()


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_caption_names_the_data_and_no_generic_phrase(name):
    cfg = CONFIGS[name]
    manifest, splits = _recognition_tables()
    rec = D.recognition_description(manifest, splits, "SYNTHETIC", True)
    m, a = _detection_tables()
    det = D.detection_description(m, a, "InfDet/videos", False, {"train": "validation", "test": "test"})
    texts = [captions.caption("Table 1.", captions.handcrafted_deviations(cfg), data=[rec]),
             captions.caption("Table 2.", captions.c3d_deviations(cfg), data=[rec]),
             captions.caption("Table 3.", captions.fusion_deviations(cfg), data=[rec]),
             captions.caption("Tables III-V.", captions.detection_deviations(cfg), data=[det]),
             captions.caption("Recognition mode.", captions.recognition_deviations(cfg), data=[rec])]
    for text, d in zip(texts, [rec, rec, rec, det, rec]):
        assert d.sentence() in text
        assert not [p for p in D.GENERIC_PHRASES if p in text.lower()], text


def test_no_caption_source_keeps_a_generic_phrase():
    """Every place that writes a caption or a report page: none says 'configured ... set' (or the
    like) where the data's name and counts belong."""
    files = (sorted((REPO / "report").glob("*.rst")) + sorted((REPO / "workflow_scripts").glob("*.py"))
             + sorted((REPO / "rules").glob("*.smk"))
             + [p for p in sorted((REPO / "irpipe/report").glob("*.py")) if p.name != "data_description.py"]
             + [REPO / "irpipe/eval/c3d_table.py", REPO / "irpipe/detection/tables.py"])
    found = [(p.name, phrase) for p in files for phrase in D.GENERIC_PHRASES
             if re.search(re.escape(phrase), p.read_text(), re.IGNORECASE)]
    assert not found
    # every report caption that shows a table or figure says the data through params.data
    for rst in ["table", "table3", "figure", "figure4", "figure5", "figure6a", "figure6b", "summary", "timeline"]:
        assert "{{ snakemake.params.data }}" in (REPO / f"report/{rst}.rst").read_text(), rst
