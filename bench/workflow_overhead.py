"""Workflow overhead at dataset scale: the per-video stages with and without batching.

A synthetic recognition set of ``--videos-per-class`` x 12 clips is generated and its manifest
built once; then, from copies of that folder, the per-video stages (frames, TV-L1 flow and the
hand-crafted descriptors D-SIFT, O-SIFT, IDT) run under Snakemake with one job per video and with
``sharding.videos_per_job.recognition = --per-job``. For each run it reports the wall time, the
number of jobs, the CPU time of the whole process tree, the sum of the job bodies (the time
inside each job's tracked run: the MLflow child runs' start to end) and the share of the
machine (cores x wall) spent outside job bodies: process starts, imports, the script preamble
and the scheduler. Job bodies are wall times: run it on a quiet machine.

    python bench/workflow_overhead.py --videos-per-class 34 --cores 2          # the embedded default's clips
    python bench/workflow_overhead.py --light --n-frames 24 --height 48 --width 64 --no-flow --kinds dsift,idt

Writes bench/results/workflow_overhead.{md,json}. Data: SYNTHETIC.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from irpipe.io import write_json, write_text  # noqa: E402
from irpipe.workflow_logic import resolve_videos_per_job  # noqa: E402

PER_VIDEO_RULES = ("frames", "flow", "handcrafted_descriptors")


def overlay(videos_per_class: int, n_frames: int, height: int, width: int, per_job: int | str,
            light: bool = False) -> dict:
    """The embedded default's per-video settings on a larger synthetic set; ``light``: the c3d copy
    at the decoded size and 8 frames per descriptor video (the first, deliberately light bench)."""
    out = {
        "dataset": {"detection": {"enabled": False}},
        "synthetic": {"recognition": {"videos_per_class": videos_per_class, "n_frames": n_frames,
                                      "height": height, "width": width}},
        "splits": {"n_splits": 1, "train_per_class": 2, "test_per_class": 1},
        "sharding": {"videos_per_job": {"recognition": per_job, "detection": 1}},
    }
    if light:
        out["frames"] = {"resize": {"c3d": [height, width]}}
        out["handcrafted"] = {"n_frames": 8}
    return out


def per_job_setting(text: str) -> int | str:
    return text if text == "auto" else int(text)


def _process_cpu_s(pid: int) -> float | None:
    """utime + stime of one process (not its children) from /proc, or None where unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def snakemake(wd: Path, config: Path, cores: int, *args: str, scheduler: str | None = None) -> float | None:
    """Run Snakemake; return the CPU seconds of its own (scheduler) process, sampled every 0.2 s
    from /proc while it runs (None without /proc)."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(wd),
           "--cores", str(cores), *(["--scheduler", scheduler] if scheduler else []), *args,
           "--configfile", str(config)]  # --configfile takes many: last
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
        main_cpu = None
        while proc.poll() is None:
            main_cpu = _process_cpu_s(proc.pid) or main_cpu
            time.sleep(0.2)
        if proc.returncode != 0:
            out.seek(0)
            raise SystemExit(f"snakemake failed in {wd}:\n{out.read()[-6000:]}")
    return main_cpu


def per_video_targets(wd: Path, config: Path, kinds, flow: bool = True) -> list[str]:
    """Every frames shard, the flow summary (every flow shard; unless ``flow`` is False) and every
    descriptor shard of ``kinds``."""
    import pandas as pd

    from irpipe.workflow_logic import FEATURE_KINDS, descriptors_dir, frames_dir, make_shards

    per_job = yaml.safe_load(config.read_text())["sharding"]["videos_per_job"]["recognition"]
    videos = pd.read_csv(wd / "results/data/recognition/manifest.csv", dtype={"video_id": str})["video_id"]
    shards = make_shards(videos, per_job)
    assert set(kinds) <= set(FEATURE_KINDS), kinds
    return ([frames_dir("recognition", s) for s in shards]
            + (["results/data/recognition/flow_summary.csv"] if flow else [])
            + [descriptors_dir(k, s) for k in kinds for s in shards])


def job_bodies(wd: Path) -> dict[str, list[float]]:
    """rule -> seconds of each tracked job run (MLflow child runs of this folder's store)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{wd}/results/mlflow.db")
    exp = client.get_experiment_by_name("irpipe")
    out: dict[str, list[float]] = {}
    for r in client.search_runs([exp.experiment_id], max_results=50000):
        rule = r.data.tags.get("irpipe.rule")
        if r.data.tags.get("irpipe.kind") == "job" and rule and r.info.end_time:
            out.setdefault(rule, []).append((r.info.end_time - r.info.start_time) / 1000.0)
    return out


def timed_run(base: Path, wd: Path, config: Path, cores: int, kinds, flow: bool = True,
              scheduler: str | None = None) -> dict:
    shutil.copytree(base, wd, symlinks=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    main_cpu = snakemake(wd, config, cores, *per_video_targets(wd, config, kinds, flow), scheduler=scheduler)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    bodies = job_bodies(wd)
    per_video = {r: bodies.get(r, []) for r in PER_VIDEO_RULES if flow or r != "flow"}
    body_s = sum(sum(v) for v in per_video.values())
    jobs = sum(len(v) for v in per_video.values())
    return {"wall_s": wall, "cpu_s": cpu, "snakemake_process_cpu_s": main_cpu, "jobs": jobs, "job_body_s": body_s,
            "jobs_per_rule": {r: len(v) for r, v in per_video.items()},
            "body_s_per_rule": {r: round(sum(v), 2) for r, v in per_video.items()},
            "outside_share_of_machine": 1.0 - body_s / (cores * wall)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--videos-per-class", type=int, default=34, help="x 12 classes (34: 408 videos)")
    ap.add_argument("--n-frames", type=int, default=32, help="frames per clip (32: the embedded default's clips)")
    ap.add_argument("--height", type=int, default=96)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--light", action="store_true",
                    help="c3d copy at the decoded size and 8 descriptor frames per video (the first bench's light "
                         "workload: 24 frames at 48x64)")
    ap.add_argument("--per-job", type=per_job_setting, default="auto",
                    help="videos per job of the batched run: an integer or auto (the default setting)")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--kinds", default="dsift,osift,idt", help="descriptor kinds to run (comma-separated)")
    ap.add_argument("--no-flow", action="store_true", help="frames and descriptors only (the cheap per-video jobs)")
    ap.add_argument("--runs", default="batched,per_video",
                    help="runs in order, each batched or per_video, optionally :ilp or :greedy for Snakemake's "
                         "--scheduler (default: the workflow profile's)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "workflow_overhead"))
    args = ap.parse_args(argv)
    runs = [tuple((item.split(":") + [None])[:2]) for item in args.runs.split(",")]
    if not all(kind in ("batched", "per_video") and sched in (None, "ilp", "greedy") for kind, sched in runs):
        ap.error(f"--runs {args.runs!r}: each item is batched or per_video, optionally :ilp or :greedy")

    root = Path(tempfile.mkdtemp(prefix="irpipe-overhead-"))
    try:
        configs = {}
        for name, per_job in (("per_video", 1), ("batched", args.per_job)):
            configs[name] = root / f"{name}.yaml"
            configs[name].write_text(yaml.safe_dump(overlay(args.videos_per_class, args.n_frames, args.height,
                                                            args.width, per_job, light=args.light)))
        base = root / "base"
        print(f"generating {12 * args.videos_per_class} synthetic clips and their manifest ...", flush=True)
        t0 = time.perf_counter()
        snakemake(base, configs["per_video"], args.cores, "results/data/recognition/splits.csv")
        print(f"  {time.perf_counter() - t0:.0f} s", flush=True)
        rows = {}
        for kind, sched in runs:
            name = kind if sched is None else f"{kind}:{sched}"
            print(f"{name}: per-video stages ...", flush=True)
            rows[name] = timed_run(base, root / name.replace(":", "_"), configs[kind], args.cores,
                                   args.kinds.split(","), flow=not args.no_flow, scheduler=sched)
            r = rows[name]
            print(f"  {r['jobs']} jobs, wall {r['wall_s']:.0f} s, CPU {r['cpu_s']:.0f} s (Snakemake's own process "
                  f"{r['snakemake_process_cpu_s'] or float('nan'):.0f} s), job bodies {r['job_body_s']:.0f} s, "
                  f"outside job bodies {100 * r['outside_share_of_machine']:.1f} % of {args.cores} cores x wall",
                  flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    cpu_name = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")),
                    platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    result = {"machine": f"{cpu_name}, {os.cpu_count()} cores", "cores": args.cores,
              "videos": 12 * args.videos_per_class, "n_frames": args.n_frames,
              "size": f"{args.height}x{args.width}", "light": args.light, "per_job": args.per_job,
              "per_job_resolved": resolve_videos_per_job(args.per_job, 12 * args.videos_per_class),
              "kinds": args.kinds, "flow": not args.no_flow, "data": "SYNTHETIC",
              "rows": rows,
              "wall_ratio": (rows["per_video"]["wall_s"] / rows["batched"]["wall_s"]
                             if {"per_video", "batched"} <= set(rows) else None),
              "load_avg_1min_end": os.getloadavg()[0]}
    out = Path(args.out)
    write_json(out.with_suffix(".json"), result)
    lines = ["# Workflow overhead: per-video stages with and without batching (SYNTHETIC data)", "",
             f"{result['videos']} clips of {args.n_frames} frames at {result['size']}"
             f"{' (light: c3d copy at that size, 8 descriptor frames)' if args.light else ' (the embedded default per-video settings)'}; stages frames, "
             f"{'' if args.no_flow else 'TV-L1 flow, '}descriptors {args.kinds}; `snakemake --cores {args.cores}` on {result['machine']}; one run "
             f"each, same machine, same session; 1-min load average at the end {result['load_avg_1min_end']:.1f}.",
             "", "| run | scheduler | jobs | wall s | CPU s (process tree) | of which Snakemake's own process | "
                 "job bodies s | share of cores x wall outside job bodies |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows.items():
        kind, _, sched = name.partition(":")
        label = ("one job per video" if kind == "per_video" else
                 f"{result['per_job_resolved']} videos per job ({args.per_job})")
        main_cpu = r["snakemake_process_cpu_s"]
        lines.append(f"| {label} | {sched or 'profile'} | {r['jobs']} | {r['wall_s']:.0f} | {r['cpu_s']:.0f} | "
                     f"{'-' if main_cpu is None else f'{main_cpu:.0f}'} | {r['job_body_s']:.0f} | "
                     f"{100 * r['outside_share_of_machine']:.1f} % |")
    if result["wall_ratio"]:
        lines += ["", f"Wall-time ratio (per video / batched): {result['wall_ratio']:.2f}x."]
    write_text(out.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
