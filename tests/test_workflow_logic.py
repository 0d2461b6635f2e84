"""The workflow's logic without Snakemake: shards, store lookup, input functions, target lists."""
from __future__ import annotations

import collections
import zlib
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from irpipe.config import validate_config
from irpipe.errors import ConfigError
from irpipe.workflow_logic import (
    DETECTION_TRAINED_VARIANTS,
    DETECTION_VARIANTS,
    FEATURE_KINDS,
    WorkflowLogic,
    alpha_label,
    detection_job_part,
    detection_run_dir,
    detection_variant_file,
    make_shards,
    n_shards,
    report_view,
    resolve_videos_per_job,
    select_stores,
    shard_of,
    stores_in,
)


class FakeCheckpoints:
    """Stands in for Snakemake's ``checkpoints``: ``manifest_<dataset>.get().output.manifest``."""

    def __init__(self, manifests: dict[str, Path]):
        for dataset, path in manifests.items():
            job = SimpleNamespace(output=SimpleNamespace(manifest=str(path)))
            setattr(self, f"manifest_{dataset}", SimpleNamespace(get=lambda job=job: job))


def _logic(tmp_path, n_rec=20, n_det=3, per_job=(4, 1), config=None):
    rec = pd.DataFrame({"video_id": [f"v{i:02d}" for i in range(n_rec)], "path": [f"/data/v{i:02d}.avi" for i in range(n_rec)],
                        "label": "a", "subset": ""})
    det = pd.DataFrame({"video_id": [f"d{i}" for i in range(n_det)], "path": [f"/data/d{i}.avi" for i in range(n_det)],
                        "label": "", "subset": ["train", "test", "test"][:n_det]})
    rec.to_csv(tmp_path / "rec.csv", index=False)
    det.to_csv(tmp_path / "det.csv", index=False)
    cfg = validate_config({"sharding": {"videos_per_job": {"recognition": per_job[0], "detection": per_job[1]}},
                           **(config or {})})
    return WorkflowLogic(cfg, FakeCheckpoints({"recognition": tmp_path / "rec.csv", "detection": tmp_path / "det.csv"}))


def test_shards_partition_the_videos_and_are_named_by_a_stable_hash():
    videos = [f"clip_{i}" for i in range(37)]
    shards = make_shards(reversed(videos), 8)
    assert len(shards) <= n_shards(37, 8) == 5
    members = [v for vs in shards.values() for v in vs]
    assert sorted(members) == sorted(videos) and len(members) == len(set(members))
    for name, vs in shards.items():
        assert vs == sorted(vs)
        for v in vs:  # the known answer: crc32 of the id modulo the shard count
            assert name == f"shard{zlib.crc32(v.encode()) % 5:03d}of005" == shard_of(v, 37, 8)


def test_one_video_per_job_names_the_shard_after_the_video():
    assert make_shards(["b", "a"], 1) == {"a": ["a"], "b": ["b"]}


def test_adding_a_video_changes_only_its_own_shard_while_the_count_holds():
    videos = [f"v{i:03d}" for i in range(30)]  # 30 / 8 -> 4 shards; 31 videos -> still 4
    before, after = make_shards(videos, 8), make_shards(videos + ["new_video"], 8)
    changed = [s for s in after if after[s] != before.get(s)]
    assert changed == [shard_of("new_video", 31, 8)]


def test_shard_sizes_are_near_the_setting_on_a_large_dataset():
    sizes = [len(v) for v in make_shards([f"video_{i:04d}" for i in range(400)], 8).values()]
    assert len(sizes) == 50 and sum(sizes) == 400
    assert max(sizes) <= 20  # a hash spreads 400 ids over 50 shards without pathological piles


def test_auto_shard_size_grows_with_the_dataset_within_its_bounds():
    # known answers: ceil(n / 16) bounded to 8..64
    assert [resolve_videos_per_job("auto", n) for n in (1, 120, 128, 129, 408, 1024, 10_000)] == [8, 8, 8, 9, 26, 64, 64]
    assert resolve_videos_per_job(5, 408) == 5 and resolve_videos_per_job(1, 10_000) == 1
    assert n_shards(408, "auto") == 16 and n_shards(10_000, "auto") == 157 and n_shards(120, "auto") == 15
    # the embedded default's 120 clips keep the layout of the old fixed default (8 per job)
    videos = [f"clip_{i:03d}" for i in range(120)]
    assert make_shards(videos, "auto") == make_shards(videos, 8)
    with pytest.raises(ValueError, match="'some'"):
        resolve_videos_per_job("some", 10)


def test_auto_is_the_default_and_the_workflow_resolves_it_against_the_manifest(tmp_path):
    assert validate_config({})["sharding"]["videos_per_job"] == {"recognition": "auto", "detection": 1}
    logic = _logic(tmp_path, n_rec=200, per_job=("auto", 1))
    shards = logic.shards("recognition")
    assert len(shards) == n_shards(200, 13) == 16 and all(n.endswith("of016") for n in shards)
    assert sorted(v for vs in shards.values() for v in vs) == sorted(f"v{i:02d}" for i in range(200))
    with pytest.raises(ConfigError, match="'sharding.videos_per_job.recognition': 'many' is not an integer >= 1 or 'auto'"):
        validate_config({"sharding": {"videos_per_job": {"recognition": "many"}}})


def test_stores_in_reads_files_and_shard_folders(tmp_path):
    (tmp_path / "s1").mkdir()
    for name in ("s1/a.h5", "s1/b.h5", "c.h5"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "s1/.snakemake_timestamp").write_bytes(b"")
    found = stores_in([tmp_path / "s1", tmp_path / "c.h5"])
    assert found == {"a": tmp_path / "s1/a.h5", "b": tmp_path / "s1/b.h5", "c": tmp_path / "c.h5"}
    assert list(select_stores([tmp_path / "s1"], ["b"])) == ["b"]
    with pytest.raises(FileNotFoundError, match="1 video.*zz"):
        select_stores([tmp_path / "s1"], ["a", "zz"])
    (tmp_path / "s2").mkdir()
    (tmp_path / "s2/a.h5").write_bytes(b"")
    with pytest.raises(ValueError, match="stored twice"):
        stores_in([tmp_path / "s1", tmp_path / "s2"])


def test_video_ids_with_dots_keep_their_name(tmp_path):
    (tmp_path / "v.1.2.h5").write_bytes(b"")
    assert list(stores_in([tmp_path])) == ["v.1.2"]


def test_per_video_stage_input_functions(tmp_path):
    w = _logic(tmp_path)
    shards = w.shards("recognition")
    shard, members = next(iter(shards.items()))
    wc = SimpleNamespace(dataset="recognition", shard=shard)
    assert w.shard_videos(wc) == members
    assert w.shard_sources(wc) == [f"/data/{v}.avi" for v in members]
    assert w.shard_frames(wc) == f"results/frames/recognition/{shard}"
    assert w.all_flow("recognition") == [f"results/flow/recognition/{s}" for s in shards]
    assert w.kind_descriptors(SimpleNamespace(kind="idt")) == [
        f"results/handcrafted/descriptors/idt/{s}" for s in shards]
    assert list(w.shards("detection")) == ["d0", "d1", "d2"]  # one video per job
    with pytest.raises(ValueError, match="no shard 'nope'"):
        w.shard_videos(SimpleNamespace(dataset="recognition", shard="nope"))


def test_c3d_inputs_and_sweep_reuse(tmp_path):
    w = _logic(tmp_path, config={"c3d": {"dcl": {"alpha": 0.02}, "alpha_sweep": [0, 0.005, 0.02]}})
    assert w.c3d_stores(SimpleNamespace(stream="ir")) == w.all_frames("recognition")
    assert w.c3d_stores(SimpleNamespace(stream="flow")) == w.all_flow("recognition")
    assert w.c3d_alpha(SimpleNamespace(variant="nodcl")) == 0.0
    assert w.c3d_alpha(SimpleNamespace(variant="dcl")) == 0.02
    assert w.c3d_sweep_alphas() == ["0", "0.005", "0.02"]
    reuse = w.c3d_reuse(SimpleNamespace(stream="flow", alpha="0.02", split="0"))
    assert reuse == ["results/c3d/flow_dcl/split0/predictions.h5", "results/c3d/flow_dcl/split0/model.pt"]
    assert w.c3d_reuse(SimpleNamespace(stream="ir", alpha="0", split="0"))[0].startswith("results/c3d/ir_nodcl/")
    assert w.c3d_reuse(SimpleNamespace(stream="ir", alpha="0.005", split="0")) == []
    assert w.c3d_reuse(SimpleNamespace(stream="ir", alpha="0", split="99")) == []  # not a main split
    assert alpha_label(0.0) == "0" and alpha_label(0.1) == "0.1"


def _batch_of(w, part: str):
    """The job (batch) that trains run ``part`` (``ir``, ``sca_fen_seed1``)."""
    found = [b for b in w.detection_batches() if any(detection_job_part(v, k) == part for v, k in b.runs)]
    assert len(found) == 1, (part, w.detection_batches())
    return found[0]


def test_the_fen_variant_declares_the_sca_model_and_the_stores(tmp_path):
    w = _logic(tmp_path, config={"sharding": {"detection_runs_per_job": 1}})
    fen = w.detection_batch_inputs(_batch_of(w, "sca_fen"))()
    assert fen["sca_fen__init"] == "results/detection/variants/sca_tvl1/model.pt"
    assert fen["frames"] == w.all_frames("detection") and fen["flow"] == w.all_flow("detection")
    other = w.detection_batch_inputs(_batch_of(w, "ir"))()
    assert not any("init" in k for k in other) and "frames" not in other
    assert other["features"] == "results/detection/features/detection.h5"
    # a job that trains the SCA (TV-L1) model before the FEN run reads it as its own output
    both = _logic(tmp_path, config={"sharding": {"detection_runs_per_job": 10}}).detection_batches()
    assert len(both) == 1 and not both[0].dependencies()
    assert both[0].outputs()["sca_tvl1__model"] == "results/detection/variants/sca_tvl1/model.pt"
    assert "late__model" not in both[0].outputs()  # late fusion trains nothing
    assert set(DETECTION_VARIANTS) == set(DETECTION_TRAINED_VARIANTS) | {"late"}
    assert len(DETECTION_VARIANTS) == 10 and FEATURE_KINDS == ("dsift", "osift", "idt")


def test_one_seed_keeps_the_single_run_layout(tmp_path):
    w = _logic(tmp_path)  # detection.seeds defaults to 1
    runs = [(v, 0) for v in DETECTION_VARIANTS] + [("naive", 0)]  # the naive baseline: one run, last
    assert w.detection_seeds == [0] and w.detection_runs() == runs
    t = w.detection_table_inputs()
    assert t["evals"] == [f"results/detection/variants/{v}/eval.csv" for v, _ in runs]
    naive = w.detection_naive_inputs()
    assert naive["frames"] == w.all_frames("detection") and "features" not in naive and "flow" not in naive
    assert "results/benchmarks/detection_variant/naive.tsv" in w.benchmark_records()
    off = _logic(tmp_path, config={"detection": {"naive": {"enabled": False}}})
    assert off.detection_runs() == runs[:-1]
    assert t["detections"][0] == "results/detection/variants/ir/detections.csv"
    assert {t["annotations"], t["ambiguous"], t["classes"], t["gt"]} == {
        "results/data/detection/annotations.csv", "results/data/detection/ambiguous.csv",
        "results/data/detection/classes.txt", "results/detection/gt"}
    # auto: one seed index, two jobs of five runs (late fusion after the ir and flow runs it fuses)
    assert [b.name for b in w.detection_batches()] == ["batch1of2", "batch2of2"]
    assert w.detection_batches()[0].runs == [(v, 0) for v in DETECTION_VARIANTS[:5]]
    assert w.detection_naive_outputs()["naive__summary"] == "results/detection/variants/naive/summary.json"
    single = _logic(tmp_path, config={"sharding": {"detection_runs_per_job": 1}})
    late = single.detection_batch_inputs(_batch_of(single, "late"))()
    assert (late["late__ir_scores"], late["late__flow_scores"]) == ("results/detection/variants/ir/scores.npz",
                                                                    "results/detection/variants/flow/scores.npz")
    assert "features" not in late  # fusing two score files reads no features
    assert [b.name for b in single.detection_batches()] == list(DETECTION_VARIANTS)
    assert "results/bad_inputs/detection_variant_late.csv" in w.bad_input_tables()
    assert not any("seed" in r for r in w.benchmark_records() + w.bad_input_tables())


def test_each_seed_index_is_its_own_run_with_its_own_inputs(tmp_path):
    w = _logic(tmp_path, config={"detection": {"seeds": 3}})
    assert w.detection_seeds == [0, 1, 2]
    runs = w.detection_runs()
    assert len(runs) == 31 and runs[:3] == [("ir", 0), ("ir", 1), ("ir", 2)] and runs[-1] == ("naive", 0)
    assert detection_run_dir("ir", 0) == "results/detection/variants/ir"
    assert detection_variant_file("max", "eval.csv", "2") == "results/detection/variants/max/seed2/eval.csv"
    # the FEN run of index k starts from the SCA (TV-L1) model of index k; late fusion of k fuses ir and flow of k
    single = _logic(tmp_path, config={"detection": {"seeds": 3}, "sharding": {"detection_runs_per_job": 1}})
    fen = single.detection_batch_inputs(_batch_of(single, "sca_fen_seed2"))()
    assert fen["sca_fen_seed2__init"] == "results/detection/variants/sca_tvl1/seed2/model.pt"
    assert single.detection_batch_inputs(_batch_of(single, "sca_fen"))()["sca_fen__init"].endswith("sca_tvl1/model.pt")
    late = single.detection_batch_inputs(_batch_of(single, "late_seed1"))()
    assert late["late_seed1__ir_scores"] == "results/detection/variants/ir/seed1/scores.npz"
    assert late["late_seed1__flow_scores"] == "results/detection/variants/flow/seed1/scores.npz"
    # auto with three seed indices: one job per index, every run once, in dependency order
    batches = w.detection_batches()
    assert [b.name for b in batches] == ["batch1of3", "batch2of3", "batch3of3"]
    assert [r for b in batches for r in b.runs] == [(v, k) for k in range(3) for v in DETECTION_VARIANTS]
    assert all(not b.dependencies() for b in batches)
    # four runs per job: the FEN run of index 1 starts from a model another job writes
    four = _logic(tmp_path, config={"detection": {"seeds": 3}, "sharding": {"detection_runs_per_job": 4}})
    fen1 = _batch_of(four, "sca_fen_seed1")
    assert fen1.dependencies() == {"sca_fen_seed1__init": "results/detection/variants/sca_tvl1/seed1/model.pt"}
    outputs = [p for b in four.detection_batches() for p in b.outputs().values()]
    assert len(outputs) == len(set(outputs)) == 30 * 6 + 27  # 6 files per run, model.pt per trained run
    # the tables read every run, in detection_runs() order (the script zips them with the params)
    t = w.detection_table_inputs()
    for key, name in (("evals", "eval.csv"), ("summaries", "summary.json"), ("detections", "detections.csv")):
        assert t[key] == [detection_variant_file(v, name, k) for v, k in runs]
    assert len(set(t["detections"])) == 31
    # every run's benchmark and bad-input record, as the rules name them
    records, bad = w.benchmark_records(), w.bad_input_tables()
    assert sum(r.startswith("results/benchmarks/detection_variant/") for r in records) == 4  # 3 jobs + naive
    assert "results/benchmarks/detection_variant/batch3of3.tsv" in records
    assert "results/benchmarks/detection_variant/late_seed2.tsv" in single.benchmark_records()
    assert sum(r.startswith("results/bad_inputs/detection_variant_") for r in bad) == 31  # one per run
    assert "results/bad_inputs/detection_variant_sca_fen_seed1.csv" in bad
    assert "results/bad_inputs/detection_variant_sca_fen.csv" in bad
    assert len(records) == len(set(records)) and len(bad) == len(set(bad))


def test_timelines_are_drawn_for_the_test_subset(tmp_path):
    w = _logic(tmp_path)
    assert w.detection_timeline_figures() == ["results/figures/detection/timeline_d1.png",
                                              "results/figures/detection/timeline_d2.png"]


def test_report_views_skip_the_reports_own_files_and_annotated_ones(tmp_path):
    w = _logic(tmp_path)
    w.targets += ["results/tables/table1.csv", "results/tables/table1.md", "results/figures/f.png",
                  "results/figures/g.svg", "results/report/items.txt", "results/tables/bad_inputs.csv"]
    w.report_annotated.add("results/figures/g.svg")
    assert w.report_views() == ["results/report/tables/table1.html", "results/report/figures/f.png"]
    assert "results/report/items.txt" not in w.report_upstream_targets()
    assert report_view("results/data/recognition/splits.csv") is None


def test_stage_switches_follow_the_config(tmp_path):
    w = _logic(tmp_path, config={"handcrafted": {"enabled": False}})
    assert not w.handcrafted_enabled and not w.fusion_concepts
    assert "posteriors" not in w.fusion_split_inputs(SimpleNamespace(split="0"))
    w2 = _logic(tmp_path)
    assert w2.fusion_split_inputs(SimpleNamespace(split="1"))["posteriors"] == "results/handcrafted/split1/posteriors.h5"
    assert w2.table2_predictions()[0] == "results/c3d/ir_dcl/split0/predictions.h5"
    assert len(w2.table2_predictions()) == 2 * 2 * len(w2.splits)
    assert collections.Counter(w2.figure6b_streams()) == {"ir": len(w2.splits), "flow": len(w2.splits)}


def test_run_records_follow_the_enabled_stages(tmp_path):
    w = _logic(tmp_path, n_rec=20, n_det=3, per_job=(4, 1),
               config={"c3d": {"alpha_sweep": [0, 0.1]}, "splits": {"n_splits": 2}})
    records = w.benchmark_records()
    assert len(records) == len(set(records))
    n_rec_shards = len(w.shards("recognition"))
    assert sum(r.startswith("results/benchmarks/frames/recognition/") for r in records) == n_rec_shards
    assert sum(r.startswith("results/benchmarks/handcrafted_descriptors/") for r in records) == 3 * n_rec_shards
    assert sum(r.startswith("results/benchmarks/flow/detection/") for r in records) == 3
    assert sum(r.startswith("results/benchmarks/c3d_train/") for r in records) == 2 * 2 * 2
    assert "results/benchmarks/c3d_sweep/flow_alpha0.1_split0.tsv" in records
    assert sum(r.startswith("results/benchmarks/detection_variant/") for r in records) == 3  # 2 jobs + the naive baseline
    bad = w.bad_input_tables()
    assert "results/bad_inputs/detection_variant_sca_fen.csv" in bad
    assert "results/bad_inputs/c3d_recognition_sweep_flow_alpha0_split0.csv" in bad
    assert "results/bad_inputs/handcrafted_recognition.csv" in bad and "results/bad_inputs/splits_recognition.csv" in bad
    assert len(bad) == len(set(bad))

    off = _logic(tmp_path, config={"dataset": {"detection": {"enabled": False}}, "handcrafted": {"enabled": False}})
    assert not any("detection" in r or "handcrafted" in r for r in off.benchmark_records() + off.bad_input_tables())


def test_naive_baseline_inputs_records_and_switch(tmp_path):
    w = _logic(tmp_path, config={"splits": {"n_splits": 2}})
    inp = w.naive_inputs(SimpleNamespace(split="1"))
    assert inp["frames"] == w.all_frames("recognition") and len(inp["frames"]) == len(w.shards("recognition"))
    assert inp["classes"] == "results/data/recognition/classes.txt"
    assert inp["splits"] == "results/data/recognition/splits.csv"
    assert w.naive_metrics() == ["results/handcrafted/split0/metrics_naive.csv",
                                 "results/handcrafted/split1/metrics_naive.csv"]
    assert "results/benchmarks/naive_baseline/split1.tsv" in w.benchmark_records()
    assert "results/bad_inputs/naive_recognition_split0.csv" in w.bad_input_tables()
    off = _logic(tmp_path, config={"handcrafted": {"naive": {"enabled": False}}})
    assert off.naive_metrics() == []
    # the recognition naive baseline's records go with it (the detection one has its own switch)
    assert not any("naive" in r and "detection" not in r for r in off.benchmark_records() + off.bad_input_tables())


def test_flow_bound_auto_is_a_declared_input_of_every_flow_reader(tmp_path):
    num = _logic(tmp_path)
    assert "flow_bound" not in num.c3d_inputs(SimpleNamespace(stream="flow"))
    assert "flow_bound" not in num.detection_features_inputs(SimpleNamespace(dataset="detection"))
    w = _logic(tmp_path, config={"flow": {"bound": "auto"}})
    assert w.c3d_inputs(SimpleNamespace(stream="flow"))["flow_bound"] == "results/data/recognition/flow_bound.json"
    assert "flow_bound" not in w.c3d_inputs(SimpleNamespace(stream="ir"))
    assert w.c3d_inputs(SimpleNamespace(stream="flow"))["stores"] == w.all_flow("recognition")
    assert (w.detection_features_inputs(SimpleNamespace(dataset="recognition"))["flow_bound"]
            == "results/data/recognition/flow_bound.json")
    ca, fen = (w.detection_batch_inputs(b)() for b in w.detection_batches())  # auto: two jobs, FEN in the second
    assert fen["flow_bound"] == "results/data/detection/flow_bound.json"  # the job with the FEN run
    assert "flow_bound" not in ca


def test_captions_declare_the_data_they_count(tmp_path, monkeypatch):
    """Issue 14: a page that names the data declares the manifests it counts; the report caption's
    param is worded from them (and waits, as Snakemake's TBD, while they are not built)."""
    w = _logic(tmp_path)
    rec = {"recognition_manifest": "results/data/recognition/manifest.csv",
           "recognition_splits": "results/data/recognition/splits.csv"}
    det = {"detection_manifest": "results/data/detection/manifest.csv",
           "detection_annotations": "results/data/detection/annotations.csv",
           "detection_subsets": "results/data/detection/subsets.json"}
    assert w.summary_data() == {**rec, **det}
    for name, want in [("table1", rec), ("table2", rec), ("figure5_confusion", rec), ("infdet_recognition", rec),
                       ("infdet_table3", det), ("infdet_per_class_ap", det), ("infdet_table6", {})]:
        assert w.report_page_data(SimpleNamespace(name=name)) == want, name
    assert _logic(tmp_path, config={"dataset": {"detection": {"enabled": False}}}).summary_data() == rec
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as err:
        w.data_caption(SimpleNamespace(name="infdet_table3"), list(det.values()))
    assert err.value.filename == det["detection_manifest"]
    data = tmp_path / "results/data/detection"
    data.mkdir(parents=True)
    pd.DataFrame({"video_id": ["a_1", "b"], "subset": ["train", "test"]}).to_csv(data / "manifest.csv", index=False)
    pd.DataFrame({"video_id": ["a_1"], "label": ["hug"], "subset": ["train"]}).to_csv(data / "annotations.csv",
                                                                                    index=False)
    (data / "subsets.json").write_text('{"train": "train", "test": "test"}')
    text = w.data_caption(SimpleNamespace(name="infdet_table3"), ["results/tracking/experiment.json", *det.values()])
    assert text == (r"Data: SYNTHETIC detection data (embedded generator, not InfDet): train 1 video / 1 instance / "
                    "1 class; test 1 / 0 / 0.")
    assert w.data_caption(SimpleNamespace(name="infdet_table6"), ["results/tracking/experiment.json"]).startswith(
        "Data: none")


def test_settings_digests_change_with_their_settings_only(tmp_path):
    w = _logic(tmp_path)
    flow = w.settings_digest("flow")
    assert flow.startswith("flow=") and flow == _logic(tmp_path).settings_digest("flow")
    tau = _logic(tmp_path, config={"flow": {"tvl1": {"tau": 0.2}}})
    assert tau.settings_digest("flow") != flow and tau.settings_digest("frames") == w.settings_digest("frames")
    wc = SimpleNamespace(kind="dsift")
    step = _logic(tmp_path, config={"handcrafted": {"dsift": {"step": 6}}})
    assert step.descriptor_settings(wc) != w.descriptor_settings(wc)
    assert step.descriptor_settings(SimpleNamespace(kind="idt")) == w.descriptor_settings(SimpleNamespace(kind="idt"))
