# Infrared temporal action detection (seed 001, InfDetNet). See docs/detection.md.
# Frozen I3D features are extracted once per dataset and shared by every variant; each
# variant of Tables III-V is one run (one thread: its tensors are small; several runs per job, below);
# the FEN variant also reads frames and TV-L1 flow, and starts from the SCA (TV-L1) model.pt.
# Trained variants resume from checkpoint.pt beside their outputs (undeclared resume state,
# fingerprinted by the settings and the content of the features: changed inputs train afresh).
# priority 1 on the long detection jobs: Snakemake otherwise leaves them until the C3D jobs are
# done, and on two cores the run ended with one core idle beside them (measured: 214 s of 1406).
# The features job has one thread: with two it waited for both cores to be free at once, which on a
# two-core machine busy with one-thread jobs happens only when nothing else is left (measured: the
# recognition features and the recognition-mode table ran alone at the end, 90 s on one core).
# detection.seeds = n trains every variant n times (seed index 0..n-1): index 0 in
# variants/<variant>/, index k >= 1 in variants/<variant>/seed<k>/.

rule detection_features:
    input:
        unpack(W.detection_features_inputs),
        tracking=TRACKING,
    output:
        features="results/detection/features/{dataset}.h5",
        bad="results/bad_inputs/detection_features_{dataset}.csv",
    log:
        "results/logs/detection_features/{dataset}.log",
    benchmark:
        "results/benchmarks/detection_features/{dataset}.tsv"
    priority: 1
    threads: 1
    resources:
        mem_mb=6000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/detection_features.py"


# The detection runs (variant x seed index, late fusion included) are cut into jobs of several runs
# (sharding.detection_runs_per_job), trained one after another in one process: one generated rule per
# job, named detection_variant_<job> (<job>: the run's name, e.g. ir or ir_seed1, for a job of one run;
# batch<i>of<n> otherwise), whose outputs are every run's files at their usual paths. A run that needs
# another job's output (the FEN variant's SCA model, late fusion's two score files) declares it.
for _batch in W.detection_batches():

    rule:
        name:
            _batch.rule
        input:
            unpack(W.detection_batch_inputs(_batch)),
        output:
            **_batch.outputs(),
        params:
            runs=[list(r) for r in _batch.runs],
        log:
            f"results/logs/detection_variant/{_batch.name}.log",
        benchmark:
            f"results/benchmarks/detection_variant/{_batch.name}.tsv"
        priority: 1
        threads: 1
        resources:
            mem_mb=4000,
            runtime=60 + 60 * len(_batch.runs),
            gpu=0,
        conda:
            CONDA_ENV
        script:
            "../workflow_scripts/detection_variant.py"


rule detection_naive:
    # Table III's naive baseline: per-snippet pixel statistics of the frames, RBF SVMs (detection.naive)
    input:
        unpack(W.detection_naive_inputs),
    output:
        **W.detection_naive_outputs(),
    params:
        runs=[["naive", 0]],
    log:
        "results/logs/detection_variant/naive.log",
    benchmark:
        "results/benchmarks/detection_variant/naive.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/detection_variant.py"


rule detection_gt:
    input:
        tracking=TRACKING,
        annotations="results/data/detection/annotations.csv",
        ambiguous="results/data/detection/ambiguous.csv",
        classes="results/data/detection/classes.txt",
    output:
        # detclasslist.txt, Ambiguous_test.txt and <class>_test.txt per class of the manifest's list
        gt=directory("results/detection/gt"),
    log:
        "results/logs/detection_gt.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/detection_gt.py"


rule infdet_tables:
    input:
        # every run's eval, summary and test detections (the bootstrap over test videos resamples them)
        unpack(W.detection_table_inputs),
    output:
        expand("results/tables/infdet_table{n}.{ext}", n=[3, 4, 5], ext=["csv", "md"]),
        per_class="results/tables/infdet_per_class_ap.csv",
    params:
        runs=W.detection_runs(),
    log:
        "results/logs/infdet_tables.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/detection_tables.py"


rule infdet_table6:
    input:
        tracking=TRACKING,
    output:
        csv="results/tables/infdet_table6.csv",
        md="results/tables/infdet_table6.md",
    log:
        "results/logs/infdet_table6.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/detection_table6.py"


rule detection_timeline:
    input:
        unpack(W.detection_timeline_inputs),
    output:
        report("results/figures/detection/timeline_{video}.png", caption="../report/timeline.rst",
               category="Figures", subcategory="Seed 001", labels={"figure": "timeline {video}"}),
    params:
        data=W.data_caption,
    log:
        "results/logs/detection_timeline/{video}.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/detection_timeline.py"


rule detection_timelines:
    input:
        figures=W.detection_timeline_figures,
        manifest="results/data/detection/manifest.csv",
        annotations="results/data/detection/annotations.csv",
        subsets="results/data/detection/subsets.json",
    output:
        "results/figures/detection/timelines.md",
    log:
        "results/logs/detection_timelines.log",
    localrule: True
    run:
        from irpipe.report.data_description import describe_inputs
        from irpipe.report.timeline import write_timelines_index
        write_timelines_index(input.figures, describe_inputs(config, input), output[0])


rule infdet_recognition:
    input:
        # fine-tuning the I3Ds (detection.recognition.i3d: finetune) reads frames and flow
        unpack(W.recognition_mode_stores),
        tracking=TRACKING,
        features="results/detection/features/recognition.h5",
        splits="results/data/recognition/splits.csv",
        manifest="results/data/recognition/manifest.csv",  # counted by the caption, with splits
    output:
        csv="results/tables/infdet_recognition.csv",
        md="results/tables/infdet_recognition.md",
    log:
        "results/logs/infdet_recognition.log",
    benchmark:
        "results/benchmarks/infdet_recognition/recognition.tsv"
    priority: 1
    threads: 1
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/detection_recognition.py"


rule infdet_table3:
    input:
        "results/tables/infdet_table3.md",


rule infdet_table4:
    input:
        "results/tables/infdet_table4.md",


rule infdet_table5:
    input:
        "results/tables/infdet_table5.md",


if W.detection_enabled:
    ALL_TARGETS += W.detection_targets()
if W.detection_enabled and W.recognition_enabled and config["detection"]["recognition"]["enabled"]:
    ALL_TARGETS += ["results/tables/infdet_recognition.md"]
