import math

import pytest
import torch

from irpipe.models.detector import FUSIONS, SnippetDetector
from irpipe.models.tgm import TGMHead, TGMLayer, cauchy_kernels, masked_bce


def test_cauchy_kernels_known_shape_and_normalised():
    k = cauchy_kernels(torch.tensor([0.0]), torch.tensor([0.0]), 5, 5)[0]
    # centre (5-1)*(0+1)/2 = 2, width exp(1.5)
    g = math.exp(1.5)
    ref = torch.tensor([1 / (math.pi * g * (1 + ((t - 2) / g) ** 2)) for t in range(5)])
    assert torch.allclose(k, ref / ref.sum())
    assert torch.allclose(k, k.flip(0))


def test_tgm_mixed_kernels_normalised():
    torch.manual_seed(0)
    layer = TGMLayer(16, 5, c_in=8, c_out=8)
    with torch.no_grad():
        layer.attention.normal_(0, 3)
        layer.center.normal_(0, 2)
        layer.width.normal_(0, 2)
    k = layer.kernels()
    assert k.shape == (64, 5)
    assert torch.allclose(k.sum(1), torch.ones(64), atol=1e-6)
    assert (k >= 0).all()


def test_tgm_layer_is_temporal_smoothing_of_constant():
    layer = TGMLayer(4, 5, c_in=1, c_out=3)
    x = torch.full((2, 6, 20), 3.0)
    y = layer(x)
    assert y.shape == (2, 3, 6, 20)
    # away from the borders a normalised kernel maps a constant to itself
    assert torch.allclose(y[..., 2:-2], torch.full_like(y[..., 2:-2], 3.0), atol=1e-5)


def test_head_output_and_padding_invariance():
    torch.manual_seed(0)
    head = TGMHead(12, 3, hidden=16).eval()
    x = torch.randn(1, 12, 9)
    out = head(x, torch.tensor([9]))
    assert out.shape == (1, 3, 9)
    # padding the sequence with zeros (and stating the real length) leaves real outputs unchanged
    xp = torch.cat([x, torch.zeros(1, 12, 4)], -1)
    outp = head(xp, torch.tensor([9]))
    assert torch.allclose(outp[..., :9], out[..., :9], atol=1e-5)


def test_masked_bce_ignores_padding():
    logits = torch.tensor([[[0.0, 5.0, -100.0]]])
    tgt = torch.tensor([[[1.0, 1.0, 1.0]]])
    m = torch.tensor([[1, 1, 0]])
    ref = (math.log(2) + math.log1p(math.exp(-5))) / 2
    for reduction in ("sum_classes", "mean"):  # one class: the two agree
        assert abs(masked_bce(logits, tgt, m, reduction).item() - ref) < 1e-6


def test_all_fusions_forward_and_train_step():
    torch.manual_seed(0)
    for f in FUSIONS:
        m = SnippetDetector(f, 8, 3, head={"hidden": 8}, sca={"expand": [1, 1]})
        xi, xf = torch.randn(2, 8, 6), torch.randn(2, 8, 6)
        mask = torch.ones(2, 6)
        mask[1, 4:] = 0
        out = m(xi, xf, mask)
        assert out.shape == (2, 3, 6)
        loss = masked_bce(out, (torch.rand(2, 3, 6) > 0.5).float(), mask, "sum_classes")
        loss.backward()
        assert torch.isfinite(loss)


def test_fast_tgm_equals_grouped_convolution_reference():
    torch.manual_seed(1)
    for cin, cout in [(1, 8), (8, 8), (3, 2)]:
        layer = TGMLayer(16, 5, c_in=cin, c_out=cout)
        with torch.no_grad():
            layer.attention.normal_(0, 2)
        x = torch.randn(2, cin, 7, 11)
        assert torch.allclose(layer(x), layer.reference_forward(x), atol=1e-5)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_masked_bce_reductions_known_answer():
    # two classes, three snippets, last one padding: per-element BCE of logit 0 is log 2,
    # of logit 5 with target 1 is log(1 + e^-5)
    logits = torch.tensor([[[0.0, 5.0, 9.0], [0.0, 0.0, -9.0]]])
    tgt = torch.tensor([[[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]])
    m = torch.tensor([[1, 1, 0]])
    total = 3 * math.log(2) + math.log1p(math.exp(-5))
    # seed 001 eq. 12: summed over the classes, averaged over the 2 real snippets
    assert masked_bce(logits, tgt, m, "sum_classes").item() == pytest.approx(total / 2, rel=1e-6)
    assert masked_bce(logits, tgt, m, "mean").item() == pytest.approx(total / 4, rel=1e-6)


def test_mean_bce_with_weight_w_equals_class_sum_with_weight_c_times_w():
    torch.manual_seed(0)
    logits, tgt = torch.randn(2, 3, 7), (torch.rand(2, 3, 7) > 0.5).float()
    mask = torch.ones(2, 7)
    mask[0, 5:] = 0
    l1 = torch.tensor(0.37)
    w, c = 0.7, logits.shape[1]
    mean_form = masked_bce(logits, tgt, mask, "mean") + w * l1
    sum_form = masked_bce(logits, tgt, mask, "sum_classes") + c * w * l1
    # the 'mean' loss is the paper's loss with the L1 weighted 3 x 0.7 = 2.1, scaled by 1/C
    assert (c * mean_form).item() == pytest.approx(sum_form.item(), rel=1e-6)
    with pytest.raises(ValueError, match="reduction"):
        masked_bce(logits, tgt, mask, "sum")
