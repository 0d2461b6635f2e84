import pandas as pd
import pytest

from irpipe.data.splits import make_splits, split_members
from irpipe.errors import BadInputError

CLASSES = [f"c{i}" for i in range(4)]


def manifest(per_class=8):
    return pd.DataFrame([{"video_id": f"{c}_{i:02d}", "label": c} for c in CLASSES for i in range(per_class)])


def test_protocol_counts_disjoint_and_deterministic():
    m = manifest(8)
    s = make_splits(m, CLASSES, n_splits=5, train_per_class=5, test_per_class=3, seed=0)
    for k in range(5):
        tr, te = split_members(s, k, "train"), split_members(s, k, "test")
        assert (tr.groupby("label").size() == 5).all() and (te.groupby("label").size() == 3).all()
        assert not set(tr["video_id"]) & set(te["video_id"])
    # splits differ from each other, and the same seed gives the same table
    tests = [frozenset(split_members(s, k, "test")["video_id"]) for k in range(5)]
    assert len(set(tests)) == 5
    assert s.equals(make_splits(m.sample(frac=1, random_state=3), CLASSES, 5, 5, 3, seed=0))
    assert not s.equals(make_splits(m, CLASSES, 5, 5, 3, seed=1))


def test_too_few_videos():
    m = manifest(8)
    m = m[~((m["label"] == "c2") & (m["video_id"] > "c2_03"))]  # c2 keeps 4 videos
    with pytest.raises(BadInputError, match=r"class 'c2' has 4 usable videos"):
        make_splits(m, CLASSES, 1, 5, 3, seed=0)
    bad = []
    s = make_splits(m, CLASSES, 1, 5, 3, seed=0, policy="skip", bad=bad)
    c2 = s[s["label"] == "c2"].groupby("subset").size()
    assert len(bad) == 1 and c2["train"] + c2["test"] == 4 and c2["test"] >= 1
