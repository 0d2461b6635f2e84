"""Eight jobs logging to the same MLflow SQLite store at once: no error, every run present,
all of them children of the one parent run of the invocation."""
from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from irpipe.tracking import init_experiment, new_invocation

N_JOBS = 8
STEPS = 5


def _job(i: int, config: dict, workdir: str, barrier, artifact: str) -> None:
    os.chdir(workdir)
    from irpipe.tracking import JobRun

    barrier.wait(timeout=120)  # all eight start writing together
    with JobRun(config, rule="fault_concurrency", wildcards={"job": str(i)},
                params={"job": i, "section": {"alpha": 0.02, "seed": i}}) as run:
        for step in range(STEPS):
            run.log_metrics({"loss": 1.0 / (step + 1) + i, "acc": step * 0.1}, step=step)
        run.set_tag("irpipe.test", f"job-{i}")
        run.log_artifact(artifact)


@pytest.mark.slow
def test_eight_jobs_log_concurrently(tmp_path):
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    config = {"seed": 0, "tracking": {"enabled": True, "uri": f"sqlite:///{tmp_path}/results/mlflow.db",
                                      "experiment": "faults", "dir": str(tmp_path / "results/tracking")}}
    t = config["tracking"]
    # The setup rule's job, in a process of its own so that this one holds no database
    # connection that the forked jobs would inherit.
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        info = pool.submit(init_experiment, t["uri"], t["experiment"], t["dir"]).result(timeout=300)
    new_invocation(t["dir"], config)  # what the Snakefile's onstart does
    artifact = tmp_path / "table.csv"
    artifact.write_text("a,b\n1,2\n")

    # Separate processes, each with its own SQLite connection, like separate Snakemake jobs.
    # Forked after importing mlflow (but before any client exists) to save eight imports.
    import mlflow.tracking  # noqa: F401

    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(N_JOBS)
    procs = [ctx.Process(target=_job, args=(i, config, str(tmp_path), barrier, str(artifact)))
             for i in range(N_JOBS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    codes = [p.exitcode for p in procs]
    assert codes == [0] * N_JOBS, f"job exit codes {codes}"

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=t["uri"])
    runs = client.search_runs([info["experiment_id"]], max_results=100)
    parents = [r for r in runs if r.data.tags.get("irpipe.kind") == "workflow"]
    children = [r for r in runs if r.data.tags.get("irpipe.kind") == "job"]
    assert len(parents) == 1, "the jobs raced and created more than one parent run"
    assert len(children) == N_JOBS
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parents[0].info.run_id}
    assert sorted(r.data.tags["irpipe.wildcard.job"] for r in children) == sorted(str(i) for i in range(N_JOBS))
    for r in children:
        i = int(r.data.tags["irpipe.wildcard.job"])
        assert r.info.status == "FINISHED"
        assert r.data.params["job"] == str(i) and r.data.params["section.seed"] == str(i)
        assert r.data.tags["irpipe.test"] == f"job-{i}"
        history = client.get_metric_history(r.info.run_id, "loss")
        assert sorted(m.step for m in history) == list(range(STEPS))
        assert {m.step: m.value for m in history}[STEPS - 1] == pytest.approx(1.0 / STEPS + i)
        assert [a.path for a in client.list_artifacts(r.info.run_id)] == ["table.csv"]
        local = Path(client.download_artifacts(r.info.run_id, "table.csv", str(tmp_path / f"dl{i}")))
        assert local.read_text() == artifact.read_text()
