"""SVMs, substitute concept bank, early and late fusion on one split: posteriors + metrics."""
from irpipe.data.datasets import read_classes_file
from irpipe.features.baseline import KINDS, classify_split, write_concepts, write_metrics, write_posteriors
from irpipe.workflow import run_script


def main(smk, run):
    from threadpoolctl import threadpool_limits

    cfg = smk.config
    split = int(smk.wildcards.split)
    classes = read_classes_file(smk.input.classes)
    fv = dict(zip(KINDS, smk.input.fv))
    with threadpool_limits(smk.threads):
        result = classify_split(fv, cfg["handcrafted"], cfg["seed"], len(classes),
                                split)
    write_posteriors(smk.output.posteriors, result,
                     {"split": split, "concepts": cfg["handcrafted"]["concepts"]["name"],
                      "classes": ",".join(classes)})
    write_concepts(smk.output.concepts, result, {"split": split, "name": cfg["handcrafted"]["concepts"]["name"]})
    write_metrics(smk.output.metrics, result)
    for _, r in result["metrics"].iterrows():
        run.log_metrics({f"{r['method']}.accuracy": r["accuracy"], f"{r['method']}.macro_ap": r["macro_ap"]},
                        step=split)
    run.log_artifact(smk.output.metrics)


run_script(snakemake, main, section=["handcrafted.svm", "handcrafted.concepts"])
