import numpy as np
import pytest
import torch

from irpipe.models.dcl import code_blocks, code_loss, dcl_loss, intra_class_variation, target_codes


def test_p_hot_codes_without_remainder():
    q = target_codes(12, 4)
    assert q.shape == (4, 12)
    # class k (0-based) owns [p k, p (k+1)) = the paper's [p(k-1)+1, pk] in 1-based terms
    for k in range(4):
        assert np.array_equal(np.flatnonzero(q[k]), np.arange(3 * k, 3 * k + 3))
    assert np.array_equal(q.sum(0), np.ones(12))


def test_remainder_goes_to_most_variable_classes():
    # N = 3*4 + 2: the two classes with the highest variation (2 and 0) get 4 coordinates
    blocks = code_blocks(14, 4, variation=np.array([5.0, 1.0, 9.0, 2.0]))
    sizes = blocks[:, 1] - blocks[:, 0]
    assert sizes.tolist() == [4, 3, 4, 3]
    assert blocks[0, 0] == 0 and blocks[-1, 1] == 14
    assert np.all(blocks[1:, 0] == blocks[:-1, 1])  # contiguous, in class order
    q = target_codes(14, 4, variation=np.array([5.0, 1.0, 9.0, 2.0]))
    assert np.array_equal(q.sum(0), np.ones(14)) and q.sum(1).tolist() == [4, 3, 4, 3]
    with pytest.raises(ValueError, match="variation"):
        code_blocks(14, 4)
    with pytest.raises(ValueError, match="at least one neuron"):
        code_blocks(3, 4)


def test_intra_class_variation_known_answer():
    feats = np.array([[0.0, 0.0], [2.0, 0.0], [5.0, 5.0], [5.0, 5.0], [1.0, 1.0]])
    labels = np.array([0, 0, 1, 1, 2])
    v = intra_class_variation(feats, labels, 3)
    # class 0: mean (1,0), squared distances 1 and 1 -> 1; class 1 identical -> 0; class 2 single -> 0
    np.testing.assert_allclose(v, [1.0, 0.0, 0.0])


def test_autograd_matches_closed_forms():
    torch.manual_seed(0)
    n, d, b, alpha = 10, 7, 5, 0.02
    a = torch.randn(n, d, dtype=torch.float64, requires_grad=True)
    x = torch.randn(b, d, dtype=torch.float64, requires_grad=True)
    q_table = torch.as_tensor(target_codes(n, 3, variation=np.array([0.1, 0.3, 0.2])), dtype=torch.float64)
    labels = torch.tensor([0, 2, 1, 1, 0])
    logits = torch.randn(b, 3, dtype=torch.float64, requires_grad=True)
    codes = x @ a.T
    loss, parts = dcl_loss(logits, labels, codes, q_table, alpha)
    loss.backward()
    q = q_table[labels]
    resid = (x @ a.T - q).detach()                       # (B, N): A x - q per sample
    # per sample dL/dA = 2 alpha (A x - q) x^T; the batch loss is the mean over samples
    grad_a = sum(2 * alpha * torch.outer(resid[i], x[i].detach()) for i in range(b)) / b
    torch.testing.assert_close(a.grad, grad_a)
    # dL/dx = dLc/dx (zero here: the logits do not depend on x) + 2 alpha A^T (A x - q)
    grad_x = 2 * alpha * resid @ a.detach() / b
    torch.testing.assert_close(x.grad, grad_x)
    # and the value: Lc + alpha * mean ||q - A x||^2
    lc = torch.nn.functional.cross_entropy(logits, labels)
    torch.testing.assert_close(loss, lc + alpha * (resid ** 2).sum(1).mean())
    assert parts["loss_code"] == pytest.approx(float((resid ** 2).sum(1).mean()))


def test_alpha_zero_is_plain_cross_entropy():
    logits = torch.randn(4, 3)
    labels = torch.tensor([0, 1, 2, 0])
    loss, parts = dcl_loss(logits, labels, torch.randn(4, 6), torch.zeros(3, 6), 0.0)
    torch.testing.assert_close(loss, torch.nn.functional.cross_entropy(logits, labels))
    assert "loss_code" not in parts
    assert float(code_loss(torch.ones(2, 3), torch.zeros(2, 3))) == pytest.approx(3.0)
