"""Run the real workflow (snakemake in a subprocess) on the tiny preset in a temp directory."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

TINY = REPO / "presets" / "tiny.yaml"
ONE_SEED = Path(__file__).with_name("one_seed.yaml")  # data-layout tests: one detection run per variant


def snakemake(workdir: Path, *args: str, configfiles=(TINY,), config: list[str] | None = None,
              cores: int = 2, check: bool = True, timeout: int = 1200) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--cores", str(cores), *args]
    # --configfile and --config take several values: they go last, after the targets.
    if configfiles:
        cmd += ["--configfile", *map(str, configfiles)]
    if config:
        cmd += ["--config", *config]
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if check and out.returncode != 0:
        raise AssertionError(f"snakemake failed ({out.returncode}):\n{out.stdout[-4000:]}\n{out.stderr[-8000:]}")
    return out


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The tiny preset's whole DAG plus the HTML report, run once per test session and shared
    by the workflow tests (each full run costs minutes on two cores)."""
    wd = tmp_path_factory.mktemp("tiny")
    first = snakemake(wd)
    snakemake(wd, "--report", "results/report.html", cores=1)
    return wd, first
