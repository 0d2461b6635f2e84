"""Table 3 and Figures 4-6 from synthetic stage outputs: files exist and numbers are consistent."""
import numpy as np
import pandas as pd
import pytest

from irpipe.fusion import pipeline, sweeps
from irpipe.fusion.inputs import read_predictions
from irpipe.report import fusion as results
from tests.fusion import fakes
from tests.fusion.test_pipeline import CFG


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    fakes.write_all(root, n_splits=2, alphas=(0.0, 0.02, 0.1))
    for s in range(2):
        fused = pipeline.run_split(str(root / f"results/c3d/ir_dcl/split{s}/predictions.h5"),
                                   str(root / f"results/c3d/flow_dcl/split{s}/predictions.h5"),
                                   str(root / f"results/handcrafted/split{s}/posteriors.h5"),
                                   str(root / "results/data/recognition/splits.csv"), s, fakes.CLASSES, CFG, seed=s)
        pipeline.write_scores(fused, root / f"results/fusion/split{s}/scores.h5",
                              root / f"results/fusion/split{s}/metrics.json", {})
    return root


def test_table3_rows_and_values(tree):
    import json

    df = results.table3({s: tree / f"results/fusion/split{s}/metrics.json" for s in range(2)},
                        tree / "t3.csv", tree / "t3.md", note="synthetic")
    assert df["method"].tolist() == ["Late fusion 1", "Late fusion 2", "Single-layer NN fusion",
                                     "Two-layer NN fusion", "Late fusion 2 + early-fused concepts"]
    assert df["paper"].tolist() == [74.0, 77.5, 71.25, 70.42, 79.2]
    m = [json.loads((tree / f"results/fusion/split{s}/metrics.json").read_text())["lf2"]["accuracy"] for s in range(2)]
    row = df[df["method"] == "Late fusion 2"].iloc[0]
    assert row["accuracy_mean"] == pytest.approx(100 * np.mean(m), abs=0.01)
    assert row["accuracy_std"] == pytest.approx(100 * np.std(m), abs=0.01)
    md = (tree / "t3.md").read_text()
    assert "Late fusion 2 + early-fused concepts" in md and "79.2" in md
    assert pd.read_csv(tree / "t3.csv").shape[0] == 5


def test_figure5_confusion_matches_accuracy(tree):
    paths = [tree / "f5.png", tree / "f5.svg"]
    mats = results.figure5([tree / f"results/fusion/split{s}/scores.h5" for s in range(2)], fakes.CLASSES,
                           "knn", "lf2", paths, csv_path=tree / "f5.csv")
    assert all(p.stat().st_size > 1000 for p in paths)
    assert (tree / "f5.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    fused = [pipeline.read_scores(tree / f"results/fusion/split{s}/scores.h5") for s in range(2)]
    y = np.concatenate([f.label_index for f in fused])
    pred = np.concatenate([f.scores["lf2"].argmax(1) for f in fused])
    # Balanced test sets: the mean of the diagonal is the pooled mean per-class accuracy.
    assert np.mean(np.diag(mats["Fused (lf2)"])) == pytest.approx(np.mean([np.mean(pred[y == c] == c) for c in range(4)]))
    np.testing.assert_allclose(mats["IR net"].sum(1), 1.0)
    assert pd.read_csv(tree / "f5.csv").shape[0] == 3 * 16


def test_figure4_and_6(tree):
    results.figure4({s: tree / f"results/c3d/{s}_dcl/split0/predictions.h5" for s in ("ir", "flow")},
                    fakes.CLASSES, [tree / "f4.png", tree / "f4.svg"])
    assert (tree / "f4.png").stat().st_size > 1000
    sweep = {a: tree / f"results/c3d/sweep/flow_alpha{a:g}/split0/predictions.h5" for a in (0.0, 0.02, 0.1)}
    df = results.figure6a(sweep, 4, 3, [tree / "f6a.png", tree / "f6a.svg"], tree / "f6a.csv")
    assert df["alpha"].tolist() == [0.0, 0.02, 0.1]
    p = read_predictions(sweep[0.1])
    assert df["knn"].iloc[-1] == pytest.approx(sweeps.knn_accuracy(p, 3))
    assert df["softmax"].iloc[-1] == pytest.approx(sweeps.softmax_accuracy(p))
    pred = {(s, k): tree / f"results/c3d/{s}_dcl/split{k}/predictions.h5" for s in ("ir", "flow") for k in range(2)}
    summ = results.figure6b(pred, 4, [1, 3, 5], [tree / "f6b.png", tree / "f6b.svg"], tree / "f6b.csv")
    assert len(summ) == 6 and set(summ["n_splits"]) == {2}
    one = np.mean([sweeps.knn_accuracy(read_predictions(pred[("flow", k)]), 5) for k in range(2)])
    assert summ[(summ.stream == "flow") & (summ.k == 5)]["mean"].iloc[0] == pytest.approx(one)
    assert (tree / "f6b.svg").exists()


def test_table3_without_concepts_and_with_a_gap(tree, tmp_path):
    import json

    paths = {}
    for s in range(2):
        m = json.loads((tree / f"results/fusion/split{s}/metrics.json").read_text())
        m.pop("lf2_concepts")
        paths[s] = tmp_path / f"m{s}.json"
        paths[s].write_text(json.dumps(m))
    df = results.table3(paths, tmp_path / "t.csv", tmp_path / "t.md")
    assert len(df) == 4 and "Late fusion 2 + early-fused concepts" not in set(df["method"])
    m = json.loads(paths[1].read_text())
    m.pop("nn2")
    paths[1].write_text(json.dumps(m))
    with pytest.raises(KeyError, match="no metrics for method nn2"):
        results.table3(paths, tmp_path / "t.csv", tmp_path / "t.md")
