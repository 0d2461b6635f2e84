"""The TV-L1 benchmark script runs and reports what it claims (tiny size, CPU only)."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO


def test_tvl1_bench_reports_both_backends_with_medians(tmp_path):
    out = tmp_path / "tvl1"
    subprocess.run([sys.executable, str(REPO / "bench" / "tvl1_speed.py"), "--sizes", "40x52", "--pairs", "2",
                    "--repeat", "3", "--threads", "1", "--no-compile", "--out", str(out)],
                   check=True, capture_output=True, text=True, timeout=300)
    res = json.loads(out.with_suffix(".json").read_text())
    rows = {r["backend"]: r for r in res["rows"] if r["device"] == "cpu"}
    assert set(rows) == {"opencv", "torch"}
    for r in rows.values():
        assert len(r["seconds_all_rounds"]) == 3
        assert r["seconds"] == sorted(r["seconds_all_rounds"])[1]  # the median round
        assert abs(r["pairs_per_s"] - 2 / r["seconds"]) < 1e-9
    assert rows["opencv"]["ratio_to_opencv"] == 1.0
    assert abs(rows["torch"]["ratio_to_opencv"] - rows["opencv"]["seconds"] / rows["torch"]["seconds"]) < 1e-9
    assert rows["torch"]["mean_epe_px"] <= 0.05
    md = out.with_suffix(".md").read_text()
    from tests.report.test_markdown_tables import cells
    table = cells(md[md.index("| size"):])
    assert table[0][:4] == ["size (HxW)", "backend", "device", "pairs"]
    assert ["40x52", "torch", "cpu", "2"] in [r[:4] for r in table[1:]]
    assert "median of 3 interleaved rounds" in md
