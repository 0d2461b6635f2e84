"""Tables III, IV and V of seed 001 from the variants' evaluations."""
import json
from pathlib import Path

import pandas as pd

from irpipe.detection.tables import TITLES, build_tables
from irpipe.report.tables import write_tables
from irpipe.io import write_csv
from irpipe.workflow import run_script


def main(smk, run):
    evals = {Path(p).parent.name: p for p in smk.input.evals}
    summaries = {Path(p).parent.name: json.loads(Path(p).read_text()) for p in smk.input.summaries}
    attrs = next((s["feature_attrs"] for s in summaries.values() if "feature_attrs" in s), {})
    dcfg = smk.config["detection"]
    synthetic = smk.config["dataset"]["detection"]["source"] == "synthetic"
    thr = dcfg["postprocess"]["threshold"]
    note = (f"{'SYNTHETIC data (embedded generator), not InfDet' if synthetic else 'Dataset: configured detection set'}; "
            f"evaluation protocol {dcfg['eval']['protocol']}; snippet thresholds "
            f"{'calibrated per class and variant on the TRAINING videos' if thr == 'train' else f'fixed at {thr}'}; "
            f"I3D width {attrs.get('width')} "
            f"(IR: {attrs.get('ir_init')}, flow: {attrs.get('flow_init')}); "
            f"FEN variant: joint {dcfg['fen']['joint_epochs']} epochs from the SCA (TV-L1) model after "
            f"{dcfg['fen']['pretrain_epochs']} L1-only FEN epochs. Paper columns: InfDet, seed 001.")
    tables = build_tables(evals)
    write_tables(tables, Path(smk.output[0]).parent, TITLES, note)
    per_class = pd.concat([pd.read_csv(p) for p in evals.values()], ignore_index=True)
    write_csv(smk.output.per_class, per_class)
    for v, m in ((v, s["map"]) for v, s in summaries.items()):
        run.log_metrics({f"{v}.map_tiou{t}": float(x) for t, x in m.items()})
    for p in smk.output:
        run.log_artifact(p)


run_script(snakemake, main, section="detection")
