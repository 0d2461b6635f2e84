"""Tables III, IV and V of seed 001 from the variants' evaluations."""
import json
from pathlib import Path

import pandas as pd

from irpipe.detection.tables import TITLES, build_tables
from irpipe.io import write_csv
from irpipe.report.captions import caption, detection_deviations
from irpipe.report.data_description import describe_inputs
from irpipe.report.tables import write_tables
from irpipe.workflow import run_script


def main(smk, run):
    evals = {Path(p).parent.name: p for p in smk.input.evals}
    summaries = {Path(p).parent.name: json.loads(Path(p).read_text()) for p in smk.input.summaries}
    attrs = next((s["feature_attrs"] for s in summaries.values() if "feature_attrs" in s), {})
    used = "; ".join(f"{v}: " + ", ".join(f"{c} {t:.2f}" for c, t in s["thresholds"].items())
                     for v, s in sorted(summaries.items()) if "thresholds" in s)
    note = caption("Paper columns: InfDet, seed 001, the same method's figure beside each variant (Table III's "
                   "TGM = two-stream late fusion).", detection_deviations(smk.config, attrs=attrs),
                   f"Thresholds used per variant: {used}." if used else "",
                   data=describe_inputs(smk.config, smk.input))
    tables = build_tables(evals)
    write_tables(tables, Path(smk.output[0]).parent, TITLES, note)
    per_class = pd.concat([pd.read_csv(p) for p in evals.values()], ignore_index=True)
    write_csv(smk.output.per_class, per_class)
    for v, m in ((v, s["map"]) for v, s in summaries.items()):
        run.log_metrics({f"{v}.map_tiou{t}": float(x) for t, x in m.items()})
    for p in smk.output:
        run.log_artifact(p)


run_script(snakemake, main, section="detection")
