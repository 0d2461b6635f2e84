import pytest
import torch

from irpipe.models.c3d import C3D, C3DSpec, count_parameters

PAPER_SHAPES = {
    "conv1": (64, 16, 112, 112), "pool1": (64, 16, 56, 56),
    "conv2": (128, 16, 56, 56), "pool2": (128, 8, 28, 28),
    "conv3a": (256, 8, 28, 28), "conv3b": (256, 8, 28, 28), "pool3": (256, 4, 14, 14),
    "conv4a": (512, 4, 14, 14), "conv4b": (512, 4, 14, 14), "pool4": (512, 2, 7, 7),
    "conv5a": (512, 2, 7, 7), "conv5b": (512, 2, 7, 7), "pool5": (512, 1, 4, 4),
    "fc6": (4096,), "fc7": (4096,), "fc8": (12,),
}


@pytest.fixture(scope="module")
def paper_net():
    torch.manual_seed(0)
    return C3D(C3DSpec(n_classes=12))


def test_paper_parameter_count(paper_net):
    assert count_parameters(paper_net) == 78_044_940
    assert paper_net.fc6.in_features == 8192
    assert count_parameters(C3D(C3DSpec(n_classes=487))) == 79_991_015


def test_paper_layer_shapes(paper_net):
    x = torch.randn(1, 3, 16, 112, 112)
    with torch.no_grad():
        shapes = {name: tuple(out.shape[1:]) for name, out in paper_net.layers(x)}
    assert shapes == PAPER_SHAPES
    assert list(shapes) == list(PAPER_SHAPES)  # and in the paper's order


def test_dc_layer_and_forward_outputs():
    spec = C3DSpec(n_classes=5, width_scale=1 / 16, fc_dim=32, code_dim=23, clip_len=16, crop=32)
    net = C3D(spec).eval()
    assert net.dc.bias is None and tuple(net.dc.weight.shape) == (23, 32)
    out = net(torch.randn(2, 3, 16, 32, 32))
    assert out["logits"].shape == (2, 5) and out["fc7"].shape == (2, 32) and out["codes"].shape == (2, 23)
    # codes are exactly A x with x = fc7
    torch.testing.assert_close(out["codes"], out["fc7"] @ net.dc.weight.T)
    assert count_parameters(net) == count_parameters(C3D(C3DSpec(**{**spec.__dict__, "code_dim": 0}))) + 23 * 32


def test_width_scale_and_resolution():
    spec = C3DSpec(n_classes=12, width_scale=0.125, fc_dim=256, clip_len=16, crop=56)
    assert spec.channels() == [8, 16, 32, 32, 64, 64, 64, 64]
    # 56 -> 28 -> 14 -> 7 -> 3 -> pool5 with padding 1: 2
    assert spec.pool5_shape() == (64, 1, 2, 2)
    net = C3D(spec)
    assert net(torch.randn(1, 3, 16, 56, 56))["logits"].shape == (1, 12)
    with pytest.raises(ValueError, match="too small"):
        C3DSpec(crop=8).pool5_shape()


@pytest.mark.parametrize("channels_last", [False, True])
def test_forward_with_relu_after_pooling_equals_relu_then_pool_bit_for_bit(channels_last):
    """forward() runs ReLU after each pooling; layers() runs it before, as the paper's network
    is written. Outputs and every parameter's gradient must be the same bits, also where
    windows tie (flat regions) or hold only negative values (ReLU zeroes them)."""
    torch.manual_seed(3)
    spec = C3DSpec(n_classes=4, width_scale=1 / 16, fc_dim=16, code_dim=8, clip_len=16, crop=24,
                   dropout=0.0, in_channels=2)
    net = C3D(spec)
    x = torch.randn(3, 2, 16, 24, 24)
    x[:, :, :, :10, :10] = 0.5  # flat: equal conv outputs inside, ties in the pooling windows
    x[1] = -x[1].abs()          # mostly negative pre-activations
    if channels_last:
        net = net.to(memory_format=torch.channels_last_3d)
        x = x.contiguous(memory_format=torch.channels_last_3d)

    def loss_and_grads(outputs):
        loss = outputs["logits"].square().sum() + outputs["codes"].square().sum()
        net.zero_grad()
        loss.backward()
        return outputs, {n: p.grad.clone() for n, p in net.named_parameters()}

    fast, g_fast = loss_and_grads(net(x))
    ref = dict(net.layers(x))
    slow, g_slow = loss_and_grads({"logits": ref["fc8"], "codes": ref["dc"]})
    assert torch.equal(fast["logits"], slow["logits"]) and torch.equal(fast["codes"], slow["codes"])
    assert all(torch.equal(g_fast[n], g_slow[n]) for n in g_fast)
    assert all(g.abs().sum() > 0 for g in g_fast.values() if g.dim() > 1)  # gradients reach every layer
