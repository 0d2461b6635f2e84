"""Time the fusion methods at the paper's scale (InfAR: 12 classes, 30 train / 20 test videos per
class, 4096-d codes per stream) and at the embedded default's scale (64-d codes).

    PYTHONPATH=. python bench/fusion.py [--out bench/results/fusion.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np


def _time(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="bench/results/fusion.json")
    ap.add_argument("--epochs", type=int, default=200, help="NN epochs timed at 64-d")
    ap.add_argument("--epochs-4096", type=int, default=5, help="NN epochs timed at 4096-d (per-epoch time reported)")
    args = ap.parse_args()
    from irpipe.fusion import late, nn

    rows = []
    for dim in (64, 4096):
        rng = np.random.default_rng(0)
        C, ntr, nte = 12, 360, 240
        ytr = np.repeat(np.arange(C), ntr // C)
        codes = {s: (rng.normal(size=(ntr, dim)), rng.normal(size=(nte, dim))) for s in ("ir", "flow")}
        t_lf2 = _time(lambda: late.late_fusion_2({s: c[1] for s, c in codes.items()}, {s: c[0] for s, c in codes.items()},
                                                  ytr, C, {"ir": 1, "flow": 2}, k=5, gamma=0.05))
        xtr = np.stack([codes["ir"][0], codes["flow"][0]], 1).astype(np.float32)
        res = {"code_dim": dim, "n_train": ntr, "n_test": nte, "classes": C, "lf2_s": round(t_lf2, 4)}
        epochs = args.epochs if dim <= 64 else args.epochs_4096
        nn.train_fusion_net("single_layer", xtr[:10], ytr[:10], C, epochs=1, threads=1)  # warm-up imports
        for kind in nn.KINDS:
            t = time.perf_counter()
            nn.train_fusion_net(kind, xtr, ytr, C, epochs=epochs, threads=1)
            res[f"{kind}_s_per_epoch"] = round((time.perf_counter() - t) / epochs, 4)
        res["epochs_timed"] = epochs
        rows.append(res)
        print(res)
    meta = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "load_avg_1m": os.getloadavg()[0],
            "note": "measured while other jobs shared the machine unless load_avg_1m is near 0"}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump({"meta": meta, "results": rows}, fh, indent=2)


if __name__ == "__main__":
    main()
