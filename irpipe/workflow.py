"""Glue between Snakemake's ``script:`` directive and irpipe (kept out of the rules).

A workflow script is three lines::

    from irpipe.workflow import run_script
    from irpipe.data import frames
    run_script(snakemake, lambda smk, run: frames.extract(...), section="frames")

``run_script`` sends stdout/stderr to the job's log, opens an MLflow child run for the job
(params from the config section it uses), and turns a known irpipe error into a one-line
message naming the file and the reason (the traceback still goes to the log).
"""
from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

from .errors import IrpipeError
from .io import OutputWriteError
from .tracking import JobRun


def _section(config: dict, dotted: str | None) -> dict:
    if not dotted:
        return {}
    node: Any = config
    for part in dotted.split("."):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {"value": node}


def run_script(smk, main: Callable[[Any, JobRun], Any], section: str | list[str] | None = None,
               extra_params: dict | None = None, live: bool = False, tracked: bool = True) -> Any:
    """Run ``main(smk, run)`` as a tracked job. ``live`` jobs (training: their curves are worth
    watching in MLflow while they run) log to MLflow directly; the others spool their run (see
    :class:`irpipe.tracking.JobRun`) when ``tracking.spool`` is on: opening MLflow costs ~2.5 s of
    CPU per process (measured), more than many of these jobs' own work. ``tracked=False``: the job
    has no run of its own (``run`` is a no-op; jobs of several runs open one per run)."""
    log_path = smk.log[0] if len(smk.log) else None
    sections = [section] if isinstance(section, str) or section is None else section
    params: dict = {}
    for s in sections:
        if s:
            params[s] = _section(smk.config, s)
    params.update(extra_params or {})
    stack = contextlib.ExitStack()
    with stack:
        if log_path:
            Path(log_path).parent.mkdir(parents=True, exist_ok=True)
            fh = stack.enter_context(open(log_path, "w", buffering=1))
            stack.enter_context(contextlib.redirect_stdout(fh))
            stack.enter_context(contextlib.redirect_stderr(fh))
            logging.basicConfig(stream=fh, level=logging.INFO, force=True,
                                format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        try:
            spool = not live and smk.config.get("tracking", {}).get("spool", True)
            job_config = smk.config if tracked else {"tracking": {"enabled": False}}
            with JobRun(job_config, rule=smk.rule, wildcards=dict(smk.wildcards.items()),
                        params=params, spool=spool) as run:
                return main(smk, run)
        except (IrpipeError, OutputWriteError) as exc:
            traceback.print_exc()
            sys.stderr.flush()
            # Snakemake shows the exception text; keep it to the file and the reason.
            # OutputWriteError: a full disk or a permission problem, named with the file.
            raise SystemExit(f"[irpipe] {smk.rule}: {exc}") from None
        except Exception:
            # Anything else is a bug: its traceback belongs in the job's log too (it would
            # otherwise only reach the terminal, after the log is closed).
            traceback.print_exc()
            sys.stderr.flush()
            raise
