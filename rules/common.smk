# Shared definitions: paths, input functions, tracking hooks. See docs/ARCHITECTURE.md.
import os

import pandas as pd

from irpipe import tracking as _tracking

CONDA_ENV = "../envs/irpipe.yaml"
TRACKING = "results/tracking/experiment.json"
SPLITS = list(range(config["splits"]["n_splits"]))
RECOGNITION_ENABLED = config["dataset"]["recognition"]["enabled"]
DETECTION_ENABLED = config["dataset"]["detection"]["enabled"]
# Every stage appends its final outputs; `rule all` asks for them.
ALL_TARGETS = []

wildcard_constraints:
    dataset="recognition|detection",
    video=r"[A-Za-z0-9_.-]+",
    split=r"\d+",
    shard=r"\d+",


def start_invocation():
    if config["tracking"]["enabled"]:
        _tracking.new_invocation(config["tracking"]["dir"], config)


def finish_invocation(status):
    if config["tracking"]["enabled"] and os.path.exists(TRACKING):
        try:
            n = _tracking.commit_spool(config)
            if n:
                print(f"[irpipe] committed {n} spooled per-video job runs to MLflow")
            _tracking.finish_parent(config["tracking"]["dir"], config["tracking"]["uri"], status)
        except Exception as exc:  # never mask the workflow's own outcome
            print(f"[irpipe] could not close the MLflow parent run: {exc}")


def manifest_table(dataset):
    """The manifest of ``dataset``; waits for (and re-evaluates after) its checkpoint."""
    ckpt = getattr(checkpoints, f"manifest_{dataset}")
    path = ckpt.get().output.manifest
    return pd.read_csv(path, dtype={"video_id": str, "path": str, "label": str, "subset": str})


def recognition_videos():
    return list(manifest_table("recognition")["video_id"])


def detection_videos(subset=None):
    df = manifest_table("detection")
    if subset is not None:
        df = df[df["subset"] == subset]
    return list(df["video_id"])


def dataset_videos(dataset):
    return recognition_videos() if dataset == "recognition" else detection_videos()


def video_source(wildcards):
    df = manifest_table(wildcards.dataset).set_index("video_id")
    return df.loc[wildcards.video, "path"]


def video_fps(wildcards):
    """The manifest's frame rate of a video (what an image sequence is read at)."""
    df = manifest_table(wildcards.dataset).set_index("video_id")
    return float(df.loc[wildcards.video, "fps"])


def frames_store(dataset, video):
    return f"results/frames/{dataset}/{video}.h5"


def flow_store(dataset, video):
    return f"results/flow/{dataset}/{video}.h5"


def all_frame_stores(wildcards):
    return [frames_store(wildcards.dataset, v) for v in dataset_videos(wildcards.dataset)]


def all_flow_stores(wildcards):
    return [flow_store(wildcards.dataset, v) for v in dataset_videos(wildcards.dataset)]


def synthetic_input(dataset):
    if config["dataset"][dataset]["source"] == "synthetic":
        return [f"results/synthetic/{dataset}"]
    return []
