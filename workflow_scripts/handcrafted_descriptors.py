"""D-SIFT, O-SIFT or IDT descriptors (kind from the wildcard) of a shard of videos, one store per video."""
from pathlib import Path

from irpipe.data.sizes import resolve_config
from irpipe.features.descriptors import extract_videos
from irpipe.workflow import run_script
from irpipe.workflow_logic import stores_in


def main(smk, run):
    from threadpoolctl import threadpool_limits

    frames = stores_in([smk.input.frames])  # the frames job wrote all of the shard's stores or none
    with threadpool_limits(smk.threads):
        stats = extract_videos(smk.wildcards.kind, frames, Path(smk.output[0]),
                               resolve_config(smk.config, "recognition")["handcrafted"],
                               policy=smk.config["on_bad_input"])
    run.log_metrics({"videos": len(stats), "n_descriptors": sum(s["n_descriptors"] for s in stats),
                     "seconds": sum(s["seconds"] for s in stats)})
    bad = [f"{s['video_id']}: {s['bad_input']}" for s in stats if s["bad_input"]]
    if bad:
        run.set_tag("irpipe.bad_input", "; ".join(bad))


run_script(snakemake, main, section="handcrafted")
