"""The data a table, figure or report page ran on: named and counted from the workflow's own
manifests, worded once for every caption.

A caption names the dataset (``SYNTHETIC`` for the embedded generator's data, else the folder it
was read from: the last two components of ``dataset.recognition.path`` / ``dataset.detection.videos``
or of the CSV, e.g. ``InfDet/videos``) and its counts:

- recognition: classes, clips per class (``results/data/recognition/manifest.csv``), splits and
  train / test clips per split (``results/data/recognition/splits.csv``);
- detection: per subset, videos (``results/data/detection/manifest.csv``), annotated instances and
  classes with at least one instance (``results/data/detection/annotations.csv``; Ambiguous
  segments are not instances).

Whoever captions with these counts reads those files: they are declared inputs of its rule.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Iterable, Mapping, Sequence

import pandas as pd

from ..errors import BadInputError

# The workflow's data files (docs/ARCHITECTURE.md), by dataset and role, relative to the workflow
# directory: describe_inputs recognises them among a job's declared inputs.
DATA_FILES = {
    "recognition": {"manifest": "results/data/recognition/manifest.csv",
                    "splits": "results/data/recognition/splits.csv"},
    "detection": {"manifest": "results/data/detection/manifest.csv",
                  "annotations": "results/data/detection/annotations.csv",
                  # the subset names as the manifest resolved them (dataset.detection.subsets.train: auto)
                  "subsets": "results/data/detection/subsets.json"},
}
PAPER_DATASETS = {"recognition": "InfAR", "detection": "InfDet"}

# What captions said before they named the data (issue 14): none may come back.
GENERIC_PHRASES = (
    "configured detection set", "configured recognition set", "configured classes", "configured data",
    "real recognition data", "real detection data", "real data", "synthetic data unless configured",
    "embedded synthetic data set",
)


def _n(k: int, word: str) -> str:
    return f"{k} {word}" if k == 1 else f"{k} {word}{'es' if word.endswith('s') else 's'}"


@dataclass(frozen=True)
class SubsetCounts:
    """One detection subset: videos, annotated instances, classes with at least one instance."""
    name: str
    videos: int
    instances: int
    classes: int


@dataclass(frozen=True)
class DataDescription:
    """The counted data of one dataset (``recognition`` or ``detection``)."""
    dataset: str
    label: str                                   # folder label, or "SYNTHETIC"
    synthetic: bool
    n_classes: int
    clips_per_class: tuple[int, ...] = ()        # recognition, in label-index order
    splits: tuple[tuple[int, int, int], ...] = ()  # recognition: (split, train clips, test clips)
    subsets: tuple[SubsetCounts, ...] = ()       # detection

    @property
    def n_clips(self) -> int:
        return int(sum(self.clips_per_class))

    def _head(self) -> str:
        if self.synthetic:
            return (f"SYNTHETIC {self.dataset} data (embedded generator, not {PAPER_DATASETS[self.dataset]})")
        return f"{self.label} ({self.dataset})"

    def _clips(self) -> str:
        per = sorted(set(self.clips_per_class))
        if not per:
            return "0 clips"
        each = _n(per[0], "clip") if len(per) == 1 else f"{per[0]} to {per[-1]} clips"
        return f"{each} per class ({_n(self.n_clips, 'clip')})"

    def _splits(self) -> str:
        n = len(self.splits)
        if n == 0:
            return "no splits"
        counts = {(tr, te) for _, tr, te in self.splits}
        if len(counts) == 1:
            tr, te = counts.pop()
            return (f"1 split: {tr} train / {te} test clips" if n == 1 else
                    f"{n} splits, each {tr} train / {te} test clips")
        return f"{n} splits: " + ", ".join(f"split {k} {tr} train / {te} test" for k, tr, te in self.splits)

    def _subsets(self) -> str:
        if not self.subsets:
            return "no videos"
        first, *rest = self.subsets
        parts = [f"{first.name} {_n(first.videos, 'video')} / {_n(first.instances, 'instance')} / "
                 f"{_n(first.classes, 'class')}"]
        parts += [f"{s.name} {s.videos} / {s.instances} / {s.classes}" for s in rest]
        return "; ".join(parts)

    def text(self) -> str:
        """E.g. 'InfDet/videos (detection): validation (train) 20 videos / 64 instances / 4 classes; test 8 / 39 / 4'."""
        if self.dataset == "recognition":
            return f"{self._head()}: {_n(self.n_classes, 'class')}, {self._clips()}; {self._splits()}"
        return f"{self._head()}: {self._subsets()}"

    def short(self) -> str:
        """A figure title's version: the label and the totals."""
        name = "SYNTHETIC" if self.synthetic else self.label
        if self.dataset == "recognition":
            return f"{name}: {_n(self.n_classes, 'class')}, {_n(self.n_clips, 'clip')}, {_n(len(self.splits), 'split')}"
        return (f"{name}: {_n(sum(s.videos for s in self.subsets), 'video')}, "
                f"{_n(sum(s.instances for s in self.subsets), 'instance')}")

    def sentence(self) -> str:
        return f"Data: {self.text()}."


def dataset_label(config: Mapping, dataset: str) -> str:
    """``SYNTHETIC``, or the folder the data were read from: the last two components of the
    configured path (a folder, or a CSV file), so that ``/data/InfDet/videos`` reads ``InfDet/videos``."""
    d = config["dataset"][dataset]
    if d["source"] == "synthetic":
        return "SYNTHETIC"
    path = d.get("path") if dataset == "recognition" else d.get("videos")
    if not path:
        raise BadInputError(f"dataset.{dataset}", f"source {d['source']!r} but no "
                            f"{'path' if dataset == 'recognition' else 'videos'} configured")
    parts = PurePath(os.path.normpath(str(path))).parts
    parts = [p for p in parts if p not in ("/", "\\")]
    return "/".join(parts[-2:]) if parts else str(path)


def _need(df: pd.DataFrame, columns: Sequence[str], path) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise BadInputError(path, f"no column(s) {', '.join(missing)} (has {', '.join(map(str, df.columns))})")


def _read(path) -> pd.DataFrame:
    path = str(path)
    if not os.path.exists(path):
        # FileNotFoundError with the path: Snakemake marks a param that reads a not-yet-built input TBD
        raise FileNotFoundError(2, "No such file or directory", path)
    try:
        return pd.read_csv(path, dtype={"video_id": str, "label": str, "subset": str}, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise BadInputError(path, "empty file (not even a header)") from None


def recognition_description(manifest: pd.DataFrame, splits: pd.DataFrame, label: str, synthetic: bool,
                            manifest_path="manifest", splits_path="splits") -> DataDescription:
    """Classes and clips per class from the manifest; train / test clips per split from the split table."""
    _need(manifest, ["video_id", "label"], manifest_path)
    _need(splits, ["video_id", "split", "subset"], splits_path)
    order = "label_index" if "label_index" in manifest.columns else "label"
    per_class = manifest.groupby("label", sort=False).size()
    first = manifest.drop_duplicates("label").sort_values(order)["label"]
    split_counts = []
    for k, g in splits.groupby("split", sort=True):
        subset = g["subset"].astype(str)
        split_counts.append((int(k), int((subset == "train").sum()), int((subset == "test").sum())))
    return DataDescription("recognition", label, synthetic, n_classes=int(manifest["label"].nunique()),
                           clips_per_class=tuple(int(per_class[c]) for c in first), splits=tuple(split_counts))


def detection_description(manifest: pd.DataFrame, annotations: pd.DataFrame, label: str, synthetic: bool,
                          subset_names: Mapping[str, str] | None = None, manifest_path="manifest",
                          annotations_path="annotations") -> DataDescription:
    """Per subset: videos from the manifest, instances and distinct classes from the annotations.

    The tables' ``subset`` column holds the role (``train`` / ``test``); ``subset_names`` maps each
    role to the data's own name of it (``dataset.detection.subsets``, e.g. THUMOS14's ``validation``
    for train), shown as ``validation (train)``. Roles come in that mapping's order (train, test),
    then any other in the manifest's order."""
    subset_names = dict(subset_names or {})
    _need(manifest, ["video_id", "subset"], manifest_path)
    _need(annotations, ["video_id", "label", "subset"], annotations_path)
    seen = list(dict.fromkeys(list(manifest["subset"].astype(str)) + list(annotations["subset"].astype(str))))
    roles = [s for s in subset_names if s in seen] + [s for s in seen if s not in subset_names]
    subsets = []
    for role in roles:
        ann = annotations[annotations["subset"].astype(str) == role]
        name = subset_names.get(role, role)
        subsets.append(SubsetCounts(name if name == role else f"{name} ({role})",
                                    int((manifest["subset"].astype(str) == role).sum()), len(ann),
                                    int(ann["label"].nunique())))
    return DataDescription("detection", label, synthetic, n_classes=int(annotations["label"].nunique()),
                           subsets=tuple(subsets))


def describe_data(config: Mapping, dataset: str, manifest, counts, subsets=None) -> DataDescription:
    """The description of ``dataset`` from its manifest and its split table (recognition) or
    annotation table and resolved subset names (detection: ``subsets.json``), as files."""
    label = dataset_label(config, dataset)
    synthetic = config["dataset"][dataset]["source"] == "synthetic"
    m, c = _read(manifest), _read(counts)
    if dataset == "recognition":
        return recognition_description(m, c, label, synthetic, manifest, counts)
    if subsets is not None:
        sub = _read_subsets(subsets)
    else:   # a configured name; auto is only known once the manifest has resolved it
        sub = {k: v for k, v in config["dataset"][dataset].get("subsets", {}).items() if v != "auto"}
    names = {"train": sub.get("train", "train"), "test": sub.get("test", "test")}
    return detection_description(m, c, label, synthetic, names, manifest, counts)


def _read_subsets(path) -> dict:
    import json

    try:
        with open(path) as fh:  # FileNotFoundError passes: Snakemake then evaluates the param later
            sub = json.load(fh)
    except ValueError as exc:
        raise BadInputError(path, f"cannot read the resolved subset names: {exc}") from None
    if not isinstance(sub, dict) or not {"train", "test"} <= set(sub):
        raise BadInputError(path, "expected an object with 'train' and 'test' subset names")
    return sub


def _norm(path) -> str:
    return Path(os.path.normpath(str(path))).as_posix()


def describe_inputs(config: Mapping, paths: Iterable) -> list[DataDescription]:
    """The descriptions of the datasets whose data files (:data:`DATA_FILES`) are among ``paths``
    (a job's declared inputs), recognition first. A dataset with only some of its files there is
    an error: its counts would be half-read."""
    have = {}
    for p in paths:
        if isinstance(p, (list, tuple)):
            for q in p:
                have[_norm(q)] = str(q)
        else:
            have[_norm(p)] = str(p)
    out = []
    for dataset, files in DATA_FILES.items():
        found = {role: next((orig for n, orig in have.items() if n == rel or n.endswith("/" + rel)), None)
                 for role, rel in files.items()}
        if not any(found.values()):
            continue
        missing = [files[r] for r, v in found.items() if v is None]
        if missing:
            raise ValueError(f"{dataset} data named by a caption need {', '.join(files.values())} as inputs; "
                             f"missing {', '.join(missing)}")
        out.append(describe_data(config, dataset, *(found[r] for r in files)))
    return out


NO_DATA = "Data: none (computed on the code alone, not on a dataset)."


def data_sentences(descriptions: Iterable[DataDescription]) -> str:
    """'Data: ... . Data: ... .' (empty when the page ran on no data)."""
    return " ".join(d.sentence() for d in descriptions)


def data_note(descriptions: Iterable[DataDescription]) -> str:
    """:func:`data_sentences`, or :data:`NO_DATA` for a page computed without a dataset."""
    return data_sentences(descriptions) or NO_DATA


def rst_escape(text: str) -> str:
    """``text`` as literal reStructuredText (a folder name like ``my_data_`` is not a link target)."""
    out = text.replace("\\", "\\\\")
    for ch in "*`_|[]":
        out = out.replace(ch, "\\" + ch)
    return out
