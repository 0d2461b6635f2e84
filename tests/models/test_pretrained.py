import pickle

import pytest
import torch

from irpipe.errors import BadInputError
from irpipe.models.c3d import C3D, C3DSpec
from irpipe.models.pretrained import describe_init, load_port_weights

SMALL = dict(width_scale=1 / 16, fc_dim=24, clip_len=16, crop=32)


def _port_file(path, spec_kwargs=SMALL, n_head=487, wrap=False, prefix=""):
    """A weights file laid out like the public port's: conv1..conv5b, fc6, fc7, fc8 (487-way)."""
    torch.manual_seed(123)
    src = C3D(C3DSpec(n_classes=n_head, **spec_kwargs))
    state = {prefix + k: v.clone() for k, v in src.state_dict().items()}
    torch.save({"state_dict": state} if wrap else state, path)
    return src


@pytest.mark.parametrize("wrap,prefix", [(False, ""), (True, "module.")])
def test_port_weights_arrive_and_head_is_replaced(tmp_path, wrap, prefix):
    path = tmp_path / "c3d_sports1m.pt"
    src = _port_file(path, wrap=wrap, prefix=prefix)
    torch.manual_seed(0)
    net = C3D(C3DSpec(n_classes=12, code_dim=20, **SMALL))
    head_before = net.fc8.weight.clone()
    info = load_port_weights(net, path)
    for layer in ["conv1", "conv2", "conv3a", "conv3b", "conv4a", "conv4b", "conv5a", "conv5b", "fc6", "fc7"]:
        assert torch.equal(getattr(net, layer).weight, getattr(src, layer).weight), layer
        assert torch.equal(getattr(net, layer).bias, getattr(src, layer).bias), layer
    assert net.fc8.weight.shape == (12, 24) and torch.equal(net.fc8.weight, head_before)
    assert info["skipped"] == ["fc8.bias", "fc8.weight"]


def test_missing_file_wrong_format_and_shape_mismatch(tmp_path):
    net = C3D(C3DSpec(n_classes=12, **SMALL))
    with pytest.raises(BadInputError, match="nope.pt: file does not exist"):
        load_port_weights(net, tmp_path / "nope.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(BadInputError, match="text.pt"):
        load_port_weights(net, tmp_path / "text.pt")
    torch.save({"features.0.weight": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(BadInputError, match="missing conv1.weight"):
        load_port_weights(net, tmp_path / "other.pt")
    # same layout, other width: every conv shape differs
    _port_file(tmp_path / "wide.pt", spec_kwargs={**SMALL, "width_scale": 1 / 8})
    with pytest.raises(BadInputError, match=r"shape mismatch.*conv1.weight"):
        load_port_weights(net, tmp_path / "wide.pt")
    # a pickled object is refused (weights_only)
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))
    with open(tmp_path / "evil.pt", "wb") as fh:
        pickle.dump({"conv1.weight": Evil()}, fh)
    with pytest.raises(BadInputError, match="evil.pt"):
        load_port_weights(net, tmp_path / "evil.pt")
    torch.save({"conv1.weight": Evil()}, tmp_path / "evil2.pt")
    with pytest.raises(BadInputError, match="evil2.pt: refused to load"):
        load_port_weights(net, tmp_path / "evil2.pt")


def test_describe_init():
    assert describe_init(None) == "none: random initialisation"
    assert describe_init("/w/c3d.pickle") == "/w/c3d.pickle"
