"""A full disk under the results folder: the job fails with a clear message naming the file
and the reason, and leaves no partial file.

The disk is real where the test may mount one (root: a size-limited tmpfs, as CI runs);
otherwise ENOSPC is injected at the operating-system I/O layer of the job process
(``os.fsync``, which atomic writes call before the rename, raises it for files under the
folder), which is where network filesystems report a full disk.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from irpipe.data.stores import write_arrays
from irpipe.io import OutputWriteError, write_csv, write_json

from . import workflow_helpers as W


def _can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"irpipe-mount-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(probe)],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", str(probe)], check=True)
        return ok
    finally:
        probe.rmdir()


CAN_MOUNT = _can_mount()
needs_mount = pytest.mark.skipif(not CAN_MOUNT, reason="cannot mount a tmpfs here (needs root); "
                                                       "the injected-ENOSPC variant covers this case")


@contextlib.contextmanager
def full_disk(path: Path, size: str = "4k", fill: bool = False):
    """Mount a tiny tmpfs on ``path`` (created, must be empty); ``fill`` writes a filler file
    until the disk refuses more, so that any later write fails whatever its size."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        if fill:
            with open(path / FILLER, "wb", buffering=0) as fh:
                with contextlib.suppress(OSError):
                    while True:
                        fh.write(b"\0" * 4096)
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


FILLER = "filler.bin"


def _leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != FILLER)


@needs_mount
def test_library_writers_on_a_real_full_disk(tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (30, 64, 64), dtype=np.uint8)  # incompressible: ~120 kB
    with full_disk(tmp_path / "disk", "64k") as disk:
        dest = disk / "frames" / "v.h5"
        dest.parent.mkdir()
        with pytest.raises(OutputWriteError, match=r"could not write .*v\.h5: No space left on device"):
            write_arrays(dest, {"frames": frames}, {"fps": 8.0})
        table = pd.DataFrame({"x": rng.standard_normal(20000)})
        with pytest.raises(OutputWriteError, match=r"t\.csv: No space left on device"):
            write_csv(disk / "t.csv", table)
        with pytest.raises(OutputWriteError, match=r"j\.json: No space left on device"):
            write_json(disk / "j.json", {"x": table["x"].tolist()})
        assert _leftovers(disk) == []
        # The disk is usable again once the failed writes are gone: nothing leaked space.
        write_json(disk / "small.json", {"ok": True})
        assert _leftovers(disk) == ["small.json"]


# ---------------------------------------------------------------------------------------
# Every function that writes HDF5, on a full disk (real tmpfs when root, else injected)
# ---------------------------------------------------------------------------------------
def _write_arrays(src: Path, out: Path) -> None:
    write_arrays(out, {"frames": np.zeros((3, 8, 8), np.uint8)}, {"fps": 8.0})


def _write_descriptors(src: Path, out: Path) -> None:
    from irpipe.features.descriptors import write_descriptors
    write_descriptors(out, {"descriptors": np.ones((5, 128), np.uint8), "positions": np.zeros((5, 4), np.float32)},
                      {"kind": "dsift", "video_id": "v", "bad_input": ""})


def _baseline_result() -> dict:
    from irpipe.features.baseline import METHODS
    return {"video_id": ["a", "b"], "label_index": [0, 1],
            "posteriors": {m: np.full((2, 2), 0.5) for m in METHODS},
            "concepts": {"video_id": ["a", "b"], "label_index": [0, 1], "is_train": [True, False],
                         "scores": {"dsift": np.zeros((2, 3))}}}


def _write_concepts(src: Path, out: Path) -> None:
    from irpipe.features.baseline import write_concepts
    write_concepts(out, _baseline_result(), {"split": 0})


def _write_posteriors(src: Path, out: Path) -> None:
    from irpipe.features.baseline import write_posteriors
    write_posteriors(out, _baseline_result(), {"split": 0})


def _encode_split(src: Path, out: Path) -> None:
    from irpipe.config import validate_config
    from irpipe.features.descriptors import write_descriptors
    from irpipe.features.encode import encode_split

    cfg = validate_config({"handcrafted": {"encoding": {"gmm_components": 2, "sample_size": 200,
                                                        "gmm_max_iter": 5}}})["handcrafted"]
    rng = np.random.default_rng(0)
    rows, paths = [], {}
    for i in range(4):
        vid = f"v{i}"
        paths[vid] = str(src / f"{vid}.h5")
        write_descriptors(paths[vid], {"descriptors": rng.integers(0, 255, (60, 128), dtype=np.uint8),
                                       "positions": np.zeros((60, 4), np.float32)},
                          {"kind": "dsift", "video_id": vid, "bad_input": ""})
        rows.append({"video_id": vid, "label_index": i % 2, "split": 0, "subset": "train" if i < 2 else "test"})
    encode_split("dsift", 0, pd.DataFrame(rows), paths, cfg, seed=0, out_path=out)


def _write_predictions(src: Path, out: Path) -> None:
    from irpipe.eval.predictions import write_predictions
    write_predictions(out, ["a", "b"], [0, 1], ["train", "test"], np.eye(2), np.zeros((2, 4)),
                      {"stream": "ir"}, n_clips=[1, 2])


def _extract_dataset(src: Path, out: Path) -> None:
    from irpipe.config import validate_config
    from irpipe.detection.features import extract_dataset

    cfg = validate_config({"detection": {"i3d": {"width": 0.125}}})["detection"]
    write_arrays(src / "frames" / "v.h5", {"frames_i3d": np.zeros((16, 16, 16), np.uint8)}, {})
    write_arrays(src / "flow" / "v.h5", {"flow": np.zeros((15, 16, 16, 2), np.float16)}, {})
    extract_dataset(["v"], {"v": src / "frames" / "v.h5"}, {"v": src / "flow" / "v.h5"}, out, cfg, seed=0,
                    frame_size="i3d", bound=20.0)


HDF5_WRITERS = {f.__name__.lstrip("_"): f for f in (
    _write_arrays, _write_descriptors, _write_concepts, _write_posteriors, _encode_split,
    _write_predictions, _extract_dataset)}


def test_every_hdf5_writer_is_covered():
    """The source scan in tests/test_layering.py finds who calls the one writer; each such
    function must have a case here."""
    from tests.test_layering import hdf5_writer_callers

    assert hdf5_writer_callers() <= set(HDF5_WRITERS) | {"hdf5_writer"}, (
        "a new function writes HDF5: add a full-disk case for it here")


@contextlib.contextmanager
def _injected_enospc(folder: Path):
    """ENOSPC from os.fsync for files under ``folder`` (where network filesystems report it)."""
    real = os.fsync
    root = str(folder.resolve())

    def fsync(fd):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            target = ""
        if target.startswith(root):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)
    os.fsync = fsync
    try:
        yield folder
    finally:
        os.fsync = real


@pytest.mark.parametrize("how", ["tmpfs", "injected"])
@pytest.mark.parametrize("writer", sorted(HDF5_WRITERS))
def test_hdf5_writer_on_full_disk(tmp_path, writer, how):
    if how == "tmpfs" and not CAN_MOUNT:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    src, disk = tmp_path / "src", tmp_path / "disk"
    src.mkdir()
    out = disk / "out" / "result.h5"
    full = full_disk(disk, "16k", fill=True) if how == "tmpfs" else _injected_enospc(disk)
    with full:
        out.parent.mkdir(parents=True, exist_ok=True)
        with pytest.raises(OutputWriteError, match=r"could not write .*out/result\.h5: No space left on device"):
            HDF5_WRITERS[writer](src, out)
        assert _leftovers(disk) == [], "a partial or temporary file was left behind"
    import torch
    assert torch.is_grad_enabled(), "a failed writer left autograd switched off for the process"
    # The same call on a healthy disk writes the file (the failure above was the disk's).
    HDF5_WRITERS[writer](src, tmp_path / "ok.h5")
    assert (tmp_path / "ok.h5").stat().st_size > 0


# ---------------------------------------------------------------------------------------
# A frames job of the real workflow with its output folder on a full disk
# ---------------------------------------------------------------------------------------
_INJECT = textwrap.dedent('''
    # Injected by tests/faults/test_disk_full.py: ENOSPC for files under one folder.
    import errno, os
    _root = os.environ.get("IRPIPE_TEST_ENOSPC_UNDER")
    if _root:
        _real_fsync = os.fsync
        def _fsync(fd):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                target = ""
            if target.startswith(_root):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return _real_fsync(fd)
        os.fsync = _fsync
''')


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A workflow folder whose manifest exists (inputs decoded once), frames not yet made."""
    root = tmp_path_factory.mktemp("diskfull")
    cfg = W.recognition_only(W.good_dataset(root / "inputs", per_class=1))
    W.snakemake(root / "base", cfg, ["results/data/recognition/manifest.csv"])
    return root, cfg


@pytest.mark.workflow
@pytest.mark.parametrize("how", ["tmpfs", "injected"])
def test_frames_job_on_full_disk_fails_clearly(prepared, tmp_path, how):
    root, cfg = prepared
    if how == "tmpfs" and not CAN_MOUNT:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    wd = W.copy_workdir(root / "base", tmp_path / "wd")
    video = sorted(W.expected_frames(wd))[0]
    target = W.shard_dir(wd, "frames", "recognition", video, cfg)
    written = f"{target}/{video}.h5"
    frames_dir = wd / "results" / "frames" / "recognition"
    env = W.env()
    with contextlib.ExitStack() as stack:
        if how == "tmpfs":
            stack.enter_context(full_disk(frames_dir, "4k"))  # a store is tens of kB
        else:
            site = tmp_path / "site"
            site.mkdir()
            (site / "sitecustomize.py").write_text(_INJECT)
            frames_dir.mkdir(parents=True, exist_ok=True)
            env["PYTHONPATH"] = f"{site}{os.pathsep}{env['PYTHONPATH']}"
            env["IRPIPE_TEST_ENOSPC_UNDER"] = str(frames_dir.resolve())
        cfg_path = W.write_config(wd, cfg)
        proc = W.run(W.snakemake_cmd(wd, cfg_path, [target]), check=False, env=env)
        text = proc.stdout + proc.stderr
        assert proc.returncode != 0
        # One clear line: the rule, the file and the reason.
        assert f"could not write {written}: No space left on device" in text, text[-3000:]
        assert "[irpipe] frames:" in text
        assert "Segmentation fault" not in text and "core dumped" not in text
        assert _leftovers(frames_dir) == [], "a partial or temporary file was left behind"
    assert not (wd / target).exists()
    log = (wd / (target.replace("results/frames/", "results/logs/frames/") + ".log")).read_text()
    assert "No space left on device" in log
