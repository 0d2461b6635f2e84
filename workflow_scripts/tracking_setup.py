"""Create the MLflow database and experiment once, before any other job (avoids SQLite races)."""
from irpipe.io import write_json
from irpipe.tracking import init_experiment
from irpipe.workflow import run_script


def main(smk):
    t = smk.config["tracking"]
    info = init_experiment(t["uri"], t["experiment"], t["dir"]) if t["enabled"] else {"enabled": False}
    write_json(smk.output[0], info)


# The experiment must exist before the job's own child run can be opened.
with open(snakemake.log[0], "w") as _log:
    _log.write("creating MLflow experiment\n")
main(snakemake)
# live: this job's own run goes straight to the store it has just created
run_script(snakemake, lambda smk, run: run.set_tag("irpipe.setup", "experiment created"), section="tracking",
           live=True)
