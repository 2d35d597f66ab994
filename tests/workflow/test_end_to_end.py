"""End to end through the CLI: a reduced synthetic experiment, its run directory, the
report, re-rendering from files alone, resuming an interrupted run, reloading weights,
and a two-point sweep."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import niftycnn.walkforward.run as walkforward_run
from niftycnn.api import open_run
from niftycnn.cli import main
from niftycnn.windows import build_dataset

EXPERIMENT = '''
name = "tiny_synthetic"
description = """Reduced synthetic run for the end-to-end test <b>&</b>.
Its description spans two lines and has "quotes"."""
seed = 3

[data]
source = "synthetic"

[data.synthetic]
n_days = 640
start = "2019-03-01"
pattern = "momentum"
oracle_sharpe = 2.0

[train]
epochs = 2
patience = 2
seeds = 2

[walkforward]
min_train = 380
refit = "every"
refit_every = 60
validation = 0.2

[baselines]
models = ["majority", "ridge", "momentum"]

[backtest]
bootstrap = 100
permutations = 100

[filters]
null_draws = 200
'''

SWEEP = """
[sweep]
filters = [4, 8]
kernel = [3]
depth = [1]
dropout = [0.0]
"""

RUN_FILES = [
    "config.toml",
    "data.json",
    "environment.json",
    "labels.csv",
    "architecture.csv",
    "splits.csv",
    "predictions.parquet",
    "manifest.json",
    "timings.json",
    "metrics/summary.csv",
    "metrics/comparison.csv",
    "metrics/significance.csv",
    "metrics/per_year.csv",
    "metrics/equity.csv",
    "filters/summary.json",
    "filters/channel_summary.csv",
    "filters/filters_table.parquet",
    "filters/kernels_summary.csv",
    "filters/kernels.npz",
    "filters/shuffled_null.pt",
    "verdict.json",
    "folds/fold_0000/state.pt",
    "folds/fold_0000/first_layer.npy",
    "report.html",
    "report.md",
]
SECTIONS = [
    "Verdict",
    "Data provenance and checks",
    "Labels",
    "Architecture",
    "Walk-forward scheme",
    "Metrics: CNN vs baselines",
    "Learned first-layer filters",
]


def _run_dir(out: str) -> Path:
    line = next(x for x in out.splitlines() if x.startswith(("run directory:", "sweep directory:")))
    return Path(line.split(": ", 1)[1])


@pytest.fixture(scope="module")
def experiment_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exp") / "tiny.toml"
    path.write_text(EXPERIMENT)
    return path


@pytest.fixture(scope="module")
def finished_run(experiment_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    buffer = io.StringIO()  # capsys is function-scoped
    with contextlib.redirect_stdout(buffer):
        assert main(["run", str(experiment_file), "--out", str(out), "--quiet"]) == 0
    return _run_dir(buffer.getvalue())


def test_run_directory_holds_every_artefact(finished_run: Path) -> None:
    missing = [f for f in RUN_FILES if not (finished_run / f).is_file()]
    assert not missing
    assert finished_run.parent.name == "tiny_synthetic"
    predictions = pd.read_parquet(finished_run / "predictions.parquet")
    # the oracle (the planted rule) joins every planted synthetic run
    assert set(predictions.model) == {"cnn", "majority", "ridge", "momentum", "oracle"}
    splits = pd.read_csv(finished_run / "splits.csv", parse_dates=["test_start"])
    # out-of-sample only: every prediction is dated inside a test block, after training
    assert (predictions.index >= splits.test_start.min()).all()
    assert (predictions.train_end < predictions.index).all()
    comparison = pd.read_csv(finished_run / "metrics" / "comparison.csv")
    assert set(comparison.baseline) == {"majority", "ridge", "momentum", "oracle"}
    assert comparison.p_value.between(0, 1).all()


def test_verdict_json_has_its_documented_fields(finished_run: Path) -> None:
    verdict = json.loads((finished_run / "verdict.json").read_text())
    assert open_run(finished_run).verdict == verdict
    # one comparison per baseline; the oracle is reported apart, not as a competitor
    assert [c["baseline"] for c in verdict["comparisons"]] == ["majority", "ridge", "momentum"]
    for c in verdict["comparisons"]:
        assert set(c) == {"baseline", "metric", "cnn", "baseline_value", "difference", "ci",
                          "p", "beats"}  # fmt: skip
        low, high = c["ci"]
        assert low <= c["difference"] <= high
        assert c["beats"] == (low > 0 and c["p"] < 0.05)
    (entry,) = verdict["filters"]
    assert entry["channel"] == "close"
    for level in ("first_layer", "effective_kernel"):
        assert entry[level]["pattern"] in ("level", "momentum", "curvature", "neither")
        assert 0 < entry[level]["p"] <= 1 and entry[level]["span"] >= 1
    assert entry["effective_kernel"]["view"] == "price"
    oracle = verdict["oracle"]
    assert (oracle["pattern"], oracle["channel"], oracle["lookback"]) == ("momentum", "close", 5)
    assert oracle["oracle_sharpe"] == pytest.approx(2.0, abs=0.1)
    assert oracle["gain"] == pytest.approx(oracle["majority_log_loss"] - oracle["log_loss"])
    assert "cnn" in oracle["captured"]  # the CNN's share of the oracle's edge
    assert 0.10 < verdict["market"]["annual_volatility"] < 0.30
    html = (finished_run / "report.html").read_text(encoding="utf-8")
    assert "Planted: momentum over the last 5 days of close" in html
    assert "Whole-network effective kernels" in html


def test_report_has_every_section_and_escapes_user_text(finished_run: Path) -> None:
    html = (finished_run / "report.html").read_text(encoding="utf-8")
    markdown = (finished_run / "report.md").read_text(encoding="utf-8")
    for title in SECTIONS:
        assert f">{title}</h2>" in html, title
        assert f"## {title}" in markdown, title
    assert "Reproduce: seed 3" in html
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in html and "<b>&</b>" not in html
    assert "<script" not in html.lower()


def test_report_re_renders_identically_from_files_alone(finished_run: Path) -> None:
    before = {p: (finished_run / p).read_bytes() for p in ("report.html", "report.md")}
    (finished_run / "report.html").unlink()
    (finished_run / "report.md").unlink()
    assert main(["report", str(finished_run)]) == 0
    for name, content in before.items():
        assert (finished_run / name).read_bytes() == content, name


def test_saved_weights_reproduce_the_stored_predictions(finished_run: Path) -> None:
    predictions = pd.read_parquet(finished_run / "predictions.parquet")
    fold = predictions[(predictions.model == "cnn") & (predictions.fold == 1)]
    from niftycnn.data import synthetic_ohlcv

    frame = synthetic_ohlcv(640, 3, start="2019-03-01", pattern="momentum")
    ds = build_dataset(frame)
    X = torch.as_tensor(ds.X[np.asarray(ds.end_dates.isin(fold.index))])
    networks = open_run(finished_run).models(1)
    assert len(networks) == 2
    with torch.no_grad():
        proba = torch.stack([torch.softmax(n(X), dim=1) for n in networks]).mean(0).numpy()
    stored = fold[[f"proba_{k}" for k in range(5)]].to_numpy()
    np.testing.assert_allclose(proba, stored, atol=1e-5)


def test_interrupted_run_resumes_to_identical_results(
    finished_run: Path, experiment_file: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    done: list[int] = []

    def interrupt_after_two(fold: int) -> None:
        done.append(fold)
        if len(done) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(walkforward_run, "_on_fold_written", interrupt_after_two)
    monkeypatch.setattr(walkforward_run, "MEMBERS_PER_CHUNK", 2)  # one fold per chunk
    # the CLI reports the interrupt in one line and exits non-zero
    assert main(["run", str(experiment_file), "--out", str(tmp_path), "--quiet"]) == 130
    run = next((tmp_path / "tiny_synthetic").iterdir())
    assert not (run / "report.html").exists()
    capsys.readouterr()
    assert main(["run", "--resume", str(run), "--quiet"]) == 0
    assert _run_dir(capsys.readouterr().out) == run
    resumed = pd.read_parquet(run / "predictions.parquet")
    fresh = pd.read_parquet(finished_run / "predictions.parquet")
    pd.testing.assert_frame_equal(resumed, fresh, check_exact=True)


def test_filters_command_reanalyses_a_run(finished_run: Path, capsys) -> None:
    assert main(["filters", str(finished_run)]) == 0
    out = capsys.readouterr().out
    assert "close:" in out and ("momentum-like" in out or "neither" in out or "curvature" in out)


def test_sweep_reports_train_and_test_error_per_point(
    experiment_file: Path, tmp_path: Path, capsys
) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text(experiment_file.read_text() + SWEEP)
    assert main(["sweep", str(path), "--out", str(tmp_path), "--quiet"]) == 0
    run = _run_dir(capsys.readouterr().out)
    sweep = pd.read_csv(run / "sweep.csv")
    assert list(sweep.point) == ["f4_k3_d1_p0", "f8_k3_d1_p0"]
    # conv 5->F k3 + dense F->5: F*(3*5+1) + 5*F + 5 parameters
    assert list(sweep.params) == [4 * 16 + 25, 8 * 16 + 45]
    assert np.isfinite(sweep[["train_loss", "val_loss", "test_loss"]].to_numpy()).all()
    assert ">Bias-variance sweep</h2>" in (run / "report.html").read_text(encoding="utf-8")


def _tiny_run(tmp_path: Path, extra: str, walkforward: str | None = None) -> Path:
    """A one-seed, one-epoch version of the tiny experiment, with ``extra`` tables (and
    another ``[walkforward]`` table body)."""
    base = EXPERIMENT.replace("epochs = 2", "epochs = 1").replace("seeds = 2", "seeds = 1")
    base = base.replace('[baselines]\nmodels = ["majority", "ridge", "momentum"]\n', "")
    if walkforward is not None:
        start = base.index("[walkforward]\n") + len("[walkforward]\n")
        base = base[:start] + walkforward + base[base.index("\n[", start) :]
    path = tmp_path / "variant.toml"
    path.write_text(base + extra)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["run", str(path), "--out", str(tmp_path), "--quiet"]) == 0
    return _run_dir(buffer.getvalue())


def test_three_class_labels_run_end_to_end(tmp_path: Path) -> None:
    run = _tiny_run(tmp_path, "\n[labels]\nclasses = 3\n\n[model]\nn_classes = 3\n")
    labels = pd.read_csv(run / "labels.csv")
    assert list(labels.name) == ["Down", "Flat", "Up"] and labels["count"].gt(0).all()
    predictions = pd.read_parquet(run / "predictions.parquet")
    assert not any(c.startswith("proba_3") for c in predictions.columns)
    cnn = predictions[predictions.model == "cnn"]
    np.testing.assert_allclose(cnn[["proba_0", "proba_1", "proba_2"]].sum(axis=1), 1.0, atol=1e-9)
    assert set(cnn.y_true.unique()) <= {-1, 0, 1, 2}
    confusion = pd.read_csv(run / "metrics" / "confusion.csv", index_col=0)
    assert list(confusion.index) == ["Down", "Flat", "Up"]
    summary = pd.read_csv(run / "metrics" / "summary.csv", index_col=0)
    assert np.isfinite(summary.loc["cnn", ["log_loss", "accuracy", "r2_oos"]]).all()
    assert ">Verdict</h2>" in (run / "report.html").read_text(encoding="utf-8")


def test_two_feature_windows_run_with_fixed_kernels(tmp_path: Path) -> None:
    run = _tiny_run(
        tmp_path,
        '\n[windows]\nfeatures = ["close", "volume"]\n\n'
        '[baselines]\nmodels = ["majority", "fixed_kernels"]\n',
    )
    predictions = pd.read_parquet(run / "predictions.parquet")
    assert set(predictions.model) == {"cnn", "majority", "fixed_kernels", "oracle"}
    states = torch.load(run / "folds" / "fold_0000" / "state.pt", weights_only=True)
    gram = states["fixed_kernels"][0]["0.weight"]
    assert tuple(gram.shape) == (6, 1, 3)  # 2 channels x (level, momentum, curvature)
    assert np.load(run / "folds" / "fold_0000" / "first_layer.npy").shape[2] == 2


def test_cpcv_run_backtests_every_path_and_says_what_cpcv_is(tmp_path: Path) -> None:
    run = _tiny_run(
        tmp_path,
        '\n[baselines]\nmodels = ["majority", "ridge"]\n',
        walkforward='scheme = "cpcv"\ngroups = 4\ntest_groups = 2\nembargo = 2\nvalidation = 0.2\n',
    )
    predictions = pd.read_parquet(run / "predictions.parquet")
    assert sorted(predictions.fold.unique()) == list(range(6))  # C(4, 2) splits
    assert sorted(predictions.path.unique()) == [0, 1, 2]  # 2/4 x 6 paths
    n = predictions[(predictions.model == "cnn") & (predictions.path == 0)].shape[0]
    for (_model, _path), rows in predictions.groupby(["model", "path"]):
        assert len(rows) == n and not rows.index.duplicated().any()  # each date once a path
    paths = pd.read_csv(run / "metrics" / "paths.csv")  # cnn, 2 baselines, the oracle
    assert len(paths) == 4 * 3 and np.isfinite(paths.sharpe).all()
    splits = pd.read_csv(run / "splits.csv")
    assert set(splits.path) == {0, 1, 2} and splits.fold.nunique() == 6
    verdict = open_run(run).verdict
    assert verdict["scheme"] == "cpcv" and len(verdict["paths"]) == 12
    assert {row["null"] for row in verdict["multiple"]} == {
        "every baseline is at least as good as the CNN",
        "no baseline is better than the CNN",
    }
    html = (run / "report.html").read_text(encoding="utf-8")
    assert ">Backtest paths (CPCV)</h2>" in html
    assert "CPCV trains on data after the test block" in html
    assert "Hansen&#x27;s SPA" in html or "Hansen's SPA" in html


def test_next_day_direction_run_reports_accuracy_against_majority_and_half(
    tmp_path: Path,
) -> None:
    run = _tiny_run(
        tmp_path,
        '\n[labels]\ntarget = "horizon"\nhorizon = 1\nclasses = 2\nmode = "fixed"\n'
        "\n[model]\nn_classes = 2\n",
    )
    predictions = pd.read_parquet(run / "predictions.parquet")
    cnn = predictions[predictions.model == "cnn"]
    sessions = pd.DatetimeIndex(pd.read_parquet(run / "predictions.parquet").index.unique())
    inside = cnn[cnn.y_true >= 0]
    assert (inside.horizon == 1).all()
    # the label ends on the next session of the data
    nxt = sessions.searchsorted(inside.index, side="right")
    known = nxt < len(sessions)
    assert (inside.label_end[known] == sessions[nxt[known]]).all()
    assert set(pd.read_csv(run / "labels.csv").name) == {"Down", "Up"}
    accuracy = pd.read_csv(run / "metrics" / "accuracy.csv").iloc[0]
    assert accuracy.chance == 0.5 and accuracy.benchmark == "majority baseline"
    assert accuracy.accuracy_low <= accuracy.accuracy <= accuracy.accuracy_high
    assert open_run(run).verdict["accuracy"][0]["p_vs_chance"] == pytest.approx(
        accuracy.p_vs_chance
    )
    markdown = (run / "report.md").read_text(encoding="utf-8")
    assert "CNN accuracy" in markdown and "against 50 %" in markdown
