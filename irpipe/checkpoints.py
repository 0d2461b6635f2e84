"""Checkpoints that survive a kill at any point and never execute code when loaded.

``save_checkpoint`` writes to a temporary file and renames it, so the newest complete
checkpoint is always intact. ``load_checkpoint`` uses ``torch.load(weights_only=True)``:
a file carrying a pickled object other than tensors and plain containers is refused with
an error naming the file, instead of running whatever the pickle asks for. ``save_progress``
and ``resume`` are the one checkpoint-and-resume protocol of every trainer (C3D, detection).
A run's fingerprint covers its settings *and the content of what it trains on*
(``data_digest``): a job that Snakemake re-runs because an input changed (new flow, features
recomputed) must train afresh, not resume the finished run of the old data.
"""
from __future__ import annotations

import logging
import os
import pickle
import re
from pathlib import Path
from typing import Any, Mapping

from .errors import BadInputError
from .io import atomic_path

log = logging.getLogger(__name__)


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    import torch

    with atomic_path(path, suffix=".tmp.pt") as tmp:
        torch.save(state, tmp)


def _refusal(text: str) -> str:
    """A one-line reason from torch's weights_only error, without its advice to retry unsafely."""
    detail = next((ln.strip() for ln in text.splitlines() if "GLOBAL" in ln), "")
    if detail:
        m = re.search(r"GLOBAL (\S+)", detail)
        what = m.group(1) if m else detail
        return (f"refused to load: the file asks to call or import {what}; only tensors and plain "
                "containers are accepted (weights_only=True), so it may be a code-execution payload")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    detail = next((ln for ln in lines if "error" in ln.lower() and not ln.startswith("Weights only")), "")
    after = lines[lines.index(detail) + 1] if detail in lines and lines.index(detail) + 1 < len(lines) else ""
    return ("not a readable PyTorch checkpoint (loaded with weights_only=True)"
            + (f": {after}" if after and not after.startswith("Check the documentation") else ""))


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Load a checkpoint or weights file safely; raise BadInputError naming the file."""
    import torch

    path = Path(path)
    if not path.exists():
        raise BadInputError(path, "file does not exist")
    if path.stat().st_size == 0:
        raise BadInputError(path, "file is empty")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise BadInputError(path, _refusal(str(exc))) from None
    except (RuntimeError, EOFError, ValueError, OSError, KeyError) as exc:
        raise BadInputError(path, f"not a readable PyTorch checkpoint: {str(exc).splitlines()[0]}") from None
    if not isinstance(obj, dict):
        raise BadInputError(path, f"expected a dict of tensors, got {type(obj).__name__}")
    return obj


def data_digest(*arrays: Any) -> str:
    """A digest of the dtypes, shapes and bytes of numpy arrays or torch tensors, in order.

    Part of every training fingerprint: video ids alone do not change when a video's frames,
    flow or features do."""
    import hashlib

    import numpy as np

    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        if hasattr(a, "detach"):  # a torch tensor (any device; bfloat16 has no numpy dtype)
            a = a.detach().cpu()
            a = a.float() if str(a.dtype) == "torch.bfloat16" else a
            a = a.numpy()
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape};".encode())
        h.update(a.reshape(-1).view(np.uint8) if a.size else b"")
    return h.hexdigest()


def save_progress(path: str | os.PathLike, fingerprint: str, progress: int, modules: Mapping[str, Any],
                  optimizer, *, rng: bool = False, **extra) -> None:
    """Checkpoint a training run: ``modules``' and the optimizer's state, how far it got
    (``progress``: steps or epochs), the ``fingerprint`` of what it trains (settings and data)
    and, with ``rng``, torch's CPU generator state (for runs that draw from it between saves)."""
    import torch

    state = {"fingerprint": fingerprint, "progress": int(progress), "optimizer": optimizer.state_dict(),
             **{name: m.state_dict() for name, m in modules.items()}, **extra}
    if rng:
        state["torch_rng"] = torch.get_rng_state()
    save_checkpoint(path, state)


def resume(path: str | os.PathLike | None, fingerprint: str, modules: Mapping[str, Any], optimizer,
           map_location: Any = "cpu") -> tuple[int, dict | None]:
    """Restore a run saved by ``save_progress`` into ``modules`` and ``optimizer``.

    Returns ``(progress, state)``; ``(0, None)`` when there is no checkpoint or it was written
    for another fingerprint (then it is ignored, with a warning, and training starts over)."""
    import torch

    if not path or not Path(path).exists():
        return 0, None
    state = load_checkpoint(path, map_location=map_location)
    if state.get("fingerprint") != fingerprint:
        log.warning("ignoring checkpoint %s: it was written for other settings or data", path)
        return 0, None
    missing = [k for k in ("progress", "optimizer", *modules) if k not in state]
    if missing:
        raise BadInputError(path, f"checkpoint lacks {missing}")
    for name, m in modules.items():
        m.load_state_dict(state[name])
    optimizer.load_state_dict(state["optimizer"])
    if "torch_rng" in state:
        torch.set_rng_state(state["torch_rng"].cpu())
    log.info("resumed from %s at %d", path, int(state["progress"]))
    return int(state["progress"]), state
