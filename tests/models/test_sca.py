import pytest
import torch

from irpipe.models.sca import CrossAttention, SelectiveCrossAttention, SelfAttention


def test_sca_gamma_zero_returns_input_mix_exactly():
    torch.manual_seed(0)
    m = SelectiveCrossAttention(16, expand=(1, 2)).eval()
    xi, xf = torch.randn(2, 16, 7), torch.randn(2, 16, 7)
    mask = torch.ones(2, 7)
    assert m.cross.gamma.item() == 0.0
    x1, x2 = m.mix(xi, xf, mask)
    y = m(xi, xf, mask)
    assert torch.equal(y, x1)
    w = m.last_w[:, None, None]
    assert torch.allclose(x1, w * xi + (1 - w) * xf)
    assert torch.allclose(x2, w * xf + (1 - w) * xi)
    assert ((m.last_w > 0) & (m.last_w < 1)).all()


def test_attention_shapes_softmax_over_time_and_mask():
    torch.manual_seed(0)
    ca = CrossAttention(16)
    assert ca.query.out_channels == 2 and ca.key.out_channels == 2 and ca.value.out_channels == 16
    with torch.no_grad():
        ca.gamma.fill_(1.0)
    x1, x2 = torch.randn(1, 16, 6), torch.randn(1, 16, 6)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0]])
    y = ca(x1, x2, mask)
    att = ca.last_attention
    assert torch.allclose(att.sum(-1), torch.ones(1, 6))
    assert torch.all(att[..., 4:] == 0)  # padding never attended
    # changing padded snippets of the second stream does not change real outputs
    x2b = x2.clone()
    x2b[..., 4:] += 100
    assert torch.allclose(ca(x1, x2b, mask)[..., :4], y[..., :4])


def test_self_attention_gamma_zero_identity():
    sa = SelfAttention(16)
    x = torch.randn(1, 16, 5)
    assert torch.equal(sa(x, torch.ones(1, 5)), x)


pytestmark = pytest.mark.usefixtures("one_torch_thread")
