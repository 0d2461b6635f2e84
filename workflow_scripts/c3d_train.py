"""Train one C3D stream on one split (or one alpha of the sweep) and write its predictions."""
import shutil
from pathlib import Path

import pandas as pd
import torch

from irpipe.data.datasets import read_classes_file
from irpipe.data.sizes import resolve_config
from irpipe.errors import bad_inputs_frame, handle_bad_input
from irpipe.flow.bound import resolve_bound
from irpipe.io import atomic_path, write_csv
from irpipe.train.c3d_trainer import run_stream
from irpipe.workflow import run_script
from irpipe.workflow_logic import select_stores


def copy_outputs(smk, run):
    """A sweep point identical to a main training job: copy its predictions and weights."""
    pred, model = smk.input.reuse
    for src, dst in ((pred, smk.output.predictions), (model, smk.output.model)):
        with atomic_path(dst, suffix=".tmp" + Path(dst).suffix) as tmp:
            shutil.copyfile(src, tmp)
    write_csv(smk.output.bad, bad_inputs_frame([]))
    run.set_tag("irpipe.c3d.reused", pred)
    print(f"alpha {smk.params.alpha} equals the main job's: copied {pred}")


def main(smk, run):
    if "reuse" in smk.input.keys() and len(smk.input.reuse):
        return copy_outputs(smk, run)
    cfg = resolve_config(smk.config, "recognition")
    torch.set_num_threads(max(1, int(smk.threads)))
    stream, split = smk.wildcards.stream, int(smk.wildcards.split)
    run.log_params({"alpha": float(smk.params.alpha), "stream": stream, "split": split})
    splits = pd.read_csv(smk.input.splits, dtype={"video_id": str})
    sel = splits[splits["split"] == split]
    stores = select_stores(smk.input.stores, sel["video_id"])
    videos = sel.assign(path=[str(stores[v]) for v in sel["video_id"]])
    bad = []
    out = Path(smk.output.predictions)
    flow_bound = resolve_bound(cfg["flow"], smk.input.get("flow_bound")) if stream == "flow" else None
    if flow_bound is not None:
        print(f"flow.bound auto: flow images built from the raw flow with bound {flow_bound:.4g} px")
        run.log_params({"flow_bound": flow_bound})
    res = run_stream(videos[["video_id", "label_index", "subset", "path"]], stream, float(smk.params.alpha),
                     cfg["c3d"], seed=int(cfg["seed"]), split=split,
                     n_classes=len(read_classes_file(smk.input.classes)), out_path=out,
                     checkpoint_path=out.parent / "checkpoint.pt", model_path=smk.output.model, run=run,
                     on_bad=lambda exc: handle_bad_input(exc, cfg["on_bad_input"], "recognition", "c3d", bad),
                     flow_bound=flow_bound)
    write_csv(smk.output.bad, bad_inputs_frame(bad))
    run.log_metrics({"n_bad_inputs": len(bad)})
    run.set_tag("irpipe.c3d.stream", stream)
    run.log_artifact(smk.output.predictions)
    print(res.metrics, res.summary)


run_script(snakemake, main, section="c3d", live=True)
