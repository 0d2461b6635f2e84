"""Per-class accuracy and confusion matrices come from scikit-learn; they equal the earlier
hand-written definitions (kept below as the reference) on fixed and random inputs."""
import warnings

import numpy as np
import pytest

from irpipe.eval.classification import classification_metrics, confusion_matrix, mean_class_accuracy


def reference_mean_class_accuracy(y_true, y_pred, n_classes):
    classes = [c for c in range(n_classes) if np.any(y_true == c)]
    return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in classes]))


def reference_confusion(y_true, y_pred, n_classes):
    cm = np.zeros((n_classes, n_classes))
    np.add.at(cm, (y_true, y_pred), 1)
    rows = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)


def test_known_answers():
    y = np.array([0, 0, 0, 1, 1, 2])
    p = np.array([0, 0, 1, 1, 2, 2])
    assert mean_class_accuracy(y, p, 3) == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    # class 3 is predicted but never true: it does not count (and raises no warning)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        assert mean_class_accuracy(np.array([0, 1]), np.array([3, 1]), 4) == 0.5
    assert rec == []
    cm = confusion_matrix(y, p, 4)
    np.testing.assert_array_equal(cm, [[2 / 3, 1 / 3, 0, 0], [0, .5, .5, 0], [0, 0, 1, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(confusion_matrix(y, p, 3, normalise=False), [[2, 1, 0], [0, 1, 1], [0, 0, 1]])


@pytest.mark.parametrize("seed", range(20))
def test_equal_to_the_hand_written_definitions(seed):
    rng = np.random.default_rng(seed)
    n_classes = int(rng.integers(2, 13))
    n = int(rng.integers(1, 200))
    y = rng.integers(0, n_classes, n)
    scores = rng.random((n, n_classes))
    p = scores.argmax(1)
    # bit-identical, not only close: the tables' rounded figures cannot move
    assert mean_class_accuracy(y, p, n_classes) == reference_mean_class_accuracy(y, p, n_classes)
    assert classification_metrics(y, scores)["accuracy"] == reference_mean_class_accuracy(y, p, n_classes)
    np.testing.assert_array_equal(confusion_matrix(y, p, n_classes), reference_confusion(y, p, n_classes))


def test_label_outside_the_classes_is_an_error():
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        mean_class_accuracy(np.array([0, 2]), np.array([0, 1]), 2)
