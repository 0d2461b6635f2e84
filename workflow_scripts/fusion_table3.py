"""Table 3 of seed 000 from the per-split fusion metrics (rule table3)."""
from irpipe.workflow import run_script


def main(smk, run):
    from irpipe.report import captions, provenance
    from irpipe.report import fusion as results
    from irpipe.report.data_description import describe_inputs

    config = smk.config
    note = captions.caption(
        f"{len(smk.input.metrics)} split(s) fused; C3D variant: {config['fusion']['variant']}. "
        "Accuracy = mean per-class accuracy (the paper's 'AP'); macro AP = one-vs-rest average precision.",
        captions.fusion_deviations(config), data=describe_inputs(config, smk.input))
    metrics = {int(p.split("split")[-1].split("/")[0]): p for p in smk.input.metrics}
    df = results.table3(metrics, smk.output.csv, smk.output.md, note=note)
    provenance.table_html(smk.output.csv, smk.output.html, "Table 3: fusion of the IR and flow streams", note)
    for _, r in df.iterrows():
        key = r["method"].lower().replace(" + ", "_plus_").replace(" ", "_").replace("-", "_")
        run.log_metrics({f"{key}.accuracy_mean": r["accuracy_mean"], f"{key}.accuracy_std": r["accuracy_std"],
                         f"{key}.macro_ap_mean": r["macro_ap_mean"], f"{key}.macro_ap_std": r["macro_ap_std"]})
    for p in (smk.output.csv, smk.output.md):
        run.log_artifact(p, "tables")
    print(df.to_string())


run_script(snakemake, main, section="fusion")  # noqa: F821
