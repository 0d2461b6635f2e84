"""TV-L1 flow of one video's frames: raw float16 flow and the 8-bit flow images."""
from irpipe.flow.store import flow_for_store, flow_options
from irpipe.flow.tvl1 import set_cpu_threads
from irpipe.workflow import run_script


def main(smk, run):
    set_cpu_threads(smk.threads, smk.config["flow"]["backend"])
    stats = flow_for_store(smk.input.frames, smk.output[0], **flow_options(smk.config, smk.wildcards.dataset))
    run.log_metrics(stats)


run_script(snakemake, main, section="flow", per_video=True)
