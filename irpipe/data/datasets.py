"""Dataset readers: turn a dataset on disk (or the synthetic one) into manifest tables.

Recognition (InfAR-style): ``<root>/<class>/<video>`` or a CSV with columns ``path,label``
(optional ``fps``). Detection (InfDet-style): a folder of untrimmed videos plus annotations,
either THUMOS14-style per-class text files ``<class>_<subset>.txt`` (lines ``video t_start
t_end`` in seconds; the video name may contain spaces) with an optional ``detclasslist.txt``,
or a CSV with columns ``video,label,t_start,t_end,subset``. A "video" is a video file or an
image sequence: a folder of frames (see :mod:`irpipe.data.video`).

Classes come from the data unless the config lists them (``dataset.<name>.classes``):
sorted sub-folder names (as torchvision's ImageFolder), sorted unique CSV labels, or the
THUMOS ``detclasslist.txt`` (its ids and order) / the ``<class>_<subset>.txt`` names
(``Ambiguous`` excluded). A configured list filters and orders them; a configured class the
data lack is a bad input. :class:`ClassList` records the list and where it came from.

Every video is decoded once here (:func:`irpipe.data.video.probe_video`) so that unusable files
are caught before any per-video job is scheduled. Problems are collected: under
``on_bad_input: error`` one :class:`~irpipe.errors.BadInputsError` then names every bad input
found (count, then each file and reason); under ``skip`` they are returned as a bad-input list.
"""
from __future__ import annotations

import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from ..errors import BadInput, BadInputError, BadInputsError, ConfigError, handle_bad_input
from .paths import stored_path  # noqa: F401  (re-exported: manifests record paths with it)
from .video import VideoInfo, is_sequence, probe_video

log = logging.getLogger(__name__)

RECOGNITION_COLUMNS = ["video_id", "path", "label", "label_index", "fps", "n_frames",
                       "width", "height", "duration", "codec", "bit_depth"]
DETECTION_COLUMNS = ["video_id", "path", "subset", "fps", "n_frames", "width", "height",
                     "duration", "codec", "bit_depth"]
ANNOTATION_COLUMNS = ["video_id", "label", "label_index", "t_start", "t_end", "subset"]
AMBIGUOUS = "Ambiguous"
CLASS_LIST_FILE = "detclasslist.txt"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
# Collected while reading; whether they stop the run is decided once, at the end (policy).
_COLLECT = "skip"


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


@dataclass(frozen=True)
class ClassList:
    """The classes of a dataset, in label-index order, with THUMOS-style ids and their origin."""
    names: list[str]
    ids: list[int]
    source: str

    def text(self) -> str:
        """``id name`` per line (the THUMOS14 ``detclasslist.txt`` format)."""
        return "".join(f"{i} {c}\n" for i, c in zip(self.ids, self.names))

    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.names)}


def read_classes_file(path: str | Path) -> list[str]:
    """Class names, in order, from a class list written by :meth:`ClassList.text`
    (names may contain spaces: everything after the id)."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "class list does not exist (written by the manifest job)")
    names = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.strip().split(None, 1)
        if len(parts) != 2:
            raise BadInputError(path, f"line {n}: expected 'id name', got {line!r}")
        names.append(parts[1])
    return names


def resolve_classes(found: Sequence[str], configured: Sequence[str] | None, where: str | Path, origin: str,
                    dataset: str, bad: list[BadInput], ids: Sequence[int] | None = None) -> ClassList:
    """The class list: ``found`` (in the order given) unless ``configured`` lists classes,
    which then filter and order them (matched case-insensitively; the configured spelling
    is the label). A configured class that the data lack is a bad input named by ``where``.
    ``ids``: THUMOS ids of ``found`` (default 1..C in the final order)."""
    if configured is None:
        if not found:
            raise BadInputError(where, f"no class found ({origin})")
        return ClassList(list(found), list(ids) if ids is not None else list(range(1, len(found) + 1)),
                         f"found in {where} ({origin})")
    configured = list(configured)
    if len({c.lower() for c in configured}) != len(configured):
        raise ConfigError(f"config key 'dataset.{dataset}.classes' lists a class twice: {configured}")
    id_of = {c.lower(): i for c, i in zip(found, ids)} if ids is not None else {}
    present = {c.lower() for c in found}
    for c in configured:
        if c.lower() not in present:
            handle_bad_input(BadInputError(f"{where}", f"configured class '{c}' is not in the data "
                                                       f"(found: {list(found)})"),
                             _COLLECT, dataset, "manifest", bad)
    left_out = [c for c in found if c.lower() not in {x.lower() for x in configured}]
    if left_out:
        log.info("%s: classes %s are not in dataset.%s.classes: left out", where, left_out, dataset)
    out_ids = ([id_of.get(c.lower(), 0) for c in configured] if id_of else list(range(1, len(configured) + 1)))
    if id_of and 0 in out_ids:  # a configured class absent from detclasslist: number after the largest id
        top = max(id_of.values())
        out_ids = [i if i else (top := top + 1) for i in out_ids]
    return ClassList(configured, out_ids, f"configured (dataset.{dataset}.classes)")


@dataclass
class ManifestResult:
    manifest: pd.DataFrame
    bad: list[BadInput]
    annotations: pd.DataFrame | None = None
    ambiguous: pd.DataFrame | None = None
    classes: ClassList | None = None
    subsets: dict[str, str] | None = None  # detection: the subset names as resolved (train: auto)


def finish(bad: list[BadInput], policy: str, dataset: str) -> None:
    """Under ``on_bad_input: error``, stop with every bad input found, in one message."""
    if policy == "error" and bad:
        raise BadInputsError(bad, f"the {dataset} manifest")


def _has_ext(path: Path, extensions: Iterable[str]) -> bool:
    return path.suffix.lower() in {e.lower() for e in extensions}


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


# --------------------------------------------------------------------------------------
# Recognition
# --------------------------------------------------------------------------------------
Item = tuple  # (path, class, fps or None): one recognition video


def _class_folder_videos(sub: Path, extensions: Sequence[str]) -> list[Path]:
    # Every entry with a video extension, files or not (a dangling link or a folder named like a
    # video reaches the probe and becomes a bad input instead of vanishing), and every folder
    # (an image sequence; one without frames becomes a bad input too).
    return [p for p in _visible(sub) if _has_ext(p, extensions) or p.is_dir()]


def discover_recognition_folder(root: str | Path, configured: Sequence[str] | None, extensions: Sequence[str],
                                bad: list[BadInput], fps: float | None = None) -> tuple[list[Item], ClassList]:
    """``(path, class, fps)`` for every video in ``root/<class>/`` (a file, or a folder of frames)
    and the class list (sorted sub-folder names unless ``configured``; matched case-insensitively)."""
    root = Path(root)
    if not root.is_dir():
        raise BadInputError(root, "recognition dataset folder does not exist")
    subs = [p for p in _visible(root) if p.is_dir()]
    wanted = None if configured is None else {c.lower(): c for c in configured}
    items: list[Item] = []
    found = []
    for sub in subs:
        if wanted is not None and sub.name.lower() not in wanted:
            continue
        videos = _class_folder_videos(sub, extensions)
        if not videos:
            handle_bad_input(BadInputError(sub, f"class folder holds no videos (extensions {list(extensions)}, "
                                                "or folders of frames)"), _COLLECT, "recognition", "manifest", bad)
            continue
        found.append(sub.name)
        cls = sub.name if wanted is None else wanted[sub.name.lower()]
        items += [(v, cls, fps) for v in videos]
    # Configured: every sub-folder counts as present (one reported empty above is not reported twice).
    classes = resolve_classes(found if configured is None else [s.name for s in subs], configured, root,
                              "sub-folders", "recognition", bad)
    return items, classes


def discover_recognition_csv(csv_path: str | Path, configured: Sequence[str] | None, bad: list[BadInput],
                             fps: float | None = None) -> tuple[list[Item], ClassList]:
    """Items and classes of a CSV with columns ``path,label`` (optional ``fps``, the frame rate
    of an image-sequence row); paths are relative to the CSV; labels match case-insensitively."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise BadInputError(csv_path, "manifest CSV does not exist")
    df = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    missing = {"path", "label"} - set(df.columns)
    if missing:
        raise BadInputError(csv_path, f"missing columns {sorted(missing)} (need path,label)")
    spelling: dict[str, str] = {}
    for label in sorted(x.strip() for x in df["label"]):  # one spelling per case-folded label
        if label:
            spelling.setdefault(label.lower(), label)
    found = sorted(spelling.values())
    classes = resolve_classes(found, configured, csv_path, "unique labels of the label column", "recognition", bad)
    by_lower = {c.lower(): c for c in classes.names}
    items = []
    for i, row in df.iterrows():
        where = f"{csv_path}:{i + 2}"
        label = row["label"].strip()
        if not label:
            handle_bad_input(BadInputError(where, "empty label"), _COLLECT, "recognition", "manifest", bad)
            continue
        cls = by_lower.get(label.lower())
        if cls is None:
            continue  # a class the configured list leaves out
        row_fps = fps
        if "fps" in df.columns and row["fps"].strip():
            try:
                row_fps = float(row["fps"])
                if not row_fps > 0:
                    raise ValueError
            except ValueError:
                handle_bad_input(BadInputError(where, f"fps '{row['fps']}' is not a positive number"),
                                 _COLLECT, "recognition", "manifest", bad)
                continue
        path = Path(row["path"])
        items.append((path if path.is_absolute() else (csv_path.parent / path), cls, row_fps))
    return items, classes


def _probe_all(paths: Sequence[Path], min_frames: int, threads: int,
               fps: Sequence[float | None] | None = None) -> list[VideoInfo | BadInputError]:
    fps = list(fps) if fps is not None else [None] * len(paths)

    def probe(args) -> VideoInfo | BadInputError:
        p, f = args
        try:
            return probe_video(p, min_frames=min_frames, fps=f)
        except BadInputError as exc:
            return exc
    if threads <= 1 or len(paths) < 4:
        return [probe(a) for a in zip(paths, fps)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(probe, zip(paths, fps)))


def _check_fps(items: Sequence[Item], dataset: str) -> None:
    """An image sequence needs a frame rate from the config (or the CSV): say so up front."""
    for path, _, fps in items:
        if fps is None and Path(path).is_dir() and is_sequence(path):
            raise ConfigError(f"{path} is an image sequence (a folder of frames), which carries no frame rate: "
                              f"set config key 'dataset.{dataset}.fps'"
                              + (" (or an fps column in the csv)" if dataset == "recognition" else ""))


def _video_name(path: Path) -> str:
    """A video's name: the file stem, or a frame folder's whole name."""
    return path.name if path.is_dir() else path.stem


def build_recognition_manifest(items: Sequence[Item], classes: Sequence[str], min_frames: int,
                               bad: list[BadInput], threads: int = 1) -> pd.DataFrame:
    paths = [Path(it[0]) for it in items]
    names = [_video_name(p) for p in paths]
    ids = unique_ids([f"{it[1]}_{n}" if not n.lower().startswith(it[1].lower()) else n
                      for n, it in zip(names, items)])
    infos = _probe_all(paths, min_frames, threads, [it[2] for it in items])
    index = {c: i for i, c in enumerate(classes)}
    rows = []
    for vid, (path, cls, _), info in zip(ids, items, infos):
        if isinstance(info, BadInputError):
            handle_bad_input(info, _COLLECT, "recognition", "manifest", bad)
            continue
        rows.append({"video_id": vid, "path": stored_path(path), "label": cls,
                     "label_index": index[cls], "fps": info.fps, "n_frames": info.n_frames,
                     "width": info.width, "height": info.height, "duration": round(info.duration, 4),
                     "codec": info.codec, "bit_depth": info.bit_depth})
    return pd.DataFrame(rows, columns=RECOGNITION_COLUMNS)


def recognition_manifest(dcfg: dict, policy: str, synthetic_root: str | Path | None = None,
                         threads: int = 1) -> ManifestResult:
    """Manifest and class list of the recognition set described by ``config['dataset']['recognition']``."""
    bad: list[BadInput] = []
    configured = dcfg.get("classes")
    source = dcfg["source"]
    fps = dcfg.get("fps")
    if source == "synthetic":
        items, classes = discover_recognition_folder(synthetic_root, configured, dcfg["extensions"], bad, fps)
    elif source == "folder":
        items, classes = discover_recognition_folder(_required(dcfg, "path"), configured, dcfg["extensions"], bad, fps)
    else:
        items, classes = discover_recognition_csv(_required(dcfg, "path"), configured, bad, fps)
    _check_fps(items, "recognition")
    df = build_recognition_manifest(items, classes.names, dcfg["min_frames"], bad, threads)
    finish(bad, policy, "recognition")
    if df.empty:
        raise BadInputError(dcfg.get("path") or synthetic_root or "<dataset>", "no usable recognition video was found")
    return ManifestResult(df, bad, classes=classes)


def _required(dcfg: dict, key: str) -> str:
    if not dcfg.get(key):
        from ..errors import ConfigError
        raise ConfigError(f"config key 'dataset.*.{key}' must be set for source '{dcfg['source']}'")
    return dcfg[key]


# --------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------
def thumos_classes(folder: str | Path, configured: Sequence[str] | None, subsets: dict,
                   bad: list[BadInput]) -> ClassList:
    """Classes of a THUMOS-style annotation folder: ``detclasslist.txt`` (``id name`` lines; its
    ids and order) when present, else the sorted names of the ``<class>_<subset>.txt`` files of
    the configured subsets; ``Ambiguous`` is never a class."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInputError(folder, "annotation folder does not exist")
    listfile = folder / CLASS_LIST_FILE
    if listfile.is_file():
        cl = read_class_list(listfile)
        cl = cl[cl["label"] != AMBIGUOUS]
        return resolve_classes(list(cl["label"]), configured, listfile, "id name lines", "detection", bad,
                               ids=[int(i) for i in cl["class_id"]])
    found = set()
    for subset in subsets.values():
        suffix = f"_{subset}.txt"
        found |= {f.name[: -len(suffix)] for f in folder.iterdir()
                  if f.is_file() and f.name.endswith(suffix) and len(f.name) > len(suffix)}
    found.discard(AMBIGUOUS)
    return resolve_classes(sorted(found), configured, folder,
                           f"names of the <class>_<subset>.txt files, subsets {sorted(subsets.values())}",
                           "detection", bad)


def _split_line(line: str) -> list[str]:
    # The last two fields are the times: a video name may contain spaces.
    return line.strip().rsplit(None, 2)


def read_thumos_annotations(folder: str | Path, classes: Sequence[str], subsets: dict,
                            bad: list[BadInput]) -> pd.DataFrame:
    """Read ``<class>_<subset>.txt`` files (and ``Ambiguous_<subset>.txt`` when present);
    file names match class names case-insensitively."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInputError(folder, "annotation folder does not exist")
    files = {f.name.lower(): f for f in folder.iterdir() if f.is_file()}
    rows = []
    for subset_key, subset_name in subsets.items():
        for cls in list(classes) + [AMBIGUOUS]:
            path = files.get(f"{cls}_{subset_name}.txt".lower())
            if path is None:
                if cls != AMBIGUOUS:
                    log.warning("%s: no annotation file for class %s in subset %s",
                                folder / f"{cls}_{subset_name}.txt", cls, subset_name)
                continue
            for lineno, line in enumerate(path.read_text().splitlines(), start=1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                parts = _split_line(line)
                where = f"{path}:{lineno}"
                try:
                    if len(parts) != 3:
                        raise ValueError
                    rows.append({"video": parts[0], "label": cls, "t_start": float(parts[1]),
                                 "t_end": float(parts[2]), "subset": subset_key, "source": where})
                except ValueError:
                    handle_bad_input(BadInputError(where, f"expected 'video_id t_start t_end', got '{line.strip()}'"),
                                     _COLLECT, "detection", "manifest", bad)
    return pd.DataFrame(rows, columns=["video", "label", "t_start", "t_end", "subset", "source"])


def read_csv_annotations(path: str | Path, configured: Sequence[str] | None, subsets: dict,
                         bad: list[BadInput]) -> tuple[pd.DataFrame, ClassList]:
    """Annotations and classes (sorted unique labels, Ambiguous excluded, unless configured)
    of a CSV with columns video,label,t_start,t_end,subset."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "annotation CSV does not exist")
    df = pd.read_csv(path, dtype={"video": str, "label": str, "subset": str}, keep_default_na=False)
    missing = {"video", "label", "t_start", "t_end", "subset"} - set(df.columns)
    if missing:
        raise BadInputError(path, f"missing columns {sorted(missing)} (need video,label,t_start,t_end,subset)")
    spelling: dict[str, str] = {}
    for label in sorted(str(x).strip() for x in df["label"]):
        if label and label != AMBIGUOUS:
            spelling.setdefault(label.lower(), label)
    classes = resolve_classes(sorted(spelling.values()), configured, path, "unique labels of the label column",
                              "detection", bad)
    by_lower = {c.lower(): c for c in classes.names}
    inverse = {v: k for k, v in subsets.items()}
    rows = []
    for i, r in df.iterrows():
        where = f"{path}:{i + 2}"
        label = str(r["label"]).strip()
        cls = AMBIGUOUS if label == AMBIGUOUS else by_lower.get(label.lower())
        if cls is None:
            continue  # a class the configured list leaves out
        subset = inverse.get(str(r["subset"]), str(r["subset"]) if str(r["subset"]) in subsets else None)
        if subset is None:
            handle_bad_input(BadInputError(where, f"subset '{r['subset']}' is neither of {list(subsets.values())}"),
                             _COLLECT, "detection", "manifest", bad)
            continue
        try:
            t0, t1 = float(r["t_start"]), float(r["t_end"])
        except ValueError:
            handle_bad_input(BadInputError(where, f"non-numeric time ({r['t_start']!r}, {r['t_end']!r})"),
                             _COLLECT, "detection", "manifest", bad)
            continue
        rows.append({"video": str(r["video"]).strip(), "label": cls, "t_start": t0, "t_end": t1,
                     "subset": subset, "source": where})
    return pd.DataFrame(rows, columns=["video", "label", "t_start", "t_end", "subset", "source"]), classes


AUTO = "auto"
# THUMOS14 names its training set "validation"; a plain "train" comes first where both exist.
AUTO_TRAIN_SUBSETS = ("train", "validation")


def present_subsets(source: str, annotations: str | Path) -> set[str]:
    """Subset names the annotations use: the ``<subset>`` of ``<class>_<subset>.txt`` files
    (thumos; Ambiguous and detclasslist.txt included, which is harmless) or the values of the
    CSV's subset column."""
    path = Path(annotations)
    if source == "csv":
        if not path.is_file():
            raise BadInputError(path, "annotation CSV does not exist")
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        return set(df["subset"].str.strip()) if "subset" in df.columns else set()
    if not path.is_dir():
        raise BadInputError(path, "annotation folder does not exist")
    return {f.stem.rsplit("_", 1)[1] for f in path.iterdir()
            if f.is_file() and f.suffix == ".txt" and "_" in f.stem and f.name != CLASS_LIST_FILE}


def resolve_subsets(dcfg: dict, annotations: str | Path | None = None) -> dict[str, str]:
    """``dataset.detection.subsets`` with ``train: auto`` resolved: ``train`` where the
    annotations have it, else ``validation`` (THUMOS14's training set); the synthetic set writes
    ``train``. Neither present is an error naming the subsets that are there and the key."""
    subsets = dict(dcfg["subsets"])
    if subsets["train"] != AUTO:
        return subsets
    if dcfg["source"] == "synthetic":
        subsets["train"] = "train"
        return subsets
    present = present_subsets(dcfg["source"], annotations)
    for name in AUTO_TRAIN_SUBSETS:
        if name in present and name != subsets["test"]:
            subsets["train"] = name
            log.info("dataset.detection.subsets.train: auto -> '%s' (found in %s)", name, annotations)
            return subsets
    raise BadInputError(annotations, f"dataset.detection.subsets.train is auto, but the annotations name none of "
                                     f"{list(AUTO_TRAIN_SUBSETS)} (subsets found: {sorted(present) or 'none'}); "
                                     f"set dataset.detection.subsets.train to the training subset's name")


def _find_videos(folder: Path, extensions: Sequence[str]) -> dict[str, Path]:
    """Video name -> path: files with a video extension (name = stem) and folders (image
    sequences; name = the folder's name)."""
    if not folder.is_dir():
        raise BadInputError(folder, "detection video folder does not exist")
    return {_video_name(p): p for p in _visible(folder) if _has_ext(p, extensions) or p.is_dir()}


def detection_manifest(dcfg: dict, policy: str, synthetic_root: str | Path | None = None,
                       threads: int = 1) -> ManifestResult:
    """Manifest, annotations, Ambiguous segments and class list of the detection set.

    Video ids are the annotation's video names made safe (:func:`safe_id`; a name with spaces
    becomes one with underscores); ``path`` keeps the real file or folder."""
    bad: list[BadInput] = []
    configured = dcfg.get("classes")
    if dcfg["source"] == "synthetic":
        videos_dir = Path(synthetic_root) / "videos"
        ann_dir = Path(synthetic_root) / "annotations"
    else:
        videos_dir = Path(_required(dcfg, "videos"))
        ann_dir = Path(_required(dcfg, "annotations"))
    subsets = resolve_subsets(dcfg, ann_dir)
    if dcfg["source"] == "csv":
        ann, classes = read_csv_annotations(ann_dir, configured, subsets, bad)
    else:
        classes = thumos_classes(ann_dir, configured, subsets, bad)
        ann = read_thumos_annotations(ann_dir, classes.names, subsets, bad)
    videos = _find_videos(videos_dir, dcfg["extensions"])

    # Presence of the video, and time order, annotation by annotation.
    keep = []
    for _, r in ann.iterrows():
        problem = None
        if r["video"] not in videos:
            problem = f"refers to video '{r['video']}', which is not in {videos_dir}"
        elif not (r["t_end"] > r["t_start"]):
            problem = f"t_end ({r['t_end']}) <= t_start ({r['t_start']})"
        elif r["t_start"] < 0:
            problem = f"t_start ({r['t_start']}) is negative"
        if problem:
            handle_bad_input(BadInputError(r["source"], problem), _COLLECT, "detection", "manifest", bad)
        else:
            keep.append(r)
    ann = pd.DataFrame(keep, columns=ann.columns)

    # A video belongs to the subset its annotations name; one named in two subsets is a bad input.
    subset_of = ann.groupby("video")["subset"].agg(lambda s: sorted(set(s)))
    names = sorted(subset_of.index)
    id_of = dict(zip(names, unique_ids(names)))
    paths = [videos[v] for v in names]
    fps = dcfg.get("fps")
    _check_fps([(p, None, fps) for p in paths], "detection")
    infos = _probe_all(paths, dcfg["min_frames"], threads, [fps] * len(paths))
    rows, usable = [], set()
    for name, path, info in zip(names, paths, infos):
        subs = subset_of[name]
        if isinstance(info, BadInputError):
            handle_bad_input(info, _COLLECT, "detection", "manifest", bad)
            continue
        if len(subs) != 1:
            handle_bad_input(BadInputError(path, f"annotated in more than one subset: {subs}"),
                             _COLLECT, "detection", "manifest", bad)
            continue
        rows.append({"video_id": id_of[name], "path": stored_path(path), "subset": subs[0], "fps": info.fps,
                     "n_frames": info.n_frames, "width": info.width, "height": info.height,
                     "duration": round(info.duration, 4), "codec": info.codec, "bit_depth": info.bit_depth})
        usable.add(name)
    manifest = pd.DataFrame(rows, columns=DETECTION_COLUMNS)
    for name in sorted(set(videos) - set(subset_of.index)):
        log.warning("%s: no annotation refers to this video; it is not used", videos[name])

    # Instances must lie inside their video (half a frame of tolerance for rounding).
    by_id = manifest.set_index("video_id")
    keep = []
    for _, r in ann[ann["video"].isin(usable)].iterrows():
        vid = id_of[r["video"]]
        duration, vfps = by_id.loc[vid, "duration"], by_id.loc[vid, "fps"]
        if r["t_end"] > duration + 0.5 / vfps:
            handle_bad_input(BadInputError(r["source"], f"t_end ({r['t_end']}) is beyond the end of video "
                                                        f"'{r['video']}' ({duration:.3f} s)"),
                             _COLLECT, "detection", "manifest", bad)
        else:
            keep.append(r)
    finish(bad, policy, "detection")
    if manifest.empty:
        raise BadInputError(videos_dir, "no usable annotated detection video was found")
    for key in ("train", "test"):
        if not (manifest["subset"] == key).any():
            raise BadInputError(ann_dir, f"no usable video in the {key} subset ('{subsets[key]}'; "
                                         f"dataset.detection.subsets.{key}): the detector needs both subsets")
    ann = pd.DataFrame(keep, columns=ann.columns)
    ann["video_id"] = ann["video"].map(id_of)
    ambiguous = ann[ann["label"] == AMBIGUOUS][["video_id", "t_start", "t_end", "subset"]].reset_index(drop=True)
    ann = ann[ann["label"] != AMBIGUOUS].copy()
    ann["label_index"] = ann["label"].map(classes.index()).astype(int)
    ann = ann.sort_values(["subset", "video_id", "t_start", "label"])[ANNOTATION_COLUMNS].reset_index(drop=True)
    return ManifestResult(manifest, bad, annotations=ann, ambiguous=ambiguous, classes=classes, subsets=subsets)


def thumos_class_list(classes: Sequence[str]) -> str:
    """THUMOS14-style class list: ``id name`` per line, ids from 1."""
    return "".join(f"{i + 1} {c}\n" for i, c in enumerate(classes))


def read_class_list(path: str | os.PathLike) -> pd.DataFrame:
    """THUMOS-style class list: lines ``id name`` (ids as written, usually 1-based)."""
    path = Path(path)
    if not path.exists():
        raise BadInputError(path, "class list does not exist")
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[0].lstrip("-").isdigit():
            raise BadInputError(path, f"line {n}: expected 'id name', got {line!r}")
        rows.append({"class_id": int(parts[0]), "label": parts[1]})
    df = pd.DataFrame(rows, columns=["class_id", "label"])
    if df["class_id"].duplicated().any() or df["label"].duplicated().any():
        raise BadInputError(path, "duplicate class id or name")
    return df
