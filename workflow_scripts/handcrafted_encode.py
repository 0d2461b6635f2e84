"""PCA + GMM fitted on one split's training videos; Fisher vectors of all its videos."""
import pandas as pd

from irpipe.features.encode import encode_split
from irpipe.workflow import run_script
from irpipe.workflow_logic import stores_in


def main(smk, run):
    from threadpoolctl import threadpool_limits

    splits = pd.read_csv(smk.input.splits, dtype={"video_id": str, "label": str, "subset": str})
    paths = {v: str(p) for v, p in stores_in(smk.input.descriptors).items()}
    with threadpool_limits(smk.threads):
        stats = encode_split(smk.wildcards.kind, int(smk.wildcards.split), splits, paths, smk.config["handcrafted"],
                             smk.config["seed"], smk.output[0])
    run.log_metrics(stats)


run_script(snakemake, main, section="handcrafted.encoding")
