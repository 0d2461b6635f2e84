"""A/B of the two hottest kernels of the embedded default between two checkouts of irpipe.

    git worktree add /tmp/irpipe-before <commit>
    python bench/solver_ab.py /tmp/irpipe-before .  [--rounds 7]

For each checkout, in separate processes taking turns (A, B, B, A, ...: a drifting machine hits
both alike), it times

* ``tvl1``: the torch TV-L1 solver (CPU, one thread, OpenCV's default parameters) on 32 pairs of
  a textured 64x80 video moving a few pixels a frame, in two batches of 16 (the embedded
  default's detection frame size and batch);
* ``c3d``: the C3D training step of the embedded default (width 1/16, fc 128, DC layer 64,
  16 clips of 1x16x56x56, Adam, channels_last_3d, one thread), median of 15 steps after 2
  warm-up steps;

and checks that both checkouts compute the same bits (the flow; the weights after 6 steps).
Reports per kernel the median time of each checkout and the median of the per-round ratios, and
writes ``bench/results/solver_ab.{json,md}``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _frames(n: int = 33, h: int = 64, w: int = 80):
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    big = cv2.GaussianBlur(rng.random((h + 80, w + 80)).astype(np.float32), (0, 0), 2.0)
    big = ((big - big.min()) / (big.max() - big.min()) * 255).astype(np.uint8)
    return np.stack([big[40 + (i % 7) - 3:40 + (i % 7) - 3 + h, 40 + i % 11:40 + i % 11 + w] for i in range(n)])


def _worker(kernel: str, root: str) -> dict:
    """One timing in this process, with irpipe imported from ``root``."""
    sys.path.insert(0, str(Path(root).resolve()))
    # its own hashing, not irpipe.checkpoints.data_digest: irpipe here is the checkout under test,
    # and both sides must be digested by the same code
    import hashlib

    import numpy as np
    import torch

    torch.set_num_threads(1)
    import cv2
    cv2.setNumThreads(1)
    if kernel == "tvl1":
        from irpipe.config import validate_config
        from irpipe.flow.tvl1_torch import TorchTVL1

        frames = _frames()
        engine = TorchTVL1(validate_config({})["flow"]["tvl1"])
        t0 = time.perf_counter()
        flow = np.concatenate([engine.compute(frames[s:s + 16], frames[s + 1:s + 17]) for s in (0, 16)])
        seconds = time.perf_counter() - t0
        digest = hashlib.blake2b(flow.tobytes(), digest_size=8).hexdigest()
        return {"seconds": seconds, "digest": digest}
    from irpipe.models.c3d import C3D, C3DSpec

    torch.manual_seed(0)
    spec = C3DSpec(n_classes=12, width_scale=0.0625, fc_dim=128, code_dim=64, clip_len=16, crop=56,
                   dropout=0.2, in_channels=1)
    net = C3D(spec).to(memory_format=torch.channels_last_3d)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(16, 1, 16, 56, 56, generator=gen)
    x[:, :, :, :20, :20] = 0.5  # flat regions, as thermal backgrounds: ties in the poolings
    x = x.contiguous(memory_format=torch.channels_last_3d)
    y = torch.randint(0, 12, (16,), generator=gen)
    times = []
    for step in range(17):
        torch.manual_seed(100 + step)
        t0 = time.perf_counter()
        out = net(x)
        loss = torch.nn.functional.cross_entropy(out["logits"], y) + 0.02 * out["codes"].square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    h = hashlib.blake2b(digest_size=8)
    for v in net.state_dict().values():
        h.update(v.contiguous().numpy().tobytes())
    return {"seconds": statistics.median(times[2:]), "digest": h.hexdigest()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before", nargs="?", help="checkout A (e.g. a git worktree of the previous commit)")
    ap.add_argument("after", nargs="?", help="checkout B")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--kernels", nargs="+", default=["tvl1", "c3d"], choices=["tvl1", "c3d"])
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(_worker(*args.worker)))
        return
    if not (args.before and args.after):
        ap.error("give two checkouts: before and after")
    roots = {"before": args.before, "after": args.after}
    runs: dict = {k: {"before": [], "after": []} for k in args.kernels}
    digests: dict = {k: {"before": set(), "after": set()} for k in runs}
    for r in range(args.rounds):
        for kernel in runs:
            for side in (("before", "after") if r % 2 == 0 else ("after", "before")):
                res = json.loads(subprocess.run(
                    [sys.executable, __file__, "--worker", kernel, roots[side]],
                    check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
                runs[kernel][side].append(res["seconds"])
                digests[kernel][side].add(res["digest"])
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(
            f"{k} {v['before'][-1]:.3f} / {v['after'][-1]:.3f} s" for k, v in runs.items()), flush=True)
    from idt_speed import cpu_name  # bench/ is on sys.path when this file runs as a script

    summary = {"machine": f"{cpu_name()}, {os.cpu_count()} cores",
               "python": platform.python_version(), "rounds": args.rounds,
               "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "kernels": {}}
    for kernel, v in runs.items():
        ratios = [b / a for b, a in zip(v["before"], v["after"])]
        summary["kernels"][kernel] = {
            "before_s": statistics.median(v["before"]), "after_s": statistics.median(v["after"]),
            "speedup_median_of_ratios": statistics.median(ratios), "ratios": ratios,
            "same_bits": digests[kernel]["before"] == digests[kernel]["after"]
            and len(digests[kernel]["after"]) == 1}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "solver_ab.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [f"# solver A/B ({summary['when']}, {summary['rounds']} interleaved rounds, one thread)", "",
             "| kernel | before | after | speed-up (median of per-round ratios) | per-round ratios | same bits |",
             "|---|---|---|---|---|---|"]
    for kernel, s in summary["kernels"].items():
        lines.append(f"| {kernel} | {s['before_s']:.3f} s | {s['after_s']:.3f} s | "
                     f"**{s['speedup_median_of_ratios']:.2f}x** | "
                     f"{', '.join(f'{r:.2f}' for r in s['ratios'])} | {s['same_bits']} |")
    (RESULTS / "solver_ab.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
