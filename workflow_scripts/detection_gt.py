"""THUMOS14-style ground truth of the detection test subset (for `irpipe evaluate-detection`
and for the comparison with the official toolkit): one file per class of the manifest's list,
so the folder is written whole under a temporary name and renamed into place."""
import shutil
from pathlib import Path

from irpipe.detection.pipeline import write_gt_files
from irpipe.workflow import run_script


def main(smk, run):
    out = Path(smk.output.gt)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    write_gt_files(smk.input.annotations, smk.input.classes, smk.input.ambiguous, partial,
                   subset=smk.config["detection"]["test_subset"])
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    run.log_metrics({"n_files": len(list(out.iterdir()))})


run_script(snakemake, main, section="detection")
