"""Checkpoints that survive a kill at any point and never execute code when loaded.

``save_checkpoint`` writes to a temporary file and renames it, so the newest complete
checkpoint is always intact. ``load_checkpoint`` uses ``torch.load(weights_only=True)``:
a file carrying a pickled object other than tensors and plain containers is refused with
an error naming the file, instead of running whatever the pickle asks for.
"""
from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from typing import Any

from .errors import BadInputError
from .io import atomic_path


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
