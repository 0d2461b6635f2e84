"""How the pipeline records a video's path (kept free of pandas: per-video jobs import it)."""
from __future__ import annotations

from pathlib import Path


def stored_path(path: str | Path) -> str:
    """How a manifest records a video's path: relative to the working directory when the
    file lies inside it (the synthetic set under results/), so that a results folder can be
    moved and two runs in different folders give identical tables; absolute otherwise."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(resolved)
