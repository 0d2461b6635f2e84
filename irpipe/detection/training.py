"""Training and inference of the detection variants on whole untrimmed videos.

Every variant except the FEN one trains on the cached frozen-I3D features (a batch is a few
whole videos padded to the longest; padded snippets are masked in the attention, the
super-event and the loss). Features are standardised per dimension with training-set
statistics (stored in the checkpoint). Training is seeded, checkpointed every
``checkpoint_every`` epochs (atomic, ``irpipe.checkpoints``) and resumes from the last
checkpoint when one exists for the same configuration.

The FEN variant (two-stream + SCA with FEN flow, the full InfDetNet) trains the flow
estimation network jointly with SCA and the head: frames -> FEN (two frames, downsampled
x4) -> flow, upsampled x4 -> frozen flow I3D (gradients pass through it into the FEN) ->
SCA with the cached IR features -> TGM head; loss = BCE + ``loss_weight`` * L1(FEN flow,
TV-L1 flow downsampled x4) (seed 001, equations 12-13: BCE summed over classes and averaged
over snippets, L1 averaged over flow values; ``train.bce_reduction`` / ``fen.l1_reduction``
select the other readings). To fit the CPU budget it starts from the SCA (TV-L1) model's
weights and a FEN pre-trained on the L1 term alone (both stated in the report and config).
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..checkpoints import data_digest, resume, save_progress
from ..config import config_hash
from ..data import stores
from ..models.detector import SnippetDetector
from ..models.fen import FlowEstimationNet, fen_input, flow_l1
from ..models.tgm import masked_bce
from ..train.schedule import BestWeights, lr_factor
from .features import build_extractor, extract, flow_tensor, ir_tensor

log = logging.getLogger(__name__)

LogFn = Callable[[str, float, int], None]


@dataclass
class Clip:
    video_id: str
    xi: np.ndarray            # (D, S) IR features
    xf: np.ndarray | None     # (D, S) flow features
    y: np.ndarray | None      # (C, S) targets
    n_frames: int


def _stats(clips: Sequence[Clip], attr: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([getattr(c, attr) for c in clips], axis=1)
    return x.mean(1), x.std(1) + 1e-6


def _clips_digest(clips: Sequence[Clip]) -> str:
    """The content of the clips a run trains on (part of its checkpoint fingerprint)."""
    return data_digest(*(a for c in clips for a in (c.xi, c.xf, c.y) if a is not None))


def feature_stats(clips: Sequence[Clip]) -> dict:
    mi, si = _stats(clips, "xi")
    mf, sf = _stats(clips, "xf")
    return {"ir_mean": mi, "ir_std": si, "flow_mean": mf, "flow_std": sf}


def _pad(arrs: Sequence[np.ndarray], t: int) -> torch.Tensor:
    out = np.zeros((len(arrs), arrs[0].shape[0], t), np.float32)
    for i, a in enumerate(arrs):
        out[i, :, :a.shape[1]] = a
    return torch.from_numpy(out)


def make_batch(clips: Sequence[Clip], stats: Mapping) -> tuple:
    t = max(c.xi.shape[1] for c in clips)
    xi = _pad([(c.xi - stats["ir_mean"][:, None]) / stats["ir_std"][:, None] for c in clips], t)
    xf = _pad([(c.xf - stats["flow_mean"][:, None]) / stats["flow_std"][:, None] for c in clips], t)
    mask = torch.zeros(len(clips), t)
    for i, c in enumerate(clips):
        mask[i, :c.xi.shape[1]] = 1
    y = _pad([c.y for c in clips], t) if clips[0].y is not None else None
    return xi, xf, mask, y


def build_model(fusion: str, dim: int, n_classes: int, cfg: Mapping) -> SnippetDetector:
    return SnippetDetector(fusion, dim, n_classes, head=dict(cfg["head"]), sca=dict(cfg["sca"]))


def _seed_all(seed: int) -> np.random.Generator:
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def held_out_ids(ids: Sequence[str], n_val: int, seed: int) -> list[str]:
    """The ``n_val`` training videos held out for validation, drawn with ``seed`` from ``ids`` in
    sorted order (every variant of one training seed holds out the same videos)."""
    ids = sorted(ids)
    if n_val <= 0:
        return []
    if n_val > len(ids) - 2:
        raise ValueError(f"detection.train.validation.videos = {n_val} leaves fewer than 2 of "
                         f"{len(ids)} training videos to train on")
    return sorted(ids[i] for i in np.random.default_rng([seed, 77]).permutation(len(ids))[:n_val])


def validation_split(clips: Sequence[Clip], n_val: int, seed: int) -> tuple[list[Clip], list[Clip]]:
    """(fit, validation): the clips of :func:`held_out_ids` held out (0 = none)."""
    held = set(held_out_ids([c.video_id for c in clips], n_val, seed))
    return [c for c in clips if c.video_id not in held], [c for c in clips if c.video_id in held]


def temporal_crop(clip: Clip, length: int, rng: np.random.Generator) -> Clip:
    """A random window of ``length`` snippets of a training video (the whole video when shorter):
    the detector's only augmentation on cached features (ids and frame counts are unused in training)."""
    s = clip.xi.shape[1]
    if length <= 0 or s <= length:
        return clip
    a = int(rng.integers(0, s - length + 1))
    return Clip(clip.video_id, clip.xi[:, a:a + length], None if clip.xf is None else clip.xf[:, a:a + length],
                None if clip.y is None else clip.y[:, a:a + length], clip.n_frames)


def snippet_map(scores: Mapping[str, np.ndarray], clips: Sequence[Clip]) -> float:
    """Snippet-level mean average precision (TGM's per-frame mAP): per class over every snippet of
    ``clips``, averaged over the classes that have positive snippets (threshold-free)."""
    from sklearn.metrics import average_precision_score

    s = np.concatenate([scores[c.video_id] for c in clips], axis=1)
    y = np.concatenate([c.y for c in clips], axis=1) > 0.5
    aps = [average_precision_score(y[k], s[k]) for k in range(y.shape[0]) if y[k].any()]
    return float(np.mean(aps)) if aps else 0.0


@torch.no_grad()
def _validate(model: SnippetDetector, val: Sequence[Clip], stats: Mapping, reduction: str) -> tuple[float, float]:
    """(snippet mAP, BCE) of the validation videos."""
    model.eval()
    scores, losses = {}, []
    for c in val:
        xi, xf, mask, y = make_batch([c], stats)
        logits = model(xi, xf, mask)
        losses.append(float(masked_bce(logits, y, mask, reduction)))
        scores[c.video_id] = torch.sigmoid(logits)[0].numpy()
    return snippet_map(scores, val), float(np.mean(losses))


def train_variant(fusion: str, clips: Sequence[Clip], n_classes: int, cfg: Mapping, seed: int,
                  ckpt_path: str | os.PathLike | None = None, log_fn: LogFn | None = None,
                  epochs: int | None = None, summary: dict | None = None) -> tuple[SnippetDetector, dict]:
    """Train one fusion variant on cached features; returns (model in eval mode, stats).

    ``detection.train`` beyond the paper's fixed schedule (all off by default): ``lr_schedule`` /
    ``warmup_epochs``; ``crop_snippets`` (random temporal windows of the training videos);
    ``validation.videos`` (hold that many training videos out, score them every
    ``validation.every`` epochs by snippet mAP and return the best epoch's weights). ``summary``
    (a dict) receives the best epoch and its validation figures."""
    tcfg = cfg["train"]
    epochs = int(tcfg["epochs"] if epochs is None else epochs)
    vcfg = tcfg.get("validation") or {}
    fit, val = validation_split(clips, int(vcfg.get("videos", 0)), seed)
    stats = feature_stats(fit)
    _seed_all(seed)
    dim = clips[0].xi.shape[0]
    model = build_model(fusion, dim, n_classes, cfg)
    opt = torch.optim.Adam(model.parameters(), lr=tcfg["lr"], weight_decay=tcfg["weight_decay"])
    best = BestWeights(model) if val else None
    modules = {"model": model} | ({"best": best} if best is not None else {})
    key = config_hash({"fusion": fusion, "cfg": dict(cfg), "seed": seed, "videos": [c.video_id for c in clips],
                       "data": _clips_digest(clips)})
    start, _ = resume(ckpt_path, key, modules, opt)
    bs = int(tcfg["batch_videos"])
    every = int(tcfg["checkpoint_every"])
    crop = int(tcfg.get("crop_snippets", 0))
    schedule, warmup = str(tcfg.get("lr_schedule", "constant")), int(tcfg.get("warmup_epochs", 0))
    val_every = int(vcfg.get("every", 1))
    for epoch in tqdm(range(start, epochs), desc=f"train {fusion}", mininterval=5, initial=start, total=epochs):
        model.train()
        for group in opt.param_groups:
            group["lr"] = float(tcfg["lr"]) * lr_factor(epoch, epochs, schedule, warmup)
        rng = np.random.default_rng([seed, epoch])  # resumable: the draws of an epoch depend on it alone
        order = rng.permutation(len(fit))
        total = 0.0
        for b in range(0, len(order), bs):
            batch = [temporal_crop(fit[i], crop, rng) if crop else fit[i] for i in order[b:b + bs]]
            xi, xf, mask, y = make_batch(batch, stats)
            loss = masked_bce(model(xi, xf, mask), y, mask, tcfg["bce_reduction"])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(batch)
        if log_fn:
            log_fn(f"{fusion}.train_bce", total / len(fit), epoch + 1)
        if best is not None and ((epoch + 1) % val_every == 0 or epoch + 1 == epochs):
            vmap, vloss = _validate(model, val, stats, tcfg["bce_reduction"])
            best.offer(epoch + 1, (vmap, -vloss), model)
            if log_fn:
                log_fn(f"{fusion}.val_snippet_map", vmap, epoch + 1)
                log_fn(f"{fusion}.val_bce", vloss, epoch + 1)
        if ckpt_path and ((epoch + 1) % every == 0 or epoch + 1 == epochs):
            save_progress(ckpt_path, key, epoch + 1, modules, opt, rng=True,
                          stats={k: torch.from_numpy(v) for k, v in stats.items()})
    if best is not None:
        model.load_state_dict(best.model.state_dict())
        if ckpt_path:  # the checkpoint's (and model.pt's) weights are the kept ones
            save_progress(ckpt_path, key, epochs, modules, opt, rng=True,
                          stats={k: torch.from_numpy(v) for k, v in stats.items()})
        if summary is not None:
            summary.update({"best_epoch": int(best.step), "best_val_snippet_map": float(best.score[0]),
                            "validation_videos": sorted(c.video_id for c in val)})
    model.eval()
    return model, stats


@torch.no_grad()
def predict(model: SnippetDetector, clips: Sequence[Clip], stats: Mapping) -> dict[str, np.ndarray]:
    """Per-video snippet probabilities (C, S), one whole video at a time."""
    model.eval()
    out = {}
    for c in clips:
        xi, xf, mask, _ = make_batch([c], stats)
        out[c.video_id] = torch.sigmoid(model(xi, xf, mask))[0].numpy()
    return out


# ------------------------------------------------------------------------------------ FEN

def _video_tensors(frames_path, flow_path, frame_size: str, bound: float, factor: int):
    frames = stores.read_frames(frames_path, frame_size)
    flow = stores.read_flow(flow_path)
    x = ir_tensor(frames)                                             # (1, 3, T, H, W)
    pairs = fen_input(x[0].permute(1, 0, 2, 3), factor)               # (T-1, 6, H/f, W/f)
    target = flow_tensor(flow, bound, frames.shape[1:])[0, :, :-1]    # (2, T-1, H, W)
    target = F.avg_pool2d(target.permute(1, 0, 2, 3), factor)        # (T-1, 2, H/f, W/f)
    return x, pairs, target


def fen_flow_features(fen: FlowEstimationNet, flow_i3d, pairs: torch.Tensor, size, chunk: int) -> tuple:
    """FEN flow (T-1, 2, h, w) and its flow-I3D features (D, S) (differentiable)."""
    est = fen(pairs)
    up = F.interpolate(est, size=tuple(size), mode="bilinear", align_corners=False)
    vol = torch.cat([up, torch.zeros_like(up[:1])], 0).permute(1, 0, 2, 3)[None]
    return est, extract(flow_i3d, vol, chunk)


def train_fen_variant(train: Sequence[Clip], test: Sequence[Clip], n_classes: int, cfg: Mapping, seed: int,
                      frame_stores: Mapping[str, str | os.PathLike], flow_stores: Mapping[str, str | os.PathLike],
                      frame_size: str, bound: float, init_state: dict | None,
                      ckpt_path=None, log_fn: LogFn | None = None) -> tuple[dict, dict]:
    """Joint FEN + SCA + head training; returns (scores of the train and test videos, info)."""
    fcfg, icfg = cfg["fen"], cfg["i3d"]
    rng = _seed_all(seed)
    factor = int(fcfg["downsample"])
    stats = feature_stats(train)
    dim = train[0].xi.shape[0]
    model = build_model("sca", dim, n_classes, cfg)
    if init_state is not None:
        model.load_state_dict(init_state)
    fen = FlowEstimationNet(6, 2, width=float(fcfg["width"]))
    flow_i3d, flow_init = build_extractor("flow", icfg, seed)  # same frozen extractor as the cache
    data = {c.video_id: _video_tensors(frame_stores[c.video_id], flow_stores[c.video_id],
                                       frame_size, bound, factor) for c in list(train) + list(test)}
    t0 = time.time()
    # 1) FEN warm-up on the L1 term alone (cheap: FEN only, at 1/4 resolution)
    opt = torch.optim.Adam(fen.parameters(), lr=fcfg["lr"])
    pairs_all = torch.cat([data[c.video_id][1] for c in train])
    tgt_all = torch.cat([data[c.video_id][2] for c in train])
    bs = int(fcfg["pretrain_batch"])
    for epoch in tqdm(range(int(fcfg["pretrain_epochs"])), desc="FEN L1 warm-up", mininterval=5):
        perm = torch.from_numpy(rng.permutation(len(pairs_all)))
        tot = 0.0
        for b in range(0, len(perm), bs):
            idx = perm[b:b + bs]
            loss = F.l1_loss(fen(pairs_all[idx]), tgt_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss) * len(idx)
        if log_fn:
            log_fn("sca_fen.pretrain_l1", tot / len(perm), epoch + 1)
    # 2) joint training: BCE + w * L1, gradients through the frozen flow I3D into the FEN
    params = list(fen.parameters()) + list(model.parameters())
    opt = torch.optim.Adam(params, lr=fcfg["joint_lr"], weight_decay=cfg["train"]["weight_decay"])
    fm, fs = torch.from_numpy(stats["flow_mean"])[:, None], torch.from_numpy(stats["flow_std"])[:, None]
    key = config_hash({"cfg": dict(cfg), "seed": seed, "videos": [c.video_id for c in train],
                       "data": _clips_digest(train),
                       "frames_flow": data_digest(*(data[c.video_id][k] for c in train for k in (0, 2))),
                       "init": data_digest(*(init_state or {}).values())})
    start, _ = resume(ckpt_path, key, {"fen": fen, "model": model}, opt)
    for epoch in tqdm(range(start, int(fcfg["joint_epochs"])), desc="FEN joint", mininterval=5):
        model.train()
        fen.train()
        tot_c = tot_l = 0.0
        for i in np.random.default_rng([seed, 1000 + epoch]).permutation(len(train)):
            c = train[i]
            _, pairs, target = data[c.video_id]
            est, feat = fen_flow_features(fen, flow_i3d, pairs, data[c.video_id][0].shape[-2:], icfg["chunk_snippets"])
            xi, _, mask, y = make_batch([c], stats)
            xf = ((feat - fm) / fs)[None]
            l_cls = masked_bce(model(xi, xf, mask), y, mask, cfg["train"]["bce_reduction"])
            l_flow = flow_l1(est, target, c.xi.shape[1], fcfg["l1_reduction"])
            loss = l_cls + float(fcfg["loss_weight"]) * l_flow
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot_c += float(l_cls)
            tot_l += float(l_flow)
        if log_fn:
            log_fn("sca_fen.joint_bce", tot_c / len(train), epoch + 1)
            log_fn("sca_fen.joint_l1", tot_l / len(train), epoch + 1)
        if ckpt_path:
            save_progress(ckpt_path, key, epoch + 1, {"fen": fen, "model": model}, opt)
    model.eval()
    fen.eval()
    scores, l1 = {}, []
    with torch.no_grad():
        test_ids = {c.video_id for c in test}
        for c in list(train) + list(test):  # train scores calibrate the thresholds
            _, pairs, target = data[c.video_id]
            est, feat = fen_flow_features(fen, flow_i3d, pairs, data[c.video_id][0].shape[-2:], icfg["chunk_snippets"])
            if c.video_id in test_ids:
                l1.append(float(F.l1_loss(est, target)))
            xi, _, mask, _ = make_batch([c], stats)
            scores[c.video_id] = torch.sigmoid(model(xi, ((feat - fm) / fs)[None], mask))[0].numpy()
    info = {"flow_init": flow_init, "test_l1": float(np.mean(l1)) if l1 else 0.0, "seconds": time.time() - t0}
    return scores, info
