"""On the real NIFTY history: the machinery tells a no-skill model from a leaky one."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from niftycnn.backtest import evaluate
from niftycnn.config import BacktestConfig
from niftycnn.errors import BacktestError

pytestmark = pytest.mark.real_data

# resampling of these tests (seed 11); the library defaults were no costs, daily holding
SIG = {"bootstrap": 400, "permutations": 300, "cost_bps": 0.0, "slippage_bps": 0.0}
REG = "regression"


def no_class(rows: pd.DataFrame) -> np.ndarray:
    return np.full(len(rows), -1)


@pytest.fixture(scope="module")
def labels(real_close: pd.Series, pb: SimpleNamespace) -> pd.DataFrame:
    return pb.label_frame(real_close)


def test_random_predictions_show_no_skill(
    labels: pd.DataFrame, real_close: pd.Series, pb: SimpleNamespace
) -> None:
    preds = pb.random_model(labels, seed=2024)
    out = evaluate(preds, real_close, BacktestConfig(**{**SIG, "holding": "daily"}), seed=11)
    row = out.significance.loc["cnn"]
    assert row["sharpe_low"] < 0 < row["sharpe_high"]
    assert row["sharpe_p"] > 0.05
    assert row["accuracy_p"] > 0.05
    assert row["ic_p"] > 0.05


def test_leaky_predictions_are_flagged_as_significant(
    labels: pd.DataFrame, real_close: pd.Series, pb: SimpleNamespace
) -> None:
    preds = pb.leaky_model(labels)
    out = evaluate(
        preds, real_close, BacktestConfig(**{**SIG, "holding": "expiry", "cost_bps": 5.0}), seed=11
    )
    row = out.significance.loc["cnn"]
    assert row["sharpe_low"] > 0
    assert row["sharpe_p"] < 0.01
    assert row["accuracy_p"] < 0.01
    assert row["ic_p"] < 0.01
    assert out.metrics.loc["cnn", "accuracy"] == 1.0


def test_evaluate_tables_cover_every_model_and_the_benchmark(
    labels: pd.DataFrame, real_close: pd.Series, pb: SimpleNamespace
) -> None:
    lab = labels.iloc[-800:]
    rng = np.random.default_rng(0)
    mean_rows, train_means = [], {}
    for fold, rows in lab.groupby("fold"):
        m = float(labels.loc[labels["fold"] < fold, "y_return"].mean())
        train_means[fold] = m
        mean_rows.append(
            pb.with_model(
                rows, "mean", np.full(len(rows), -1), np.full(len(rows), m), None, "regression"
            )
        )
    preds = pd.concat(
        [
            pb.leaky_model(lab),
            pb.random_model(lab, seed=1, name="logistic"),
            pb.with_model(
                lab,
                "ridge",
                np.full(len(lab), -1),
                rng.normal(0, 0.01, len(lab)),
                None,
                "regression",
            ),
            *mean_rows,
        ]
    )
    # every row carries its fold's training mean: the OOS R^2 benchmark
    preds["train_mean"] = preds["fold"].map(train_means)
    out = evaluate(
        preds,
        real_close,
        BacktestConfig(**{**SIG, "holding": "daily", "bootstrap": 100, "permutations": 100}),
    )
    assert set(out.metrics.index) == {"cnn", "logistic", "ridge", "mean", "buy_and_hold"}
    assert out.metrics.loc["mean", "r2_oos"] == pytest.approx(0.0, abs=0.05)
    assert out.metrics.loc["cnn", "r2_oos"] == 1.0
    assert np.isnan(out.metrics.loc["ridge", "accuracy"])
    assert set(out.equity.columns) == set(out.metrics.index)
    assert len(out.confusion) == 4 * 25
    assert set(out.per_fold["model"]) == {"cnn", "logistic", "ridge", "mean"}
    assert {"buy_and_hold", "cnn"} <= set(out.per_year["model"])
    dm = out.diebold_mariano.set_index("baseline")
    assert dm.loc["logistic", "loss"] == "log_loss"
    assert dm.loc["ridge", "loss"] == "squared_error"
    assert dm.loc["logistic", "p_model_better"] < 0.01


def test_evaluate_names_a_missing_column(real_close: pd.Series, pb: SimpleNamespace) -> None:
    preds = pb.leaky_model(pb.label_frame(real_close.iloc[:200])).drop(columns="horizon")
    with pytest.raises(BacktestError, match="'horizon'"):
        evaluate(preds, real_close)
