import numpy as np
import pytest
import torch

from irpipe.data.clips import crop_size, load_clips, make_batch, read_stream, split_clips
from irpipe.data.stores import write_arrays
from irpipe.errors import BadInputError


def test_split_clips_non_overlapping():
    frames = np.arange(40, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 3, 1), np.uint8)
    clips = split_clips(frames, 16)
    assert clips.shape == (2, 16, 2, 3, 1)
    assert clips[0, :, 0, 0, 0].tolist() == list(range(16))
    assert clips[1, :, 0, 0, 0].tolist() == list(range(16, 32))  # tail 32..39 dropped
    short = split_clips(frames[:10], 16)
    assert short.shape[0] == 1 and short[0, 9:, 0, 0, 0].tolist() == [9] * 7  # padded with the last frame


def test_read_streams_and_errors(tmp_path):
    grey = np.random.default_rng(0).integers(0, 255, (20, 8, 10), dtype=np.uint8)
    flow = np.random.default_rng(1).integers(0, 255, (19, 8, 10, 3), dtype=np.uint8)
    write_arrays(tmp_path / "f.h5", {"frames_c3d": grey}, {})
    write_arrays(tmp_path / "o.h5", {"flow_image": flow}, {})
    assert np.array_equal(read_stream(tmp_path / "f.h5", "ir")[..., 0], grey)
    assert np.array_equal(read_stream(tmp_path / "o.h5", "flow"), flow)
    with pytest.raises(BadInputError, match="missing frame store"):
        read_stream(tmp_path / "nope.h5", "ir")
    with pytest.raises(BadInputError, match="no dataset 'flow_image'"):
        read_stream(tmp_path / "f.h5", "flow")
    (tmp_path / "bad.h5").write_bytes(b"not hdf5")
    with pytest.raises(BadInputError, match="bad.h5: unreadable"):
        read_stream(tmp_path / "bad.h5", "ir")
    cs = load_clips([tmp_path / "f.h5", tmp_path / "f.h5"], ["a", "b"], [0, 3], "ir", 16)
    assert tuple(cs.clips.shape) == (2, 16, 8, 10, 1) and cs.labels.tolist() == [0, 3]
    sub = cs.subset(np.array([False, True]))
    assert sub.video_ids == ["b"] and sub.video.tolist() == [0] and sub.labels.tolist() == [3]


def test_make_batch_centre_crop_and_grey_to_three_channels():
    clips = torch.arange(2 * 16 * 8 * 10, dtype=torch.int64).remainder(251).to(torch.uint8).reshape(2, 16, 8, 10, 1)
    out = make_batch(clips, 4, train=False, mean=0.0, std=1.0)
    assert out.shape == (2, 3, 16, 4, 4)
    expect = clips[:, :, 2:6, 3:7, 0].float()  # centre: (8-4)//2 = 2, (10-4)//2 = 3
    for ch in range(3):
        torch.testing.assert_close(out[:, ch], expect)


def test_make_batch_random_crops_and_flips_are_real_crops():
    rng = np.random.default_rng(0)
    clips = torch.from_numpy(rng.integers(0, 255, (6, 16, 9, 12, 3), dtype=np.uint8))
    gen = torch.Generator().manual_seed(3)
    out = make_batch(clips, 5, train=True, generator=gen, mean=0.0, std=1.0)
    flips = 0
    for b in range(6):
        x = clips[b].permute(3, 0, 1, 2).float()  # (C, L, h, w)
        found = None
        for oy in range(9 - 5 + 1):
            for ox in range(12 - 5 + 1):
                win = x[:, :, oy:oy + 5, ox:ox + 5]
                if torch.equal(out[b], win):
                    found = "plain"
                elif torch.equal(out[b], win.flip(-1)):
                    found = "flip"
        assert found is not None, f"clip {b} is not a (flipped) crop"
        flips += found == "flip"
    assert 0 < flips < 6  # both kinds occur with this seed
    # same generator seed -> same batch (reproducible augmentation)
    again = make_batch(clips, 5, train=True, generator=torch.Generator().manual_seed(3), mean=0.0, std=1.0)
    assert torch.equal(out, again)


def test_crop_size_rule():
    assert crop_size(128, None) == 112 and crop_size(64, None) == 56 and crop_size(64, 48) == 48


def test_split_clips_with_stride_gives_overlapping_clips():
    frames = np.arange(40, dtype=np.uint8).reshape(40, 1, 1, 1) * np.ones((1, 2, 2, 1), np.uint8)
    clips = split_clips(frames, 16, stride=8)
    # starts 0, 8, 16, 24 (24 + 16 = 40 fits; 32 does not)
    assert clips.shape == (4, 16, 2, 2, 1)
    np.testing.assert_array_equal(clips[:, 0, 0, 0, 0], [0, 8, 16, 24])
    np.testing.assert_array_equal(clips[2, :, 1, 1, 0], np.arange(16, 32))
    # stride = clip length is the non-overlapping split, byte for byte
    np.testing.assert_array_equal(split_clips(frames, 16, stride=16), split_clips(frames, 16))
    assert split_clips(frames[:10], 16, stride=4).shape[0] == 1  # a short video: one padded clip
    with pytest.raises(ValueError):
        split_clips(frames, 16, stride=0)


def test_flip_negates_flow_x_only_on_flipped_training_clips():
    rng = np.random.default_rng(0)
    clips = torch.from_numpy(rng.integers(0, 256, (64, 2, 6, 6, 3), dtype=np.uint8))
    plain = make_batch(clips, 6, train=True, generator=torch.Generator().manual_seed(3), mean=0.0, std=1.0)
    neg = make_batch(clips, 6, train=True, generator=torch.Generator().manual_seed(3), mean=0.0, std=1.0,
                     flip_negates_flow_x=True)
    src = clips.permute(0, 4, 1, 2, 3).float()                     # (B, C, L, h, w)
    flipped = torch.tensor([torch.equal(plain[i], src[i].flip(-1)) and not torch.equal(plain[i], src[i])
                            for i in range(len(clips))])
    assert 10 < int(flipped.sum()) < 54                            # both kinds drawn
    # flipped clips: x -> 255 - x (dx -> -dx), y and magnitude untouched; others identical
    torch.testing.assert_close(neg[flipped][:, 0], 255 - plain[flipped][:, 0])
    torch.testing.assert_close(neg[flipped][:, 1:], plain[flipped][:, 1:])
    torch.testing.assert_close(neg[~flipped], plain[~flipped])
    # evaluation never flips: the option changes nothing there
    a = make_batch(clips, 4, train=False, mean=0.0, std=1.0)
    b = make_batch(clips, 4, train=False, mean=0.0, std=1.0, flip_negates_flow_x=True)
    assert torch.equal(a, b)


def test_make_batch_per_clip_statistics():
    clips = torch.full((2, 16, 4, 4, 1), 100, dtype=torch.uint8)
    clips[1] = 50
    mean = torch.tensor([[100.0], [40.0]])[:, :, None, None, None]
    std = torch.tensor([[1.0], [5.0]])[:, :, None, None, None]
    out = make_batch(clips, 4, train=False, mean=mean, std=std)
    assert torch.all(out[0] == 0) and torch.all(out[1] == 2.0)


def _reference_batch(clips, crop, oy, ox, flip, mean, std, negate):
    """make_batch written out pixel by pixel in numpy (an independent reference)."""
    x = clips.numpy()
    b, length, _, _, c = x.shape
    out = np.empty((b, 3, length, crop, crop), np.float32)
    for i in range(b):
        part = x[i, :, oy[i]:oy[i] + crop, ox[i]:ox[i] + crop].astype(np.int64)   # (L, crop, crop, C)
        if flip[i]:
            part = part[:, :, ::-1]
            if negate and c == 3:
                part = part.copy()
                part[..., 0] = 255 - part[..., 0]
        chw = np.moveaxis(part, -1, 0).astype(np.float32)                         # (C, L, crop, crop)
        m = mean[i] if isinstance(mean, np.ndarray) else np.float32(mean)
        s = std[i] if isinstance(std, np.ndarray) else np.float32(std)
        out[i] = np.broadcast_to((chw - m) / s, (3, length, crop, crop))
    return out


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("negate", [False, True])
@pytest.mark.parametrize("per_clip", [False, True])
def test_make_batch_equals_a_pixel_by_pixel_reference(channels, negate, per_clip):
    rng = np.random.default_rng(channels + 2 * negate + 4 * per_clip)
    clips = torch.from_numpy(rng.integers(0, 256, (12, 5, 11, 13, channels), dtype=np.uint8))
    mean, std = 128.0, 64.0
    if per_clip:
        mean = rng.uniform(0, 200, (12, channels, 1, 1, 1)).astype(np.float32)
        std = rng.uniform(1, 60, (12, channels, 1, 1, 1)).astype(np.float32)
    targs = (torch.from_numpy(mean), torch.from_numpy(std)) if per_clip else (mean, std)
    out = make_batch(clips, 7, train=True, generator=torch.Generator().manual_seed(9), mean=targs[0],
                     std=targs[1], flip_negates_flow_x=negate)
    g = torch.Generator().manual_seed(9)                       # the same draws, in make_batch's order
    oy = torch.randint(0, 11 - 7 + 1, (12,), generator=g).tolist()
    ox = torch.randint(0, 13 - 7 + 1, (12,), generator=g).tolist()
    flip = (torch.rand(12, generator=g) < 0.5).tolist()
    assert 0 < sum(flip) < 12
    assert np.array_equal(out.numpy(), _reference_batch(clips, 7, oy, ox, flip, mean, std, negate))
    centre = make_batch(clips, 7, train=False, mean=targs[0], std=targs[1], flip_negates_flow_x=negate)
    assert np.array_equal(centre.numpy(), _reference_batch(clips, 7, [2] * 12, [3] * 12, [False] * 12, mean, std,
                                                           negate))
    if channels == 3:  # already in the network's memory format: its input copy is a no-op
        assert out.is_contiguous(memory_format=torch.channels_last_3d)
    assert make_batch(clips[:0], 7, train=True, generator=g).shape == (0, 3, 5, 7, 7)
