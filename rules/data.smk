# Data: tracking setup, synthetic data, manifests, splits and frame extraction.
#
# Job priorities (Snakemake runs the highest-priority ready jobs first when cores are short; all
# other rules: 0): the manifest checkpoints 2, the frames, the flow and the long detection jobs 1,
# so that data preparation gates nothing for long. A two-thread job only starts when two cores are
# free at once: the manifests are ready when nothing else is (after tracking / synthetic data) and
# must be picked then, before one-thread jobs fill the cores. Without the priorities, on two cores,
# the recognition manifest waited until the detection chain had drained (at 347 s of a 1,306 s run)
# and the recognition flow ended at 816 s.


localrules:
    tracking_setup,
    splits,


rule tracking_setup:
    output:
        TRACKING,
    log:
        "results/logs/tracking_setup.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/tracking_setup.py"


rule synthetic_data:
    input:
        TRACKING,
    output:
        directory("results/synthetic/{dataset}"),
    log:
        "results/logs/synthetic_data/{dataset}.log",
    benchmark:
        "results/benchmarks/synthetic_data/{dataset}.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../workflow_scripts/synthetic_data.py"


checkpoint manifest_recognition:
    input:
        TRACKING,
        W.synthetic_input("recognition"),
    output:
        manifest="results/data/recognition/manifest.csv",
        sizes="results/data/recognition/sizes.json",
        classes="results/data/recognition/classes.txt",
        classes_source="results/data/recognition/classes_source.txt",
        bad="results/bad_inputs/manifest_recognition.csv",
    params:
        dataset="recognition",
    log:
        "results/logs/manifest/recognition.log",
    benchmark:
        "results/benchmarks/manifest/recognition.tsv"
    priority: 2
    threads: 2
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/manifest.py"


checkpoint manifest_detection:
    input:
        TRACKING,
        W.synthetic_input("detection"),
    output:
        manifest="results/data/detection/manifest.csv",
        annotations="results/data/detection/annotations.csv",
        ambiguous="results/data/detection/ambiguous.csv",
        subsets="results/data/detection/subsets.json",
        classes="results/data/detection/classes.txt",
        sizes="results/data/detection/sizes.json",
        classes_source="results/data/detection/classes_source.txt",
        bad="results/bad_inputs/manifest_detection.csv",
    params:
        dataset="detection",
    log:
        "results/logs/manifest/detection.log",
    benchmark:
        "results/benchmarks/manifest/detection.tsv"
    priority: 2
    threads: 2
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/manifest.py"


rule splits:
    input:
        TRACKING,
        manifest="results/data/recognition/manifest.csv",
        classes="results/data/recognition/classes.txt",
    output:
        splits="results/data/recognition/splits.csv",
        bad="results/bad_inputs/splits_recognition.csv",
    log:
        "results/logs/splits.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/splits.py"


rule frames:
    input:
        TRACKING,
        videos=W.shard_sources,
    output:
        directory("results/frames/{dataset}/{shard}"),
    params:
        videos=W.shard_videos,
        fps=W.shard_fps,
        settings=W.settings_digest("frames"),
    log:
        "results/logs/frames/{dataset}/{shard}.log",
    benchmark:
        "results/benchmarks/frames/{dataset}/{shard}.tsv"
    priority: 1
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=20,
    script:
        "../workflow_scripts/frames.py"


if W.recognition_enabled:
    ALL_TARGETS += [
        "results/data/recognition/splits.csv",
        "results/data/recognition/flow_summary.csv",
    ]
if W.detection_enabled:
    ALL_TARGETS += ["results/data/detection/flow_summary.csv"]
