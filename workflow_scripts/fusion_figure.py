"""Figures 4, 5, 6a and 6b of seed 000 (one rule each; the rule name picks the figure)."""
from irpipe.workflow import run_script


def _split_of(path: str) -> int:
    return int(path.split("/split")[-1].split("/")[0])


def main(smk, run):
    from irpipe.data.datasets import read_classes_file
    from irpipe.report import fusion as results
    from irpipe.report.data_description import describe_inputs

    config = smk.config
    fcfg = config["fusion"]["figures"]
    classes = read_classes_file(smk.input.classes)
    tag = "; ".join(d.short() for d in describe_inputs(config, smk.input))
    paths = list(smk.output.figures)
    if smk.rule == "figure4":
        results.figure4({"ir": smk.input.ir, "flow": smk.input.flow}, classes, paths,
                        suptitle=f"Predicted discriminative codes of test videos (split {fcfg['codes_split']}, {tag})")
    elif smk.rule == "figure5":
        mats = results.figure5(list(smk.input.scores), classes, fcfg["confusion_stream_classifier"],
                               fcfg["confusion_fused_method"], paths, csv_path=smk.output.csv,
                               suptitle=f"Confusion matrices, {len(smk.input.scores)} split(s) pooled ({tag})")
        import numpy as np
        run.log_metrics({f"{t.split()[0].lower()}.mean_diag": float(np.mean(np.diag(m))) for t, m in mats.items()})
    elif smk.rule == "figure6a":
        alphas = smk.params.alphas
        df = results.figure6a(dict(zip(alphas, smk.input.sweep)), len(classes), smk.params.k, paths,
                              smk.output.csv, title=f"{smk.params.stream} net vs alpha ({tag})",
                              rule=fcfg["knn_rule"])
        for i, r in df.iterrows():
            run.log_metrics({"softmax_accuracy": r["softmax"], "knn_accuracy": r["knn"]}, step=i)
    elif smk.rule == "figure6b":
        keys = [(s, _split_of(p)) for s, p in zip(smk.params.streams, smk.input.preds)]
        summ = results.figure6b(dict(zip(keys, smk.input.preds)), len(classes), fcfg["knn_k_values"], paths,
                                smk.output.csv, title=f"k-NN accuracy vs k ({tag})", rule=fcfg["knn_rule"])
        for _, r in summ.iterrows():
            run.log_metric(f"{r['stream']}.knn_accuracy", r["mean"], step=int(r["k"]))
    else:
        raise ValueError(f"fusion_figure.py does not draw rule {smk.rule}")
    for p in paths:
        run.log_artifact(p, "figures")


run_script(snakemake, main, section="fusion")  # noqa: F821
