# Hand-crafted baseline of seed 000 (Table 1): D-SIFT / O-SIFT / IDT descriptors per shard of videos
# (one store per video), per split and kind PCA + GMM + Fisher vectors (fitted on training videos only),
# per split SVMs, substitute concept bank and fusion, then Table 1. See docs/handcrafted.md.


localrules:
    table1,


rule handcrafted_descriptors:
    input:
        TRACKING,
        frames=W.recognition_shard_frames,
        sizes="results/data/recognition/sizes.json",
    output:
        directory("results/handcrafted/descriptors/{kind}/{shard}"),
    params:
        settings=W.descriptor_settings,
    log:
        "results/logs/handcrafted_descriptors/{kind}/{shard}.log",
    benchmark:
        "results/benchmarks/handcrafted_descriptors/{kind}/{shard}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/handcrafted_descriptors.py"


rule handcrafted_encode:
    input:
        TRACKING,
        splits="results/data/recognition/splits.csv",
        descriptors=W.kind_descriptors,
    output:
        "results/handcrafted/split{split}/fv_{kind}.h5",
    log:
        "results/logs/handcrafted_encode/split{split}_{kind}.log",
    benchmark:
        "results/benchmarks/handcrafted_encode/split{split}_{kind}.tsv"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=240,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/handcrafted_encode.py"


rule handcrafted_classify:
    input:
        TRACKING,
        fv=expand("results/handcrafted/split{{split}}/fv_{kind}.h5", kind=FEATURE_KINDS),
        classes="results/data/recognition/classes.txt",
    output:
        posteriors="results/handcrafted/split{split}/posteriors.h5",
        metrics="results/handcrafted/split{split}/metrics.csv",
        concepts="results/handcrafted/split{split}/concepts.h5",
    log:
        "results/logs/handcrafted_classify/split{split}.log",
    benchmark:
        "results/benchmarks/handcrafted_classify/split{split}.tsv"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/handcrafted_classify.py"


rule naive_baseline:
    input:
        unpack(W.naive_inputs),
    output:
        metrics="results/handcrafted/split{split}/metrics_naive.csv",
        bad="results/bad_inputs/naive_recognition_split{split}.csv",
    log:
        "results/logs/naive_baseline/split{split}.log",
    benchmark:
        "results/benchmarks/naive_baseline/split{split}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/handcrafted_naive.py"


rule table1:
    input:
        TRACKING,
        metrics=expand("results/handcrafted/split{split}/metrics.csv", split=SPLITS),
        naive=W.naive_metrics,
        fv=W.table1_fisher_vectors(),
        # counted by the caption (irpipe/report/data_description.py)
        manifest="results/data/recognition/manifest.csv",
        splits="results/data/recognition/splits.csv",
    output:
        csv="results/tables/table1.csv",
        md="results/tables/table1.md",
        bad="results/bad_inputs/handcrafted_recognition.csv",
    log:
        "results/logs/table1.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/handcrafted_table1.py"


if W.handcrafted_enabled:
    ALL_TARGETS += [
        "results/tables/table1.csv",
        "results/tables/table1.md",
        "results/bad_inputs/handcrafted_recognition.csv",
    ] + expand("results/handcrafted/split{split}/posteriors.h5", split=SPLITS)
