"""Table captions built from the validated config: every deviation from the papers that
shaped a table's numbers is named in that table's caption.

One function per table family returns the list of deviations (``*_deviations``); the
workflow scripts join them into the caption (``caption``). The config is the one the run
used (embedded default, or a preset merged over it), with the schema's defaults filled in.
Paper settings quoted here are the papers' (seed 000: InfAR, Table 1-3; seed 001: InfDet,
Tables III-V and recognition mode on InfAR).
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from .data_description import DataDescription, data_sentences

# Frames are stored as single-channel thermal images (docs/ARCHITECTURE.md): O-SIFT's
# 'auto' colour mode therefore always resolves to the pseudo-colour map.
GREY_FRAMES = True


def _synthetic(config: Mapping, name: str) -> bool:
    return config["dataset"][name]["source"] == "synthetic"


def data_deviation(config: Mapping, name: str, paper: str) -> list[str]:
    if _synthetic(config, name):
        return [f"SYNTHETIC {name} data (embedded generator), not {paper}: numbers are not comparable with the paper's"]
    return []


def splits_deviation(config: Mapping) -> list[str]:
    s = config["splits"]
    if (s["n_splits"], s["train_per_class"], s["test_per_class"]) != (5, 30, 20):
        return [f"{s['n_splits']} split(s) of {s['train_per_class']} train / {s['test_per_class']} test videos per "
                "class (paper: 5 splits of 30 / 20)"]
    return []


def osift_mode(config: Mapping) -> str:
    o = config["handcrafted"]["osift"]
    mode = o["colour_mode"]
    if mode == "auto":
        mode = "pseudo" if GREY_FRAMES else "opponent"
    if mode == "pseudo":
        return (f"O-SIFT on a pseudo-colour map (OpenCV COLORMAP_{o['colormap'].upper()}) of the grey IR frames "
                "(on grey frames the opponent channels O1, O2 are zero)")
    return "O-SIFT with the plain opponent transform of grey IR frames: O1 = O2 = 0, it degenerates to grey SIFT"


def handcrafted_deviations(config: Mapping) -> list[str]:
    hc = config["handcrafted"]
    enc, cc = hc["encoding"], hc["concepts"]
    out = data_deviation(config, "recognition", "InfAR") + splits_deviation(config)
    out.append(osift_mode(config))
    out.append(f"GMM K = {enc['gmm_components']} Gaussians per descriptor type (paper 256) on ~{enc['sample_size']:,} "
               f"sampled training descriptors (paper ~256,000), PCA to {enc['pca_fraction']:g} of the dimension")
    out.append(f"D-SIFT step {hc['dsift']['step']} px, bin sizes {list(hc['dsift']['bin_sizes'])} px; O-SIFT step "
               f"{hc['osift']['step']} px, bin sizes {list(hc['osift']['bin_sizes'])} px; {hc['n_frames']} frames per "
               "video (paper 50)")
    out.append("Fisher vectors: per-frame FVs averaged over the video, then signed sqrt + L2 (the paper's "
               "spatio-temporal pooling of frame-based FVs)" if enc["pooling"] == "frames" else
               "Fisher vectors over all of a video's descriptors at once (NOT the paper's pooling of per-frame FVs)")
    idt = hc["idt"]
    if not idt["camera_motion"]:
        out.append("IDT without camera-motion compensation")
    out.append(f"concept scores from a SUBSTITUTE concept bank ({cc['name']}, {cc['kind']}, {cc['n_concepts']} "
               "concepts) instead of the 2,784 VideoStory46K detectors (not available)")
    return out


def c3d_deviations(config: Mapping, pretrained: str | None = None) -> list[str]:
    c = config["c3d"]
    m, t = c["model"], c["train"]
    out = data_deviation(config, "recognition", "InfAR") + splits_deviation(config)
    pre = pretrained if pretrained is not None else (c["pretrained"] or "none")
    if str(pre).lower().startswith("none"):
        out.append("C3D trained from scratch (random initialisation) instead of Sports-1M pre-training")
    if (m["width_scale"], m["fc_dim"], c["dcl"]["code_dim"]) != (1.0, 4096, 4096):
        out.append(f"C3D width x{m['width_scale']:g}, fc {m['fc_dim']}, DC layer N = {c['dcl']['code_dim']} "
                   "(paper: full width, 4096, 4096)")
    if (t["optimizer"], t["lr"], t["batch_size"], t["iterations"]) != ("sgd", 1e-4, 30, 10000):
        out.append(f"{t['optimizer']} lr {t['lr']:g}, batch {t['batch_size']}, {t['iterations']} iterations "
                   "(paper: SGD lr 1e-4, batch 30, 10,000 iterations)")
    if c["dcl"]["alpha"] != 0.02:
        out.append(f"DCL alpha {c['dcl']['alpha']:g} (paper 0.02)")
    return out


def fusion_deviations(config: Mapping, pretrained: str | None = None) -> list[str]:
    f = config["fusion"]
    out = c3d_deviations(config, pretrained)
    reading = f["nn"]["two_layer"]
    out.append("two-layer NN: the two codes stacked as channels, 1x1 conv with "
               f"{f['nn']['filters']} filters mixing the streams per coordinate" if reading == "stacked" else
               f"two-layer NN: a {f['nn']['filters']}-unit hidden layer on the concatenated codes (1x1 conv on a "
               "1x1 map)")
    if f["concepts"]["enabled"]:
        out += [d for d in handcrafted_deviations(config) if d not in out]
    return out


def detection_deviations(config: Mapping, thresholds: Mapping | None = None, attrs: Mapping | None = None) -> list[str]:
    d = config["detection"]
    attrs = attrs or {}
    out = data_deviation(config, "detection", "InfDet")
    i3d = d["i3d"]
    init = [f"{s}: {attrs.get(f'{s}_init', 'random init' if i3d[f'weights_{s}'] is None else i3d[f'weights_{s}'])}"
            for s in ("ir", "flow")]
    out.append("two frozen I3D feature extractors (as in the paper's detector) "
               + ("with no pretrained weights: random initialisation" if i3d["weights_ir"] is None
                  and i3d["weights_flow"] is None else "") + f" ({'; '.join(init)})")
    if i3d["width"] != 1.0:
        out.append(f"I3D width x{i3d['width']:g} ({int(1024 * i3d['width'])}-d features; paper 1024-d)")
    thr = d["postprocess"]["threshold"]
    src = ("per-class snippet thresholds calibrated on the TRAINING videos (the paper gives th_c no value)"
           if thr == "train" else f"snippet threshold fixed at {thr:g} for every class (a value chosen here; the "
           "paper gives th_c no value)")
    if d["postprocess"]["calibrate_on"] == "validation" and thr == "train":
        src = src.replace("on the TRAINING videos", f"on the {d['train']['validation']['videos']} held-out "
                          "validation videos of the training set")
    if d["postprocess"]["method"] == "multi_threshold":
        mt = d["postprocess"]["multi_threshold"]
        src = (f"no snippet threshold: candidates are the runs above every threshold of a {mt['step']:g}-step grid, "
               f"kept by non-maximum suppression at tIoU {mt['nms_tiou']:g} (a deviation: the paper thresholds each "
               "class once)")
    elif d["postprocess"]["class_thresholds"]:
        src += f"; overrides {dict(d['postprocess']['class_thresholds'])}"
    if thresholds:
        src += "; used: " + ", ".join(f"{c} {float(t):.2f}" for c, t in thresholds.items())
    out.append(src)
    if d["postprocess"]["min_duration_factor"] != 0.5:
        out.append(f"segments shorter than {d['postprocess']['min_duration_factor']:g} x the class's mean training "
                   "duration dropped (paper 0.5)")
    if d["train"]["bce_reduction"] != "sum_classes":
        out.append("BCE averaged over classes (not summed as in eq. 12): the FEN L1 weight "
                   f"{d['fen']['loss_weight']:g} acts as C x {d['fen']['loss_weight']:g} of the paper's")
    if d["fen"]["l1_reduction"] != "mean":
        out.append("FEN L1 normalised per snippet (the public code's) instead of per flow value")
    if d["fen"]["loss_weight"] != 0.7:
        out.append(f"FEN L1 weight {d['fen']['loss_weight']:g} (paper 0.7)")
    t = d["train"]
    recipe = [f"{t['epochs']} epochs at lr {t['lr']:g}"]
    if t["lr_schedule"] != "constant" or t["warmup_epochs"]:
        recipe.append(f"{t['lr_schedule']} schedule, {t['warmup_epochs']} warm-up epochs")
    if t["crop_snippets"]:
        recipe.append(f"random {t['crop_snippets']}-snippet windows of the training videos (augmentation)")
    if t["validation"]["videos"]:
        recipe.append(f"{t['validation']['videos']} training videos held out, the epoch of best validation snippet "
                      "mAP kept (early stopping)")
    if len(recipe) > 1:
        out.append("detector training recipe beyond the paper's fixed schedule: " + "; ".join(recipe))
    out.append(f"FEN variant: {d['fen']['pretrain_epochs']} L1-only FEN epochs, then {d['fen']['joint_epochs']} joint "
               "epochs from the SCA (TV-L1) model (budget measure; the paper trains end to end)")
    if d["fen"]["width"] != 1.0:
        out.append(f"FEN width x{d['fen']['width']:g} (paper: Table I)")
    if d["head"]["hidden"] != 512 or list(d["sca"]["expand"]) != [4, 8]:
        out.append(f"head hidden {d['head']['hidden']} (public code 512), SCA selective head {list(d['sca']['expand'])} "
                   "x D (public code [4, 8])")
    out.append(f"evaluation protocol {d['eval']['protocol']}")
    return out


def detection_spread_note(config: Mapping, n_videos: int | None = None, resamples: int | None = None) -> str:
    """What the +- and the intervals of Tables III-V are: training runs per variant, and the bootstrap."""
    d = config["detection"]
    n = int(d["seeds"])
    b = int(resamples if resamples is not None else d["bootstrap"]["resamples"])
    videos = f"the {n_videos} test video{'s' if n_videos != 1 else ''}" if n_videos is not None else "the test videos"
    if n == 1:
        text = ("One training run per variant (detection.seeds: 1, the embedded default's CPU budget; "
                "presets/infdet.yaml trains 3): each mAP is that run's, with no spread over training seeds.")
        what = "the mAP"
    else:
        text = (f"Each mAP is the mean over {n} training runs per variant (seed indices 0-{n - 1}; 'late' fuses the "
                f"ir and flow runs of the same index) ± their sample standard deviation (ddof=1).")
        what = "the seed-mean mAP (the same resample applied to every run)"
    return (text + f" 90 % CI (ci90_low / ci90_high in the CSV, every mAP): 5th-95th percentile of {what} over "
            f"{b} bootstrap resamples of {videos} (drawn with replacement, a video drawn twice counts twice; the "
            "same draws for every variant). It measures test-set sampling, not training variance."
            + (" With one test video every resample is the full set: the interval has zero width and says "
               "nothing about sampling." if n_videos == 1 else ""))


def recognition_deviations(config: Mapping) -> list[str]:
    d = config["detection"]
    out = data_deviation(config, "recognition", "InfAR") + splits_deviation(config)
    i3d = d["i3d"]
    if d["recognition"]["i3d"] == "frozen":
        out.append("I3D extractors frozen (the paper fine-tunes the 3D CNNs for recognition)")
    else:
        out.append(f"I3Ds fine-tuned with the head (as the paper), lr {d['recognition']['finetune_lr']:g}, "
                   "batch-norm statistics frozen")
    if i3d["weights_ir"] is None and i3d["weights_flow"] is None:
        out.append("I3D with no pretrained weights: random initialisation")
    if i3d["width"] != 1.0:
        out.append(f"I3D width x{i3d['width']:g}")
    out.append(f"{d['recognition']['fusion']} fusion on TV-L1 flow, {d['recognition']['epochs']} epochs")
    return out


def caption(lead: str, deviations: Sequence[str], tail: str = "",
            data: Iterable[DataDescription] = ()) -> str:
    """``lead`` + 'Data: <name and counts>.' (one per dataset in ``data``, see
    :mod:`irpipe.report.data_description`) + 'Settings and deviations from the paper: a; b; c.' + ``tail``."""
    text = lead.rstrip()
    sentences = data_sentences(data)
    if sentences:
        text += " " + sentences
    if deviations:
        text += " Settings and deviations from the paper: " + "; ".join(deviations) + "."
    if tail:
        text += " " + tail.strip()
    return text
