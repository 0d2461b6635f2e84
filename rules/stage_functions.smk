# Input functions and constants of the stage files, kept apart from their rules (snakemake --lint).


# --- fusion ---
FUSION_FIG_EXTS = config["fusion"]["figures"]["formats"]
# The stage needs the C3D stage (and, for the concept row, the hand-crafted stage) in this
# workflow: a section absent from the config means that stage is not part of this build.
FUSION_ENABLED = (RECOGNITION_ENABLED and "c3d" in config and config["c3d"].get("enabled", True))
FUSION_CONCEPTS = (config["fusion"]["concepts"]["enabled"] and "handcrafted" in config
                   and config["handcrafted"].get("enabled", True))


def fusion_predictions(stream, split):
    return f"results/c3d/{stream}_{config['fusion']['variant']}/split{split}/predictions.h5"


def fusion_figure_paths(name):
    return [f"results/figures/{name}.{ext}" for ext in FUSION_FIG_EXTS]


def fusion_figure_outputs(name, caption, title):
    return [report(f"results/figures/{name}.{ext}", caption=caption, category="Figures",
                   subcategory="Seed 000", labels={"figure": title, "format": ext})
            for ext in FUSION_FIG_EXTS]


def fusion_sweep_alphas():
    return [float(a) for a in config.get("c3d", {}).get("alpha_sweep", [])]


def fusion_alpha_str(a):
    # The C3D stage names sweep folders with f"{alpha:g}" (0 -> "0", 0.02 -> "0.02").
    return f"{float(a):g}"


def fusion_split_inputs(wildcards):
    inputs = {
        "ir": fusion_predictions("ir", wildcards.split),
        "flow": fusion_predictions("flow", wildcards.split),
        "splits": "results/data/recognition/splits.csv",
        "tracking": TRACKING,
    }
    if FUSION_CONCEPTS:
        inputs["posteriors"] = f"results/handcrafted/split{wildcards.split}/posteriors.h5"
    return inputs




# --- report ---
REPORT_OWN_PREFIXES = ("results/report/", "results/tables/bad_inputs")


def report_upstream_targets(wildcards=None):
    return [t for t in ALL_TARGETS if not str(t).startswith(REPORT_OWN_PREFIXES)]


def report_views(wildcards=None):
    annotated = globals().get("REPORT_ANNOTATED", set())
    views = []
    for t in report_upstream_targets():
        t = str(t)
        if t in annotated:
            continue
        folder, base = os.path.split(t)
        stem, _, ext = base.rpartition(".")
        if folder == "results/tables" and ext == "csv":
            views.append(f"results/report/tables/{stem}.html")
        elif folder == "results/figures" and ext in ("png", "svg", "pdf", "jpg", "jpeg"):
            views.append(f"results/report/figures/{base}")
    return views


def report_fusion_scores(wildcards=None):
    if not FUSION_ENABLED:
        return []
    return expand("results/fusion/split{split}/scores.h5", split=SPLITS)




# --- detection ---
DET_CFG = config["detection"]
DET_TABLE_VARIANTS = ["ir", "flow", "late", "ir_sa", "ca", "sca_tvl1", "sca_fen", "min", "max", "concat"]


def det_features_inputs(wildcards):
    vids = dataset_videos(wildcards.dataset)
    return {
        "frames": [frames_store(wildcards.dataset, v) for v in vids],
        "flow": [flow_store(wildcards.dataset, v) for v in vids],
    }


def det_variant_inputs(wildcards):
    base = {
        "tracking": TRACKING,
        "manifest": "results/data/detection/manifest.csv",
        "annotations": "results/data/detection/annotations.csv",
        "ambiguous": "results/data/detection/ambiguous.csv",
        "classes": "results/data/detection/classes.txt",
    }
    v = wildcards.variant
    if v == "late":
        base["ir_scores"] = "results/detection/variants/ir/scores.npz"
        base["flow_scores"] = "results/detection/variants/flow/scores.npz"
        return base
    base["features"] = "results/detection/features/detection.h5"
    if v == "sca_fen":
        vids = detection_videos()
        base["init"] = "results/detection/variants/sca_tvl1/summary.json"
        base["frames"] = [frames_store("detection", x) for x in vids]
        base["flow"] = [flow_store("detection", x) for x in vids]
    return base


# ---- flow shards (flow.videos_per_job > 1)
FLOW_VIDEOS_PER_JOB = int(config["flow"]["videos_per_job"])
FLOW_GPU = 1 if str(config["flow"]["device"]).startswith("cuda") else 0


def flow_shards(dataset):
    """The dataset's videos in sorted order, cut into shards of flow.videos_per_job."""
    videos = sorted(dataset_videos(dataset))
    n = FLOW_VIDEOS_PER_JOB
    return [videos[i:i + n] for i in range(0, len(videos), n)]


def flow_shard_frame_stores(wildcards):
    shards = flow_shards(wildcards.dataset)
    return [frames_store(wildcards.dataset, v) for v in shards[int(wildcards.shard)]]


def flow_shard_of_video(wildcards):
    index = sorted(dataset_videos(wildcards.dataset)).index(wildcards.video) // FLOW_VIDEOS_PER_JOB
    return f"results/flow/{wildcards.dataset}/shards/shard{index}"


def link_from_shard(shard_dir, video, out_path, log_path):
    """Put the shard job's store of one video in its per-video place (a hard link)."""
    link_or_copy(f"{shard_dir}/{video}.h5", out_path)
    with open(log_path, "w") as fh:
        fh.write(f"{out_path}: computed by the job of {shard_dir}\n")
