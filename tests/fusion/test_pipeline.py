"""The fusion stage on synthetic inputs written in the contract's formats."""
import h5py
import numpy as np
import pandas as pd
import pytest

from irpipe.errors import BadInput, BadInputError
from irpipe.fusion import pipeline
from irpipe.fusion.inputs import read_predictions
from tests.fusion import fakes

CFG = {
    "lf1": {"weights": {"ir": 1, "flow": 2}},
    "lf2": {"k": 5, "gamma": 0.05, "weights": {"ir": 1, "flow": 2}},
    "nn": {"epochs": 30, "lr": 1e-2, "weight_decay": 5e-4, "batch_size": None, "filters": 50, "threads": 1,
           "two_layer": "stacked"},
    "concepts": {"method": "early_concepts", "normalise": "l1"},
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("fusion")
    fakes.write_all(root, n_splits=1, alphas=())
    return root


def _paths(root, split=0):
    return (str(root / f"results/c3d/ir_dcl/split{split}/predictions.h5"),
            str(root / f"results/c3d/flow_dcl/split{split}/predictions.h5"),
            str(root / f"results/handcrafted/split{split}/posteriors.h5"),
            str(root / "results/data/recognition/splits.csv"))


def test_run_split_scores_every_method(tree, tmp_path):
    ir, flow, post, splits = _paths(tree)
    fused = pipeline.run_split(ir, flow, post, splits, 0, fakes.CLASSES, CFG, seed=0)
    assert set(fused.scores) == set(pipeline.TABLE3_METHODS) | set(pipeline.STREAM_METHODS)
    n_test = 4 * len(fakes.CLASSES)
    for m, s in fused.scores.items():
        assert s.shape == (n_test, len(fakes.CLASSES)), m
        assert np.all(np.isfinite(s))
    # LF1 is recomputable from the inputs: 1/3 IR + 2/3 flow softmax in the fused video order.
    p_ir = read_predictions(ir).reorder(fused.video_id)
    p_fl = read_predictions(flow).reorder(fused.video_id)
    np.testing.assert_allclose(fused.scores["lf1"], (p_ir.softmax + 2 * p_fl.softmax) / 3, rtol=1e-6)
    np.testing.assert_allclose(fused.scores["lf2"], (fused.scores["ir_lf2"] + 2 * fused.scores["flow_lf2"]) / 3)
    # Separable synthetic codes: LF2 is far above chance (0.25).
    m = fused.metrics()
    assert m["lf2"]["accuracy"] > 0.7
    h5p, jp = tmp_path / "scores.h5", tmp_path / "metrics.json"
    pipeline.write_scores(fused, h5p, jp, {"split": 0})
    back = pipeline.read_scores(h5p)
    assert list(back.video_id) == list(fused.video_id)
    np.testing.assert_allclose(back.scores["lf2"], fused.scores["lf2"], rtol=1e-6)


def test_missing_video_is_error_or_recorded_skip(tree, tmp_path):
    ir, flow, post, splits_csv = _paths(tree)
    splits = pd.read_csv(splits_csv)
    gone = splits[(splits.split == 0) & (splits.subset == "test")].video_id.iloc[0]
    ir2, flow2 = tmp_path / "ir.h5", tmp_path / "flow.h5"
    fakes.write_predictions(ir2, splits, 0, 1.0, 10, drop=[gone])
    fakes.write_predictions(flow2, splits, 0, 1.5, 20, drop=[gone])
    with pytest.raises(BadInputError, match=f"no prediction for video {gone}"):
        pipeline.run_split(str(ir2), str(flow2), post, splits_csv, 0, fakes.CLASSES, CFG, seed=0)
    sink: list[BadInput] = []
    fused = pipeline.run_split(str(ir2), str(flow2), post, splits_csv, 0, fakes.CLASSES, CFG, seed=0,
                               policy="skip", bad_inputs=sink)
    assert gone not in set(fused.video_id)
    assert len(sink) == 2 and all(gone in b.reason for b in sink)  # recorded once per stream


def test_streams_disagreeing_is_an_error(tree, tmp_path):
    ir, flow, post, splits_csv = _paths(tree)
    bad = tmp_path / "flow.h5"
    splits = pd.read_csv(splits_csv)
    fakes.write_predictions(bad, splits, 0, 1.5, 20)
    with h5py.File(bad, "a") as h5:
        lab = h5["label_index"][()]
        lab[0] = (lab[0] + 1) % 4
        del h5["label_index"]
        h5["label_index"] = lab
    with pytest.raises(BadInputError, match="labels disagree"):
        pipeline.run_split(ir, str(bad), post, splits_csv, 0, fakes.CLASSES, CFG, seed=0)


def test_nan_codes_and_missing_dataset_are_named(tree, tmp_path):
    _, _, _, splits_csv = _paths(tree)
    splits = pd.read_csv(splits_csv)
    p = tmp_path / "nan.h5"
    fakes.write_predictions(p, splits, 0, 1.0, 1)
    with h5py.File(p, "a") as h5:
        c = h5["codes"][()]
        c[3, 2] = np.nan
        del h5["codes"]
        h5["codes"] = c
    with pytest.raises(BadInputError, match=r"nan.h5: 'codes' holds NaN"):
        read_predictions(p, 4)
    with h5py.File(p, "a") as h5:
        del h5["softmax"]
    with pytest.raises(BadInputError, match=r"missing datasets \['softmax'\]"):
        read_predictions(p, 4)
    with pytest.raises(BadInputError, match="does not exist"):
        read_predictions(tmp_path / "absent.h5")


def test_knn_vote_known_answer_and_tie_break():
    from irpipe.fusion.sweeps import knn_vote_predict, knn_vote_scores

    train = np.array([[0.0], [1.0], [2.5], [3.0], [10.0]])
    labels = np.array([0, 0, 1, 1, 1])
    test = np.array([[0.2], [2.0], [1.75]])
    # k=3: test 0 neighbours 0.2->{0:0,1:0,2.5:1} votes c0=2 -> 0; test 1 -> {2.5,3,1} c1=2 -> 1;
    # k=2 at 1.75: neighbours 1.0 (d .75, c0) and 2.5 (d .75, c1): tie -> equal summed distance -> class 0.
    assert knn_vote_predict(test, train, labels, 2, 3).tolist() == [0, 1, 1]
    assert knn_vote_predict(test[2:], train, labels, 2, 2).tolist() == [0]
    test2 = np.array([[1.8]])  # 1.0 at .8 (c0), 2.5 at .7 (c1): tie in votes, c1 nearer
    assert knn_vote_predict(test2, train, labels, 2, 2).tolist() == [1]
    s = knn_vote_scores(test, train, labels, 2, 3)
    np.testing.assert_allclose(s[0], [2 / 3 + 1e-6, 1 / 3])
    assert s.argmax(1).tolist() == [0, 1, 1]
