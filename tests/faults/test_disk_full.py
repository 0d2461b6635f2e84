"""A full disk under the results folder: the job fails with a clear message naming the file
and the reason, and leaves no partial file.

The disk is real where the test may mount one (root: a size-limited tmpfs, as CI runs);
otherwise ENOSPC is injected at the operating-system I/O layer of the job process
(``os.fsync``, which atomic writes call before the rename, raises it for files under the
folder), which is where network filesystems report a full disk.
"""
from __future__ import annotations

import contextlib
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
def full_disk(path: Path, size: str = "4k"):
    """Mount a tiny tmpfs on ``path`` (created, must be empty) and fill it up."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


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
    log = (wd / f"results/logs/frames/recognition/{video}.log").read_text()
    assert "No space left on device" in log
