"""MLflow 3 tracking on a SQLite backend: one parent run per workflow invocation, one child
run per job.

- The setup rule calls :func:`init_experiment` once, before any other job: creating the
  SQLite schema and the experiment concurrently from many jobs races, so only that job does.
- ``onstart`` in the Snakefile calls :func:`new_invocation`, which writes an invocation id.
- Each job opens a :class:`JobRun`; the first job of an invocation creates the parent run
  under a file lock, the others find it. Jobs are separate processes (and, on a cluster,
  separate machines sharing the results folder), so ``nested=True`` does not apply: the
  child carries ``mlflow.parentRunId``.
- SQLite allows one writer at a time: every call retries on "database is locked".
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import random
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Iterator, Mapping

from .config import config_hash
from .io import read_json, write_json

DEFAULT_URI = "sqlite:///results/mlflow.db"


def _client(uri: str):
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    from mlflow.tracking import MlflowClient

    _ensure_sqlite_parent(uri)
    return MlflowClient(tracking_uri=uri)


def _ensure_sqlite_parent(uri: str) -> None:
    if uri.startswith("sqlite:///"):
        path = uri[len("sqlite:///"):].split("?")[0]
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def _retry(fn, *args, attempts: int = 30, **kwargs):
    """Call ``fn``, retrying with jittered back-off while SQLite reports a lock."""
    delay = 0.05
    for i in range(attempts):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # mlflow wraps sqlalchemy's OperationalError in MlflowException
            text = str(exc).lower()
            if i == attempts - 1 or not ("locked" in text or "busy" in text):
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 2.0)


def artifact_location(tracking_dir: str | Path) -> str:
    return Path(tracking_dir, "artifacts").resolve().as_uri()


def init_experiment(uri: str, name: str, tracking_dir: str | Path) -> dict:
    """Create the database schema and the experiment if absent; return its description."""
    client = _client(uri)
    exp = _retry(client.get_experiment_by_name, name)
    if exp is None:
        exp_id = _retry(client.create_experiment, name, artifact_location=artifact_location(tracking_dir))
    else:
        exp_id = exp.experiment_id
    info = {"tracking_uri": uri, "experiment_name": name, "experiment_id": exp_id}
    return info


def new_invocation(tracking_dir: str | Path, config: Mapping) -> str:
    """Record a fresh invocation id (called once per `snakemake` run, from onstart)."""
    inv = uuid.uuid4().hex[:16]
    write_json(Path(tracking_dir) / "invocation.json",
               {"invocation": inv, "started": time.time(), "config_hash": config_hash(dict(config))})
    return inv


def current_invocation(tracking_dir: str | Path) -> str:
    path = Path(tracking_dir) / "invocation.json"
    if not path.exists():
        # A job run outside an invocation that called onstart (e.g. `snakemake --touch`
        # or a direct script call): give it an invocation of its own.
        return new_invocation(tracking_dir, {})
    return read_json(path)["invocation"]


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def git_revision(cwd: str | Path | None = None) -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=cwd or Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=cwd or Path(__file__).parent, capture_output=True, text=True, timeout=5)
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def parent_run_id(client, experiment_id: str, tracking_dir: str | Path, config: Mapping) -> str:
    """The parent run of the current invocation, created by the first job that asks."""
    tracking_dir = Path(tracking_dir)
    inv = current_invocation(tracking_dir)
    registry = tracking_dir / "parent_runs.json"
    with _file_lock(tracking_dir / ".parent.lock"):
        runs = read_json(registry) if registry.exists() else {}
        if inv in runs:
            return runs[inv]
        tags = {
            "irpipe.kind": "workflow",
            "irpipe.invocation": inv,
            "irpipe.config_hash": config_hash(dict(config)),
            "irpipe.git_revision": git_revision(),
            "irpipe.dataset": str(config.get("dataset", {}).get("recognition", {}).get("source", "")),
            "mlflow.runName": f"workflow-{time.strftime('%Y%m%d-%H%M%S')}-{inv[:6]}",
        }
        run = _retry(client.create_run, experiment_id, tags=tags)
        runs[inv] = run.info.run_id
        write_json(registry, runs)
        return run.info.run_id


def finish_parent(tracking_dir: str | Path, uri: str, status: str = "FINISHED") -> None:
    """Mark the current invocation's parent run terminated (called from onsuccess/onerror)."""
    tracking_dir = Path(tracking_dir)
    inv_path, registry = tracking_dir / "invocation.json", tracking_dir / "parent_runs.json"
    if not (inv_path.exists() and registry.exists()):
        return
    run_id = read_json(registry).get(read_json(inv_path)["invocation"])
    if run_id:
        _retry(_client(uri).set_terminated, run_id, status)


def _flatten(d: Mapping, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


class JobRun:
    """A child run for one workflow job. Use as a context manager.

    ``JobRun(config, rule="flow", wildcards={"video": "v1"}, params=config["flow"])``.
    With ``config["tracking"]["enabled"]`` false every method is a no-op, so library code
    can log unconditionally. With ``spool=True`` the run is recorded to a JSON file under
    ``<tracking dir>/spool/`` and committed to MLflow later by :func:`commit_spool` (the
    workflow does so when it finishes): importing MLflow costs ~2 s of CPU per process,
    which would dominate hundreds of small per-video jobs.
    """

    def __init__(self, config: Mapping, rule: str, wildcards: Mapping[str, str] | None = None,
                 params: Mapping | None = None, tracking_dir: str | Path | None = None,
                 spool: bool = False):
        tcfg = config.get("tracking", {})
        self.enabled = bool(tcfg.get("enabled", True))
        self.spool = spool and self.enabled
        self._record: dict = {}
        self.config = config
        self.rule = rule
        self.wildcards = dict(wildcards or {})
        self.params = dict(params or {})
        self.uri = tcfg.get("uri", DEFAULT_URI)
        self.tracking_dir = Path(tracking_dir or tcfg.get("dir", "results/tracking"))
        self.experiment_name = tcfg.get("experiment", "irpipe")
        self.run_id: str | None = None
        self._client = None

    def _tags(self) -> dict:
        wc = ",".join(f"{k}={v}" for k, v in sorted(self.wildcards.items()))
        tags = {
            "mlflow.runName": f"{self.rule}[{wc}]" if wc else self.rule,
            "irpipe.kind": "job",
            "irpipe.rule": self.rule,
            "irpipe.wildcards": wc,
            "irpipe.config_hash": config_hash(dict(self.config)),
            "irpipe.git_revision": git_revision(),
            "irpipe.invocation": current_invocation(self.tracking_dir),
        }
        tags.update({f"irpipe.wildcard.{k}": str(v) for k, v in self.wildcards.items()})
        return tags

    def __enter__(self) -> "JobRun":
        if not self.enabled:
            return self
        if self.spool:
            self._record = {"tags": self._tags(), "params": {}, "metrics": [], "artifacts": [],
                            "start_time": int(time.time() * 1000)}
            if self.params:
                self.log_params(self.params)
            return self
        self._client = _client(self.uri)
        exp = _retry(self._client.get_experiment_by_name, self.experiment_name)
        if exp is None:
            raise RuntimeError(
                f"MLflow experiment '{self.experiment_name}' not found at {self.uri}: "
                "the tracking setup rule must run first")
        parent = parent_run_id(self._client, exp.experiment_id, self.tracking_dir, self.config)
        tags = {"mlflow.parentRunId": parent, **self._tags()}
        run = _retry(self._client.create_run, exp.experiment_id, tags=tags)
        self.run_id = run.info.run_id
        if self.params:
            self.log_params(self.params)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.spool:
            rec = self._record
            rec["status"] = "FINISHED" if exc_type is None else "FAILED"
            if exc is not None:
                rec["tags"]["irpipe.error"] = f"{exc_type.__name__}: {exc}"[:4000]
            rec["end_time"] = int(time.time() * 1000)
            name = rec["tags"]["mlflow.runName"]
            safe = "".join(c if c.isalnum() or c in "._=-" else "_" for c in name)
            write_json(self.tracking_dir / "spool" / f"{rec['start_time']}-{uuid.uuid4().hex[:8]}-{safe}.json", rec)
            return False
        if self.enabled and self.run_id:
            status = "FINISHED" if exc_type is None else "FAILED"
            if exc is not None:
                self.set_tag("irpipe.error", f"{exc_type.__name__}: {exc}"[:4000])
            _retry(self._client.set_terminated, self.run_id, status)
        return False

    # logging -----------------------------------------------------------------------
    def log_params(self, params: Mapping) -> None:
        if not self.enabled:
            return
        if self.spool:
            self._record["params"].update({k: str(v) for k, v in _flatten(params).items()})
            return
        from mlflow.entities import Param

        flat = _flatten(params)
        items = [Param(k[:250], str(v)[:6000]) for k, v in sorted(flat.items())]
        for i in range(0, len(items), 100):
            _retry(self._client.log_batch, self.run_id, params=items[i:i + 100])

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        if not self.enabled:
            return
        if self.spool:
            ts = int(time.time() * 1000)
            self._record["metrics"] += [[k, float(v), ts, int(step or 0)] for k, v in metrics.items()]
            return
        from mlflow.entities import Metric

        ts = int(time.time() * 1000)
        items = [Metric(k, float(v), ts, int(step or 0)) for k, v in metrics.items()]
        for i in range(0, len(items), 500):
            _retry(self._client.log_batch, self.run_id, metrics=items[i:i + 500])

    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        self.log_metrics({key: value}, step=step)

    def set_tag(self, key: str, value: str) -> None:
        if self.spool:
            self._record["tags"][key] = str(value)
        elif self.enabled:
            _retry(self._client.set_tag, self.run_id, key, str(value))

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        if self.spool:
            self._record["artifacts"].append([str(Path(path).resolve()), artifact_path])
        elif self.enabled:
            _retry(self._client.log_artifact, self.run_id, str(path), artifact_path)


def commit_spool(config: Mapping, tracking_dir: str | Path | None = None) -> int:
    """Create the child runs recorded by spooled jobs; return how many were committed.

    Each record becomes a child of the parent run of the invocation it ran in, with its
    own start and end times, so the MLflow view is the same as if it had logged directly.
    A record is deleted only after its run is complete in the store.
    """
    tcfg = config.get("tracking", {})
    tracking_dir = Path(tracking_dir or tcfg.get("dir", "results/tracking"))
    files = sorted((tracking_dir / "spool").glob("*.json"))
    if not files or not tcfg.get("enabled", True):
        return 0
    from mlflow.entities import Metric, Param

    client = _client(tcfg.get("uri", DEFAULT_URI))
    exp = _retry(client.get_experiment_by_name, tcfg.get("experiment", "irpipe"))
    if exp is None:
        return 0
    registry = tracking_dir / "parent_runs.json"
    done = 0
    with _file_lock(tracking_dir / ".spool.lock"):
        for path in files:
            if not path.exists():
                continue
            rec = read_json(path)
            inv = rec["tags"].get("irpipe.invocation")
            parents = read_json(registry) if registry.exists() else {}
            parent = parents.get(inv) or parent_run_id(client, exp.experiment_id, tracking_dir, config)
            tags = {"mlflow.parentRunId": parent, "irpipe.spooled": "true", **rec["tags"]}
            run = _retry(client.create_run, exp.experiment_id, start_time=rec["start_time"], tags=tags)
            rid = run.info.run_id
            params = [Param(k[:250], v[:6000]) for k, v in sorted(rec["params"].items())]
            metrics = [Metric(k, v, ts, step) for k, v, ts, step in rec["metrics"]]
            for i in range(0, max(len(params), len(metrics)), 100):
                _retry(client.log_batch, rid, params=params[i:i + 100], metrics=metrics[i:i + 100])
            for local, apath in rec["artifacts"]:
                if Path(local).exists():
                    _retry(client.log_artifact, rid, local, apath)
            _retry(client.set_terminated, rid, rec["status"], end_time=rec["end_time"])
            path.unlink()
            done += 1
    return done
