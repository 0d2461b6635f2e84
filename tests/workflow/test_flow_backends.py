"""The flow stage's two backends in the whole workflow (tiny preset): the PyTorch TV-L1, run
as shards of many videos per job (the GPU layout, here on the CPU), against the session's
OpenCV run with one job per video.

What holds, and is asserted: the flow stores agree within the accuracy tests' tolerance (mean
EPE <= 0.05 px; 8-bit x/y flow images within one grey level on >= 99 % of pixels at the
paper's bound of 20 px), the frozen I3D's flow features agree to a few per cent, and
everything that does not read the flow (Table 1, the IR rows of Table 2, the infrared-only
detector) is bit-identical, the detector although its runs are batched differently (two runs
per job here, four in the session's run). What does not hold on this config: the flow-dependent paper
tables are not equal. The tiny config scores 4 test videos on one split after 6 training
steps, so one flipped video moves a number by 25 points, and a one-level difference on ~2 %
of pixels is enough to flip one (docs/tvl1.md lists the measured differences)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from irpipe.data.stores import read_flow, read_flow_images
from irpipe.detection.features import read_features
from irpipe.flow.images import flow_agreement, images_within_one_level
from tests.faults import workflow_helpers as W
from tests.workflow.conftest import TINY, snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.slow]

FLOW_DEPENDENT = ["table2.csv", "table3.csv", "infdet_table3.csv", "infdet_table4.csv", "infdet_table5.csv",
                  "infdet_recognition.csv"]


def test_torch_backend_in_shards_against_opencv_downstream(tiny_run, tmp_path):
    ref, _ = tiny_run
    overlay = tmp_path / "torch_flow.yaml"
    # two detection runs per job here, four in the session's run: ir of seed index 1 is the first run
    # of its process here (batch6of10) and the third in the session's (batch3of5, after max and
    # concat), so the infrared-only rows below also show that what ran before changes no bit
    overlay.write_text("flow: {backend: torch, device: cpu, batch_size: 8}\n"
                       "sharding: {videos_per_job: {recognition: 8, detection: 8}, detection_runs_per_job: 2}\n")
    wd = tmp_path / "torch"
    out = snakemake(wd, configfiles=(TINY, overlay))
    assert "results/flow/detection/shard000of001" in out.stdout + out.stderr  # one job for all 3 videos
    assert "detection_variant_batch6of10" in out.stdout + out.stderr

    stores, batched = W.stores(ref, "flow"), W.stores(wd, "flow")
    assert len(stores) >= 10 and sorted(stores) == sorted(batched)
    epe, within20, within_cfg = [], [], []
    for key, p in stores.items():
        q = batched[key]
        a, b = read_flow(p).astype(np.float32), read_flow(q).astype(np.float32)
        assert a.shape == b.shape, p.name
        at20 = flow_agreement(b, a, 20.0)
        epe.append(at20["mean_epe_px"])
        within20.append(at20["img8_xy_within_1"])
        within_cfg.append(images_within_one_level(read_flow_images(q), read_flow_images(p))[0])
    print(f"{len(stores)} flow stores: worst mean EPE {max(epe):.4f} px; x/y within one level: worst "
          f"{min(within20):.4f} at bound 20, {min(within_cfg):.4f} at the config's bound")
    assert max(epe) <= 0.05
    assert min(within20) >= 0.99

    fa = read_features(ref / "results/detection/features/detection.h5")
    fb = read_features(wd / "results/detection/features/detection.h5")
    rel = {v: float(np.linalg.norm(fa[v]["flow_tvl1"] - fb[v]["flow_tvl1"]) / np.linalg.norm(fa[v]["flow_tvl1"]))
           for v in fa}
    print(f"flow I3D features: largest relative difference {max(rel.values()):.4f}")
    assert max(rel.values()) <= 0.05
    for v in fa:
        np.testing.assert_array_equal(fa[v]["ir"], fb[v]["ir"])

    t_ref, t_new = ref / "results" / "tables", wd / "results" / "tables"
    pd.testing.assert_frame_equal(pd.read_csv(t_ref / "table1.csv"), pd.read_csv(t_new / "table1.csv"))
    t2a, t2b = pd.read_csv(t_ref / "table2.csv"), pd.read_csv(t_new / "table2.csv")
    ir = t2a["method"].str.startswith("IR net")
    pd.testing.assert_frame_equal(t2a[ir], t2b[ir])
    d4a, d4b = pd.read_csv(t_ref / "infdet_table4.csv"), pd.read_csv(t_new / "infdet_table4.csv")
    pd.testing.assert_frame_equal(d4a[d4a["variant"] == "ir"], d4b[d4b["variant"] == "ir"])
    for name in FLOW_DEPENDENT:
        a, b = pd.read_csv(t_ref / name), pd.read_csv(t_new / name)
        assert list(a.columns) == list(b.columns) and a.iloc[:, 0].tolist() == b.iloc[:, 0].tolist(), name
        num = a.select_dtypes("number").columns
        print(f"{name}: largest difference {np.nanmax(np.abs(a[num].to_numpy(float) - b[num].to_numpy(float))):.2f}")


def test_whole_video_benchmark_on_the_tiny_run(tiny_run, tmp_path):
    """bench/tvl1_videos.py on the tiny run's frame stores: both backends, sane figures."""
    import json
    import subprocess
    import sys

    from tests.conftest import REPO

    ref, _ = tiny_run
    out = tmp_path / "videos"
    subprocess.run([sys.executable, str(REPO / "bench" / "tvl1_videos.py"), "--run-dir", str(ref), "--videos", "2",
                    "--out", str(out)], check=True, capture_output=True, text=True, timeout=600)
    rows = json.loads(out.with_suffix(".json").read_text())["rows"]
    assert [r["dataset"] for r in rows] == ["recognition", "detection"]
    for r in rows:
        assert r["videos"] == 2 and r["pairs"] > 0
        assert abs(r["ratio_to_opencv"] - r["torch_pairs_per_s"] / r["opencv_pairs_per_s"]) < 1e-9
        # the engines are reused across the two datasets' frame sizes (32x43, then 48x60): this
        # caught OpenCV lowering its own nscales (0.054 px before OpenCVTVL1 reset it)
        assert r["worst_mean_epe_px"] <= 0.05 and r["worst_xy_within_1_bound20"] >= 0.99
