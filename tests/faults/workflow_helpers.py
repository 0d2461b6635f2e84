"""Helpers for tests that run the real workflow (fault, determinism and SLURM tests).

The workflow runs from the repository's Snakefile with ``--directory <tmp>``, so results
land in a temporary folder. Inputs are small real video files written here (a folder of
recognition classes, a detection folder with a CSV of annotations), so these tests do not
depend on the synthetic generator's sizes and stay cheap: every job is a real Snakemake
job running the real scripts.
"""
from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Sequence

import cv2
import numpy as np
import pandas as pd
import yaml

from tests.conftest import REPO
from tests.conftest import write_video as encode_video

BIN = Path(sys.executable).parent
SNAKEMAKE = str(BIN / "snakemake") if (BIN / "snakemake").exists() else "snakemake"

# Recognition classes and detection classes used by the generated inputs.
REC_CLASSES = ["fight", "walk"]
DET_CLASSES = ["drop", "fight", "hug"]
FPS = 8.0


def env() -> dict:
    """Environment of a workflow run: this checkout's irpipe first, the venv's tools first."""
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in e.get("PYTHONPATH", "").split(os.pathsep) if p])
    e["PATH"] = os.pathsep.join([str(BIN), e.get("PATH", "")])
    e.setdefault("OMP_NUM_THREADS", "1")
    e["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    return e


# ---------------------------------------------------------------------------------------
# Inputs: real encoded videos
# ---------------------------------------------------------------------------------------
def _texture(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    img = np.zeros((h, w), np.float32)
    for sigma in (1.5, 4.0):
        img += cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), sigma) * sigma
    img = (img - img.min()) / (np.ptp(img) + 1e-6)
    return (img * 200 + 30).astype(np.uint8)


def write_video(path: Path, n: int, h: int = 32, w: int = 40, seed: int = 0, dx: int = 1) -> Path:
    """A textured background translating by ``dx`` px per frame with a warm blob: MJPG avi."""
    rng = np.random.default_rng(seed)
    base = _texture(h, w + abs(dx) * n + 2, rng)
    frames = []
    for i in range(n):
        f = base[:, i * abs(dx): i * abs(dx) + w].copy()
        cy, cx = h // 2, (i * 2) % w
        f[max(cy - 4, 0): cy + 4, max(cx - 3, 0): cx + 3] = 250
        frames.append(f)
    return encode_video(path, np.stack(frames), FPS)


def good_dataset(root: Path, per_class: int = 2, n_frames: int = 18) -> dict:
    """Recognition folder ``root/rec/<class>/*.avi`` and detection folder ``root/det`` (CSV
    annotations); returns the config block that points the workflow at them."""
    rec = root / "rec"
    for ci, cls in enumerate(REC_CLASSES):
        for j in range(per_class):
            write_video(rec / cls / f"{cls}_{j}.avi", n_frames, seed=100 * ci + j, dx=ci + 1)
    det = root / "det"
    rows = []
    for j, subset in enumerate(["train", "test"]):
        vid = f"det_{subset}"
        write_video(det / "videos" / f"{vid}.avi", 40, seed=500 + j)  # 5 s at 8 fps
        rows += [(vid, "fight", 0.5, 2.0, subset), (vid, "hug", 2.5, 4.0, subset)]
    det.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["video", "label", "t_start", "t_end", "subset"]).to_csv(
        det / "annotations.csv", index=False)
    return data_config(root)


def data_config(root: Path) -> dict:
    return {
        "dataset": {
            "recognition": {"source": "folder", "path": str(root / "rec"), "classes": list(REC_CLASSES),
                            "min_frames": 16},
            "detection": {"source": "csv", "videos": str(root / "det" / "videos"),
                          "annotations": str(root / "det" / "annotations.csv"),
                          "classes": list(DET_CLASSES), "min_frames": 16},
        },
        "splits": {"n_splits": 1, "train_per_class": 1, "test_per_class": 1},
        "frames": {"resize": {"c3d": [32, 43]}, "recognition_sizes": ["c3d"], "detection_sizes": ["c3d"],
                   "keep_original": True},
        # the detector reads the one stored copy (the manifest job checks the sizes before any frame job)
        "detection": {"frame_size": "c3d", "recognition_frame_size": "c3d"},
        "flow": {"recognition_size": "c3d", "detection_size": "c3d",
                 "tvl1": {"nscales": 2, "warps": 2, "outer_iterations": 3, "inner_iterations": 10}},
        # MLflow costs every job a few seconds of start-up; tests of tracking turn it on.
        "tracking": {"enabled": False},
        # one job per video: the fault tests interrupt, kill and resubmit single per-video jobs
        "sharding": {"videos_per_job": {"recognition": 1, "detection": 1}},
    }


def recognition_only(config: dict) -> dict:
    """The same config with the detection set switched off (fewer jobs)."""
    cfg = copy.deepcopy(config)
    cfg["dataset"]["detection"] = {"enabled": False}
    return cfg


# Targets of the data layer: every video through manifest, frames and flow, plus splits.
REC_TARGETS = [
    "results/data/recognition/splits.csv",
    "results/data/recognition/flow_summary.csv",
]
DATA_TARGETS = REC_TARGETS + ["results/data/detection/flow_summary.csv"]


# ---------------------------------------------------------------------------------------
# Running Snakemake
# ---------------------------------------------------------------------------------------
def write_config(workdir: Path, config: dict, name: str = "test_config.yaml") -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake_cmd(workdir: Path, config_path: Path, targets: Sequence[str] = (), *extra: str,
                  cores: int | None = 2, preset: bool = False) -> list[str]:
    cmd = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    if cores is not None:
        cmd += ["--cores", str(cores)]
    cmd += ["--configfile"] + ([str(REPO / "presets" / "tiny.yaml")] if preset else []) + [str(config_path)]
    cmd += ["--nocolor", *extra]
    return cmd + (["--"] + list(targets) if targets else [])


def run(cmd: Sequence[str], timeout: float = 600, check: bool = True, **kw) -> subprocess.CompletedProcess:
    """Run from the repository root (so profiles/default applies, as for a user)."""
    proc = subprocess.run(list(cmd), cwd=REPO, env=kw.pop("env", env()), capture_output=True, text=True,
                          timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n"
                             f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-8000:]}")
    return proc


def snakemake(workdir: Path, config: dict, targets: Sequence[str] = DATA_TARGETS, *extra: str,
              timeout: float = 600, check: bool = True, cores: int | None = 2) -> subprocess.CompletedProcess:
    cfg = write_config(workdir, config)
    return run(snakemake_cmd(workdir, cfg, targets, *extra, cores=cores), timeout=timeout, check=check)


# ---------------------------------------------------------------------------------------
# Comparing results
# ---------------------------------------------------------------------------------------
def h5_content(path: Path) -> dict:
    """Every dataset (as bytes + shape + dtype) and attribute of an HDF5 store, minus paths."""
    import h5py

    out = {}
    with h5py.File(path, "r") as h5:
        for name, ds in h5.items():
            arr = ds[()]
            if getattr(arr, "dtype", None) is not None and arr.dtype.kind == "O":  # strings
                out[f"data:{name}"] = ("O", arr.shape, [x.decode() if isinstance(x, bytes) else x
                                                         for x in arr.ravel().tolist()])
            else:
                arr = np.asarray(arr)
                out[f"data:{name}"] = (arr.dtype.str, arr.shape, arr.tobytes())
        for k, v in h5.attrs.items():
            if k in ("source_path",):
                continue
            out[f"attr:{k}"] = v.tolist() if hasattr(v, "tolist") else v
    return out


def stores(workdir: Path, kind: str) -> dict[str, Path]:
    """``{dataset/video_id: path}`` of the frames or flow stores under ``workdir``, whatever shard
    folder holds them (runs with other ``sharding`` settings compare video by video)."""
    root = workdir / "results" / kind
    return {f"{p.relative_to(root).parts[0]}/{p.stem}": p for p in sorted(root.rglob("*.h5"))}


def store_path(workdir: Path, kind: str, dataset: str, video: str) -> Path:
    """The one store of ``video`` under ``results/<kind>/<dataset>/<shard>/``."""
    found = sorted((workdir / "results" / kind / dataset).glob(f"*/{video}.h5"))
    assert len(found) == 1, f"{kind}/{dataset}/{video}: {found}"
    return found[0]


def shard_dir(workdir: Path, kind: str, dataset: str, video: str, config: dict | None = None) -> str:
    """The shard folder (relative to ``workdir``) that will hold ``video``'s store."""
    from irpipe.config import validate_config
    from irpipe.workflow_logic import make_shards

    # validate_config fills defaults in place, nested dicts included: validate a deep copy, or
    # the caller's config (often the shared reference run's) would come back with every schema
    # default pinned, and a later run with it would override the embedded config.yaml (whose
    # flow.bound 5 differs from the schema's 20: flow images built at another bound).
    cfg = validate_config(copy.deepcopy(dict(config or {})))
    shards = make_shards(expected_frames(workdir, dataset), cfg["sharding"]["videos_per_job"][dataset])
    name = next(s for s, vs in shards.items() if video in vs)
    return f"results/{kind}/{dataset}/{name}"


def csv_equal(a: Path, b: Path, drop: Iterable[str] = ("path",)) -> None:
    da, db = pd.read_csv(a), pd.read_csv(b)
    drop = [c for c in drop if c in da.columns]
    pd.testing.assert_frame_equal(da.drop(columns=drop), db.drop(columns=drop), check_exact=True)


def assert_same_results(a: Path, b: Path, kinds: Sequence[str] = ("frames", "flow"),
                        datasets: Sequence[str] | None = None) -> int:
    """Same set of stores (of ``datasets``, default all) with identical arrays and attributes;
    returns how many compared."""
    n = 0
    for kind in kinds:
        sa, sb = stores(a, kind), stores(b, kind)
        if datasets is not None:
            sa = {k: v for k, v in sa.items() if k.split("/", 1)[0] in datasets}
            sb = {k: v for k, v in sb.items() if k.split("/", 1)[0] in datasets}
        assert sorted(sa) == sorted(sb), f"{kind}: {sorted(sa)} != {sorted(sb)}"
        for key in sa:
            ca, cb = h5_content(sa[key]), h5_content(sb[key])
            assert ca.keys() == cb.keys(), f"{kind}/{key}: datasets differ"
            # attributes first: a differing setting (the bound, a TV-L1 parameter) names the cause
            # where differing arrays would only show the effect
            attrs = {k: (ca[k], cb[k]) for k in ca if k.startswith("attr:") and ca[k] != cb[k]}
            assert not attrs, f"{kind}/{key}: attributes differ (first run, second run): {attrs}"
            for k in ca:
                assert ca[k] == cb[k], f"{kind}/{key}: {k} differs"
            n += 1
    return n


def copy_workdir(src: Path, dst: Path) -> Path:
    """Copy a finished workflow folder (results + Snakemake metadata, mtimes kept)."""
    shutil.copytree(src, dst, symlinks=True,
                    ignore=shutil.ignore_patterns("locks", "incomplete", "slurm_logs", "log"))
    return dst


# ---------------------------------------------------------------------------------------
# One reference run per pytest process, shared by the tests that compare against it
# ---------------------------------------------------------------------------------------
_REFERENCE: dict[str, Path] = {}


def reference_run() -> tuple[Path, dict]:
    """An uninterrupted local run of the recognition data layer on the generated inputs.

    Returns (workdir, config). Built once per pytest process (in a temporary folder removed
    at exit) and shared by the interruption, determinism and SLURM tests."""
    import atexit
    import tempfile

    if "wd" not in _REFERENCE:
        root = Path(tempfile.mkdtemp(prefix="irpipe-reference-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        cfg = recognition_only(good_dataset(root / "inputs"))
        snakemake(root / "wd", cfg, REC_TARGETS)
        _REFERENCE["wd"], _REFERENCE["root"] = root / "wd", root
        _REFERENCE["cfg"] = cfg  # type: ignore[assignment]
    # A copy per caller: a test that changes its config must not change the next test's.
    return _REFERENCE["wd"], copy.deepcopy(_REFERENCE["cfg"])  # type: ignore[return-value]


def expected_frames(workdir: Path, dataset: str = "recognition") -> dict[str, int]:
    """``{video_id: n_frames}`` from the run's manifest."""
    m = pd.read_csv(workdir / "results" / "data" / dataset / "manifest.csv", dtype={"video_id": str})
    return dict(zip(m["video_id"], m["n_frames"].astype(int)))
