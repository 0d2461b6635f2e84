"""The fusion and report rules run under Snakemake on synthetic stage outputs, and
`snakemake --report` gives an HTML that references every table and figure."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.fusion import fakes

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]

SNAKEFILE = """
from irpipe.config import validate_config
configfile: "config.yaml"
validate_config(config)
config["c3d"].update({{"alpha_sweep": [0.0, 0.02, 0.1], "sweep_stream": "flow", "sweep_split": 0, "knn_k": 3}})
config.setdefault("handcrafted", {{"enabled": True}})
include: "{repo}/rules/common.smk"
# The fusion and report rules alone: the run records of the other stages' jobs are not part of
# this workflow (the tiny-preset workflow tests cover them); the bad-input tables are the fake ones.
W.benchmark_records = lambda wildcards=None: []
W.bad_input_tables = lambda wildcards=None: ["results/bad_inputs/frames_recognition.csv"] + [
    f"results/bad_inputs/fusion_recognition_split{{k}}.csv" for k in SPLITS]
ALL_TARGETS += ["results/tables/table1.csv", "results/figures/other_stage.png"]
report: "{repo}/report/workflow.rst"
include: "{repo}/rules/fusion.smk"
include: "{repo}/rules/report.smk"
rule all:
    input: ALL_TARGETS
"""


@pytest.mark.workflow
@pytest.mark.slow
def test_fusion_rules_and_report(tmp_path):
    if not (REPO / "envs/irpipe.yaml").exists():
        pytest.skip("envs/irpipe.yaml (the rules' conda env, from the foundation) is not in this checkout")
    wd = tmp_path / "wf"
    fakes.write_all(wd, n_splits=2, alphas=(0.0, 0.02, 0.1))
    (wd / "results/tracking").mkdir(parents=True)
    (wd / "results/tracking/experiment.json").write_text("{}")
    # Another stage's table and figure, and another stage's bad input.
    (wd / "results/tables").mkdir(parents=True)
    pd.DataFrame({"method": ["IDT"], "n_splits": [1], "accuracy_split0": [40.0], "accuracy_mean": [40.0],
                  "accuracy_std": [0.0], "paper": [43.3]}).to_csv(wd / "results/tables/table1.csv", index=False)
    (wd / "results/figures").mkdir(parents=True)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.plot([0, 1]); plt.savefig(wd / "results/figures/other_stage.png"); plt.close()
    (wd / "results/bad_inputs").mkdir(parents=True)
    pd.DataFrame([{"dataset": "recognition", "stage": "frames", "item": "x.avi", "reason": "truncated"}]).to_csv(
        wd / "results/bad_inputs/frames_recognition.csv", index=False)
    cfg = {"tracking": {"enabled": False}, "splits": {"n_splits": 2},
           "dataset": {"recognition": {"classes": fakes.CLASSES}, "detection": {"enabled": False}},
           "fusion": {"nn": {"epochs": 20}, "figures": {"knn_k_values": [1, 3, 5]}}}
    (wd / "config.yaml").write_text(yaml.safe_dump(cfg))
    # what the manifest job would have written: the class list and where it came from
    data = wd / "results/data/recognition"
    data.mkdir(parents=True, exist_ok=True)
    (data / "classes.txt").write_text("".join(f"{i} {c}\n" for i, c in enumerate(fakes.CLASSES, 1)))
    (data / "classes_source.txt").write_text("configured\n")
    # and the manifest the captions count (with the fakes' split table)
    videos = pd.read_csv(data / "splits.csv").drop_duplicates("video_id")
    videos.assign(path=videos["video_id"] + ".avi")[["video_id", "path", "label", "label_index"]].to_csv(
        data / "manifest.csv", index=False)
    (wd / "Snakefile").write_text(SNAKEFILE.format(repo=REPO))
    env = dict(os.environ, PYTHONPATH=f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
               MPLBACKEND="Agg")
    run = subprocess.run(SNAKEMAKE + ["--cores", "2", "--directory", str(wd), "--snakefile", str(wd / "Snakefile")],
                         cwd=wd, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    t3 = pd.read_csv(wd / "results/tables/table3.csv")
    assert len(t3) == 5 and set(t3["n_splits"]) == {2}
    assert (wd / "results/report/bad_inputs.html").read_text().count("truncated") == 1
    assert "Bad inputs: 1 recorded" in (wd / "results/report/bad_inputs.html").read_text()
    summary = (wd / "results/report/summary.html").read_text()
    assert "SYNTHETIC" in summary and "substitute for Sports-1M" in summary and "substitute for VideoStory46K" in summary
    rep = subprocess.run(SNAKEMAKE + ["--directory", str(wd), "--snakefile", str(wd / "Snakefile"),
                                      "--report", str(wd / "results/report.html")],
                         cwd=wd, env=env, capture_output=True, text=True, timeout=600)
    assert rep.returncode == 0, rep.stderr[-4000:]
    html = (wd / "results/report.html").read_text()
    expected = ["table3.csv", "table3.html", "table1.html", "other_stage.png", "bad_inputs.html", "summary.html"]
    for name in ("figure4_codes", "figure5_confusion", "figure6a_alpha", "figure6b_k"):
        expected += [f"{name}.png", f"{name}.svg"]
    missing = [n for n in expected if n not in html]
    assert not missing, f"report lacks {missing}"
    # captions name the data and count it from the manifest and the split table (issue 14)
    said = ("SYNTHETIC recognition data (embedded generator, not InfAR): 4 classes, 10 clips per class "
            "(40 clips); 2 splits, each 24 train / 16 test clips")
    assert said in html and html.count(said) >= 8, html.count(said)
    assert re.search(r"configured classes|real recognition data", html) is None
    assert said in (wd / "results/tables/table3.md").read_text()
