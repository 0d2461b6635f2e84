"""What-was-run captions: dataset description, substitutes, and the HTML views."""
import copy

import pandas as pd

from irpipe.config import validate_config
from irpipe.report import provenance as P
from irpipe.report.tables import summarise_splits


def _default():
    return validate_config({})


def test_embedded_default_is_described_as_synthetic_with_its_substitutes(tmp_path):
    cfg = _default()
    d = P.describe_dataset(cfg, data_dir=tmp_path)  # not ./results/data: a run in the cwd would answer
    # the classes come from the data: before the manifest job ran, the description says so
    assert d["recognition"]["synthetic"] and d["recognition"]["classes"] == 0
    assert d["recognition"]["classes_source"] == "from the data (manifest not built yet)"
    assert d["n_splits"] == cfg["splits"]["n_splits"]
    subs = P.substitutes_from_config(cfg)
    assert any(s.startswith("recognition data: embedded synthetic") and "InfAR" in s for s in subs)
    assert any("VideoStory46K" in s for s in subs)
    assert any(s.startswith("c3d.pretrained: none given") for s in subs) == (cfg["c3d"].get("pretrained") is None)


def test_real_data_and_given_weights_drop_those_substitutes(tmp_path):
    cfg = copy.deepcopy(_default())
    cfg["dataset"]["recognition"].update(source="folder", path="/data/infar")
    cfg["dataset"]["detection"]["enabled"] = False
    cfg["handcrafted"]["enabled"] = False
    cfg["c3d"]["pretrained"] = "weights/c3d.pt"
    cfg["dataset"]["recognition"]["classes"] = ["walk", "run", "wave"]
    d = P.describe_dataset(cfg, data_dir=tmp_path)
    assert "detection" not in d and d["recognition"] == {
        "source": "folder", "synthetic": False, "path": "/data/infar", "classes": 3, "classes_source": "configured"}
    # once the manifest job wrote the class list, the description reads it
    (tmp_path / "recognition").mkdir()
    (tmp_path / "recognition/classes.txt").write_text("1 run\n2 walk\n")
    (tmp_path / "recognition/classes_source.txt").write_text("found in /data/infar (sub-folders)\n")
    d = P.describe_dataset(cfg, data_dir=tmp_path)
    assert d["recognition"]["classes"] == 2 and d["recognition"]["classes_source"].startswith("found in")
    subs = P.substitutes_from_config(cfg)
    assert not any("synthetic" in s or "VideoStory" in s or s.startswith("c3d.pretrained") for s in subs)


def test_substitutes_from_attrs():
    attrs = {"ir.pretrained": "none", "flow.pretrained": "sports1m.pt", "bank": "SUBSTITUTE concept bank",
             "alpha": 0.1}
    assert P.substitutes_from_attrs(attrs) == ["bank: SUBSTITUTE concept bank", "ir.pretrained: none"]


def test_table_html_shows_the_table_and_escapes_text(tmp_path):
    rows = [{"method": m, "split": s, "accuracy": a, "macro_ap": a} for m, s, a in
            [("A<1>", 0, 0.5), ("A<1>", 1, 0.75)]]
    summarise_splits(rows, ["A<1>"], paper={"A<1>": 48.75}).to_csv(tmp_path / "t.csv", index=False)
    P.table_html(tmp_path / "t.csv", tmp_path / "t.html", "Table <x>", note="a & b")
    html = (tmp_path / "t.html").read_text()
    assert "<h2>Table &lt;x&gt;</h2>" in html and "<p>a &amp; b</p>" in html
    assert "A&lt;1&gt;" in html and "62.50 ± 12.50" in html and "48.75" in html


def test_summary_and_bad_inputs_pages(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the page reads ./results/data: not a run that happens to be in the cwd
    cfg = _default()
    P.summary_html(cfg, {"ir.pretrained": "none", "note": "<script>"}, 2, tmp_path / "s.html")
    s = (tmp_path / "s.html").read_text()
    assert "SYNTHETIC (embedded generator)" in s and "<th>bad inputs recorded</th><td>2</td>" in s
    assert "<li>ir.pretrained: none</li>" in s and "&lt;script&gt;" in s and "<script>" not in s
    assert "not counted (manifest not built)" in s
    # with the counted data (irpipe.report.data_description) the page names and counts each dataset
    from irpipe.report.data_description import DataDescription, SubsetCounts
    det = DataDescription("detection", "InfDet/videos", False, 3, subsets=(SubsetCounts("train", 6, 20, 3),))
    P.summary_html(cfg, {}, 0, tmp_path / "s2.html", data=[det])
    assert "<td>InfDet/videos (detection): train 6 videos / 20 instances / 3 classes. " in (
        tmp_path / "s2.html").read_text()
    P.bad_inputs_html(pd.DataFrame(columns=["dataset", "stage", "item", "reason"]), tmp_path / "b.html")
    assert "Bad inputs: 0 recorded" in (tmp_path / "b.html").read_text()
    P.bad_inputs_html(pd.DataFrame([{"dataset": "recognition", "stage": "frames", "item": "x.avi",
                                     "reason": "empty"}]), tmp_path / "b2.html")
    assert "Bad inputs: 1 recorded" in (tmp_path / "b2.html").read_text() and "x.avi" in (tmp_path / "b2.html").read_text()
