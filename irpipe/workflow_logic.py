"""The workflow's logic in one tested module: the lists the rules iterate over, the paths they
declare, the shards of per-video work, and the input functions (rules/*.smk only call these).

Per-video stages (frames, flow, hand-crafted descriptors) run in *shards*: one job computes the
stores of several videos in one process and writes them, one file per video, into the shard's
folder (a ``directory()`` output). ``sharding.videos_per_job.<dataset>`` sets the shard size:

- 1: one job per video; the shard is named after the video;
- N > 1: ``ceil(n / N)`` shards; a video's shard comes from a stable hash of its id, so that
  adding a video re-runs its own shard only (while the shard count stays the same);
- ``auto`` (the default for trimmed clips): about :data:`AUTO_TARGET_SHARDS` shards, of
  :data:`AUTO_MIN_PER_JOB` to :data:`AUTO_MAX_PER_JOB` videos each: enough shards to keep a
  workstation's cores busy, few enough that a job's process start is small beside its work,
  and jobs that grow with the dataset (minutes on a cluster) instead of multiplying.

Every stage that reads per-video stores declares the shard folders it reads and finds each
video's file in them with :func:`stores_in`: no job reads a file that is not under one of its
declared inputs.
"""
from __future__ import annotations

import math
import os
import zlib
from pathlib import Path
from typing import Iterable, Mapping, Sequence

DATASETS = ("recognition", "detection")
FEATURE_KINDS = ("dsift", "osift", "idt")
C3D_STREAMS = ("ir", "flow")
C3D_VARIANTS = ("dcl", "nodcl")
# Tables III-V of seed 001: every variant but 'late' trains a model; 'late' averages two.
DETECTION_TRAINED_VARIANTS = ("ir", "flow", "ir_sa", "ca", "sca_tvl1", "sca_fen", "min", "max", "concat")
DETECTION_VARIANTS = DETECTION_TRAINED_VARIANTS[:2] + ("late",) + DETECTION_TRAINED_VARIANTS[2:]
DETECTION_NAIVE = "naive"  # the naive baseline's run (rule detection_naive), after the variants

TRACKING = "results/tracking/experiment.json"
CONDA_ENV = "../envs/irpipe.yaml"
STORE_SUFFIX = ".h5"
# What the report rules write themselves (the report waits for every other target).
REPORT_OWN_PREFIXES = ("results/report/", "results/tables/bad_inputs")
FIGURE_EXTS = ("png", "svg", "pdf", "jpg", "jpeg")


# ---------------------------------------------------------------- shards

AUTO = "auto"
AUTO_TARGET_SHARDS = 16
AUTO_MIN_PER_JOB = 8
AUTO_MAX_PER_JOB = 64


def resolve_videos_per_job(setting: int | str, n_videos: int) -> int:
    """The shard size of ``sharding.videos_per_job.<dataset>`` for a dataset of ``n_videos``:
    the integer itself, or for ``auto`` ``ceil(n / 16)`` bounded to 8..64 videos per job (the
    embedded default's 120 clips: 8; 408 clips: 26; 10,000 clips: 64, in 157 shards)."""
    if isinstance(setting, str):
        if setting != AUTO:
            raise ValueError(f"sharding.videos_per_job: {setting!r} is neither a positive integer nor 'auto'")
        return min(AUTO_MAX_PER_JOB, max(AUTO_MIN_PER_JOB, math.ceil(n_videos / AUTO_TARGET_SHARDS)))
    return max(1, int(setting))


def n_shards(n_videos: int, videos_per_job: int | str) -> int:
    return max(1, math.ceil(n_videos / resolve_videos_per_job(videos_per_job, n_videos)))


def shard_of(video: str, n: int, videos_per_job: int | str) -> str:
    """The shard a video belongs to among ``n`` videos cut into shards of ``videos_per_job``.

    crc32 of the id (not Python's salted ``hash``): the same on every machine and run."""
    videos_per_job = resolve_videos_per_job(videos_per_job, n)
    if videos_per_job <= 1:
        return video
    k = n_shards(n, videos_per_job)
    return f"shard{zlib.crc32(video.encode('utf-8')) % k:03d}of{k:03d}"


def make_shards(videos: Iterable[str], videos_per_job: int | str) -> dict[str, list[str]]:
    """shard name -> its videos (sorted), for the non-empty shards, in name order."""
    videos = sorted(set(videos))
    shards: dict[str, list[str]] = {}
    for v in videos:
        shards.setdefault(shard_of(v, len(videos), videos_per_job), []).append(v)
    return dict(sorted(shards.items()))


def stores_in(paths: Iterable[str | os.PathLike], suffix: str = STORE_SUFFIX) -> dict[str, Path]:
    """video id -> store path, for declared inputs that are store files or shard folders.

    A video found twice is an error (two shards claiming it means a stale folder)."""
    found: dict[str, Path] = {}
    for p in map(Path, paths):
        files = sorted(p.glob(f"*{suffix}")) if p.is_dir() else [p]
        for f in files:
            vid = f.name[: -len(suffix)] if f.name.endswith(suffix) else f.stem
            if vid in found:
                raise ValueError(f"video {vid!r} is stored twice: {found[vid]} and {f}")
            found[vid] = f
    return found


def select_stores(paths: Iterable[str | os.PathLike], videos: Iterable[str]) -> dict[str, Path]:
    """:func:`stores_in` restricted to ``videos``; a missing video is an error naming it."""
    found = stores_in(paths)
    missing = [v for v in videos if v not in found]
    if missing:
        raise FileNotFoundError(f"{len(missing)} video(s) have no store under the declared inputs: "
                                f"{', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}")
    return {v: found[v] for v in videos}


# ---------------------------------------------------------------- paths

def frames_dir(dataset: str, shard: str) -> str:
    return f"results/frames/{dataset}/{shard}"


def flow_dir(dataset: str, shard: str) -> str:
    return f"results/flow/{dataset}/{shard}"


def flow_bound_path(dataset: str) -> str:
    return f"results/data/{dataset}/flow_bound.json"


def descriptors_dir(kind: str, shard: str) -> str:
    return f"results/handcrafted/descriptors/{kind}/{shard}"


def naive_metrics_path(split: int | str) -> str:
    return f"results/handcrafted/split{split}/metrics_naive.csv"


def c3d_predictions(stream: str, variant: str, split: int | str) -> str:
    return f"results/c3d/{stream}_{variant}/split{split}/predictions.h5"


def c3d_sweep_predictions(stream: str, alpha: str, split: int | str) -> str:
    return f"results/c3d/sweep/{stream}_alpha{alpha}/split{split}/predictions.h5"


def alpha_label(alpha: float) -> str:
    """How sweep folders name an alpha: 0 -> '0', 0.02 -> '0.02'."""
    return f"{float(alpha):g}"


def detection_run_dir(variant: str, seed_index: int | str = 0) -> str:
    """Where training run ``seed_index`` (of ``detection.seeds``) of a variant writes: index 0 where a
    single run always has, index k >= 1 in ``seed<k>/`` beneath it."""
    base = f"results/detection/variants/{variant}"
    return base if int(seed_index) == 0 else f"{base}/seed{int(seed_index)}"


def detection_variant_file(variant: str, name: str, seed_index: int | str = 0) -> str:
    return f"{detection_run_dir(variant, seed_index)}/{name}"


def detection_job_part(variant: str, seed_index: int | str = 0) -> str:
    """The wildcard part of a detection run's benchmark / bad-input record: ``ir``, ``ir_seed1``."""
    return variant if int(seed_index) == 0 else f"{variant}_seed{int(seed_index)}"


# a detection run's files (output name -> file name); model.pt only for the trained variants
_DETECTION_RUN_FILES = {"scores": "scores.npz", "detections": "detections.csv",
                        "thumos": "detections_thumos.txt", "evaluation": "eval.csv",
                        "summary": "summary.json", "model": "model.pt"}


def detection_run_reads(variant: str, seed_index: int) -> dict[str, str]:
    """What a detection run reads that another run of the same seed index writes (role -> path):
    the FEN variant's SCA (TV-L1) model, late fusion's ir and flow scores."""
    if variant == "sca_fen":
        return {"init": detection_variant_file("sca_tvl1", "model.pt", seed_index)}
    if variant == "late":
        return {"ir_scores": detection_variant_file("ir", "scores.npz", seed_index),
                "flow_scores": detection_variant_file("flow", "scores.npz", seed_index)}
    return {}


def resolve_runs_per_job(setting: int | str, n_runs: int, n_seeds: int) -> int:
    """Detection runs per job (``sharding.detection_runs_per_job``): the integer itself, or for
    ``auto`` ``ceil(n_runs / max(2, seeds))``: two jobs for one seed index (both cores busy beside
    the C3D jobs), one per seed index for more. A head trains in seconds on small data while a
    job's process start (torch, its optimiser's import of torch._dynamo) costs ~4 s."""
    if isinstance(setting, str):
        if setting != AUTO:
            raise ValueError(f"sharding.detection_runs_per_job: {setting!r} is neither a positive integer nor 'auto'")
        return max(1, math.ceil(n_runs / max(2, n_seeds)))
    return max(1, int(setting))


class DetectionBatch:
    """Detection training runs ``(variant, seed index)`` trained one after another in one job.

    Named after its run when it has one (``ir``, ``ir_seed1``: the logs and benchmark records of
    one job per run), ``batch<i>of<n>`` otherwise. Runs are in dependency order (the FEN variant
    after the SCA (TV-L1) run it starts from, late fusion after the ir and flow runs)."""

    def __init__(self, index: int, count: int, runs: Sequence[tuple[str, int]]):
        self.runs = [(str(v), int(k)) for v, k in runs]
        self.name = detection_job_part(*self.runs[0]) if len(self.runs) == 1 else f"batch{index + 1}of{count}"
        self.rule = f"detection_variant_{self.name}"

    def __repr__(self) -> str:
        return f"DetectionBatch({self.name}: {', '.join(detection_job_part(v, k) for v, k in self.runs)})"

    def outputs(self) -> dict[str, str]:
        """Named outputs ``<run>__<file>`` (run: ``ir``, ``ir_seed1``) of every run in the batch."""
        out = {}
        for v, k in self.runs:
            part = detection_job_part(v, k)
            out.update({f"{part}__{n}": detection_variant_file(v, f, k) for n, f in _DETECTION_RUN_FILES.items()
                        if n != "model" or v in DETECTION_TRAINED_VARIANTS})
            out[f"{part}__bad"] = f"results/bad_inputs/detection_variant_{part}.csv"
        return out

    def dependencies(self) -> dict[str, str]:
        """Named inputs ``<run>__<role>`` that runs of other jobs write (:func:`detection_run_reads`);
        none for what the batch trains itself (earlier in it)."""
        own = set(self.outputs().values())
        return {f"{detection_job_part(v, k)}__{role}": path for v, k in self.runs
                for role, path in detection_run_reads(v, k).items() if path not in own}


def batch_detection_runs(runs: Sequence[tuple[str, int]], runs_per_job: int | str,
                         n_seeds: int) -> list[DetectionBatch]:
    """Cut ``runs`` (in dependency order) into consecutive jobs of ``runs_per_job``."""
    size = resolve_runs_per_job(runs_per_job, len(runs), n_seeds)
    chunks = [runs[i:i + size] for i in range(0, len(runs), size)]
    return [DetectionBatch(i, len(chunks), c) for i, c in enumerate(chunks)]


def benchmark_path(rule: str, part: str) -> str:
    """Where the ``benchmark:`` record of a job of ``rule`` goes (``part``: its wildcards)."""
    return f"results/benchmarks/{rule}/{part}.tsv"


def figure_paths(name: str, exts: Sequence[str]) -> list[str]:
    return [f"results/figures/{name}.{ext}" for ext in exts]


def report_view(target: str) -> str | None:
    """The report page that shows ``target`` (a stage's table or figure), or None."""
    folder, base = os.path.split(str(target))
    stem, _, ext = base.rpartition(".")
    if folder == "results/tables" and ext == "csv":
        return f"results/report/tables/{stem}.html"
    if folder == "results/figures" and ext in FIGURE_EXTS:
        return f"results/report/figures/{base}"
    return None


# ---------------------------------------------------------------- the workflow

class WorkflowLogic:
    """The config-dependent lists and the input functions of the rules.

    ``checkpoints`` is Snakemake's checkpoints object (tests pass a stand-in); the video lists
    come from the manifest checkpoints, so input functions that use them wait for the manifest."""

    def __init__(self, config: Mapping, checkpoints=None):
        self.config = config
        self.checkpoints = checkpoints
        ds = config["dataset"]
        self.recognition_enabled = bool(ds["recognition"]["enabled"])
        self.detection_enabled = bool(ds["detection"]["enabled"])
        self.splits = list(range(int(config["splits"]["n_splits"])))
        # an integer, or 'auto' (resolved against the manifest's video count in make_shards)
        self.videos_per_job = {d: config["sharding"]["videos_per_job"][d] for d in DATASETS}
        c3d = config.get("c3d", {})
        self.c3d_enabled = self.recognition_enabled and bool(c3d.get("enabled", True)) and bool(c3d)
        hc = config.get("handcrafted", {})
        self.handcrafted_enabled = self.recognition_enabled and bool(hc) and bool(hc.get("enabled", True))
        self.naive_enabled = self.handcrafted_enabled and bool(hc.get("naive", {}).get("enabled", False))
        self.fusion_enabled = self.c3d_enabled
        self.fusion_concepts = bool(config["fusion"]["concepts"]["enabled"]) and self.handcrafted_enabled
        self.flow_gpu = int(str(config["flow"]["device"]).startswith("cuda"))
        self.c3d_gpu = int(str(c3d.get("device", "cpu")).startswith("cuda"))
        self.figure_exts = list(config["fusion"]["figures"]["formats"])
        self.detection_seeds = list(range(int(config.get("detection", {}).get("seeds", 1))))
        self.report_annotated: set[str] = set()
        # every stage's final outputs (rules/*.smk append to it; `rule all` asks for them)
        self.targets: list[str] = []

    # --- manifests and videos
    def manifest_path(self, dataset: str) -> str:
        ckpt = getattr(self.checkpoints, f"manifest_{dataset}")
        return ckpt.get().output.manifest

    def manifest_table(self, dataset: str):
        import pandas as pd
        return pd.read_csv(self.manifest_path(dataset),
                           dtype={"video_id": str, "path": str, "label": str, "subset": str})

    def videos(self, dataset: str, subset: str | None = None) -> list[str]:
        df = self.manifest_table(dataset)
        if subset is not None:
            df = df[df["subset"] == subset]
        return list(df["video_id"])

    def shards(self, dataset: str) -> dict[str, list[str]]:
        return make_shards(self.videos(dataset), self.videos_per_job[dataset])

    def synthetic_input(self, dataset: str) -> list[str]:
        return [f"results/synthetic/{dataset}"] if self.config["dataset"][dataset]["source"] == "synthetic" else []

    # --- settings digests: a static Snakemake param of each per-video rule, so that changing a
    # setting its stores depend on re-runs it (Snakemake's params rerun trigger); static on purpose,
    # a param that asks a checkpoint breaks jobs started as separate invocations (cluster)
    def settings_digest(self, *keys: str) -> str:
        """``key=hash`` of each dotted config key (a section or a value), joined by spaces."""
        from .config import config_hash

        parts = []
        for key in keys:
            node = self.config
            for part in key.split("."):
                node = node.get(part) if isinstance(node, Mapping) else None
            parts.append(f"{key}={config_hash(node)}")
        return " ".join(parts)

    def descriptor_settings(self, wildcards) -> str:
        return self.settings_digest(f"handcrafted.{wildcards.kind}", "handcrafted.n_frames",
                                    "handcrafted.frames_size")

    # --- input functions of the per-video stages (wildcards: dataset, shard[, kind])
    def shard_sources(self, wildcards) -> list[str]:
        df = self.manifest_table(wildcards.dataset).set_index("video_id")
        return [str(df.loc[v, "path"]) for v in self._shard_members(wildcards)]

    def shard_videos(self, wildcards) -> list[str]:
        return self._shard_members(wildcards)

    def _shard_members(self, wildcards) -> list[str]:
        shards = self.shards(wildcards.dataset)
        if wildcards.shard not in shards:
            raise ValueError(f"no shard {wildcards.shard!r} in the {wildcards.dataset} dataset "
                             f"(shards: {', '.join(list(shards)[:5])}...)")
        return shards[wildcards.shard]

    def shard_fps(self, wildcards) -> list[float]:
        """The manifest's frame rate of each video of the shard (what an image sequence is read at)."""
        df = self.manifest_table(wildcards.dataset).set_index("video_id")
        return [float(df.loc[v, "fps"]) for v in self._shard_members(wildcards)]

    def shard_frames(self, wildcards) -> str:
        return frames_dir(wildcards.dataset, wildcards.shard)

    def recognition_shard_frames(self, wildcards) -> str:
        return frames_dir("recognition", wildcards.shard)

    def all_frames(self, dataset: str) -> list[str]:
        return [frames_dir(dataset, s) for s in self.shards(dataset)]

    def all_flow(self, dataset: str) -> list[str]:
        return [flow_dir(dataset, s) for s in self.shards(dataset)]

    def all_descriptors(self, kind: str) -> list[str]:
        return [descriptors_dir(kind, s) for s in self.shards("recognition")]

    # --- flow.bound: auto (the consumers of flow declare the bound file the flow_summary job writes)
    @property
    def flow_bound_auto(self) -> bool:
        return self.config["flow"]["bound"] == "auto"

    def flow_bound_inputs(self, dataset: str) -> dict:
        return {"flow_bound": flow_bound_path(dataset)} if self.flow_bound_auto else {}

    def dataset_manifest(self, wildcards) -> str:
        return f"results/data/{wildcards.dataset}/manifest.csv"

    def c3d_inputs(self, wildcards) -> dict:
        """The stores of a C3D stream, and for the flow stream under bound auto the bound file."""
        inputs = {"stores": self.c3d_stores(wildcards)}
        if wildcards.stream == "flow":
            inputs.update(self.flow_bound_inputs("recognition"))
        return inputs

    def dataset_flow(self, wildcards) -> list[str]:
        return self.all_flow(wildcards.dataset)

    def kind_descriptors(self, wildcards) -> list[str]:
        return self.all_descriptors(wildcards.kind)

    # --- C3D
    def c3d_stores(self, wildcards) -> list[str]:
        """The IR stream reads the recognition frame stores, the flow stream the flow stores."""
        return self.all_frames("recognition") if wildcards.stream == "ir" else self.all_flow("recognition")

    def c3d_alpha(self, wildcards) -> float:
        return 0.0 if wildcards.variant == "nodcl" else float(self.config["c3d"]["dcl"]["alpha"])

    def sweep_alpha(self, wildcards) -> float:
        return float(wildcards.alpha)

    def c3d_sweep_alphas(self) -> list[str]:
        return [alpha_label(a) for a in self.config.get("c3d", {}).get("alpha_sweep", [])]

    def c3d_reuse(self, wildcards) -> list[str]:
        """A sweep point with alpha 0 or alpha = dcl.alpha is the main training job of that stream
        and split (same seed, data and settings): the sweep job copies its outputs."""
        alpha = float(wildcards.alpha)
        if alpha not in (0.0, float(self.config["c3d"]["dcl"]["alpha"])) or int(wildcards.split) not in self.splits:
            return []
        folder = f"results/c3d/{wildcards.stream}_{'nodcl' if alpha == 0 else 'dcl'}/split{wildcards.split}"
        return [f"{folder}/predictions.h5", f"{folder}/model.pt"]

    def table2_predictions(self) -> list[str]:
        return [c3d_predictions(s, v, k) for s in C3D_STREAMS for v in C3D_VARIANTS for k in self.splits]

    def c3d_targets(self) -> list[str]:
        c3d = self.config["c3d"]
        return (["results/tables/table2.csv", "results/tables/table2.md"]
                + [c3d_sweep_predictions(c3d["sweep_stream"], a, c3d["sweep_split"]) for a in self.c3d_sweep_alphas()])

    # --- hand-crafted
    def table1_fisher_vectors(self) -> list[str]:
        return [f"results/handcrafted/split{k}/fv_{kind}.h5" for k in self.splits for kind in FEATURE_KINDS]

    def naive_inputs(self, wildcards) -> dict:
        """The naive baseline of a split reads every recognition frame store (the copy hand-crafted
        uses: sizes.json resolves 'auto'), the split table and the class list."""
        return {"tracking": TRACKING, "frames": self.all_frames("recognition"),
                "splits": "results/data/recognition/splits.csv",
                "classes": "results/data/recognition/classes.txt",
                "sizes": "results/data/recognition/sizes.json"}

    def naive_metrics(self, wildcards=None) -> list[str]:
        """Table 1's naive rows (none when handcrafted.naive is off)."""
        return [naive_metrics_path(k) for k in self.splits] if self.naive_enabled else []

    # --- fusion
    def fusion_predictions(self, stream: str, split: int | str) -> str:
        return c3d_predictions(stream, self.config["fusion"]["variant"], split)

    def fusion_split_inputs(self, wildcards) -> dict:
        inputs = {"ir": self.fusion_predictions("ir", wildcards.split),
                  "flow": self.fusion_predictions("flow", wildcards.split),
                  "splits": "results/data/recognition/splits.csv",
                  "classes": "results/data/recognition/classes.txt", "tracking": TRACKING}
        if self.fusion_concepts:
            inputs["posteriors"] = f"results/handcrafted/split{wildcards.split}/posteriors.h5"
        return inputs

    def fusion_sweep_alphas(self) -> list[float]:
        return [float(a) for a in self.config.get("c3d", {}).get("alpha_sweep", [])]

    def figure6a_inputs(self) -> list[str]:
        c3d = self.config.get("c3d", {})
        return [c3d_sweep_predictions(self.figure6a_stream(), alpha_label(a), c3d.get("sweep_split", 0))
                for a in self.fusion_sweep_alphas()]

    def figure6a_stream(self) -> str:
        return self.config.get("c3d", {}).get("sweep_stream", "flow")

    def figure6a_k(self) -> int:
        return (self.config["fusion"]["figures"]["alpha_knn_k"] or self.config.get("c3d", {}).get("knn_k")
                or self.config["fusion"]["lf2"]["k"])

    def figure6b_inputs(self) -> list[str]:
        return [self.fusion_predictions(s, k) for s in C3D_STREAMS for k in self.splits]

    def figure6b_streams(self) -> list[str]:
        return [s for s in C3D_STREAMS for _ in self.splits]

    def fusion_targets(self) -> list[str]:
        f = lambda name: figure_paths(name, self.figure_exts)  # noqa: E731
        return (["results/tables/table3.csv", "results/tables/table3.md", "results/report/tables/table3.html"]
                + f("figure4_codes") + f("figure5_confusion")
                + (f("figure6a_alpha") if self.fusion_sweep_alphas() else []) + f("figure6b_k"))

    # --- detection
    def detection_features_inputs(self, wildcards) -> dict:
        return {"frames": self.all_frames(wildcards.dataset), "flow": self.all_flow(wildcards.dataset),
                "sizes": f"results/data/{wildcards.dataset}/sizes.json",
                **self.flow_bound_inputs(wildcards.dataset)}

    def detection_runs(self) -> list[tuple[str, int]]:
        """(variant, seed index) of every detection run, variants in table order."""
        runs = [(v, k) for v in DETECTION_VARIANTS for k in self.detection_seeds]
        # the naive baseline (Table III's first row) is one run: its SVMs have no seeded initialisation
        return runs + ([(DETECTION_NAIVE, 0)] if self.detection_naive_enabled else [])

    @property
    def detection_naive_enabled(self) -> bool:
        return self.detection_enabled and bool(self.config["detection"]["naive"]["enabled"])

    def detection_naive_inputs(self, wildcards=None) -> dict:
        """The naive detection baseline reads the detection frames (no features, no flow)."""
        return {**self._detection_data(), "sizes": "results/data/detection/sizes.json",
                "frames": self.all_frames("detection")}

    @staticmethod
    def detection_naive_outputs() -> dict[str, str]:
        """The naive baseline's files, named as a batch's (``naive__scores``, ...)."""
        return DetectionBatch(0, 1, [(DETECTION_NAIVE, 0)]).outputs()

    def _detection_data(self) -> dict:
        return {"tracking": TRACKING,
                "manifest": "results/data/detection/manifest.csv",
                "annotations": "results/data/detection/annotations.csv",
                "ambiguous": "results/data/detection/ambiguous.csv",
                "classes": "results/data/detection/classes.txt"}

    def detection_trained_runs(self) -> list[tuple[str, int]]:
        """The runs of the generated ``detection_variant_<batch>`` rules (every run but the naive
        baseline's), seed index major and in dependency order within an index."""
        return [(v, k) for k in self.detection_seeds for v in DETECTION_VARIANTS]

    def detection_batches(self) -> list[DetectionBatch]:
        """The jobs of the detection runs (``sharding.detection_runs_per_job``)."""
        if not self.detection_enabled:
            return []
        return batch_detection_runs(self.detection_trained_runs(),
                                    self.config["sharding"]["detection_runs_per_job"], len(self.detection_seeds))

    def detection_batch_inputs(self, batch: DetectionBatch):
        """The input function of a batch's rule: the detection data, the features (trained runs),
        the frames, TV-L1 flow (and bound) for the FEN variant, and what other jobs' runs write."""
        variants = {v for v, _ in batch.runs}

        def inputs(wildcards=None) -> dict:
            base = {**self._detection_data(), "sizes": "results/data/detection/sizes.json"}
            if variants - {"late"}:
                base["features"] = "results/detection/features/detection.h5"
            if "sca_fen" in variants:
                base["frames"] = self.all_frames("detection")
                base["flow"] = self.all_flow("detection")
                base.update(self.flow_bound_inputs("detection"))
            base.update(batch.dependencies())
            return base
        return inputs

    def detection_table_inputs(self, wildcards=None) -> dict:
        """Tables III-V read every run's evaluation, summary and test detections (the bootstrap
        resamples the detections), in :meth:`detection_runs` order, and the test ground truth."""
        runs = self.detection_runs()
        return {**self._detection_data(), "gt": "results/detection/gt",
                "subsets": "results/data/detection/subsets.json",  # named by the caption
                "evals": [detection_variant_file(v, "eval.csv", k) for v, k in runs],
                "summaries": [detection_variant_file(v, "summary.json", k) for v, k in runs],
                "detections": [detection_variant_file(v, "detections.csv", k) for v, k in runs]}

    def recognition_mode_stores(self, wildcards=None) -> dict:
        """Recognition mode reads the recognition frames and flow only when it fine-tunes the I3Ds."""
        if self.config["detection"]["recognition"]["i3d"] != "finetune":
            return {}
        return {"frames": self.all_frames("recognition"), "flow": self.all_flow("recognition"),
                "sizes": "results/data/recognition/sizes.json"}

    def detection_timeline_variant(self) -> str:
        return self.config["detection"]["timeline_variant"]

    def detection_timeline_inputs(self, wildcards=None) -> dict:
        v = self.detection_timeline_variant()
        return {"tracking": TRACKING, "manifest": "results/data/detection/manifest.csv",
                "annotations": "results/data/detection/annotations.csv",
                "subsets": "results/data/detection/subsets.json",
                "classes": "results/data/detection/classes.txt",
                "scores": detection_variant_file(v, "scores.npz"),
                "detections": detection_variant_file(v, "detections.csv"),
                "summary": detection_variant_file(v, "summary.json")}

    def detection_timeline_figures(self, wildcards=None) -> list[str]:
        return [f"results/figures/detection/timeline_{v}.png"
                for v in self.videos("detection", self.config["detection"]["test_subset"])]

    def detection_targets(self) -> list[str]:
        return ["results/tables/infdet_table3.md", "results/tables/infdet_table4.md",
                "results/tables/infdet_table5.md", "results/tables/infdet_table6.md",
                "results/figures/detection/timelines.md"]

    # --- run records: every job's bad-input table and benchmark record, as declared inputs of the
    # report pages that gather them (enumerated from the same switches that enable the stages)
    def _jobs(self) -> list[tuple[str, str]]:
        """(rule, wildcard part of its record's path) of every job that does real work."""
        jobs = [("synthetic_data", d) for d in DATASETS
                if self._dataset_on(d) and self.config["dataset"][d]["source"] == "synthetic"]
        jobs += [("manifest", d) for d in DATASETS if self._dataset_on(d)]
        for d in DATASETS:
            if self._dataset_on(d):
                jobs += [("frames", f"{d}/{s}") for s in self.shards(d)]
                jobs += [("flow", f"{d}/{s}") for s in self.shards(d)]
        if self.handcrafted_enabled:
            jobs += [("handcrafted_descriptors", f"{k}/{s}") for k in FEATURE_KINDS for s in self.shards("recognition")]
            jobs += [("handcrafted_encode", f"split{i}_{k}") for i in self.splits for k in FEATURE_KINDS]
            jobs += [("handcrafted_classify", f"split{i}") for i in self.splits]
            if self.naive_enabled:
                jobs += [("naive_baseline", f"split{i}") for i in self.splits]
        if self.c3d_enabled:
            jobs += [("c3d_train", f"{s}_{v}_split{i}") for s in C3D_STREAMS for v in C3D_VARIANTS for i in self.splits]
            c3d = self.config["c3d"]
            jobs += [("c3d_sweep", f"{c3d['sweep_stream']}_alpha{a}_split{c3d['sweep_split']}")
                     for a in self.c3d_sweep_alphas()]
        if self.fusion_enabled:
            jobs += [("fusion_split", f"split{i}") for i in self.splits]
        if self.detection_enabled:
            jobs += [("detection_features", "detection")]
            if self.detection_recognition_enabled:
                jobs += [("detection_features", "recognition"), ("infdet_recognition", "recognition")]
            jobs += [("detection_variant", b.name) for b in self.detection_batches()]
            if self.detection_naive_enabled:
                jobs += [("detection_variant", DETECTION_NAIVE)]
        return jobs

    def _dataset_on(self, dataset: str) -> bool:
        return self.recognition_enabled if dataset == "recognition" else self.detection_enabled

    @property
    def detection_recognition_enabled(self) -> bool:
        return (self.detection_enabled and self.recognition_enabled
                and bool(self.config["detection"]["recognition"]["enabled"]))

    def class_files(self, wildcards=None) -> list[str]:
        """The class lists (and where they came from) of the enabled datasets: what captions name."""
        return [f"results/data/{d}/{name}" for d in DATASETS if self._dataset_on(d)
                for name in ("classes.txt", "classes_source.txt")]

    def benchmark_records(self, wildcards=None) -> list[str]:
        return [benchmark_path(rule, part) for rule, part in self._jobs()]

    def bad_input_tables(self, wildcards=None) -> list[str]:
        names = []
        for rule, part in self._jobs():
            if rule == "manifest":
                names.append(f"manifest_{part}")
            elif rule == "handcrafted_classify" and part == "split0":
                names.append("handcrafted_recognition")
            elif rule == "naive_baseline":
                names.append(f"naive_recognition_{part}")
            elif rule == "c3d_train":
                names.append(f"c3d_recognition_{part}")
            elif rule == "c3d_sweep":
                names.append(f"c3d_recognition_sweep_{part}")
            elif rule == "fusion_split":
                names.append(f"fusion_recognition_{part}")
            elif rule == "detection_features":
                names.append(f"{rule}_{part}")
        if self.detection_enabled:  # one table per detection run (a job may train several)
            names += [f"detection_variant_{detection_job_part(v, k)}" for v, k in self.detection_runs()]
        if self.recognition_enabled:
            names.append("splits_recognition")
        return [f"results/bad_inputs/{n}.csv" for n in names]

    # --- report (input functions: evaluated after every stage file has added its targets)
    def report_upstream_targets(self, wildcards=None) -> list[str]:
        return [t for t in map(str, self.targets) if not t.startswith(REPORT_OWN_PREFIXES)]

    def report_views(self, wildcards=None) -> list[str]:
        views = []
        for t in self.report_upstream_targets():
            if t in self.report_annotated:
                continue
            view = report_view(t)
            if view:
                views.append(view)
        return views

    # --- the data captions name (irpipe/report/data_description.py): the manifests they count are
    # declared inputs of every rule whose caption names the data
    def data_inputs(self, *datasets: str) -> dict:
        """Named inputs (``<dataset>_manifest``, ``recognition_splits``, ``detection_annotations``) of
        the enabled ``datasets``."""
        from .report.data_description import DATA_FILES
        return {f"{d}_{role}": path for d in datasets if self._dataset_on(d) for role, path in DATA_FILES[d].items()}

    @staticmethod
    def page_datasets(name: str) -> tuple[str, ...]:
        """The datasets a stage's table or figure (results/tables/<name>.csv, results/figures/<name>.*)
        ran on: seed 001's tables and figures the detection set (recognition mode the recognition
        set; Table VI none: FEN counted on its definition), every other one the recognition set."""
        if name == "infdet_recognition":
            return ("recognition",)
        if name == "infdet_table6":
            return ()
        if name.startswith(("infdet_", "detection", "timeline")):
            return ("detection",)
        return ("recognition",)

    def report_page_data(self, wildcards) -> dict:
        """Input function of the report's table views and figure copies: the data files of the page."""
        return self.data_inputs(*self.page_datasets(wildcards.name))

    def summary_data(self, wildcards=None) -> dict:
        return self.data_inputs(*DATASETS)

    def data_caption(self, wildcards, input) -> str:
        """Param of the rules whose Snakemake report caption (report/*.rst) names the data: 'Data:
        <name and counts>.' (reStructuredText-escaped) from the data files among the job's declared
        ``input`` (before they exist, Snakemake marks the param to be evaluated later)."""
        from .report.data_description import data_note, describe_inputs, rst_escape
        return rst_escape(data_note(describe_inputs(self.config, input)))

    def report_fusion_scores(self, wildcards=None) -> list[str]:
        return [f"results/fusion/split{k}/scores.h5" for k in self.splits] if self.fusion_enabled else []
