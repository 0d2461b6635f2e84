import errno

import numpy as np
import pytest

from irpipe.data.stores import read_frames, write_arrays
from irpipe.io import OutputWriteError, atomic_path, write_csv, write_json


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    dest = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_path(dest) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert list(tmp_path.iterdir()) == []


def test_disk_full_is_a_clear_error_and_leaves_no_file(tmp_path, monkeypatch):
    import h5py

    real = h5py.File

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(h5py, "File", full)
    dest = tmp_path / "frames.h5"
    with pytest.raises(OutputWriteError, match=r"could not write .*frames.h5: No space left on device"):
        write_arrays(dest, {"frames": np.zeros((2, 4, 4), np.uint8)}, {})
    monkeypatch.setattr(h5py, "File", real)
    assert list(tmp_path.iterdir()) == []


def test_round_trip(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_arrays(tmp_path / "a.h5", {"frames": arr}, {"fps": 15.0})
    assert (read_frames(tmp_path / "a.h5") == arr).all()
    write_json(tmp_path / "a.json", {"x": np.float32(1.5)})
    import pandas as pd
    write_csv(tmp_path / "a.csv", pd.DataFrame({"a": [1]}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "a.h5", "a.json"]


def test_atomic_dir_leaves_all_or_nothing(tmp_path):
    from irpipe.io import atomic_dir

    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "shard") as d:
            (d / "a.h5").write_bytes(b"x")
            raise RuntimeError("killed half-way")
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no folder that looks complete
    (tmp_path / "shard").mkdir()  # an empty folder from an older interrupted job is replaced
    with atomic_dir(tmp_path / "shard") as d:
        (d / "a.h5").write_bytes(b"x")
        (d / "b.h5").write_bytes(b"y")
    assert sorted(p.name for p in (tmp_path / "shard").iterdir()) == ["a.h5", "b.h5"]
    assert [p.name for p in tmp_path.iterdir()] == ["shard"]
