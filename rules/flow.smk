# TV-L1 optical flow between consecutive frames, one job per shard of videos (sharding.videos_per_job):
# the backend is built once per job (for the torch backend: solver, device context, compiled kernels),
# one flow store per video in the shard's folder; a summary per dataset.


localrules:
    flow_summary,


rule flow:
    input:
        TRACKING,
        frames=W.shard_frames,
        sizes="results/data/{dataset}/sizes.json",
    output:
        directory("results/flow/{dataset}/{shard}"),
    params:
        settings=W.settings_digest("flow"),
    log:
        "results/logs/flow/{dataset}/{shard}.log",
    benchmark:
        "results/benchmarks/flow/{dataset}/{shard}.tsv"
    priority: 1  # the flow stream's C3D jobs and the I3D features wait for every shard (rules/data.smk)
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=W.flow_gpu,
    script:
        "../workflow_scripts/flow.py"


rule flow_summary:
    input:
        TRACKING,
        flow=W.dataset_flow,
        manifest=W.dataset_manifest,
    output:
        summary="results/data/{dataset}/flow_summary.csv",
        bound="results/data/{dataset}/flow_bound.json",
    log:
        "results/logs/flow_summary/{dataset}.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/flow_summary.py"
