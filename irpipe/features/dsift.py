"""Dense SIFT on uniformly sampled frames, with cyvlfeat's ``dsift``.

Multi-scale as in vlfeat's PHOW: for each spatial bin size ``s`` the frame is first smoothed
with a Gaussian of standard deviation ``sqrt((s / magnif)^2 - 1/4)`` (cyvlfeat does not
smooth), then descriptors are sampled every ``step`` pixels; the sampling grids of all bin
sizes share their centres (bounds offset by ``3/2 (s_max - s)``). Descriptors whose norm
before normalisation is below ``contrast_threshold`` (on a [0, 1] image) carry no texture
and are dropped. Descriptors are vlfeat's uint8 quantisation (``min(512 x, 255)``).
"""
from __future__ import annotations

import numpy as np

from ..errors import BadInputError

_CY_DSIFT = None


def _cy_dsift():
    """cyvlfeat's compiled ``cy_dsift``, loaded without running ``import cyvlfeat``.

    The package's ``__init__`` imports every submodule and with them scipy.ndimage, about half
    a second of CPU per per-video job; the extension itself needs only numpy. Falls back to
    the normal import if the direct load fails.
    """
    global _CY_DSIFT
    if _CY_DSIFT is None:
        try:
            import glob
            import importlib.machinery
            import importlib.util
            import os

            base = importlib.util.find_spec("cyvlfeat").submodule_search_locations[0]
            path = glob.glob(os.path.join(base, "sift", "cysift*.so"))[0]
            loader = importlib.machinery.ExtensionFileLoader("cyvlfeat.sift.cysift", path)
            spec = importlib.util.spec_from_file_location("cyvlfeat.sift.cysift", path, loader=loader)
            mod = importlib.util.module_from_spec(spec)
            loader.exec_module(mod)
            _CY_DSIFT = mod.cy_dsift
        except Exception:  # pragma: no cover - depends on the installed build
            from cyvlfeat.sift.cysift import cy_dsift
            _CY_DSIFT = cy_dsift
    return _CY_DSIFT


def dsift(image: np.ndarray, step: int, size: int, bounds, fast: bool = True):
    """vlfeat dense SIFT of a float32 (H, W) image: frames (n, 3: y, x, norm), uint8 (n, 128).

    Same conventions as ``cyvlfeat.sift.dsift(..., norm=True, float_descriptors=False)``:
    ``bounds`` = [ymin, xmin, ymax, xmax], Y before X, 0-based.
    """
    i32 = lambda a: np.asarray(a, dtype=np.int32)  # noqa: E731
    return _cy_dsift()(np.require(image, dtype=np.float32, requirements="C"), i32([step, step]),
                       i32([size, size]), i32(bounds), -1, True, bool(fast), False, i32([4, 4, 8]), False)


def sample_frame_indices(n_total: int, n: int) -> np.ndarray:
    """``n`` frame indices spread uniformly over ``[0, n_total)`` (all frames if fewer)."""
    if n_total <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.round(np.linspace(0, n_total - 1, min(n, n_total))).astype(np.int64))


def smooth(image: np.ndarray, bin_size: int, magnif: float) -> np.ndarray:
    import cv2

    sigma2 = (bin_size / magnif) ** 2 - 0.25
    if sigma2 <= 0:
        return np.ascontiguousarray(image, dtype=np.float32)
    return cv2.GaussianBlur(np.ascontiguousarray(image, dtype=np.float32), (0, 0), float(np.sqrt(sigma2)),
                            borderType=cv2.BORDER_REPLICATE)


def bin_offset(bin_size: int, max_bin: int) -> int:
    """Grid offset of bin size ``bin_size`` so that all scales share the largest one's grid."""
    return int(np.floor(1.5 * (max_bin - bin_size)))


def bin_fits(bin_size: int, max_bin: int, side: int) -> bool:
    """Whether one descriptor of ``bin_size`` fits a frame whose shorter side is ``side``:
    vlfeat places the outer bin centres 3 bins apart, starting at the offset."""
    return bin_offset(bin_size, max_bin) + 3 * int(bin_size) < int(side)


def fitting_bin_sizes(bin_sizes, side: int) -> list[int]:
    """The configured bin sizes that yield descriptors on a frame with shorter side ``side``."""
    smax = max(bin_sizes)
    return [int(s) for s in bin_sizes if bin_fits(s, smax, side)]


def dense_sift_channels(channels: np.ndarray, step: int, bin_sizes, magnif: float = 6.0,
                        fast: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense SIFT on each channel of ``channels`` (C, H, W) float32, on one shared grid.

    Returns ``positions`` (n, 3: y, x, bin size), ``descriptors`` (n, C*128) uint8 and
    ``norms`` (n, C), the per-channel descriptor norms before normalisation.
    """
    channels = np.asarray(channels, dtype=np.float32)
    C, H, W = channels.shape
    smax = max(bin_sizes)
    pos_all, desc_all, norm_all = [], [], []
    for s in bin_sizes:
        off = bin_offset(s, smax)
        if not bin_fits(s, smax, min(H, W)):
            continue  # descriptor does not fit in the frame at this bin size
        bounds = [off, off, H - 1, W - 1]
        descs, norms, frames = [], [], None
        for c in range(C):
            img = smooth(channels[c], s, magnif)
            fr, d = dsift(img, int(step), int(s), bounds, fast)
            frames = fr
            descs.append(d)
            norms.append(fr[:, 2])
        pos = np.column_stack([frames[:, 0], frames[:, 1], np.full(len(frames), s, np.float32)])
        pos_all.append(pos.astype(np.float32))
        desc_all.append(np.concatenate(descs, axis=1))
        norm_all.append(np.stack(norms, axis=1))
    if not pos_all:
        return (np.zeros((0, 3), np.float32), np.zeros((0, 128 * C), np.uint8),
                np.zeros((0, C), np.float32))
    return np.concatenate(pos_all), np.concatenate(desc_all), np.concatenate(norm_all).astype(np.float32)


def video_descriptors(frames: np.ndarray, channel_fn, n_frames: int, step: int, bin_sizes,
                      magnif: float, fast: bool, contrast_threshold: float,
                      path: str = "<frames>") -> tuple[np.ndarray, np.ndarray]:
    """Descriptors of a video: ``channel_fn(frame) -> (C, H, W) float32 in [0, 1]``.

    Returns ``positions`` (n, 4: t, y, x, bin size) float32 and descriptors (n, C*128) uint8.
    Raises BadInputError when no frame has any textured descriptor.
    """
    if frames.ndim not in (3, 4) or frames.shape[0] == 0:
        raise BadInputError(path, f"expected (T, H, W[, 3]) frames with T >= 1, got shape {frames.shape}")
    idx = sample_frame_indices(frames.shape[0], n_frames)
    pos_all, desc_all = [], []
    total = 0
    for t in idx:
        ch = channel_fn(frames[t])
        pos, desc, norms = dense_sift_channels(ch, step, bin_sizes, magnif, fast)
        total += len(pos)
        keep = norms.max(axis=1) >= contrast_threshold
        pos_all.append(np.column_stack([np.full(keep.sum(), t, np.float32), pos[keep]]))
        desc_all.append(desc[keep])
    pos = np.concatenate(pos_all) if pos_all else np.zeros((0, 4), np.float32)
    desc = np.concatenate(desc_all) if desc_all else np.zeros((0, 128), np.uint8)
    if total == 0:
        raise BadInputError(path, f"frames of size {frames.shape[1:3]} are too small for dense SIFT "
                                  f"with bin sizes {list(bin_sizes)}")
    if len(desc) == 0:
        raise BadInputError(path, f"no texture: all {total} dense SIFT descriptors of {len(idx)} frames "
                                  f"are below the contrast threshold {contrast_threshold}")
    return pos.astype(np.float32), desc


def grey_channels(frame: np.ndarray) -> np.ndarray:
    f = np.asarray(frame)
    if f.ndim == 3:  # colour input: luminance
        f = f[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return (f.astype(np.float32) / 255.0)[None]


def dsift_video(frames: np.ndarray, cfg: dict, path: str = "<frames>") -> dict[str, np.ndarray]:
    """D-SIFT of one video from the ``handcrafted.dsift`` config block (+ ``n_frames``)."""
    pos, desc = video_descriptors(frames, grey_channels, cfg["n_frames"], cfg["step"], cfg["bin_sizes"],
                                  cfg["magnif"], cfg["fast"], cfg["contrast_threshold"], path)
    return {"descriptors": desc, "positions": pos}
