# Two-stream C3D with the discriminative code layer (seed 000, Table 2); see docs/c3d.md.
# One training job per (stream, variant, split) plus the alpha sweep of Figure 6a; Table 2 from
# the per-video predictions. A killed training job resumes from its checkpoint.pt on re-run
# (the checkpoint is not a declared output, so Snakemake leaves it in place).

C3D = config["c3d"]
C3D_VARIANTS = ["dcl", "nodcl"]
C3D_GPU = 1 if str(C3D["device"]).startswith("cuda") else 0
C3D_SWEEP = [f"{float(a):g}" for a in C3D["alpha_sweep"]]  # alpha wildcard values: 0, 0.005, 0.02, 0.1

wildcard_constraints:
    stream="ir|flow",
    variant="dcl|nodcl",
    alpha=r"[0-9.e+-]+",

# the IR stream reads every recognition video's frame store, the flow stream its flow store
C3D_STORES = lambda wc: [
    (frames_store if wc.stream == "ir" else flow_store)("recognition", v) for v in recognition_videos()
]


rule c3d_train:
    input:
        TRACKING,
        splits="results/data/recognition/splits.csv",
        stores=C3D_STORES,
    output:
        predictions="results/c3d/{stream}_{variant}/split{split}/predictions.h5",
        model="results/c3d/{stream}_{variant}/split{split}/model.pt",
        bad="results/bad_inputs/c3d_recognition_{stream}_{variant}_split{split}.csv",
    params:
        alpha=lambda wc: 0.0 if wc.variant == "nodcl" else C3D["dcl"]["alpha"],
    log:
        "results/logs/c3d_train/{stream}_{variant}_split{split}.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=C3D_GPU,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/c3d_train.py"


# A sweep point with alpha 0 or alpha = dcl.alpha is the same job as the nodcl / dcl training of
# that stream and split (same seed, same data, same settings): it copies that job's outputs.
C3D_REUSE = lambda wc: (
    [f"results/c3d/{wc.stream}_{'nodcl' if float(wc.alpha) == 0 else 'dcl'}/split{wc.split}/{f}"
     for f in ("predictions.h5", "model.pt")]
    if float(wc.alpha) in (0.0, float(C3D["dcl"]["alpha"])) and int(wc.split) in SPLITS else []
)


rule c3d_sweep:
    input:
        TRACKING,
        splits="results/data/recognition/splits.csv",
        stores=C3D_STORES,
        reuse=C3D_REUSE,
    output:
        predictions="results/c3d/sweep/{stream}_alpha{alpha}/split{split}/predictions.h5",
        model="results/c3d/sweep/{stream}_alpha{alpha}/split{split}/model.pt",
        bad="results/bad_inputs/c3d_recognition_sweep_{stream}_alpha{alpha}_split{split}.csv",
    params:
        alpha=lambda wc: float(wc.alpha),
    log:
        "results/logs/c3d_sweep/{stream}_alpha{alpha}_split{split}.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=C3D_GPU,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/c3d_train.py"


rule table2:
    input:
        TRACKING,
        predictions=[
            f"results/c3d/{s}_{v}/split{k}/predictions.h5" for s in ["ir", "flow"] for v in C3D_VARIANTS for k in SPLITS
        ],
    output:
        csv="results/tables/table2.csv",
        md="results/tables/table2.md",
    log:
        "results/logs/table2.log",
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/c3d_table2.py"


if RECOGNITION_ENABLED and C3D["enabled"]:
    ALL_TARGETS += ["results/tables/table2.csv", "results/tables/table2.md"]
    ALL_TARGETS += [
        f"results/c3d/sweep/{C3D['sweep_stream']}_alpha{a}/split{C3D['sweep_split']}/predictions.h5"
        for a in C3D_SWEEP
    ]
