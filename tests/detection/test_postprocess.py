import numpy as np
import pandas as pd
import pytest

from irpipe.detection.data import class_mean_durations, merge_overlaps, snippet_targets, validate_videos
from irpipe.detection.postprocess import calibrate_thresholds, detect, runs
from irpipe.errors import BadInputError
from irpipe.eval.detection import evaluate


def test_runs():
    assert runs(np.array([0, 1, 1, 0, 1, 0, 0, 1])) == [(1, 3), (4, 5), (7, 8)]
    assert runs(np.zeros(4)) == []


def test_detect_groups_thresholds_and_min_duration():
    # 8 fps, 8-frame snippets = 1 s each; 10 snippets
    s = np.zeros((2, 10))
    s[0, 1:4] = [0.6, 0.8, 0.7]     # 3 s run
    s[0, 6] = 0.9                   # 1 s run
    s[1, 5:7] = 0.55                # 2 s run, below class-b threshold 0.6
    det = detect(s, 80, 8.0, ["a", "b"], {"a": 0.5, "b": 0.6}, {"a": 3.0, "b": 1.0}, "v")
    # class a: mean training duration 3 s -> runs shorter than 1.5 s dropped
    assert det[["label", "t_start", "t_end"]].values.tolist() == [["a", 1.0, 4.0]]
    assert det["score"].item() == pytest.approx(0.7)
    # last snippet shorter than 8 frames ends at the video's end
    s2 = np.zeros((1, 3)); s2[0, 2] = 1
    d2 = detect(s2, 20, 8.0, ["a"], {"a": 0.5}, {"a": 0.0}, "v")
    assert d2[["t_start", "t_end"]].values.tolist() == [[2.0, 2.5]]


def test_calibrated_thresholds_separate_training_instances_from_background():
    # two training videos of 10 one-second snippets; class a: instance scores 0.3 over
    # background 0.1; class b: instance scores 0.7 over background 0.45
    classes = ["a", "b"]
    gt = pd.DataFrame({"video_id": ["v1", "v2", "v1"], "label": ["a", "a", "b"],
                       "t_start": [2.0, 5.0, 6.0], "t_end": [5.0, 8.0, 9.0]})
    s1 = np.array([[0.1] * 10, [0.45] * 10]); s1[0, 2:5] = 0.3; s1[1, 6:9] = 0.7
    s2 = np.array([[0.1] * 10, [0.45] * 10]); s2[0, 5:8] = 0.3
    scores, videos = {"v1": s1, "v2": s2}, {"v1": (80, 8.0), "v2": (80, 8.0)}

    def class_ap(det):
        return evaluate(gt, det, classes, [0.3, 0.5]).ap.mean(axis=0)

    thr = calibrate_thresholds(scores, videos, classes, {"a": 3.0, "b": 3.0}, class_ap)
    # every grid value in [0.1, 0.3) isolates class a's instances exactly; ties go to the higher
    assert thr == {"a": pytest.approx(0.28), "b": pytest.approx(0.68)}
    # and those thresholds recover every training instance
    det = pd.concat([detect(scores[v], 80, 8.0, classes, thr, {}, v) for v in videos])
    assert sorted(map(tuple, det[["video_id", "label", "t_start", "t_end"]].values.tolist())) == \
        [("v1", "a", 2.0, 5.0), ("v1", "b", 6.0, 9.0), ("v2", "a", 5.0, 8.0)]
    with pytest.raises(ValueError, match="training videos"):
        calibrate_thresholds({}, {}, classes, {}, class_ap)


def test_snippet_targets_and_overlap_merge():
    ann = pd.DataFrame({"label_index": [0, 0, 1], "t_start": [1.0, 2.5, 5.2], "t_end": [3.0, 4.0, 5.4]})
    y = snippet_targets(ann, 80, 8.0, 2)
    assert y[0].tolist() == [0, 1, 1, 1, 0, 0, 0, 0, 0, 0]  # merged [1, 4]
    assert y[1].tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]  # short instance keeps its centre snippet
    assert merge_overlaps(np.array([[3, 4], [1, 2], [1.5, 3.5]])).tolist() == [[1, 4]]


def _manifest(n_frames=80):
    return pd.DataFrame({"video_id": ["v"], "path": ["/x/v.avi"], "subset": ["train"], "fps": [8.0],
                         "n_frames": [n_frames]})


def test_annotation_outside_duration_is_error_or_recorded_skip():
    ann = pd.DataFrame({"video_id": ["v", "v"], "label": ["a", "a"], "t_start": [1.0, 9.0],
                        "t_end": [2.0, 12.0], "subset": ["train", "train"]})
    with pytest.raises(BadInputError, match="outside video 'v'"):
        validate_videos(_manifest(), ann, ["a"], "error", [])
    bad = []
    items = validate_videos(_manifest(), ann, ["a"], "skip", bad)
    assert len(items["v"].instances) == 1 and len(bad) == 1


def test_video_shorter_than_one_snippet():
    ann = pd.DataFrame(columns=["video_id", "label", "t_start", "t_end", "subset"])
    with pytest.raises(BadInputError, match="fewer than one 8-frame snippet"):
        validate_videos(_manifest(5), ann, ["a"], "error", [])
    bad = []
    assert validate_videos(_manifest(5), ann, ["a"], "skip", bad) == {}
    assert bad[0].item == "/x/v.avi"


def test_overlapping_instances_kept_and_merged_in_targets(caplog):
    ann = pd.DataFrame({"video_id": ["v", "v"], "label": ["a", "a"], "t_start": [1.0, 2.0],
                        "t_end": [3.0, 4.0], "subset": ["train", "train"]})
    items = validate_videos(_manifest(), ann, ["a"], "error", [])
    assert len(items["v"].instances) == 2
    assert "overlapping" in caplog.text


def test_class_mean_durations_from_training_only():
    ann = pd.DataFrame({"label": ["a", "a", "a", "b"], "t_start": [0, 0, 0, 0], "t_end": [1.0, 3.0, 10.0, 2.0],
                        "subset": ["train", "train", "test", "test"]})
    d = class_mean_durations(ann, ["a", "b"])
    assert d == {"a": 2.0, "b": 0.0}
