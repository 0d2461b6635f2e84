"""Wall time of the synthetic dataset generator at the embedded default sizes.

    python bench/synthetic.py [--out bench/results/synthetic.json] [--note "..."]

Generates the default recognition set (12 classes x 10 videos x 32 frames, 96x128) and
detection set (10 untrimmed videos of 24-40 s at 8 fps, 64x80) into a temporary folder,
once, on one process, and writes the timings with the machine named.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from irpipe.config import validate_config
from irpipe.data.synthetic import generate_detection, generate_recognition, synthetic_classes
from irpipe.io import write_json


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "synthetic.json")
    ap.add_argument("--note", default="")
    args = ap.parse_args()
    config = validate_config({})
    cfg = config["synthetic"]
    res = {"machine": {"cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version()},
           "note": args.note}
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in (("recognition", generate_recognition), ("detection", generate_detection)):
            t0, c0 = time.perf_counter(), time.process_time()
            table = fn(Path(tmp) / name, cfg, synthetic_classes(config, name), cfg["seed"])
            files = list((Path(tmp) / name).rglob("*.avi"))
            res[name] = {"wall_s": round(time.perf_counter() - t0, 2), "cpu_s": round(time.process_time() - c0, 2),
                         "videos": len(files), "rows": len(table),
                         "bytes": sum(f.stat().st_size for f in files), "config": cfg[name]}
    res["total_wall_s"] = round(res["recognition"]["wall_s"] + res["detection"]["wall_s"], 2)
    write_json(args.out, res)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
