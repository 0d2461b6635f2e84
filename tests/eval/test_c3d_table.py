import numpy as np
import pytest

from irpipe.errors import BadInputError
from irpipe.eval.c3d_table import PAPER_TABLE2, TABLE2_ROWS, caption, evaluate_predictions, table2_rows
from irpipe.eval.predictions import write_predictions
from irpipe.report.tables import summarise_splits


def _write(path, alpha, correct_softmax, seed):
    """4 classes, 2 train + 2 test videos each; softmax right on the first ``correct_softmax`` test
    videos; codes cluster by class (so k-NN is right on every test video)."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(4), 4)
    subset = np.tile(["train", "train", "test", "test"], 4)
    soft = np.full((16, 4), 0.1, np.float32)
    test_idx = np.flatnonzero(subset == "test")
    for j, i in enumerate(test_idx):
        soft[i, y[i] if j < correct_softmax else (y[i] + 1) % 4] = 0.7
    soft[subset == "train", :] = 0.25
    codes = np.eye(4, dtype=np.float32)[y] * 10 + rng.normal(0, 0.1, (16, 4)).astype(np.float32)
    write_predictions(path, [f"v{i}" for i in range(16)], y, subset, soft, codes, {"alpha": alpha})


def test_table2_rows_known_answer(tmp_path):
    paths = {}
    for s in ["ir", "flow"]:
        for v in ["dcl", "nodcl"]:
            for k in [0, 1]:
                p = tmp_path / f"{s}_{v}_{k}.h5"
                _write(p, 0.0 if v == "nodcl" else 0.02, correct_softmax=4 + 2 * k if s == "ir" else 8, seed=k)
                paths[(s, v, k)] = p
    rows = table2_rows(paths, k=1)
    assert [r["method"] for r in rows[::2]] == [m for m, *_ in TABLE2_ROWS]
    by = {(r["method"], r["split"]): r for r in rows}
    # IR softmax: 4/8 right on split 0 (classes 0, 1 right, 2, 3 wrong), 6/8 on split 1
    assert by[("IR net (softmax)", 0)]["accuracy"] == pytest.approx(0.5)
    assert by[("IR net (softmax)", 1)]["accuracy"] == pytest.approx(0.75)
    assert by[("IR net (k-NN)", 0)]["accuracy"] == pytest.approx(1.0)
    df = summarise_splits(rows, [m for m, *_ in TABLE2_ROWS], paper=PAPER_TABLE2)
    assert len(df) == 6
    ir = df.set_index("method").loc["IR net (softmax)"]
    assert ir["accuracy_mean"] == pytest.approx(62.5) and ir["accuracy_std"] == pytest.approx(12.5)
    assert ir["paper"] == 52.91
    # a nodcl file trained with alpha > 0 is refused
    _write(paths[("ir", "nodcl", 0)], 0.02, 4, 0)
    with pytest.raises(BadInputError, match="variant nodcl but alpha"):
        table2_rows(paths, k=1)
    del paths[("ir", "nodcl", 0)]
    with pytest.raises(BadInputError, match="missing predictions"):
        table2_rows(paths, k=1)


def test_caption_names_substitutes():
    c = caption("none: random initialisation", "spec")
    assert "trained from scratch" in c and "SUBSTITUTE" in c and "spec" in c
    assert "fine-tuned from /w/c3d.pickle" in caption("/w/c3d.pickle", "spec")
    with pytest.raises(ValueError):
        evaluate_predictions({"subset": np.array(["test"]), "label_index": np.array([0]),
                              "softmax": np.ones((1, 2))}, "vote", 1)
