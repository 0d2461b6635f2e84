"""Markdown tables are drawn by DataFrame.to_markdown (tabulate); their cells are the ones the
earlier hand-written drawing produced on the same inputs (known answers below, taken from it),
only the padding differs."""
import numpy as np
import pandas as pd

from irpipe.report.tables import markdown_table, summarise_splits, to_markdown, write_tables


def cells(md: str) -> list[list[str]]:
    """Rows of a Markdown pipe table as stripped cells, the alignment row left out."""
    rows = [ln for ln in md.splitlines() if ln.startswith("|")]
    out = [[c.strip() for c in ln.strip()[1:-1].split("|")] for ln in rows]
    assert all(set(c) <= set(":-") for c in out[1]), "second row must be the alignment row"
    return [out[0]] + out[2:]


def _summary():
    rows = [{"method": m, "split": s, "accuracy": a, "macro_ap": b} for m, s, a, b in
            [("A", 0, 0.5, 0.61), ("A", 1, 0.75, 0.7), ("B long name", 0, 1 / 3, 0.123456),
             ("B long name", 1, 2 / 3, 0.9)]]
    return summarise_splits(rows, ["A", "B long name"], paper={"A": 48.75})


def test_summary_table_cells_and_layout():
    md = to_markdown(_summary(), title="T", note="N")
    assert md.startswith("### T\n\n|") and md.endswith("|\n\nN\n")
    assert cells(md) == [
        ["Method", "Mean per-class accuracy % (mean ± std)", "Macro one-vs-rest AP % (mean ± std)", "Paper",
         "Mean per-class accuracy % per split"],
        ["A", "62.50 ± 12.50", "65.50 ± 4.50", "48.75", "50.0, 75.0"],
        ["B long name", "50.00 ± 16.67", "51.17 ± 38.83", "", "33.3, 66.7"]]
    bare = to_markdown(_summary().drop(columns=["paper"]))
    assert bare.startswith("|") and "Paper" not in bare and bare.endswith("|\n")


def test_plain_table_formats_cells_without_reparsing():
    det = pd.DataFrame({"method": ["x", "y"], "variant": ["a", "b"], "map@0.1": [12.345, np.nan],
                        "n": [3345058, 7], "paper": ["3.41M", "007"]})
    md = markdown_table(det, "D", "note")
    # "007" stays text: tabulate would otherwise read it as the number 7.
    assert cells(md) == [["method", "map@0.1", "n", "paper"], ["x", "12.35", "3,345,058", "3.41M"],
                         ["y", "", "7", "007"]]


def test_write_tables(tmp_path):
    df = pd.DataFrame({"method": ["x"], "variant": ["a"], "map_avg": [1.0]})
    paths = write_tables({"t": df}, tmp_path, {"t": "Title"}, "n")
    assert [p.name for p in paths] == ["t.csv", "t.md"]
    assert pd.read_csv(tmp_path / "t.csv").equals(df)
    assert cells((tmp_path / "t.md").read_text()) == [["method", "map_avg"], ["x", "1.00"]]
