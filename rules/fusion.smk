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
        unpack(W.fusion_split_inputs),
    output:
        scores="results/fusion/split{split}/scores.h5",
        metrics="results/fusion/split{split}/metrics.json",
        bad_inputs="results/bad_inputs/fusion_recognition_split{split}.csv",
    params:
        # The section as a param: changing the fusion config re-runs the job.
        fusion=config["fusion"],
        concepts=W.fusion_concepts,
    log:
        "results/logs/fusion_split/split{split}.log",
    benchmark:
        "results/benchmarks/fusion_split/split{split}.tsv"
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
        classes=W.class_files(),
        tracking=TRACKING,
        # counted by the captions (irpipe/report/data_description.py; report/table3.rst via params.data)
        manifest="results/data/recognition/manifest.csv",
        splits="results/data/recognition/splits.csv",
    output:
        csv=report("results/tables/table3.csv", caption="../report/table3.rst",
                   category="Tables", subcategory="CSV downloads", labels={"table": "Table 3 (seed 000)"}),
        md="results/tables/table3.md",
        html=report("results/report/tables/table3.html", caption="../report/table3.rst",
                    category="Tables", subcategory="Seed 000", labels={"table": "Table 3 (seed 000)"}),
    params:
        data=W.data_caption,
    log:
        "results/logs/table3/table3.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fusion_table3.py"


rule figure4:
    input:
        ir=W.fusion_predictions("ir", config["fusion"]["figures"]["codes_split"]),
        flow=W.fusion_predictions("flow", config["fusion"]["figures"]["codes_split"]),
        classes="results/data/recognition/classes.txt",
        tracking=TRACKING,
        manifest="results/data/recognition/manifest.csv",
        splits="results/data/recognition/splits.csv",
    output:
        figures=figure_outputs("figure4_codes", "../report/figure4.rst", "Figure 4: discriminative codes"),
    params:
        figures=config["fusion"]["figures"],
        data=W.data_caption,
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
        manifest="results/data/recognition/manifest.csv",
        splits="results/data/recognition/splits.csv",
    output:
        figures=figure_outputs("figure5_confusion", "../report/figure5.rst", "Figure 5: confusion matrices"),
        csv="results/figures/figure5_confusion.csv",
    params:
        figures=config["fusion"]["figures"],
        data=W.data_caption,
    log:
        "results/logs/figure5/figure5.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fusion_figure.py"


rule figure6a:
    input:
        sweep=W.figure6a_inputs(),
        classes="results/data/recognition/classes.txt",
        tracking=TRACKING,
        manifest="results/data/recognition/manifest.csv",
        splits="results/data/recognition/splits.csv",
    output:
        figures=figure_outputs("figure6a_alpha", "../report/figure6a.rst", "Figure 6a: accuracy vs alpha"),
        csv="results/figures/figure6a_alpha.csv",
    params:
        alphas=W.fusion_sweep_alphas(),
        stream=W.figure6a_stream(),
        k=W.figure6a_k(),
        figures=config["fusion"]["figures"],
        data=W.data_caption,
    log:
        "results/logs/figure6a/figure6a.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fusion_figure.py"


rule figure6b:
    input:
        preds=W.figure6b_inputs(),
        classes="results/data/recognition/classes.txt",
        tracking=TRACKING,
        manifest="results/data/recognition/manifest.csv",
        splits="results/data/recognition/splits.csv",
    output:
        figures=figure_outputs("figure6b_k", "../report/figure6b.rst", "Figure 6b: accuracy vs k"),
        csv="results/figures/figure6b_k.csv",
    params:
        streams=W.figure6b_streams(),
        figures=config["fusion"]["figures"],
        data=W.data_caption,
    log:
        "results/logs/figure6b/figure6b.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fusion_figure.py"


FUSION_TARGETS = W.fusion_targets()
# Files the fusion rules already mark for the report (report.smk does not add views of them).
W.report_annotated.update(FUSION_TARGETS)

if W.fusion_enabled:
    ALL_TARGETS.extend(FUSION_TARGETS)


rule fusion_all:
    input:
        FUSION_TARGETS,
