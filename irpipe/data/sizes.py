"""Working frame sizes: resize specs, each stage's minimum frame size, the ``auto`` choice and
the feasibility check run once per dataset (by the manifest job) before any per-video job.

Resize specs (``frames.resize.<name>``):

- ``[height, width]``: that exact size (the papers' copies: 128x171, 224x224);
- ``[height, null]`` / ``[null, width]``: one side given, the other from the frame's aspect ratio;
- ``{short_side: N}``: the shorter side becomes N, the aspect ratio is kept (a square 16x16 or
  8x8 sensor stays square instead of being stretched to 3:4).

Stage requirements (in :mod:`irpipe.size_plan`, which sits above the stages it asks) are derived
from the code that would fail or degrade (D-SIFT / O-SIFT bin
layout, the IDT patch, the TV-L1 pyramid, C3D's crop and poolings, I3D's spatial stride) with
the config's parameters. Each gives two thresholds on a frame: ``runs`` (below it the stage
raises) and ``full`` (below it the stage runs reduced: fewer D-SIFT scales, fewer TV-L1 levels,
an I3D map of one position). ``auto`` picks a copy that is ``full``; a configured copy that does
not even ``run`` at the dataset's common frame size is a :class:`ConfigError`.

The plan (choices, sizes, interpolations) is written to ``results/data/<dataset>/sizes.json``
by the manifest job; jobs resolve ``auto`` from it (:func:`resolve_config`).
"""
from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from ..errors import ConfigError

AUTO = "auto"
ORIGINAL = "original"     # name of the decoded frames (dataset ``frames``) in plans and messages


def plan_path(dataset: str, root: str | os.PathLike = ".") -> Path:
    return Path(root) / "results" / "data" / dataset / "sizes.json"


# ------------------------------------------------------------------------------ resize specs

@dataclass(frozen=True)
class ResizeSpec:
    """One ``frames.resize`` entry: ``height``/``width`` (None = from the aspect ratio) or ``short_side``."""
    name: str
    height: int | None = None
    width: int | None = None
    short_side: int | None = None

    def size_for(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) of this copy for a frame of ``height`` x ``width``."""
        h, w = int(height), int(width)
        if self.short_side is not None:
            if h <= w:
                return self.short_side, max(1, int(round(w * self.short_side / h)))
            return max(1, int(round(h * self.short_side / w))), self.short_side
        if self.height is not None and self.width is not None:
            return self.height, self.width
        if self.height is not None:
            return self.height, max(1, int(round(w * self.height / h)))
        return max(1, int(round(h * self.width / w))), self.width

    def describe(self) -> str:
        if self.short_side is not None:
            return f"short side {self.short_side}, aspect kept"
        if self.height is not None and self.width is not None:
            return f"{self.height}x{self.width}"
        return f"height {self.height}, aspect kept" if self.height else f"width {self.width}, aspect kept"


def parse_resize(name: str, spec) -> ResizeSpec:
    """A validated ``frames.resize.<name>`` value -> :class:`ResizeSpec` (ConfigError if unusable)."""
    key = f"frames.resize.{name}"
    if name == AUTO:
        raise ConfigError(f"{key}: 'auto' is reserved for the size choice; name the copy otherwise")
    if isinstance(spec, Mapping):
        if set(spec) != {"short_side"}:
            raise ConfigError(f"{key}: expected {{short_side: N}}, got {dict(spec)}")
        return ResizeSpec(name, short_side=int(spec["short_side"]))
    if isinstance(spec, (list, tuple)) and len(spec) == 2:
        h, w = spec
        if h is None and w is None:
            raise ConfigError(f"{key}: [null, null] gives no size; use [height, width], [height, null] "
                              f"or {{short_side: N}}")
        return ResizeSpec(name, height=None if h is None else int(h), width=None if w is None else int(w))
    raise ConfigError(f"{key}: expected [height, width], [height, null], [null, width] or {{short_side: N}}, "
                      f"got {spec!r}")


INTERPOLATIONS = {"nearest": "INTER_NEAREST", "linear": "INTER_LINEAR", "cubic": "INTER_CUBIC",
                  "area": "INTER_AREA", "lanczos": "INTER_LANCZOS4"}


def cv2_interpolation(name: str) -> int:
    import cv2

    if name not in INTERPOLATIONS:
        raise ConfigError(f"unknown interpolation '{name}' (one of {sorted(INTERPOLATIONS)})")
    return getattr(cv2, INTERPOLATIONS[name])


def interpolation_for(src: tuple[int, int], dst: tuple[int, int], up: str, down: str) -> str | None:
    """Interpolation used from ``src`` to ``dst`` (height, width): ``down`` when both sides shrink,
    None when the size is unchanged, ``up`` otherwise (any side grows)."""
    if tuple(src) == tuple(dst):
        return None
    return down if (dst[0] < src[0] and dst[1] < src[1]) else up


# ------------------------------------------------------------------------ stage requirements


def _get(config: Mapping, dotted: str):
    node = config
    for part in dotted.split("."):
        node = node[part]
    return node


def _set(config: dict, dotted: str, value) -> None:
    *head, last = dotted.split(".")
    node = config
    for part in head:
        node = node[part]
    node[last] = value


# ------------------------------------------------------------------------------ the plan

def common_frame_size(heights: Sequence[int], widths: Sequence[int]) -> tuple[int, int]:
    """The (height, width) most videos share (ties: the smaller area): the dataset's frame size.
    A video of another size is judged by its own job (a bad input there if too small)."""
    if len(heights) == 0:
        raise ConfigError("the manifest lists no videos: no frame size to plan for")
    counts: dict[tuple[int, int], int] = {}
    for h, w in zip(heights, widths):
        counts[(int(h), int(w))] = counts.get((int(h), int(w)), 0) + 1
    return min(counts, key=lambda hw: (-counts[hw], hw[0] * hw[1], hw))


def stored_copies(config: Mapping, dataset: str) -> tuple[list[ResizeSpec], bool]:
    """The resized copies the frames job stores for ``dataset`` and whether it keeps the original."""
    fcfg = config["frames"]
    names = list(fcfg[f"{dataset}_sizes"])
    missing = [n for n in names if n not in fcfg["resize"]]
    if missing:
        raise ConfigError(f"frames.{dataset}_sizes names {missing}, which frames.resize does not define "
                          f"(defined: {sorted(fcfg['resize'])})")
    return [parse_resize(n, fcfg["resize"][n]) for n in names], bool(fcfg["keep_original"])


def write_plan(path: str | os.PathLike, plan: Mapping) -> None:
    from ..io import write_json

    write_json(path, plan)


def read_plan(dataset: str, root: str | os.PathLike = ".") -> dict:
    path = plan_path(dataset, root)
    if not path.exists():
        raise ConfigError(f"a frame size is 'auto' but {path} (written by the manifest job) is missing")
    with open(path) as fh:
        return json.load(fh)


def resolve_config(config: Mapping, dataset: str, root: str | os.PathLike = ".") -> dict:
    """A copy of ``config`` whose ``auto`` size keys of ``dataset`` hold the planned copy names."""
    keys = [k for k in _PLAN_KEYS[dataset] if _has(config, k) and _get(config, k) == AUTO]
    if not keys:
        return config if isinstance(config, dict) else dict(config)
    out = copy.deepcopy(dict(config))
    planned = read_plan(dataset, root)["keys"]
    for k in keys:
        if k not in planned:
            raise ConfigError(f"{k} is auto but the {dataset} size plan has no entry for it")
        _set(out, k, planned[k]["chosen"])
    return out


_PLAN_KEYS = {"recognition": ("handcrafted.frames_size", "c3d.frame_size", "flow.recognition_size",
                              "detection.recognition_frame_size"),
              "detection": ("detection.frame_size", "flow.detection_size")}


def _has(config: Mapping, dotted: str) -> bool:
    try:
        _get(config, dotted)
        return True
    except (KeyError, TypeError):
        return False


def caption(plan: Mapping, key: str) -> str:
    """One phrase naming the frames a stage read, for table and figure captions."""
    e = plan["keys"][key]
    h, w = e["size"]
    src = "x".join(str(v) for v in plan["frame_size"])
    how = "native" if e["interpolation"] is None else f"{e['interpolation']} from {src}"
    return f"{e['copy']} frames {h}x{w} ({how})"
