"""Load C3D weights in the public PyTorch port's layout (e.g. Sports-1M ``c3d.pickle``).

The file is a state dict with keys ``conv1.weight, conv1.bias, conv2.*, conv3a.*, conv3b.*,
conv4a.*, conv4b.*, conv5a.*, conv5b.*, fc6.*, fc7.*, fc8.*`` (fc8 is the 487-way Sports-1M head).
A wrapping ``{"state_dict": ...}`` and a ``module.`` prefix (DataParallel) are accepted. The head
(fc8) is replaced: its weights are not loaded and the new n_classes head keeps its fresh
initialisation; the DC layer, when present, is new too. Loading uses ``weights_only=True``.

Errors (all :class:`irpipe.errors.BadInputError` naming the file): missing file, unreadable or
pickled-object file, a layer missing from the file, a layer whose shape differs from the network
built from the config (e.g. a width-scaled network or a crop other than 112 changes fc6).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import torch

from ..checkpoints import load_checkpoint
from ..errors import BadInputError
from .c3d import C3D, PORT_KEYS

log = logging.getLogger(__name__)

TRANSFER_LAYERS = [k for k in PORT_KEYS if k != "fc8"]


def _unwrap(obj: dict, path: Path) -> dict[str, torch.Tensor]:
    if "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    out = {}
    for k, v in obj.items():
        if not isinstance(k, str):
            raise BadInputError(path, f"not a state dict: key {k!r} is not a string")
        if not torch.is_tensor(v):
            raise BadInputError(path, f"not a state dict: entry '{k}' is a {type(v).__name__}, not a tensor")
        out[k[len("module."):] if k.startswith("module.") else k] = v
    return out


def load_port_weights(model: C3D, path: str | os.PathLike) -> dict[str, list[str]]:
    """Copy conv1..fc7 from a port-layout file into ``model``; return what was loaded/skipped."""
    path = Path(path)
    try:
        obj = load_checkpoint(path)
    except BadInputError:
        raise
    except Exception as exc:  # torch's weights-only unpickler raises assorted errors on foreign pickles
        raise BadInputError(path, f"not a readable PyTorch weights file ({type(exc).__name__}: "
                                  f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    state = _unwrap(obj, path)
    own = model.state_dict()
    missing = [f"{layer}.{p}" for layer in TRANSFER_LAYERS for p in ("weight", "bias")
               if f"{layer}.{p}" not in state]
    if missing:
        raise BadInputError(path, "not in the C3D port layout: missing " + ", ".join(missing[:6])
                            + (f" (+{len(missing) - 6} more)" if len(missing) > 6 else "")
                            + f"; file has keys {sorted(state)[:8]}")
    mismatched = []
    for layer in TRANSFER_LAYERS:
        for p in ("weight", "bias"):
            key = f"{layer}.{p}"
            if tuple(state[key].shape) != tuple(own[key].shape):
                mismatched.append(f"{key}: file {tuple(state[key].shape)} vs network {tuple(own[key].shape)}")
    if mismatched:
        raise BadInputError(path, "shape mismatch with the configured network ("
                            + "; ".join(mismatched[:4]) + "): pretrained weights need width_scale 1, "
                            "fc_dim 4096, 16-frame 112x112 clips")
    loaded = []
    with torch.no_grad():
        for layer in TRANSFER_LAYERS:
            for p in ("weight", "bias"):
                key = f"{layer}.{p}"
                own[key].copy_(state[key].to(own[key].dtype))
                loaded.append(key)
    skipped = sorted(k for k in state if k not in loaded)
    head = state.get("fc8.weight")
    log.info("loaded %d tensors from %s; replaced the head (file's fc8 %s -> %d classes); ignored %s",
             len(loaded), path, tuple(head.shape) if head is not None else "absent",
             model.spec.n_classes, skipped)
    return {"loaded": loaded, "skipped": skipped}


def describe_init(pretrained: str | None) -> str:
    """The ``pretrained`` attribute written beside predictions and in table captions."""
    return str(pretrained) if pretrained else "none: random initialisation"
