"""Fuse the IR and flow streams of one split (rule fusion_split)."""
from irpipe.workflow import run_script


def main(smk, run):
    from irpipe.data.datasets import read_classes_file
    from irpipe.fusion import pipeline

    cfg = smk.config["fusion"]
    split = int(smk.wildcards.split)
    sink = []
    fused = pipeline.run_split(
        smk.input.ir, smk.input.flow, smk.input.posteriors if smk.params.concepts else None,
        smk.input.splits, split, read_classes_file(smk.input.classes), cfg,
        seed=int(smk.config["seed"]) * 1000 + split, policy=smk.config["on_bad_input"], bad_inputs=sink,
        knn_k=int(smk.config.get("c3d", {}).get("knn_k", cfg["lf2"]["k"])))
    metrics = pipeline.write_scores(fused, smk.output.scores, smk.output.metrics)
    pipeline.write_bad_inputs(smk.output.bad_inputs, sink)
    run.log_metrics({f"{m}.{k}": v for m, d in metrics.items() for k, v in d.items()})
    run.log_metrics({"n_test_videos": len(fused.video_id), "n_bad_inputs": len(sink)})
    for m in pipeline.TABLE3_METHODS:
        if m in metrics:
            print(f"{pipeline.TABLE3_NAMES[m]}: accuracy {100 * metrics[m]['accuracy']:.2f}%  "
                  f"macro AP {100 * metrics[m]['macro_ap']:.2f}%")


run_script(snakemake, main, section="fusion")  # noqa: F821
