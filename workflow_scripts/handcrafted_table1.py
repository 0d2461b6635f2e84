"""Table 1 of seed 000 (eight rows, the naive baseline row when enabled, per split and mean +- std)
and the stage's bad inputs."""
import json
import re

from irpipe.errors import BadInput, bad_inputs_frame
from irpipe.io import write_csv
from irpipe.report.captions import handcrafted_deviations
from irpipe.report.data_description import describe_inputs
from irpipe.report.handcrafted import make_table1
from irpipe.workflow import run_script


def main(smk, run):
    import h5py

    cfg = smk.config["handcrafted"]
    df = make_table1(smk.input.metrics, smk.output.csv, smk.output.md, cfg["concepts"]["name"],
                     handcrafted_deviations(smk.config), list(smk.input.naive), cfg["naive"]["size"],
                     data=describe_inputs(smk.config, smk.input))
    bad, seen = [], set()
    for path in smk.input.fv:
        with h5py.File(path, "r") as h5:
            kind = h5.attrs["kind"]
            for vid, reason in json.loads(h5.attrs["bad_inputs"]):
                if (kind, vid) not in seen:
                    seen.add((kind, vid))
                    bad.append(BadInput("recognition", f"handcrafted_{kind}", vid, reason))
    write_csv(smk.output.bad, bad_inputs_frame(bad))
    for _, r in df.iterrows():
        # MLflow metric names: letters, digits, _ . only (the naive row has brackets and a comma)
        key = re.sub(r"[^A-Za-z0-9_.]", "", r["method"].replace(" ", "_").replace("-", ""))
        run.log_metrics({f"{key}.accuracy_mean": r["accuracy_mean"], f"{key}.accuracy_std": r["accuracy_std"],
                         f"{key}.macro_ap_mean": r["macro_ap_mean"]})
    run.log_metrics({"n_bad_inputs": len(bad)})
    run.log_artifact(smk.output.csv)
    run.log_artifact(smk.output.md)


run_script(snakemake, main, section="handcrafted")
