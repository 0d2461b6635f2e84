"""Train the detection runs of one job one after another (variants x seed indices, late fusion, or
the naive baseline), then detect and evaluate each on the test set. Every run keeps its own files,
bad-input table and MLflow run (rule detection_variant, wildcards variant[, seed])."""
from pathlib import Path

import torch

from irpipe.data.sizes import resolve_config
from irpipe.detection.pipeline import run_variant
from irpipe.flow.bound import numeric_bound
from irpipe.tracking import JobRun
from irpipe.workflow import run_script
from irpipe.workflow_logic import detection_job_part, detection_run_reads, stores_in

# inputs read by some runs only (the FEN variant, the naive baseline); "<run>__<role>" keys likewise
RUN_KEYS = ("frames", "flow", "flow_bound")


def run_paths(smk, variant: str, seed_index: int, shared: dict, stores: dict) -> dict:
    part = detection_job_part(variant, seed_index)
    # what another run wrote: a declared input of this job, or this job's own earlier output
    reads = detection_run_reads(variant, seed_index)
    undeclared = sorted(set(reads.values()) - set(smk.input) - set(smk.output))
    if undeclared:
        raise RuntimeError(f"run {part} reads files its job does not declare: {undeclared}")
    paths = dict(shared, bad=smk.output[f"{part}__bad"], **reads)
    if f"{part}__model" in smk.output.keys():
        paths["model"] = smk.output[f"{part}__model"]
    if variant in ("sca_fen", "naive"):
        paths["frames"] = stores["frames"]
    if variant == "sca_fen":
        paths["flow"] = stores["flow"]
        paths["bound"] = numeric_bound(smk.config["flow"], smk.input.get("flow_bound"))
    return paths


def main(smk, _job_run):
    torch.set_num_threads(smk.threads)
    cfg = resolve_config(smk.config, "detection")["detection"]
    spool = smk.config.get("tracking", {}).get("spool", True)
    shared = {k: smk.input[k] for k in smk.input.keys() if "__" not in k and k not in RUN_KEYS}
    stores = {k: stores_in(smk.input[k]) for k in ("frames", "flow") if k in smk.input.keys()}
    runs = [(str(v), int(k)) for v, k in smk.params.runs]
    for i, (variant, seed_index) in enumerate(runs):
        part = detection_job_part(variant, seed_index)
        print(f"== run {i + 1} of {len(runs)}: {variant}, seed index {seed_index}", flush=True)
        paths = run_paths(smk, variant, seed_index, shared, stores)
        wildcards = {"variant": variant, **({"seed": str(seed_index)} if seed_index else {})}
        with JobRun(smk.config, rule="detection_variant", wildcards=wildcards, params={"detection": cfg},
                    spool=spool) as run:
            if "bound" in paths:
                print(f"flow bound {paths['bound']:.4g} px (flow.bound: {smk.config['flow']['bound']})")
                run.log_params({"flow_bound": paths["bound"]})
            run.log_params({"seed_index": seed_index})
            run_variant(variant, cfg, smk.config["seed"], smk.config["on_bad_input"], paths,
                        Path(smk.output[f"{part}__summary"]).parent, run, seed_index=seed_index)
            for key in ("evaluation", "thumos", "summary"):
                run.log_artifact(smk.output[f"{part}__{key}"])


# each run has its own MLflow run (spooled: a head trains in seconds to minutes); the job has none
run_script(snakemake, main, tracked=False)
