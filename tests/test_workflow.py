"""irpipe.workflow.run_script with a stand-in for Snakemake's ``snakemake`` object."""
import json
import logging
import sys
from types import SimpleNamespace

import pytest

from irpipe.errors import BadInputError
from irpipe.io import OutputWriteError
from irpipe.workflow import run_script


class Wildcards(dict):
    """Snakemake's wildcards: a named list whose ``items()`` gives name, value pairs."""


def fake_smk(tmp_path, config=None, rule="frames", log=True, **wildcards):
    return SimpleNamespace(rule=rule, log=[str(tmp_path / "logs" / f"{rule}.log")] if log else [],
                           config=config if config is not None else {"tracking": {"enabled": False}},
                           wildcards=Wildcards(wildcards), input=SimpleNamespace(), output=SimpleNamespace())


@pytest.fixture(autouse=True)
def _keep_logging():
    """run_script reconfigures the root logger for the job; give the test runner its own back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_returns_main_and_sends_output_to_the_log(tmp_path):
    smk = fake_smk(tmp_path, video="v1")

    def main(s, run):
        print("to stdout")
        print("to stderr", file=sys.stderr)
        logging.getLogger("irpipe.x").info("a log record")
        return 42
    assert run_script(smk, main) == 42
    text = (tmp_path / "logs" / "frames.log").read_text()
    assert "to stdout" in text and "to stderr" in text and "INFO irpipe.x: a log record" in text


def test_known_error_is_one_line_naming_rule_file_and_reason(tmp_path):
    smk = fake_smk(tmp_path)

    def main(s, run):
        raise BadInputError("results/frames/v.h5", "no frames")
    with pytest.raises(SystemExit) as info:
        run_script(smk, main)
    assert str(info.value) == "[irpipe] frames: results/frames/v.h5: no frames"
    log = (tmp_path / "logs" / "frames.log").read_text()
    assert "Traceback" in log and "BadInputError" in log  # the details stay in the job's log

    def full(s, run):
        raise OutputWriteError(28, "could not write out.h5: No space left on device")
    with pytest.raises(SystemExit, match=r"^\[irpipe\] frames: .*out\.h5: No space left on device"):
        run_script(smk, full)


def test_a_bug_keeps_its_exception_and_traceback_in_the_log(tmp_path):
    smk = fake_smk(tmp_path)

    def main(s, run):
        return {}["missing"]
    with pytest.raises(KeyError):
        run_script(smk, main)
    assert "KeyError: 'missing'" in (tmp_path / "logs" / "frames.log").read_text()


def test_without_a_log_output_is_left_alone(tmp_path, capsys):
    run_script(fake_smk(tmp_path, log=False), lambda s, run: print("visible"))
    assert "visible" in capsys.readouterr().out
    assert not (tmp_path / "logs").exists()


def test_a_job_spools_its_run_with_the_config_sections(tmp_path):
    tdir = tmp_path / "tracking"
    config = {"tracking": {"enabled": True, "dir": str(tdir), "spool": True},
              "flow": {"backend": "torch", "tvl1": {"tau": 0.25}}, "seed": 3}

    def main(s, run):
        run.log_metrics({"seconds": 1.5}, step=2)
    run_script(fake_smk(tmp_path, config, rule="flow", video="v1"), main, section=["flow.tvl1", "seed"],
               extra_params={"n": 7})
    [spooled] = list((tdir / "spool").glob("*.json"))
    rec = json.loads(spooled.read_text())
    assert rec["status"] == "FINISHED"
    assert rec["tags"]["mlflow.runName"] == "flow[video=v1]"
    assert rec["params"] == {"flow.tvl1.tau": "0.25", "seed.value": "3", "n": "7"}
    assert rec["metrics"][0][0:2] == ["seconds", 1.5] and rec["metrics"][0][3] == 2
