"""Frozen I3D snippet features of the infrared and TV-L1 flow streams, extracted once per
video and cached in one HDF5 file per dataset (group per video: ``ir`` and ``flow_tvl1``,
each (S, D) float32 with S = ceil(T / 8)). Every detection variant reads this cache; only
the FEN variant recomputes flow features (its flow is learned).

Inputs: ``results/frames/<dataset>/<video>.h5`` (``frames_<size>`` uint8, grey, repeated to
three channels, scaled to [-1, 1]) and ``results/flow/<dataset>/<video>.h5`` (``flow``
float16 (T-1, h, w, 2), clipped to +-bound and divided by bound; a zero field is appended so
that flow and frames have the same length, as the public code does).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Iterable, Mapping

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..data import stores
from ..errors import BadInput, BadInputError, handle_bad_input
from ..io import hdf5_writer
from ..models.i3d import InceptionI3d, load_i3d_weights
from .data import SNIPPET

log = logging.getLogger(__name__)

STREAM_SEED_OFFSET = {"ir": 6001, "flow": 6002}


def build_extractor(stream: str, icfg: Mapping, seed: int) -> tuple[InceptionI3d, str]:
    """Frozen I3D for 'ir' (3 channels) or 'flow' (2 channels); returns (model, init description)."""
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(int(seed) + STREAM_SEED_OFFSET[stream])
    model = InceptionI3d(int(icfg["logits_classes"]), in_channels=3 if stream == "ir" else 2,
                         width=float(icfg["width"]))
    torch.random.set_rng_state(gen_state)
    weights = icfg.get(f"weights_{stream}")
    if weights:
        load_i3d_weights(model, weights)
        init = f"pretrained:{Path(weights).name}"
    else:
        init = f"random-init(seed={int(seed) + STREAM_SEED_OFFSET[stream]})"
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, init


def ir_tensor(frames: np.ndarray) -> torch.Tensor:
    """(T, H, W) uint8 -> (1, 3, T, H, W) in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).float().div_(127.5).sub_(1.0)
    return x[None, None].expand(1, 3, *x.shape)


def flow_tensor(flow: np.ndarray, bound: float, size: tuple[int, int] | None = None) -> torch.Tensor:
    """(T-1, h, w, 2) float -> (1, 2, T, H, W) in [-1, 1] with a zero field appended;
    resized to ``size`` (displacements scaled with the image) when given."""
    f = torch.from_numpy(np.ascontiguousarray(flow, dtype=np.float32)).permute(0, 3, 1, 2)  # (T-1, 2, h, w)
    if size is not None and tuple(f.shape[-2:]) != tuple(size):
        sy, sx = size[0] / f.shape[-2], size[1] / f.shape[-1]
        f = F.interpolate(f, size=size, mode="bilinear", align_corners=False)
        f = f * torch.tensor([sx, sy]).view(1, 2, 1, 1)
    f = (f / bound).clamp_(-1, 1)
    f = torch.cat([f, torch.zeros_like(f[:1])], 0)
    return f.permute(1, 0, 2, 3)[None]


def extract(model: InceptionI3d, x: torch.Tensor, chunk_snippets: int = 32) -> torch.Tensor:
    """Features (D, S) of (1, C, T, H, W) in chunks of ``chunk_snippets`` * 8 frames."""
    step = chunk_snippets * SNIPPET
    outs = [model.extract_features(x[:, :, s:s + step]) for s in range(0, x.shape[2], step)]
    return torch.cat(outs, -1)[0]


def extract_dataset(videos: Iterable[str], frame_stores: Mapping[str, str | os.PathLike],
                    flow_stores: Mapping[str, str | os.PathLike],
                    out_path: str | os.PathLike, cfg: Mapping, seed: int, frame_size: str, bound: float,
                    policy: str = "error", dataset: str = "detection", bad: list[BadInput] | None = None) -> dict:
    """Extract IR and TV-L1 flow I3D features of every video into one HDF5 cache."""
    icfg = cfg["i3d"]
    ir_model, ir_init = build_extractor("ir", icfg, seed)
    fl_model, fl_init = build_extractor("flow", icfg, seed)
    bad = bad if bad is not None else []
    n = 0
    # no_grad as a block: an exception mid-extraction leaves the caller's grad mode as it was.
    with torch.no_grad(), hdf5_writer(out_path) as h5:
        for vid in tqdm(list(videos), desc=f"I3D features ({dataset})", mininterval=5):
            fpath, wpath = Path(frame_stores[vid]), Path(flow_stores[vid])
            try:
                frames = stores.read_frames(fpath, frame_size)
                if frames.shape[0] < SNIPPET:
                    raise BadInputError(fpath, f"{frames.shape[0]} frames, fewer than one {SNIPPET}-frame snippet")
                flow = stores.read_flow(wpath)
                if flow.shape[0] != frames.shape[0] - 1:
                    raise BadInputError(wpath, f"{flow.shape[0]} flow fields for {frames.shape[0]} frames")
            except KeyError as exc:
                raise BadInputError(fpath, str(exc)) from None
            except BadInputError as exc:
                handle_bad_input(exc, policy, dataset, "detection_features", bad)
                continue
            fi = extract(ir_model, ir_tensor(frames), icfg["chunk_snippets"])
            ff = extract(fl_model, flow_tensor(flow, bound, frames.shape[1:]), icfg["chunk_snippets"])
            g = h5.create_group(vid)
            g.create_dataset("ir", data=fi.T.numpy().astype(np.float32))
            g.create_dataset("flow_tvl1", data=ff.T.numpy().astype(np.float32))
            g.attrs["n_frames"] = int(frames.shape[0])
            n += 1
        h5.attrs.update({"ir_init": ir_init, "flow_init": fl_init, "width": float(icfg["width"]),
                         "feature_dim": int(ir_model.feature_dim), "frame_size": frame_size, "snippet": SNIPPET})
    return {"videos": n, "ir_init": ir_init, "flow_init": fl_init, "feature_dim": ir_model.feature_dim}


def read_features(path: str | os.PathLike, videos: Iterable[str] | None = None) -> dict[str, dict[str, np.ndarray]]:
    with h5py.File(path, "r") as h5:
        names = list(h5.keys()) if videos is None else list(videos)
        out = {}
        for v in names:
            if v not in h5:
                raise BadInputError(path, f"no features for video '{v}'")
            out[v] = {k: h5[v][k][()] for k in h5[v].keys()}
            out[v]["n_frames"] = int(h5[v].attrs["n_frames"])
        return out


def read_feature_attrs(path: str | os.PathLike) -> dict:
    return stores.read_attrs(path)
