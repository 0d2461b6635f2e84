"""One resolve_device for every stage that runs torch."""
import pytest
import torch

from irpipe.devices import resolve_device
from irpipe.errors import ConfigError
from tests.conftest import REPO


def test_auto_follows_cuda_availability(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device(None) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cuda:1") == torch.device("cuda", 1)


def test_cuda_without_cuda_names_the_key(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ConfigError, match=r"c3d\.device is 'cuda' but no CUDA device"):
        resolve_device("cuda", "c3d.device")
    with pytest.raises(ConfigError, match=r"flow\.device is 'gpu0': not a device name"):
        resolve_device("gpu0", "flow.device")


def test_no_other_copy():
    """Device choice lives in irpipe/devices.py only (no stage decides 'auto' on its own)."""
    hits = [str(p.relative_to(REPO)) for p in (REPO / "irpipe").rglob("*.py")
            if "cuda.is_available" in p.read_text() or "def resolve_device" in p.read_text()]
    assert hits == ["irpipe/devices.py"]
