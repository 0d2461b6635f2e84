"""Table 1 of seed 000 with frame-pooled vs video-level Fisher vectors, on SYNTHETIC videos.

    python bench/handcrafted_pooling.py [--out bench/results/handcrafted_pooling.json] [--splits 2]

Generates the embedded default's recognition set (12 classes x 10 videos x 32 frames,
96x128), computes D-SIFT / O-SIFT / IDT descriptors once with the embedded default's
settings, then for each pooling (handcrafted.encoding.pooling: frames, video) encodes,
classifies and fills Table 1 on the embedded default's splits (6 train / 4 test per class).
Only the pooling differs between the two runs (same descriptors, same PCA + GMM, same seeds).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's irpipe, not an installed one
from irpipe.config import load_config  # noqa: E402
from irpipe.data.splits import make_splits  # noqa: E402
from irpipe.data.stores import write_arrays  # noqa: E402
from irpipe.data.synthetic import generate_recognition  # noqa: E402
from irpipe.data.video import read_video  # noqa: E402
from irpipe.features.baseline import TABLE1_NAMES, classify_split  # noqa: E402
from irpipe.features.descriptors import extract_video  # noqa: E402
from irpipe.features.encode import encode_split, read_fv  # noqa: E402
from irpipe.io import write_json  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "handcrafted_pooling.json")
    ap.add_argument("--splits", type=int, default=None, help="splits to run (default: the embedded default's)")
    ap.add_argument("--work", type=Path, default=None, help="keep videos and descriptors here (reused when present)")
    args = ap.parse_args()
    config = load_config(REPO / "config.yaml")
    hc, sp = config["handcrafted"], config["splits"]
    classes = config["dataset"]["recognition"]["classes"]
    n_splits = args.splits or sp["n_splits"]
    res = {"data": "SYNTHETIC (embedded generator, embedded default sizes)", "n_splits": n_splits, "runs": {}}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = args.work or Path(tmp)
        gt = generate_recognition(tmp / "videos", config["synthetic"], classes, config["synthetic"]["seed"])
        man = []
        for r in gt.itertuples(index=False):
            if not (tmp / "frames" / f"{r.video_id}.h5").exists():
                frames, _ = read_video(tmp / "videos" / r.path)
                write_arrays(tmp / "frames" / f"{r.video_id}.h5", {"frames": frames}, {"video_id": r.video_id})
            man.append({"video_id": r.video_id, "label": r.label, "label_index": classes.index(r.label)})
        splits = make_splits(pd.DataFrame(man), classes, n_splits, sp["train_per_class"], sp["test_per_class"],
                             sp["seed"])
        paths = {k: {} for k in ("dsift", "osift", "idt")}
        for k in paths:
            for v in (m["video_id"] for m in man):
                p = tmp / "desc" / k / f"{v}.h5"
                if not p.exists():
                    extract_video(k, tmp / "frames" / f"{v}.h5", p, hc)
                paths[k][v] = str(p)
        res["descriptor_s"] = round(time.time() - t0, 1)
        for pooling in ("frames", "video"):
            cfg = dict(hc, encoding=dict(hc["encoding"], pooling=pooling))
            rows = []
            for s in range(n_splits):
                fv = {}
                for k in paths:
                    fv[k] = str(tmp / pooling / f"split{s}" / f"fv_{k}.h5")
                    encode_split(k, s, splits, paths[k], cfg, config["seed"], fv[k])
                out = classify_split(fv, cfg, config["seed"], len(classes), s)
                rows.append(out["metrics"].assign(split=s))
            df = pd.concat(rows)
            mean = df.groupby("method")[["accuracy", "macro_ap"]].mean() * 100
            res["runs"][pooling] = {TABLE1_NAMES[m]: {"accuracy": round(float(mean.loc[m, "accuracy"]), 2),
                                                      "macro_ap": round(float(mean.loc[m, "macro_ap"]), 2)}
                                    for m in mean.index}
        # how far apart the two poolings' Fisher vectors are (same videos, same vocabulary)
        res["fv_agreement"] = {}
        for k in paths:
            a = read_fv(tmp / "frames" / "split0" / f"fv_{k}.h5")["fv"].astype(np.float64)
            b = read_fv(tmp / "video" / "split0" / f"fv_{k}.h5")["fv"].astype(np.float64)
            cos = (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
            res["fv_agreement"][k] = {"max_abs_diff": round(float(np.abs(a - b).max()), 5),
                                      "mean_cosine": round(float(cos.mean()), 5), "min_cosine": round(float(cos.min()), 5)}
    res["difference_frames_minus_video"] = {
        m: round(res["runs"]["frames"][m]["accuracy"] - res["runs"]["video"][m]["accuracy"], 2)
        for m in res["runs"]["frames"]}
    res["wall_s"] = round(time.time() - t0, 1)
    write_json(args.out, res)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
