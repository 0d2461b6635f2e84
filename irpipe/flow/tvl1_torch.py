"""Batched TV-L1 optical flow in PyTorch, following OpenCV's ``DualTVL1OpticalFlow``.

The algorithm is the duality-based TV-L1 of Zach, Pock and Bischof (2007) in the variant
OpenCV ships (opencv_contrib ``optflow``, derived from Sanchez Perez et al., IPOL 2013).
This module re-implements it step for step so that its flow matches
``cv2.optflow.DualTVL1OpticalFlow_create(...).calc(prev, next, None)`` at the same parameters,
while processing a batch of frame pairs of one size at once on CPU or CUDA.

What OpenCV does, and what this module does the same way (read off OpenCV's source, see
docs/tvl1.md for the verification of each building block against cv2):

* Pyramid: level 0 is the frame as float (uint8 values, no rescaling); level s is level s-1
  resized by ``scale_step`` with bilinear interpolation (``cv2.resize(..., fx=scale_step,
  INTER_LINEAR)``: output size rounded, source coordinate ``(d + 0.5) / scale_step - 0.5``,
  clamped at the borders); no Gaussian pre-smoothing.  Levels stop before one would be
  smaller than 16 pixels on a side.  Here both resizes are small dense matrices applied with
  one batched matmul per axis.
* Per level: the dual variables p are reset to zero; the centred gradient of I1 (one-sided
  half differences on the border) is computed once; then for each of ``warps`` warps I1 and
  its gradient are warped by the current flow with bicubic interpolation (a = -0.75) and zero
  outside the image (OpenCV's ``remap(..., INTER_CUBIC)`` with its default constant border;
  here 16 gathers with the same cubic weights, see ``warp_bicubic``), and the linearised data term
  ``rho_c = I1w - I1wx*u1 - I1wy*u2 - I0`` and ``|grad I1w|^2`` are formed.
* Iterations: up to ``outer_iterations`` outer loops, each starting with a 5x5 (or
  ``median_filtering``) median filter of u1 and u2 (replicated border, as ``cv2.medianBlur``),
  each running up to ``inner_iterations`` steps of: thresholding v = u + TH(rho) with
  ``lambda*theta``; u = v + theta * div(p) (backward differences, p taken as zero outside);
  forward-difference gradient of u (zero on the last row/column); dual update
  ``p = (p + tau/theta * grad u) / (1 + tau/theta * |grad u|)``.
* Stopping: OpenCV leaves both loops of a warp as soon as the sum over pixels of the squared
  change of u in one step is at most ``epsilon^2 * (pixels of the level)``.  Here this test is
  evaluated for every pair of the batch after every step, exactly like OpenCV; a pair that has
  stopped is frozen (its u and p no longer change, ``torch.where`` on a per-pair mask) until
  the next warp, while the others continue.  The loop leaves early once every pair in the batch
  has stopped.  So the arithmetic per pair is OpenCV's, the number of steps each pair takes is
  OpenCV's, and tensor shapes never change (the batch just keeps its frozen members).  On CUDA
  the host checks for "all stopped" only every ``sync_every`` steps to avoid a device sync per
  step; this changes only how much work is wasted, not the result.
* Between levels the flow is resized bilinearly to the finer level's size and multiplied by
  ``1 / scale_step`` (u3 of the gamma term is resized but not scaled).
* ``gamma != 0`` adds OpenCV's third (illumination) component u3 with data-term weight gamma.

Differences that remain are floating-point rounding only (summation order, fused multiply-adds,
OpenCV's sequential float32 sum of the stopping error): with one or two pyramid levels the flows
agree to ~1e-6 px; at the default 5 levels x 5 warps the iterations amplify last-bit
differences to a mean end-point difference of 0.005-0.03 px (see docs/tvl1.md and the tests).

Inputs: uint8 frames or floats already on the 0..255 scale.  (OpenCV multiplies *float*
inputs by 255; this class does not, so a float frame here equals the uint8 frame in OpenCV.)
"""
from __future__ import annotations

import functools
import logging
from typing import Mapping

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..devices import resolve_device
from .tvl1 import pyramid_sizes  # noqa: F401  (torch-free; re-exported for callers of this module)

log = logging.getLogger(__name__)

PARAM_KEYS = ("tau", "lambda", "theta", "nscales", "warps", "epsilon", "inner_iterations",
              "outer_iterations", "scale_step", "gamma", "median_filtering", "use_initial_flow")

_FLT_EPSILON = float(np.finfo(np.float32).eps)


def linear_resize_matrix(n_in: int, n_out: int, scale: float) -> np.ndarray:
    """(n_out, n_in) matrix of OpenCV's INTER_LINEAR resize along one axis.

    ``scale`` is source pixels per destination pixel (OpenCV's ``1/fx`` when fx is given,
    ``n_in/n_out`` when the output size is given).  Source coordinates outside the image are
    clamped to the border pixel, as cv::resize does.
    """
    d = np.arange(n_out, dtype=np.float64)
    f = (d + 0.5) * scale - 0.5
    s = np.floor(f).astype(np.int64)
    f = f - s
    low = s < 0
    f[low], s[low] = 0.0, 0
    high = s >= n_in - 1
    f[high], s[high] = 0.0, n_in - 1
    m = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.arange(n_out)
    np.add.at(m, (rows, s), 1.0 - f)
    np.add.at(m, (rows, np.minimum(s + 1, n_in - 1)), f)
    return m


def centered_gradient(img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """OpenCV's ``centeredGradient``: half central differences inside, half one-sided
    differences on the border rows/columns. ``img`` is (..., H, W)."""
    dx = torch.empty_like(img)
    dy = torch.empty_like(img)
    dx[..., 1:-1] = 0.5 * (img[..., 2:] - img[..., :-2])
    dx[..., 0] = 0.5 * (img[..., 1] - img[..., 0])
    dx[..., -1] = 0.5 * (img[..., -1] - img[..., -2])
    dy[..., 1:-1, :] = 0.5 * (img[..., 2:, :] - img[..., :-2, :])
    dy[..., 0, :] = 0.5 * (img[..., 1, :] - img[..., 0, :])
    dy[..., -1, :] = 0.5 * (img[..., -1, :] - img[..., -2, :])
    return dx, dy


_CUBIC_A = -0.75  # OpenCV's (and PyTorch's) cubic convolution coefficient


def _cubic_weights(t: torch.Tensor) -> list[torch.Tensor]:
    """The four cubic-convolution weights (taps -1, 0, 1, 2) for fractional offsets ``t``."""
    a = _CUBIC_A
    t1 = t + 1.0
    s = 1.0 - t
    w0 = ((a * t1 - 5.0 * a) * t1 + 8.0 * a) * t1 - 4.0 * a
    w1 = ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0
    w2 = ((a + 2.0) * s - (a + 3.0)) * s * s + 1.0
    return [w0, w1, w2, 1.0 - w0 - w1 - w2]


def warp_bicubic(src: torch.Tensor, map_x: torch.Tensor, map_y: torch.Tensor) -> torch.Tensor:
    """``cv2.remap(src, map_x, map_y, INTER_CUBIC)`` with its default constant-0 border.

    src (B, C, H, W); map_x, map_y (B, H, W) absolute source coordinates in pixels.  Taps
    outside the image read 0.  Coordinates are used as given (no 1/32 quantisation: the
    OpenCV 5.0 build this is checked against does not quantise float maps for INTER_CUBIC),
    so an identity map reproduces ``src`` exactly.
    """
    b, c, h, w = src.shape
    pad = 3  # taps reach floor(x) - 1 .. floor(x) + 2; clamping into 3 zero pixels keeps far points at 0
    srcp = F.pad(src, (pad, pad, pad, pad)).reshape(b, c, -1)
    wp = w + 2 * pad
    x0 = torch.floor(map_x)
    y0 = torch.floor(map_y)
    wx = torch.stack(_cubic_weights(map_x - x0), dim=1).unsqueeze(1).unsqueeze(1)  # (B, 1, 1, 4, H, W)
    wy = torch.stack(_cubic_weights(map_y - y0), dim=1).unsqueeze(1)  # (B, 1, 4, H, W)
    # clamp in float first so huge coordinates cannot overflow the integer cast
    x0 = x0.clamp(-pad, w + pad).to(torch.int64) + pad - 1
    y0 = y0.clamp(-pad, h + pad).to(torch.int64) + pad - 1
    k = torch.arange(4, device=src.device).view(1, 4, 1, 1)
    cols = (x0.unsqueeze(1) + k).clamp_(0, wp - 1)
    rows = (y0.unsqueeze(1) + k).clamp_(0, h + 2 * pad - 1) * wp
    # all 16 taps in one gather: (B, C, 4 rows, 4 columns, H, W); then the same sums as one tap
    # at a time, in the same order (columns left to right, then rows top to bottom)
    idx = (rows.unsqueeze(2) + cols.unsqueeze(1)).reshape(b, 1, -1).expand(b, c, -1)
    taps = torch.gather(srcp, 2, idx).reshape(b, c, 4, 4, h, w).mul_(wx)
    acc = taps[:, :, :, 0] + taps[:, :, :, 1]
    acc += taps[:, :, :, 2]
    acc += taps[:, :, :, 3]
    acc.mul_(wy)
    out = acc[:, :, 0] + acc[:, :, 1]
    out += acc[:, :, 2]
    out += acc[:, :, 3]
    return out


def _batcher_pairs(n: int) -> list[tuple[int, int]]:
    """Comparators of Batcher's odd-even merge sort for ``n`` (a power of two) wires."""
    pairs = []
    p = 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return pairs


_PROGRAMS: dict = {}


def selection_program(n_in: int, rank: int) -> tuple[tuple, int]:
    """A min/max program that selects the ``rank``-th smallest of ``n_in`` values.

    Built from Batcher's sorting network on the next power of two (missing wires are +inf and
    fold away), then pruned backwards to the comparators the output depends on, keeping only
    the min or max half that is used.  Returns (ops, out) with ops = ((kind, dst, a, b), ...)
    over value ids (0..n_in-1 are the inputs).  For 25 values and rank 12 (5x5 median) it has
    about 200 min/max operations.
    """
    if (n_in, rank) in _PROGRAMS:
        return _PROGRAMS[(n_in, rank)]
    n = 1 << max(1, (n_in - 1).bit_length())
    wires: list = list(range(n_in)) + [None] * (n - n_in)
    nxt = n_in
    ops = []
    for i, j in _batcher_pairs(n):
        a, b = wires[i], wires[j]
        if b is None:
            continue
        if a is None:
            wires[i], wires[j] = b, None
            continue
        ops.append(("min", nxt, a, b))
        ops.append(("max", nxt + 1, a, b))
        wires[i], wires[j] = nxt, nxt + 1
        nxt += 2
    need = {wires[rank]}
    kept = []
    for op in reversed(ops):
        if op[1] in need:
            kept.append(op)
            need.discard(op[1])
            need.update(op[2:])
    _PROGRAMS[(n_in, rank)] = (tuple(reversed(kept)), wires[rank])
    return _PROGRAMS[(n_in, rank)]


def median_filter(u: torch.Tensor, ksize: int) -> torch.Tensor:
    """``cv2.medianBlur`` of each (H, W) plane of ``u`` (..., H, W), replicated border.

    Vectorised selection network over the ksize*ksize shifted views (no sort, no unfold copy):
    about 200 elementwise min/max for 5x5, all fused into one loop under torch.compile.
    """
    r = ksize // 2
    lead = u.shape[:-2]
    h, w = u.shape[-2:]
    x = F.pad(u.reshape(-1, 1, h, w), (r, r, r, r), mode="replicate")[:, 0]
    vals = [x[:, dy:dy + h, dx:dx + w] for dy in range(ksize) for dx in range(ksize)]
    ops, out = selection_program(ksize * ksize, (ksize * ksize) // 2)
    vals = dict(enumerate(vals))
    for kind, dst, a, b in ops:
        vals[dst] = torch.minimum(vals[a], vals[b]) if kind == "min" else torch.maximum(vals[a], vals[b])
    return vals[out].reshape(*lead, h, w)


_SLOT_PROGRAMS: dict = {}


def _slot_program(n_in: int, rank: int) -> tuple[tuple, int, int]:
    """:func:`selection_program` with its intermediate values assigned to reusable buffers.

    Returns (steps, n_slots, out_slot); each step is (is_min, dst_slot, a, b) where a and b are
    ("in", view index) or ("slot", buffer index).  A buffer is recycled once the value in it
    has had its last use, so the 5x5 median needs 25 buffers instead of ~200 fresh tensors.
    """
    key = (n_in, rank)
    if key in _SLOT_PROGRAMS:
        return _SLOT_PROGRAMS[key]
    ops, out = selection_program(n_in, rank)
    last_use = {}
    for k, (_, _, a, b) in enumerate(ops):
        last_use[a] = last_use[b] = k
    where: dict = {}
    free: list[int] = []
    n_slots = 0
    steps = []
    for k, (kind, dst, a, b) in enumerate(ops):
        refs = tuple(("in", v) if v < n_in else ("slot", where[v]) for v in (a, b))
        for v in {a, b}:  # operands read for the last time: their buffers may take the result
            if v >= n_in and last_use[v] == k:
                free.append(where.pop(v))
        if free:
            slot = free.pop()
        else:
            slot, n_slots = n_slots, n_slots + 1
        where[dst] = slot
        steps.append((kind == "min", slot, *refs))
    _SLOT_PROGRAMS[key] = (tuple(steps), n_slots, where[out])
    return _SLOT_PROGRAMS[key]


def median_filter_eager(u: torch.Tensor, ksize: int) -> torch.Tensor:
    """:func:`median_filter` for eager mode: the same min/max program, bit-identical result,
    written with ``out=`` into a few reused buffers. Allocating a fresh tensor per operation
    made the median ~60 % of the eager CPU time; reusing 25 buffers halves it (measured)."""
    r = ksize // 2
    lead = u.shape[:-2]
    h, w = u.shape[-2:]
    x = F.pad(u.reshape(-1, 1, h, w), (r, r, r, r), mode="replicate")[:, 0]
    views = [x[:, dy:dy + h, dx:dx + w] for dy in range(ksize) for dx in range(ksize)]
    steps, n_slots, out_slot = _slot_program(ksize * ksize, (ksize * ksize) // 2)
    slots = [torch.empty((x.shape[0], h, w), dtype=u.dtype, device=u.device) for _ in range(n_slots)]
    for is_min, dst, (ka, a), (kb, b) in steps:
        va = views[a] if ka == "in" else slots[a]
        vb = views[b] if kb == "in" else slots[b]
        (torch.minimum if is_min else torch.maximum)(va, vb, out=slots[dst])
    return slots[out_slot].reshape(*lead, h, w)


def median_filter_cv2(u: torch.Tensor, ksize: int) -> torch.Tensor:
    """:func:`median_filter` by ``cv2.medianBlur`` itself, for float32 CPU tensors and ksize 3 or
    5 (what cv2 supports for float32). The result is the same values (a median selects one of
    its inputs, whichever network finds it): about 20x faster than the torch network on the CPU,
    where the median was a quarter of the solver's time (measured, docs/tvl1.md).

    All planes go through one cv2 call as one tall image: each plane gets its replicated border
    rows from ``F.pad``; cv2's own replicated border supplies the columns, and the output rows
    that straddle two planes are the pad rows, which are dropped."""
    r = ksize // 2
    lead = u.shape[:-2]
    h, w = u.shape[-2:]
    planes = F.pad(u.reshape(-1, 1, h, w), (0, 0, r, r), mode="replicate")
    tall = cv2.medianBlur(planes.reshape(-1, w).numpy(), ksize)
    return torch.from_numpy(tall).reshape(-1, h + 2 * r, w)[:, r:r + h].reshape(*lead, h, w)


def median_filter_fast(u: torch.Tensor, ksize: int) -> torch.Tensor:
    """The eager median: by cv2 where it can (CPU, float32, ksize 3 or 5), else the torch network."""
    if u.device.type == "cpu" and u.dtype == torch.float32 and ksize in (3, 5):
        return median_filter_cv2(u, ksize)
    return median_filter_eager(u, ksize)


class TorchTVL1:
    """Batched TV-L1 flow on CPU or CUDA, matching OpenCV's DualTVL1 (see module docstring).

    ``params``: the keys of ``config["flow"]["tvl1"]`` (``PARAM_KEYS``).
    ``compact``: after each step, drop the pairs that have met the stopping test from the
    working batch (default on CPU); otherwise (default on CUDA) keep shapes fixed, freeze
    stopped pairs with a mask and check on the host every ``sync_every`` steps (default 8)
    whether all have stopped.  Neither choice changes the result.
    ``compile``: run the iteration step and the median filter through ``torch.compile``
    (inductor fuses each into a few loops). On the CPU the eager path with reused buffers is
    as fast (docs/tvl1.md); compiling is meant for CUDA, where it saves kernel launches.
    Compiling costs 30-90 s per process on two CPU cores (less with inductor's on-disk cache
    warm); ``compile_dynamic`` (default) compiles one shape-generic kernel for all pyramid
    levels instead of one per level (several times more compile time, a little faster).
    """

    def __init__(self, params: Mapping, device: str = "cpu", dtype=torch.float32,
                 sync_every: int | None = None, compile: bool = False, compile_dynamic: bool = True,
                 compact: bool | None = None):
        missing = [k for k in PARAM_KEYS if k not in params]
        if missing:
            raise ValueError(f"TorchTVL1: missing parameters {missing}")
        self.params = {k: params[k] for k in PARAM_KEYS}
        p = self.params
        if not 0 < float(p["scale_step"]) < 1:
            raise ValueError(f"TorchTVL1: scale_step must be in (0, 1), got {p['scale_step']}")
        if int(p["nscales"]) < 1 or int(p["warps"]) < 1:
            raise ValueError("TorchTVL1: nscales and warps must be >= 1")
        mf = int(p["median_filtering"])
        if mf > 1 and mf % 2 == 0:
            raise ValueError(f"TorchTVL1: median_filtering must be odd, got {mf}")
        self.device = resolve_device(device, "flow.device")
        self.dtype = dtype
        self.sync_every = int(sync_every) if sync_every else 8
        self._step = _step
        self._median = median_filter_fast
        self._compiled = bool(compile)
        if compile:
            self._step = torch.compile(_step, dynamic=compile_dynamic)
            self._median = torch.compile(median_filter, dynamic=compile_dynamic)
        self._mats: dict = {}
        # compact: drop stopped pairs from the working batch (a host sync per step; CPU default);
        # otherwise freeze them with a mask and keep shapes fixed (CUDA default)
        self.compact = (self.device.type == "cpu") if compact is None else bool(compact)
        self.last_stats: dict = {}
        self._workspace: dict = {}  # eager scratch tensors per level size

    # ------------------------------------------------------------------ helpers
    def _matrix(self, n_in: int, n_out: int, scale: float) -> torch.Tensor:
        key = (n_in, n_out, scale)
        if key not in self._mats:
            self._mats[key] = torch.as_tensor(linear_resize_matrix(n_in, n_out, scale),
                                              dtype=self.dtype, device=self.device)
        return self._mats[key]

    def _resize(self, x: torch.Tensor, size: tuple[int, int], scale: tuple[float, float]) -> torch.Tensor:
        """Bilinear resize of (..., H, W) to ``size`` the way cv2.resize does it."""
        h, w = x.shape[-2:]
        my = self._matrix(h, size[0], scale[0])
        mx = self._matrix(w, size[1], scale[1])
        return torch.matmul(torch.matmul(my, x), mx.transpose(0, 1))

    def _as_tensor(self, frames) -> torch.Tensor:
        t = torch.as_tensor(np.ascontiguousarray(frames)) if isinstance(frames, np.ndarray) else frames
        if t.ndim == 2:
            t = t[None]
        if t.ndim != 3:
            raise ValueError(f"TorchTVL1: frames must be (B, H, W) or (H, W), got shape {tuple(t.shape)}")
        return t.to(device=self.device, dtype=self.dtype)

    # ------------------------------------------------------------------ public API
    def compute(self, prev, nxt, initial_flow=None) -> np.ndarray:
        """Flow (B, H, W, 2) float32 (dx, dy) in pixels from ``prev`` to ``nxt``, as OpenCV's
        ``calc(prev, next)``.  ``prev``/``nxt``: (B, H, W) or (H, W), uint8 or float 0..255."""
        flow = self.compute_tensor(prev, nxt, initial_flow)
        return flow.permute(0, 2, 3, 1).to(torch.float32).cpu().numpy()

    @torch.no_grad()
    def compute_tensor(self, prev, nxt, initial_flow=None) -> torch.Tensor:
        """As :meth:`compute`, but returns a (B, 2, H, W) tensor on the device."""
        p = self.params
        i0 = self._as_tensor(prev)
        i1 = self._as_tensor(nxt)
        if i0.shape != i1.shape:
            raise ValueError(f"TorchTVL1: prev {tuple(i0.shape)} and next {tuple(i1.shape)} differ")
        b, h, w = i0.shape
        if h < 3 or w < 3:
            raise ValueError(f"TorchTVL1: frames of {h}x{w} are too small (need >= 3x3)")
        step = float(p["scale_step"])
        sizes = pyramid_sizes(h, w, int(p["nscales"]), step)
        gamma = float(p["gamma"])
        ncomp = 3 if gamma != 0 else 2

        pyr0, pyr1 = [i0], [i1]
        for lh, lw in sizes[1:]:
            pyr0.append(self._resize(pyr0[-1], (lh, lw), (1 / step, 1 / step)))
            pyr1.append(self._resize(pyr1[-1], (lh, lw), (1 / step, 1 / step)))

        if p["use_initial_flow"]:
            if initial_flow is None:
                raise ValueError("TorchTVL1: use_initial_flow is set but no initial_flow was given")
            u0 = torch.as_tensor(np.asarray(initial_flow) if not torch.is_tensor(initial_flow) else initial_flow)
            u0 = u0.to(self.device, self.dtype)
            if u0.ndim == 3:
                u0 = u0[None]
            if tuple(u0.shape) != (b, h, w, 2):
                raise ValueError(f"TorchTVL1: initial_flow must be {(b, h, w, 2)}, got {tuple(u0.shape)}")
            u = torch.zeros(b, ncomp, h, w, device=self.device, dtype=self.dtype)
            u[:, :2] = u0.permute(0, 3, 1, 2)
            ulev = [u]
            for lh, lw in sizes[1:]:
                nu = self._resize(ulev[-1], (lh, lw), (1 / step, 1 / step))
                nu[:, :2] *= step
                if ncomp == 3:
                    nu[:, 2] = 0  # OpenCV zeroes u3 at the coarsest level only; finer ones are overwritten
                ulev.append(nu)
            u = ulev[-1]
        else:
            lh, lw = sizes[-1]
            u = torch.zeros(b, ncomp, lh, lw, device=self.device, dtype=self.dtype)

        self.last_stats = {"levels": sizes, "steps": [], "medians": 0, "batch_steps": 0, "pair_steps": 0}
        try:
            for s in range(len(sizes) - 1, -1, -1):
                u = self._solve_level(pyr0[s], pyr1[s], u)
                if s == 0:
                    break
                lh, lw = sizes[s - 1]
                ch, cw = sizes[s]
                u = self._resize(u, (lh, lw), (ch / lh, cw / lw))
                u[:, :2] *= 1.0 / step
        finally:
            self._workspace.clear()  # reused within a call only: no memory held between videos
        log.debug("TorchTVL1 %s", self.last_stats)
        return u[:, :2].contiguous()

    # ------------------------------------------------------------------ one level
    def _solve_level(self, i0: torch.Tensor, i1: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        p = self.params
        b, h, w = i0.shape
        ncomp = u.shape[1]
        gamma = float(p["gamma"])
        l_t = float(np.float32(p["lambda"] * p["theta"]))
        taut = float(np.float32(p["tau"] / p["theta"]))
        theta = float(np.float32(p["theta"]))
        eps_scaled = float(np.float32(p["epsilon"] * p["epsilon"] * h * w))
        mf = int(p["median_filtering"])
        dev, dt = self.device, self.dtype

        i1x, i1y = centered_gradient(i1)
        src = torch.stack([i1, i1x, i1y], dim=1)  # (B, 3, H, W)
        xs = torch.arange(w, device=dev, dtype=dt).view(1, 1, w)
        ys = torch.arange(h, device=dev, dtype=dt).view(1, h, 1)

        px = torch.zeros(b, ncomp, h, w, device=dev, dtype=dt)  # dual variables, reset per level
        py = torch.zeros_like(px)
        steps_taken = 0
        for _warp in range(int(p["warps"])):
            warped = warp_bicubic(src, xs + u[:, 0], ys + u[:, 1])
            i1w, i1wx, i1wy = warped.unbind(1)
            grad = i1wx * i1wx + i1wy * i1wy
            rho_c = (i1w - i1wx * u[:, 0] - i1wy * u[:, 1] - i0).unsqueeze(1)
            inv_grad = (1.0 / grad.clamp_min(_FLT_EPSILON)).unsqueeze(1)
            comps = [i1wx, i1wy] + ([torch.full_like(i1wx, gamma)] if ncomp == 3 else [])
            g = torch.stack(comps, dim=1)

            # OpenCV resets its error to "infinite" at every warp: every pair iterates again.
            args = (g, rho_c, inv_grad, eps_scaled, l_t, theta, taut, mf)
            if self.compact:
                u, px, py, n = self._iterate_compact(u, px, py, *args)
            else:
                u, px, py, n = self._iterate_masked(u, px, py, *args)
            steps_taken += n
            self.last_stats["batch_steps"] += n * b
        self.last_stats["steps"].append((h, w, steps_taken))
        return u


    def _median_uv(self, u: torch.Tensor, mf: int) -> torch.Tensor:
        med = self._median(u[:, :2], mf)
        self.last_stats["medians"] += 1
        return torch.cat([med, u[:, 2:]], dim=1) if u.shape[1] == 3 else med

    def _iterate_compact(self, u, px, py, g, rho_c, inv_grad, eps_scaled, l_t, theta, taut, mf):
        """The iterations of one warp, shrinking the batch to the pairs still iterating.

        After every step the pairs whose change fell to ``eps_scaled`` or below are written back
        to the full tensors and dropped from the working batch, so no work is spent on them
        (one host sync per step: the CPU default).  Returns (u, px, py, steps run)."""
        p = self.params
        consts = (eps_scaled, l_t, theta, taut)
        make = (functools.partial(_CompiledStepper, self._step) if self._compiled
                else functools.partial(_EagerStepper, workspace=self._workspace))
        # the dual variables of both directions in one tensor (B, 2, C, H, W): one update for both;
        # stacking copies them, so the caller's px, py are never written
        dual = torch.stack([px, py], dim=1)
        idx = None  # positions in the full batch of the working pairs (None: all of them)
        stepper = make(u, dual, g, rho_c, inv_grad, consts)
        n = 0
        for _outer in range(int(p["outer_iterations"])):
            if mf > 1:
                stepper.load_u(self._median_uv(stepper.u, mf))
            for _inner in range(int(p["inner_iterations"])):
                still = stepper.step()
                n += 1
                self.last_stats["pair_steps"] += stepper.batch
                if bool(still.all()):
                    continue
                stop = (~still).nonzero().squeeze(1)
                keep = still.nonzero().squeeze(1)
                if idx is None:
                    # a fresh tensor, never the caller's (which may be a buffer the stepper
                    # writes): every row is written, stopped pairs now, the others at the end
                    u = torch.empty_like(u)
                tgt = stop if idx is None else idx[stop]
                u[tgt], dual[tgt] = stepper.u[stop], stepper.dual[stop]
                if keep.numel() == 0:
                    return u, dual[:, 0], dual[:, 1], n
                idx = keep if idx is None else idx[keep]
                stepper = make(stepper.u[keep], stepper.dual[keep], g[idx], rho_c[idx], inv_grad[idx], consts)
        if idx is None:
            return stepper.u, stepper.dual[:, 0], stepper.dual[:, 1], n
        u[idx], dual[idx] = stepper.u, stepper.dual
        return u, dual[:, 0], dual[:, 1], n

    def _iterate_masked(self, u, px, py, g, rho_c, inv_grad, eps_scaled, l_t, theta, taut, mf):
        """The iterations of one warp with fixed shapes: pairs that have stopped are frozen by a
        per-pair mask inside the step; the host checks every ``sync_every`` steps whether all
        have stopped (the CUDA default: few syncs, shapes never change)."""
        p = self.params
        b = u.shape[0]
        active = torch.ones(b, dtype=torch.bool, device=u.device)
        all_active = any_active = True
        n = 0
        for _outer in range(int(p["outer_iterations"])):
            if not any_active:
                break
            if mf > 1:
                med = self._median_uv(u, mf)
                u = med if all_active else torch.where(active.view(b, 1, 1, 1), med, u)
            for _inner in range(int(p["inner_iterations"])):
                masked = self._compiled or not all_active
                u, px, py, active = self._step(u, px, py, g, rho_c, inv_grad, active if masked else None,
                                               eps_scaled, l_t, theta, taut)
                n += 1
                if n % self.sync_every == 0:
                    any_active = bool(active.any())
                    all_active = bool(active.all())
                    if not any_active:
                        break
                else:
                    all_active = False  # the host no longer knows: keep masking
        self.last_stats["pair_steps"] = -1  # not counted on this path
        return u, px, py, n


def _step(u: torch.Tensor, px: torch.Tensor, py: torch.Tensor, g: torch.Tensor,
          rho_c: torch.Tensor, inv_grad: torch.Tensor, active: torch.Tensor | None,
          eps_scaled: float, l_t: float, theta: float, taut: float):
    """One TV-L1 step for the whole batch: thresholding, primal update, dual update.

    u (B, C, H, W) flow components; px, py (B, C, H, W) dual variables; g (B, C, H, W) the
    data-term gradient (I1wx, I1wy[, gamma]); rho_c, inv_grad (B, 1, H, W).  ``active`` (B,)
    bool marks pairs still iterating (None: all); the others keep their u and p unchanged.
    Returns (u, px, py, active) where a pair stays active while the sum of squared changes of
    its u in this step exceeds ``eps_scaled`` (OpenCV's stopping test).
    Written without in-place ops or slice assignment so that torch.compile can fuse it.
    """
    rho = rho_c + (g * u).sum(dim=1, keepdim=True)
    fac = (-rho * inv_grad).clamp(-l_t, l_t)  # thresholding operator TH
    # divergence of p with backward differences, p = 0 outside the image
    div = (px - F.pad(px[..., :-1], (1, 0))) + (py - F.pad(py[..., :-1, :], (0, 0, 1, 0)))
    u_new = u + fac * g + theta * div  # v = u + fac*g, u = v + theta*div(p)
    err = (u_new - u).square().sum(dim=(1, 2, 3))
    # forward differences of the new u, zero on the last column / row
    ux = F.pad(u_new[..., 1:] - u_new[..., :-1], (0, 1))
    uy = F.pad(u_new[..., 1:, :] - u_new[..., :-1, :], (0, 0, 0, 1))
    ng = 1.0 + taut * torch.hypot(ux, uy)  # OpenCV uses hypot too
    px_new = (px + taut * ux) / ng
    py_new = (py + taut * uy) / ng
    still = err > eps_scaled
    if active is None:
        return u_new, px_new, py_new, still
    a = active.view(-1, 1, 1, 1)
    return (torch.where(a, u_new, u), torch.where(a, px_new, px), torch.where(a, py_new, py),
            active & still)


class _EagerStepper:
    """:func:`_step` for eager mode on one working batch of the compact path: the same
    arithmetic in 20 kernels instead of ~37 (fused multiply-adds, ``out=`` into buffers,
    in-place updates of the dual variables), unmasked.

    On the CPU at these sizes a step's cost was as much bookkeeping as arithmetic (profiled at
    26x33, 16 pairs: ~230 of 470 us per step are dispatch): so every view a step reads or
    writes is made once here, not per step; u alternates between two buffers instead of a fresh
    tensor per step; both dual directions live in one (B, 2, C, H, W) tensor (one update for
    both); and the thresholding multiplies by a precomputed ``-1/|grad|`` (exactly the negated
    product: IEEE rounding is symmetric in sign).  Scratch buffers live in ``workspace`` (a dict
    owned by the solver, kept per level size and grown when the batch grows); a new stepper is
    made whenever the batch shrinks.
    """

    def __init__(self, u, dual, g, rho_c, inv_grad, consts, workspace: dict | None = None):
        b, c = u.shape[:2]
        self.batch = b
        _, self.l_t, self.theta, self.taut = consts  # epsilon: the 0-dim eps_t of _buffer_views
        # the buffers' views are the same for every stepper of a batch size: made once per call
        vars(self).update(_buffer_views({} if workspace is None else workspace, u, consts))
        self.g, self.rho_c, self.neg_inv_grad = g, rho_c, torch.neg(inv_grad)
        self.g_c = [g[:, k:k + 1] for k in range(c)]
        self.dual = dual
        self.px, self.py = dual[:, 0], dual[:, 1]
        self.px_left, self.py_up = self.px[..., :-1], self.py[..., :-1, :]
        self.cur = 0
        self.load_u(u)

    @property
    def u(self) -> torch.Tensor:
        return self.bufs[self.cur]

    def load_u(self, u: torch.Tensor) -> None:
        if u is not self.bufs[self.cur]:
            self.bufs[self.cur].copy_(u)

    def step(self) -> torch.Tensor:
        """One step; returns the (B,) mask of pairs whose u still changed by more than epsilon."""
        u, u_c = self.views[self.cur][:2]
        u_new, _, right, left, down, up = self.views[1 - self.cur]
        rho = torch.addcmul(self.rho_c, self.g_c[0], u_c[0], out=self.rho)
        for k in range(1, len(u_c)):
            rho.addcmul_(self.g_c[k], u_c[k])
        fac = rho.mul_(self.neg_inv_grad).clamp_(-self.l_t, self.l_t)  # thresholding operator TH
        # divergence of p with backward differences, p = 0 outside the image
        torch.add(self.px, self.py, out=self.div)
        self.div_x.sub_(self.px_left)
        self.div_y.sub_(self.py_up)
        torch.addcmul(u, self.g, fac, out=u_new)  # v = u + fac*g
        u_new.add_(self.div, alpha=self.theta)  # u = v + theta*div(p)
        torch.sub(u_new, u, out=self.d)
        err = self.d.mul_(self.d).sum(dim=(1, 2, 3))
        # forward differences of the new u, then p = (p + taut grad u) / (1 + taut |grad u|)
        torch.sub(right, left, out=self.dx_out)
        torch.sub(down, up, out=self.dy_out)
        torch.hypot(self.dx, self.dy, out=self.ng).mul_(self.taut_t).add_(self.one_t)  # OpenCV uses hypot too
        self.dual.add_(self.dxy, alpha=self.taut).div_(self.ng_dual)
        self.cur = 1 - self.cur
        return err > self.eps_t


def _buffer_views(workspace: dict, u: torch.Tensor, consts: tuple) -> dict:
    """Scratch buffers of an :class:`_EagerStepper` for a (B, C, H, W) ``u`` and the views its
    step reads and writes, from ``workspace`` (per level size; grown when the batch grows)."""
    b, c, h, w = u.shape
    key = (c, h, w, u.dtype, u.device)
    entry = workspace.get(key)
    if entry is None or entry[0][0].shape[0] < b:
        # rho, div, d, ng, u (two, alternating), and the forward differences (x, y) of u; the
        # differences' last column (x) and last row (y) are never written: zero from allocation
        bufs = [u.new_zeros((b, 1, h, w))] + [u.new_zeros((b, c, h, w)) for _ in range(5)] + \
            [u.new_zeros((b, 2, c, h, w))]
        entry = workspace[key] = (bufs, {})
    bufs, made = entry
    vkey = (b, consts)
    if vkey not in made:
        rho, div, d, ng, ua, ub, dxy = [t[:b] for t in bufs]
        dx, dy = dxy[:, 0], dxy[:, 1]
        eps_scaled, _, _, taut = consts
        made[vkey] = {
            "rho": rho, "div": div, "d": d, "ng": ng, "dxy": dxy, "dx": dx, "dy": dy,
            "div_x": div[..., 1:], "div_y": div[..., 1:, :], "dx_out": dx[..., :-1], "dy_out": dy[..., :-1, :],
            "ng_dual": ng.unsqueeze(1), "bufs": (ua, ub),
            "views": [(t, [t[:, k:k + 1] for k in range(c)], t[..., 1:], t[..., :-1], t[..., 1:, :], t[..., :-1, :])
                      for t in (ua, ub)],
            # Python numbers in a tensor op are turned into tensors on every call (~6 us each)
            "taut_t": torch.tensor(taut, dtype=u.dtype, device=u.device),
            "one_t": torch.tensor(1.0, dtype=u.dtype, device=u.device),
            "eps_t": torch.tensor(eps_scaled, dtype=u.dtype, device=u.device),
        }
    return made[vkey]


class _CompiledStepper:
    """The compact path's stepper interface around the (compiled) functional :func:`_step`."""

    def __init__(self, step_fn, u, dual, g, rho_c, inv_grad, consts):
        self.step_fn, self.u, self.dual = step_fn, u, dual
        self.batch = u.shape[0]
        self.args = (g, rho_c, inv_grad, None, *consts)

    def load_u(self, u: torch.Tensor) -> None:
        self.u = u

    def step(self) -> torch.Tensor:
        self.u, px, py, still = self.step_fn(self.u, self.dual[:, 0], self.dual[:, 1], *self.args)
        self.dual = torch.stack([px, py], dim=1)
        return still
