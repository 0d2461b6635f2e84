#!/usr/bin/env python
"""End-to-end detection inference speed: FEN + IR I3D + flow I3D + SCA + TGM head.

A dummy video of ``--frames`` frames (the paper: 100) at ``--size`` goes through the whole
InfDetNet inference path: FEN on frame pairs downsampled x4, its flow upsampled x4 into the
flow I3D, the IR I3D on the frames, SCA, TGM head, sigmoid. Reports frames per second
(after ``--warmup`` untimed runs, median of ``--repeats``) beside the paper's 290 frames/s on
four V100 GPUs. Two settings by default: the paper's (224x224, full-width I3D, 1024-d) and
the embedded CPU default (64x80, quarter-width I3D).

    python bench/detection_speed.py [--device cpu|cuda] [--threads 2] [--out bench/results/detection_speed.json]
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from irpipe.models.detector import SnippetDetector  # noqa: E402
from irpipe.models.fen import FlowEstimationNet, fen_input  # noqa: E402
from irpipe.models.i3d import InceptionI3d  # noqa: E402

PAPER_FPS = 290.0

SETTINGS = {
    "paper_224_full": {"size": (224, 224), "width": 1.0, "hidden": 512},
    "embedded_64x80_w0.25": {"size": (64, 80), "width": 0.25, "hidden": 128},
}


class InfDetNetInference(torch.nn.Module):
    def __init__(self, width: float, hidden: int, n_classes: int = 3):
        super().__init__()
        self.fen = FlowEstimationNet(6, 2)
        self.ir = InceptionI3d(400, 3, width=width, logits=False)
        self.flow = InceptionI3d(400, 2, width=width, logits=False)
        self.det = SnippetDetector("sca", self.ir.feature_dim, n_classes, head={"hidden": hidden})

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """frames (T, 3, H, W) in [-1, 1] -> snippet probabilities (1, C, ceil(T/8))."""
        est = self.fen(fen_input(frames, 4))
        up = F.interpolate(est, size=frames.shape[-2:], mode="bilinear", align_corners=False)
        flow = torch.cat([up, torch.zeros_like(up[:1])], 0).permute(1, 0, 2, 3)[None]
        xi = self.ir.extract_features(frames.permute(1, 0, 2, 3)[None])
        xf = self.flow.extract_features(flow)
        mask = torch.ones(1, xi.shape[-1], device=frames.device)
        return torch.sigmoid(self.det(xi, xf, mask))


def bench(setting: dict, frames: int, device: str, repeats: int, warmup: int) -> dict:
    torch.manual_seed(0)
    model = InfDetNetInference(setting["width"], setting["hidden"]).to(device).eval()
    x = torch.rand(frames, 3, *setting["size"], device=device) * 2 - 1
    times = []
    with torch.no_grad():
        for i in range(warmup + repeats):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t = time.perf_counter()
            out = model(x)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            if i >= warmup:
                times.append(time.perf_counter() - t)
    med = statistics.median(times)
    return {"frames": frames, "size": list(setting["size"]), "i3d_width": setting["width"],
            "feature_dim": model.ir.feature_dim, "output_shape": list(out.shape), "seconds_median": round(med, 4),
            "seconds_all": [round(t, 4) for t in times], "fps": round(frames / med, 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    ap.add_argument("--note", default="", help="e.g. 'machine loaded by other jobs'")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    device_name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else platform.processor() or "cpu"
    res = {"device": args.device, "device_name": device_name, "threads": args.threads, "torch": torch.__version__,
           "paper_fps": PAPER_FPS, "paper_hardware": "4x V100, 100-frame dummy video", "note": args.note,
           "results": {}}
    for name in args.settings:
        r = bench(SETTINGS[name], args.frames, args.device, args.repeats, args.warmup)
        res["results"][name] = r
        print(f"{name}: {r['fps']:.1f} frames/s on {args.device} ({device_name}); paper {PAPER_FPS} frames/s on 4x V100",
              flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
