"""Known-answer tests for late fusion 1 and 2 (distances, kernel, normalisation, weights)."""
import math

import numpy as np
import pytest

from irpipe.fusion import late

# Two classes in 2-D. From the test code (0, 0):
#   class 0 training codes (3, 4), (0, 1), (0, 2) are at distances 5, 1, 2;
#   class 1 training codes (6, 8), (0, 4) are at distances 10, 4.
TRAIN = np.array([[3, 4], [0, 1], [0, 2], [6, 8], [0, 4]], dtype=float)
LABELS = np.array([0, 0, 0, 1, 1])
TEST = np.array([[0.0, 0.0]])


def test_weighted_average_known_answer():
    a = np.array([[1.0, 0.0], [0.5, 0.5]])
    b = np.array([[0.0, 1.0], [0.1, 0.9]])
    out = late.weighted_average([a, b], [2, 1])
    np.testing.assert_allclose(out, [[2 / 3, 1 / 3], [(1.0 + 0.1) / 3, (1.0 + 0.9) / 3]])


def test_late_fusion_1_weights_flow_two_to_one():
    ir = np.array([[0.9, 0.1]])
    flow = np.array([[0.2, 0.8]])
    out = late.late_fusion_1({"ir": ir, "flow": flow}, {"ir": 1, "flow": 2})
    np.testing.assert_allclose(out, [[(0.9 + 2 * 0.2) / 3, (0.1 + 2 * 0.8) / 3]])
    # Swapping the weights changes the decision: the weights are really applied per stream.
    assert out.argmax() == 1
    assert late.late_fusion_1({"ir": ir, "flow": flow}, {"ir": 2, "flow": 1}).argmax() == 0


def test_weighted_average_rejects_bad_input():
    with pytest.raises(ValueError):
        late.weighted_average([np.ones((2, 3)), np.ones((2, 2))], [1, 1])
    with pytest.raises(ValueError):
        late.weighted_average([np.ones((2, 3))], [-1])


def test_class_knn_distances_hand_computed():
    d = late.class_knn_distances(TEST, TRAIN, LABELS, n_classes=2, k=2)
    np.testing.assert_allclose(d, [[(1 + 2) / 2, (4 + 10) / 2]])
    d1 = late.class_knn_distances(TEST, TRAIN, LABELS, n_classes=2, k=1)
    np.testing.assert_allclose(d1, [[1.0, 4.0]])
    # k larger than a class: that class uses all of its codes.
    d3 = late.class_knn_distances(TEST, TRAIN, LABELS, n_classes=2, k=3)
    np.testing.assert_allclose(d3, [[(5 + 1 + 2) / 3, (10 + 4) / 2]])


def test_kernel_and_l1_normalisation_hand_computed():
    s0, s1 = math.exp(-0.05 * 1.5 ** 2), math.exp(-0.05 * 7.0 ** 2)
    np.testing.assert_allclose(late.gaussian_similarity(np.array([[1.5, 7.0]]), 0.05), [[s0, s1]])
    scores = late.knn_class_scores(TEST, TRAIN, LABELS, n_classes=2, k=2, gamma=0.05)
    np.testing.assert_allclose(scores, [[s0 / (s0 + s1), s1 / (s0 + s1)]], rtol=1e-12)
    np.testing.assert_allclose(scores.sum(1), 1.0)
    assert scores[0, 0] == pytest.approx(0.911936, abs=1e-6)


def test_late_fusion_2_weighted_across_streams():
    # A flow stream with the same labels but geometry favouring class 1.
    flow_train = np.array([[6, 8], [0, 4], [9, 12], [0, 1], [0, 2]], dtype=float)  # c0: 10,4,15  c1: 1,2
    fused = late.late_fusion_2({"ir": TEST, "flow": TEST}, {"ir": TRAIN, "flow": flow_train}, LABELS, 2,
                               {"ir": 1, "flow": 2}, k=2, gamma=0.05)
    p_ir = np.array([math.exp(-0.05 * 1.5 ** 2), math.exp(-0.05 * 49)])
    p_ir /= p_ir.sum()
    p_fl = np.array([math.exp(-0.05 * 7.0 ** 2), math.exp(-0.05 * 1.5 ** 2)])
    p_fl /= p_fl.sum()
    np.testing.assert_allclose(fused, [(p_ir + 2 * p_fl) / 3], rtol=1e-12)


def test_normalised_similarity_stable_when_exp_underflows():
    d = np.array([[1000.0, 1001.0]])
    with np.errstate(all="ignore"):
        naive = late.gaussian_similarity(d, 0.05)
        assert naive.sum() == 0.0  # the plain formula would give 0/0 here
    p = late.normalised_similarity(d, 0.05)
    assert np.all(np.isfinite(p))
    gap = 0.05 * (1001.0 ** 2 - 1000.0 ** 2)
    np.testing.assert_allclose(p, [[1 / (1 + math.exp(-gap)), math.exp(-gap) / (1 + math.exp(-gap))]])


def test_class_without_training_codes_is_an_error():
    with pytest.raises(ValueError, match="class 2 has no training codes"):
        late.class_knn_distances(TEST, TRAIN, LABELS, n_classes=3, k=1)


def test_average_class_scores_and_l1():
    out = late.average_class_scores([np.array([[2.0, 2.0]]), np.array([[0.0, 1.0]])])
    np.testing.assert_allclose(out, [[0.25, 0.75]])
    np.testing.assert_allclose(late.l1_normalise(np.zeros((1, 4))), [[0.25] * 4])
    with pytest.raises(ValueError):
        late.l1_normalise(np.array([[-1.0, 2.0]]))
