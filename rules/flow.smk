# TV-L1 optical flow between consecutive frames, per video; a summary per dataset.
# flow.videos_per_job > 1: one job per shard of videos computes their flow with one backend
# (the GPU path: no re-initialisation per video); per-video jobs then link each store into place.


localrules:
    flow_summary,


if FLOW_VIDEOS_PER_JOB == 1:

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
            gpu=FLOW_GPU,
        script:
            "../workflow_scripts/flow.py"

else:

    rule flow_shard:
        input:
            TRACKING,
            frames=flow_shard_frame_stores,
        output:
            directory("results/flow/{dataset}/shards/shard{shard}"),
        log:
            "results/logs/flow_shard/{dataset}/shard{shard}.log",
        conda:
            CONDA_ENV
        resources:
            mem_mb=8000,
            runtime=600,
            gpu=FLOW_GPU,
        script:
            "../workflow_scripts/flow_shard.py"

    rule flow:
        input:
            shard=flow_shard_of_video,
        output:
            "results/flow/{dataset}/{video}.h5",
        log:
            "results/logs/flow/{dataset}/{video}.log",
        localrule: True
        run:
            link_from_shard(input.shard, wildcards.video, output[0], log[0])


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
