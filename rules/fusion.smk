# Fusion stage (seed 000, Table 3, Figures 4 to 6): fuse the IR and flow C3D streams per split,
# tabulate, draw. Inputs: the C3D stage's predictions.h5 (softmax + codes per video) and the
# hand-crafted stage's posteriors.h5 (early-fused concept scores). See docs/fusion.md.

localrules:
    table3,
    figure4,
    figure5,
    figure6a,
    figure6b,


rule fusion_split:
    input:
        unpack(fusion_split_inputs),
    output:
        scores="results/fusion/split{split}/scores.h5",
        metrics="results/fusion/split{split}/metrics.json",
        bad_inputs="results/bad_inputs/fusion_recognition_split{split}.csv",
    params:
        # The section as a param: changing the fusion config re-runs the job.
        fusion=config["fusion"],
        concepts=FUSION_CONCEPTS,
    log:
        "results/logs/fusion_split/split{split}.log",
    wildcard_constraints:
        split=r"\d+",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fusion_split.py"


rule table3:
    input:
        metrics=expand("results/fusion/split{split}/metrics.json", split=SPLITS),
        tracking=TRACKING,
    output:
        csv=report("results/tables/table3.csv", caption="../report/table3.rst",
                   category="Tables", subcategory="CSV downloads", labels={"table": "Table 3 (seed 000)"}),
        md="results/tables/table3.md",
        html=report("results/report/tables/table3.html", caption="../report/table3.rst",
                    category="Tables", subcategory="Seed 000", labels={"table": "Table 3 (seed 000)"}),
    log:
        "results/logs/table3/table3.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fusion_table3.py"


rule figure4:
    input:
        ir=fusion_predictions("ir", config["fusion"]["figures"]["codes_split"]),
        flow=fusion_predictions("flow", config["fusion"]["figures"]["codes_split"]),
        classes="results/data/recognition/classes.txt",
        tracking=TRACKING,
    output:
        figures=fusion_figure_outputs("figure4_codes", "../report/figure4.rst", "Figure 4: discriminative codes"),
    params:
        figures=config["fusion"]["figures"],
    log:
        "results/logs/figure4/figure4.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fusion_figure.py"


rule figure5:
    input:
        scores=expand("results/fusion/split{split}/scores.h5", split=SPLITS),
        classes="results/data/recognition/classes.txt",
        tracking=TRACKING,
    output:
        figures=fusion_figure_outputs("figure5_confusion", "../report/figure5.rst", "Figure 5: confusion matrices"),
        csv="results/figures/figure5_confusion.csv",
    params:
        figures=config["fusion"]["figures"],
    log:
        "results/logs/figure5/figure5.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fusion_figure.py"


rule figure6a:
    input:
        sweep=expand("results/c3d/sweep/{stream}_alpha{alpha}/split{split}/predictions.h5",
                     stream=config.get("c3d", {}).get("sweep_stream", "flow"),
                     alpha=[fusion_alpha_str(a) for a in fusion_sweep_alphas()],
                     split=config.get("c3d", {}).get("sweep_split", 0)),
        classes="results/data/recognition/classes.txt",
        tracking=TRACKING,
    output:
        figures=fusion_figure_outputs("figure6a_alpha", "../report/figure6a.rst", "Figure 6a: accuracy vs alpha"),
        csv="results/figures/figure6a_alpha.csv",
    params:
        alphas=fusion_sweep_alphas(),
        stream=config.get("c3d", {}).get("sweep_stream", "flow"),
        k=config["fusion"]["figures"]["alpha_knn_k"] or config.get("c3d", {}).get("knn_k") or config["fusion"]["lf2"]["k"],
        figures=config["fusion"]["figures"],
    log:
        "results/logs/figure6a/figure6a.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fusion_figure.py"


rule figure6b:
    input:
        preds=[fusion_predictions(s, k) for s in ("ir", "flow") for k in SPLITS],
        classes="results/data/recognition/classes.txt",
        tracking=TRACKING,
    output:
        figures=fusion_figure_outputs("figure6b_k", "../report/figure6b.rst", "Figure 6b: accuracy vs k"),
        csv="results/figures/figure6b_k.csv",
    params:
        streams=[s for s in ("ir", "flow") for k in SPLITS],
        figures=config["fusion"]["figures"],
    log:
        "results/logs/figure6b/figure6b.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fusion_figure.py"


FUSION_TARGETS = (
    ["results/tables/table3.csv", "results/tables/table3.md", "results/report/tables/table3.html"]
    + fusion_figure_paths("figure4_codes")
    + fusion_figure_paths("figure5_confusion")
    + (fusion_figure_paths("figure6a_alpha") if fusion_sweep_alphas() else [])
    + fusion_figure_paths("figure6b_k")
)
# Files the fusion rules already mark for the report (report.smk does not add views of them).
REPORT_ANNOTATED = set(FUSION_TARGETS)

if FUSION_ENABLED:
    ALL_TARGETS.extend(FUSION_TARGETS)


rule fusion_all:
    input:
        FUSION_TARGETS,
