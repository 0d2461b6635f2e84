"""One row per video: frame pairs, flow statistics; proves every video went through flow.
Also flow_bound.json: the bound flow.bound: auto uses (irpipe/flow/bound.py)."""
import numpy as np
import pandas as pd

from irpipe.data.stores import read_attrs, read_flow
from irpipe.flow.bound import bound_record, training_videos, video_percentile, write_bound_file
from irpipe.io import write_csv
from irpipe.workflow import run_script
from irpipe.workflow_logic import stores_in


def main(smk, run):
    fcfg = smk.config["flow"]
    rows, per_video = [], {}
    for video_id, path in sorted(stores_in(smk.input.flow).items()):
        flow = read_flow(path)
        mag = np.sqrt((flow ** 2).sum(-1))
        a = read_attrs(path)
        per_video[video_id] = video_percentile(flow, fcfg["bound_percentile"])
        rows.append({"video_id": video_id, "n_pairs": flow.shape[0], "height": flow.shape[1],
                     "width": flow.shape[2], "mean_magnitude": float(mag.mean()),
                     "p99_magnitude": float(np.percentile(mag, 99)), "backend": a.get("backend", "")})
    df = pd.DataFrame(rows)
    manifest = pd.read_csv(smk.input.manifest, dtype={"video_id": str, "subset": str}, keep_default_na=False)
    train, which = training_videos(manifest, smk.wildcards.dataset, smk.config)
    record = bound_record(per_video, train, fcfg, which)
    write_csv(smk.output.summary, df)
    write_bound_file(smk.output.bound, record)
    auto = "none (no training video has flow)" if record["bound"] is None else f"{record['bound']:.4g} px"
    print(f"auto flow bound {auto} from {record['n_videos']} videos ({which}); configured flow.bound: {fcfg['bound']}")
    metrics = {"n_videos": len(df), "total_pairs": int(df["n_pairs"].sum())}
    if record["bound"] is not None:
        metrics["auto_bound"] = record["bound"]
    run.log_metrics(metrics)
    run.log_artifact(smk.output.summary)


run_script(snakemake, main, section="flow")
