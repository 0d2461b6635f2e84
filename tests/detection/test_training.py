"""Detection training on cached features, directly: it learns a separable toy problem, is
deterministic, and a run stopped at a checkpoint and resumed ends bit-identical to a straight one."""
import numpy as np
import pytest
import torch

from irpipe.checkpoints import load_checkpoint
from irpipe.config import validate_config
from irpipe.detection.training import Clip, predict, train_variant

D, C = 8, 2


def _clips(n=6, s=12, seed=0):
    """Class c is active where feature dimension c is high (both streams): a learnable signal."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        y = np.zeros((C, s), np.float32)
        y[i % C, 2:8] = 1
        xi = rng.standard_normal((D, s)).astype(np.float32)
        xi[:C] += 3 * y
        xf = rng.standard_normal((D, s)).astype(np.float32)
        xf[:C] += 3 * y
        out.append(Clip(f"v{i}", xi, xf, y, 8 * s))
    return out


@pytest.fixture(scope="module")
def cfg():
    return validate_config({"detection": {"head": {"hidden": 16}, "sca": {"expand": [1, 1]},
                                          "train": {"epochs": 6, "checkpoint_every": 2, "batch_videos": 2}}})["detection"]


def _params(model):
    return [p.detach().clone() for p in model.state_dict().values()]


@pytest.mark.parametrize("fusion", ["ir", "sca"])
def test_resume_equals_a_straight_run(cfg, tmp_path, fusion):
    clips = _clips()
    straight, _ = train_variant(fusion, clips, C, cfg, seed=3)
    ckpt = tmp_path / "ckpt.pt"
    train_variant(fusion, clips, C, cfg, seed=3, ckpt_path=ckpt, epochs=4)  # "killed" after epoch 4
    assert load_checkpoint(ckpt)["progress"] == 4
    torch.manual_seed(12345)  # whatever the process did before, the resumed run continues as saved
    resumed, _ = train_variant(fusion, clips, C, cfg, seed=3, ckpt_path=ckpt)
    assert load_checkpoint(ckpt)["progress"] == 6
    for a, b in zip(_params(straight), _params(resumed)):
        assert torch.equal(a, b)
    # a checkpoint of another configuration is not resumed
    other = dict(cfg, train=dict(cfg["train"], lr=cfg["train"]["lr"] * 2))
    changed, _ = train_variant(fusion, clips, C, other, seed=3, ckpt_path=ckpt)
    assert not all(torch.equal(a, b) for a, b in zip(_params(straight), _params(changed)))


def test_learns_the_toy_problem(cfg):
    from sklearn.metrics import roc_auc_score

    test = _clips(4, seed=1)
    y = np.concatenate([c.y.ravel() for c in test])

    def auc(epochs):
        model, stats = train_variant("ir", _clips(), C, dict(cfg, train=dict(cfg["train"], epochs=epochs, lr=1e-2)),
                                     seed=0)
        scores = predict(model, test, stats)
        return roc_auc_score(y, np.concatenate([scores[c.video_id].ravel() for c in test]))
    # measured: 0.62 after one epoch, 0.98 after 30 (held-out toy videos, snippet-level AUC)
    first, trained = auc(1), auc(30)
    assert trained > 0.9 and trained > first + 0.1, (first, trained)
