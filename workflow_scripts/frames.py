"""Decode a shard of videos (files or image sequences; 16-bit through the gain control) to grey frames:
one store per video, with the resized copies later stages read."""
from pathlib import Path

from irpipe.data.frames import extract_frames_shard
from irpipe.workflow import run_script


def main(smk, run):
    cfg, dataset = smk.config, smk.wildcards.dataset
    fcfg = cfg["frames"]
    names = fcfg[f"{dataset}_sizes"]
    missing = [n for n in names if n not in fcfg["resize"]]
    if missing:
        raise ValueError(f"frames.{dataset}_sizes names {missing}, which frames.resize does not define")
    stats = extract_frames_shard(list(zip(smk.params.videos, smk.input.videos, smk.params.fps)),
                                 Path(smk.output[0]), {n: fcfg["resize"][n] for n in names},
                                 interpolation_up=fcfg["interpolation_up"],
                                 interpolation_down=fcfg["interpolation_down"], keep_original=fcfg["keep_original"],
                                 compression=fcfg["compression"], level=fcfg["compression_level"],
                                 min_frames=cfg["dataset"][dataset]["min_frames"], agc=fcfg["agc"])
    run.log_metrics(stats)


run_script(snakemake, main, section="frames")
