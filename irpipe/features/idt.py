"""Improved dense trajectories (Wang & Schmid, ICCV 2013), reimplemented with OpenCV + numpy.

Follows the parameters and the steps of the authors' ``DenseTrackStab`` code:

- scale pyramid with factor ``1/sqrt(2)``, at most ``scale_num`` (8) scales and as many as
  keep the shorter side >= ``patch_size``;
- dense sampling every ``min_distance`` (5) px in the grid cells that hold no tracked point,
  keeping points whose minimum eigenvalue of the structure tensor (3x3) exceeds
  ``quality`` (0.001) x its maximum in the frame; re-sampled every ``init_gap`` frames;
- tracking by Farneback flow (pyramid ``1/sqrt(2)``, window 10, 2 iterations, poly_n 7,
  sigma 1.5, Gaussian window) median-filtered (5x5), for ``track_length`` (15) frames; a
  point leaving the frame ends its track;
- camera motion: a homography (RANSAC, 1 px) from keypoint matches (ORB or SIFT; SURF is
  not in the PyPI OpenCV builds) plus flow matches at good features to track; kept if more
  than 50 matches and 25 inliers; the current frame is warped back and the flow
  re-computed on the warped frame ("warped flow"; skipped, the flow reused, when the
  homography moves no frame corner by ``warp_min_shift`` = 0.05 px or more); HOF, MBH and the trajectory shape use
  the warped flow, tracking uses the original flow. (No human detector is used: the
  original code masks out detected humans when matching; this one does not.)
- removal of static (std of positions < sqrt(3) px on both axes), erratic (std > 50 px, or
  one step > 20 px and > 70% of the length) and camera-motion trajectories (largest warped
  displacement <= 1 px);
- descriptors on a 32x32 patch (at the track's scale) divided into 2x2 cells x 3 temporal
  cells: HOG 8 bins (96), HOF 8 + 1 zero-motion bins (108, flow <= 0.4 px in the zero
  bin), MBHx and MBHy 8 bins (96 each), each frame's cell histograms + 0.05, L1 normalised
  and square-rooted, averaged over the 5 frames of a temporal cell; trajectory shape = the
  15 warped displacements divided by the sum of their lengths (30).

The one approximation: the official code computes the flow of every scale inside its own
coarse-to-fine Farneback pyramid; here the flow is computed once at full resolution (with
the same pyramid factor) and resized to each scale (values divided by the scale factor).

Vectorised: all tracks of a scale live in preallocated slot arrays; each frame does a
constant number of numpy operations per scale (gathers from integral histograms), with no
per-trajectory Python loop.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, fields

import numpy as np

from ..errors import BadInputError

log = logging.getLogger(__name__)

DESCRIPTOR_DIMS = {"traj": 30, "hog": 96, "hof": 108, "mbhx": 96, "mbhy": 96}
KINDS = tuple(DESCRIPTOR_DIMS)


@dataclass
class IDTParams:
    track_length: int = 15
    min_distance: int = 5
    patch_size: int = 32
    nxy_cell: int = 2
    nt_cell: int = 3
    scale_num: int = 8
    scale_stride: float = math.sqrt(2.0)
    quality: float = 0.001
    init_gap: int = 1
    epsilon: float = 0.05
    min_flow: float = 0.4
    min_var: float = math.sqrt(3.0)
    max_var: float = 50.0
    max_dis: float = 20.0
    median_ksize: int = 5
    farneback: dict = field(default_factory=lambda: dict(
        pyr_scale=1 / math.sqrt(2.0), levels=5, winsize=10, iterations=2, poly_n=7,
        poly_sigma=1.5, gaussian=True))
    camera_motion: bool = True
    keypoints: str = "orb"
    max_keypoints: int = 1000
    max_corners: int = 1000
    ransac_threshold: float = 1.0
    min_matches: int = 50
    min_inliers: int = 25
    warp_min_shift: float = 0.05
    max_frames: int | None = None

    @classmethod
    def from_config(cls, cfg: dict | None) -> "IDTParams":
        cfg = dict(cfg or {})
        names = {f.name for f in fields(cls)}
        unknown = set(cfg) - names
        if unknown:
            raise ValueError(f"unknown IDT parameters: {sorted(unknown)}")
        p = cls(**cfg)
        if p.track_length % p.nt_cell:
            raise ValueError("track_length must be a multiple of nt_cell")
        return p


# bins of the four histogram types, stacked in one integral histogram
_NB = {"hog": 8, "hof": 9, "mbhx": 8, "mbhy": 8}
_OFFS = {}
_o = 0
for _k, _n in _NB.items():
    _OFFS[_k] = (_o, _o + _n)
    _o += _n
_NBINS_ALL = _o  # 33


def _orientation_hist(x: np.ndarray, y: np.ndarray, n_orient: int, zero_bin: bool,
                      min_flow: float) -> np.ndarray:
    """Per-pixel orientation histogram (n_orient [+1], H, W) with linear bin interpolation.

    Magnitude is split between the two nearest of ``n_orient`` orientation bins over 360
    degrees; with ``zero_bin`` (HOF) a vector of magnitude <= ``min_flow`` instead puts a
    count of 1 in the extra last bin.
    """
    import cv2

    H, W = x.shape
    mag, ang = cv2.cartToPolar(x, y, angleInDegrees=True)
    mag, ang = mag.ravel(), ang.ravel()
    fbin = ang * np.float32(n_orient / 360.0)
    fl = np.floor(fbin)
    b0 = fl.astype(np.int64) % n_orient
    w1 = (fbin - fl) * mag
    w0 = mag - w1
    b1 = (b0 + 1) % n_orient
    nd = n_orient + (1 if zero_bin else 0)
    if zero_bin:
        still = mag <= min_flow
        b0[still] = n_orient
        w0[still] = 1.0
        w1[still] = 0.0
    hist = np.zeros(nd * H * W, np.float32)
    pix = np.arange(H * W)
    hist[b0 * (H * W) + pix] = w0
    hist[b1 * (H * W) + pix] += w1  # b1 != b0 for every pixel: no collision
    return hist.reshape(nd, H, W)


def integral_histograms(grey: np.ndarray, flow_warp: np.ndarray, min_flow: float) -> np.ndarray:
    """(33, H+1, W+1) float64 integral images of the HOG | HOF | MBHx | MBHy histograms.

    HOG on the grey frame's [-1, 0, 1] gradients, HOF on the warped flow, MBHx / MBHy on
    the [-1, 0, 1] gradients of its x and y components.
    """
    import cv2

    g = grey.astype(np.float32)
    sob = lambda a, dx, dy: cv2.Sobel(a, cv2.CV_32F, dx, dy, ksize=1)  # noqa: E731
    fx = np.ascontiguousarray(flow_warp[..., 0], dtype=np.float32)
    fy = np.ascontiguousarray(flow_warp[..., 1], dtype=np.float32)
    hist = np.concatenate([
        _orientation_hist(sob(g, 1, 0), sob(g, 0, 1), 8, False, min_flow),
        _orientation_hist(fx, fy, 8, True, min_flow),
        _orientation_hist(sob(fx, 1, 0), sob(fx, 0, 1), 8, False, min_flow),
        _orientation_hist(sob(fy, 1, 0), sob(fy, 0, 1), 8, False, min_flow),
    ])
    H, W = g.shape
    out = np.empty((len(hist), H + 1, W + 1), np.float64)
    for i, h in enumerate(hist):
        out[i] = cv2.integral(h, sdepth=cv2.CV_64F)
    return out


def patch_descriptors(integ: np.ndarray, pts: np.ndarray, p: IDTParams) -> np.ndarray:
    """Per-frame descriptors (N, 132) at points ``pts`` (N, 2: x, y) of one scale.

    The patch (``patch_size`` square, clamped inside the frame) around the rounded point is
    cut into ``nxy_cell`` x ``nxy_cell`` cells; layout per type: cells in x-major order
    (x outer, y inner), bins fastest; each type's vector gets + epsilon, L1 normalisation
    and a square root.
    """
    B, H, W = integ.shape[0], integ.shape[1] - 1, integ.shape[2] - 1
    ps, nc = p.patch_size, p.nxy_cell
    cs = ps // nc
    N = len(pts)
    x0 = np.clip(np.rint(pts[:, 0]).astype(np.int64) - ps // 2, 0, W - ps)
    y0 = np.clip(np.rint(pts[:, 1]).astype(np.int64) - ps // 2, 0, H - ps)
    k = np.arange(nc + 1) * cs
    flat = ((y0[:, None, None] + k[None, :, None]) * (W + 1) + (x0[:, None, None] + k[None, None, :])).ravel()
    G = integ.reshape(B, -1)[:, flat].reshape(B, N, nc + 1, nc + 1)  # (B, N, y, x)
    cells = G[:, :, 1:, 1:] - G[:, :, :-1, 1:] - G[:, :, 1:, :-1] + G[:, :, :-1, :-1]  # (B, N, ny, nx)
    cells = np.transpose(cells, (1, 3, 2, 0)).reshape(N, nc * nc, B)  # (N, x outer / y inner, B)
    out = []
    for kind in ("hog", "hof", "mbhx", "mbhy"):
        a, b = _OFFS[kind]
        v = np.maximum(cells[:, :, a:b], 0).reshape(N, nc * nc * (b - a)) + p.epsilon
        v = np.sqrt(v / v.sum(axis=1, keepdims=True))
        out.append(v)
    return np.concatenate(out, axis=1).astype(np.float32)


def min_frame_side(p: IDTParams) -> int:
    """Shorter frame side IDT needs: one descriptor patch at the finest scale."""
    return int(p.patch_size)


def n_scales(height: int, width: int, p: IDTParams) -> int:
    min_size = float(min(height, width))
    n = 0
    while min_size >= p.patch_size:
        min_size /= p.scale_stride
        n += 1
    return max(1, min(p.scale_num, n))


def farneback(prev: np.ndarray, cur: np.ndarray, p: IDTParams) -> np.ndarray:
    import cv2

    fb = p.farneback
    flags = cv2.OPTFLOW_FARNEBACK_GAUSSIAN if fb.get("gaussian", True) else 0
    flow = cv2.calcOpticalFlowFarneback(prev, cur, None, fb["pyr_scale"], int(fb["levels"]), int(fb["winsize"]),
                                        int(fb["iterations"]), int(fb["poly_n"]), fb["poly_sigma"], flags)
    if p.median_ksize > 1:
        flow = np.dstack([cv2.medianBlur(np.ascontiguousarray(flow[..., c]), p.median_ksize) for c in range(2)])
    return flow


class _CameraMotion:
    """Homography between consecutive frames from keypoint matches plus flow matches."""

    def __init__(self, p: IDTParams):
        import cv2

        self.p = p
        if p.keypoints == "orb":
            self.det = cv2.ORB_create(nfeatures=p.max_keypoints)
            self.norm = cv2.NORM_HAMMING
        elif p.keypoints == "sift":
            self.det = cv2.SIFT_create(nfeatures=p.max_keypoints)
            self.norm = cv2.NORM_L2
        else:
            raise ValueError(f"unknown keypoint type '{p.keypoints}' (orb or sift)")
        self.matcher = cv2.BFMatcher(self.norm)
        self.prev = None

    def detect(self, grey):
        kp, desc = self.det.detectAndCompute(grey, None)
        return (np.array([k.pt for k in kp], np.float32).reshape(-1, 2), desc)

    def homography(self, prev_grey, grey, flow) -> tuple[np.ndarray, int]:
        import cv2

        cur = self.detect(grey)
        prev = self.prev if self.prev is not None else self.detect(prev_grey)
        self.prev = cur
        src, dst = [], []
        if prev[1] is not None and cur[1] is not None and len(prev[0]) >= 2 and len(cur[0]) >= 2:
            pairs = self.matcher.knnMatch(prev[1], cur[1], k=2)
            good = [m[0] for m in pairs if len(m) == 2 and m[0].distance < 0.8 * m[1].distance]
            if good:
                qi = np.array([m.queryIdx for m in good])
                ti = np.array([m.trainIdx for m in good])
                src.append(prev[0][qi])
                dst.append(cur[0][ti])
        corners = cv2.goodFeaturesToTrack(prev_grey, self.p.max_corners, 0.001, 3)
        if corners is not None:
            c = corners.reshape(-1, 2)
            h, w = prev_grey.shape
            xi = np.clip(np.rint(c[:, 0]).astype(int), 0, w - 1)
            yi = np.clip(np.rint(c[:, 1]).astype(int), 0, h - 1)
            src.append(np.column_stack([xi, yi]).astype(np.float32))
            dst.append((np.column_stack([xi, yi]) + flow[yi, xi]).astype(np.float32))
        H = np.eye(3)
        n_inl = 0
        if src:
            s, d = np.concatenate(src), np.concatenate(dst)
            if len(s) > self.p.min_matches:
                Hc, mask = cv2.findHomography(s, d, cv2.RANSAC, self.p.ransac_threshold)
                if Hc is not None and mask is not None:
                    n_inl = int(mask.sum())
                    if n_inl > self.p.min_inliers:
                        H = Hc
        return H, n_inl


def homography_shift(H: np.ndarray, width: int, height: int) -> float:
    """Largest displacement (px) that ``H`` applies to the four frame corners."""
    c = np.array([[0, 0, 1], [width - 1, 0, 1], [0, height - 1, 1], [width - 1, height - 1, 1]], np.float64)
    m = c @ np.asarray(H, np.float64).T
    m = m[:, :2] / m[:, 2:3]
    return float(np.abs(m - c[:, :2]).max())


def warp_back(grey: np.ndarray, H: np.ndarray) -> np.ndarray:
    """The current frame warped into the previous frame's coordinates (H maps prev -> cur);
    pixels that fall outside keep the unwarped values (as the official code does)."""
    import cv2

    h, w = grey.shape
    warped = cv2.warpPerspective(grey, H, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    valid = cv2.warpPerspective(np.full_like(grey, 255), H, (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return np.where(valid > 0, warped, grey)


class _Tracks:
    """Slot arrays holding the live tracks of one scale."""

    def __init__(self, p: IDTParams, cap: int = 1024):
        self.p = p
        L = p.track_length
        self.P = np.zeros((cap, L + 1, 2), np.float32)
        self.disp = np.zeros((cap, L, 2), np.float32)
        self.desc = np.zeros((cap, L, _NBINS_ALL * p.nxy_cell ** 2), np.float32)  # 132 per frame
        self.n = np.zeros(cap, np.int64)
        self.active = np.zeros(cap, bool)

    def _grow(self, need: int) -> None:
        cap = len(self.n)
        new = max(cap * 2, cap + need)
        for name in ("P", "disp", "desc", "n", "active"):
            a = getattr(self, name)
            b = np.zeros((new,) + a.shape[1:], a.dtype)
            b[:cap] = a
            setattr(self, name, b)

    def add(self, pts: np.ndarray) -> None:
        if len(pts) == 0:
            return
        free = np.flatnonzero(~self.active)
        if len(free) < len(pts):
            self._grow(len(pts) - len(free))
            free = np.flatnonzero(~self.active)
        slots = free[:len(pts)]
        self.P[slots, 0] = pts
        self.n[slots] = 0
        self.active[slots] = True

    def current(self) -> tuple[np.ndarray, np.ndarray]:
        idx = np.flatnonzero(self.active)
        return idx, self.P[idx, self.n[idx]]


def dense_sample(grey: np.ndarray, occupied_pts: np.ndarray, p: IDTParams) -> np.ndarray:
    """Grid points (every min_distance px) in empty cells that pass the corner-strength test."""
    import cv2

    step = p.min_distance
    h, w = grey.shape
    gw, gh = w // step, h // step
    if gw == 0 or gh == 0:
        return np.zeros((0, 2), np.float32)
    eig = cv2.cornerMinEigenVal(grey, 3, 3)
    thr = float(eig.max()) * p.quality
    occ = np.zeros((gh, gw), bool)
    if len(occupied_pts):
        x = np.floor(occupied_pts[:, 0]).astype(np.int64)
        y = np.floor(occupied_pts[:, 1]).astype(np.int64)
        ok = (x >= 0) & (y >= 0) & (x < gw * step) & (y < gh * step)
        occ[y[ok] // step, x[ok] // step] = True
    off = step // 2
    ys = np.arange(gh) * step + off
    xs = np.arange(gw) * step + off
    strong = eig[ys[:, None], xs[None, :]] > thr
    if thr <= 0:
        strong[:] = False  # a flat frame has no corners at all
    gy, gx = np.nonzero(strong & ~occ)
    return np.column_stack([xs[gx], ys[gy]]).astype(np.float32)


def _finish(P: np.ndarray, disp: np.ndarray, desc: np.ndarray, fscale: float, p: IDTParams):
    """Validity tests and final descriptors of completed tracks (all arrays of one scale)."""
    traj = P * fscale
    dsp = disp * fscale
    mean = traj.mean(axis=1)
    std = np.sqrt(((traj - mean[:, None]) ** 2).mean(axis=1))
    static = (std[:, 0] < p.min_var) & (std[:, 1] < p.min_var)
    erratic_var = (std[:, 0] > p.max_var) | (std[:, 1] > p.max_var)
    steps = np.linalg.norm(np.diff(traj, axis=1), axis=2)
    length = steps.sum(axis=1)
    cur_max = steps.max(axis=1)
    erratic_jump = (cur_max > p.max_dis) & (cur_max > 0.7 * length)
    dmag = np.linalg.norm(dsp, axis=2)
    camera = dmag.max(axis=1) <= 1.0
    keep = ~(static | erratic_var | erratic_jump | camera)
    counts = {"static": int(static.sum()), "erratic": int((~static & (erratic_var | erratic_jump)).sum()),
              "camera": int((~static & ~erratic_var & ~erratic_jump & camera).sum()), "kept": int(keep.sum())}
    out = {}
    k = np.flatnonzero(keep)
    shape = dsp[k] / dmag[k].sum(axis=1)[:, None, None]
    L, nt = p.track_length, p.nt_cell
    out["traj"] = shape.reshape(len(k), 2 * L)
    d = desc[k].reshape(len(k), nt, L // nt, desc.shape[2]).mean(axis=2)  # (M, nt, 132)
    col = 0
    for kind in ("hog", "hof", "mbhx", "mbhy"):
        a, b = _OFFS[kind]
        width = (b - a) * p.nxy_cell * p.nxy_cell
        out[kind] = d[:, :, col:col + width].reshape(len(k), nt * width)
        col += width
    out["info"] = np.column_stack([mean[k], std[k], length[k], np.full(len(k), fscale)])
    return out, counts


def extract_idt(frames: np.ndarray, params: IDTParams | dict | None = None, path: str = "<frames>",
                progress: bool = False) -> tuple[dict[str, np.ndarray], dict]:
    """Improved dense trajectories of one grey video (T, H, W) uint8.

    Returns (arrays, stats): arrays ``traj`` (n, 30), ``hog`` (n, 96), ``hof`` (n, 108),
    ``mbhx`` (n, 96), ``mbhy`` (n, 96) float32 and ``info`` (n, 8: end frame, mean x, mean y,
    std x, std y, length, scale factor, scale index); stats counts removed trajectories
    and per-frame diagnostics (inliers of the homography, mean residual flow).
    """
    import cv2

    p = params if isinstance(params, IDTParams) else IDTParams.from_config(params)
    frames = np.asarray(frames)
    if frames.ndim == 4:
        frames = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])
    if frames.ndim != 3:
        raise BadInputError(path, f"expected (T, H, W) frames, got shape {frames.shape}")
    if p.max_frames:
        frames = frames[:p.max_frames]
    T, Hh, Ww = frames.shape
    if T < p.track_length + 1:
        raise BadInputError(path, f"too short for improved dense trajectories: {T} frames, a "
                                  f"{p.track_length}-frame trajectory needs at least {p.track_length + 1}")
    if min(Hh, Ww) < min_frame_side(p):
        raise BadInputError(path, f"frames of {Hh}x{Ww} are smaller than the {p.patch_size}px descriptor patch")
    frames = frames.astype(np.uint8, copy=False)
    S = n_scales(Hh, Ww, p)
    fscales = [p.scale_stride ** i for i in range(S)]
    sizes = [(int(round(Ww / f)), int(round(Hh / f))) for f in fscales]

    def pyramid(img):
        return [img if i == 0 else cv2.resize(img, sizes[i], interpolation=cv2.INTER_LINEAR) for i in range(S)]

    def flow_pyramid(flow):
        return [flow if i == 0 else cv2.resize(flow, sizes[i], interpolation=cv2.INTER_LINEAR) / fscales[i]
                for i in range(S)]

    tracks = [_Tracks(p) for _ in range(S)]
    cam = _CameraMotion(p) if p.camera_motion else None
    results: dict[str, list] = {k: [] for k in (*KINDS, "info")}
    counts = {"static": 0, "erratic": 0, "camera": 0, "kept": 0}
    inliers, residual = [], []

    prev = frames[0]
    prev_pyr = pyramid(prev)
    for i in range(S):
        tracks[i].add(dense_sample(prev_pyr[i], np.zeros((0, 2)), p))
    it = range(1, T)
    if progress:
        from tqdm import tqdm
        it = tqdm(it, desc="idt", unit="frame")
    for f in it:
        grey = frames[f]
        flow = farneback(prev, grey, p)
        if cam is not None:
            Hm, n_inl = cam.homography(prev, grey, flow)
            inliers.append(n_inl)
            # A homography that moves no frame corner by warp_min_shift px or more leaves the
            # warped frame equal to the frame: the warped flow is then the flow itself.
            flow_warp = (flow if homography_shift(Hm, Ww, Hh) < p.warp_min_shift
                         else farneback(prev, warp_back(grey, Hm), p))
        else:
            flow_warp = flow
        residual.append(float(np.linalg.norm(flow_warp, axis=2).mean()))
        flow_pyr = flow_pyramid(flow)
        warp_pyr = flow_pyramid(flow_warp)
        grey_pyr = pyramid(grey)
        for i in range(S):
            tr = tracks[i]
            idx, cur = tr.current()
            h, w = prev_pyr[i].shape
            if len(idx):
                integ = integral_histograms(prev_pyr[i], warp_pyr[i], p.min_flow)
                xi = np.clip(np.rint(cur[:, 0]).astype(np.int64), 0, w - 1)
                yi = np.clip(np.rint(cur[:, 1]).astype(np.int64), 0, h - 1)
                new = cur + flow_pyr[i][yi, xi]
                inside = (new[:, 0] > 0) & (new[:, 0] < w) & (new[:, 1] > 0) & (new[:, 1] < h)
                tr.active[idx[~inside]] = False
                idx, cur, new, xi, yi = idx[inside], cur[inside], new[inside], xi[inside], yi[inside]
                n = tr.n[idx]
                tr.disp[idx, n] = warp_pyr[i][yi, xi]
                tr.desc[idx, n] = patch_descriptors(integ, cur, p)
                tr.n[idx] = n + 1
                tr.P[idx, n + 1] = new
                done = idx[tr.n[idx] == p.track_length]
                if len(done):
                    out, c = _finish(tr.P[done], tr.disp[done], tr.desc[done], fscales[i], p)
                    tr.active[done] = False
                    for k in counts:
                        counts[k] += c[k]
                    m = len(out["traj"])
                    info = np.column_stack([np.full(m, f), out["info"], np.full(m, i)])
                    for k in KINDS:
                        results[k].append(out[k])
                    results["info"].append(info)
            if (f % p.init_gap) == 0:
                _, cur = tr.current()
                tr.add(dense_sample(grey_pyr[i], cur, p))
        prev, prev_pyr = grey, grey_pyr

    arrays = {}
    for k in KINDS:
        arrays[k] = (np.concatenate(results[k]).astype(np.float32) if results[k]
                     else np.zeros((0, DESCRIPTOR_DIMS[k]), np.float32))
    arrays["info"] = (np.concatenate(results["info"]).astype(np.float32) if results["info"]
                      else np.zeros((0, 8), np.float32))
    stats = dict(counts, n_frames=T, n_scales=S, homography_inliers=inliers, residual_flow=residual)
    return arrays, stats
