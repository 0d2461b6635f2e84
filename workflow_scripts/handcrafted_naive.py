"""Naive baseline of one split (16x16 pixel statistics, RBF SVM): metrics_naive.csv and its bad inputs."""
import pandas as pd

from irpipe.data.datasets import read_classes_file
from irpipe.data.sizes import resolve_config
from irpipe.errors import bad_inputs_frame
from irpipe.features.naive import naive_split
from irpipe.io import write_csv
from irpipe.workflow import run_script
from irpipe.workflow_logic import stores_in


def main(smk, run):
    from threadpoolctl import threadpool_limits

    split = int(smk.wildcards.split)
    hc = resolve_config(smk.config, "recognition")["handcrafted"]
    splits = pd.read_csv(smk.input.splits, dtype={"video_id": str, "label": str, "subset": str})
    classes = read_classes_file(smk.input.classes)
    with threadpool_limits(smk.threads):
        res = naive_split(stores_in(smk.input.frames), splits, split, len(classes), hc["naive"],
                          hc["frames_size"], policy=smk.config["on_bad_input"])
    write_csv(smk.output.bad, bad_inputs_frame(res["bad"]))
    write_csv(smk.output.metrics, res["metrics"])
    r = res["metrics"].iloc[0]
    run.log_metrics({"naive.accuracy": r["accuracy"], "naive.macro_ap": r["macro_ap"],
                     "n_bad_inputs": len(res["bad"])}, step=split)
    run.log_artifact(smk.output.metrics)


run_script(snakemake, main, section="handcrafted.naive")
