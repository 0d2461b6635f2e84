"""Decode one video (file or image sequence; 16-bit through the gain control) to grey frames and store
them with the resized copies later stages read."""
from irpipe.data.frames import extract_frames
from irpipe.workflow import run_script


def main(smk, run):
    cfg = smk.config
    fcfg = cfg["frames"]
    dataset = smk.wildcards.dataset
    names = fcfg[f"{dataset}_sizes"]
    missing = [n for n in names if n not in fcfg["resize"]]
    if missing:
        raise ValueError(f"frames.{dataset}_sizes names {missing}, which frames.resize does not define")
    stats = extract_frames(smk.input.video, smk.output[0], smk.wildcards.video,
                           {n: fcfg["resize"][n] for n in names}, keep_original=fcfg["keep_original"],
                           compression=fcfg["compression"], level=fcfg["compression_level"],
                           min_frames=cfg["dataset"][dataset]["min_frames"], fps=smk.params.fps,
                           agc=fcfg["agc"])
    run.log_metrics(stats)


run_script(snakemake, main, section="frames", per_video=True)
