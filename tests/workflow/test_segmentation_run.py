"""A per-day (segmentation) experiment through the command line's path: the run
directory's files agree with each other and with the task's generator, and no day class
reads a day after its window."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import niftycnn
from niftycnn.cli import main
from niftycnn.errors import ConfigError, RunDirError
from niftycnn.report import render_report
from niftycnn.rundir import RunLayout, read_json
from niftycnn.schema import segment_columns
from niftycnn.segmentation import iou, planted_shapes
from niftycnn.workflow.run import resume_run
from niftycnn.workflow.segmentation import plan_segmentation

TINY = {"train": {"epochs": 2, "seeds": 2}}


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_planted_shapes_experiment_runs_end_to_end_and_its_files_agree(tmp_path: Path) -> None:
    body = Path("experiments/synthetic_segmentation.toml").read_text()
    body = body.replace("windows = 6000", "windows = 300").replace("epochs = 30", "epochs = 2")
    experiment = tmp_path / "seg.toml"
    experiment.write_text(body)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["run", str(experiment), "--out", str(tmp_path / "reports")]) == 0
    run = RunLayout(Path(out.getvalue().splitlines()[0].removeprefix("run directory: ")))
    segments = pd.read_parquet(run.segments)
    assert list(segments.columns) == segment_columns(2)
    # the last third of the 300 generated windows (seed 1), 20 days each, two models
    truth = planted_shapes(300, strength=2.5, widths=(5, 8), seed=1).mask[200:]
    assert len(segments) == 100 * 20 * 2 and segments["end_date"].isna().all()
    for model, rows in segments.groupby("model"):
        rows = rows.sort_values(["window", "day"])
        np.testing.assert_array_equal(rows["y_true"].to_numpy().reshape(100, 20), truth)
        proba = rows[["proba_0", "proba_1"]].to_numpy()
        np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)
        np.testing.assert_array_equal(rows["y_pred"], proba.argmax(1))
        pred = rows["y_pred"].to_numpy().reshape(100, 20)
        verdict = read_json(run.verdict)["segmentation"]
        assert verdict["models"][model]["iou"] == pytest.approx(iou(truth, pred))
        metrics = pd.read_csv(run.metric("segmentation")).set_index(["model", "name"])
        assert metrics.loc[(model, "shape"), "days"] == (truth == 1).sum()
    assert verdict["train_windows"] == 200 and verdict["test_windows"] == 100
    report = run.report_md.read_text()
    assert "figures/segmentation_masks.png" in report and "per\\_day\\_logistic: IoU" in report
    assert run.segment_masks.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    render_report(run.root)  # from the files alone, byte for byte
    assert run.report_md.read_text() == report
    with pytest.raises(RunDirError, match="no folds to resume"):
        resume_run(run.root)


def _trend_experiment(end: str | None = None) -> niftycnn.Experiment:
    return niftycnn.load_experiment("experiments/nifty_trend_regimes.toml").with_overrides(
        data={"source": "synthetic", "synthetic": {"n_days": 400}, "end": end}, **TINY
    )


def test_trend_regimes_read_no_day_after_their_window(tmp_path: Path) -> None:
    full = plan_segmentation(_trend_experiment())
    assert full.end_dates is not None
    cut = full.end_dates[250]
    truncated = plan_segmentation(_trend_experiment(str(cut.date())))
    n = len(truncated.X)
    assert n == 251  # the windows ending on or before the cut, the same windows
    np.testing.assert_array_equal(truncated.end_dates, full.end_dates[:n])
    np.testing.assert_array_equal(truncated.mask, full.mask[:n])  # bit for bit
    np.testing.assert_array_equal(truncated.X, full.X[:n])
    # overlapping daily windows: no training window shares a day with a test window
    assert full.train.max() + 19 < full.test.min()
    run = niftycnn.run(_trend_experiment(), out=tmp_path)
    verdict = read_json(RunLayout(run.root).verdict)["segmentation"]
    assert verdict["classes"] == ["down", "flat", "up"]
    assert set(verdict["models"]) == {"cnn", "per_day_logistic"}


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ({"model": {"head": "classification"}}, "set head = 'segmentation'"),
        ({"model": {"n_classes": 3}}, "has 2 day classes"),
        ({"baselines": {"models": ["majority"]}}, "drop \\[baselines\\]"),
        ({"segmentation": {"test": 0.999}}, "lower test"),
    ],
)
def test_a_per_day_experiment_that_cannot_run_is_refused_naming_the_key(tables, message) -> None:
    experiment = niftycnn.load_experiment("experiments/synthetic_segmentation.toml")
    with pytest.raises(ConfigError, match=message):
        plan_segmentation(experiment.with_overrides(**tables))
