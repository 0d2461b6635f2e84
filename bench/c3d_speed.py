"""C3D training and inference throughput (clips/s), on the CPU and, when present, on the GPU.

For each device and network size (``embedded``: the CPU-sized default of config.yaml; ``paper``:
the full C3D at 3x16x112x112) it times the real training step of irpipe.train.c3d_trainer
(uint8 clips already on the device, crop + flip + normalisation there, forward, L = Lc + alpha
||q - A x||^2, backward, SGD step; bf16 autocast and channels_last_3d on CUDA) and the inference
pass (centre crop, softmax + codes). On a GPU it also reports the achieved training FLOP rate as a
fraction of the device's dense bf16 peak (model FLOPs counted analytically: 2 x MACs of every
conv / fc layer per clip forward, x3 for forward + backward).

    python bench/c3d_speed.py                    # cpu (+ cuda if available), both sizes
    python bench/c3d_speed.py --devices cuda --sizes paper --steps 30 --batch-paper 30

Writes bench/results/c3d_speed_<device>.json and .md (the figures of the last run per device).
"""
from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from irpipe.data.clips import make_batch  # noqa: E402
from irpipe.models.c3d import C3D, CONV_LAYERS, POOLS, C3DSpec, count_parameters  # noqa: E402
from irpipe.models.dcl import dcl_loss, target_codes  # noqa: E402
from irpipe.report.tables import markdown_text  # noqa: E402
from irpipe.train.c3d_trainer import TrainSettings, _autocast, _to_input, make_optimizer, prepare_model  # noqa: E402

log = logging.getLogger("c3d_speed")
RESULTS = Path(__file__).resolve().parent / "results"

SIZES = {
    # name: spec kwargs, frame size (h, w), optimizer
    "embedded": (dict(width_scale=0.0625, fc_dim=128, code_dim=64, clip_len=16, crop=56), (64, 86), "adam"),
    "paper": (dict(width_scale=1.0, fc_dim=4096, code_dim=4096, clip_len=16, crop=112), (128, 171), "sgd"),
}

# dense (no sparsity) bf16 tensor-core peaks, FLOP/s, by device-name substring (first match wins)
BF16_PEAK = [
    ("H200", 989.4e12), ("H100 PCIe", 756.0e12), ("H100 NVL", 835.0e12), ("H100", 989.4e12),
    ("GH200", 989.4e12), ("B200", 2250e12), ("A100", 312.0e12), ("A800", 312.0e12), ("L40S", 362.1e12),
    ("L40", 181.0e12), ("L4", 121.0e12), ("A10", 125.0e12), ("RTX 4090", 165.2e12), ("RTX 3090", 71.0e12),
]


def forward_macs(spec: C3DSpec) -> int:
    """Multiply-accumulates of one clip's forward pass (convs and fcs; pools/ReLU ignored)."""
    t, h, w = spec.clip_len, spec.crop, spec.crop
    cin, macs = spec.in_channels, 0
    for (name, _), cout in zip(CONV_LAYERS, spec.channels()):
        macs += t * h * w * cout * cin * 27
        cin = cout
        if name in POOLS:
            _, k, s, p = POOLS[name]
            t, h, w = [(n + 2 * pp - kk) // ss + 1 for n, kk, ss, pp in zip((t, h, w), k, s, p)]
    c5, t5, h5, w5 = spec.pool5_shape()
    macs += c5 * t5 * h5 * w5 * spec.fc_dim + spec.fc_dim * spec.fc_dim + spec.fc_dim * spec.n_classes
    macs += spec.fc_dim * spec.code_dim
    return int(macs)


def peak_bf16(name: str) -> float | None:
    for key, peak in BF16_PEAK:
        if key.lower() in name.lower():
            return peak
    return None


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def bench_one(size: str, dev: torch.device, batch: int, steps: int, warmup: int) -> dict:
    kw, (fh, fw), optimizer = SIZES[size]
    spec = C3DSpec(n_classes=12, **kw)
    torch.manual_seed(0)
    model = C3D(spec)
    settings = TrainSettings(batch_size=batch, lr=1e-4 if optimizer == "sgd" else 1e-3, optimizer=optimizer)
    model = prepare_model(model, dev, settings)
    opt = make_optimizer(model, settings)
    clips = torch.randint(0, 256, (max(2 * batch, 8), spec.clip_len, fh, fw, 1), dtype=torch.uint8, device=dev)
    labels = torch.randint(0, 12, (len(clips),), device=dev)
    q = torch.as_tensor(target_codes(spec.code_dim, 12, np.arange(12.0)), device=dev)
    gen = torch.Generator().manual_seed(0)

    def train_step():
        idx = torch.randint(0, len(clips), (batch,), generator=gen).to(dev)
        x = _to_input(make_batch(clips[idx], spec.crop, True, gen), dev, settings)
        with _autocast(dev, settings.bf16):
            out = model(x)
        loss, _ = dcl_loss(out["logits"], labels[idx], out["codes"], q, 0.02)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    model.train()
    for _ in range(warmup):
        train_step()
    _sync(dev)
    t0 = time.perf_counter()
    for _ in range(steps):
        train_step()
    _sync(dev)
    train_s = time.perf_counter() - t0

    model.eval()
    with torch.no_grad():
        def infer():
            x = _to_input(make_batch(clips[:batch], spec.crop, False), dev, settings)
            with _autocast(dev, settings.bf16):
                out = model(x)
            return torch.softmax(out["logits"].float(), 1), out["codes"]
        for _ in range(warmup):
            infer()
        _sync(dev)
        t0 = time.perf_counter()
        for _ in range(steps):
            infer()
        _sync(dev)
        infer_s = time.perf_counter() - t0

    macs = forward_macs(spec)
    train_cps = steps * batch / train_s
    res = {"size": size, "device": str(dev), "batch": batch, "steps": steps, "params": count_parameters(model),
           "crop": spec.crop, "width_scale": spec.width_scale, "fc_dim": spec.fc_dim, "code_dim": spec.code_dim,
           "optimizer": optimizer, "forward_gflop_per_clip": 2 * macs / 1e9,
           "train_clips_per_s": train_cps, "infer_clips_per_s": steps * batch / infer_s,
           "train_tflops": 3 * 2 * macs * train_cps / 1e12}
    if dev.type == "cuda":
        name = torch.cuda.get_device_name(dev)
        peak = peak_bf16(name)
        res.update(gpu=name, bf16_autocast=settings.bf16, channels_last_3d=settings.channels_last,
                   bf16_peak_tflops=peak / 1e12 if peak else None,
                   train_fraction_of_bf16_peak=(res["train_tflops"] * 1e12 / peak) if peak else None,
                   max_memory_gib=torch.cuda.max_memory_allocated(dev) / 2 ** 30)
    log.info("%s", res)
    return res


def write_results(dev_name: str, rows: list[dict], note: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {"host": platform.node(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "note": note}
    (RESULTS / f"c3d_speed_{dev_name}.json").write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
    lines = [f"# C3D speed on {dev_name} ({meta['time_utc']}, torch {meta['torch']}, {meta['threads']} threads)", "",
             note, ""]
    table = pd.DataFrame([{
        "size": r["size"], "device": r.get("gpu", r["device"]), "batch": str(r["batch"]),
        "params": f"{r['params']:,}", "GFLOP/clip fwd": f"{r['forward_gflop_per_clip']:.2f}",
        "train clips/s": f"{r['train_clips_per_s']:.2f}", "infer clips/s": f"{r['infer_clips_per_s']:.2f}",
        "train GFLOP/s": f"{1000 * r['train_tflops']:.2f}",
        "of bf16 peak": "" if r.get("train_fraction_of_bf16_peak") is None
        else f"{100 * r['train_fraction_of_bf16_peak']:.1f}%"} for r in rows])
    (RESULTS / f"c3d_speed_{dev_name}.md").write_text("\n".join(lines) + "\n" + markdown_text(table))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", default="auto", help="comma list of cpu,cuda; auto = cpu plus cuda if available")
    ap.add_argument("--sizes", default="embedded,paper")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=0, help="timed steps (default: 5 CPU embedded, 2 CPU paper, 30 GPU)")
    ap.add_argument("--batch-embedded", type=int, default=16)
    ap.add_argument("--batch-paper", type=int, default=0, help="default: 2 on CPU, 30 (the paper's) on GPU")
    ap.add_argument("--note", default="", help="free text recorded with the figures (e.g. machine load)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) if args.devices == "auto" \
        else args.devices.split(",")
    for d in devices:
        dev = torch.device(d)
        if dev.type == "cuda" and not torch.cuda.is_available():
            log.error("no CUDA device available")
            return 1
        rows = []
        for size in args.sizes.split(","):
            gpu = dev.type == "cuda"
            batch = args.batch_embedded if size == "embedded" else (args.batch_paper or (30 if gpu else 2))
            steps = args.steps or (30 if gpu else (5 if size == "embedded" else 2))
            rows.append(bench_one(size, dev, batch, steps, warmup=3 if gpu else 1))
        write_results(dev.type, rows, args.note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
