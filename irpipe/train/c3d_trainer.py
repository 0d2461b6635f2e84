"""Fine-tune (or train from scratch) one C3D stream with the discriminative code layer.

One job = one (stream, alpha, split): read the clips of the split's videos, build the target
codes from the training clips' intra-class variation, train with SGD on
L = Lc + alpha * ||q - A x||^2, then predict every video of the split (train and test) by
averaging its clips' softmax outputs and codes, and write ``predictions.h5``.

Reproducible and resumable:
- every random draw of step s (which clips, crops, flips, dropout masks) comes from a generator
  seeded with (seed, s), so a run resumed at step s draws exactly what an uninterrupted run does;
- a checkpoint (model, optimiser state incl. momentum, step, fingerprint of the settings and the
  data) is saved atomically every ``checkpoint_every`` steps; re-running the job resumes from it
  and reaches the same final weights as an uninterrupted run (same machine and thread count);
  a checkpoint whose fingerprint differs (config or data changed) is ignored, with a warning.

On a CUDA device the clips live on the GPU as uint8 and are cropped/flipped/normalised there,
the network runs under bf16 autocast; channels_last_3d memory format is used on both devices
(oneDNN's CPU conv3d is also faster with it: ~25% per training step, measured).
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from tqdm import tqdm

from ..checkpoints import data_digest, resume, save_checkpoint, save_progress
from ..config import config_hash
from ..data.clips import crop_size, load_clips, make_batch
from ..devices import resolve_device
from ..errors import IrpipeError
from ..eval.classification import classification_metrics
from ..eval.knn import knn_scores
from ..eval.predictions import write_predictions
from ..flow.bound import flow_images_reader
from ..models.c3d import C3D, C3DSpec
from ..models.dcl import dcl_loss, intra_class_variation, target_codes
from ..models.pretrained import describe_init, load_port_weights
from .schedule import BestWeights, lr_factor

log = logging.getLogger(__name__)

STREAM_SEED = {"ir": 1000, "flow": 2000}


class TrainingDiverged(IrpipeError):
    pass


@dataclass
class TrainSettings:
    iterations: int = 300
    batch_size: int = 30
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    log_every: int = 10
    checkpoint_every: int = 50
    eval_batch_size: int = 32
    bf16: bool = True
    channels_last: bool = True
    input_mean: float = 128.0
    input_std: float = 64.0
    optimizer: str = "sgd"
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    eval_every: int = 0
    flip_negates_flow_x: bool = False

    @classmethod
    def from_config(cls, c3d: dict) -> "TrainSettings":
        t = c3d["train"]
        return cls(iterations=int(t["iterations"]), batch_size=int(t["batch_size"]), lr=float(t["lr"]),
                   momentum=float(t["momentum"]), weight_decay=float(t["weight_decay"]),
                   log_every=int(t["log_every"]), checkpoint_every=int(t["checkpoint_every"]),
                   eval_batch_size=int(t["eval_batch_size"]), bf16=bool(t["bf16"]),
                   channels_last=bool(t["channels_last"]),
                   input_mean=float(c3d["clips"]["input_mean"]), input_std=float(c3d["clips"]["input_std"]),
                   optimizer=str(t["optimizer"]), lr_schedule=str(t["lr_schedule"]),
                   warmup_steps=int(t["warmup_steps"]), eval_every=int(t["validation"]["eval_every"]),
                   flip_negates_flow_x=bool(c3d["clips"]["flip_negates_flow_x"]))

    def lr_at(self, step: int) -> float:
        """Learning rate of step ``step`` (0-based): a linear warm-up over ``warmup_steps``, then
        constant or a cosine decay to 0 at ``iterations``. A function of the step alone, so a
        resumed run sets exactly the rates of an uninterrupted one."""
        factor = lr_factor(step, self.iterations, self.lr_schedule, self.warmup_steps)
        return self.lr * factor


def _step_seed(seed: int, step: int) -> int:
    # a fixed, well-mixed 63-bit seed per (run seed, step)
    return int(np.random.SeedSequence([int(seed), int(step)]).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _autocast(device: torch.device, bf16: bool):
    if device.type == "cuda" and bf16:
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast(device.type, enabled=False)


def prepare_model(model: C3D, device: torch.device, settings: TrainSettings) -> C3D:
    model = model.to(device)
    if settings.channels_last:  # faster for conv3d on CUDA and with oneDNN on the CPU (measured)
        model = model.to(memory_format=torch.channels_last_3d)
    return model


def _to_input(x: torch.Tensor, device: torch.device, settings: TrainSettings) -> torch.Tensor:
    if settings.channels_last:
        return x.contiguous(memory_format=torch.channels_last_3d)
    return x


def make_optimizer(model: C3D, settings: TrainSettings) -> torch.optim.Optimizer:
    """SGD with momentum (the paper); Adam is offered for short from-scratch CPU runs."""
    if settings.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=settings.momentum,
                               weight_decay=settings.weight_decay)
    if settings.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    raise ValueError(f"unknown optimizer {settings.optimizer!r}")


def train(model: C3D, clips: torch.Tensor, labels: np.ndarray, settings: TrainSettings, *, crop: int,
          alpha: float, q_table: np.ndarray | None, seed: int, device: torch.device,
          checkpoint_path: str | os.PathLike | None = None, fingerprint: str = "",
          run=None, callbacks: Sequence[Callable[[int, dict], None]] = (),
          clip_stats: tuple[torch.Tensor, torch.Tensor] | None = None,
          validate: Callable[[C3D], Sequence[float]] | None = None) -> dict:
    """Train ``model`` in place on uint8 ``clips`` (N, L, h, w, C); returns a summary dict.

    ``clip_stats``: per-clip (mean, std) tensors of shape (N, C) replacing the settings' scalar
    normalisation (``clips.normalise: per_video``).
    ``validate(model) -> (accuracy, -loss)`` (validation-based early stopping): called every
    ``settings.eval_every`` steps and at the end; the model ends with the weights of the best
    validation step (``best_step`` in the summary), not those of the last step.
    ``callbacks(step, parts)`` run after each optimisation step (tests use them to slow a run
    down so that it can be killed mid-way)."""
    if alpha > 0 and (model.dc is None or q_table is None):
        raise ValueError("alpha > 0 needs a network with a DC layer and target codes")
    model = prepare_model(model, device, settings)
    clips = clips.to(device)
    y_all = torch.as_tensor(labels, dtype=torch.long, device=device)
    q = torch.as_tensor(q_table, device=device) if q_table is not None else None
    opt = make_optimizer(model, settings)
    ckpt = Path(checkpoint_path) if checkpoint_path else None
    modules: dict = {"model": model}
    best = None
    if validate is not None:
        if settings.eval_every < 1:
            raise ValueError("validation needs eval_every >= 1")
        best = BestWeights(model).to(device)
        modules["best"] = best
    start, _ = resume(ckpt, fingerprint, modules, opt, map_location=device)
    if clip_stats is not None:
        c_mean, c_std = (torch.as_tensor(v, dtype=torch.float32, device=device) for v in clip_stats)
    n = len(clips)
    timed = settings.warmup_steps > 0 or settings.lr_schedule != "constant"
    model.train()
    t0 = time.perf_counter()
    parts: dict = {}
    bar = tqdm(range(start, settings.iterations), initial=start, total=settings.iterations,
               desc=f"c3d train (alpha={alpha:g})", mininterval=5.0, disable=None)
    for step in bar:
        s = _step_seed(seed, step)
        gen = torch.Generator().manual_seed(s)
        if n >= settings.batch_size:
            idx = torch.randperm(n, generator=gen)[: settings.batch_size]
        else:
            idx = torch.randint(0, n, (settings.batch_size,), generator=gen)
        idx = idx.to(device)
        if clip_stats is not None:
            mean, std = c_mean[idx][:, :, None, None, None], c_std[idx][:, :, None, None, None]
        else:
            mean, std = settings.input_mean, settings.input_std
        x = make_batch(clips[idx], crop, train=True, generator=gen, mean=mean, std=std,
                       flip_negates_flow_x=settings.flip_negates_flow_x)
        x = _to_input(x, device, settings)
        y = y_all[idx]
        torch.manual_seed(s ^ 0x5EED)  # dropout masks of this step
        with _autocast(device, settings.bf16):
            out = model(x)
        loss, parts = dcl_loss(out["logits"], y, out.get("codes"), q, alpha)
        if not np.isfinite(parts["loss"]):
            raise TrainingDiverged(f"training diverged at step {step} (loss {parts['loss']}); "
                                   "lower c3d.train.lr")
        if timed:
            for group in opt.param_groups:
                group["lr"] = settings.lr_at(step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        done = step + 1
        with torch.no_grad():
            parts["train_batch_acc"] = float((out["logits"].argmax(1) == y).float().mean())
        if best is not None and (done % settings.eval_every == 0 or done == settings.iterations):
            val = validate(model)
            best.offer(done, val, model)
            model.train()
            parts["val_accuracy"], parts["val_loss"] = float(val[0]), -float(val[1])
        if run is not None and (done % settings.log_every == 0 or done == settings.iterations):
            run.log_metrics(parts, step=done)
        if done % max(1, settings.log_every) == 0:
            bar.set_postfix(loss=f"{parts['loss']:.3f}")
        if ckpt is not None and (done % settings.checkpoint_every == 0 or done == settings.iterations):
            save_progress(ckpt, fingerprint, done, modules, opt)
        for cb in callbacks:
            cb(done, parts)
    elapsed = time.perf_counter() - t0
    steps = settings.iterations - start
    extra = {}
    if best is not None:
        if int(best.step) < 0:  # resumed after the last step: nothing offered in this process
            val = validate(model)
            best.offer(settings.iterations, val, model)
        model.load_state_dict(best.model.state_dict())
        extra = {"best_step": int(best.step), "best_val_accuracy": float(best.score[0]),
                 "best_val_loss": -float(best.score[1])}
    return {"start_step": start, "steps_run": steps, "train_seconds": elapsed,
            "train_clips_per_s": steps * settings.batch_size / elapsed if elapsed > 0 and steps else float("nan"),
            **{f"final_{k}": v for k, v in parts.items()}, **extra}


@torch.no_grad()
def predict_clips(model: C3D, clips: torch.Tensor, settings: TrainSettings, *, crop: int,
                  device: torch.device, use_codes: bool,
                  clip_stats: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per clip: softmax (N, C) and codes (N, D): the DC layer's output, or fc7 without one.
    ``clip_stats``: per-clip (mean, std) of shape (N, C), as in :func:`train`."""
    model = prepare_model(model, device, settings)
    model.eval()
    probs, codes = [], []
    for i in range(0, len(clips), settings.eval_batch_size):
        if clip_stats is not None:
            mean, std = (torch.as_tensor(v[i:i + settings.eval_batch_size], dtype=torch.float32)
                         [:, :, None, None, None] for v in clip_stats)
        else:
            mean, std = settings.input_mean, settings.input_std
        x = make_batch(clips[i:i + settings.eval_batch_size].to(device), crop, train=False,
                       mean=mean, std=std)
        with _autocast(device, settings.bf16):
            out = model(_to_input(x, device, settings))
        probs.append(torch.softmax(out["logits"].float(), dim=1).cpu())
        codes.append((out["codes"] if use_codes else out["fc7"]).float().cpu())
    return torch.cat(probs).numpy(), torch.cat(codes).numpy()


def video_average(values: np.ndarray, video: np.ndarray, n_videos: int) -> np.ndarray:
    """Mean of the clip rows of each video."""
    sums = np.zeros((n_videos,) + values.shape[1:], dtype=np.float64)
    np.add.at(sums, video, values)
    counts = np.bincount(video, minlength=n_videos).astype(np.float64)
    if np.any(counts == 0):
        raise ValueError("a video has no clips")
    return (sums / counts.reshape((-1,) + (1,) * (values.ndim - 1))).astype(np.float32)


def clip_variation_features(clips: torch.Tensor, crop: int, pool: int) -> np.ndarray:
    """Down-sampled centre crops of the training clips (features for the intra-class variation)."""
    feats = []
    for i in range(0, len(clips), 64):
        x = make_batch(clips[i:i + 64].cpu(), crop, train=False)  # (B, 3, L, crop, crop)
        x = torch.nn.functional.avg_pool3d(x, kernel_size=(1, pool, pool)) if pool > 1 else x
        feats.append(x.flatten(1).numpy())
    return np.concatenate(feats)


def video_stats(clips: torch.Tensor, video: np.ndarray, n_videos: int) -> tuple[np.ndarray, np.ndarray]:
    """Per video and channel: mean and std (floored at 1 grey level) of the pixels of its clips,
    (n_videos, C) each (``clips.normalise: per_video``: thermal gain differs between videos)."""
    c = int(clips.shape[-1])
    sums = np.zeros((n_videos, c)), np.zeros((n_videos, c))
    counts = np.zeros(n_videos)
    for i in range(len(clips)):
        x = clips[i].reshape(-1, c).to(torch.float64)
        v = int(video[i])
        sums[0][v] += x.sum(0).numpy()
        sums[1][v] += (x * x).sum(0).numpy()
        counts[v] += x.shape[0]
    if np.any(counts == 0):
        raise ValueError("a video has no clips")
    mean = sums[0] / counts[:, None]
    var = np.maximum(sums[1] / counts[:, None] - mean ** 2, 0.0)
    return mean.astype(np.float32), np.maximum(np.sqrt(var), 1.0).astype(np.float32)


def validation_videos(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Boolean mask over training videos: ``per_class`` of each class held out for validation
    (drawn with ``seed``; a class keeps at least one training video)."""
    rng = np.random.default_rng([int(seed), 7919])
    mask = np.zeros(len(labels), dtype=bool)
    for k in np.unique(labels):
        idx = np.flatnonzero(labels == k)
        take = min(int(per_class), len(idx) - 1)
        if take > 0:
            mask[rng.choice(idx, size=take, replace=False)] = True
    return mask


@dataclass
class StreamResult:
    summary: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)


def run_stream(videos, stream: str, alpha: float, c3d: dict, *, seed: int, split: int, n_classes: int,
               out_path: str | os.PathLike, checkpoint_path: str | os.PathLike | None = None,
               model_path: str | os.PathLike | None = None, run=None,
               callbacks: Sequence[Callable[[int, dict], None]] = (),
               on_bad: Callable[[Exception], None] | None = None,
               flow_bound: float | None = None) -> StreamResult:
    """Train one stream on a split's training videos and write per-video predictions.

    ``flow_bound`` (flow.bound: auto, flow stream): the flow images are built from the raw flow
    with this bound when read; None reads the stored 8-bit images.

    ``videos``: a table (pandas DataFrame) with columns video_id, label_index, subset, path (the
    frame store for the IR stream, the flow store for the flow stream)."""
    videos = videos.sort_values(["subset", "video_id"], kind="stable").reset_index(drop=True)
    settings = TrainSettings.from_config(c3d)
    device = resolve_device(c3d["device"], "c3d.device")
    clip_len = int(c3d["clips"]["clip_len"])
    reader = flow_images_reader(flow_bound) if stream == "flow" else None
    data = load_clips(list(videos["path"]), list(videos["video_id"]), list(videos["label_index"]), stream,
                      clip_len, size=c3d["frame_size"], on_bad=on_bad, flow_reader=reader)
    # videos skipped as bad inputs (on_bad_input: skip) leave the table too
    videos = videos.set_index("video_id").loc[data.video_ids].reset_index()
    crop = crop_size(int(data.clips.shape[2]), c3d["clips"]["crop"])
    train_mask = (videos["subset"] == "train").to_numpy()
    if not train_mask.any() or train_mask.all():
        raise IrpipeError(f"split {split}: needs both train and test videos")
    train_set = data.subset(train_mask)
    per_video = c3d["clips"]["normalise"] == "per_video"
    stats_v = video_stats(data.clips, data.video, len(data.video_ids)) if per_video else None
    val_cfg = c3d["train"]["validation"]
    val_mask = np.zeros(len(train_set.video_ids), dtype=bool)
    run_seed = int(seed) * 1_000_003 + STREAM_SEED[stream] + 17 * int(split)
    if int(val_cfg["per_class"]) > 0:
        val_mask = validation_videos(train_set.video_labels, int(val_cfg["per_class"]), run_seed)
    val_set = train_set.subset(val_mask) if val_mask.any() else None
    fit_set = train_set.subset(~val_mask) if val_mask.any() else train_set
    stride = c3d["clips"]["train_stride"]
    if stride is not None and int(stride) != clip_len:
        keep = list(fit_set.video_ids)
        rows = videos.set_index("video_id").loc[keep]
        fit_set = load_clips(list(rows["path"]), keep, list(rows["label_index"]), stream, clip_len,
                             size=c3d["frame_size"], flow_reader=reader, stride=int(stride))
    where = {v: i for i, v in enumerate(data.video_ids)}

    def clip_stats(cs):
        if stats_v is None:
            return None
        rows = np.asarray([where[cs.video_ids[j]] for j in cs.video])
        return torch.from_numpy(stats_v[0][rows]), torch.from_numpy(stats_v[1][rows])
    if c3d["clips"]["normalise"] == "train_stats":
        # mean / std of the training clips' pixels: flow images of small motions have a std of a
        # few grey levels around 128, which fixed (128, 64) scaling shrinks to nothing
        vals = train_set.clips.to(torch.float64)
        settings.input_mean = float(vals.mean())
        settings.input_std = max(float(vals.std()), 1.0)
        del vals
    with_dc = alpha > 0
    spec = C3DSpec(n_classes=n_classes, width_scale=float(c3d["model"]["width_scale"]),
                   fc_dim=int(c3d["model"]["fc_dim"]), code_dim=int(c3d["dcl"]["code_dim"]) if with_dc else 0,
                   clip_len=clip_len, crop=crop, dropout=float(c3d["model"]["dropout"]))
    torch.manual_seed(run_seed)
    model = C3D(spec)
    pretrained = c3d.get("pretrained")
    if pretrained:
        load_port_weights(model, pretrained)
    q_table, variation = None, None
    if with_dc:
        variation = intra_class_variation(
            clip_variation_features(fit_set.clips, crop, int(c3d["dcl"]["variation_pool"])),
            fit_set.labels, n_classes)
        q_table = target_codes(spec.code_dim, n_classes, variation)
    fingerprint = config_hash({"c3d": {k: v for k, v in c3d.items() if k not in ("device",)},
                               "norm": [settings.input_mean, settings.input_std],
                               "alpha": alpha, "seed": run_seed, "spec": asdict(spec),
                               "videos": list(train_set.video_ids), "n_clips": len(train_set),
                               "pretrained": str(pretrained),
                               "data": data_digest(fit_set.clips, fit_set.labels,
                                                   *((val_set.clips, val_set.labels) if val_set is not None else ()))})
    validate = None
    if val_set is not None:
        val_stats = clip_stats(val_set)

        def validate(m):
            p, _ = predict_clips(m, val_set.clips, settings, crop=crop, device=device, use_codes=False,
                                 clip_stats=val_stats)
            v = video_average(p, val_set.video, len(val_set.video_ids))
            nll = float(-np.mean(np.log(np.maximum(v[np.arange(len(v)), val_set.video_labels], 1e-12))))
            return classification_metrics(val_set.video_labels, v)["accuracy"], -nll
    log.info("%s stream, split %d, alpha %g: %d train clips from %d videos, %d test videos; crop %d; %s",
             stream, split, alpha, len(train_set), int(train_mask.sum()), int((~train_mask).sum()), crop,
             describe_init(pretrained))
    summary = train(model, fit_set.clips, fit_set.labels, settings, crop=crop, alpha=alpha,
                    q_table=q_table, seed=run_seed, device=device, checkpoint_path=checkpoint_path,
                    fingerprint=fingerprint, run=run, callbacks=callbacks, clip_stats=clip_stats(fit_set),
                    validate=validate)
    t0 = time.perf_counter()
    probs, codes = predict_clips(model, data.clips, settings, crop=crop, device=device, use_codes=with_dc,
                                 clip_stats=clip_stats(data))
    summary["predict_seconds"] = time.perf_counter() - t0
    summary["predict_clips_per_s"] = len(data) / summary["predict_seconds"]
    n_videos = len(data.video_ids)
    v_soft = video_average(probs, data.video, n_videos)
    v_codes = video_average(codes, data.video, n_videos)
    n_clips = np.bincount(data.video, minlength=n_videos)
    labels = data.video_labels
    k = int(c3d["knn_k"])
    test = ~train_mask
    metrics = {f"softmax_{m}": v for m, v in classification_metrics(labels[test], v_soft[test]).items()}
    knn = knn_scores(v_codes[train_mask], labels[train_mask], v_codes[test], k, n_classes)
    metrics.update({f"knn_{m}": v for m, v in classification_metrics(labels[test], knn).items()})
    attrs = {"stream": stream, "alpha": float(alpha), "split": int(split), "n_clips": int(len(data)),
             "pretrained": describe_init(pretrained), "codes_source": "dc" if with_dc else "fc7",
             "code_dim": int(v_codes.shape[1]), "knn_k": k, "clip_len": clip_len, "crop": crop,
             "iterations": settings.iterations, "seed": run_seed, "padded_videos": ",".join(data.padded),
             "width_scale": spec.width_scale, "fc_dim": spec.fc_dim,
             "input_mean": settings.input_mean, "input_std": settings.input_std,
             "class_variation": "" if variation is None else ",".join(f"{v:.6g}" for v in variation)}
    if val_set is not None:  # validation-based early stopping: which step's weights predicted
        attrs.update(best_step=int(summary["best_step"]), best_val_accuracy=float(summary["best_val_accuracy"]),
                     n_val_videos=len(val_set.video_ids))
    write_predictions(out_path, data.video_ids, labels, list(videos["subset"]), v_soft, v_codes, attrs,
                      n_clips=n_clips)
    if model_path is not None:
        save_checkpoint(model_path, {"model": model.state_dict(), "spec": asdict(spec),
                                     "q_table": torch.as_tensor(q_table) if q_table is not None else torch.zeros(0)})
    summary.update(n_train_clips=len(fit_set), n_clips=len(data))
    if run is not None:
        run.log_metrics({**metrics, **{k2: v for k2, v in summary.items()
                                       if isinstance(v, (int, float)) and np.isfinite(v)}},
                        step=settings.iterations)
    log.info("%s stream, split %d, alpha %g: test softmax acc %.3f, k-NN acc %.3f (%.1f s training)",
             stream, split, alpha, metrics["softmax_accuracy"], metrics["knn_accuracy"], summary["train_seconds"])
    return StreamResult(summary=summary, metrics=metrics)
