"""Measure detection-head recipes (and the naive detection baseline) on real thermal data.

Runs one detection variant through ``irpipe.detection.pipeline.run_variant`` (the workflow's
entry point: training, scoring, threshold calibration on the training videos, post-processing,
evaluation) on the stores of a workflow run, with a named recipe of ``detection`` overrides,
and appends one JSON line per run (mAP at every tIoU, best epoch, wall time).

    .venv/bin/python bench/real_data_detection.py --workdir /tmp/wd --variant ir --recipe paper \\
        --out bench/results/real_data_detection.jsonl
    .venv/bin/python bench/real_data_detection.py --report bench/results/real_data_detection.jsonl

The workdir is a workflow run with at least ``results/detection/features/detection.h5`` made
(``snakemake ... results/detection/features/detection.h5``); the config is that run's
(config.yaml, then the ``--configfile`` files given here, validated as the workflow validates them).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from real_data_recipe import parse_set  # noqa: E402  (bench/ is sys.path[0] when run as a script)

from irpipe.config import deep_update, validate_config  # noqa: E402

RECIPES: dict[str, dict] = {
    "paper": {},                                                   # the config's detection section as is
    "long": {"train": {"epochs": 150}},
    "lr3e-4": {"train": {"epochs": 150, "lr": 3e-4}},
    "val": {"train": {"epochs": 150, "validation": {"videos": 4}}},
    "crop": {"train": {"epochs": 150, "crop_snippets": 16}},
    "cos": {"train": {"epochs": 150, "lr_schedule": "cosine", "warmup_epochs": 5}},
}


def report(jsonl: Path) -> str:
    rows = [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]
    out = ["| run | variant | post-processing | mAP@0.1 | 0.2 | 0.3 | 0.4 | 0.5 | avg | best epoch | wall s |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        m = r["map"]
        pp = r.get("postprocess", "")
        if isinstance(pp, dict):
            pp = pp["method"] if pp["method"] == "multi_threshold" else f"threshold {pp['threshold']}"
        vals = [100 * m[k] for k in sorted(m)]
        out.append(f"| {r['name']} | {r['variant']} | {pp} | " + " | ".join(f"{v:.1f}" for v in vals)
                   + f" | {sum(vals) / len(vals):.1f} | {r.get('best_epoch') or ''} | {r['wall_seconds']:.0f} |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    if argv is None and len(sys.argv) == 3 and sys.argv[1] == "--report":
        print(report(Path(sys.argv[2])), end="")
        return 0
    from irpipe.data.sizes import resolve_config
    from irpipe.detection.pipeline import run_variant

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--configfile", type=Path, nargs="+", required=True, help="the run's config files, in order")
    ap.add_argument("--variant", default="ir")
    ap.add_argument("--recipe", default="paper")
    ap.add_argument("--set", action="append", default=[], help="extra detection override key.sub=value")
    ap.add_argument("--seed-index", type=int, default=0)
    ap.add_argument("--name", default=None)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    user: dict = yaml.safe_load((REPO / "config.yaml").read_text())  # the Snakefile's configfile, as snakemake loads it
    for f in args.configfile:
        user = deep_update(user, yaml.safe_load(f.read_text()) or {})
    over = deep_update(json.loads(json.dumps(RECIPES[args.recipe])), parse_set(args.set))
    user = deep_update(user, {"detection": over})
    wd = args.workdir.resolve()
    old = os.getcwd()
    os.chdir(wd)
    try:
        config = validate_config(user)
        cfg = resolve_config(config, "detection")["detection"]
        res = Path("results")
        frames = {p.stem: str(p) for p in (res / "frames" / "detection").glob("*/*.h5")}
        paths = {"manifest": res / "data/detection/manifest.csv", "annotations": res / "data/detection/annotations.csv",
                 "ambiguous": res / "data/detection/ambiguous.csv", "classes": res / "data/detection/classes.txt",
                 "features": res / "detection/features/detection.h5", "frames": frames}
        t0 = time.time()
        with tempfile.TemporaryDirectory() as tmp:
            info = run_variant(args.variant, cfg, int(config["seed"]), "error", paths, tmp, seed_index=args.seed_index)
    finally:
        os.chdir(old)
    row = {"name": args.name or args.recipe + ("" if not args.set else " " + " ".join(args.set)),
           "variant": args.variant, "recipe": args.recipe, "overrides": over, "train": cfg["train"],
           "postprocess": cfg["postprocess"],
           "map": info["map"], "best_epoch": info.get("best_epoch"), "thresholds": info.get("thresholds"),
           "n_detections": info.get("n_detections"), "wall_seconds": time.time() - t0, "workdir": str(wd),
           "threads": args.threads,
           "machine": f"{platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared)"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "a") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps({k: row[k] for k in ("name", "variant", "map", "best_epoch", "wall_seconds")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
