import pytest
import torch

from irpipe.checkpoints import save_checkpoint
from irpipe.errors import BadInputError
from irpipe.models.i3d import InceptionI3d, backbone_parameters, load_i3d_weights, n_snippets


def test_full_width_backbone_parameters():
    m = InceptionI3d(400, in_channels=3, width=1.0)
    assert backbone_parameters(m) == 12_287_264  # DESIGN: I3D backbone 12.29M
    assert m.feature_dim == 1024


def test_feature_shape_and_temporal_stride():
    torch.manual_seed(0)
    m = InceptionI3d(400, width=0.125).eval()
    with torch.no_grad():
        f = m.extract_features(torch.randn(1, 3, 24, 32, 32))
        g = m.extract_features(torch.randn(1, 3, 17, 32, 32))
    assert f.shape == (1, m.feature_dim, 3)  # one feature per 8 frames
    assert g.shape[-1] == n_snippets(17) == 3


def test_full_width_gives_1024_per_snippet():
    m = InceptionI3d(400, in_channels=2, width=1.0).eval()
    with torch.no_grad():
        f = m.extract_features(torch.randn(1, 2, 16, 32, 32))
    assert f.shape == (1, 1024, 2)


def test_weights_roundtrip_in_port_layout(tmp_path):
    torch.manual_seed(0)
    src = InceptionI3d(400, width=0.125)
    keys = set(src.state_dict())
    assert {"Conv3d_1a_7x7.conv3d.weight", "Conv3d_1a_7x7.bn.running_mean", "Mixed_3b.b1b.conv3d.weight",
            "Mixed_5c.b3b.bn.bias", "logits.conv3d.weight", "logits.conv3d.bias"} <= keys
    save_checkpoint(tmp_path / "w.pt", src.state_dict())
    dst = InceptionI3d(12, width=0.125)  # other class count: logits skipped
    skipped = load_i3d_weights(dst, tmp_path / "w.pt")
    assert set(skipped) == {"logits.conv3d.weight", "logits.conv3d.bias"}
    assert torch.equal(dst.Mixed_4c.b2b.conv3d.weight, src.Mixed_4c.b2b.conv3d.weight)
    with pytest.raises(BadInputError, match="w.pt"):
        load_i3d_weights(InceptionI3d(400, width=0.25), tmp_path / "w.pt")


pytestmark = pytest.mark.usefixtures("one_torch_thread")
