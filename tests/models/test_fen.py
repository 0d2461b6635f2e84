import pytest
import torch

from irpipe.models.fen import FlowEstimationNet, count_flops, count_parameters, fen_input


def test_parameter_count_matches_public_module():
    assert count_parameters(FlowEstimationNet(6, 2)) == 3_345_058


def test_output_shape_and_range_for_6x56x56():
    torch.manual_seed(0)
    out = FlowEstimationNet(6, 2)(torch.randn(3, 6, 56, 56))
    assert out.shape == (3, 2, 56, 56)
    assert out.abs().max() <= 1.0


def test_odd_sizes_padded_and_cropped():
    out = FlowEstimationNet(6, 2, width=0.25)(torch.randn(1, 6, 16, 20))
    assert out.shape == (1, 2, 16, 20)


def test_fen_input_pairs():
    frames = torch.arange(4, dtype=torch.float32)[:, None, None, None].expand(4, 3, 8, 8)
    x = fen_input(frames, 4)
    assert x.shape == (3, 6, 2, 2)
    assert torch.equal(x[:, 0, 0, 0], torch.tensor([0.0, 1, 2]))
    assert torch.equal(x[:, 3, 0, 0], torch.tensor([1.0, 2, 3]))


def test_flop_counter_known_answer():
    conv = torch.nn.Conv2d(2, 4, 3, padding=1, bias=False)
    # 4 out channels * 8*8 positions * (2*3*3) MACs
    assert count_flops(conv, torch.zeros(1, 2, 8, 8))["macs"] == 4 * 64 * 18
    deconv = torch.nn.ConvTranspose2d(2, 4, 4, 2, 1)
    # each of the 2*5*5 input elements meets 4*4*4 weights
    assert count_flops(deconv, torch.zeros(1, 2, 5, 5))["macs"] == 50 * 64


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_flow_l1_reductions_known_answer():
    import pytest

    from irpipe.models.fen import flow_l1

    est = torch.zeros(16, 2, 3, 4)    # 16 frame pairs, 2 channels, 3 x 4 pixels
    target = torch.zeros(16, 2, 3, 4)
    target[0, 0, 0, 0] = 1.0
    target[5, 1, 2, 3] = -3.0
    # mean: |diff| summed (4) over all 16*2*12 = 384 values
    assert flow_l1(est, target, 2, "mean").item() == pytest.approx(4 / 384)
    # per snippet (the public code): sum / (2 snippets x 2 channels x 12 pixels) = 8 x mean here
    assert flow_l1(est, target, 2, "per_snippet").item() == pytest.approx(4 / 48)
    with pytest.raises(ValueError, match="reduction"):
        flow_l1(est, target, 2, "sum")
