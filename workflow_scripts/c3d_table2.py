"""Table 2 of seed 000 from the C3D predictions: six rows, per split, mean +- std."""
import re

from irpipe.eval.c3d_table import PAPER_TABLE2, TABLE2_ROWS, caption, table2_rows
from irpipe.eval.predictions import read_predictions
from irpipe.report.captions import c3d_deviations
from irpipe.report.captions import caption as with_deviations
from irpipe.report.data_description import describe_inputs
from irpipe.report.tables import summarise_splits, write_table
from irpipe.workflow import run_script


def main(smk, run):
    cfg = smk.config
    c3d = cfg["c3d"]
    paths = {}
    for p in smk.input.predictions:
        m = re.search(r"c3d/(ir|flow)_(dcl|nodcl)/split(\d+)/predictions\.h5$", p)
        paths[(m.group(1), m.group(2), int(m.group(3)))] = p
    rows = table2_rows(paths, int(c3d["knn_k"]))
    df = summarise_splits(rows, [r[0] for r in TABLE2_ROWS], paper=PAPER_TABLE2)
    a = read_predictions(smk.input.predictions[0])["attrs"]
    spec = (f"width scale {c3d['model']['width_scale']}, fc {c3d['model']['fc_dim']}, DC layer N = "
            f"{c3d['dcl']['code_dim']}, alpha {c3d['dcl']['alpha']}, {a['clip_len']}-frame clips cropped "
            f"to {a['crop']}x{a['crop']}, {c3d['train']['optimizer']} lr {c3d['train']['lr']}, "
            f"{c3d['train']['iterations']} iterations of batch {c3d['train']['batch_size']}, k-NN k = {c3d['knn_k']}")
    write_table(df, smk.output.csv, smk.output.md, title="Table 2: two-stream C3D with the discriminative code layer",
                note=with_deviations(caption(str(a["pretrained"]), spec), c3d_deviations(cfg, str(a["pretrained"])),
                                     data=describe_inputs(cfg, smk.input)))
    for _, r in df.iterrows():
        key = r["method"].replace(" ", "_").replace("(", "").replace(")", "").replace("-", "")
        run.log_metrics({f"{key}.accuracy_mean": r["accuracy_mean"], f"{key}.macro_ap_mean": r["macro_ap_mean"]})
    run.log_artifact(smk.output.csv)
    run.log_artifact(smk.output.md)


run_script(snakemake, main, section="c3d")
