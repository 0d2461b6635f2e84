"""TV-L1 flow of a shard of videos with one backend: raw float16 flow and the 8-bit flow images."""
from irpipe.flow.store import flow_for_stores, flow_options
from irpipe.flow.tvl1 import set_cpu_threads
from irpipe.io import atomic_dir
from irpipe.workflow import run_script
from irpipe.workflow_logic import stores_in


def main(smk, run):
    set_cpu_threads(smk.threads, smk.config["flow"]["backend"])
    frames = stores_in([smk.input.frames])  # the frames job wrote all of the shard's stores or none
    with atomic_dir(smk.output[0]) as tmp:  # all of the shard's flow stores, or none
        stats = flow_for_stores([(src, tmp / src.name) for src in frames.values()],
                                **flow_options(smk.config, smk.wildcards.dataset))
    pairs = sum(s["n_pairs"] for s in stats)
    seconds = sum(s["seconds"] for s in stats)
    run.log_metrics({"videos": len(stats), "n_pairs": pairs, "seconds": seconds,
                     "pairs_per_s": pairs / seconds if seconds > 0 else 0.0})


run_script(snakemake, main, section="flow")
