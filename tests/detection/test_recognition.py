"""Recognition mode: frozen features vs fine-tuned I3Ds (seed 001 section IV-F)."""
import numpy as np
import pandas as pd
import pytest
import torch

from irpipe.detection import recognition
from irpipe.detection.features import extract_dataset, read_features
from irpipe.workflow_logic import stores_in


@pytest.fixture(scope="module")
def setup(tiny_detection):
    root, cfg = tiny_detection
    out = root / "rec_features.h5"
    extract_dataset([f"vid{i}" for i in range(6)], stores_in([root / "frames"]), stores_in([root / "flow"]), out,
                    cfg["detection"],
                    seed=0, frame_size="i3d", bound=20.0)
    # trimmed-video view of the tiny set: label = parity of the index, 4 train / 2 test
    splits = pd.DataFrame([{"video_id": f"vid{i}", "label": ["drop", "hug"][i % 2], "label_index": i % 2,
                            "split": 0, "subset": "train" if i < 4 else "test"} for i in range(6)])
    video_data = {"frames": stores_in([root / "frames"]), "flow": stores_in([root / "flow"]), "frame_size": "i3d",
                  "bound": 20.0}
    return read_features(out), splits, cfg["detection"], video_data


def _cfg(dcfg, mode, epochs=2):
    return dict(dcfg, recognition=dict(dcfg["recognition"], i3d=mode, epochs=epochs))


def test_finetune_changes_the_i3d_weights_and_is_seeded(setup, monkeypatch):
    feats, splits, dcfg, video_data = setup
    built = []
    real = recognition.build_extractor

    def spy(stream, icfg, seed):
        m, init = real(stream, icfg, seed)
        built.append((stream, m, {k: v.clone() for k, v in m.state_dict().items()}))
        return m, init

    monkeypatch.setattr(recognition, "build_extractor", spy)
    cfg = _cfg(dcfg, "finetune")
    a = recognition.run_recognition(feats, splits, ["drop", "hug"], cfg, 0, video_data=video_data)
    assert a["method"].iloc[0].endswith("I3D finetune)")
    for stream, m, before in built:
        assert not m.training  # batch-norm statistics stay frozen ...
        after = m.state_dict()
        assert torch.equal(after["Conv3d_1a_7x7.bn.running_mean"], before["Conv3d_1a_7x7.bn.running_mean"])
        # ... while the weights train
        assert not torch.equal(after["Conv3d_1a_7x7.conv3d.weight"], before["Conv3d_1a_7x7.conv3d.weight"]), stream
    b = recognition.run_recognition(feats, splits, ["drop", "hug"], cfg, 0, video_data=video_data)
    pd.testing.assert_frame_equal(a, b)


def test_frozen_mode_needs_no_videos_and_finetune_does(setup):
    feats, splits, dcfg, video_data = setup
    f = recognition.run_recognition(feats, splits, ["drop", "hug"], _cfg(dcfg, "frozen"), 0)
    assert f["method"].iloc[0].endswith("I3D frozen)") and 0 <= f["accuracy"].iloc[0] <= 1
    with pytest.raises(ValueError, match="finetune needs"):
        recognition.run_recognition(feats, splits, ["drop", "hug"], _cfg(dcfg, "finetune"), 0)


def test_finetune_starts_from_the_cached_extractors(setup):
    # the I3Ds that are fine-tuned are the ones that built the cache: before any step their
    # features equal the cached frozen features, so the cache's standardisation applies
    feats, splits, dcfg, video_data = setup
    from irpipe.detection.features import extract

    ext = recognition.trainable_extractors(dcfg["i3d"], 0)
    assert all(p.requires_grad for m in ext.values() for p in m.parameters())
    xi, xf = recognition._video_inputs("vid1", video_data)
    with torch.no_grad():
        fi = extract(ext["ir"], xi, dcfg["i3d"]["chunk_snippets"]).numpy()
        ff = extract(ext["flow"], xf, dcfg["i3d"]["chunk_snippets"]).numpy()
    def close(a, b):  # random-init features are tiny (~1e-6): compare relative to their scale
        return np.abs(a - b).max() <= 1e-3 * np.abs(b).max()

    assert np.abs(fi).max() > 0
    assert close(fi.T, feats["vid1"]["ir"]) and close(ff.T, feats["vid1"]["flow_tvl1"])
    other = recognition.trainable_extractors(dcfg["i3d"], 1)  # a different seed is a different net
    with torch.no_grad():
        assert not close(extract(other["ir"], xi, 32).numpy(), fi)
