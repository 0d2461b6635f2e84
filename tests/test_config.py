import subprocess
import sys

import pytest

from irpipe.config import config_hash, load_config, validate_config
from irpipe.errors import ConfigError
from tests.conftest import REPO


def test_defaults_are_filled_from_schema():
    cfg = validate_config({})
    assert cfg["flow"]["bound"] == 20 and cfg["flow"]["tvl1"]["tau"] == 0.25
    assert cfg["splits"] == {"n_splits": 5, "train_per_class": 30, "test_per_class": 20, "seed": 0}
    # classes come from the data by default; the synthetic generator makes the papers' classes
    assert cfg["dataset"]["recognition"]["classes"] is None and cfg["dataset"]["detection"]["classes"] is None
    assert len(cfg["synthetic"]["recognition"]["classes"]) == 12
    assert cfg["synthetic"]["detection"]["classes"] == ["drop", "fight", "hug"]


@pytest.mark.parametrize("cfg,key", [
    ({"flw": 1}, "'flw': unknown key"),
    ({"flow": {"tvl1": {"tau": "fast"}}}, "'flow.tvl1.tau': 'fast' is not of type 'number'"),
    ({"splits": {"n_splits": 0}}, "'splits.n_splits': 0 is less than the minimum"),
    ({"on_bad_input": "ignore"}, "'on_bad_input': 'ignore' is not one of"),
    ({"dataset": {"recognition": {"sorce": "folder"}}}, "'dataset.recognition.sorce': unknown key"),
])
def test_errors_name_the_key(cfg, key):
    with pytest.raises(ConfigError, match=key.replace("(", r"\(").replace(".", r"\.")):
        validate_config(cfg)


def test_embedded_default_and_presets_validate():
    load_config(REPO / "config.yaml")
    for preset in sorted((REPO / "presets").glob("*.yaml")):
        import yaml

        from irpipe.config import deep_update
        base = yaml.safe_load(open(REPO / "config.yaml"))
        validate_config(deep_update(base, yaml.safe_load(open(preset)) or {}))


def test_config_hash_is_stable_and_sensitive():
    a = validate_config({})
    b = validate_config({})
    assert config_hash(a) == config_hash(b)
    b["seed"] = 1
    assert config_hash(a) != config_hash(b)


def test_workflow_rejects_bad_config_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("flow:\n  bound: twenty\n")
    out = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "--dry-run", "--configfile", str(bad),
                          "--directory", str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                         env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    assert out.returncode != 0
    assert "config key 'flow.bound': 'twenty' does not match '^auto$'" in out.stdout + out.stderr
    assert not (tmp_path / "results").exists()
