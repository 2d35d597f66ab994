"""run_walkforward: the truncation (anti-leakage) invariant, resume, the output contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import niftycnn.walkforward.run as run_mod
from niftycnn.config import TrainConfig
from niftycnn.errors import RunDirError
from niftycnn.models import preset
from niftycnn.rundir import RunLayout
from niftycnn.schema import prediction_columns
from niftycnn.walkforward.baselines import Momentum
from niftycnn.walkforward.run import run_walkforward
from niftycnn.walkforward.splits import WalkForwardSplit
from niftycnn.windows import QuantileThresholds
from tests.walkforward.market import dataset, market, truncated

BASELINES = ("majority", "ridge", "momentum", "fixed_kernels")
ALL = ("majority", "logistic", *BASELINES[1:])


@pytest.fixture(scope="module")
def frame():
    return market(580, seed=5)


@pytest.fixture(scope="module")
def ds(frame):
    return dataset(frame)


def _run(
    ds,
    engine="batched",
    out_dir=None,
    chunk=None,
    head="classification",
    baselines=BASELINES,
    refit="expiry",
    epochs=3,
):
    cfg = TrainConfig(
        epochs=epochs,
        seeds=2,
        patience=2,
        engine=engine,
        chunk_folds=chunk,
        class_weights="balanced",
    )
    sp = WalkForwardSplit(min_train_size=300, refit=refit, validation=0.2, embargo=2)
    return run_walkforward(
        ds,
        preset("q10", head=head),
        sp,
        cfg,
        labeler=QuantileThresholds(),
        baselines=baselines,
        out=None if out_dir is None else RunLayout(out_dir),
        progress=False,
    )


LABEL_COLUMNS = ["y_true", "y_return", "label_end", "horizon"]


@pytest.mark.parametrize(
    ("engine", "target"),
    [
        ("batched", "expiry"),
        ("sequential", "expiry"),
        ("batched", "horizon"),
        ("batched", "triple_barrier"),
    ],
)
def test_truncating_future_data_leaves_past_predictions_unchanged(frame, engine, target):
    full_ds = dataset(frame, target)
    cut = full_ds.end_dates[470]
    kw = {"chunk": 3, "refit": 25, "epochs": 2, "baselines": ("ridge", "momentum")}
    full = _run(full_ds, engine, **kw)
    part = _run(truncated(frame, cut, target), engine, **kw)
    before = full[full.index <= cut]
    # the fold whose test block straddles the cut predicts the same rows; its labels may
    # change (a label that ends beyond the cut is unknown in the truncated data; a triple
    # barrier's end is then the vertical barrier), nothing else
    cols = [c for c in before.columns if c not in LABEL_COLUMNS]
    pd.testing.assert_frame_equal(part[cols], before[cols], check_exact=True)
    known = before.y_true.to_numpy() >= 0
    cut_known = part.y_true.to_numpy() >= 0
    pd.testing.assert_frame_equal(
        part.loc[cut_known, LABEL_COLUMNS], before.loc[cut_known, LABEL_COLUMNS], check_exact=True
    )
    assert (part.label_end[~cut_known] > cut).all()
    assert (part.label_end[~cut_known] >= before.label_end[~cut_known]).all()
    assert known.sum() >= cut_known.sum() > 0


def test_interrupted_run_resumes_to_identical_results(ds, tmp_path, monkeypatch):
    fresh = _run(ds, out_dir=tmp_path / "a", chunk=3, refit=30)
    calls = []

    def boom(fold: int) -> None:
        calls.append(fold)
        if len(calls) == 4:
            raise KeyboardInterrupt

    monkeypatch.setattr(run_mod, "_on_fold_written", boom)
    with pytest.raises(KeyboardInterrupt):
        _run(ds, out_dir=tmp_path / "b", chunk=3, refit=30)
    monkeypatch.setattr(run_mod, "_on_fold_written", lambda fold: calls.append(-1))
    n_before = len(calls)
    resumed = _run(ds, out_dir=tmp_path / "b", chunk=3, refit=30)
    n_folds = fresh.fold.nunique()
    assert len(calls) - n_before == n_folds - 4  # done folds were loaded, not retrained
    pd.testing.assert_frame_equal(resumed, fresh, check_exact=True)
    with pytest.raises(RunDirError, match="other settings"):
        run_walkforward(
            ds,
            preset("q10"),
            WalkForwardSplit(min_train_size=200),
            TrainConfig(epochs=1),
            baselines=("majority",),
            out=RunLayout(tmp_path / "b"),
            progress=False,
        )


def test_predictions_table_contract_and_artefacts(ds, tmp_path):
    df = _run(ds, out_dir=tmp_path, baselines=ALL, refit=40)
    assert list(df.columns) == prediction_columns(5)
    assert df.index.name == "date"
    assert set(df.model) == {"cnn", "majority", "logistic", "ridge", "momentum", "fixed_kernels"}
    cnn = df[df.model == "cnn"]
    p = cnn[[f"proba_{k}" for k in range(5)]].to_numpy()
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-9)
    assert (cnn.y_pred == p.argmax(1)).all() and (cnn.n_seeds == 2).all()
    assert df[df.model == "ridge"].task.eq("regression").all()
    # every test date appears once per model; folds follow each other
    assert not cnn.index.duplicated().any() and cnn.fold.is_monotonic_increasing
    assert (cnn.train_end < cnn.index).all()
    fold0 = tmp_path / "folds" / "fold_0000"
    w = np.load(fold0 / "first_layer.npy")
    assert w.shape == (2, 16, 5, 3)
    states = torch.load(fold0 / "state.pt", weights_only=True)
    first_conv = next(v for v in states["cnn"][0].values() if v.ndim == 3)
    assert len(states["cnn"]) == 2 and torch.equal(first_conv, torch.as_tensor(w[0]))
    curves = pd.read_csv(fold0 / "curves.csv")
    assert set(curves.columns) == {"model", "seed", "epoch", "train_loss", "val_loss"}
    # classification r_pred: probabilities times the fold's training class mean returns
    f0 = cnn[cnn.fold == 0]
    assert f0.r_pred.abs().max() < 0.05


def test_regression_run(ds):
    df = _run(ds, head="regression", baselines=("mean", "ridge", "momentum"), refit=60)
    assert set(df.model) == {"cnn", "mean", "ridge", "momentum"}
    cnn = df[df.model == "cnn"]
    assert cnn[[f"proba_{k}" for k in range(5)]].isna().all().all()
    assert cnn.r_pred.notna().all() and cnn.y_pred.between(0, 4).all()


def test_momentum_baseline_reads_the_window_return_sign():
    X = np.zeros((2, 5, 20), dtype=np.float32)
    X[0, 0, 0] = -0.05  # close_{t-19} below close_t: up-move
    X[1, 0, 0] = 0.05
    momentum = Momentum(close_channel=0).fit(X, np.array([0, 4]), np.array([-0.02, 0.02]), 5)
    proba, r = momentum.predict(X)
    assert proba is None and r.tolist() == [0.02, -0.02]


def test_warm_started_baselines_keep_truncation_and_resume_bit_for_bit(
    frame, tmp_path, monkeypatch
):
    # logistic starts every walk-forward fold from the previous fold's solution: a
    # truncated run and a resumed one (starting from the solution stored on disk) must
    # give the same bits as the full, uninterrupted run
    kw = {"chunk": 3, "refit": 25, "epochs": 1, "baselines": ("logistic",)}
    full_ds = dataset(frame)
    cut = full_ds.end_dates[470]
    full = _run(full_ds, out_dir=tmp_path / "a", **kw)
    part = _run(truncated(frame, cut), **kw)
    cols = [c for c in full.columns if c not in LABEL_COLUMNS]
    before = full[full.index <= cut]
    pd.testing.assert_frame_equal(part[cols], before[cols], check_exact=True)
    calls = []

    def boom(fold: int) -> None:
        calls.append(fold)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(run_mod, "_on_fold_written", boom)
    with pytest.raises(KeyboardInterrupt):
        _run(full_ds, out_dir=tmp_path / "b", **kw)
    monkeypatch.setattr(run_mod, "_on_fold_written", lambda fold: None)
    resumed = _run(full_ds, out_dir=tmp_path / "b", **kw)
    pd.testing.assert_frame_equal(resumed, full, check_exact=True)
    stored = run_mod.stored_solutions(RunLayout(tmp_path / "b").fold(1))
    assert set(stored) == {"logistic"} and stored["logistic"]["coef"].dtype == np.float64
