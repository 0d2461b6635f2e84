"""The foundation stages inside the real workflow: manifest, splits, frames, flow, tracking."""
import pandas as pd
import pytest

from irpipe.data.stores import read_attrs, read_flow_images, read_frames, verify_store
from tests.faults import workflow_helpers as W
from tests.workflow.conftest import snakemake

pytestmark = pytest.mark.workflow


def test_every_video_has_frames_and_flow(tiny_run):
    wd, _ = tiny_run
    for dataset, size in [("recognition", (32, 43)), ("detection", (48, 60))]:
        m = pd.read_csv(wd / f"results/data/{dataset}/manifest.csv")
        summary = pd.read_csv(wd / f"results/data/{dataset}/flow_summary.csv")
        assert sorted(summary["video_id"]) == sorted(m["video_id"])
        for vid, n in zip(m["video_id"], m["n_frames"]):
            name = "c3d" if dataset == "recognition" else "i3d"
            frames_h5 = W.store_path(wd, "frames", dataset, vid)
            verify_store(frames_h5, {"frames": n, f"frames_{name}": n})
            assert read_frames(frames_h5, size=name).shape == (n,) + size
            assert read_flow_images(W.store_path(wd, "flow", dataset, vid)).shape == (n - 1,) + size + (3,)
            assert read_attrs(frames_h5)["decoder"].startswith("opencv")
    assert len(pd.read_csv(wd / "results/data/recognition/manifest.csv")) == 12   # 4 classes x 3
    splits = pd.read_csv(wd / "results/data/recognition/splits.csv")
    assert splits.groupby("subset").size().to_dict() == {"test": 4, "train": 8}
    for name in ["manifest_recognition", "manifest_detection", "splits_recognition"]:
        assert pd.read_csv(wd / f"results/bad_inputs/{name}.csv").empty


def test_mlflow_parent_and_child_runs(tiny_run):
    from mlflow.tracking import MlflowClient

    wd, _ = tiny_run
    client = MlflowClient(f"sqlite:///{wd}/results/mlflow.db")
    exp = client.get_experiment_by_name("irpipe")
    runs = client.search_runs([exp.experiment_id], max_results=5000)
    parents = [r for r in runs if r.data.tags.get("irpipe.kind") == "workflow"]
    children = [r for r in runs if r.data.tags.get("irpipe.kind") == "job"]
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    rules = {r.data.tags["irpipe.rule"] for r in children}
    assert {"tracking_setup", "synthetic_data", "manifest_recognition", "manifest_detection", "splits",
            "frames", "flow", "flow_summary", "c3d_train", "handcrafted_encode", "table1", "table2", "table3",
            "detection_variant", "infdet_tables"} <= rules
    # one flow job per shard: the tiny preset's 12 clips in shards of up to 8, its 3 videos one each
    shards = [p for p in (wd / "results/flow").glob("*/*") if p.is_dir()]
    assert sum(r.data.tags["irpipe.rule"] == "flow" for r in children) == len(shards) < 15
    assert all(r.data.tags["mlflow.parentRunId"] == parents[0].info.run_id for r in children)


def test_second_run_does_nothing(tiny_run):
    wd, _ = tiny_run
    again = snakemake(wd)
    assert "Nothing to be done" in again.stdout + again.stderr
