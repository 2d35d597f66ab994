"""MLflow tracking read back through mlflow's own client (params, metrics, verdict,
artefacts, a sweep's points as nested runs), and ``niftycnn runs``: the local runs in one
table, and the config keys two runs differ in."""

from __future__ import annotations

import contextlib
import io
import json

import mlflow
import pandas as pd
import pytest

from niftycnn.cli import main
from niftycnn.workflow.tracking import PARENT_TAG, tracking_client
from tests.workflow.conftest import FinishedRun
from tests.workflow.corpus import tiny


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return status, out.getvalue(), err.getvalue()


def test_a_logged_run_reads_back_through_mlflows_client(quick_run: FinishedRun, tmp_path):
    run = quick_run.copy(tmp_path)
    uri = (tmp_path / "mlruns").as_uri()
    from niftycnn.workflow.tracking import log_run

    run_id = log_run(run, uri)
    client = tracking_client(mlflow, uri)
    logged = client.get_run(run_id)
    assert client.get_experiment(logged.info.experiment_id).name == run.parent.name
    params = logged.data.params
    assert params["train.epochs"] == "1" and params["walkforward.refit_every"] == "60"
    assert params["data.synthetic.n_days"] == "640" and params["seed"] == "3"
    summary = pd.read_csv(run / "metrics" / "summary.csv", index_col=0)
    metrics = logged.data.metrics
    assert metrics["cnn.log_loss"] == pytest.approx(summary.loc["cnn", "log_loss"])
    verdict = json.loads((run / "verdict.json").read_text())
    for comparison in verdict["comparisons"]:
        assert metrics[f"beats.{comparison['baseline']}"] == float(comparison["beats"])
    assert logged.data.tags["niftycnn.command"] == "run"
    assert logged.data.tags["niftycnn.run_dir"] == str(run.resolve())
    artefacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"report.html", "report.md", "verdict.json", "metrics"} <= artefacts
    tables = {a.path for a in client.list_artifacts(run_id, "metrics")}
    assert "metrics/summary.csv" in tables and "metrics/comparison.csv" in tables
    local = client.download_artifacts(run_id, "verdict.json", str(tmp_path))
    assert json.loads(open(local).read()) == verdict  # the run directory, unchanged


@pytest.mark.slow
def test_a_tracked_sweep_logs_each_point_as_a_nested_run(tmp_path):
    experiment = tmp_path / "sweep.toml"
    experiment.write_text(tiny(sweep={"filters": [2, 3], "kernel": [2], "depth": [1]}))
    uri = (tmp_path / "store").as_uri()
    status, out, err = _cli(
        "sweep", str(experiment), "--out", str(tmp_path), "--quiet", "--track", "mlflow",
        "--tracking-uri", uri,
    )  # fmt: skip
    assert status == 0, err
    run_id = out.strip().splitlines()[-1].removeprefix("mlflow: run ")
    client = tracking_client(mlflow, uri)
    parent = client.get_run(run_id)
    assert parent.data.tags["niftycnn.command"] == "sweep"
    assert "overfitting.pbo" in parent.data.metrics
    children = client.search_runs([parent.info.experiment_id], f"tags.`{PARENT_TAG}` = '{run_id}'")
    sweep = pd.read_csv(next(tmp_path.glob("sweep/*/sweep.csv")))
    assert sorted(c.info.run_name for c in children) == sorted(sweep.point)
    for child in children:
        row = sweep.set_index("point").to_dict("index")[child.info.run_name]
        assert child.data.params["filters"] == str(row["filters"])
        assert child.data.metrics["test_loss"] == pytest.approx(row["test_loss"])


def test_runs_lists_local_runs_and_compares_two_configs(quick_run: FinishedRun, tmp_path):
    run = quick_run.copy(tmp_path)
    other = run.parent / "edited"
    other.mkdir()
    config = (run / "config.toml").read_text().replace("epochs = 1\n", "epochs = 2\n")
    (other / "config.toml").write_text(config)
    status, out, _ = _cli("runs", str(tmp_path / "reports"))
    assert status == 0
    header, *lines = out.strip().splitlines()
    assert header.split()[:4] == ["run", "experiment", "command", "status"]
    mine = next(line for line in lines if line.split()[0] == f"tiny/{run.name}")
    log_loss = pd.read_csv(run / "metrics" / "summary.csv", index_col=0).loc["cnn", "log_loss"]
    assert "finished" in mine and f"{log_loss:.4g}" in mine
    assert any(line.split()[:4] == ["tiny/edited", "tiny", "run", "incomplete"] for line in lines)
    status, out, _ = _cli("runs", "--compare", str(run), str(other))
    assert status == 0
    assert out.strip().splitlines()[1:] == ["[train] epochs: 1 -> 2"]
