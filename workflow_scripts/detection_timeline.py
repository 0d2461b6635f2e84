"""Timeline figure of one test video: ground truth, detections, snippet scores."""
import json
from pathlib import Path

import numpy as np
import pandas as pd

from irpipe.detection.pipeline import read_classes
from irpipe.report.data_description import describe_inputs
from irpipe.report.timeline import plot_timeline
from irpipe.workflow import run_script


def main(smk, run):
    vid = smk.wildcards.video
    cfg = smk.config["detection"]
    classes = read_classes(smk.input.classes)
    man = pd.read_csv(smk.input.manifest, dtype={"video_id": str}).set_index("video_id")
    ann = pd.read_csv(smk.input.annotations, dtype={"video_id": str})
    det = pd.read_csv(smk.input.detections, dtype={"video_id": str})
    scores = np.load(smk.input.scores)[vid]
    thr = json.loads(Path(smk.input.summary).read_text())["thresholds"]  # as used by the variant ({}: multi-threshold)
    data = "; ".join(d.short() for d in describe_inputs(smk.config, smk.input))
    plot_timeline(vid, scores, int(man.loc[vid, "n_frames"]), float(man.loc[vid, "fps"]), classes,
                  ann[ann["video_id"] == vid], det[det["video_id"] == vid], thr, smk.output[0],
                  title_suffix=f" [{cfg['timeline_variant']}; {data}]")
    run.log_artifact(smk.output[0])


run_script(snakemake, main, section="detection")
