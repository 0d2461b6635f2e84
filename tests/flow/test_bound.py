"""flow.bound: auto: the bound from the data, images built from the raw flow at read time."""
import json

import numpy as np
import pandas as pd
import pytest

from irpipe.config import validate_config
from irpipe.data.clips import load_clips, read_stream
from irpipe.data.stores import write_arrays
from irpipe.errors import BadInputError, ConfigError
from irpipe.flow.bound import (
    auto_bound,
    bound_record,
    flow_images_from_raw,
    flow_images_reader,
    numeric_bound,
    resolve_bound,
    training_videos,
    video_percentile,
    write_bound_file,
)
from irpipe.flow.images import flow_to_image
from irpipe.flow.store import flow_options


def _flow_cfg(**kw):
    return validate_config({"flow": kw})["flow"]


def _field(mag, shape=(4, 6, 5)):
    """A flow field of constant magnitude ``mag`` (direction 3-4-5)."""
    f = np.zeros(shape + (2,), np.float32)
    f[..., 0], f[..., 1] = 0.6 * mag, -0.8 * mag
    return f


def test_schema_accepts_a_number_or_auto():
    assert _flow_cfg()["bound"] == 20 and _flow_cfg(bound="auto")["bound"] == "auto"
    assert (_flow_cfg()["bound_percentile"], _flow_cfg()["bound_floor"]) == (99, 0.5)
    with pytest.raises(Exception):
        _flow_cfg(bound="automatic")
    with pytest.raises(Exception):
        _flow_cfg(bound=0)


def test_percentile_of_a_known_field():
    assert video_percentile(_field(2.5), 99) == pytest.approx(2.5)
    # magnitudes 0, 1, ..., 99 px along x: numpy's linear 99th percentile is 98.01
    f = np.zeros((1, 10, 10, 2), np.float32)
    f[..., 0] = np.arange(100, dtype=np.float32).reshape(10, 10)
    assert video_percentile(f, 99) == pytest.approx(98.01)


def test_auto_bound_is_the_largest_video_percentile_with_a_floor():
    assert auto_bound([0.3, 1.6, 0.9], 0.5) == 1.6
    assert auto_bound([0.01, 0.02], 0.5) == 0.5          # a still data set keeps the floor
    cfg = _flow_cfg(bound="auto")
    rec = bound_record({"a": 0.4, "b": 1.2, "t": 9.0}, ["a", "b"], cfg, "train videos")
    assert rec["bound"] == 1.2 and rec["max_video"] == "b" and rec["n_videos"] == 2   # test video t left out
    assert bound_record({"a": 0.4, "t": 9.0}, None, cfg, "all")["bound"] == 9.0
    with pytest.raises(BadInputError, match="no video"):
        bound_record({"t": 9.0}, ["a"], cfg, "train videos")


def test_training_videos_of_each_dataset():
    man = pd.DataFrame({"video_id": ["d0", "d1", "d2"], "subset": ["train", "test", "train"]})
    cfg = validate_config({})
    ids, which = training_videos(man, "detection", cfg)
    assert ids == ["d0", "d2"] and "train" in which
    assert training_videos(man, "recognition", cfg)[0] is None


def test_resolve_bound(tmp_path):
    assert resolve_bound(_flow_cfg(bound=5), None) is None
    assert numeric_bound(_flow_cfg(bound=5), None) == 5.0
    with pytest.raises(ConfigError, match="flow_bound.json"):
        resolve_bound(_flow_cfg(bound="auto"), None)
    p = tmp_path / "flow_bound.json"
    write_bound_file(p, {"bound": 1.25, "videos": "x"})
    assert json.loads(p.read_text())["bound"] == 1.25
    assert resolve_bound(_flow_cfg(bound="auto"), p) == 1.25 == numeric_bound(_flow_cfg(bound="auto"), p)
    p.write_text('{"bound": -1}')
    with pytest.raises(BadInputError, match="flow_bound.json"):
        resolve_bound(_flow_cfg(bound="auto"), p)


def _store(tmp_path, name, raw, with_images=None):
    arrays = {"flow": raw.astype(np.float16)}
    if with_images is not None:
        arrays["flow_image"] = flow_to_image(raw, with_images)
    p = tmp_path / f"{name}.h5"
    write_arrays(p, arrays, {"video_id": name})
    return p


def test_images_built_at_read_time_equal_flow_to_image_of_the_raw_flow(tmp_path):
    rng = np.random.default_rng(0)
    raw = rng.normal(0, 0.4, (5, 8, 9, 2)).astype(np.float32)
    p = _store(tmp_path, "v", raw, with_images=20.0)
    want = flow_to_image(raw.astype(np.float16).astype(np.float32), 1.6)
    assert np.array_equal(flow_images_from_raw(p, 1.6), want)
    assert np.array_equal(read_stream(p, "flow", flow_reader=flow_images_reader(1.6)), want)
    # a numeric bound reads the stored images unchanged
    assert flow_images_reader(None) is None
    assert np.array_equal(read_stream(p, "flow"), flow_to_image(raw, 20.0))
    # the point of auto: sub-pixel motion fills the 8-bit range instead of sitting near grey
    assert np.ptp(want[..., 0]) > 4 * np.ptp(read_stream(p, "flow")[..., 0])


def test_clips_read_with_the_auto_bound_and_bad_stores_are_named(tmp_path):
    raw = _field(0.8, (16, 6, 5))
    p = _store(tmp_path, "v", raw)                      # raw only, as the flow job writes under auto
    clips = load_clips([p], ["v"], [0], "flow", 16, flow_reader=flow_images_reader(0.8))
    assert clips.clips.shape == (1, 16, 6, 5, 3)
    assert int(clips.clips[..., 2].max()) == 255         # |flow| = bound -> full magnitude channel
    with pytest.raises(BadInputError, match="flow_image"):
        read_stream(p, "flow")                           # no stored images under auto
    q = tmp_path / "noraw.h5"
    write_arrays(q, {"flow_image": flow_to_image(raw, 5.0)}, {})
    with pytest.raises(BadInputError, match="noraw.h5.*raw dataset 'flow'"):
        flow_images_from_raw(q, 1.0)


def test_auto_needs_the_raw_flow():
    with pytest.raises(ConfigError, match="store_raw"):
        flow_options(validate_config({"flow": {"bound": "auto", "store_raw": False, "recognition_size": "c3d"}}), "recognition")
    cfg = validate_config({"flow": {"bound": "auto", "recognition_size": "c3d"},
                           "handcrafted": {"frames_size": None}, "detection": {"recognition_frame_size": "c3d"},
                           "c3d": {"frame_size": "c3d"}})
    assert flow_options(cfg, "recognition")["bound"] == "auto"


def test_the_flow_job_under_auto_stores_raw_flow_and_no_images(tmp_path):
    import h5py

    from irpipe.data.stores import read_attrs
    from irpipe.flow.store import flow_for_store

    rng = np.random.default_rng(3)
    base = (rng.random((24, 28)) * 255).astype(np.uint8)
    frames = np.stack([np.roll(base, t, axis=1) for t in range(3)])
    src = tmp_path / "f.h5"
    write_arrays(src, {"frames_c3d": frames}, {"video_id": "f", "fps": 5.0})
    params = validate_config({})["flow"]["tvl1"]
    flow_for_store(src, tmp_path / "auto.h5", "c3d", params, bound="auto", store_raw=False)
    flow_for_store(src, tmp_path / "five.h5", "c3d", params, bound=5.0)
    with h5py.File(tmp_path / "auto.h5") as a, h5py.File(tmp_path / "five.h5") as b:
        assert sorted(a.keys()) == ["flow"] and sorted(b.keys()) == ["flow", "flow_image"]
        assert np.array_equal(a["flow"][()], b["flow"][()])
    assert read_attrs(tmp_path / "auto.h5")["bound"] == "auto" and read_attrs(tmp_path / "five.h5")["bound"] == 5.0
