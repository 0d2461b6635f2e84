"""The detection head's real-data recipe keys (detection.train: validation, crop_snippets,
lr_schedule) and threshold calibration on held-out videos: known answers and invariants."""
import numpy as np
import pytest
import torch

from irpipe.checkpoints import load_checkpoint
from irpipe.config import validate_config
from irpipe.detection.pipeline import calibration_videos
from irpipe.detection.training import (
    Clip,
    held_out_ids,
    predict,
    snippet_map,
    temporal_crop,
    train_variant,
    validation_split,
)
from irpipe.errors import ConfigError
from irpipe.train.schedule import lr_factor

D, C = 8, 2


def _clips(n=8, s=12, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        y = np.zeros((C, s), np.float32)
        y[i % C, 2:8] = 1
        xi = noise * rng.standard_normal((D, s)).astype(np.float32)
        xi[:C] += 1.5 * y
        xf = noise * rng.standard_normal((D, s)).astype(np.float32)
        out.append(Clip(f"v{i}", xi, xf, y, 8 * s))
    return out


def _cfg(**train):
    return validate_config({"detection": {"head": {"hidden": 16}, "sca": {"expand": [1, 1]},
                                          "train": {"epochs": 12, "checkpoint_every": 3, "batch_videos": 2,
                                                    "lr": 1e-2, **train}}})["detection"]


def _params(model):
    return [p.detach().clone() for p in model.state_dict().values()]


def test_held_out_ids_are_a_seeded_draw_shared_by_every_variant():
    ids = [f"v{i}" for i in range(10)]
    a = held_out_ids(ids, 3, seed=5)
    assert len(a) == 3 and set(a) <= set(ids)
    assert held_out_ids(list(reversed(ids)), 3, seed=5) == a        # the order given does not matter
    assert held_out_ids(ids, 3, seed=6) != a                          # the seed does
    assert held_out_ids(ids, 0, seed=5) == []
    with pytest.raises(ValueError, match="fewer than 2"):
        held_out_ids(ids, 9, seed=5)
    fit, val = validation_split(_clips(10), 3, seed=5)
    assert [c.video_id for c in val] == sorted(a) and len(fit) == 7


def test_temporal_crop_keeps_features_and_targets_aligned():
    c = _clips(1, s=20)[0]
    c = Clip(c.video_id, np.tile(np.arange(20, dtype=np.float32), (D, 1)), c.xf, np.tile(np.arange(20.0), (C, 1)), 160)
    rng = np.random.default_rng(0)
    starts = set()
    for _ in range(30):
        w = temporal_crop(c, 6, rng)
        assert w.xi.shape == (D, 6) and w.xf.shape == (D, 6) and w.y.shape == (C, 6)
        assert np.array_equal(w.xi[0], w.y[0]) and np.array_equal(w.xi[0], np.arange(w.xi[0, 0], w.xi[0, 0] + 6))
        starts.add(int(w.xi[0, 0]))
    assert min(starts) >= 0 and max(starts) <= 14 and len(starts) > 5
    assert temporal_crop(c, 25, rng) is c and temporal_crop(c, 0, rng) is c


def test_snippet_map_known_answers():
    clips = _clips(2, s=12)
    perfect = {c.video_id: c.y.copy() for c in clips}
    assert snippet_map(perfect, clips) == pytest.approx(1.0)
    inverted = {c.video_id: 1 - c.y for c in clips}
    # every positive tied at the lowest score: one operating point at recall 1, AP = prevalence (6 of 24)
    assert snippet_map(inverted, clips) == pytest.approx(6 / 24)
    ramp = {c.video_id: (1 - c.y) + np.arange(12) / 100 for c in clips}
    # strictly below every negative: AP = mean over the k-th positive of k / (18 negatives + k)
    assert snippet_map(ramp, clips) == pytest.approx(np.mean([k / (18 + k) for k in range(1, 7)]))


def test_lr_factor_known_answers():
    assert lr_factor(0, 10) == 1.0 and lr_factor(9, 10, "constant", 0) == 1.0
    assert lr_factor(0, 10, "cosine", 2) == pytest.approx(0.5) and lr_factor(1, 10, "cosine", 2) == 1.0
    assert lr_factor(2, 10, "cosine", 2) == pytest.approx(1.0) and lr_factor(6, 10, "cosine", 2) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="lr_schedule"):
        lr_factor(0, 10, "step")


def test_early_stopping_returns_the_best_epochs_weights():
    """The kept model equals the final model of a run stopped at the best epoch (same draws: the
    epoch's randomness depends on the epoch alone), and the best epoch had the highest validation mAP."""
    clips = _clips(8, noise=2.0)
    cfg = _cfg(epochs=12, validation={"videos": 3})
    summary: dict = {}
    logged: dict = {}
    kept, stats = train_variant("ir", clips, C, cfg, seed=1, summary=summary,
                                log_fn=lambda key, value, step: logged.setdefault(key, {}).update({step: value}))
    val_map, val_bce = logged["ir.val_snippet_map"], logged["ir.val_bce"]
    assert sorted(val_map) == list(range(1, 13))                       # validated after every epoch
    # the kept epoch is the highest validation mAP, lower loss breaking ties, the earliest on a full tie
    ranked = sorted(val_map, key=lambda e: (-val_map[e], val_bce[e], e))
    best = summary["best_epoch"]
    assert best == ranked[0] and summary["best_val_snippet_map"] == pytest.approx(max(val_map.values()))
    assert best < 12                                   # this noisy set peaks early: the kept weights are not the last
    assert len(summary["validation_videos"]) == 3
    short, _ = train_variant("ir", clips, C, _cfg(epochs=best, validation={"videos": 3}), seed=1)
    for a, b in zip(_params(kept), _params(short)):
        assert torch.equal(a, b)
    val = [c for c in clips if c.video_id in summary["validation_videos"]]
    assert snippet_map(predict(kept, val, stats), val) == pytest.approx(summary["best_val_snippet_map"], abs=1e-6)


def test_recipe_keys_change_training_and_resume_exactly(tmp_path):
    clips = _clips(8)
    cfg = _cfg(validation={"videos": 2}, crop_snippets=6, lr_schedule="cosine", warmup_epochs=2)
    straight, _ = train_variant("sca", clips, C, cfg, seed=3)
    ckpt = tmp_path / "ckpt.pt"

    class Killed(Exception):
        pass

    def kill_in_epoch_8(key, value, step):
        if step == 8:
            raise Killed

    with pytest.raises(Killed):  # killed during epoch 8: the last checkpoint is epoch 6's
        train_variant("sca", clips, C, cfg, seed=3, ckpt_path=ckpt, log_fn=kill_in_epoch_8)
    assert load_checkpoint(ckpt)["progress"] == 6 and "best" in load_checkpoint(ckpt)
    torch.manual_seed(12345)
    resumed, _ = train_variant("sca", clips, C, cfg, seed=3, ckpt_path=ckpt)
    for a, b in zip(_params(straight), _params(resumed)):
        assert torch.equal(a, b)
    plain, _ = train_variant("sca", clips, C, _cfg(), seed=3)
    assert not all(torch.equal(a, b) for a, b in zip(_params(straight), _params(plain)))


def test_defaults_train_exactly_as_before_the_recipe_keys():
    """With the keys at their defaults the run is the paper's fixed schedule on every video:
    setting them explicitly to their defaults changes nothing."""
    clips = _clips(6)
    a, _ = train_variant("ir", clips, C, _cfg(), seed=2)
    b, _ = train_variant("ir", clips, C, _cfg(validation={"videos": 0}, crop_snippets=0, lr_schedule="constant",
                                              warmup_epochs=0), seed=2)
    for x, y in zip(_params(a), _params(b)):
        assert torch.equal(x, y)


def test_calibration_videos():
    items = {f"v{i}": object() for i in range(10)}
    cfg = validate_config({"detection": {"train": {"validation": {"videos": 3}},
                                         "postprocess": {"calibrate_on": "validation"}}})["detection"]
    got = calibration_videos(items, cfg, 7)
    assert sorted(got) == held_out_ids(list(items), 3, 7)
    cfg["postprocess"]["calibrate_on"] = "training"
    assert calibration_videos(items, cfg, 7) == items
    cfg["postprocess"]["calibrate_on"] = "validation"
    cfg["train"]["validation"]["videos"] = 0
    with pytest.raises(ConfigError, match="validation.videos"):
        calibration_videos(items, cfg, 7)


def test_multi_threshold_grouping_known_answer():
    from irpipe.detection.postprocess import detect_multi_threshold, multi_threshold_grid

    assert multi_threshold_grid({"multi_threshold": {"step": 0.2}}) == [0.2, 0.4, 0.6, 0.8]
    s = np.array([[0, .5, .9, .5, 0, 0, .3, .3, 0]])          # 9 snippets of 8 frames at 8 fps: 1 s each

    def segs(nms, min_len=0.0):
        d = detect_multi_threshold(s, 72, 8.0, ["a"], {"a": min_len}, "v", 1.0, [0.2, 0.4, 0.6, 0.8], nms)
        return [(r.t_start, r.t_end, round(r.score, 4)) for r in d.itertuples(index=False)]
    # candidates: [1, 4) at 0.2 and 0.4 (counted once, mean .633), [6, 8) at 0.2 (.3), [2, 3) at 0.6 and 0.8 (.9)
    assert segs(0.5) == [(2.0, 3.0, 0.9), (1.0, 4.0, 0.6333), (6.0, 8.0, 0.3)]
    assert segs(0.3) == [(2.0, 3.0, 0.9), (6.0, 8.0, 0.3)]          # tIoU([1,4), [2,3)) = 1/3 > 0.3
    assert segs(0.3, min_len=1.5) == [(1.0, 4.0, 0.6333), (6.0, 8.0, 0.3)]  # the 1 s candidate is too short


def test_changed_features_train_afresh_instead_of_resuming(tmp_path):
    """Snakemake re-runs a variant when its features change; the finished checkpoint of the old
    features (same video ids, same settings) must not be resumed."""
    ckpt = tmp_path / "ckpt.pt"
    cfg = _cfg(epochs=4)
    old = _clips(6)
    train_variant("ir", old, C, cfg, seed=2, ckpt_path=ckpt)
    assert load_checkpoint(ckpt)["progress"] == 4
    new = _clips(6, seed=1)                                       # same ids, other feature values
    assert [c.video_id for c in new] == [c.video_id for c in old]
    resumed, _ = train_variant("ir", new, C, cfg, seed=2, ckpt_path=ckpt)
    fresh, _ = train_variant("ir", new, C, cfg, seed=2)
    stale, _ = train_variant("ir", old, C, cfg, seed=2)
    for a, b in zip(_params(resumed), _params(fresh)):
        assert torch.equal(a, b)
    assert any(not torch.equal(a, b) for a, b in zip(_params(resumed), _params(stale)))
