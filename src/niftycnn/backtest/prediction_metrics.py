"""How good the predictions are, before any trading: classification and regression scores.

Only labelled rows count (y_true >= 0 for classes, finite y_return for returns). With K
classes the labels are 0..K-1 always (a class absent from a fold still has a row and a
column in the confusion matrix). The scores are scikit-learn's and scipy's:

Classification (y: true class, ŷ: predicted class, p_ik: predicted probability):
- accuracy = mean(ŷ_i == y_i) (``accuracy_score``)
- balanced accuracy = mean over classes present in y of recall_k
  (``balanced_accuracy_score``, Brodersen et al. 2010)
- macro F1 = mean over classes present in y or ŷ of F1_k = 2 TP / (2 TP + FP + FN)
  (``f1_score(average="macro", zero_division=0)``)
- log loss = -mean_i log(clip(p_{i,y_i}, eps, 1)), eps = float64 machine epsilon
  (``log_loss``; probabilities are used as given: rows should sum to 1)
- Brier score (multiclass, Brier 1950) = mean_i sum_k (p_ik - 1[y_i = k])^2, in [0, 2]
  (``brier_score_loss``)
- confusion matrix C[j, k] = #{i: y_i = j, ŷ_i = k} (rows true, columns predicted)

Regression (y: realised label return, ŷ: r_pred):
- RMSE = sqrt(mean (y - ŷ)^2), MAE = mean |y - ŷ|
- out-of-sample R^2 = 1 - sum (y - ŷ)^2 / sum (y - ȳ_train(fold))^2 (Campbell & Thompson
  2008): the benchmark is the *training* mean of the fold that made the prediction (the
  table's ``train_mean``), not the test mean, so R^2 < 0 means worse than the naive
  historical mean
- information coefficient (IC) = Spearman rank correlation of ŷ and y
  (``scipy.stats.spearmanr``, average ranks for ties)
- directional accuracy = mean(sign ŷ == sign y) over rows with y != 0
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import spearmanr
from sklearn import metrics

CLASSIFICATION_METRICS: tuple[str, ...] = (
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "log_loss",
    "brier",
)
REGRESSION_METRICS: tuple[str, ...] = ("rmse", "mae", "r2_oos", "ic", "directional_accuracy")


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """K x K confusion matrix, rows true class, columns predicted class (predictions
    outside 0..K-1, e.g. -1 for "undefined", are dropped)."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    ok = (y_pred >= 0) & (y_pred < n_classes) & (y_true >= 0) & (y_true < n_classes)
    if not ok.any():  # e.g. a regression model with no class defined
        return np.zeros((n_classes, n_classes), dtype=np.int64)
    return metrics.confusion_matrix(y_true[ok], y_pred[ok], labels=np.arange(n_classes))


def classification_scores(
    y_true: np.ndarray, y_pred: np.ndarray, n_classes: int, proba: np.ndarray | None = None
) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro F1, log loss and Brier score (module docstring)."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    nan = float("nan")
    if len(y_true) == 0:
        return dict.fromkeys(CLASSIFICATION_METRICS, nan)
    with warnings.catch_warnings():  # "y_pred contains classes not in y_true": by design
        warnings.simplefilter("ignore", UserWarning)
        balanced = float(metrics.balanced_accuracy_score(y_true, y_pred))
    scores = {
        "accuracy": float(metrics.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": balanced,
        "macro_f1": float(metrics.f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "log_loss": nan,
        "brier": nan,
    }
    if proba is not None and np.all(np.isfinite(proba)):
        labels = np.arange(n_classes)
        scores["log_loss"] = float(metrics.log_loss(y_true, proba, labels=labels))
        scores["brier"] = float(metrics.brier_score_loss(y_true, proba, labels=labels))
    return scores


def spearman_ic(pred: np.ndarray, outcome: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties); NaN if either is constant."""
    if len(pred) < 2 or np.all(pred == pred[0]) or np.all(outcome == outcome[0]):
        return float("nan")
    return float(spearmanr(pred, outcome).statistic)


def regression_scores(
    y: np.ndarray, y_hat: np.ndarray, train_mean: np.ndarray | float | None = None
) -> dict[str, float]:
    """RMSE, MAE, OOS R^2 against ``train_mean`` (per row or scalar), IC, directional acc."""
    y, y_hat = np.asarray(y, dtype=float), np.asarray(y_hat, dtype=float)
    ok = np.isfinite(y) & np.isfinite(y_hat)
    nan = float("nan")
    if not ok.any():
        return dict.fromkeys(REGRESSION_METRICS, nan)
    err = y[ok] - y_hat[ok]
    r2 = nan
    if train_mean is not None:
        bench = np.broadcast_to(np.asarray(train_mean, dtype=float), y.shape)[ok]
        den = np.sum((y[ok] - bench) ** 2)
        if np.all(np.isfinite(bench)) and den > 0:
            r2 = float(1.0 - np.sum(err**2) / den)
    nz = ok & (y != 0)
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "r2_oos": r2,
        "ic": spearman_ic(y_hat[ok], y[ok]),
        "directional_accuracy": float(np.mean(np.sign(y_hat[nz]) == np.sign(y[nz])))
        if nz.any()
        else nan,
    }
