# TV-L1 optical flow between consecutive frames, per video; a summary per dataset.


localrules:
    flow_summary,


rule flow:
    input:
        TRACKING,
        frames="results/frames/{dataset}/{video}.h5",
    output:
        "results/flow/{dataset}/{video}.h5",
    log:
        "results/logs/flow/{dataset}/{video}.log",
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=120,
    script:
        "../workflow_scripts/flow.py"


rule flow_summary:
    input:
        TRACKING,
        flow=all_flow_stores,
    output:
        "results/data/{dataset}/flow_summary.csv",
    log:
        "results/logs/flow_summary/{dataset}.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/flow_summary.py"
