"""Tables III, IV and V of seed 001 from the variants' evaluations (every training run of each)."""
import json
from pathlib import Path

import pandas as pd

from irpipe.detection.pipeline import read_classes
from irpipe.detection.tables import TITLES, build_tables, display_table, table_intervals
from irpipe.io import write_csv
from irpipe.report.captions import caption, detection_deviations, detection_spread_note
from irpipe.report.data_description import describe_inputs
from irpipe.report.tables import write_tables
from irpipe.workflow import run_script


def main(smk, run):
    runs = [(str(v), int(k)) for v, k in smk.params.runs]
    inp = smk.input
    if not (len(runs) == len(inp.evals) == len(inp.summaries) == len(inp.detections)):
        raise ValueError(f"{len(runs)} runs but {len(inp.evals)} evaluations, {len(inp.summaries)} summaries, "
                         f"{len(inp.detections)} detection tables")
    summaries = {r: json.loads(Path(p).read_text()) for r, p in zip(runs, inp.summaries)}
    attrs = next((s["feature_attrs"] for s in summaries.values() if "feature_attrs" in s), {})
    used = "; ".join(f"{v}: " + ", ".join(f"{c} {t:.2f}" for c, t in s["thresholds"].items())
                     for (v, k), s in sorted(summaries.items()) if k == 0 and s.get("thresholds"))
    dcfg = smk.config["detection"]  # eval, bootstrap, subsets: no frame sizes needed here
    intervals, facts = table_intervals(runs, inp.evals, inp.detections, inp.summaries, inp.annotations,
                                       inp.ambiguous, read_classes(inp.classes), dcfg, smk.config["seed"])
    used_note = (f"Thresholds used per variant{' (seed index 0)' if dcfg['seeds'] > 1 else ''}: {used}."
                 if used else "")
    note = caption("Paper columns: InfDet, seed 001, the same method's figure beside each variant (Table III's "
                   "TGM = two-stream late fusion).", detection_deviations(smk.config, attrs=attrs),
                   detection_spread_note(smk.config, facts["videos"], facts["resamples"]) + " " + used_note,
                   data=describe_inputs(smk.config, smk.input))
    evals: dict[str, list[str]] = {}
    for (v, _), p in sorted(zip(runs, inp.evals)):
        evals.setdefault(v, []).append(p)
    tables = build_tables(evals, intervals)
    write_tables(tables, Path(smk.output[0]).parent, TITLES, note,
                 shown={name: display_table(df) for name, df in tables.items()})
    per_class = pd.concat([pd.read_csv(p) for p in inp.evals], ignore_index=True)
    write_csv(smk.output.per_class, per_class)
    for (v, k), s in summaries.items():
        run.log_metrics({f"{v}{'' if k == 0 else f'.seed{k}'}.map_tiou{t}": float(x) for t, x in s["map"].items()})
    for p in smk.output:
        run.log_artifact(p)


run_script(snakemake, main, section="detection")
