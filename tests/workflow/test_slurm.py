"""profiles/slurm against a real SLURM.

- Without SLURM: ``snakemake --profile profiles/slurm --dry-run`` plans the tiny workflow
  (SLURM's commands hidden from PATH).
- With a real single-node SLURM (scripts/slurm_local.sh; needs root, as CI runs): a small
  DAG of the real workflow (frames and flow of two videos) is submitted through the
  profile; the jobs must appear in SLURM's own records (squeue, which keeps finished jobs
  for MinJobAge) and in the executor's logs, and the outputs must equal a local run's.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.faults import workflow_helpers as W

SCRIPT = W.REPO / "scripts" / "slurm_local.sh"
PROFILE = W.REPO / "profiles" / "slurm"
GPU_RULES = ("c3d_train", "c3d_sweep", "detection_features")


def test_profiles_are_valid_yaml_with_gpu_for_training():
    prof = yaml.safe_load((PROFILE / "config.yaml").read_text())
    assert prof["executor"] == "slurm"
    assert {"mem_mb", "runtime"} <= set(prof["default-resources"])
    assert prof["slurm-keep-successful-logs"] is True
    for rule in GPU_RULES:
        assert prof["set-resources"][rule]["gpu"] == 1, rule
    text = (PROFILE / "config.yaml").read_text()
    assert re.search(r"#\s*gres: \"'gpu:1'\"", text), "the commented gres alternative is missing"
    assert re.search(r"#\s*slurm_partition:", text) and re.search(r"#\s*slurm_account:", text)
    local = yaml.safe_load((W.REPO / "profiles" / "default" / "config.yaml").read_text())
    assert local["rerun-incomplete"] is True and local["keep-going"] is False
    # profiles/default is also the workflow profile of SLURM runs and wins key by key:
    # it must not override anything the SLURM profile sets.
    assert not set(local) & set(prof), set(local) & set(prof)


def test_profile_rules_exist():
    """Every rule named in set-resources exists in the workflow (a typo would be ignored
    silently by Snakemake and the job would run with default resources)."""
    prof = yaml.safe_load((PROFILE / "config.yaml").read_text())
    rules, placeholder_stages = set(), set()
    for smk in list((W.REPO / "rules").glob("*.smk")) + [W.REPO / "Snakefile"]:
        text = smk.read_text()
        found = set(re.findall(r"^\s*(?:rule|checkpoint) (\w+):", text, flags=re.M))
        found |= set(re.findall(r"^\s*use rule \w+ as (\w+)", text, flags=re.M))  # a `use rule ... as` copy
        rules |= found
        if not found:
            placeholder_stages.add(smk.stem)
    # A stage whose rules/<stage>.smk is still a placeholder is checked once it lands.
    missing = [r for r in prof["set-resources"] if r not in rules and r.split("_")[0] not in placeholder_stages]
    assert not missing, f"profiles/slurm names rules that do not exist: {missing}"


def _path_without_slurm(tmp_path: Path) -> str:
    """PATH with the venv and the basic tools, but no sinfo/sbatch/squeue/sacct."""
    hidden = {"sinfo", "sbatch", "squeue", "sacct", "scontrol", "srun", "scancel"}
    tools = tmp_path / "bin"
    tools.mkdir()
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if not d or not Path(d).is_dir() or Path(d) == W.BIN:
            continue
        for exe in Path(d).iterdir():
            if exe.name not in hidden and not (tools / exe.name).exists() and os.access(exe, os.X_OK):
                (tools / exe.name).symlink_to(exe)
    return os.pathsep.join([str(W.BIN), str(tools)])


@pytest.mark.workflow
def test_slurm_profile_dry_run_without_slurm(tmp_path):
    env = W.env()
    env["PATH"] = _path_without_slurm(tmp_path)
    assert shutil.which("sinfo", path=env["PATH"]) is None
    cfg = W.write_config(tmp_path / "wd", {})
    cmd = W.snakemake_cmd(tmp_path / "wd", cfg, (), "--profile", str(PROFILE), "--dry-run",
                          cores=None, preset=True)
    proc = W.run(cmd, env=env)
    out = proc.stdout + proc.stderr
    assert "Using profile" in out and "This was a dry-run" in out
    assert "synthetic_data" in out and "manifest_recognition" in out


# ---------------------------------------------------------------------------------------
# Real SLURM
# ---------------------------------------------------------------------------------------
def _slurm_env() -> dict:
    e = W.env()
    e.pop("SLURM_CONF", None)  # the script links /etc/slurm/slurm.conf
    return e


@pytest.fixture(scope="module")
def local_slurm():
    if os.geteuid() != 0:
        pytest.skip("a local SLURM needs root (installs packages, starts daemons); CI runs as root")
    was_up = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True) \
        if shutil.which("sinfo") else None
    was_up = bool(was_up and was_up.returncode == 0 and "idle" in was_up.stdout)
    proc = subprocess.run(["bash", str(SCRIPT), "start"], capture_output=True, text=True, timeout=900,
                          env=_slurm_env())
    assert proc.returncode == 0, f"could not start SLURM:\n{proc.stdout}\n{proc.stderr}"
    yield
    if not was_up:
        subprocess.run(["bash", str(SCRIPT), "stop"], capture_output=True, text=True, timeout=120)


def _test_profile(dst: Path) -> Path:
    """profiles/slurm with only what a GPU-less node without accounting needs changed."""
    prof = yaml.safe_load((PROFILE / "config.yaml").read_text())
    for rule in GPU_RULES:
        prof["set-resources"][rule]["gpu"] = 0  # this node has no GPU: sbatch --gpus is rejected
    prof["slurm-status-command"] = "squeue"  # AccountingStorageType=accounting_storage/none
    prof["slurm-no-account"] = True
    prof["slurm-init-seconds-before-status-checks"] = 2  # poll early: CI time
    dst.mkdir(parents=True)
    (dst / "config.yaml").write_text(yaml.safe_dump(prof, sort_keys=False))
    return dst


@pytest.mark.slurm
@pytest.mark.workflow
@pytest.mark.slow
def test_small_dag_runs_as_slurm_jobs(local_slurm, tmp_path):
    ref, config = W.reference_run()  # local run: manifest, frames, flow, summary of 4 videos
    wd = W.copy_workdir(ref, tmp_path / "wd")
    videos = sorted(W.expected_frames(ref))[:2]
    for v in videos:  # the shards of these two go through SLURM again
        for kind in ("frames", "flow"):
            shutil.rmtree(wd / W.shard_dir(wd, kind, "recognition", v, config), ignore_errors=True)
    (wd / "results/data/recognition/flow_summary.csv").unlink()

    profile = _test_profile(tmp_path / "profile")
    cfg_path = W.write_config(wd, config)
    cmd = W.snakemake_cmd(wd, cfg_path, ["results/data/recognition/flow_summary.csv"], "--profile", str(profile),
                          cores=None)
    proc = W.run(cmd, env=_slurm_env(), timeout=900)
    out = proc.stdout + proc.stderr

    subs = re.findall(r"has been submitted with SLURM jobid (\d+) \(log: ([^)]+)\)", out)
    assert len(subs) == 4, out[-4000:]  # frames x2, flow x2; flow_summary is a localrule
    rules = sorted(re.search(r"rule_(\w+)/", log).group(1) for _, log in subs)
    assert rules == ["flow", "flow", "frames", "frames"]

    # SLURM's own record of those jobs: all COMPLETED, on this node.
    q = subprocess.run(["squeue", "--states=all", "--noheader", "--format=%i|%T|%N|%j"],
                       capture_output=True, text=True, env=_slurm_env(), check=True).stdout
    states = {i: (st, node, name) for i, st, node, name in (ln.split("|") for ln in q.split())}
    for jobid, log in subs:
        assert jobid in states, f"SLURM has no record of job {jobid}:\n{q}"
        assert states[jobid][0] == "COMPLETED", states[jobid]
        # The executor's log of the job, kept by slurm-keep-successful-logs.
        text = Path(log).read_text()
        assert "--executor slurm-jobstep" in text and "Finished jobid" in text, text[-2000:]
    assert len({states[j][2] for j, _ in subs}) == 1  # one workflow run (the plugin's run id)

    # Same results as the local run.
    assert W.assert_same_results(ref, wd) == 8
    W.csv_equal(ref / "results/data/recognition/flow_summary.csv", wd / "results/data/recognition/flow_summary.csv")
