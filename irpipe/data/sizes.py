"""Working frame sizes: resize specs, each stage's minimum frame size, the ``auto`` choice and
the feasibility check run once per dataset (by the manifest job) before any per-video job.

Resize specs (``frames.resize.<name>``):

- ``[height, width]``: that exact size (the papers' copies: 128x171, 224x224);
- ``[height, null]`` / ``[null, width]``: one side given, the other from the frame's aspect ratio;
- ``{short_side: N}``: the shorter side becomes N, the aspect ratio is kept (a square 16x16 or
  8x8 sensor stays square instead of being stretched to 3:4).

Stage requirements are derived from the code that would fail or degrade (D-SIFT / O-SIFT bin
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
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

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

@dataclass(frozen=True)
class Requirement:
    """What one stage needs of a frame: ``check(h, w)`` -> (runs, full, detail)."""
    stage: str
    check: Callable[[int, int], tuple[bool, bool, str]]
    what: str                                  # the parameters that set it, for messages

    def min_short_side(self, full: bool = True, limit: int = 4096) -> int:
        """Smallest square side on which the stage runs (``full=False``) or runs in full."""
        for s in range(1, limit + 1):
            runs, complete, _ = self.check(s, s)
            if (complete if full else runs):
                return s
        raise ConfigError(f"{self.stage}: no frame up to {limit}px satisfies {self.what}")


def sift_requirement(stage: str, cfg: Mapping) -> Requirement:
    from ..features.dsift import fitting_bin_sizes

    bins = [int(b) for b in cfg["bin_sizes"]]

    def check(h, w):
        fit = fitting_bin_sizes(bins, min(h, w))
        return bool(fit), len(fit) == len(bins), f"bin sizes {fit} of {bins} fit"
    return Requirement(stage, check, f"bin sizes {bins}")


def idt_requirement(cfg: Mapping) -> Requirement:
    from ..features.idt import IDTParams, min_frame_side, n_scales

    p = IDTParams.from_config(cfg)
    need = min_frame_side(p)

    def check(h, w):
        ok = min(h, w) >= need
        return ok, ok, (f"{n_scales(h, w, p)} of {p.scale_num} scales" if ok else f"< {need}px patch")
    return Requirement("IDT", check, f"patch_size {p.patch_size}")


def tvl1_requirement(cfg: Mapping) -> Requirement:
    from ..flow.tvl1 import pyramid_sizes

    n, step = int(cfg["nscales"]), float(cfg["scale_step"])

    def check(h, w):
        k = len(pyramid_sizes(h, w, n, step))
        return True, k == n, f"{k} of {n} pyramid levels"    # OpenCV runs (fewer levels) on any size
    return Requirement("TV-L1", check, f"nscales {n}, scale_step {step} (levels >= 16 px)")


def c3d_requirement(cfg: Mapping) -> Requirement:
    from ..data.clips import crop_size
    from ..models.c3d import C3DSpec

    clip_len, crop = int(cfg["clips"]["clip_len"]), cfg["clips"]["crop"]

    def check(h, w):
        c = crop_size(h, crop)
        if c > min(h, w) or c < 1:
            return False, False, f"crop {c} does not fit {h}x{w}"
        try:
            C3DSpec(clip_len=clip_len, crop=c).pool5_shape()
        except ValueError:
            return False, False, f"crop {c} too small for the five poolings"
        return True, True, f"crop {c}"
    return Requirement("C3D", check, f"clips.crop {'null' if crop is None else crop} (null = 112/128 of the height), clip_len {clip_len}")


def i3d_spatial_stride(width: float) -> int:
    """Product of the spatial strides of the I3D backbone's layers (32 for Inception-v1)."""
    from ..models.i3d import InceptionI3d

    net = InceptionI3d(in_channels=3, width=min(float(width), 0.125), logits=False)
    stride = 1
    for name in net.end_points:
        stride *= int(getattr(getattr(net, name), "stride", (1, 1, 1))[1])
    return stride


def i3d_requirement(cfg: Mapping) -> Requirement:
    stride = i3d_spatial_stride(cfg["i3d"]["width"])

    def check(h, w):
        cells = (math.ceil(h / stride), math.ceil(w / stride))
        return True, min(h, w) >= stride, f"final map {cells[0]}x{cells[1]} (stride {stride})"
    return Requirement("I3D", check, f"spatial stride {stride}")


@dataclass(frozen=True)
class SizeKey:
    """A config key naming the frames a stage reads."""
    key: str                                   # dotted config path
    requirements: tuple[Requirement, ...]
    allow_original: bool = False               # null = the decoded frames (handcrafted only)


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


def size_keys(config: Mapping, dataset: str) -> list[SizeKey]:
    """The size keys of ``dataset``'s enabled stages and what each must satisfy."""
    out = []
    flow = tvl1_requirement(config["flow"]["tvl1"])
    c3d_on = "c3d" in config and config["c3d"].get("enabled", True)
    det_on = "detection" in config and config["dataset"]["detection"].get("enabled", True)
    if dataset == "recognition":
        hc = config.get("handcrafted", {})
        if hc.get("enabled", True) and hc:
            out.append(SizeKey("handcrafted.frames_size",
                               (sift_requirement("D-SIFT", hc["dsift"]), sift_requirement("O-SIFT", hc["osift"]),
                                idt_requirement(hc["idt"])), allow_original=True))
        flow_reqs = [flow]
        if c3d_on:
            c3d = c3d_requirement(config["c3d"])
            out.append(SizeKey("c3d.frame_size", (c3d,)))
            if "flow" in config["c3d"].get("streams", []):
                flow_reqs.append(c3d)                  # the flow stream crops the flow images
        out.append(SizeKey("flow.recognition_size", tuple(flow_reqs)))
        if det_on and config["detection"].get("recognition", {}).get("enabled", True):
            out.append(SizeKey("detection.recognition_frame_size", (i3d_requirement(config["detection"]),)))
    else:
        if det_on:
            i3d = i3d_requirement(config["detection"])
            out.append(SizeKey("detection.frame_size", (i3d,)))
            out.append(SizeKey("flow.detection_size", (flow, i3d)))
        else:
            out.append(SizeKey("flow.detection_size", (flow,)))
    return out


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


def _evaluate(sk: SizeKey, h: int, w: int) -> tuple[bool, bool, list[str]]:
    runs, full, details = True, True, []
    for r in sk.requirements:
        a, b, d = r.check(h, w)
        runs, full = runs and a, full and b
        details.append(f"{r.stage}: {d}")
    return runs, full, details


def _suggestion(sk: SizeKey, dataset: str) -> str:
    side = max(r.min_short_side(full=True) for r in sk.requirements)
    return (f"add a copy that fits, e.g. frames.resize.{sk.key.split('.')[0]}_{side}: {{short_side: {side}}} "
            f"listed in frames.{dataset}_sizes, and set {sk.key} to its name (or auto)")


def plan_sizes(config: Mapping, dataset: str, heights: Sequence[int], widths: Sequence[int]) -> dict:
    """Resolve every size key of ``dataset`` for frames of the given sizes and check feasibility.

    ``auto``: for handcrafted.frames_size the decoded frames when every descriptor runs in full on
    them (no resampling), else the smallest stored copy on which they do; for flow and CNN keys
    the smallest stored copy on which the stage(s) run in full; failing that, the largest copy
    on which they run (recorded as reduced). A configured value that cannot run at the dataset's
    common frame size, or an ``auto`` that finds nothing, raises one ConfigError naming each key
    and a value that works."""
    copies, keep_original = stored_copies(config, dataset)
    if len(heights) == 0:      # nothing to size (every video skipped): no per-video job will ask
        return {"dataset": dataset, "frame_size": None, "n_videos": 0, "copies": {}, "keys": {}}
    h0, w0 = common_frame_size(heights, widths)
    fcfg = config["frames"]
    up, down = fcfg["interpolation_up"], fcfg["interpolation_down"]
    sizes: dict[str, tuple[int, int]] = {c.name: c.size_for(h0, w0) for c in copies}
    interp = {c.name: interpolation_for((h0, w0), sizes[c.name], up, down) for c in copies}
    plan = {"dataset": dataset, "frame_size": [h0, w0],
            "n_videos": int(len(heights)),
            "other_sizes": sorted({(int(h), int(w)) for h, w in zip(heights, widths)} - {(h0, w0)}),
            "interpolation_up": up, "interpolation_down": down,
            "copies": {c.name: {"spec": c.describe(), "size": list(sizes[c.name]), "interpolation": interp[c.name]}
                       for c in copies},
            "keys": {}}
    if keep_original:
        plan["copies"][ORIGINAL] = {"spec": "decoded frames", "size": [h0, w0], "interpolation": None}
    problems = []
    for sk in size_keys(config, dataset):
        value = _get(config, sk.key)
        candidates = [(c.name, sizes[c.name]) for c in copies]
        if sk.allow_original and keep_original:
            candidates.append((None, (h0, w0)))
        entry = {"configured": value, "requirements": {r.stage: r.what for r in sk.requirements},
                 "min_short_side": max(r.min_short_side(full=False) for r in sk.requirements),
                 "full_short_side": max(r.min_short_side(full=True) for r in sk.requirements)}
        if value == AUTO:
            judged = [(name, hw, *_evaluate(sk, *hw)) for name, hw in candidates]
            full = [j for j in judged if j[3]]
            runs = [j for j in judged if j[2]]
            original_full = [j for j in full if j[0] is None]
            if original_full:
                pick = original_full[0]
            elif full:
                pick = min(full, key=lambda j: (min(j[1]), j[1][0] * j[1][1]))
            elif runs:
                pick = max(runs, key=lambda j: (min(j[1]), j[1][0] * j[1][1]))
            else:
                problems.append(f"{sk.key}: auto found no stored copy of {dataset} frames "
                                f"({h0}x{w0}) that fits ({'; '.join(r.what for r in sk.requirements)}): "
                                + _suggestion(sk, dataset))
                continue
            name, hw, _, is_full, details = pick
        else:
            name = value
            if name is None and not sk.allow_original:
                problems.append(f"{sk.key}: null is not a stored copy; set auto or a name in frames.{dataset}_sizes")
                continue
            if name is None:
                if not keep_original:
                    problems.append(f"{sk.key}: null reads the decoded frames, but frames.keep_original is false; "
                                    f"set {sk.key}: auto")
                    continue
                hw = (h0, w0)
            elif name not in sizes:
                problems.append(f"{sk.key}: '{name}' is not among frames.{dataset}_sizes {list(sizes)}; "
                                f"set {sk.key}: auto or add it there")
                continue
            else:
                hw = sizes[name]
            ok, is_full, details = _evaluate(sk, *hw)
            if not ok:
                alt = plan_sizes_auto_value(config, dataset, sk, candidates)
                problems.append(f"{sk.key}: {name or ORIGINAL} frames of {hw[0]}x{hw[1]} cannot run "
                                f"({'; '.join(details)}); "
                                + (f"set {sk.key}: {alt} (or auto)" if alt is not None else _suggestion(sk, dataset)))
                continue
        entry.update({"chosen": name, "copy": name or ORIGINAL, "size": list(hw), "full": bool(is_full),
                      "details": details,
                      "interpolation": None if name is None else interp[name]})
        plan["keys"][sk.key] = entry
    if problems:
        raise ConfigError(f"frame sizes do not fit the {dataset} data ({h0}x{w0} frames, "
                          f"{len(heights)} videos):\n  " + "\n  ".join(problems))
    return plan


def plan_sizes_auto_value(config, dataset, sk: SizeKey, candidates) -> str | None:
    """A stored copy name (or 'null' for the decoded frames) on which ``sk``'s stages run in full."""
    for name, hw in sorted(candidates, key=lambda c: (min(c[1]), c[1][0] * c[1][1])):
        if _evaluate(sk, *hw)[1]:
            return "null" if name is None else name
    return None


def check_manifest(config: Mapping, dataset: str, manifest) -> dict:
    """:func:`plan_sizes` from a manifest table's ``height`` / ``width`` columns."""
    return plan_sizes(config, dataset, list(manifest["height"]), list(manifest["width"]))


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
