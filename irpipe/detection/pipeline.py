"""Stage entry points called by the workflow scripts (one function per rule)."""
from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..checkpoints import load_checkpoint
from ..errors import BadInput, ConfigError, bad_inputs_frame
from ..eval.bootstrap import BootstrapResult, bootstrap_detection
from ..eval.detection import evaluate, write_thumos_detections, write_thumos_gt
from ..io import atomic_path, write_csv, write_json, write_npz, write_text
from .data import class_mean_durations, snippet_targets, validate_videos
from .features import read_feature_attrs, read_features
from .naive import VARIANT as NAIVE
from .naive import naive_variant_scores
from .postprocess import (
    DETECTION_COLUMNS,
    calibrate_thresholds,
    class_thresholds,
    detect,
    detect_multi_threshold,
    multi_threshold_grid,
)
from .training import Clip, held_out_ids, predict, train_fen_variant, train_variant, validation_split

log = logging.getLogger(__name__)

# variant -> (model fusion, flow source)
VARIANTS = {
    "ir": "ir", "flow": "flow", "ir_sa": "ir_sa", "ca": "ca", "sca_tvl1": "sca",
    "min": "min", "max": "max", "concat": "concat", "sca_fen": "sca", "late": None, "naive": None,
}
SEED_OFFSET = 600
SEED_STRIDE = 1000      # training seed index k (detection.seeds) trains with seed + SEED_OFFSET + SEED_STRIDE * k
BOOTSTRAP_OFFSET = 900  # the bootstrap's draws: seed + BOOTSTRAP_OFFSET, the same for every variant and seed index


def training_seed(seed: int, seed_index: int = 0) -> int:
    """The seed a trained variant's run of index ``seed_index`` (0..detection.seeds-1) uses."""
    return int(seed) + SEED_OFFSET + SEED_STRIDE * int(seed_index)


def read_classes(path) -> list[str]:
    """Class names in label-index order from a manifest's ``classes.txt`` (``id name`` lines)."""
    from ..data.datasets import read_classes_file

    return read_classes_file(path)


def read_class_ids(path) -> dict[str, int]:
    """Class name -> THUMOS id as the class list states it (not necessarily 1..C: a dataset's
    own detclasslist.txt keeps its ids), for detection files the official toolkit reads."""
    from ..data.datasets import read_classes_file

    ids = [int(line.split(None, 1)[0]) for line in Path(path).read_text().splitlines() if line.strip()]
    return dict(zip(read_classes_file(path), ids))


def load_items(manifest_csv, annotations_csv, classes, policy, bad: list[BadInput]):
    man = pd.read_csv(manifest_csv, dtype={"video_id": str})
    ann = pd.read_csv(annotations_csv, dtype={"video_id": str})
    items = validate_videos(man, ann, classes, policy, bad, source=str(annotations_csv))
    return items, ann


def make_clips(items, feats, n_classes, subset, with_targets=True) -> list[Clip]:
    out = []
    for vid, it in sorted(items.items()):
        if it.subset != subset or vid not in feats:
            continue
        f = feats[vid]
        y = snippet_targets(it.instances, it.n_frames, it.fps, n_classes) if with_targets else None
        if y is not None and y.shape[1] != f["ir"].shape[0]:
            raise ValueError(f"{vid}: {f['ir'].shape[0]} feature snippets but {y.shape[1]} target snippets")
        out.append(Clip(vid, f["ir"].T, f["flow_tvl1"].T, y, it.n_frames))
    return out


def run_variant(variant: str, cfg: Mapping, seed: int, policy: str, paths: Mapping, out_dir, run=None,
                seed_index: int = 0) -> dict:
    """Train (or fuse) one variant, score the test videos, post-process and evaluate.

    ``paths``: manifest, annotations, ambiguous (optional), classes, features, frames and flow
    (video id -> store, for 'sca_fen'), for 'late' ir_scores / flow_scores, for 'sca_fen' init (the
    sca_tvl1 model); ``model`` (trained variants; default ``out_dir/model.pt``) where the final model
    is written and ``bad``
    where the bad-input table goes. Training resumes from ``out_dir/checkpoint.pt``.

    ``seed_index``: which of the ``detection.seeds`` training runs this is (:func:`training_seed`).
    ``eval.csv`` carries, beside each AP and mAP, its bootstrap 90 % interval over the test
    videos (``ci90_low``, ``ci90_high``; :func:`bootstrap_detections`)."""
    t0 = time.time()
    out_dir = Path(out_dir)
    classes = read_classes(paths["classes"])
    bad: list[BadInput] = []
    items, ann = load_items(paths["manifest"], paths["annotations"], classes, policy, bad)
    log_fn = (lambda k, v, s: run.log_metrics({k: v}, step=s)) if run is not None else None
    info: dict = {"variant": variant, "seed_index": int(seed_index)}
    n_val = int(cfg["train"]["validation"]["videos"])  # training videos held out (early stopping, calibration)
    test_items = {v: it for v, it in items.items() if it.subset == cfg["test_subset"]}
    if variant == "late":
        a, b = np.load(paths["ir_scores"]), np.load(paths["flow_scores"])
        scores = {v: (a[v] + b[v]) / 2 for v in a.files}
    elif variant == NAIVE:
        seed_v = training_seed(seed, seed_index)
        info["training_seed"] = seed_v
        held = held_out_ids([v for v, it in items.items() if it.subset == cfg["train_subset"]], n_val, seed_v)
        scores, ninfo = naive_variant_scores(items, len(classes), cfg, paths["frames"], cfg["frame_size"], seed_v,
                                             exclude=held)
        info.update(ninfo)
    else:
        feats = read_features(paths["features"])
        info["feature_attrs"] = {k: v for k, v in read_feature_attrs(paths["features"]).items()}
        train = make_clips(items, feats, len(classes), cfg["train_subset"])
        test = make_clips(items, feats, len(classes), cfg["test_subset"], with_targets=False)
        if not train or not test:
            raise ValueError(f"variant {variant}: {len(train)} training and {len(test)} test videos with features")
        seed_v = training_seed(seed, seed_index)
        info["training_seed"] = seed_v
        if variant == "sca_fen":
            init = load_checkpoint(paths["init"])["model"] if paths.get("init") else None
            fit, val = validation_split(train, n_val, seed_v)  # as the sca_tvl1 model it starts from
            scores, finfo = train_fen_variant(fit, list(val) + list(test), len(classes), cfg, seed_v, paths["frames"],
                                              paths["flow"], cfg["frame_size"], paths["bound"], init,
                                              ckpt_path=out_dir / "checkpoint.pt", log_fn=log_fn)
            info.update(finfo)
        else:
            fit_info: dict = {}
            model, stats = train_variant(VARIANTS[variant], train, len(classes), cfg, seed_v,
                                         ckpt_path=out_dir / "checkpoint.pt", log_fn=log_fn, summary=fit_info)
            info.update(fit_info)
            scores = predict(model, list(train) + list(test), stats)  # train scores calibrate thresholds
            info["parameters"] = int(sum(p.numel() for p in model.parameters()))
            if hasattr(model.attn, "last_w"):
                info["sca_w_last"] = float(model.attn.last_w.mean())
        # the finished model, as the next variant (sca_fen) loads it
        with atomic_path(paths.get("model") or out_dir / "model.pt", suffix=".tmp.pt") as tmp:
            shutil.copyfile(out_dir / "checkpoint.pt", tmp)
    write_npz(out_dir / "scores.npz", **scores)  # every video: train and test
    train_items = {v: it for v, it in items.items() if it.subset == cfg["train_subset"] and v in scores}
    multi = cfg["postprocess"]["method"] == "multi_threshold"
    calibration = {} if multi else calibration_videos(train_items, cfg, training_seed(seed, seed_index))
    thresholds = {} if multi else resolve_thresholds(scores, calibration, ann, classes, cfg)
    det = postprocess_and_write(scores, test_items, ann, classes, cfg, out_dir, thresholds,
                                class_ids=read_class_ids(paths["classes"]))
    res = evaluate_detections(det, ann, paths.get("ambiguous"), classes, cfg)
    info["thresholds"] = thresholds
    pp = cfg["postprocess"]
    if multi:
        info["threshold_source"] = "none: multi-threshold grouping + NMS"
    elif pp["threshold"] != "train":
        info["threshold_source"] = "config"
    else:
        info["threshold_source"] = ("calibrated on the held-out validation videos" if pp["calibrate_on"] == "validation"
                                    else "calibrated on the training videos")
    info["calibration_videos"] = sorted(calibration)
    boot = bootstrap_detections([det], ann, paths.get("ambiguous"), classes, cfg, sorted(test_items), seed)
    if not np.allclose(boot.full_map[0], res.map, atol=1e-9):  # the same evaluation, two code paths
        raise AssertionError(f"bootstrap full-set mAP {boot.full_map[0]} != evaluated mAP {res.map}")
    table = with_intervals(res.table(), boot)
    table.insert(0, "variant", variant)
    table.insert(1, "seed", int(seed_index))
    write_csv(out_dir / "eval.csv", table)
    info["test_videos"] = sorted(test_items)
    info["bootstrap"] = {"resamples": boot.n_resamples, "seed": boot.seed, "videos": len(boot.videos)}
    info.update({"map": dict(zip([f"{t:.1f}" for t in res.thresholds], res.map.round(6).tolist())),
                 "excluded_classes": res.excluded, "n_detections": int(len(det)),
                 "wall_s": round(time.time() - t0, 2)})
    write_json(out_dir / "summary.json", info)
    if run is not None:
        run.log_metrics({f"map_{t:.1f}": float(m) for t, m in zip(res.thresholds, res.map)})
        run.log_metrics({"wall_s": info["wall_s"], "n_detections": len(det)})
    write_csv(paths.get("bad") or out_dir / "bad_inputs.csv", bad_inputs_frame(bad))
    return info


def calibration_videos(train_items: Mapping, cfg: Mapping, training_seed_: int) -> dict:
    """The training videos whose scores calibrate the thresholds: every one, or
    (``postprocess.calibrate_on: validation``) those the training held out, whose scores are not
    fitted (a model's own training videos score higher than unseen ones: thresholds calibrated
    on them are too high)."""
    if cfg["postprocess"]["calibrate_on"] != "validation":
        return dict(train_items)
    n_val = int(cfg["train"]["validation"]["videos"])
    if n_val <= 0:
        raise ConfigError("detection.postprocess.calibrate_on: validation needs detection.train.validation.videos "
                          "> 0 (the held-out training videos to calibrate on)")
    return {v: train_items[v] for v in held_out_ids(list(train_items), n_val, training_seed_)}


def resolve_thresholds(scores, train_items, ann, classes, cfg) -> dict[str, float]:
    """The per-class thresholds: from the config, or calibrated on the training videos."""
    pcfg = cfg["postprocess"]
    if pcfg["threshold"] != "train":
        return class_thresholds(classes, pcfg["threshold"], pcfg.get("class_thresholds"))
    durations = class_mean_durations(ann, classes, cfg["train_subset"])
    train_ids = set(train_items)
    gt = ann[(ann["subset"] == cfg["train_subset"]) & ann["video_id"].isin(train_ids)]
    ecfg = cfg["eval"]

    def class_ap(det: pd.DataFrame) -> np.ndarray:
        res = evaluate(gt[["video_id", "label", "t_start", "t_end"]], det, classes, ecfg["tiou"], ecfg["protocol"],
                       missing_gt="exclude")
        return res.ap.mean(axis=0)

    thr = calibrate_thresholds(scores, {v: (it.n_frames, it.fps) for v, it in train_items.items()}, classes,
                               durations, class_ap, pcfg["min_duration_factor"])
    thr.update({c: float(t) for c, t in (pcfg.get("class_thresholds") or {}).items()})  # explicit ones win
    log.info("thresholds calibrated on %d training videos: %s", len(train_items), thr)
    return thr


def postprocess_and_write(scores, test_items, ann, classes, cfg, out_dir, thresholds,
                          class_ids: dict[str, int] | None = None) -> pd.DataFrame:
    pcfg = cfg["postprocess"]
    durations = class_mean_durations(ann, classes, cfg["train_subset"])
    frames = []
    for vid, it in sorted(test_items.items()):
        if pcfg["method"] == "multi_threshold":
            frames.append(detect_multi_threshold(scores[vid], it.n_frames, it.fps, classes, durations, vid,
                                                 pcfg["min_duration_factor"], multi_threshold_grid(pcfg),
                                                 pcfg["multi_threshold"]["nms_tiou"]))
        else:
            frames.append(detect(scores[vid], it.n_frames, it.fps, classes, thresholds, durations, vid,
                                 pcfg["min_duration_factor"]))
    det = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=DETECTION_COLUMNS)
    write_csv(Path(out_dir) / "detections.csv", det)
    write_thumos_detections(Path(out_dir) / "detections_thumos.txt", det,
                            class_ids or {c: i + 1 for i, c in enumerate(classes)})
    return det


def _test_truth(ann, ambiguous_csv, cfg) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The test subset's ground truth (video_id, label, t_start, t_end) and its Ambiguous segments
    (None without an Ambiguous table)."""
    gt = ann[ann["subset"] == cfg["test_subset"]]
    amb = None
    if ambiguous_csv and Path(ambiguous_csv).exists():
        a = pd.read_csv(ambiguous_csv, dtype={"video_id": str})
        amb = a[a["subset"] == cfg["test_subset"]] if "subset" in a else a
    return gt[["video_id", "label", "t_start", "t_end"]], amb


def evaluate_detections(det, ann, ambiguous_csv, classes, cfg):
    ecfg = cfg["eval"]
    gt, amb = _test_truth(ann, ambiguous_csv, cfg)
    return evaluate(gt, det, classes, ecfg["tiou"], ecfg["protocol"], ambiguous=amb, missing_gt=ecfg["missing_gt"])


def bootstrap_detections(dets, ann, ambiguous_csv, classes, cfg, videos, seed: int) -> BootstrapResult:
    """Bootstrap over the test videos of one or more sets of test detections (one per seed index),
    on the ground truth and Ambiguous segments :func:`evaluate_detections` uses."""
    ecfg = cfg["eval"]
    gt, amb = _test_truth(ann, ambiguous_csv, cfg)
    if ecfg["protocol"] != "thumos14":
        amb = None  # evaluate() uses Ambiguous segments under thumos14 only
    return bootstrap_detection(gt, dets, classes, ecfg["tiou"],
                               ecfg["protocol"], ambiguous=amb, videos=videos,
                               n_resamples=cfg["bootstrap"]["resamples"], seed=int(seed) + BOOTSTRAP_OFFSET)


def with_intervals(table: pd.DataFrame, boot: BootstrapResult) -> pd.DataFrame:
    """``ci90_low`` / ``ci90_high`` beside every AP and mAP row of an evaluation's long table."""
    ap_ci, map_ci = boot.ap_interval(), boot.map_interval()
    t_index = {round(float(t), 9): i for i, t in enumerate(boot.thresholds)}
    c_index = {c: i for i, c in enumerate(boot.classes)}
    lo, hi = [], []
    for t, c in zip(table["tiou"], table["class"]):
        ti = t_index[round(float(t), 9)]
        pair = map_ci[ti] if c == "mAP" else ap_ci[ti, c_index[c]]
        lo.append(float(pair[0]))
        hi.append(float(pair[1]))
    table = table.copy()
    pos = list(table.columns).index("ap") + 1
    table.insert(pos, "ci90_low", lo)
    table.insert(pos + 1, "ci90_high", hi)
    return table


def write_gt_files(annotations_csv, classes_txt, ambiguous_csv, out_dir, subset="test") -> None:
    """THUMOS14-style ground truth of the test subset (for the evaluator and the toolkit)."""
    ann = pd.read_csv(annotations_csv, dtype={"video_id": str})
    classes = read_classes(classes_txt)
    write_thumos_gt(out_dir, ann[ann["subset"] == subset], classes, subset="test")
    write_text(Path(out_dir) / "detclasslist.txt", Path(classes_txt).read_text())
    lines = []
    if ambiguous_csv and Path(ambiguous_csv).exists():
        a = pd.read_csv(ambiguous_csv, dtype={"video_id": str})
        a = a[a["subset"] == subset] if "subset" in a else a
        lines = [f"{r.video_id} {r.t_start:.3f} {r.t_end:.3f}" for r in a.itertuples(index=False)]
    write_text(Path(out_dir) / "Ambiguous_test.txt", "\n".join(lines) + ("\n" if lines else ""))
