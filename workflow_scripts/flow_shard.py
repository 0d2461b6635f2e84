"""TV-L1 flow of a shard of videos with one backend (flow.videos_per_job > 1)."""
from pathlib import Path

from irpipe.flow.store import flow_for_stores
from irpipe.workflow import run_script


def main(smk, run):
    f = smk.config["flow"]
    size = f[f"{smk.wildcards.dataset}_size"]
    out_dir = Path(smk.output[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(p, out_dir / Path(p).name) for p in smk.input.frames]
    stats = flow_for_stores(jobs, size, f["tvl1"], bound=f["bound"], backend=f["backend"], device=f["device"],
                            batch_size=f["batch_size"], store_raw=f["store_raw"],
                            compression=smk.config["frames"]["compression"],
                            level=smk.config["frames"]["compression_level"], compile=f["compile"])
    pairs = sum(s["n_pairs"] for s in stats)
    seconds = sum(s["seconds"] for s in stats)
    run.log_metrics({"videos": len(stats), "n_pairs": pairs, "seconds": seconds,
                     "pairs_per_s": pairs / seconds if seconds > 0 else 0.0})


run_script(snakemake, main, section="flow")
