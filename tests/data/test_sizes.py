"""Frame sizes: resize specs, per-stage minimum sizes (known answers checked against the code that
would fail), the auto choice and the feasibility check, on generated native 8x8, 16x16 and 32x24
sensor videos."""
from __future__ import annotations

import copy

import cv2
import h5py
import numpy as np
import pytest

from irpipe import size_plan
from irpipe.config import load_config
from irpipe.data import sizes
from irpipe.data.datasets import recognition_manifest
from irpipe.data.frames import extract_frames, resize_copy
from irpipe.data.video import resize_frames
from irpipe.errors import BadInputError, ConfigError
from tests.conftest import REPO, textured, write_video


@pytest.fixture(scope="module")
def cfg():
    return load_config(REPO / "config.yaml")


def with_(config, **dotted):
    out = copy.deepcopy(config)
    for k, v in dotted.items():
        sizes._set(out, k.replace("__", "."), v)
    return out


# ------------------------------------------------------------------------------ resize specs

def test_resize_specs_keep_aspect_or_size():
    short = sizes.parse_resize("hc", {"short_side": 64})
    assert short.size_for(16, 16) == (64, 64)          # square sensor stays square
    assert short.size_for(24, 32) == (64, 85)          # 4:3 (MLX90640 32x24): 32*64/24 = 85.3
    assert short.size_for(32, 24) == (85, 64)          # portrait: the width is the short side
    assert sizes.parse_resize("a", [64, None]).size_for(24, 32) == (64, 85)
    assert sizes.parse_resize("a", [None, 64]).size_for(24, 32) == (48, 64)
    assert sizes.parse_resize("c3d", [128, 171]).size_for(16, 16) == (128, 171)
    with pytest.raises(ConfigError, match=r"frames.resize.a"):
        sizes.parse_resize("a", [None, None])
    with pytest.raises(ConfigError, match="reserved"):
        sizes.parse_resize("auto", [64, 64])


def test_schema_accepts_short_side_forms_and_rejects_auto_name(cfg):
    from irpipe.config import validate_config

    raw = {"frames": {"resize": {"a": {"short_side": 64}, "b": [64, None], "c": [128, 171]}}}
    validate_config(copy.deepcopy(raw))
    for bad in ({"auto": [64, 64]}, {"a": {"short_side": 4}}, {"a": {"side": 64}}):
        with pytest.raises(Exception):
            validate_config({"frames": {"resize": bad}})


@pytest.mark.parametrize("src,dst", [((96, 128), (64, 86)), ((16, 16), (64, 86)), ((64, 80), (64, 80)),
                                     ((60, 100), (64, 86))])
def test_resize_copy_is_byte_identical_to_the_old_rule(src, dst):
    frames = np.stack([textured(*src, seed=i) for i in range(3)])
    new, used = resize_copy(frames, *dst, up="linear", down="area")
    assert np.array_equal(new, resize_frames(frames, *dst))
    assert used == sizes.interpolation_for(src, dst, "linear", "area")


def test_upscale_interpolation_is_the_configured_one():
    frames = textured(8, 8)[None]
    cubic, used = resize_copy(frames, 64, 64, up="cubic", down="area")
    assert used == "cubic"
    assert np.array_equal(cubic[0], cv2.resize(frames[0], (64, 64), interpolation=cv2.INTER_CUBIC))
    linear, _ = resize_copy(frames, 64, 64, up="linear", down="area")
    assert not np.array_equal(cubic, linear)
    assert resize_copy(frames, 4, 4, up="cubic", down="area")[1] == "area"


# ------------------------------------------------------------------------- stage minimums

def test_dsift_minimum_is_three_largest_bins_plus_one_and_matches_vlfeat():
    from irpipe.features.dsift import dense_sift_channels

    req = size_plan.sift_requirement("D-SIFT", {"bin_sizes": [4, 6, 8]})
    assert req.min_short_side(full=True) == 3 * 8 + 1
    assert req.min_short_side(full=False) == 3 * 4 + 1 + 6     # smallest bin at its offset floor(1.5*(8-4))
    img = textured(40, 40).astype(np.float32)[None] / 255
    for side in (24, 25):
        pos, _, _ = dense_sift_channels(img[:, :side, :side], 8, [4, 6, 8])
        got = sorted(set(pos[:, 2].astype(int)))
        assert (got == [4, 6, 8]) == req.check(side, side)[1]


def test_idt_minimum_is_the_patch_and_extract_idt_agrees():
    from irpipe.features.idt import extract_idt

    req = size_plan.idt_requirement({})
    assert req.min_short_side() == 32
    assert size_plan.idt_requirement({"patch_size": 16}).min_short_side() == 16
    frames = np.stack([textured(31, 40, seed=i) for i in range(17)])
    with pytest.raises(BadInputError, match="smaller than the 32px"):
        extract_idt(frames, {})


def test_tvl1_minimum_builds_the_whole_pyramid():
    from irpipe.flow.tvl1 import pyramid_sizes

    req = size_plan.tvl1_requirement({"nscales": 5, "scale_step": 0.8})
    # 39 -> 31 -> 25 -> 20 -> 16; 38 -> 30 -> 24 -> 19 -> 15 (< 16: four levels)
    assert req.min_short_side() == 39
    assert len(pyramid_sizes(38, 50, 5, 0.8)) == 4 and len(pyramid_sizes(39, 50, 5, 0.8)) == 5
    assert size_plan.tvl1_requirement({"nscales": 1, "scale_step": 0.8}).min_short_side() == 1
    assert req.check(16, 16)[0]                         # OpenCV still runs, with one level


def test_c3d_minimum_from_crop_and_poolings():
    import torch

    from irpipe.models.c3d import C3D, C3DSpec

    free = size_plan.c3d_requirement({"clips": {"clip_len": 16, "crop": None}})
    # crop = round(0.875 h) must reach 16 (four 2x spatial poolings): h = 18 gives 16, h = 17 gives 15
    assert free.min_short_side() == 18
    assert size_plan.c3d_requirement({"clips": {"clip_len": 16, "crop": 112}}).min_short_side() == 112
    assert not free.check(18, 15)[0]                    # crop 16 wider than a 15-px frame
    net = C3D(C3DSpec(n_classes=2, width_scale=1 / 32, fc_dim=8, crop=16))
    assert net(torch.zeros(1, 3, 16, 16, 16))["logits"].shape == (1, 2)
    with pytest.raises(ValueError):
        C3DSpec(crop=15).pool5_shape()


def test_i3d_spatial_stride():
    assert size_plan.i3d_spatial_stride(0.25) == 32
    req = size_plan.i3d_requirement({"i3d": {"width": 0.25}})
    assert req.min_short_side() == 32 and req.check(16, 16)[:2] == (True, False)


# ------------------------------------------------------------------------ plan / feasibility

def test_embedded_default_keeps_its_sizes(cfg):
    rec = size_plan.plan_sizes(cfg, "recognition", [96] * 4, [128] * 4)["keys"]
    assert rec["handcrafted.frames_size"]["chosen"] is None          # original frames, as before auto
    assert rec["c3d.frame_size"]["size"] == [64, 86] and rec["flow.recognition_size"]["chosen"] == "c3d"
    det = size_plan.plan_sizes(cfg, "detection", [64] * 3, [80] * 3)["keys"]
    assert det["detection.frame_size"]["chosen"] == "i3d"


def test_auto_picks_the_smallest_fitting_copy(cfg):
    c = with_(cfg, frames__resize={"c3d": [64, 86], "s24": {"short_side": 24}, "s40": {"short_side": 40},
                                   "big": [128, 171]},
              frames__recognition_sizes=["big", "c3d", "s24", "s40"], flow__recognition_size="auto",
              c3d__frame_size="auto")
    keys = size_plan.plan_sizes(c, "recognition", [16] * 5, [16] * 5)["keys"]
    assert keys["handcrafted.frames_size"]["chosen"] == "s40"         # IDT needs 32: s24 too small
    assert keys["handcrafted.frames_size"]["interpolation"] == "linear"
    assert keys["c3d.frame_size"]["chosen"] == "s24"                  # C3D needs 18
    assert keys["flow.recognition_size"]["chosen"] == "s40"           # full TV-L1 pyramid needs 39


def test_explicit_original_on_16x16_is_a_config_error_naming_the_key(cfg):
    c = with_(cfg, handcrafted__frames_size=None)
    with pytest.raises(ConfigError) as err:
        size_plan.plan_sizes(c, "recognition", [16] * 5, [16] * 5)
    msg = str(err.value)
    assert "handcrafted.frames_size" in msg and "set handcrafted.frames_size: c3d" in msg
    assert msg.count("\n") == 1                         # one message, one problem line


def test_auto_without_a_fitting_copy_suggests_a_short_side(cfg):
    c = with_(cfg, frames__resize={"tiny": [16, 16]}, frames__recognition_sizes=["tiny"], c3d__frame_size="tiny",
              flow__recognition_size="tiny", detection__recognition_frame_size="tiny")
    with pytest.raises(ConfigError, match=r"handcrafted.frames_size: auto found no stored copy.*short_side: 32"):
        size_plan.plan_sizes(c, "recognition", [16] * 3, [16] * 3)


def test_one_smaller_video_stays_a_bad_input_for_its_job(cfg):
    c = with_(cfg, handcrafted__frames_size=None)
    plan = size_plan.plan_sizes(c, "recognition", [96, 96, 96, 16], [128, 128, 128, 16])
    assert plan["frame_size"] == [96, 128] and plan["other_sizes"] == [(16, 16)]
    assert plan["keys"]["handcrafted.frames_size"]["chosen"] is None


def test_unknown_copy_name_is_a_config_error(cfg):
    with pytest.raises(ConfigError, match="c3d.frame_size: 'nope' is not among frames.recognition_sizes"):
        size_plan.plan_sizes(with_(cfg, c3d__frame_size="nope"), "recognition", [96], [128])


def test_resolve_config_reads_the_plan(cfg, tmp_path):
    c = with_(cfg, frames__recognition_sizes=["c3d"])
    plan = size_plan.plan_sizes(c, "recognition", [16], [16])
    sizes.write_plan(sizes.plan_path("recognition", tmp_path), plan)
    out = sizes.resolve_config(c, "recognition", tmp_path)
    assert out["handcrafted"]["frames_size"] == "c3d" and c["handcrafted"]["frames_size"] == "auto"
    assert sizes.caption(plan, "handcrafted.frames_size") == "c3d frames 64x86 (linear from 16x16)"
    with pytest.raises(ConfigError, match="sizes.json"):
        sizes.resolve_config(c, "recognition", tmp_path / "elsewhere")


# ---------------------------------------------------- native sensors end to end at unit level

@pytest.mark.parametrize("h,w", [(8, 8), (16, 16), (24, 32)])
def test_native_sensor_through_frames_plan_and_descriptors(cfg, tmp_path, h, w):
    root = tmp_path / "data"
    for k, cls in enumerate(["walk", "sit"]):
        for i in range(2):
            frames = np.stack([np.roll(textured(h, w, seed=10 * k + i), t % w, axis=1) for t in range(20)])
            write_video(root / cls / f"{cls}{i}.avi", frames, fps=10, fourcc="FFV1")
    c = with_(cfg, dataset__recognition__source="folder", dataset__recognition__path=str(root),
              dataset__recognition__classes=["walk", "sit"],
              frames__resize={"c3d": [64, 86], "hc": {"short_side": 40}}, frames__recognition_sizes=["c3d", "hc"],
              frames__interpolation_up="cubic")
    man = recognition_manifest(c["dataset"]["recognition"], "error").manifest
    assert set(zip(man["height"], man["width"])) == {(h, w)}
    plan = size_plan.check_manifest(c, "recognition", man)
    hc = plan["keys"]["handcrafted.frames_size"]
    hc_size = sizes.parse_resize("hc", {"short_side": 40}).size_for(h, w)
    assert hc["chosen"] == "hc" and tuple(hc["size"]) == hc_size and hc["interpolation"] == "cubic"
    vid = man.iloc[0]
    out = tmp_path / "f.h5"
    extract_frames(vid["path"], out, vid["video_id"], {"c3d": [64, 86], "hc": {"short_side": 40}},
                   interpolation_up="cubic", interpolation_down="area")
    with h5py.File(out, "r") as f:
        assert f["frames"].shape[1:] == (h, w)
        assert f["frames_hc"].shape[1:] == hc_size
        assert f.attrs["interpolation_hc"] == "cubic" and f.attrs["interpolation_up"] == "cubic"
        hc_frames = f["frames_hc"][()]
    from irpipe.features.dsift import dsift_video

    d = dsift_video(hc_frames, dict(c["handcrafted"]["dsift"], n_frames=4))
    assert set(d["positions"][:, 3].astype(int)) == {4, 6, 8}          # every bin size fits the chosen copy
    # explicit original frames: a config error for the whole dataset, named once
    with pytest.raises(ConfigError, match="handcrafted.frames_size: original frames"):
        size_plan.check_manifest(with_(c, handcrafted__frames_size=None), "recognition", man)
