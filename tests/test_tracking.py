import multiprocessing as mp

import pytest

from irpipe.config import validate_config
from irpipe.tracking import JobRun, commit_spool, finish_parent, init_experiment, new_invocation


@pytest.fixture
def cfg(tmp_path):
    c = validate_config({"tracking": {"uri": f"sqlite:///{tmp_path}/mlflow.db", "dir": str(tmp_path / "tracking"),
                                      "experiment": "test"}})
    init_experiment(c["tracking"]["uri"], "test", c["tracking"]["dir"])
    new_invocation(c["tracking"]["dir"], c)
    return c


def _search(cfg):
    from mlflow.tracking import MlflowClient
    client = MlflowClient(cfg["tracking"]["uri"])
    exp = client.get_experiment_by_name("test")
    return client.search_runs([exp.experiment_id], max_results=1000)


def _job(args):
    cfg, i, spool = args
    with JobRun(cfg, rule="frames", wildcards={"video": f"v{i}"}, params={"frames": {"size": i}}, spool=spool) as r:
        for step in range(3):
            r.log_metrics({"loss": 1.0 / (step + 1), "i": i}, step=step)
    return r.run_id


def test_parent_and_child_runs_with_tags(cfg):
    rid = _job((cfg, 0, False))
    _job((cfg, 1, True))
    assert commit_spool(cfg) == 1
    finish_parent(cfg["tracking"]["dir"], cfg["tracking"]["uri"])
    all_runs = _search(cfg)
    parents = [r for r in all_runs if r.data.tags.get("irpipe.kind") == "workflow"]
    children = [r for r in all_runs if r.data.tags.get("irpipe.kind") == "job"]
    assert len(parents) == 1 and len(children) == 2
    assert parents[0].info.status == "FINISHED"
    for c in children:
        assert c.data.tags["mlflow.parentRunId"] == parents[0].info.run_id
        assert c.data.tags["irpipe.rule"] == "frames" and c.data.tags["irpipe.wildcards"].startswith("video=v")
        assert c.data.tags["irpipe.config_hash"] and c.data.tags["irpipe.git_revision"]
        assert c.data.params["frames.size"] in {"0", "1"}
        assert c.data.metrics["loss"] == pytest.approx(1 / 3)
    from mlflow.tracking import MlflowClient
    hist = MlflowClient(cfg["tracking"]["uri"]).get_metric_history(rid, "loss")
    assert [m.step for m in hist] == [0, 1, 2]


def test_failed_job_is_marked_failed(cfg):
    with pytest.raises(ValueError):
        with JobRun(cfg, rule="flow", wildcards={"video": "x"}):
            raise ValueError("decoder exploded")
    (run,) = [r for r in _search(cfg) if r.data.tags.get("irpipe.kind") == "job"]
    assert run.info.status == "FAILED" and "decoder exploded" in run.data.tags["irpipe.error"]


@pytest.mark.slow  # 36 s measured on two shared cores (six spawned MLflow client processes)
def test_many_jobs_logging_at_once(cfg):
    ctx = mp.get_context("spawn")
    with ctx.Pool(6) as pool:
        ids = pool.map(_job, [(cfg, i, False) for i in range(8)])
    assert len(set(ids)) == 8
    children = [r for r in _search(cfg) if r.data.tags.get("irpipe.kind") == "job"]
    parents = {r.data.tags["mlflow.parentRunId"] for r in children}
    assert len(children) == 8 and len(parents) == 1
    assert all(r.info.status == "FINISHED" for r in children)
