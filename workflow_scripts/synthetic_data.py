"""Generate the embedded synthetic thermal dataset (recognition or detection) into a folder."""
import shutil
from pathlib import Path

from irpipe.data import synthetic
from irpipe.data.datasets import resolve_subsets
from irpipe.workflow import run_script


def main(smk, run):
    dataset = smk.wildcards.dataset
    out = Path(smk.output[0])
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    cfg = smk.config["synthetic"]
    classes = synthetic.synthetic_classes(smk.config, dataset)
    if dataset == "recognition":
        table = synthetic.generate_recognition(partial, cfg, classes, cfg["seed"])
    else:
        table = synthetic.generate_detection(partial, cfg, classes, cfg["seed"],
                                             subsets=resolve_subsets(smk.config["dataset"]["detection"]))
    partial.rename(out)  # the folder appears complete or not at all
    run.log_metrics({"n_rows": len(table)})


run_script(snakemake, main, section="synthetic")
