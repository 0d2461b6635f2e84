"""Checkpoints that survive a kill at any point and never execute code when loaded.

``save_checkpoint`` writes to a temporary file and renames it, so the newest complete
checkpoint is always intact. ``load_checkpoint`` uses ``torch.load(weights_only=True)``:
a file carrying a pickled object other than tensors and plain containers is refused with
an error naming the file, instead of running whatever the pickle asks for.
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from ..errors import BadInputError
from ..io import atomic_path


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    import torch

    with atomic_path(path, suffix=".tmp.pt") as tmp:
        torch.save(state, tmp)


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
        raise BadInputError(path, "refused to load: the file holds pickled objects other than "
                                  f"tensors and plain containers (weights_only=True): {exc}".splitlines()[0]) from None
    except (RuntimeError, EOFError, ValueError, OSError) as exc:
        raise BadInputError(path, f"not a readable PyTorch checkpoint: {str(exc).splitlines()[0]}") from None
    if not isinstance(obj, dict):
        raise BadInputError(path, f"expected a dict of tensors, got {type(obj).__name__}")
    return obj
