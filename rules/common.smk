# Shared definitions: the workflow logic object, tracking hooks, wildcard constraints.
# Every list, path and input function the rules use lives in irpipe/workflow_logic.py (unit-tested);
# rules call its short named functions. See docs/ARCHITECTURE.md.
import os

from irpipe import tracking as _tracking
from irpipe.workflow_logic import (C3D_STREAMS, C3D_VARIANTS, CONDA_ENV, DETECTION_TRAINED_VARIANTS, figure_paths,
                                   DETECTION_VARIANTS, FEATURE_KINDS, TRACKING, WorkflowLogic)

W = WorkflowLogic(config, checkpoints)
SPLITS = W.splits
# Every stage appends its final outputs; `rule all` asks for them.
ALL_TARGETS = W.targets

wildcard_constraints:
    dataset="recognition|detection",
    video=r"[A-Za-z0-9_.-]+",
    shard=r"[A-Za-z0-9_.-]+",
    split=r"\d+",
    kind="|".join(FEATURE_KINDS),
    stream="|".join(C3D_STREAMS),


def start_invocation():
    if config["tracking"]["enabled"]:
        _tracking.new_invocation(config["tracking"]["dir"], config)


def finish_invocation(status):
    if config["tracking"]["enabled"] and os.path.exists(TRACKING):
        try:
            n = _tracking.commit_spool(config)
            if n:
                print(f"[irpipe] committed {n} spooled job runs to MLflow")
            _tracking.finish_parent(config["tracking"]["dir"], config["tracking"]["uri"], status)
        except Exception as exc:  # never mask the workflow's own outcome
            print(f"[irpipe] could not close the MLflow parent run: {exc}")


def figure_outputs(name, caption, title):
    """A figure in every configured format, marked for the report (report() exists only in the
    Snakefile; the paths come from irpipe.workflow_logic)."""
    return [report(path, caption=caption, category="Figures", subcategory="Seed 000",
                   labels={"figure": title, "format": path.rsplit(".", 1)[1]})
            for path in figure_paths(name, W.figure_exts)]
