"""Atomic file output: a job interrupted at any point never leaves a complete-looking file.

Everything irpipe writes goes through these helpers: data is written to a temporary file
in the destination folder and renamed into place only once it is complete (rename is
atomic on POSIX within one filesystem).
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np


class OutputWriteError(OSError):
    """A result could not be written (disk full, permission, ...); nothing was left behind."""


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On any exception the temporary file is removed and the exception propagates
    (OSError is re-raised as OutputWriteError naming the destination).
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{dest.name}.", suffix=suffix if suffix is not None else ".tmp" + dest.suffix,
        dir=dest.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        _fsync_file(tmp_path)
        os.replace(tmp_path, dest)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        raise OutputWriteError(exc.errno, f"could not write {dest}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; rename it onto ``path`` on success.

    A shard job writes its per-video files here, so that a job killed half-way never leaves a
    folder that looks complete but lacks videos. A write error names the final path."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        yield tmp
        if dest.exists():  # an empty folder left by an older, interrupted job
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except OutputWriteError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputWriteError(exc.errno, str(exc.strerror or exc).replace(str(tmp), str(dest))) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_csv(path: str | os.PathLike, df, **kwargs) -> None:
    """Write a pandas DataFrame as CSV atomically (index off unless asked for)."""
    kwargs.setdefault("index", False)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, **kwargs)


def write_npz(path: str | os.PathLike, **arrays) -> None:
    with atomic_path(path, suffix=".tmp.npz") as tmp:
        np.savez_compressed(tmp, **arrays)


@contextlib.contextmanager
def hdf5_writer(path: str | os.PathLike) -> Iterator[Any]:
    """Yield an ``h5py.File`` open for writing whose content lands at ``path`` atomically.

    The one way irpipe writes HDF5. The file is built in memory and written with plain
    Python I/O: when the disk is full, HDF5 writing to disk itself reports the failure only
    at close, as a RuntimeError, and then crashes the interpreter (segmentation fault) when
    it retries the flush at exit (seen with h5py 3 on a full tmpfs;
    tests/faults/test_disk_full.py). Plain writes raise OSError(ENOSPC), which atomic_path
    turns into an OutputWriteError naming the file. An exception inside the block leaves
    nothing behind.
    """
    import io

    import h5py  # lazy: io is imported by jobs that never touch HDF5

    with atomic_path(path, suffix=".tmp.h5") as tmp:
        buf = io.BytesIO()
        with h5py.File(buf, "w") as h5:
            yield h5
        with open(tmp, "wb") as fh:
            fh.write(buf.getbuffer())


def hdf5_strings(values) -> tuple[np.ndarray, Any]:
    """``(data, dtype)`` for a variable-length UTF-8 string dataset."""
    import h5py

    return np.array([str(v) for v in values], dtype=object), h5py.string_dtype("utf-8")


def link_or_copy(src: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Put ``src``'s content at ``dest`` atomically: a hard link where the filesystem allows
    one (no extra space or time), else a copy."""
    src = Path(src)
    if not src.is_file():
        raise FileNotFoundError(f"{src}: expected file is missing")
    with atomic_path(dest) as tmp:
        tmp.unlink()
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)


def read_json(path: str | os.PathLike) -> Any:
    with open(path) as fh:
        return json.load(fh)
