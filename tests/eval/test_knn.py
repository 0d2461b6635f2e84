import numpy as np

from irpipe.eval.knn import knn_scores, pairwise_sq_dists
from irpipe.eval.predictions import read_predictions, write_predictions


def test_knn_known_answer():
    train = np.array([[0.0, 0], [0.1, 0], [0, 0.2], [5, 5], [5.1, 5], [9, 9]])
    labels = np.array([0, 0, 0, 1, 1, 2])
    test = np.array([[0.05, 0.05], [5, 5.05], [8.5, 8.5]])
    s = knn_scores(train, labels, test, k=3, n_classes=3)
    assert s.argmax(1).tolist() == [0, 1, 1]   # the third: neighbours 2, 1, 1
    np.testing.assert_allclose(s.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.round(s[0], 4), [1.0, 0, 0])
    # k=1: plain nearest neighbour
    assert knn_scores(train, labels, test, k=1, n_classes=3).argmax(1).tolist() == [0, 1, 2]
    # a tie of votes goes to the class of the nearer voters
    tie = knn_scores(np.array([[0.0], [3.0]]), np.array([1, 0]), np.array([[1.0]]), k=2, n_classes=2)
    assert tie.argmax(1).tolist() == [1]


def test_pairwise_sq_dists_matches_brute_force():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    brute = ((a[:, None] - b[None]) ** 2).sum(-1)
    np.testing.assert_allclose(pairwise_sq_dists(a, b), brute, atol=1e-10)


def test_predictions_round_trip(tmp_path):
    p = tmp_path / "p.h5"
    write_predictions(p, ["v1", "vidé2"], [3, 1], ["train", "test"], np.eye(2, 4), np.ones((2, 6)),
                      {"alpha": 0.02, "pretrained": "none: random initialisation"}, n_clips=[2, 1])
    r = read_predictions(p)
    assert r["video_id"].tolist() == ["v1", "vidé2"] and r["subset"].tolist() == ["train", "test"]
    assert r["softmax"].dtype == np.float32 and r["codes"].shape == (2, 6)
    assert r["attrs"]["alpha"] == 0.02 and r["n_clips"].tolist() == [2, 1]
    import pytest
    with pytest.raises(ValueError, match="non-finite"):
        write_predictions(tmp_path / "q.h5", ["a"], [0], ["test"], np.array([[np.nan]]), np.ones((1, 1)), {})
    assert not (tmp_path / "q.h5").exists()
