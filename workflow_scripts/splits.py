"""The paper's random splits (per class train/test counts, several splits, seeded)."""
import pandas as pd

from irpipe.data.datasets import read_classes_file
from irpipe.data.splits import make_splits
from irpipe.errors import bad_inputs_frame
from irpipe.io import write_csv
from irpipe.workflow import run_script


def main(smk, run):
    cfg = smk.config
    s = cfg["splits"]
    manifest = pd.read_csv(smk.input.manifest, dtype={"video_id": str})
    bad = []
    table = make_splits(manifest, read_classes_file(smk.input.classes), s["n_splits"], s["train_per_class"],
                        s["test_per_class"], s["seed"], cfg["on_bad_input"], bad)
    write_csv(smk.output.bad, bad_inputs_frame(bad))
    write_csv(smk.output.splits, table)
    counts = table.groupby(["split", "subset"]).size()
    run.log_metrics({f"n_{sub}_split{k}": int(n) for (k, sub), n in counts.items()})
    run.log_artifact(smk.output.splits)


run_script(snakemake, main, section="splits")
