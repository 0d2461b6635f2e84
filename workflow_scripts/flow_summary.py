"""One row per video: frame pairs, flow statistics; proves every video went through flow."""
from pathlib import Path

import numpy as np
import pandas as pd

from irpipe.data.stores import read_attrs, read_flow
from irpipe.io import write_csv
from irpipe.workflow import run_script


def main(smk, run):
    rows = []
    for path in smk.input.flow:
        flow = read_flow(path)
        mag = np.sqrt((flow ** 2).sum(-1))
        a = read_attrs(path)
        rows.append({"video_id": Path(path).stem, "n_pairs": flow.shape[0], "height": flow.shape[1],
                     "width": flow.shape[2], "mean_magnitude": float(mag.mean()),
                     "p99_magnitude": float(np.percentile(mag, 99)), "backend": a.get("backend", "")})
    df = pd.DataFrame(rows)
    write_csv(smk.output[0], df)
    run.log_metrics({"n_videos": len(df), "total_pairs": int(df["n_pairs"].sum())})
    run.log_artifact(smk.output[0])


run_script(snakemake, main, section="flow")
