"""Frozen I3D features (IR + TV-L1 flow) of every video of one dataset, cached in HDF5."""
import torch

from irpipe.data.sizes import resolve_config
from irpipe.detection.features import extract_dataset
from irpipe.errors import bad_inputs_frame
from irpipe.flow.bound import numeric_bound
from irpipe.io import write_csv
from irpipe.workflow import run_script
from irpipe.workflow_logic import stores_in


def main(smk, run):
    torch.set_num_threads(smk.threads)
    dataset = smk.wildcards.dataset
    cfg = resolve_config(smk.config, dataset)["detection"]
    size = cfg["frame_size"] if dataset == "detection" else cfg["recognition_frame_size"]
    frames, flow = stores_in(smk.input.frames), stores_in(smk.input.flow)
    bad = []
    bound = numeric_bound(smk.config["flow"], smk.input.get("flow_bound"))
    print(f"flow bound {bound:.4g} px (flow.bound: {smk.config['flow']['bound']})")
    run.log_params({"flow_bound": bound})
    info = extract_dataset(sorted(frames), frames, flow,
                           smk.output.features, cfg, smk.config["seed"], size, bound,
                           smk.config["on_bad_input"], dataset, bad)
    write_csv(smk.output.bad, bad_inputs_frame(bad))
    run.log_metrics({"videos": info["videos"], "feature_dim": info["feature_dim"]})
    run.set_tag("irpipe.i3d_init", f"ir={info['ir_init']}; flow={info['flow_init']}")


run_script(snakemake, main, section="detection")
