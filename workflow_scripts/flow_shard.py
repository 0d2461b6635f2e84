"""TV-L1 flow of a shard of videos with one backend (flow.videos_per_job > 1)."""
from pathlib import Path

from irpipe.flow.store import flow_for_stores, flow_options
from irpipe.flow.tvl1 import set_cpu_threads
from irpipe.workflow import run_script


def main(smk, run):
    set_cpu_threads(smk.threads, smk.config["flow"]["backend"])
    out_dir = Path(smk.output[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(p, out_dir / Path(p).name) for p in smk.input.frames]
    stats = flow_for_stores(jobs, **flow_options(smk.config, smk.wildcards.dataset))
    pairs = sum(s["n_pairs"] for s in stats)
    seconds = sum(s["seconds"] for s in stats)
    run.log_metrics({"videos": len(stats), "n_pairs": pairs, "seconds": seconds,
                     "pairs_per_s": pairs / seconds if seconds > 0 else 0.0})


run_script(snakemake, main, section="flow")
