"""Prediction scores agree with scikit-learn and scipy where they have them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn import metrics as skm

from niftycnn.backtest.prediction_metrics import (
    classification_scores,
    confusion,
    regression_scores,
)


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_scores_match_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    y_true = rng.choice([0, 1, 2, 3], size=n)  # class 4 absent from the truth
    proba = rng.dirichlet(np.ones(5) * 2, size=n)
    y_pred = proba.argmax(axis=1)
    ours = classification_scores(y_true, y_pred, proba)
    assert math.isclose(ours["accuracy"], skm.accuracy_score(y_true, y_pred))
    assert math.isclose(ours["balanced_accuracy"], skm.balanced_accuracy_score(y_true, y_pred))
    assert math.isclose(
        ours["macro_f1"], skm.f1_score(y_true, y_pred, average="macro", zero_division=0)
    )
    assert math.isclose(ours["log_loss"], skm.log_loss(y_true, proba, labels=range(5)))
    onehot = np.eye(5)[y_true]
    assert math.isclose(ours["brier"], np.mean(np.sum((proba - onehot) ** 2, axis=1)))
    np.testing.assert_array_equal(
        confusion(y_true, y_pred), skm.confusion_matrix(y_true, y_pred, labels=range(5))
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
