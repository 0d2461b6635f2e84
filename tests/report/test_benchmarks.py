"""Benchmark records tabled per rule: known answers from hand-written Snakemake records."""
import math

import pandas as pd
import pytest

from irpipe.report.benchmarks import read_records, summarise, write_benchmark_table

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _record(path, s, rss, cpu):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{s}\t0:00:00\t{rss}\t1\t1\t1\t0\t0\t0\t{cpu}\n")
    return path


def test_records_are_tabled_per_rule(tmp_path):
    root = tmp_path / "results/benchmarks"
    paths = [_record(root / "frames/recognition/shard000of002.tsv", 2.0, 100.0, 1.5),
             _record(root / "frames/recognition/shard001of002.tsv", 4.0, 300.0, 3.5),
             _record(root / "frames/detection/d0.tsv", 9.0, 200.0, 8.0),
             _record(root / "c3d_train/ir_dcl_split0.tsv", 60.0, 900.0, "-")]
    rec = read_records(paths)
    assert set(rec["rule"]) == {"frames", "c3d_train"}
    assert "recognition/shard000of002" in set(rec["job"])
    table = summarise(rec)
    assert list(table["rule"]) == ["c3d_train", "frames"]  # largest total first
    frames = table.set_index("rule").loc["frames"]
    assert frames["jobs"] == 3 and frames["total_s"] == 15.0 and frames["median_s"] == 4.0
    assert frames["max_s"] == 9.0 and frames["cpu_total_s"] == 13.0
    assert frames["median_rss_mb"] == 200.0 and frames["max_rss_mb"] == 300.0
    assert math.isnan(table.set_index("rule").loc["c3d_train", "cpu_total_s"])  # '-' is not a zero

    out = write_benchmark_table(paths, tmp_path / "b.csv", tmp_path / "b.html")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "b.csv"), out, check_dtype=False)
    assert "4 jobs" in (tmp_path / "b.html").read_text()


def test_an_empty_record_is_an_error_naming_it(tmp_path):
    p = tmp_path / "results/benchmarks/x/y.tsv"
    p.parent.mkdir(parents=True)
    p.write_text(HEADER)
    with pytest.raises(ValueError, match="y.tsv: empty"):
        read_records([p])
