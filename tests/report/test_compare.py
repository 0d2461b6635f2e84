"""`irpipe runs compare` on a temporary SQLite store holding two workflow invocations."""
import pandas as pd
import pytest

from irpipe import cli, tracking


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root}/mlflow.db"
    tdir = root / "tracking"
    tracking.init_experiment(uri, "exp", tdir)
    for k, acc in ((5, 0.75), (3, 0.625)):
        config = {"tracking": {"uri": uri, "experiment": "exp", "dir": str(tdir)},
                  "fusion": {"lf2": {"k": k, "gamma": 0.05}}}
        tracking.new_invocation(tdir, config)
        with tracking.JobRun(config, rule="fusion", wildcards={"split": "0"}, params={"fusion": config["fusion"]}) as run:
            run.log_metrics({"lf2.accuracy": acc, "lf1.accuracy": 0.5})
        with tracking.JobRun(config, rule="table3", params={"fusion": config["fusion"]}) as run:
            run.log_metrics({"lf2.accuracy_mean": acc * 100})
        tracking.finish_parent(tdir, uri)
    return uri


def test_compare_shows_both_invocations_side_by_side(store, tmp_path, capsys):
    out_csv = tmp_path / "cmp.csv"
    rc = cli.main(["runs", "compare", "--uri", store, "--experiment", "exp", "--rule", "fusion",
                   "--csv", str(out_csv)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "lf2.accuracy" in text and "0.75" in text and "0.625" in text
    df = pd.read_csv(out_csv)
    run_cols = [c for c in df.columns if c.startswith("workflow-")]
    assert len(run_cols) == 2
    lf2 = df[(df["kind"] == "metric") & (df["name"] == "lf2.accuracy")]
    assert lf2[run_cols].iloc[0].tolist() == [0.75, 0.625]  # start order: first invocation first
    # The differing param is shown, the equal ones are not (without --all-params).
    params = df[df["kind"] == "param"]
    assert params["name"].tolist() == ["fusion.lf2.k"]
    assert [float(v) for v in params[run_cols].iloc[0]] == [5.0, 3.0]
    assert set(df["rule"]) == {"fusion"}


def test_filters_rule_tag_metric_and_last(store, tmp_path, capsys):
    out_csv = tmp_path / "cmp.csv"
    cli.main(["runs", "compare", "--uri", store, "--experiment", "exp", "--tag", "irpipe.wildcard.split=0",
              "--metric", "lf1.*", "--all-params", "--last", "1", "--csv", str(out_csv)])
    df = pd.read_csv(out_csv)
    assert len([c for c in df.columns if c.startswith("workflow-")]) == 1
    assert set(df["rule"]) == {"fusion"}  # the table3 job has no split wildcard
    assert df[df["kind"] == "metric"]["name"].tolist() == ["lf1.accuracy"]
    assert "fusion.lf2.gamma" in set(df["name"])  # --all-params keeps equal params
    cli.main(["runs", "compare", "--uri", store, "--experiment", "exp", "--by", "run",
              "--rule", "table3", "--rule", "fusion", "--csv", str(out_csv)])
    df = pd.read_csv(out_csv)
    assert set(df["rule"]) == {"fusion", "table3"}
    assert len(df.columns) - 4 == 4  # four job runs, one column each


def test_unknown_experiment_is_a_clear_error(store, capsys):
    assert cli.main(["runs", "compare", "--uri", store, "--experiment", "nope"]) == 2
    assert "no MLflow experiment 'nope'" in capsys.readouterr().err
