"""Build a dataset's manifest (every video decoded once), its class list and its frame-size plan,
recording bad inputs under skip (under error, one message names them all)."""
from irpipe import size_plan
from irpipe.data import datasets, sizes
from irpipe.errors import bad_inputs_frame
from irpipe.io import write_csv, write_json, write_text
from irpipe.workflow import run_script


def main(smk, run):
    dataset = smk.params.dataset
    cfg = smk.config
    root = f"results/synthetic/{dataset}"
    build = datasets.recognition_manifest if dataset == "recognition" else datasets.detection_manifest
    result = build(cfg["dataset"][dataset], cfg["on_bad_input"], synthetic_root=root, threads=smk.threads)
    write_csv(smk.output.bad, bad_inputs_frame(result.bad))
    if dataset == "detection":
        write_csv(smk.output.annotations, result.annotations)
        write_csv(smk.output.ambiguous, result.ambiguous)
        write_json(smk.output.subsets, result.subsets)
    write_text(smk.output.classes, result.classes.text())
    write_text(smk.output.classes_source, result.classes.source + "\n")
    # frame sizes checked once for the whole dataset, before any per-video job (ConfigError if none fits)
    plan = size_plan.check_manifest(cfg, dataset, result.manifest)
    sizes.write_plan(smk.output.sizes, plan)
    run.log_params({f"sizes.{k}": f"{e['copy']} {e['size'][0]}x{e['size'][1]}" for k, e in plan["keys"].items()})
    write_csv(smk.output.manifest, result.manifest)
    print(f"{len(result.classes.names)} classes, {result.classes.source}: {result.classes.names}")
    run.log_metrics({"n_videos": len(result.manifest), "n_bad_inputs": len(result.bad),
                     "n_classes": len(result.classes.names)})
    run.set_tag("irpipe.classes_source", result.classes.source)
    for path in smk.output:
        run.log_artifact(path)


run_script(snakemake, main, section=["dataset", "on_bad_input"])
