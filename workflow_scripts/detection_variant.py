"""Train one detection variant (or fuse two, for 'late'; or the naive baseline), detect and evaluate on the test set."""
from pathlib import Path

import torch

from irpipe.data.sizes import resolve_config
from irpipe.detection.pipeline import run_variant
from irpipe.flow.bound import numeric_bound
from irpipe.workflow import run_script
from irpipe.workflow_logic import stores_in


def main(smk, run):
    torch.set_num_threads(smk.threads)
    variant = smk.wildcards.get("variant") or smk.params.variant
    paths = {k: smk.input[k] for k in smk.input.keys() if k not in ("frames", "flow", "flow_bound")}
    if "frames" in smk.input.keys():  # the FEN variant and the naive baseline
        paths["frames"] = stores_in(smk.input.frames)
    paths["bad"] = smk.output.bad
    if "model" in smk.output.keys():
        paths["model"] = smk.output.model
    if "flow" in smk.input.keys():  # only the FEN variant reads flow (with the bound)
        paths["flow"] = stores_in(smk.input.flow)
        paths["bound"] = numeric_bound(smk.config["flow"], smk.input.get("flow_bound"))
        print(f"flow bound {paths['bound']:.4g} px (flow.bound: {smk.config['flow']['bound']})")
        run.log_params({"flow_bound": paths["bound"]})
    seed_index = int(smk.wildcards.get("seed", 0))  # detection.seeds: the *_seed rules have a {seed} wildcard
    run.log_params({"seed_index": seed_index})
    run_variant(variant, resolve_config(smk.config, "detection")["detection"], smk.config["seed"],
                smk.config["on_bad_input"], paths, Path(smk.output.summary).parent, run, seed_index=seed_index)
    for key in ("evaluation", "thumos", "summary"):
        run.log_artifact(smk.output[key])


run_script(snakemake, main, section="detection")  # spooled: a head trains in seconds to minutes
