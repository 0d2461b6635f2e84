# irpipe: thermal-infrared action recognition (seed 000) and temporal action detection (seed 001).
# `snakemake --cores N` runs the embedded synthetic default; see README.md for real data,
# presets, clusters and run comparison. This file only declares and includes.
import os

from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config.yaml")


report: "report/workflow.rst"


from irpipe.config import validate_config
from irpipe.errors import ConfigError

try:
    validate_config(config)
except ConfigError as _err:
    raise WorkflowError(str(_err)) from None


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/flow.smk"
include: "rules/handcrafted.smk"
include: "rules/c3d.smk"
include: "rules/fusion.smk"
include: "rules/detection.smk"
include: "rules/report.smk"


onstart:
    start_invocation()


onsuccess:
    finish_invocation("FINISHED")


onerror:
    finish_invocation("FAILED")


rule all:
    default_target: True
    input:
        ALL_TARGETS,
