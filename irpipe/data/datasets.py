"""Dataset readers: turn a dataset on disk (or the synthetic one) into manifest tables.

Recognition (InfAR-style): ``<root>/<class>/<video>`` or a CSV with columns ``path,label``.
Detection (InfDet-style): a folder of untrimmed videos plus annotations, either THUMOS14-style
per-class text files ``<class>_<subset>.txt`` (lines ``video_id t_start t_end`` in seconds) or a
CSV with columns ``video,label,t_start,t_end,subset``.

Every video is decoded once here (:func:`irpipe.data.video.probe_video`) so that unusable files
are caught before any per-video job is scheduled. Each problem raises a
:class:`~irpipe.errors.BadInputError` naming the file and reason, or, under
``on_bad_input: skip``, is recorded in the returned bad-input list.
"""
from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from ..errors import BadInput, BadInputError, handle_bad_input
from .video import VideoInfo, probe_video

log = logging.getLogger(__name__)

RECOGNITION_COLUMNS = ["video_id", "path", "label", "label_index", "fps", "n_frames",
                       "width", "height", "duration", "codec"]
DETECTION_COLUMNS = ["video_id", "path", "subset", "fps", "n_frames", "width", "height",
                     "duration", "codec"]
ANNOTATION_COLUMNS = ["video_id", "label", "label_index", "t_start", "t_end", "subset"]
AMBIGUOUS = "Ambiguous"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_id(name: str) -> str:
    """A video id usable as a Snakemake wildcard and a file name."""
    out = _UNSAFE.sub("_", name).strip("._")
    return out or "video"


def unique_ids(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        base = safe_id(n)
        k = seen.get(base, 0)
        out.append(base if k == 0 else f"{base}__{k}")
        seen[base] = k + 1
    return out


@dataclass
class ManifestResult:
    manifest: pd.DataFrame
    bad: list[BadInput]
    annotations: pd.DataFrame | None = None
    ambiguous: pd.DataFrame | None = None


def stored_path(path: str | Path) -> str:
    """How a manifest records a video's path: relative to the working directory when the
    file lies inside it (the synthetic set under results/), so that a results folder can be
    moved and two runs in different folders give identical tables; absolute otherwise."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(resolved)


def _has_ext(path: Path, extensions: Iterable[str]) -> bool:
    return path.suffix.lower() in {e.lower() for e in extensions}


# --------------------------------------------------------------------------------------
# Recognition
# --------------------------------------------------------------------------------------
def discover_recognition_folder(root: str | Path, classes: Sequence[str], extensions: Sequence[str],
                                policy: str, bad: list[BadInput]) -> list[tuple[Path, str]]:
    """``(path, class)`` for every video file in ``root/<class>/``; class names match case-insensitively."""
    root = Path(root)
    if not root.is_dir():
        raise BadInputError(root, "recognition dataset folder does not exist")
    by_lower = {c.lower(): c for c in classes}
    items: list[tuple[Path, str]] = []
    found = set()
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        cls = by_lower.get(sub.name.lower())
        if cls is None:
            handle_bad_input(BadInputError(sub, f"folder is not one of the configured classes {list(classes)}"),
                             policy, "recognition", "manifest", bad)
            continue
        # Every entry with a video extension, files or not: a dangling link or a folder named
        # like a video reaches the probe and becomes a bad input instead of vanishing.
        videos = sorted(p for p in sub.iterdir() if _has_ext(p, extensions))
        if not videos:
            handle_bad_input(BadInputError(sub, f"class folder holds no videos with extensions {list(extensions)}"),
                             policy, "recognition", "manifest", bad)
            continue
        found.add(cls)
        items += [(v, cls) for v in videos]
    for cls in classes:
        if cls not in found and not any(b.item.endswith("/" + cls) for b in bad):
            handle_bad_input(BadInputError(root / cls, "no folder (or no videos) for this configured class"),
                             policy, "recognition", "manifest", bad)
    return items


def discover_recognition_csv(csv_path: str | Path, classes: Sequence[str], policy: str,
                             bad: list[BadInput]) -> list[tuple[Path, str]]:
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise BadInputError(csv_path, "manifest CSV does not exist")
    df = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    missing = {"path", "label"} - set(df.columns)
    if missing:
        raise BadInputError(csv_path, f"missing columns {sorted(missing)} (need path,label)")
    by_lower = {c.lower(): c for c in classes}
    items = []
    for i, row in df.iterrows():
        cls = by_lower.get(row["label"].strip().lower())
        path = Path(row["path"])
        path = path if path.is_absolute() else (csv_path.parent / path)
        if cls is None:
            handle_bad_input(BadInputError(f"{csv_path}:{i + 2}", f"label '{row['label']}' is not a configured class"),
                             policy, "recognition", "manifest", bad)
            continue
        items.append((path, cls))
    return items


def _probe_all(paths: Sequence[Path], min_frames: int, threads: int) -> list[VideoInfo | BadInputError]:
    def probe(p: Path) -> VideoInfo | BadInputError:
        try:
            return probe_video(p, min_frames=min_frames)
        except BadInputError as exc:
            return exc
    if threads <= 1 or len(paths) < 4:
        return [probe(p) for p in paths]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(probe, paths))


def build_recognition_manifest(items: Sequence[tuple[Path, str]], classes: Sequence[str], min_frames: int,
                               policy: str, bad: list[BadInput], threads: int = 1) -> pd.DataFrame:
    paths = [Path(p) for p, _ in items]
    ids = unique_ids([f"{cls}_{p.stem}" if not p.stem.lower().startswith(cls.lower()) else p.stem
                      for p, cls in items])
    infos = _probe_all(paths, min_frames, threads)
    rows = []
    for vid, (path, cls), info in zip(ids, items, infos):
        if isinstance(info, BadInputError):
            handle_bad_input(info, policy, "recognition", "manifest", bad)
            continue
        rows.append({"video_id": vid, "path": stored_path(path), "label": cls,
                     "label_index": list(classes).index(cls), "fps": info.fps, "n_frames": info.n_frames,
                     "width": info.width, "height": info.height, "duration": round(info.duration, 4),
                     "codec": info.codec})
    df = pd.DataFrame(rows, columns=RECOGNITION_COLUMNS)
    if df.empty:
        raise BadInputError(paths[0].parent.parent if paths else "<dataset>",
                            "no usable recognition video was found")
    return df


def recognition_manifest(dcfg: dict, policy: str, synthetic_root: str | Path | None = None,
                         threads: int = 1) -> ManifestResult:
    """Manifest of the recognition set described by ``config['dataset']['recognition']``."""
    bad: list[BadInput] = []
    classes = dcfg["classes"]
    source = dcfg["source"]
    if source == "synthetic":
        items = discover_recognition_folder(synthetic_root, classes, dcfg["extensions"], policy, bad)
    elif source == "folder":
        items = discover_recognition_folder(_required(dcfg, "path"), classes, dcfg["extensions"], policy, bad)
    else:
        items = discover_recognition_csv(_required(dcfg, "path"), classes, policy, bad)
    df = build_recognition_manifest(items, classes, dcfg["min_frames"], policy, bad, threads)
    return ManifestResult(df, bad)


def _required(dcfg: dict, key: str) -> str:
    if not dcfg.get(key):
        from ..errors import ConfigError
        raise ConfigError(f"config key 'dataset.*.{key}' must be set for source '{dcfg['source']}'")
    return dcfg[key]


# --------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------
def read_thumos_annotations(folder: str | Path, classes: Sequence[str], subsets: dict,
                            policy: str, bad: list[BadInput]) -> pd.DataFrame:
    """Read ``<class>_<subset>.txt`` files (and ``Ambiguous_<subset>.txt`` when present)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInputError(folder, "annotation folder does not exist")
    rows = []
    for subset_key, subset_name in subsets.items():
        for cls in list(classes) + [AMBIGUOUS]:
            path = folder / f"{cls}_{subset_name}.txt"
            if not path.exists():
                if cls != AMBIGUOUS:
                    log.warning("%s: no annotation file for class %s in subset %s", path, cls, subset_name)
                continue
            for lineno, line in enumerate(path.read_text().splitlines(), start=1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                parts = line.split()
                where = f"{path}:{lineno}"
                try:
                    if len(parts) != 3:
                        raise ValueError
                    rows.append({"video_id": parts[0], "label": cls, "t_start": float(parts[1]),
                                 "t_end": float(parts[2]), "subset": subset_key, "source": where})
                except ValueError:
                    handle_bad_input(BadInputError(where, f"expected 'video_id t_start t_end', got '{line.strip()}'"),
                                     policy, "detection", "manifest", bad)
    return pd.DataFrame(rows, columns=["video_id", "label", "t_start", "t_end", "subset", "source"])


def read_csv_annotations(path: str | Path, classes: Sequence[str], subsets: dict, policy: str,
                         bad: list[BadInput]) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "annotation CSV does not exist")
    df = pd.read_csv(path, dtype={"video": str, "label": str, "subset": str})
    missing = {"video", "label", "t_start", "t_end", "subset"} - set(df.columns)
    if missing:
        raise BadInputError(path, f"missing columns {sorted(missing)} (need video,label,t_start,t_end,subset)")
    inverse = {v: k for k, v in subsets.items()}
    rows = []
    for i, r in df.iterrows():
        where = f"{path}:{i + 2}"
        subset = inverse.get(str(r["subset"]), str(r["subset"]) if str(r["subset"]) in subsets else None)
        if subset is None:
            handle_bad_input(BadInputError(where, f"subset '{r['subset']}' is neither of {list(subsets.values())}"),
                             policy, "detection", "manifest", bad)
            continue
        rows.append({"video_id": str(r["video"]), "label": str(r["label"]), "t_start": float(r["t_start"]),
                     "t_end": float(r["t_end"]), "subset": subset, "source": where})
    return pd.DataFrame(rows, columns=["video_id", "label", "t_start", "t_end", "subset", "source"])


def _find_videos(folder: Path, extensions: Sequence[str]) -> dict[str, Path]:
    if not folder.is_dir():
        raise BadInputError(folder, "detection video folder does not exist")
    return {p.stem: p for p in sorted(folder.iterdir()) if _has_ext(p, extensions)}


def detection_manifest(dcfg: dict, policy: str, synthetic_root: str | Path | None = None,
                       threads: int = 1) -> ManifestResult:
    """Manifest, annotations and Ambiguous segments of the detection set."""
    bad: list[BadInput] = []
    classes = dcfg["classes"]
    subsets = dcfg["subsets"]
    if dcfg["source"] == "synthetic":
        videos_dir = Path(synthetic_root) / "videos"
        ann = read_thumos_annotations(Path(synthetic_root) / "annotations", classes, subsets, policy, bad)
    else:
        videos_dir = Path(_required(dcfg, "videos"))
        if dcfg["source"] == "thumos":
            ann = read_thumos_annotations(_required(dcfg, "annotations"), classes, subsets, policy, bad)
        else:
            ann = read_csv_annotations(_required(dcfg, "annotations"), classes, subsets, policy, bad)
    videos = _find_videos(videos_dir, dcfg["extensions"])

    # Label, presence of the video, and time order, annotation by annotation.
    keep = []
    for _, r in ann.iterrows():
        problem = None
        if r["label"] not in classes and r["label"] != AMBIGUOUS:
            problem = f"label '{r['label']}' is not a configured class {list(classes)}"
        elif r["video_id"] not in videos:
            problem = f"refers to video '{r['video_id']}', which is not in {videos_dir}"
        elif not (r["t_end"] > r["t_start"]):
            problem = f"t_end ({r['t_end']}) <= t_start ({r['t_start']})"
        elif r["t_start"] < 0:
            problem = f"t_start ({r['t_start']}) is negative"
        if problem:
            handle_bad_input(BadInputError(r["source"], problem), policy, "detection", "manifest", bad)
        else:
            keep.append(r)
    ann = pd.DataFrame(keep, columns=ann.columns)

    # A video belongs to the subset its annotations name; one named in two subsets is an error.
    subset_of = ann.groupby("video_id")["subset"].agg(lambda s: sorted(set(s)))
    video_ids = sorted(subset_of.index)
    paths = [videos[v] for v in video_ids]
    infos = _probe_all(paths, dcfg["min_frames"], threads)
    rows, usable = [], set()
    for vid, path, info in zip(video_ids, paths, infos):
        subs = subset_of[vid]
        if isinstance(info, BadInputError):
            handle_bad_input(info, policy, "detection", "manifest", bad)
            continue
        if len(subs) != 1:
            handle_bad_input(BadInputError(path, f"annotated in more than one subset: {subs}"),
                             policy, "detection", "manifest", bad)
            continue
        rows.append({"video_id": vid, "path": stored_path(path), "subset": subs[0], "fps": info.fps,
                     "n_frames": info.n_frames, "width": info.width, "height": info.height,
                     "duration": round(info.duration, 4), "codec": info.codec})
        usable.add(vid)
    manifest = pd.DataFrame(rows, columns=DETECTION_COLUMNS)
    if manifest.empty:
        raise BadInputError(videos_dir, "no usable annotated detection video was found")
    for vid in sorted(set(videos) - set(subset_of.index)):
        log.warning("%s: no annotation refers to this video; it is not used", videos[vid])

    # Instances must lie inside their video (half a frame of tolerance for rounding).
    duration = manifest.set_index("video_id")["duration"]
    fps = manifest.set_index("video_id")["fps"]
    keep = []
    for _, r in ann[ann["video_id"].isin(usable)].iterrows():
        if r["t_end"] > duration[r["video_id"]] + 0.5 / fps[r["video_id"]]:
            handle_bad_input(BadInputError(r["source"], f"t_end ({r['t_end']}) is beyond the end of video "
                                                        f"'{r['video_id']}' ({duration[r['video_id']]:.3f} s)"),
                             policy, "detection", "manifest", bad)
        else:
            keep.append(r)
    ann = pd.DataFrame(keep, columns=ann.columns)
    ambiguous = ann[ann["label"] == AMBIGUOUS][["video_id", "t_start", "t_end", "subset"]].reset_index(drop=True)
    ann = ann[ann["label"] != AMBIGUOUS].copy()
    ann["label_index"] = ann["label"].map({c: i for i, c in enumerate(classes)}).astype(int)
    ann = ann.sort_values(["subset", "video_id", "t_start", "label"])[ANNOTATION_COLUMNS].reset_index(drop=True)
    return ManifestResult(manifest, bad, annotations=ann, ambiguous=ambiguous)


def thumos_class_list(classes: Sequence[str]) -> str:
    """THUMOS14-style class list: ``id name`` per line, ids from 1."""
    return "".join(f"{i + 1} {c}\n" for i, c in enumerate(classes))
