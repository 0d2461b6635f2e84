"""Improved dense trajectories: frames per second at InfAR's frame size (256x293).

    python bench/idt_speed.py [--frames 60] [--height 256] [--width 293] [--threads 1]
                              [--out bench/results/idt_speed.json] [--note "..."]

Synthesises a textured thermal-like clip (smooth background, a slow camera pan and two
blobs moving independently, so that tracking, camera-motion compensation and descriptor
computation all do real work), runs ``irpipe.features.idt.extract_idt`` with the
default (official) parameters on one process and ``--threads`` BLAS / OpenCV threads,
and records frames per second (frame pairs processed / wall time), the trajectory counts
and the machine. ``frames_per_cpu_s`` (frame pairs / process CPU time) is less sensitive
to other load on a shared machine than the wall-clock figure. The official C++ code runs at about 1 frame/s at this size.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def synth_clip(n: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    big = cv2.GaussianBlur((rng.random((h + 80, w + 2 * n + 80)) * 255).astype(np.uint8), (0, 0), 3)
    blob = cv2.GaussianBlur((rng.random((48, 32)) * 255).astype(np.uint8), (0, 0), 1.5)
    frames = []
    for t in range(n):
        f = big[40:40 + h, 40 + t // 2:40 + t // 2 + w].copy()  # pan 0.5 px / frame
        for k, (x0, y0, vx, vy) in enumerate([(20, 60, 2.5, 0.5), (w - 80, h - 110, -2.0, -1.0)]):
            x, y = int(x0 + vx * t) % (w - 32), int(y0 + vy * t) % (h - 48)
            f[y:y + 48, x:x + 32] = blob if k == 0 else 255 - blob
        frames.append(f)
    return np.stack(frames)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--width", type=int, default=293)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "idt_speed.json")
    ap.add_argument("--note", default="")
    args = ap.parse_args()

    import cv2
    from threadpoolctl import threadpool_limits

    from irpipe.features.idt import extract_idt
    from irpipe.io import write_json

    cv2.setNumThreads(args.threads)
    clip = synth_clip(args.frames, args.height, args.width)
    with threadpool_limits(args.threads):
        extract_idt(clip[:17])  # warm-up (imports, allocations)
        t0, c0 = time.perf_counter(), time.process_time()
        arrays, stats = extract_idt(clip)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    fps = (args.frames - 1) / wall
    result = {
        "benchmark": "idt_speed", "frames": args.frames, "height": args.height, "width": args.width,
        "threads": args.threads, "wall_s": round(wall, 3), "frames_per_s": round(fps, 2),
        "cpu_s": round(cpu, 3), "frames_per_cpu_s": round((args.frames - 1) / cpu, 2),
        "trajectories_kept": int(stats["kept"]), "removed_static": int(stats["static"]),
        "removed_camera": int(stats["camera"]), "removed_erratic": int(stats["erratic"]),
        "n_scales": int(stats["n_scales"]), "target_frames_per_s": 1.0, "aim_frames_per_s": 5.0,
        "cpu": cpu_name(), "cpu_count": os.cpu_count(), "load_avg_1min": round(os.getloadavg()[0], 2),
        "opencv": cv2.__version__, "note": args.note,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_json(args.out, result)
    print(f"IDT at {args.height}x{args.width}: {fps:.2f} frames/s ({args.frames - 1} frame pairs in {wall:.1f} s); "
          f"{(args.frames - 1) / cpu:.2f} per CPU-second; {stats['kept']} trajectories kept -> {args.out}")


if __name__ == "__main__":
    main()
