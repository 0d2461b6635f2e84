"""TV-L1 flow of one video's frames: raw float16 flow and the 8-bit flow images."""
from irpipe.flow.store import flow_for_store
from irpipe.workflow import run_script


def main(smk, run):
    f = smk.config["flow"]
    size = f[f"{smk.wildcards.dataset}_size"]
    stats = flow_for_store(smk.input.frames, smk.output[0], size, f["tvl1"], bound=f["bound"],
                           backend=f["backend"], device=f["device"], batch_size=f["batch_size"],
                           store_raw=f["store_raw"], compression=smk.config["frames"]["compression"],
                           level=smk.config["frames"]["compression_level"], compile=f["compile"])
    run.log_metrics(stats)


run_script(snakemake, main, section="flow", per_video=True)
