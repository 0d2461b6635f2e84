"""Captions name every deviation that shaped a table, for the embedded default and every
preset merged over it (as ``snakemake --configfile presets/X.yaml`` does)."""
import pytest

from irpipe.config import deep_update
from irpipe.report import captions
from irpipe.report.provenance import substitutes_from_config
from tests.conftest import preset_configs

CONFIGS = preset_configs()


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_handcrafted_caption_names_its_deviations(name):
    cfg = CONFIGS[name]
    hc = cfg["handcrafted"]
    text = captions.caption("Table 1.", captions.handcrafted_deviations(cfg))
    assert f"K = {hc['encoding']['gmm_components']} Gaussians" in text
    assert f"D-SIFT step {hc['dsift']['step']} px" in text
    assert "SUBSTITUTE concept bank" in text and hc["concepts"]["name"] in text
    if hc["osift"]["colour_mode"] in ("auto", "pseudo"):
        assert f"pseudo-colour map (OpenCV COLORMAP_{hc['osift']['colormap'].upper()})" in text
    assert ("per-frame FVs averaged" in text) == (hc["encoding"]["pooling"] == "frames")
    assert ("SYNTHETIC" in text) == (cfg["dataset"]["recognition"]["source"] == "synthetic")


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_detection_captions_name_their_deviations(name):
    cfg = CONFIGS[name]
    d = cfg["detection"]
    text = captions.caption("Tables III-V.", captions.detection_deviations(cfg))
    assert "frozen I3D" in text
    if d["i3d"]["weights_ir"] is None:
        assert "random init" in text
    thr = d["postprocess"]["threshold"]
    if d["postprocess"]["method"] == "multi_threshold":   # no threshold at all: the deviation is named
        assert "no snippet threshold" in text and "non-maximum suppression" in text and "paper thresholds" in text
        assert "calibrated on" not in text
    else:
        assert ("calibrated on the TRAINING videos" in text) if thr == "train" else (f"fixed at {thr:g}" in text)
        assert "the paper gives th_c no value" in text
    t = d["train"]
    opted_in = t["validation"]["videos"] or t["crop_snippets"] or t["lr_schedule"] != "constant"
    assert bool(opted_in) == ("detector training recipe beyond the paper's fixed schedule" in text)
    assert ("BCE averaged over classes" in text) == (d["train"]["bce_reduction"] == "mean")
    assert ("SYNTHETIC" in text) == (cfg["dataset"]["detection"]["source"] == "synthetic")
    rec = captions.caption("Recognition.", captions.recognition_deviations(cfg))
    if d["recognition"]["i3d"] == "frozen":
        assert "I3D extractors frozen (the paper fine-tunes" in rec
    else:
        assert "I3Ds fine-tuned with the head" in rec
    assert (d["recognition"]["i3d"] == "finetune") == (name == "infdet.yaml")


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_detection_tables_say_how_many_seeds_and_what_the_spread_is(name):
    cfg = CONFIGS[name]
    n = cfg["detection"]["seeds"]
    assert n == {"config.yaml": 1, "infdet.yaml": 3, "tiny.yaml": 2}.get(name, n)
    text = captions.detection_spread_note(cfg, n_videos=4, resamples=1000)
    assert "1000 bootstrap resamples of the 4 test videos" in text and "5th-95th percentile" in text
    one = captions.detection_spread_note(cfg, n_videos=1, resamples=10)
    assert "10 bootstrap resamples of the 1 test video (" in one and "zero width" in one and "zero width" not in text
    if n == 1:
        assert "One training run per variant" in text and "±" not in text and "seed-mean" not in text
    else:
        assert f"mean over {n} training runs" in text and "± their sample standard deviation (ddof=1)" in text
        assert "seed-mean mAP (the same resample applied to every run)" in text


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_c3d_and_fusion_captions(name):
    cfg = CONFIGS[name]
    c = cfg["c3d"]
    t2 = captions.caption("Table 2.", captions.c3d_deviations(cfg))
    assert ("from scratch" in t2) == (c["pretrained"] is None)
    t3 = captions.caption("Table 3.", captions.fusion_deviations(cfg))
    assert "two-layer NN" in t3 and f"{cfg['fusion']['nn']['filters']}" in t3
    if cfg["fusion"]["concepts"]["enabled"]:
        assert "SUBSTITUTE concept bank" in t3


def test_deviations_follow_the_config():
    cfg = CONFIGS["config.yaml"]
    alt = deep_update(cfg, {"handcrafted": {"osift": {"colour_mode": "opponent"}, "encoding": {"pooling": "video"}},
                            "detection": {"postprocess": {"threshold": 0.3}, "train": {"bce_reduction": "mean"}}})
    hc = " ".join(captions.handcrafted_deviations(alt))
    assert "degenerates to grey SIFT" in hc and "NOT the paper's pooling" in hc
    det = " ".join(captions.detection_deviations(alt, thresholds={"drop": 0.3}))
    assert "fixed at 0.3" in det and "C x 0.7" in det and "used: drop 0.30" in det


def test_provenance_names_the_pseudo_colour_map():
    # the check used to look for a config key named '*pseudo*', which does not exist
    subs = substitutes_from_config(CONFIGS["config.yaml"])
    assert any("pseudo-colour map (COLORMAP_JET)" in s for s in subs)
    off = deep_update(CONFIGS["config.yaml"], {"handcrafted": {"osift": {"colour_mode": "opponent"}}})
    assert not any("pseudo-colour" in s for s in substitutes_from_config(off))
