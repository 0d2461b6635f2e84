"""The frame-size plan of a dataset: what each stage needs (from the code that would fail:
descriptor patches and bins, TV-L1's pyramid, C3D's crop and pooling, I3D's strides), which stored
copy each ``auto`` size key reads, and the feasibility check the manifest job runs once.

It sits above the stages it asks (features, flow, models); the size specs, the plan file and
``resolve_config`` that jobs call live in :mod:`irpipe.data.sizes`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from .data.sizes import AUTO, ORIGINAL, _get, common_frame_size, interpolation_for, stored_copies
from .errors import ConfigError


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
    from .features.dsift import fitting_bin_sizes

    bins = [int(b) for b in cfg["bin_sizes"]]

    def check(h, w):
        fit = fitting_bin_sizes(bins, min(h, w))
        return bool(fit), len(fit) == len(bins), f"bin sizes {fit} of {bins} fit"
    return Requirement(stage, check, f"bin sizes {bins}")


def idt_requirement(cfg: Mapping) -> Requirement:
    from .features.idt import IDTParams, min_frame_side, n_scales

    p = IDTParams.from_config(cfg)
    need = min_frame_side(p)

    def check(h, w):
        ok = min(h, w) >= need
        return ok, ok, (f"{n_scales(h, w, p)} of {p.scale_num} scales" if ok else f"< {need}px patch")
    return Requirement("IDT", check, f"patch_size {p.patch_size}")


def tvl1_requirement(cfg: Mapping) -> Requirement:
    from .flow.tvl1 import pyramid_sizes

    n, step = int(cfg["nscales"]), float(cfg["scale_step"])

    def check(h, w):
        k = len(pyramid_sizes(h, w, n, step))
        return True, k == n, f"{k} of {n} pyramid levels"    # OpenCV runs (fewer levels) on any size
    return Requirement("TV-L1", check, f"nscales {n}, scale_step {step} (levels >= 16 px)")


def c3d_requirement(cfg: Mapping) -> Requirement:
    from .data.clips import crop_size
    from .models.c3d import C3DSpec

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
    from .models.i3d import InceptionI3d

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
