"""Many videos per flow job: one backend for all of them, same stores as one job per video."""
import os

import numpy as np
import pytest

from irpipe.config import validate_config
from irpipe.data.stores import read_flow, read_flow_images, write_arrays
from irpipe.flow.store import flow_for_store, flow_for_stores, flow_options
from irpipe.io import link_or_copy
from tests.conftest import textured


def _video(seed, n=5, h=32, w=40):
    base = textured(h + 8, w + 12, seed=seed)
    return np.stack([base[4 - i // 2:4 - i // 2 + h, 4 + i:4 + i + w] for i in range(n)]).astype(np.uint8)


@pytest.mark.parametrize("backend", ["opencv", "torch"])
def test_one_engine_for_many_videos_writes_the_per_video_stores(tmp_path, backend, monkeypatch):
    params = validate_config({})["flow"]["tvl1"]
    frames = []
    for i in range(3):
        p = tmp_path / f"v{i}.h5"
        write_arrays(p, {"frames_small": _video(i, n=4 + i)}, {"video_id": f"v{i}", "fps": 8.0})
        frames.append(p)
    built = []
    import irpipe.flow.tvl1 as tvl1
    real = tvl1.make_backend
    monkeypatch.setattr(tvl1, "make_backend", lambda *a, **k: built.append(1) or real(*a, **k))
    stats = flow_for_stores([(p, tmp_path / "shard" / p.name) for p in frames], "small", params, bound=5.0,
                            backend=backend, batch_size=2)
    assert len(built) == 1  # one engine for the three videos
    assert [s["n_pairs"] for s in stats] == [3, 4, 5]
    for p in frames:  # the same store as a job of its own (same backend, same batches)
        flow_for_store(p, tmp_path / "single" / p.name, "small", params, bound=5.0, backend=backend, batch_size=2)
        np.testing.assert_array_equal(read_flow(tmp_path / "shard" / p.name), read_flow(tmp_path / "single" / p.name))
        np.testing.assert_array_equal(read_flow_images(tmp_path / "shard" / p.name),
                                      read_flow_images(tmp_path / "single" / p.name))
        # the motion is the construction's: 1 px right per frame, half a pixel down
        f = read_flow(tmp_path / "shard" / p.name).astype(np.float32)
        assert np.median(f[..., 0]) == pytest.approx(-1.0, abs=0.15)


def test_link_or_copy_is_atomic_and_names_a_missing_source(tmp_path):
    src = tmp_path / "a.h5"
    src.write_bytes(b"abc")
    link_or_copy(src, tmp_path / "out" / "b.h5")
    assert (tmp_path / "out" / "b.h5").read_bytes() == b"abc"
    assert os.stat(src).st_nlink == 2  # a hard link on this filesystem, not a copy
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["b.h5"]  # no temp file left
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        link_or_copy(tmp_path / "missing.h5", tmp_path / "out" / "c.h5")


def test_flow_options_map_the_config_onto_both_entry_points():
    import inspect

    cfg = validate_config({"flow": {"backend": "torch", "batch_size": 4}})
    opts = flow_options(cfg, "detection")
    assert opts["size_name"] == cfg["flow"]["detection_size"] and opts["backend"] == "torch"
    assert opts["batch_size"] == 4 and opts["level"] == cfg["frames"]["compression_level"]
    for fn in (flow_for_store, flow_for_stores):
        assert set(opts) <= set(inspect.signature(fn).parameters), fn.__name__


@pytest.mark.parametrize("backend", ["opencv", "torch"])
def test_flow_is_byte_identical_whatever_the_jobs_cpu_threads(backend):
    """A flow job pins its libraries' threads to the job's (``set_cpu_threads``), which differ
    between a local run and a SLURM job; the stored flow must not depend on them. Checked when
    the SLURM test's flow differed from the local run's: the cause was elsewhere (the test's
    config; see tests/faults/test_workflow_helpers.py), OpenCV's and the torch backend's TV-L1
    gave the same bytes with 1, 2 and 4 threads on 128x171 frames."""
    import cv2
    import torch

    from irpipe.flow.tvl1 import compute_video_flow, set_cpu_threads

    params = dict(validate_config({})["flow"]["tvl1"], outer_iterations=30)
    frames = _video(7, n=4, h=48, w=64)
    saved = cv2.getNumThreads(), torch.get_num_threads()
    out = {}
    try:
        for n in (1, 2):
            set_cpu_threads(n, backend)
            assert cv2.getNumThreads() == n and (backend != "torch" or torch.get_num_threads() == n)
            out[n] = compute_video_flow(frames, params, backend=backend, batch_size=3)
    finally:
        cv2.setNumThreads(saved[0])
        torch.set_num_threads(saved[1])
    assert np.abs(out[1]).max() > 0.5  # real motion, not an all-zero field
    assert out[1].tobytes() == out[2].tobytes()
