"""The one checkpoint-and-resume protocol (save_progress / resume) of every trainer."""
import numpy as np
import pytest
import torch

from irpipe.checkpoints import data_digest, load_checkpoint, resume, save_checkpoint, save_progress
from irpipe.errors import BadInputError


def _net_and_opt(seed):
    torch.manual_seed(seed)
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters(), lr=0.1)
    net(torch.ones(1, 3)).sum().backward()
    opt.step()  # the optimizer has state (moments) worth restoring
    return net, opt


def test_round_trip_restores_modules_optimizer_and_rng(tmp_path):
    path = tmp_path / "ckpt.pt"
    net, opt = _net_and_opt(0)
    torch.manual_seed(123)
    save_progress(path, "fp", 7, {"model": net}, opt, rng=True, stats=torch.arange(3))
    expected_draw = torch.rand(4)
    other, other_opt = _net_and_opt(1)
    torch.manual_seed(999)
    progress, state = resume(path, "fp", {"model": other}, other_opt)
    assert progress == 7 and torch.equal(state["stats"], torch.arange(3))
    for a, b in zip(net.parameters(), other.parameters()):
        assert torch.equal(a, b)
    assert torch.equal(other_opt.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
    assert torch.equal(torch.rand(4), expected_draw)  # the generator continues where it was saved


def test_nothing_to_resume(tmp_path):
    net, opt = _net_and_opt(0)
    before = [p.clone() for p in net.parameters()]
    assert resume(None, "fp", {"model": net}, opt) == (0, None)
    assert resume(tmp_path / "absent.pt", "fp", {"model": net}, opt) == (0, None)
    save_progress(tmp_path / "c.pt", "other settings", 5, {"model": _net_and_opt(3)[0]}, opt)
    assert resume(tmp_path / "c.pt", "fp", {"model": net}, opt) == (0, None)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_incomplete_checkpoint_is_a_bad_input(tmp_path):
    net, opt = _net_and_opt(0)
    save_checkpoint(tmp_path / "c.pt", {"fingerprint": "fp", "progress": 2, "optimizer": opt.state_dict()})
    with pytest.raises(BadInputError, match=r"c\.pt: checkpoint lacks \['model'\]"):
        resume(tmp_path / "c.pt", "fp", {"model": net}, opt)
    assert load_checkpoint(tmp_path / "c.pt")["progress"] == 2


def test_data_digest_covers_content_dtype_shape_and_order():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    base = data_digest(a, np.array([1, 2]))
    assert data_digest(torch.from_numpy(a), torch.tensor([1, 2])) == base      # numpy or torch: same content
    assert data_digest(np.asfortranarray(a), np.array([1, 2])) == base           # memory layout is not content
    changed = a.copy()
    changed[2, 3] = np.nextafter(changed[2, 3], np.float32(99))                   # one value, one ulp
    assert data_digest(changed, np.array([1, 2])) != base
    assert data_digest(a.reshape(4, 3), np.array([1, 2])) != base                # shape
    assert data_digest(a.astype(np.float64), np.array([1, 2])) != base           # dtype
    assert data_digest(np.array([1, 2]), a) != base                              # order
    assert data_digest(a[:, ::2]) == data_digest(np.ascontiguousarray(a[:, ::2]))
    assert data_digest(np.zeros((0, 3))) != data_digest(np.zeros((3, 0)))
    bf = torch.tensor([1.5, -2.0], dtype=torch.bfloat16)
    assert data_digest(bf) == data_digest(torch.tensor([1.5, -2.0]))
