"""A whole workflow interrupted at a random job (SIGINT like Ctrl-C, SIGKILL like a power
loss or the OOM killer) leaves no complete-looking output that is corrupt, and a second run
with ``--rerun-incomplete`` completes it with the same results as an uninterrupted run."""
from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from irpipe.data.stores import verify_store

from . import workflow_helpers as W

pytestmark = [pytest.mark.workflow, pytest.mark.slow]

START = re.compile(r"^(?:local)?rule (\w+):")


def _interrupt(workdir: Path, config: dict, sig: int, rng: random.Random) -> tuple[str, int, bool]:
    """Start the workflow and send ``sig`` once a randomly chosen job has started (plus a
    random delay of up to 1 s, so that it lands anywhere inside that job)."""
    cfg_path = W.write_config(workdir, config)
    cmd = W.snakemake_cmd(workdir, cfg_path, W.REC_TARGETS)
    # 4 videos: synthetic-free data layer = manifest, splits, 4 frames, 4 flow, summary.
    target_job = rng.randint(2, 8)
    delay = rng.uniform(0.0, 1.0)
    # a shell's background job (`make test &`) inherits SIGINT ignored, and Python keeps it so:
    # give the workflow the default disposition, as in a terminal
    proc = subprocess.Popen(cmd, cwd=W.REPO, env=W.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    started: list[str] = []
    out: list[str] = []
    fired = threading.Event()

    def reader():
        for line in proc.stdout:
            out.append(line)
            m = START.match(line)
            if m and not fired.is_set():
                started.append(m.group(1))
                if len(started) == target_job:
                    fired.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    fired.wait(timeout=300)
    time.sleep(delay)
    victim = started[-1] if started else "?"
    if proc.poll() is None:
        # The whole process group: Snakemake and the job it is running, as Ctrl-C in a
        # terminal (SIGINT) or a node failure (SIGKILL) would.
        os.killpg(proc.pid, sig)
    rc = proc.wait(timeout=120)
    t.join(timeout=10)
    assert fired.is_set(), "the workflow finished before the chosen job started:\n" + "".join(out[-40:])
    # the signal can land after the last job, while Snakemake is already done: not an interruption
    too_late = rc == 0 and any("(100%) done" in line for line in out)
    return f"{victim} (job #{target_job}, +{delay:.2f} s)", rc, too_late


def _check_no_corrupt_outputs(workdir: Path, n_frames: dict[str, int]) -> int:
    """Every output that looks complete is readable end to end; HDF5 stores hold all frames."""
    checked = 0
    results = workdir / "results"
    for p in results.rglob("*"):
        if not p.is_file():
            continue
        # Temporary files of atomic writes are hidden (.name.xxxx.tmp...) and never outputs.
        if p.name.startswith("."):
            continue
        if p.suffix == ".h5":
            kind = p.relative_to(results).parts[0]
            vid = p.stem
            expect = {"frames": n_frames[vid], "frames_c3d": n_frames[vid]} if kind == "frames" \
                else {"flow": n_frames[vid] - 1, "flow_image": n_frames[vid] - 1}
            verify_store(p, expect)
            checked += 1
        elif p.suffix == ".csv":
            pd.read_csv(p)
            checked += 1
    return checked


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_workflow_resumes(tmp_path, sig):
    ref, config = W.reference_run()
    n_frames = W.expected_frames(ref)
    seed = int(os.environ.get("IRPIPE_FAULT_SEED", random.SystemRandom().randrange(10**6)))
    print(f"fault seed {seed} (set IRPIPE_FAULT_SEED to replay)")
    rng = random.Random(seed)

    for attempt in range(3):
        wd = tmp_path / f"wd{attempt}"
        victim, rc, too_late = _interrupt(wd, config, sig, rng)
        print(f"interrupted with {signal.Signals(sig).name} during {victim}; snakemake exit {rc}"
              + (" (too late: the workflow had finished; another try)" if too_late else ""))
        if not too_late:
            break
    assert rc != 0, "the interrupted run claims success"
    n_checked = _check_no_corrupt_outputs(wd, n_frames)
    print(f"{n_checked} complete-looking outputs verified after the interruption")

    if sig == signal.SIGKILL:
        # Snakemake had no chance to remove its lock: the documented recovery is --unlock.
        cfg_path = wd / "test_config.yaml"
        W.run(W.snakemake_cmd(wd, cfg_path, W.REC_TARGETS, "--unlock"))
    W.snakemake(wd, config, W.REC_TARGETS, "--rerun-incomplete")
    assert all((wd / t).exists() for t in W.REC_TARGETS)

    assert _check_no_corrupt_outputs(wd, n_frames) >= len(n_frames) * 2 + 3
    assert W.assert_same_results(ref, wd) == 2 * len(n_frames)
    for name in ("manifest.csv", "splits.csv", "flow_summary.csv"):
        W.csv_equal(ref / "results/data/recognition" / name, wd / "results/data/recognition" / name)
    # A third run has nothing left to do.
    again = W.snakemake(wd, config, W.REC_TARGETS, "--dry-run")
    assert "Nothing to be done" in again.stdout + again.stderr

