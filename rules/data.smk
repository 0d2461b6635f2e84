# Data: tracking setup, synthetic data, manifests, splits and frame extraction.


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
        synthetic_input("recognition"),
    output:
        manifest="results/data/recognition/manifest.csv",
        classes="results/data/recognition/classes.txt",
        classes_source="results/data/recognition/classes_source.txt",
        bad="results/bad_inputs/manifest_recognition.csv",
    params:
        dataset="recognition",
    log:
        "results/logs/manifest/recognition.log",
    threads: 2
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/manifest.py"


checkpoint manifest_detection:
    input:
        TRACKING,
        synthetic_input("detection"),
    output:
        manifest="results/data/detection/manifest.csv",
        annotations="results/data/detection/annotations.csv",
        ambiguous="results/data/detection/ambiguous.csv",
        classes="results/data/detection/classes.txt",
        classes_source="results/data/detection/classes_source.txt",
        bad="results/bad_inputs/manifest_detection.csv",
    params:
        dataset="detection",
    log:
        "results/logs/manifest/detection.log",
    threads: 2
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/manifest.py"


rule splits:
    input:
        TRACKING,
        manifest="results/data/recognition/manifest.csv",
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
        video=video_source,
    output:
        "results/frames/{dataset}/{video}.h5",
    params:
        fps=video_fps,
    log:
        "results/logs/frames/{dataset}/{video}.log",
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=20,
    script:
        "../workflow_scripts/frames.py"


if RECOGNITION_ENABLED:
    ALL_TARGETS += [
        "results/data/recognition/splits.csv",
        "results/data/recognition/flow_summary.csv",
    ]
if DETECTION_ENABLED:
    ALL_TARGETS += ["results/data/detection/flow_summary.csv"]
