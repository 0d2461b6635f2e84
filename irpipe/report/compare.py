"""``irpipe runs compare``: the MLflow runs of chosen stages side by side.

Every workflow invocation is one parent run; each job is a child run tagged with its rule
and wildcards (see :mod:`irpipe.tracking`). The comparison lays the job runs out as one
column per workflow invocation (``--by parent``, the default) or per job run (``--by run``),
with one row per (rule, wildcards, param or metric). Params shown are the ones that differ
between the columns (all of them with ``--all-params``), so two invocations with different
configs show what changed and what it did to the metrics.

Built on :func:`mlflow.search_runs`; filters: experiment, rule, tag (``key=value``), parent run.
"""
from __future__ import annotations

import argparse
import fnmatch
import logging
import os
from typing import Iterable, Sequence

import pandas as pd

from ..errors import IrpipeError
from ..io import write_csv

log = logging.getLogger(__name__)

DEFAULT_URI = "sqlite:///results/mlflow.db"


def _quote(v: str) -> str:
    return "'" + str(v).replace("'", "\\'") + "'"


def search_job_runs(uri: str, experiment: str, rules: Sequence[str] = (), tags: dict | None = None,
                    parents: Sequence[str] = ()) -> pd.DataFrame:
    """Job (child) runs of ``experiment`` matching every filter, as mlflow.search_runs gives them."""
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    import mlflow

    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(experiment) is None:
        raise IrpipeError(f"no MLflow experiment '{experiment}' at {uri}")
    clauses = ["tags.`irpipe.kind` = 'job'"]
    for k, v in (tags or {}).items():
        clauses.append(f"tags.`{k}` = {_quote(v)}")
    if len(rules) == 1:
        clauses.append(f"tags.`irpipe.rule` = {_quote(rules[0])}")
    df = mlflow.search_runs(experiment_names=[experiment], filter_string=" and ".join(clauses),
                            output_format="pandas", order_by=["attributes.start_time ASC"])
    if df.empty:
        return df
    if len(rules) > 1:
        df = df[df["tags.irpipe.rule"].isin(rules)]
    if parents:
        df = df[df["tags.mlflow.parentRunId"].isin(parents)]
    return df.reset_index(drop=True)


def parent_labels(uri: str, experiment: str, parent_ids: Iterable[str]) -> dict[str, str]:
    """Column labels for parent runs: run name (or id) in start order."""
    import mlflow

    mlflow.set_tracking_uri(uri)
    ids = [p for p in dict.fromkeys(parent_ids) if isinstance(p, str) and p]
    if not ids:
        return {}
    runs = mlflow.search_runs(experiment_names=[experiment], output_format="pandas",
                              filter_string="tags.`irpipe.kind` = 'workflow'")
    names = {}
    for _, r in runs.iterrows():
        if r["run_id"] in ids:
            names[r["run_id"]] = r.get("tags.mlflow.runName") or r["run_id"][:8]
    return {p: names.get(p, p[:8]) for p in ids}


def _match(name: str, patterns: Sequence[str] | None) -> bool:
    return not patterns or any(fnmatch.fnmatch(name, p) for p in patterns)


def compare_table(runs: pd.DataFrame, by: str = "parent", labels: dict[str, str] | None = None,
                  metrics: Sequence[str] | None = None, params: Sequence[str] | None = None,
                  all_params: bool = False) -> pd.DataFrame:
    """Wide table: index (rule, wildcards, kind, name), one column per parent (or job run)."""
    if runs.empty:
        return pd.DataFrame()
    labels = labels or {}
    runs = runs.copy()
    if by == "parent":
        runs["column"] = runs["tags.mlflow.parentRunId"].map(lambda p: labels.get(p, str(p)[:8]))
    elif by == "run":
        runs["column"] = runs["tags.mlflow.runName"].fillna("") + " " + runs["run_id"].str[:6]
    else:
        raise ValueError(f"by must be 'parent' or 'run', got {by!r}")
    # One job per (column, rule, wildcards): a re-run within an invocation keeps the newest.
    runs = runs.sort_values("start_time").drop_duplicates(
        ["column", "tags.irpipe.rule", "tags.irpipe.wildcards"], keep="last")
    records = []
    for _, r in runs.iterrows():
        for col, val in r.items():
            if not isinstance(col, str) or pd.isna(val):
                continue
            if col.startswith("metrics."):
                kind, name = "metric", col[len("metrics."):]
                if not _match(name, metrics):
                    continue
            elif col.startswith("params."):
                kind, name = "param", col[len("params."):]
                if not _match(name, params):
                    continue
            else:
                continue
            records.append({"rule": r["tags.irpipe.rule"], "wildcards": r.get("tags.irpipe.wildcards") or "",
                            "kind": kind, "name": name, "column": r["column"], "value": val})
    if not records:
        return pd.DataFrame()
    long = pd.DataFrame(records)
    order = list(dict.fromkeys(runs["column"]))
    wide = long.pivot_table(index=["rule", "wildcards", "kind", "name"], columns="column", values="value",
                            aggfunc="last", sort=True)
    wide = wide.reindex(columns=[c for c in order if c in wide.columns])
    if not all_params and wide.shape[1] > 1:
        is_param = wide.index.get_level_values("kind") == "param"
        differs = wide.astype(str).nunique(axis=1, dropna=False) > 1
        wide = wide[~is_param | differs.to_numpy()]
    wide.columns.name = None
    # Metrics before params within a job, then by name.
    return wide.sort_index(level=["rule", "wildcards", "kind", "name"], ascending=[True, True, True, True])


def format_table(wide: pd.DataFrame, digits: int = 4) -> str:
    def fmt(v):
        if v is None or (isinstance(v, float) and v != v):
            return ""  # absent in that column (e.g. a param added between invocations)
        if isinstance(v, float):
            return f"{v:.{digits}g}"
        return "" if v is None else str(v)

    if wide.empty:
        return "(no matching runs)"
    return wide.map(fmt).to_string()


def _parse_tags(items: Sequence[str]) -> dict:
    out = {}
    for it in items or []:
        if "=" not in it:
            raise IrpipeError(f"--tag expects key=value, got {it!r}")
        k, v = it.split("=", 1)
        out[k] = v
    return out


def run_compare(args) -> int:
    tags = _parse_tags(args.tag)
    runs = search_job_runs(args.uri, args.experiment, args.rule or (), tags, args.parent or ())
    labels = {}
    if not runs.empty:
        parents = list(dict.fromkeys(runs["tags.mlflow.parentRunId"].dropna()))
        if args.last:
            parents = parents[-args.last:]
            runs = runs[runs["tags.mlflow.parentRunId"].isin(parents)]
        labels = parent_labels(args.uri, args.experiment, parents)
    wide = compare_table(runs, by=args.by, labels=labels, metrics=args.metric, params=args.param,
                         all_params=args.all_params)
    print(format_table(wide))
    if args.csv:
        write_csv(args.csv, wide.reset_index() if not wide.empty else wide)
        log.info("wrote %s", args.csv)
    return 0


def register(subparsers) -> None:
    runs = subparsers.add_parser("runs", help="inspect the MLflow runs of the workflow")
    sub = runs.add_subparsers(dest="runs_command", required=True)
    p = sub.add_parser("compare", help="show job runs side by side (one column per workflow invocation)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--uri", default=os.environ.get("MLFLOW_TRACKING_URI", DEFAULT_URI), help="MLflow tracking URI")
    p.add_argument("--experiment", default="irpipe", help="MLflow experiment name")
    p.add_argument("--rule", action="append", help="only jobs of this rule (repeatable)")
    p.add_argument("--tag", action="append", metavar="KEY=VALUE", help="only runs with this tag (repeatable)")
    p.add_argument("--parent", action="append", metavar="RUN_ID", help="only children of this workflow run")
    p.add_argument("--last", type=int, default=None, help="only the N most recent workflow invocations")
    p.add_argument("--by", choices=["parent", "run"], default="parent", help="one column per invocation or per job run")
    p.add_argument("--metric", action="append", metavar="GLOB", help="metrics to show (glob, repeatable)")
    p.add_argument("--param", action="append", metavar="GLOB", help="params to show (glob, repeatable)")
    p.add_argument("--all-params", action="store_true", help="show params equal across columns too")
    p.add_argument("--csv", help="also write the table to this CSV file")
    p.set_defaults(func=run_compare)
