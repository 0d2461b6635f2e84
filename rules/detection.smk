# Infrared temporal action detection (seed 001, InfDetNet). See docs/detection.md.
# Frozen I3D features are extracted once per dataset and shared by every variant; each
# variant of Tables III-V is one job (one thread: its tensors are small); the FEN variant
# also reads frames and TV-L1 flow, and starts from the SCA (TV-L1) model.

rule detection_features:
    input:
        unpack(det_features_inputs),
        tracking=TRACKING,
    output:
        features="results/detection/features/{dataset}.h5",
        bad="results/bad_inputs/detection_features_{dataset}.csv",
    log:
        "results/logs/detection_features/{dataset}.log",
    threads: 2
    resources:
        mem_mb=6000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/detection_features.py"


rule detection_variant:
    input:
        unpack(det_variant_inputs),
    output:
        scores="results/detection/variants/{variant}/scores.npz",
        detections="results/detection/variants/{variant}/detections.csv",
        thumos="results/detection/variants/{variant}/detections_thumos.txt",
        evaluation="results/detection/variants/{variant}/eval.csv",
        summary="results/detection/variants/{variant}/summary.json",
    wildcard_constraints:
        variant="|".join(DET_TABLE_VARIANTS),
    log:
        "results/logs/detection_variant/{variant}.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=0,
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
        classes="results/detection/gt/detclasslist.txt",
        ambiguous="results/detection/gt/Ambiguous_test.txt",
        files=expand("results/detection/gt/{cls}_test.txt", cls=config["dataset"]["detection"]["classes"]),
    log:
        "results/logs/detection_gt.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/detection_gt.py"


rule infdet_tables:
    input:
        tracking=TRACKING,
        evals=expand("results/detection/variants/{variant}/eval.csv", variant=DET_TABLE_VARIANTS),
        summaries=expand("results/detection/variants/{variant}/summary.json", variant=DET_TABLE_VARIANTS),
        gt="results/detection/gt/detclasslist.txt",
    output:
        expand("results/tables/infdet_table{n}.{ext}", n=[3, 4, 5], ext=["csv", "md"]),
        per_class="results/tables/infdet_per_class_ap.csv",
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
        tracking=TRACKING,
        manifest="results/data/detection/manifest.csv",
        annotations="results/data/detection/annotations.csv",
        classes="results/data/detection/classes.txt",
        scores=f"results/detection/variants/{DET_CFG['timeline_variant']}/scores.npz",
        detections=f"results/detection/variants/{DET_CFG['timeline_variant']}/detections.csv",
        summary=f"results/detection/variants/{DET_CFG['timeline_variant']}/summary.json",
    output:
        report("results/figures/detection/timeline_{video}.png", caption="../report/timeline.rst",
               category="Figures", subcategory="Seed 001", labels={"figure": "timeline {video}"}),
    log:
        "results/logs/detection_timeline/{video}.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/detection_timeline.py"


rule detection_timelines:
    input:
        lambda wc: expand("results/figures/detection/timeline_{video}.png", video=detection_videos("test")),
    output:
        "results/figures/detection/timelines.md",
    log:
        "results/logs/detection_timelines.log",
    localrule: True
    run:
        from pathlib import Path
        from irpipe.io import write_text
        lines = ["### Detection timelines (synthetic data unless configured otherwise)", ""]
        lines += [f"![{Path(p).stem}]({Path(p).name})" for p in input]
        write_text(output[0], "\n".join(lines) + "\n")


rule infdet_recognition:
    input:
        tracking=TRACKING,
        features="results/detection/features/recognition.h5",
        splits="results/data/recognition/splits.csv",
        # fine-tuning the I3Ds (detection.recognition.i3d: finetune) reads frames and flow
        frames=lambda wc: [frames_store("recognition", v) for v in recognition_videos()] if DET_CFG["recognition"]["i3d"] == "finetune" else [],
        flow=lambda wc: [flow_store("recognition", v) for v in recognition_videos()] if DET_CFG["recognition"]["i3d"] == "finetune" else [],
    output:
        csv="results/tables/infdet_recognition.csv",
        md="results/tables/infdet_recognition.md",
    log:
        "results/logs/infdet_recognition.log",
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


if DETECTION_ENABLED:
    ALL_TARGETS += [
        "results/tables/infdet_table3.md",
        "results/tables/infdet_table4.md",
        "results/tables/infdet_table5.md",
        "results/tables/infdet_table6.md",
        "results/figures/detection/timelines.md",
    ]
if DETECTION_ENABLED and RECOGNITION_ENABLED and DET_CFG["recognition"]["enabled"]:
    ALL_TARGETS += ["results/tables/infdet_recognition.md"]
