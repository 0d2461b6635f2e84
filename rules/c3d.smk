# Two-stream C3D with the discriminative code layer (seed 000, Table 2); see docs/c3d.md.
# One training job per (stream, variant, split) plus the alpha sweep of Figure 6a; Table 2 from
# the per-video predictions. A killed training job resumes from its checkpoint.pt on re-run
# (resume state, deliberately not a declared output: Snakemake deletes outputs before a job runs).

wildcard_constraints:
    variant="|".join(C3D_VARIANTS),
    alpha=r"[0-9.e+-]+",


rule c3d_train:
    input:
        unpack(W.c3d_inputs),
        TRACKING,
        splits="results/data/recognition/splits.csv",
        classes="results/data/recognition/classes.txt",
        sizes="results/data/recognition/sizes.json",
    output:
        predictions="results/c3d/{stream}_{variant}/split{split}/predictions.h5",
        model="results/c3d/{stream}_{variant}/split{split}/model.pt",
        bad="results/bad_inputs/c3d_recognition_{stream}_{variant}_split{split}.csv",
    params:
        alpha=W.c3d_alpha,
    log:
        "results/logs/c3d_train/{stream}_{variant}_split{split}.log",
    benchmark:
        "results/benchmarks/c3d_train/{stream}_{variant}_split{split}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=W.c3d_gpu,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/c3d_train.py"


rule c3d_sweep:
    input:
        unpack(W.c3d_inputs),
        TRACKING,
        splits="results/data/recognition/splits.csv",
        classes="results/data/recognition/classes.txt",
        sizes="results/data/recognition/sizes.json",
        reuse=W.c3d_reuse,
    output:
        predictions="results/c3d/sweep/{stream}_alpha{alpha}/split{split}/predictions.h5",
        model="results/c3d/sweep/{stream}_alpha{alpha}/split{split}/model.pt",
        bad="results/bad_inputs/c3d_recognition_sweep_{stream}_alpha{alpha}_split{split}.csv",
    params:
        alpha=W.sweep_alpha,
    log:
        "results/logs/c3d_sweep/{stream}_alpha{alpha}_split{split}.log",
    benchmark:
        "results/benchmarks/c3d_sweep/{stream}_alpha{alpha}_split{split}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=W.c3d_gpu,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/c3d_train.py"


rule table2:
    input:
        TRACKING,
        predictions=W.table2_predictions(),
        # counted by the caption (irpipe/report/data_description.py)
        manifest="results/data/recognition/manifest.csv",
        splits="results/data/recognition/splits.csv",
    output:
        csv="results/tables/table2.csv",
        md="results/tables/table2.md",
    log:
        "results/logs/table2.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/c3d_table2.py"


if W.c3d_enabled:
    ALL_TARGETS += W.c3d_targets()
