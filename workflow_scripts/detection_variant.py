"""Train one detection variant (or fuse two, for 'late'), detect and evaluate on the test set."""
from pathlib import Path

import torch

from irpipe.data.sizes import resolve_config
from irpipe.detection.pipeline import run_variant
from irpipe.workflow import run_script


def main(smk, run):
    torch.set_num_threads(smk.threads)
    paths = {k: smk.input[k] for k in smk.input.keys() if k not in ("frames", "flow")}
    if "frames" in smk.input.keys():
        paths["frames_dir"] = Path(smk.input.frames[0]).parent
        paths["flow_dir"] = Path(smk.input.flow[0]).parent
    if "init" in paths:  # the SCA (TV-L1) checkpoint lies beside its summary
        paths["init"] = Path(paths["init"]).parent / "model.pt"
    paths["bound"] = smk.config["flow"]["bound"]
    run_variant(smk.wildcards.variant, resolve_config(smk.config, "detection")["detection"], smk.config["seed"], smk.config["on_bad_input"],
                paths, Path(smk.output.summary).parent, run)
    for key in ("evaluation", "thumos", "summary"):
        run.log_artifact(smk.output[key])


run_script(snakemake, main, section="detection")
