"""One row per video: frame pairs, flow statistics; proves every video went through flow."""
import numpy as np
import pandas as pd

from irpipe.data.stores import read_attrs, read_flow
from irpipe.io import write_csv
from irpipe.workflow import run_script
from irpipe.workflow_logic import stores_in


def main(smk, run):
    rows = []
    for video_id, path in sorted(stores_in(smk.input.flow).items()):
        flow = read_flow(path)
        mag = np.sqrt((flow ** 2).sum(-1))
        a = read_attrs(path)
        rows.append({"video_id": video_id, "n_pairs": flow.shape[0], "height": flow.shape[1],
                     "width": flow.shape[2], "mean_magnitude": float(mag.mean()),
                     "p99_magnitude": float(np.percentile(mag, 99)), "backend": a.get("backend", "")})
    df = pd.DataFrame(rows)
    write_csv(smk.output[0], df)
    run.log_metrics({"n_videos": len(df), "total_pairs": int(df["n_pairs"].sum())})
    run.log_artifact(smk.output[0])


run_script(snakemake, main, section="flow")
