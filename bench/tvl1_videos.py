"""TV-L1 on whole videos as the workflow's flow jobs run it: OpenCV vs the torch backend.

Reads the frame stores a workflow run wrote (``results/frames/<dataset>/<shard>/*.h5``), computes each
video's flow with both backends in one process (the same frames, interleaved video by video,
``--threads`` each: a flow job gets one thread by default), and reports pairs per second per
dataset and the ratio to OpenCV. The per-video agreement (mean EPE, 8-bit x/y within one level
at the config's bound) is printed beside it.

    python bench/tvl1_videos.py --run-dir /path/to/run --videos 12
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from irpipe.config import load_config  # noqa: E402
from irpipe.data.stores import read_frames  # noqa: E402
from irpipe.flow.images import flow_agreement  # noqa: E402
from irpipe.flow.tvl1 import compute_video_flow, make_backend, set_cpu_threads  # noqa: E402
from irpipe.io import write_json, write_text  # noqa: E402
from irpipe.report.tables import markdown_text  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run-dir", default=".", help="a workflow directory with results/frames")
    ap.add_argument("--config", default=str(ROOT / "config.yaml"))
    ap.add_argument("--videos", type=int, default=12, help="videos per dataset (first by name)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "tvl1_videos"))
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    fcfg = cfg["flow"]
    set_cpu_threads(args.threads, "torch")
    engines = {"opencv": make_backend("opencv", fcfg["tvl1"]), "torch": make_backend("torch", fcfg["tvl1"], "cpu")}
    rows = []
    for dataset in ("recognition", "detection"):
        # one store per video, in its shard's folder
        stores = sorted((Path(args.run_dir) / "results" / "frames" / dataset).glob("*/*.h5"))[:args.videos]
        if not stores:
            continue
        size = fcfg[f"{dataset}_size"]
        secs = {k: 0.0 for k in engines}
        pairs, epe, within, within20 = 0, [], [], []
        for s in stores:
            frames = read_frames(s, size=size)
            flows = {}
            for name, eng in engines.items():
                t0 = time.perf_counter()
                flows[name] = compute_video_flow(frames, fcfg["tvl1"], backend=name, engine=eng,
                                                 batch_size=args.batch_size)
                secs[name] += time.perf_counter() - t0
            pairs += len(frames) - 1
            at_cfg_bound = flow_agreement(flows["torch"], flows["opencv"], fcfg["bound"])
            epe.append(at_cfg_bound["mean_epe_px"])
            within.append(at_cfg_bound["img8_xy_within_1"])
            within20.append(flow_agreement(flows["torch"], flows["opencv"], 20.0)["img8_xy_within_1"])
        h, w = frames.shape[1:]
        row = {"dataset": dataset, "size": f"{h}x{w}", "videos": len(stores), "pairs": pairs,
               "opencv_pairs_per_s": pairs / secs["opencv"], "torch_pairs_per_s": pairs / secs["torch"],
               "ratio_to_opencv": secs["opencv"] / secs["torch"], "worst_mean_epe_px": max(epe),
               "worst_xy_within_1": min(within), "bound": fcfg["bound"], "worst_xy_within_1_bound20": min(within20)}
        rows.append(row)
        print(f"{dataset} {h}x{w}: {len(stores)} videos, {pairs} pairs: OpenCV {row['opencv_pairs_per_s']:.2f} "
              f"pairs/s, torch {row['torch_pairs_per_s']:.2f} (x{row['ratio_to_opencv']:.2f}); worst video "
              f"EPE {max(epe):.4f} px, x/y within one level >= {min(within20):.4f} at bound 20, "
              f"{min(within):.4f} at the config's bound {fcfg['bound']}")
    load = os.getloadavg()[0]
    out = Path(args.out)
    write_json(out.with_suffix(".json"), {"threads": args.threads, "batch_size": args.batch_size,
                                          "load_avg_1min_end": load, "rows": rows})
    lines = ["# TV-L1 on whole workflow videos: OpenCV vs torch (CPU)", "",
             f"{args.threads} thread(s) each, torch batch {args.batch_size}, frames of the embedded default "
             f"(synthetic) run; 1-min load average at the end {load:.1f}.", ""]
    table = pd.DataFrame([{
        "dataset": r["dataset"], "frames": r["size"], "videos": str(r["videos"]), "pairs": str(r["pairs"]),
        "OpenCV pairs/s": f"{r['opencv_pairs_per_s']:.2f}", "torch pairs/s": f"{r['torch_pairs_per_s']:.2f}",
        "ratio": f"{r['ratio_to_opencv']:.2f}", "worst EPE px": f"{r['worst_mean_epe_px']:.4f}",
        "worst x/y within 1, bound 20": f"{r['worst_xy_within_1_bound20']:.4f}",
        "same, config bound": f"{r['worst_xy_within_1']:.4f} ({r['bound']} px)"} for r in rows])
    write_text(out.with_suffix(".md"), "\n".join(lines) + "\n" + markdown_text(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
