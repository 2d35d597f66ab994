"""How good the predictions are, before any trading: classification and regression scores.

Only labelled rows count (y_true >= 0 for classes, finite y_return for returns).
K = 5 classes, labels 0..K-1 always (a class absent from a fold still has a row and a
column in the confusion matrix).

Classification (y: true class, ŷ: predicted class, p_ik: predicted probability):
- accuracy = mean(ŷ_i == y_i)
- balanced accuracy = mean over classes present in y of recall_k (scikit-learn's
  ``balanced_accuracy_score``, Brodersen et al. 2010)
- macro F1 = mean over classes present in y or ŷ of F1_k = 2 TP / (2 TP + FP + FN)
  (scikit-learn's ``f1_score(average="macro", zero_division=0)``)
- log loss = -mean_i log(clip(p_{i,y_i}, eps, 1)), eps = float64 machine epsilon
  (probabilities are used as given: rows should sum to 1)
- Brier score (multiclass, Brier 1950) = mean_i sum_k (p_ik - 1[y_i = k])^2, in [0, 2]
- confusion matrix C[j, k] = #{i: y_i = j, ŷ_i = k} (rows true, columns predicted)

Regression (y: realised log return to expiry, ŷ: r_pred):
- RMSE = sqrt(mean (y - ŷ)^2), MAE = mean |y - ŷ|
- out-of-sample R^2 = 1 - sum (y - ŷ)^2 / sum (y - ȳ_train(fold))^2 (Campbell & Thompson
  2008): the benchmark is the *training* mean of the fold that made the prediction, not
  the test mean, so R^2 < 0 means worse than the naive historical mean
- information coefficient (IC) = Spearman rank correlation of ŷ and y (average ranks)
- directional accuracy = mean(sign ŷ == sign y) over rows with y != 0
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.stats import rankdata

N_CLASSES = 5
EPS = float(np.finfo(np.float64).eps)

CLASSIFICATION_METRICS: tuple[str, ...] = (
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "log_loss",
    "brier",
)
REGRESSION_METRICS: tuple[str, ...] = ("rmse", "mae", "r2_oos", "ic", "directional_accuracy")


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """K x K confusion matrix, rows true class, columns predicted class (predictions
    outside 0..K-1, e.g. -1 for "undefined", are dropped)."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    ok = (y_pred >= 0) & (y_pred < n_classes) & (y_true >= 0) & (y_true < n_classes)
    flat = np.bincount(y_true[ok] * n_classes + y_pred[ok], minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


def classification_scores(
    y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None
) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro F1, log loss and Brier score (module docstring)."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    n = len(y_true)
    nan = float("nan")
    if n == 0:
        return dict.fromkeys(CLASSIFICATION_METRICS, nan)
    cm = confusion(y_true, y_pred)
    tp = np.diag(cm).astype(float)
    support = np.bincount(y_true, minlength=N_CLASSES)[:N_CLASSES].astype(float)
    predicted = np.bincount(y_pred[(y_pred >= 0) & (y_pred < N_CLASSES)], minlength=N_CLASSES)
    present = support > 0
    balanced = float(np.mean(tp[present] / support[present]))
    f1_den = support + predicted
    in_union = f1_den > 0
    macro_f1 = float(np.mean(2.0 * tp[in_union] / f1_den[in_union]))
    log_loss = brier = nan
    if proba is not None and np.all(np.isfinite(proba)):
        p = np.asarray(proba, dtype=float)
        log_loss = float(-np.mean(np.log(np.clip(p[np.arange(n), y_true], EPS, 1.0))))
        onehot = np.eye(p.shape[1])[y_true]
        brier = float(np.mean(np.sum((p - onehot) ** 2, axis=1)))
    return {
        "accuracy": float(np.mean(y_true == y_pred)),
        "balanced_accuracy": balanced,
        "macro_f1": macro_f1,
        "log_loss": log_loss,
        "brier": brier,
    }


def spearman_ic(pred: np.ndarray, outcome: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties); NaN if either is constant."""
    if len(pred) < 2:
        return float("nan")
    a, b = rankdata(pred), rankdata(outcome)
    a, b = a - a.mean(), b - b.mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 0 else float("nan")


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


def fold_train_means(
    predictions: pd.DataFrame, train_means: Mapping[int, float] | None = None
) -> dict[int, float]:
    """Training-label mean per fold, for the OOS R^2.

    The predictions frame does not carry it, so it comes from, in order: ``train_means``
    as given; else the "mean" baseline, whose prediction *is* the training mean of its
    fold (its r_pred is constant within a fold). Folds with neither are absent (R^2 NaN).
    """
    if train_means is not None:
        return {int(k): float(v) for k, v in train_means.items()}
    mean_rows = predictions[predictions["model"] == "mean"]
    if mean_rows.empty:
        return {}
    return {int(k): float(v) for k, v in mean_rows.groupby("fold")["r_pred"].first().items()}
