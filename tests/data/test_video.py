import os

import numpy as np
import pytest

from irpipe.data.frames import extract_frames
from irpipe.data.stores import read_attrs, read_frames, verify_store
from irpipe.data.video import probe_video, read_video, to_grey
from irpipe.errors import BadInputError

REAL_FACTS = {  # as decoded by OpenCV (shared/data/real_clips/README.md)
    "pedestrians_vtest.avi": (768, 576, 10, 795),
    "mpeg4_320x240.avi": (320, 240, 25, 164),
    "armwrestling_h264_340x256.mp4": (340, 256, 28, 280),
    "ntu_drink_h264_1920x1080.avi": (1920, 1080, 30, 103),
}


def test_real_clips_probe_matches_known_facts(real_clips):
    for clip in real_clips:
        info = probe_video(clip)
        w, h, fps, n = REAL_FACTS[clip.name]
        assert (info.width, info.height, info.n_frames) == (w, h, n), clip.name
        assert info.fps == pytest.approx(fps, rel=1e-3)


def test_real_clips_extract_to_store_with_resized_copies(real_clips, tmp_path):
    for clip in real_clips:
        out = tmp_path / f"{clip.stem}.h5"
        extract_frames(clip, out, clip.stem, {"c3d": (128, 171)}, interpolation_up="linear",
                       interpolation_down="area", keep_original=clip.stat().st_size < 2_000_000)
        frames = read_frames(out, size="c3d")
        assert frames.shape == (REAL_FACTS[clip.name][3], 128, 171) and frames.dtype == np.uint8
        assert frames.std() > 5  # real content, not a blank frame
        attrs = read_attrs(out)
        assert attrs["width"] == REAL_FACTS[clip.name][0] and attrs["source_path"].endswith(clip.name)
        verify_store(out, {"frames_c3d": REAL_FACTS[clip.name][3]})


def test_colour_input_is_converted_to_grey(video_factory):
    path = video_factory("colour.avi", colour=True)
    frames, info = read_video(path)
    assert frames.ndim == 3 and frames.dtype == np.uint8 and info.n_frames == 20


def test_to_grey_uses_luma_weights():
    bgr = np.zeros((1, 3, 3), np.uint8)
    bgr[0, 0] = (255, 0, 0)   # blue
    bgr[0, 1] = (0, 255, 0)   # green
    bgr[0, 2] = (0, 0, 255)   # red
    assert list(to_grey(bgr)[0]) == [29, 150, 76]


def test_zero_byte_file(tmp_path):
    p = tmp_path / "empty.avi"
    p.write_bytes(b"")
    with pytest.raises(BadInputError, match=r"empty.avi: file is empty"):
        probe_video(p)


def test_non_video_with_video_extension(tmp_path):
    p = tmp_path / "notes.mp4"
    p.write_text("this is not a video\n" * 100)
    with pytest.raises(BadInputError, match=r"notes.mp4: no decoder could open it"):
        probe_video(p)


def test_truncated_video(video_factory, tmp_path):
    src = video_factory("full.avi", n=40)
    data = src.read_bytes()
    p = tmp_path / "truncated.avi"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInputError, match=r"truncated.avi: (truncated|no decoder)"):
        probe_video(p)


def test_real_truncated_video(real_clips, tmp_path):
    src = [c for c in real_clips if c.name == "mpeg4_320x240.avi"][0]
    p = tmp_path / "cut.avi"
    p.write_bytes(src.read_bytes()[:150_000])
    with pytest.raises(BadInputError, match=r"cut.avi: truncated or corrupt: the container announces 164 frames"):
        probe_video(p)


def test_too_short_video(video_factory):
    p = video_factory("short.avi", n=5)
    with pytest.raises(BadInputError, match=r"short.avi: too short: 5 frames, fewer than the configured minimum 16"):
        probe_video(p, min_frames=16)


def test_missing_and_unreadable_paths(tmp_path, video_factory):
    with pytest.raises(BadInputError, match="does not exist"):
        probe_video(tmp_path / "nope.avi")
    d = tmp_path / "folder.avi"
    d.mkdir()
    with pytest.raises(BadInputError, match="is a directory"):
        probe_video(d)
    link = tmp_path / "dangling.avi"
    os.symlink(tmp_path / "gone.avi", link)
    with pytest.raises(BadInputError, match="dangling.avi: file does not exist"):
        probe_video(link)
    if os.geteuid() != 0:  # root reads anything
        p = video_factory("locked.avi")
        os.chmod(p, 0)
        with pytest.raises(BadInputError, match="not readable"):
            probe_video(p)


def test_probe_and_read_agree(video_factory):
    p = video_factory(n=23)
    frames, info = read_video(p)
    assert probe_video(p) == info and frames.shape[0] == 23
