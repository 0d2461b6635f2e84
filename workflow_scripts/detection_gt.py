"""THUMOS14-style ground truth of the detection test subset (for `irpipe evaluate-detection`
and for the comparison with the official toolkit)."""
from pathlib import Path

from irpipe.detection.pipeline import write_gt_files
from irpipe.workflow import run_script


def main(smk, run):
    write_gt_files(smk.input.annotations, smk.input.classes, smk.input.ambiguous, Path(smk.output.classes).parent,
                   subset=smk.config["detection"]["test_subset"])


run_script(snakemake, main, section="detection")
