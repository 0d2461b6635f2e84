"""Random train/test splits per the InfAR protocol: per class 30 train / 20 test, 5 splits.

Split ``k`` draws a permutation of each class's videos (sorted by id first, so the result
does not depend on file-system order) from a generator seeded with ``(seed, k)``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import BadInput, BadInputError, handle_bad_input

SPLIT_COLUMNS = ["video_id", "label", "label_index", "split", "subset"]


def make_splits(manifest: pd.DataFrame, classes: Sequence[str], n_splits: int, train_per_class: int,
                test_per_class: int, seed: int, policy: str = "error",
                bad: list[BadInput] | None = None) -> pd.DataFrame:
    """Long table (video_id, label, label_index, split, subset) of ``n_splits`` random splits.

    A class with fewer than ``train_per_class + test_per_class`` videos is an error; under
    ``skip`` it is recorded and split in the same train:test proportion (at least one of
    each), and a class with fewer than two videos is left out of every split.
    """
    bad = bad if bad is not None else []
    need = train_per_class + test_per_class
    plan: dict[str, tuple[list[str], int, int]] = {}
    for cls in classes:
        vids = sorted(manifest.loc[manifest["label"] == cls, "video_id"])
        n_train, n_test = train_per_class, test_per_class
        if len(vids) < need:
            msg = (f"class '{cls}' has {len(vids)} usable videos, the split protocol needs "
                   f"{train_per_class} train + {test_per_class} test")
            handle_bad_input(BadInputError(f"class:{cls}", msg), policy, "recognition", "splits", bad)
            if len(vids) < 2:
                continue
            n_test = min(len(vids) - 1, max(1, round(len(vids) * test_per_class / need)))
            n_train = len(vids) - n_test
        plan[cls] = (vids, n_train, n_test)
    if not plan:
        raise BadInputError("splits", "no class has enough videos for a train/test split")
    rows = []
    for k in range(n_splits):
        rng = np.random.default_rng([seed, k])
        for cls, (vids, n_train, n_test) in plan.items():
            order = rng.permutation(len(vids))
            for rank, j in enumerate(order[: n_train + n_test]):
                rows.append({"video_id": vids[j], "label": cls, "label_index": list(classes).index(cls),
                             "split": k, "subset": "train" if rank < n_train else "test"})
    return pd.DataFrame(rows, columns=SPLIT_COLUMNS).sort_values(
        ["split", "subset", "label_index", "video_id"]).reset_index(drop=True)


def split_members(splits: pd.DataFrame, split: int, subset: str) -> pd.DataFrame:
    """Rows of one split and subset ('train' or 'test'), in a stable order."""
    sel = splits[(splits["split"] == split) & (splits["subset"] == subset)]
    if sel.empty:
        raise ValueError(f"split {split} has no '{subset}' videos")
    return sel.sort_values(["label_index", "video_id"]).reset_index(drop=True)
