"""The workflow-test helpers must not change the configs they are given.

Regression (2026-12-01): ``shard_dir`` validated a shallow copy of its config, and
``validate_config`` fills schema defaults into the nested dicts in place. The SLURM test
called it with the shared reference run's config, which came back with every schema default
pinned (``flow.bound: 20``); its re-run then overrode the embedded config.yaml's
``flow.bound: 5`` and built the flow images at another bound than the reference run's
(raw flow byte-identical, flow_image different), and so did every later test in the same
pytest process that took the reference config (the interruption tests).
"""
from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

from irpipe.workflow_logic import make_shards
from tests.faults import workflow_helpers as W

VIDEOS = ["fight_0", "fight_1", "walk_0", "walk_1", "walk_2"]


def _workdir_with_manifest(root):
    m = root / "results" / "data" / "recognition" / "manifest.csv"
    m.parent.mkdir(parents=True)
    pd.DataFrame({"video_id": VIDEOS, "n_frames": [18] * len(VIDEOS)}).to_csv(m, index=False)
    return root


@pytest.mark.parametrize("per_job", [1, 2])
def test_shard_dir_leaves_the_callers_config_unchanged(tmp_path, per_job):
    wd = _workdir_with_manifest(tmp_path / "wd")
    config = W.recognition_only(W.data_config(tmp_path / "inputs"))
    config["sharding"]["videos_per_job"]["recognition"] = per_job
    before = copy.deepcopy(config)

    got = {v: W.shard_dir(wd, "flow", "recognition", v, config) for v in VIDEOS}

    assert config == before
    # what a run with this config writes: no schema default pinned over the embedded config.yaml
    assert "bound" not in yaml.safe_load(W.write_config(tmp_path / "run", config).read_text())["flow"]
    # and the answer itself: the shard folder that make_shards puts each video in
    shards = make_shards(VIDEOS, per_job)
    for v, path in got.items():
        (name,) = [s for s, members in shards.items() if v in members]
        assert path == f"results/flow/recognition/{name}"
    assert len(set(got.values())) == (len(VIDEOS) if per_job == 1 else len(shards))


def test_reference_config_is_a_fresh_copy_for_every_caller(tmp_path, monkeypatch):
    config = W.recognition_only(W.data_config(tmp_path / "inputs"))
    # a reference run already built in this process (building one costs a workflow run)
    monkeypatch.setattr(W, "_REFERENCE", {"wd": tmp_path / "wd", "root": tmp_path, "cfg": config})
    wd, first = W.reference_run()
    first["flow"]["bound"] = 20  # what a careless test might do to its copy
    first["sharding"]["videos_per_job"]["recognition"] = 3
    _, second = W.reference_run()
    assert wd == tmp_path / "wd"
    assert "bound" not in second["flow"] and second["sharding"]["videos_per_job"]["recognition"] == 1
    assert second == W.recognition_only(W.data_config(tmp_path / "inputs"))


def test_same_results_names_a_differing_attribute(tmp_path):
    """A flow store built at another bound is reported by its attribute, the cause."""
    import numpy as np

    from irpipe.data.stores import write_arrays
    from irpipe.flow.images import flow_to_image

    flow = np.random.default_rng(0).normal(0, 2, (3, 8, 10, 2)).astype(np.float32)
    for run, bound in (("a", 5.0), ("b", 20.0)):
        write_arrays(tmp_path / run / "results" / "flow" / "recognition" / "v" / "v.h5",
                     {"flow": flow.astype(np.float16), "flow_image": flow_to_image(flow, bound)},
                     {"video_id": "v", "bound": bound})
    with pytest.raises(AssertionError, match=r"attributes differ .*'attr:bound': \(5\.0, 20\.0\)"):
        W.assert_same_results(tmp_path / "a", tmp_path / "b", kinds=("flow",))
