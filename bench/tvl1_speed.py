"""TV-L1 speed: OpenCV DualTVL1 vs irpipe's TorchTVL1, side by side on the same frames.

Frame pairs per second at 128x171 and 256x293 (H x W) for
  * opencv        cv2.optflow DualTVL1, one pair at a time, ``--threads`` OpenCV threads
  * torch-cpu     TorchTVL1 eager on the CPU, the whole batch at once, ``--threads`` torch threads
  * torch-cpu-compiled   the same with torch.compile (compile time reported separately)
  * torch-cuda    TorchTVL1 on the GPU (when one is available; model named), larger batch
plus the mean end-point difference of each torch run to OpenCV's flow on the same pairs and
the share of 8-bit flow-image values (bound 20) within one grey level.

Frames: consecutive frames of ../shared/data/real_clips/armwrestling_h264_340x256.mp4 resized
(grey), or synthetic textured translations when the clip is absent (said in the output).

    python bench/tvl1_speed.py                       # writes bench/results/tvl1_speed.{md,json}
    python bench/tvl1_speed.py --no-compile --pairs 4
"""
from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from irpipe.config import validate_config  # noqa: E402
from irpipe.flow.images import flow_agreement  # noqa: E402
from irpipe.flow.tvl1 import OpenCVTVL1, set_cpu_threads  # noqa: E402
from irpipe.flow.tvl1_torch import TorchTVL1  # noqa: E402
from irpipe.io import write_json, write_text  # noqa: E402
from irpipe.report.tables import markdown_text  # noqa: E402

log = logging.getLogger("tvl1_speed")

DEFAULTS = validate_config({})["flow"]["tvl1"]  # the schema's defaults are OpenCV's
# ../shared beside the checkout (the main one, or a worktree one level further down)
CLIP_CANDIDATES = [ROOT.parent / "shared" / "data" / "real_clips" / "armwrestling_h264_340x256.mp4",
                   ROOT.parent.parent / "shared" / "data" / "real_clips" / "armwrestling_h264_340x256.mp4"]


def load_frames(n: int, h: int, w: int) -> tuple[np.ndarray, str]:
    for clip in CLIP_CANDIDATES:
        if clip.exists():
            cap = cv2.VideoCapture(str(clip))
            frames = []
            while len(frames) < n + 1:
                ok, fr = cap.read()
                if not ok:
                    break
                frames.append(cv2.resize(cv2.cvtColor(fr, cv2.COLOR_BGR2GRAY), (w, h), interpolation=cv2.INTER_AREA))
            cap.release()
            if len(frames) == n + 1:
                return np.stack(frames), f"real clip {clip.name} (grey, resized)"
    rng = np.random.default_rng(0)
    big = cv2.GaussianBlur(rng.random((h + 64, w + 64)).astype(np.float32), (0, 0), 1.5)
    big = (big - big.min()) / (big.max() - big.min()) * 255
    frames = [big[32 + i // 2:32 + i // 2 + h, 32 + i:32 + i + w] for i in range(n + 1)]
    return np.stack(frames).astype(np.uint8), "SYNTHETIC textured translation (real clip absent)"


def timed(fn, repeat: int = 1, sync=None):
    """(last result, median seconds over ``repeat`` calls)."""
    times = []
    res = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn()
        if sync:
            sync()
        times.append(time.perf_counter() - t0)
    return res, float(np.median(times))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="128x171,256x293", help="HxW list")
    ap.add_argument("--pairs", type=int, default=8, help="frame pairs per size on the CPU")
    ap.add_argument("--gpu-pairs", type=int, default=256, help="frame pairs per size on the GPU (frames repeated)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5, help="interleaved timing rounds on the CPU (median reported)")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile CPU run")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "tvl1_speed"))
    ap.add_argument("--note", default="", help="free text stored with the results (e.g. machine load)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    set_cpu_threads(args.threads, "torch")
    cpu_name = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")),
                    platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    gpu_name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    log.info("CPU: %s, %d threads (load avg %.1f); GPU: %s", cpu_name, args.threads, load or -1, gpu_name or "none")
    results = {"cpu": cpu_name, "threads": args.threads, "gpu": gpu_name, "load_avg_1min": load,
               "torch": torch.__version__, "opencv": cv2.__version__, "params": DEFAULTS,
               "note": args.note, "rows": []}

    for size in args.sizes.split(","):
        h, w = (int(v) for v in size.split("x"))
        frames, source = load_frames(args.pairs, h, w)
        p0, p1 = frames[:-1], frames[1:]
        n = len(p0)
        log.info("%dx%d: %d pairs from %s", h, w, n, source)

        # CPU backends timed in interleaved rounds (opencv, eager, compiled, opencv, ...), so that
        # a change of machine load hits all of them; the median round is reported
        reference = OpenCVTVL1(DEFAULTS)
        runners = {"opencv": lambda: reference.compute(p0, p1)}
        tv = TorchTVL1(DEFAULTS, device="cpu")
        runners["torch"] = lambda: tv.compute(p0, p1)
        compile_s = None
        if not args.no_compile:
            tvc = TorchTVL1(DEFAULTS, device="cpu", compile=True)
            t0 = time.perf_counter()
            tvc.compute(p0, p1)  # compiles (kernels are reused by the next size)
            compile_s = time.perf_counter() - t0
            runners["torch+compile"] = lambda: tvc.compute(p0, p1)
        times: dict[str, list[float]] = {k: [] for k in runners}
        outs = {}
        for _ in range(args.repeat):
            for name, fn in runners.items():
                outs[name], t = timed(fn)
                times[name].append(t)
        med = {k: float(np.median(v)) for k, v in times.items()}
        ref, t_cv = outs["opencv"], med["opencv"]
        rows = []
        for name in runners:
            t = med[name]
            row = {"size": size, "backend": name, "device": "cpu", "pairs": n, "seconds": t,
                   "seconds_all_rounds": times[name], "pairs_per_s": n / t, "ratio_to_opencv": t_cv / t,
                   "source": source}
            if name != "opencv":
                row.update(flow_agreement(outs[name], ref))
            if name == "torch+compile":
                row["first_call_s"] = compile_s
            rows.append(row)
            log.info("  %-14s %.2f pairs/s (x%.2f)%s", name, n / t, t_cv / t,
                     f", EPE {row['mean_epe_px']:.4f}" if name != "opencv" else "")

        if gpu_name:
            reps = -(-args.gpu_pairs // n)
            g0, g1 = np.tile(p0, (reps, 1, 1))[:args.gpu_pairs], np.tile(p1, (reps, 1, 1))[:args.gpu_pairs]
            for compiled in (False, True):
                tvg = TorchTVL1(DEFAULTS, device="cuda", compile=compiled)
                tvg.compute(g0[:n], g1[:n])  # warm-up (and compile) on a small batch
                tvg.compute(g0, g1)
                out, t = timed(lambda: tvg.compute(g0, g1), repeat=3, sync=torch.cuda.synchronize)
                m = len(g0)
                rows.append({"size": size, "backend": "torch+compile" if compiled else "torch", "device": gpu_name,
                             "pairs": m, "seconds": t, "pairs_per_s": m / t, "ratio_to_opencv": (m / t) / (n / t_cv),
                             "source": source, **flow_agreement(out[:n], ref)})
                log.info("  cuda%s %.1f pairs/s (x%.1f OpenCV on %d CPU threads)",
                         " compiled" if compiled else "", m / t, (m / t) / (n / t_cv), args.threads)
        results["rows"].extend(rows)

    out = Path(args.out)
    write_json(out.with_suffix(".json"), results)
    lines = ["# TV-L1 speed: OpenCV DualTVL1 vs TorchTVL1",
             "",
             f"CPU: {cpu_name}, {args.threads} threads for both backends; GPU: {gpu_name or 'none'}; "
             f"torch {torch.__version__}, OpenCV {cv2.__version__}; 1-min load average at start {load:.1f}.",
             "OpenCV default DualTVL1 parameters for both. Ratio = pairs/s over OpenCV's pairs/s on the CPU.",
             f"CPU times: median of {args.repeat} interleaved rounds (OpenCV, torch eager, torch compiled, OpenCV, ...) "
             "on the same frames in one process; the compiled backend's first call (compile) is excluded "
             "and reported in the JSON (first_call_s).",
             "EPE = mean end-point difference to OpenCV's flow on the same pairs; 8-bit xy = share of pixels "
             "whose x and y flow-image values (bound 20) are both within one grey level of OpenCV's; "
             "mag = the same for the magnitude channel (finer step, 0.078 px).",
             ""]
    if args.note:
        lines += [f"Note: {args.note}", ""]
    def fmt(r, key):
        return f"{r[key]:.4f}" if key in r else "ref"

    table = pd.DataFrame([{
        "size (HxW)": r["size"], "backend": r["backend"], "device": r["device"], "pairs": str(r["pairs"]),
        "pairs/s": f"{r['pairs_per_s']:.2f}", "ratio to OpenCV": f"{r['ratio_to_opencv']:.2f}",
        "EPE px": fmt(r, "mean_epe_px"), "8-bit xy": fmt(r, "img8_xy_within_1"),
        "mag": fmt(r, "img8_mag_within_1"), "frames": r["source"]} for r in results["rows"]])
    write_text(out.with_suffix(".md"), "\n".join(lines) + "\n" + markdown_text(table))
    log.info("wrote %s.{md,json}", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
