"""What-was-run captions: dataset description, substitutes, and the HTML views."""
import copy

import pandas as pd

from irpipe.config import validate_config
from irpipe.report import provenance as P
from irpipe.report.tables import summarise_splits


def _default():
    return validate_config({})


def test_embedded_default_is_described_as_synthetic_with_its_substitutes():
    cfg = _default()
    d = P.describe_dataset(cfg)
    assert d["recognition"]["synthetic"] and d["recognition"]["classes"] == len(cfg["dataset"]["recognition"]["classes"])
    assert d["n_splits"] == cfg["splits"]["n_splits"]
    subs = P.substitutes_from_config(cfg)
    assert any(s.startswith("recognition data: embedded synthetic") and "InfAR" in s for s in subs)
    assert any("VideoStory46K" in s for s in subs)
    assert any(s.startswith("c3d.pretrained: none given") for s in subs) == (cfg["c3d"].get("pretrained") is None)


def test_real_data_and_given_weights_drop_those_substitutes():
    cfg = copy.deepcopy(_default())
    cfg["dataset"]["recognition"].update(source="folder", path="/data/infar")
    cfg["dataset"]["detection"]["enabled"] = False
    cfg["handcrafted"]["enabled"] = False
    cfg["c3d"]["pretrained"] = "weights/c3d.pt"
    d = P.describe_dataset(cfg)
    assert "detection" not in d and d["recognition"] == {
        "source": "folder", "synthetic": False, "path": "/data/infar",
        "classes": len(cfg["dataset"]["recognition"]["classes"])}
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


def test_summary_and_bad_inputs_pages(tmp_path):
    cfg = _default()
    P.summary_html(cfg, {"ir.pretrained": "none", "note": "<script>"}, 2, tmp_path / "s.html")
    s = (tmp_path / "s.html").read_text()
    assert "SYNTHETIC (embedded generator)" in s and "<th>bad inputs recorded</th><td>2</td>" in s
    assert "<li>ir.pretrained: none</li>" in s and "&lt;script&gt;" in s and "<script>" not in s
    P.bad_inputs_html(pd.DataFrame(columns=["dataset", "stage", "item", "reason"]), tmp_path / "b.html")
    assert "Bad inputs: 0 recorded" in (tmp_path / "b.html").read_text()
    P.bad_inputs_html(pd.DataFrame([{"dataset": "recognition", "stage": "frames", "item": "x.avi",
                                     "reason": "empty"}]), tmp_path / "b2.html")
    assert "Bad inputs: 1 recorded" in (tmp_path / "b2.html").read_text() and "x.avi" in (tmp_path / "b2.html").read_text()
