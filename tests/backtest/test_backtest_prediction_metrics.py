"""Prediction scores agree with scikit-learn and scipy where they have them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn import metrics as skm

from niftycnn.backtest import evaluate
from niftycnn.backtest.prediction_metrics import (
    classification_scores,
    confusion,
    regression_scores,
)
from niftycnn.config import BacktestConfig


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_scores_match_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    y_true = rng.choice([0, 1, 2, 3], size=n)  # class 4 absent from the truth
    proba = rng.dirichlet(np.ones(5) * 2, size=n)
    y_pred = proba.argmax(axis=1)
    ours = classification_scores(y_true, y_pred, 5, proba)
    assert math.isclose(ours["accuracy"], skm.accuracy_score(y_true, y_pred))
    assert math.isclose(ours["balanced_accuracy"], skm.balanced_accuracy_score(y_true, y_pred))
    assert math.isclose(
        ours["macro_f1"], skm.f1_score(y_true, y_pred, average="macro", zero_division=0)
    )
    assert math.isclose(ours["log_loss"], skm.log_loss(y_true, proba, labels=range(5)))
    onehot = np.eye(5)[y_true]
    assert math.isclose(ours["brier"], np.mean(np.sum((proba - onehot) ** 2, axis=1)))
    np.testing.assert_array_equal(
        confusion(y_true, y_pred, 5), skm.confusion_matrix(y_true, y_pred, labels=range(5))
    )


def test_regression_scores_by_hand_and_against_scipy() -> None:
    y = np.array([0.01, -0.02, 0.03, 0.0, -0.01])
    y_hat = np.array([0.02, -0.01, 0.01, 0.01, 0.0])
    s = regression_scores(y, y_hat, train_mean=0.005)
    err = y - y_hat
    assert math.isclose(s["rmse"], math.sqrt(np.mean(err**2)))
    assert math.isclose(s["mae"], 0.012)  # |err| = .01, .01, .02, .01, .01
    assert math.isclose(s["r2_oos"], 1 - np.sum(err**2) / np.sum((y - 0.005) ** 2))
    assert math.isclose(s["ic"], spearmanr(y, y_hat).statistic)
    assert math.isclose(s["directional_accuracy"], 3 / 4)  # y=0 excluded; -0.01 vs 0 misses


def test_r2_oos_of_a_classifier_uses_each_folds_training_mean() -> None:
    """A classifier's r_pred (probabilities x class means) gets an OOS R^2 against the
    training mean its own fold carried into the table (was always NaN)."""
    dates = pd.bdate_range("2024-01-01", periods=6, name="date")
    y_return = np.array([0.02, -0.01, 0.00, 0.03, -0.02, 0.01])
    r_pred = np.array([0.01, 0.00, 0.01, 0.02, -0.01, 0.00])
    fold = np.array([0, 0, 0, 1, 1, 1])
    train_mean = np.where(fold == 0, 0.005, -0.004)
    preds = pd.DataFrame(
        {
            "model": "cnn",
            "task": "classification",
            "fold": fold,
            "n_seeds": 1,
            "train_start": dates[0],
            "train_end": dates[0],
            "label_end": dates + pd.Timedelta(days=1),
            "horizon": 1,
            "y_true": [2, 0, 1, 2, 0, 1],
            "y_return": y_return,
            "y_pred": [2, 1, 2, 2, 0, 1],
            "r_pred": r_pred,
            "train_mean": train_mean,
            "best_epoch": 0.0,
            **{f"proba_{k}": 1 / 3 for k in range(3)},
        },
        index=dates,
    )
    close = pd.Series(100.0 * np.exp(np.cumsum([0.0, *y_return])), index=pd.bdate_range(
        "2024-01-01", periods=7, name="date"))  # fmt: skip
    out = evaluate(preds, close, BacktestConfig(holding="daily"), significance=False)
    # by hand: SSE = 1e-4 * (1 + 1 + 1 + 1 + 1 + 1) = 6e-4; SST about the fold means:
    # fold 0: .015^2 + .015^2 + .005^2 = 4.75e-4; fold 1: .034^2 + .016^2 + .014^2 = 1.608e-3
    expected = 1.0 - 6e-4 / (4.75e-4 + 1.608e-3)
    assert out.metrics.loc["cnn", "r2_oos"] == pytest.approx(expected, rel=1e-12)
