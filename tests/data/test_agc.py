"""Automatic gain control and 16-bit / image-sequence inputs, on fixtures written here."""
import cv2
import numpy as np
import pytest

from irpipe.config import validate_config
from irpipe.data.agc import Gain, apply_gain, gain_window, to_uint8
from irpipe.data.frames import extract_frames
from irpipe.data.stores import read_attrs, read_frames
from irpipe.data.video import natural_key, probe_video, read_video, sequence_files
from irpipe.errors import BadInputError, ConfigError

INTERP = {"interpolation_up": "linear", "interpolation_down": "area"}  # the schema defaults


def agc_cfg(**kw):
    return validate_config({"frames": {"agc": kw}})["frames"]["agc"]


def ramp16(t=4, h=10, w=100) -> np.ndarray:
    """Every frame: columns 0..w-1 scaled to counts 0, 600, 1200, ..., 59400 (known percentiles)."""
    row = (np.arange(w) * 600).astype(np.uint16)
    return np.broadcast_to(row, (t, h, w)).copy()


def test_percentile_stretch_known_answer():
    frames = ramp16()
    gain = gain_window(frames, agc_cfg())
    # numpy's linear percentile of 0, 600, ..., 59400 (each value equally often): 1% -> 594, 99% -> 58806
    assert (gain.method, gain.source_bit_depth) == ("percentile", 16)
    assert gain.lo == pytest.approx(594.0, abs=1e-9) and gain.hi == pytest.approx(58806.0, abs=1e-9)
    out = apply_gain(frames, gain)
    expect = np.clip(np.rint((np.arange(100) * 600 - 594) * 255 / (58806 - 594)), 0, 255).astype(np.uint8)
    assert out.dtype == np.uint8 and (out == expect).all()
    assert out[0, 0, 0] == 0 and out[0, 0, 99] == 255 and out[0, 0, 50] == 129  # (30000-594)*255/58212 = 128.8


def test_percentile_window_is_per_video_not_per_frame():
    # a video warming up: frame k is the ramp + 1000 k. One window for the whole video, so a
    # pixel of constant raw value keeps its grey level from frame to frame.
    frames = ramp16(t=5) + (np.arange(5) * 1000).astype(np.uint16)[:, None, None]
    out, gain = to_uint8(frames, agc_cfg())
    lo, hi = np.percentile(frames, [1, 99])
    assert (gain.lo, gain.hi) == (lo, hi)
    assert out[0, 0, 30] != out[4, 0, 30]  # contrast follows the scene, not re-stretched per frame
    raw = 30000  # present in frames 0 and 3
    levels = [int(out[k][frames[k] == raw][0]) for k in range(5) if (frames[k] == raw).any()]
    assert len(levels) == 2 and len(set(levels)) == 1


def test_fixed_window_and_temperature_window():
    frames = ramp16()
    out, gain = to_uint8(frames, agc_cfg(method="window", window=[6000, 36000]))
    assert (gain.lo, gain.hi) == (6000.0, 36000.0)
    assert out[0, 0, 10] == 0 and out[0, 0, 60] == 255 and out[0, 0, 35] == 128  # 15000/30000*255 = 127.5 -> 128
    assert out[0, 0, 5] == 0 and out[0, 0, 90] == 255  # clipped outside the window
    # 0.01 K per count, 0 K at count 0: 273.15 K .. 323.15 K is counts 27315 .. 32315
    _, g = to_uint8(frames, agc_cfg(method="temperature", kelvin=[273.15, 323.15], kelvin_per_count=0.01))
    assert g.lo == pytest.approx(27315) and g.hi == pytest.approx(32315)
    with pytest.raises(ConfigError, match="frames.agc.window"):
        to_uint8(frames, agc_cfg(method="window"))


def test_eight_bit_input_is_unchanged():
    frames = np.random.default_rng(0).integers(0, 256, (3, 8, 9), dtype=np.uint8)
    out, gain = to_uint8(frames, agc_cfg())
    assert gain.method == "none" and (out == frames).all()


def write_sequence(folder, frames, ext=".png", names=None):
    folder.mkdir(parents=True, exist_ok=True)
    names = names or [f"{i}{ext}" for i in range(len(frames))]
    for name, f in zip(names, frames):
        assert cv2.imwrite(str(folder / name), f)
    return folder


def test_sequence_natural_order(tmp_path):
    # frame k carries the value k: read back 0, 1, 2, ..., 11 although '10.png' < '2.png' as text
    frames = [np.full((6, 8), k, np.uint8) for k in range(12)]
    folder = write_sequence(tmp_path / "seq", frames)
    assert [p.name for p in sequence_files(folder)][:4] == ["0.png", "1.png", "2.png", "3.png"]
    assert sorted(["f10.png", "f2.png", "F1.png"], key=natural_key) == ["F1.png", "f2.png", "f10.png"]
    got, info = read_video(folder, fps=9.0)
    assert [int(f[0, 0]) for f in got] == list(range(12))
    assert info.fps == 9.0 and info.n_frames == 12 and info.bit_depth == 8 and info.codec == "png-sequence-8bit"
    assert probe_video(folder, fps=9.0) == info
    with pytest.raises(ConfigError, match="dataset.<recognition|detection>.fps"):
        probe_video(folder)


def test_sequence_bad_frames_are_named(tmp_path):
    folder = write_sequence(tmp_path / "seq", [np.zeros((6, 8), np.uint8)] * 3)
    cv2.imwrite(str(folder / "3.png"), np.zeros((7, 8), np.uint8))
    with pytest.raises(BadInputError, match=r"3.png: frame is 8x7 uint8, but the sequence's first frame is 8x6"):
        probe_video(folder, fps=5)
    (folder / "3.png").write_bytes(b"not a png")
    with pytest.raises(BadInputError, match=r"3.png: not a readable image"):
        probe_video(folder, fps=5)


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16bit_sequence_extracted_with_agc(tmp_path, ext):
    frames = ramp16(t=6, h=12, w=100)
    folder = write_sequence(tmp_path / "hot", list(frames), ext=ext, names=[f"frame_{i}{ext}" for i in range(6)])
    raw, info = read_video(folder, fps=30)
    assert raw.dtype == np.uint16 and (raw == frames).all() and info.bit_depth == 16
    out = tmp_path / "hot.h5"
    extract_frames(folder, out, "hot", {"small": (6, 50)}, fps=30, agc=agc_cfg(), **INTERP)
    attrs = read_attrs(out)
    assert attrs["agc_method"] == "percentile" and attrs["source_bit_depth"] == 16
    assert attrs["agc_lo"] == pytest.approx(594.0) and attrs["agc_hi"] == pytest.approx(58806.0) and attrs["fps"] == 30
    stored = read_frames(out)
    assert stored.dtype == np.uint8 and (stored == apply_gain(frames, Gain("percentile", 594, 58806, 16))).all()


def test_16bit_grey_video_ffv1(tmp_path):
    frames = ramp16(t=8, h=16, w=100) + np.arange(8, dtype=np.uint16)[:, None, None]
    path = tmp_path / "radiometric.mkv"
    w = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"FFV1"), 10, (100, 16),
                        [cv2.VIDEOWRITER_PROP_DEPTH, cv2.CV_16U, cv2.VIDEOWRITER_PROP_IS_COLOR, 0])
    if not w.isOpened():
        pytest.skip("this OpenCV build cannot write 16-bit FFV1")
    for f in frames:
        w.write(f)
    w.release()
    raw, info = read_video(path)
    assert raw.dtype == np.uint16 and info.bit_depth == 16 and (raw == frames).all()  # lossless
    assert probe_video(path).bit_depth == 16
    out = tmp_path / "r.h5"
    extract_frames(path, out, "r", {}, agc=agc_cfg(method="window", window=[0, 59400]), **INTERP)
    a = read_attrs(out)
    assert (a["agc_method"], a["agc_lo"], a["agc_hi"], a["source_bit_depth"]) == ("window", 0.0, 59400.0, 16)
    assert read_frames(out)[0, 0, 99] == 255


def test_8bit_video_still_8bit(video_factory, tmp_path):
    p = video_factory(n=5)
    raw, info = read_video(p)
    assert raw.dtype == np.uint8 and info.bit_depth == 8
    extract_frames(p, tmp_path / "x.h5", "x", {}, **INTERP)
    a = read_attrs(tmp_path / "x.h5")
    assert a["agc_method"] == "none" and a["source_bit_depth"] == 8
    assert (read_frames(tmp_path / "x.h5") == raw).all()
