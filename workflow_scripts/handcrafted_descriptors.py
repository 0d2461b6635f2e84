"""One video's D-SIFT, O-SIFT or IDT descriptors (kind from the wildcard)."""
from irpipe.data.sizes import resolve_config
from irpipe.features.descriptors import extract_video
from irpipe.workflow import run_script


def main(smk, run):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(smk.threads):
        stats = extract_video(smk.wildcards.kind, smk.input.frames, smk.output[0],
                              resolve_config(smk.config, "recognition")["handcrafted"],
                              policy=smk.config["on_bad_input"], video_id=smk.wildcards.video)
    run.log_metrics({k: v for k, v in stats.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
    if stats["bad_input"]:
        run.set_tag("irpipe.bad_input", stats["bad_input"])


run_script(snakemake, main, section="handcrafted", per_video=True)
