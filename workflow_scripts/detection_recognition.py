"""Recognition mode of the detector on the recognition set (seed 001's InfAR comparison)."""
import pandas as pd
import torch

from irpipe.data.sizes import resolve_config
from irpipe.detection.features import read_features
from irpipe.detection.recognition import PAPER_ACCURACY, run_recognition
from irpipe.report.captions import caption, recognition_deviations
from irpipe.report.data_description import describe_inputs
from irpipe.report.tables import summarise_splits, write_table
from irpipe.workflow import run_script
from irpipe.workflow_logic import stores_in


def main(smk, run):
    torch.set_num_threads(smk.threads)
    splits = pd.read_csv(smk.input.splits, dtype={"video_id": str})
    classes = list(splits.sort_values("label_index").drop_duplicates("label_index")["label"])
    feats = read_features(smk.input.features)
    dcfg = smk.config["detection"]
    video_data = None
    if dcfg["recognition"]["i3d"] == "finetune":
        video_data = {"frames": stores_in(smk.input.frames), "flow": stores_in(smk.input.flow),
                      "frame_size": resolve_config(smk.config, "recognition")["detection"]["recognition_frame_size"],
                      "bound": smk.config["flow"]["bound"]}
    rows = run_recognition(feats, splits, classes, dcfg, smk.config["seed"],
                           log_fn=lambda k, v, s: run.log_metrics({f"recognition.{k}": v}, step=s),
                           video_data=video_data)
    method = rows["method"].iloc[0]
    df = summarise_splits(rows.to_dict("records"), [method], paper={method: PAPER_ACCURACY})
    write_table(df, smk.output.csv, smk.output.md,
                title="Recognition mode of the detector (average snippet scores), seed 001",
                note=caption("Paper: 84.25 % accuracy on InfAR.", recognition_deviations(smk.config),
                             data=describe_inputs(smk.config, smk.input)))
    run.log_metrics({"accuracy_mean": float(df["accuracy_mean"].iloc[0]),
                     "macro_ap_mean": float(df["macro_ap_mean"].iloc[0])})


run_script(snakemake, main, section="detection", live=True)
