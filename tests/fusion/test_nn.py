"""NN fusion: near-perfect on a separable problem, chance on noise, deterministic with a seed."""
import numpy as np
import pytest
import torch

from irpipe.fusion import nn

C, D = 4, 12


def _separable(n_per_class, rng):
    means = rng.normal(0, 3, size=(2, C, D))
    y = np.repeat(np.arange(C), n_per_class)
    x = means[:, y].transpose(1, 0, 2) + rng.normal(0, 0.5, size=(len(y), 2, D))
    return x.astype(np.float32), y


@pytest.mark.parametrize("kind", nn.KINDS)
def test_separable_problem_is_learnt(kind):
    rng = np.random.default_rng(0)
    means_rng = np.random.default_rng(1)
    xtr, ytr = _separable(15, means_rng)
    means_rng = np.random.default_rng(1)
    xte, yte = _separable(15, means_rng)  # same class means, fresh noise below
    xte = xte + rng.normal(0, 0.3, size=xte.shape).astype(np.float32)
    net = nn.train_fusion_net(kind, xtr, ytr, C, epochs=60, lr=2e-2, seed=0, threads=1)
    acc = (net.predict_proba(xte).argmax(1) == yte).mean()
    assert acc >= 0.95
    assert net.losses[-1] < net.losses[0]


@pytest.mark.parametrize("kind", nn.KINDS)
def test_noise_gives_chance(kind):
    rng = np.random.default_rng(2)
    xtr = rng.normal(size=(200, 2, D)).astype(np.float32)
    ytr = rng.integers(0, C, 200)
    xte = rng.normal(size=(2000, 2, D)).astype(np.float32)
    yte = rng.integers(0, C, 2000)
    net = nn.train_fusion_net(kind, xtr, ytr, C, epochs=60, lr=2e-2, seed=0, threads=1)
    train_acc = (net.predict_proba(xtr).argmax(1) == ytr).mean()
    test_acc = (net.predict_proba(xte).argmax(1) == yte).mean()
    assert abs(test_acc - 1 / C) < 0.06
    assert train_acc > test_acc + 0.1  # it did fit the training noise: chance is not from not training


def test_two_layer_shape_and_seeded_determinism():
    m = nn.build_model("two_layer", D, C, filters=50)
    conv = m[0]
    assert tuple(conv.weight.shape) == (50, 2, 1)
    assert m[3].in_features == 50 * D
    rng = np.random.default_rng(3)
    x = rng.normal(size=(30, 2, D)).astype(np.float32)
    y = rng.integers(0, C, 30)
    a = nn.train_fusion_net("two_layer", x, y, C, epochs=5, seed=7, threads=1).predict_proba(x)
    b = nn.train_fusion_net("two_layer", x, y, C, epochs=5, seed=7, threads=1).predict_proba(x)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a.sum(1), 1.0, rtol=1e-6)


def test_stack_codes_requires_equal_shapes():
    with pytest.raises(ValueError, match="same shape"):
        nn.stack_codes({"ir": np.zeros((3, 4)), "flow": np.zeros((3, 5))})


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_training_matches_task():
    xtr, ytr = _separable(15, np.random.default_rng(1))
    net = nn.train_fusion_net("two_layer", xtr, ytr, C, epochs=60, lr=2e-2, seed=0, device="cuda")
    assert net.device == "cuda"
    assert (net.predict_proba(xtr).argmax(1) == ytr).mean() >= 0.95


def test_two_layer_hidden_reading_is_a_50_unit_hidden_layer_on_the_concatenation():
    import torch

    m = nn.build_model("two_layer", D, C, filters=50, reading="hidden")
    conv = m[2]
    assert tuple(conv.weight.shape) == (50, 2 * D, 1) and m[5].in_features == 50
    x = torch.randn(4, 2, D)
    # the same as Linear(2D, 50) on [code_ir, code_flow], ReLU, Linear(50, C)
    cat = torch.cat([x[:, 0], x[:, 1]], 1)
    ref = torch.relu(cat @ conv.weight[:, :, 0].T + conv.bias) @ m[5].weight.T + m[5].bias
    assert torch.allclose(m(x), ref, atol=1e-5)
    with pytest.raises(ValueError, match="reading"):
        nn.build_model("two_layer", D, C, reading="deep")
