"""HDF5 stores of frames and flow: one file per video, written atomically.

Frames file (``results/frames/<dataset>/<video_id>.h5``):
  ``frames``          uint8 (T, H, W)  decoded grey frames at original size (if kept)
  ``frames_<name>``   uint8 (T, h, w)  resized copies named in config ``frames.resize``
  attrs: fps, height, width (original), n_frames, source_path, decoder, codec, video_id;
         agc_method, agc_lo, agc_hi (raw window mapped to 0..255), source_bit_depth
         (see :mod:`irpipe.data.agc`; method "none" for 8-bit sources, stored unchanged)
Flow file (``results/flow/<dataset>/<video_id>.h5``):
  ``flow``        float16 (T-1, h, w, 2)  TV-L1 (dx, dy) in pixels of the frames it was computed on
  ``flow_image``  uint8   (T-1, h, w, 3)  x, y clipped to +-bound mapped to 0..255 (128 = 0), magnitude
  attrs: bound, size_name, backend, tvl1 parameters (as ``tvl1.<name>``), fps, video_id
Datasets are chunked one frame per chunk so a clip reads only its frames.
"""
from __future__ import annotations

import os
from typing import Mapping

import h5py
import numpy as np

from ..io import hdf5_writer


def _compression(kind: str, level: int) -> dict:
    if kind == "none":
        return {}
    if kind == "lzf":
        return {"compression": "lzf"}
    return {"compression": "gzip", "compression_opts": int(level)}


def write_arrays(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], attrs: Mapping,
                 compression: str = "gzip", level: int = 4) -> None:
    """Write named arrays (first axis = time) and attributes to one HDF5 file, atomically
    (through ``irpipe.io.hdf5_writer``, which survives a full disk)."""
    with hdf5_writer(path) as h5:
        for name, arr in arrays.items():
            arr = np.ascontiguousarray(arr)
            chunks = (1,) + arr.shape[1:] if arr.ndim >= 2 and arr.shape[0] > 0 else None
            h5.create_dataset(name, data=arr, chunks=chunks,
                              **(_compression(compression, level) if chunks else {}))
        for key, value in attrs.items():
            h5.attrs[key] = "" if value is None else value


def read_attrs(path: str | os.PathLike) -> dict:
    with h5py.File(path, "r") as h5:
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in h5.attrs.items()}


def read_array(path: str | os.PathLike, name: str, start: int | None = None,
               stop: int | None = None) -> np.ndarray:
    with h5py.File(path, "r") as h5:
        if name not in h5:
            raise KeyError(f"{path}: no dataset '{name}' (has {sorted(h5.keys())})")
        return h5[name][slice(start, stop)]


def read_frames(path: str | os.PathLike, size: str | None = None, start: int | None = None,
                stop: int | None = None) -> np.ndarray:
    """Grey frames (T, H, W) uint8; ``size`` picks a resized copy (``frames_<size>``)."""
    return read_array(path, "frames" if size is None else f"frames_{size}", start, stop)


def read_flow(path: str | os.PathLike, start: int | None = None, stop: int | None = None) -> np.ndarray:
    """Raw TV-L1 flow (T-1, h, w, 2) as float32."""
    return read_array(path, "flow", start, stop).astype(np.float32)


def read_flow_images(path: str | os.PathLike, start: int | None = None, stop: int | None = None) -> np.ndarray:
    """The 3-channel 8-bit flow images (T-1, h, w, 3) the CNN flow streams read."""
    return read_array(path, "flow_image", start, stop)


def verify_store(path: str | os.PathLike, expect: Mapping[str, int] | None = None) -> None:
    """Open a store and read every dataset end to end (used by fault tests and --verify)."""
    with h5py.File(path, "r") as h5:
        for name, ds in h5.items():
            _ = ds[-1] if ds.shape and ds.shape[0] else ds[()]
            if expect and name in expect and ds.shape[0] != expect[name]:
                raise ValueError(f"{path}: dataset {name} has {ds.shape[0]} items, expected {expect[name]}")
